"""Inference: texts in, labels and class probabilities out.

For the paper's other inputs (sec. 3.3) the model's recorded task (``msgpt.models.folder``)
says what else it reads: ``text_pairs`` (pair, similarity) or ``candidates`` (choice,
where the "classes" are the candidates and the label is the right one's index).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence

import msgpt.backend  # noqa: F401  (mindnlp before torch/transformers)

import numpy as np
from tqdm.auto import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from msgpt.data.batching import padded_length
from msgpt.models.classifier import check_max_length, load_pretrained
from msgpt.models.folder import trained_max_length, trained_task, trained_windows
from msgpt.models.labels import config_label_names, name_of
from msgpt.runtime.device import yield_to_kernel_threads
from msgpt.tokens.inputs import encode_inputs
from msgpt.tokens.windows import encode_windows


@dataclass(frozen=True)
class Predictions:
    """``labels[i]`` is the argmax of ``probabilities[i]`` (one row per text);
    ``label_names`` are the model's names of classes ``0, 1, ...`` (None if it has none)."""

    labels: np.ndarray
    probabilities: np.ndarray
    label_names: tuple[str, ...] | None = None

    @property
    def names(self) -> list[str]:
        """The predicted class of each text by name (its id as text when there are no names)."""
        return [name_of(int(label), self.label_names) for label in self.labels]


def pad_right(
    sequences: Sequence[Sequence[int]], pad_id: int, max_length: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``input_ids`` and ``attention_mask`` of ``sequences`` padded on the right.

    Right, because the classification head reads the last token that is not padding.
    With ``max_length``, the width is rounded up as the data pipeline rounds it
    (``msgpt.data.padded_length``), so that few shapes reach the compiled blocks.
    """
    width = max(len(ids) for ids in sequences)
    if max_length is not None:
        width = padded_length(width, max_length)
    input_ids = np.full((len(sequences), width), pad_id, dtype=np.int32)
    attention_mask = np.zeros((len(sequences), width), dtype=np.int32)
    for row, ids in enumerate(sequences):
        input_ids[row, : len(ids)] = ids
        attention_mask[row, : len(ids)] = 1
    return input_ids, attention_mask


def default_max_length(model: PreTrainedModel) -> int:
    """The length a model reads texts at by default: the one it was trained at when its
    config records it (``msgpt.models.folder``), else all its positions."""
    return trained_max_length(model.config) or model.config.n_positions


def _check_inputs(
    task: str,
    texts: list[str],
    text_pairs: Sequence[str] | None,
    candidates: Sequence[Sequence[str]] | None,
) -> None:
    """A ``ValueError`` unless the inputs are what a ``task`` model reads."""
    wanted = {"pair": "text_pairs", "similarity": "text_pairs", "choice": "candidates"}.get(task)
    for name, value in (("text_pairs", text_pairs), ("candidates", candidates)):
        if value is None and name == wanted:
            raise ValueError(f"a {task!r} model reads {name}: pass {name}= with the texts")
        if value is not None and name != wanted:
            raise ValueError(f"a {task!r} model does not read {name}")
        if value is not None and len(value) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(value)} {name.replace('_', ' ')}")
    if candidates is not None and (len({len(row) for row in candidates}) != 1 or len(candidates[0]) < 2):
        raise ValueError("every question needs the same number (>= 2) of candidates")


def predict(
    texts: Sequence[str],
    model: str | os.PathLike | PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase | None = None,
    *,
    text_pairs: Sequence[str] | None = None,
    candidates: Sequence[Sequence[str]] | None = None,
    batch_size: int = 32,
    max_length: int | None = None,
    windows: bool | None = None,
    progress: bool = False,
) -> Predictions:
    """Classify ``texts`` with a trained model (a folder from ``save_pretrained``, or objects).

    ``max_length`` defaults to the length the model was trained at (recorded by
    ``save_pretrained`` and the recipe), else to its number of positions; longer texts
    are truncated on the tokenizer's side, keeping ``<eos>`` (and ``<delim>``: pairs lose
    tokens from their longer segment first). With ``windows`` a longer single text is read
    whole instead, as consecutive windows of ``max_length`` whose probabilities are averaged
    (``msgpt.tokens.windows``); it defaults to what the model's recipe did (recorded in its
    config), else off. ``progress`` shows a bar.

    A pair or similarity model also takes ``text_pairs`` (the second text of each), a
    multiple-choice model ``candidates`` (a sequence of answers per text, the same number
    for each): its probabilities are over the candidates and its labels are the index of
    the chosen one.
    """
    import torch  # mindtorch, once mindnlp is imported

    if isinstance(model, (str, os.PathLike)):
        model, tokenizer = load_pretrained(model, fast=True)
    elif tokenizer is None:
        raise ValueError("pass the tokenizer together with a model object")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    task = trained_task(model.config)
    names = None if task == "choice" else config_label_names(model.config)
    texts = list(texts)
    if not texts:
        width = len(candidates[0]) if task == "choice" and candidates else model.config.num_labels
        return Predictions(np.zeros(0, dtype=np.int64), np.zeros((0, width), dtype=np.float32), names)
    max_length = check_max_length(model, max_length or default_max_length(model))
    _check_inputs(task, texts, text_pairs, candidates)
    windows = trained_windows(model.config) if windows is None else windows
    if windows and task != "single":
        raise ValueError(f"windows are for single texts, not a {task!r} model's inputs")
    if windows:
        pieces = encode_windows(tokenizer, texts, max_length)
        groups = [[ids] for ids in pieces.sequences]
    else:
        groups = encode_inputs(tokenizer, task, texts, max_length, text_pairs=text_pairs, candidates=candidates)
    grouped = task in ("similarity", "choice")  # inputs [batch, S, seq]
    # Batches of similar lengths pad less; rows go back to the input order at the end.
    order = np.argsort([max(len(ids) for ids in group) for group in groups], kind="stable")
    yield_to_kernel_threads()  # CPU: this thread's busy-wait leaves the cores to the kernels
    model.eval()
    probs: np.ndarray | None = None
    with torch.no_grad(), tqdm(total=len(groups), unit="window" if windows else "text", disable=not progress) as bar:
        for start in range(0, len(groups), batch_size):
            rows = order[start : start + batch_size]
            sequences = [ids for row in rows for ids in groups[row]]
            input_ids, attention_mask = pad_right(sequences, tokenizer.pad_token_id, max_length)
            if grouped:
                shape = (len(rows), len(groups[rows[0]]), input_ids.shape[-1])
                input_ids, attention_mask = input_ids.reshape(shape), attention_mask.reshape(shape)
            logits = model(
                input_ids=torch.tensor(input_ids), attention_mask=torch.tensor(attention_mask)
            ).logits
            batch_probs = torch.softmax(logits.float(), dim=-1).numpy()
            if probs is None:
                probs = np.zeros((len(groups), batch_probs.shape[-1]), dtype=np.float32)
            probs[rows] = batch_probs
            bar.update(len(rows))
    if windows:
        probs = pieces.combine(probs).astype(np.float32)
    return Predictions(labels=probs.argmax(axis=-1), probabilities=probs, label_names=names)
