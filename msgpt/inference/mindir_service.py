"""Serve an exported classifier with MindSpore alone: no msgpt, no mindnlp, no torch.

``recipes/export.py`` writes three files: ``NAME.mindir`` (the graph and its weights),
``NAME.json`` (this card: task, shapes, special-token ids, label names, how texts are cut)
and ``NAME.tokenizer.json`` (the tokenizer, which frames texts as msgpt does). This file
reads them with ``mindspore`` (``mindspore.load`` + ``nn.GraphCell``), ``tokenizers`` and
``numpy`` only, so it can be copied into a service as it is::

    from mindir_service import MindIRClassifier
    classifier = MindIRClassifier("export/model.json")
    classifier.predict(["A wonderful film."])     # {"labels": [...], "names": [...], "probabilities": [...]}

    python mindir_service.py export/model.json texts.txt      # one text per line; JSON lines out

Texts are encoded as msgpt encodes them (``<bos> text <eos>``; pairs ``<bos> a <delim> b
<eos>``, the longer segment cut first; cut on the card's ``truncation_side``), padded on
the right to the exported length, and run ``batch_size`` rows at a time (a short last
batch is filled with padding rows). A model trained with windows reads a longer single
text whole, as consecutive windows whose probabilities are averaged by the tokens each reads.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

#: What a card's ``format`` says: the layout of these three files.
CARD_FORMAT = "msgpt-mindir/1"


def export_paths(output: str | Path) -> tuple[Path, Path, Path]:
    """``(NAME.mindir, NAME.json, NAME.tokenizer.json)`` for an ``output`` ending in ``.mindir``."""
    mindir = Path(output).expanduser()
    if mindir.suffix != ".mindir":
        raise ValueError(f"the output must end in .mindir (MindSpore's name for the format), got {mindir.name!r}")
    stem = mindir.with_suffix("")
    return mindir, Path(f"{stem}.json"), Path(f"{stem}.tokenizer.json")


class MindIRClassifier:
    """An exported classifier: its MindIR graph, tokenizer and card, read from ``card``."""

    def __init__(self, card: str | Path) -> None:
        import mindspore
        from mindspore import nn
        from tokenizers import Tokenizer

        card = Path(card)
        self.card = json.loads(card.read_text(encoding="utf-8"))
        if self.card.get("format") != CARD_FORMAT:
            raise ValueError(f"{card} is not an msgpt MindIR card (format {self.card.get('format')!r})")
        self.net = nn.GraphCell(mindspore.load(str(card.parent / self.card["model"])))
        self.tensor = mindspore.Tensor
        self.whole = Tokenizer.from_file(str(card.parent / self.card["tokenizer"]))
        self.whole.no_truncation()  # windows read every token
        self.whole.no_padding()
        self.cut = Tokenizer.from_file(str(card.parent / self.card["tokenizer"]))
        self.cut.no_padding()  # padded here, to the card's length
        self.cut.enable_truncation(self.card["seq_len"], direction=self.card["truncation_side"])

    @property
    def label_names(self) -> list[str] | None:
        return self.card["label_names"]

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        """Logits of any number of rows (``[n, seq_len]``, or ``[n, S, seq_len]``), run a
        fixed batch at a time."""
        batch = self.card["batch_size"]
        out = []
        for start in range(0, len(input_ids), batch):
            ids, mask = input_ids[start : start + batch], attention_mask[start : start + batch]
            fill = batch - len(ids)
            if fill:  # padding rows: all <pad>, mask 0; their logits are dropped
                ids = np.concatenate([ids, np.full((fill, *ids.shape[1:]), self.card["pad_id"], ids.dtype)])
                mask = np.concatenate([mask, np.zeros((fill, *mask.shape[1:]), mask.dtype)])
            logits = self.net(self.tensor(ids), self.tensor(mask)).asnumpy()
            out.append(logits[: batch - fill])
        return np.concatenate(out) if out else np.zeros((0, self.card["num_labels"]), np.float32)

    def encode(self, texts: Sequence[str], text_pairs: Sequence[str] | None = None,
               candidates: Sequence[Sequence[str]] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``input_ids`` and ``attention_mask`` of the examples, as the graph takes them."""
        task = self.card["task"]
        if task == "single":
            groups = [[text] for text in texts]
        elif task == "pair":
            groups = [[(a, b)] for a, b in zip(texts, text_pairs)]
        elif task == "similarity":
            groups = [[(a, b), (b, a)] for a, b in zip(texts, text_pairs)]
        else:
            groups = [[(context, candidate) for candidate in row] for context, row in zip(texts, candidates)]
        flat = [item for group in groups for item in group]
        ids, mask = self._pad([encoding.ids for encoding in self.cut.encode_batch(flat)])
        if task in ("similarity", "choice"):
            shape = (len(groups), len(groups[0]) if groups else 0, self.card["seq_len"])
            ids, mask = ids.reshape(shape), mask.reshape(shape)
        return ids, mask

    def probabilities(self, texts: Sequence[str], text_pairs: Sequence[str] | None = None,
                      candidates: Sequence[Sequence[str]] | None = None) -> np.ndarray:
        """Class (for choice: candidate) probabilities, one row per example."""
        if self.card["windows"] and self.card["task"] == "single":
            return self._window_probabilities(texts)
        return _softmax(self.run(*self.encode(texts, text_pairs, candidates)))

    def predict(self, texts: Sequence[str], text_pairs: Sequence[str] | None = None,
                candidates: Sequence[Sequence[str]] | None = None) -> dict[str, list]:
        """``labels`` (class ids), ``names`` (the classes' names, or ids as text) and
        ``probabilities`` of each example."""
        probs = self.probabilities(texts, text_pairs, candidates)
        labels = probs.argmax(-1).tolist()
        names = self.label_names if self.card["task"] != "choice" else None
        return {"labels": labels, "names": [names[k] if names else str(k) for k in labels],
                "probabilities": probs.tolist()}

    def _pad(self, sequences: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        ids = np.full((len(sequences), self.card["seq_len"]), self.card["pad_id"], np.int32)
        mask = np.zeros_like(ids)
        for row, sequence in enumerate(sequences):
            ids[row, : len(sequence)], mask[row, : len(sequence)] = sequence, 1
        return ids, mask

    def _window_probabilities(self, texts: Sequence[str]) -> np.ndarray:
        size, side = self.card["seq_len"] - 2, self.card["truncation_side"]
        bos, eos = self.card["bos_id"], self.card["eos_id"]
        sequences, owners, weights = [], [], []
        for owner, encoding in enumerate(self.whole.encode_batch(list(texts), add_special_tokens=False)):
            body = encoding.ids
            # Consecutive windows from the end truncation keeps ("left": the text's end).
            ends = range(len(body), 0, -size) if side == "left" else range(size, len(body) + size, size)
            for end in ends or [0]:
                window = body[max(0, end - size) : end]
                sequences.append([bos, *window, eos])
                owners.append(owner)
                weights.append(max(len(window), 1))
        probs = _softmax(self.run(*self._pad(sequences)))
        sums = np.zeros((len(texts), probs.shape[1]))
        np.add.at(sums, owners, probs * np.asarray(weights)[:, None])
        return sums / np.bincount(owners, weights=weights, minlength=len(texts))[:, None]


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python mindir_service.py CARD.json TEXTS.txt (one text per line)", file=sys.stderr)
        return 2
    classifier = MindIRClassifier(argv[0])
    texts = [line.strip() for line in Path(argv[1]).read_text(encoding="utf-8").splitlines() if line.strip()]
    result = classifier.predict(texts)
    for text, name, probs in zip(texts, result["names"], result["probabilities"]):
        print(json.dumps({"text": text, "prediction": name, "probabilities": probs}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
