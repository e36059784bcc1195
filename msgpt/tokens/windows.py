"""Long texts read whole: consecutive windows of the trained length, their votes averaged.

A classifier trained on ``max_length`` tokens reads only one end of a longer text (the
end kept by ``tokenizer.truncation_side``). With windows, the text's tokens are cut into
consecutive, non-overlapping windows of ``max_length - 2`` tokens, starting from that end
(so the first window is exactly what truncation keeps, and a text that fits is one
window, encoded as ``msgpt.encode_texts`` encodes it); each becomes ``<bos> window
<eos>``, and the text's class probabilities are the mean of its windows' weighted by the
tokens each reads: every token of the text counts once.

How the rule was chosen, and what it adds on the demo: docs/experiments.md ("Long reviews,
read whole").
``msgpt.predict(..., windows=True)`` and the recipes' ``--windows`` use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

from msgpt.tokens.inputs import tokenize_segments
from msgpt.tokens.tokenizer import check_ready

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase


@dataclass(frozen=True)
class Windows:
    """The windows of some texts: ``sequences[k]`` (``<bos> window <eos>``) is a window
    of text ``owners[k]`` reading ``weights[k]`` of its tokens; a text's windows are
    consecutive, the one truncation would keep first."""

    sequences: list[list[int]]
    owners: np.ndarray
    weights: np.ndarray
    num_texts: int

    def __len__(self) -> int:
        return len(self.sequences)

    def combine(self, probabilities: np.ndarray) -> np.ndarray:
        """Per text, the mean of its windows' class ``probabilities`` (one row per window)
        weighted by the tokens each window reads: ``[num_texts, classes]``, rows summing to 1."""
        probabilities = np.asarray(probabilities, dtype=np.float64)
        if probabilities.shape[0] != len(self):
            raise ValueError(f"{probabilities.shape[0]} rows of probabilities for {len(self)} windows")
        sums = np.zeros((self.num_texts, probabilities.shape[1]))
        np.add.at(sums, self.owners, probabilities * self.weights[:, None])
        totals = np.bincount(self.owners, weights=self.weights, minlength=self.num_texts)
        return sums / totals[:, None]


def split_into_windows(ids: Sequence[int], size: int, side: str = "left") -> list[list[int]]:
    """``ids`` cut into consecutive windows of at most ``size`` tokens, the window at the
    kept end first: the end with ``side`` "left" (truncation cuts the start), else the start.
    Only the last window may be shorter; together they hold every token once."""
    if size < 1:
        raise ValueError(f"window size must be >= 1, got {size}")
    ids = list(ids)
    if side == "left":
        return [ids[max(0, end - size) : end] for end in range(len(ids), 0, -size)] or [[]]
    return [ids[start : start + size] for start in range(0, len(ids), size)] or [[]]


def encode_windows(tokenizer: "PreTrainedTokenizerBase", texts: Sequence[str], max_length: int) -> Windows:
    """Every text's windows of ``max_length`` tokens (``<bos>``, ``<eos>`` and up to
    ``max_length - 2`` of the text), from the end ``tokenizer.truncation_side`` keeps."""
    check_ready(tokenizer, max_length)
    bodies = tokenize_segments(tokenizer, texts, "text")  # checked, whole: the windows are the truncation
    bos, eos, side = tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.truncation_side
    sequences, owners, weights = [], [], []
    for owner, body in enumerate(bodies):
        for window in split_into_windows(body, max_length - 2, side):
            sequences.append([bos, *window, eos])
            owners.append(owner)
            weights.append(max(len(window), 1))  # an empty text is refused; one of no tokens still votes
    return Windows(sequences, np.asarray(owners, np.int64), np.asarray(weights, np.float64), len(texts))
