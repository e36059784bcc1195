"""Inference: texts in, labels and class probabilities out."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from tqdm.auto import tqdm

from msgpt import _mindnlp  # noqa: F401  (mindnlp before torch/transformers)
from msgpt.data.batching import padded_length
from msgpt.labels import config_label_names, name_of
from msgpt.model import check_max_length, load_pretrained
from msgpt.tokenizer import encode_batch
from msgpt.trained import trained_max_length
from transformers import OpenAIGPTForSequenceClassification, PreTrainedTokenizerBase


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


def default_max_length(model: OpenAIGPTForSequenceClassification) -> int:
    """The length a model reads texts at by default: the one it was trained at when its
    config records it (``msgpt.trained``), else all its positions."""
    return trained_max_length(model.config) or model.config.n_positions


def predict(
    texts: Sequence[str],
    model: str | os.PathLike | OpenAIGPTForSequenceClassification,
    tokenizer: PreTrainedTokenizerBase | None = None,
    *,
    batch_size: int = 32,
    max_length: int | None = None,
    progress: bool = False,
) -> Predictions:
    """Classify ``texts`` with a trained model (a folder from ``save_pretrained``, or objects).

    ``max_length`` defaults to the length the model was trained at (recorded by
    ``save_pretrained`` and the recipe), else to its number of positions; longer texts
    are truncated on the tokenizer's side, keeping ``<eos>``. ``progress`` shows a bar.
    """
    import torch  # mindtorch, once mindnlp is imported

    if isinstance(model, (str, os.PathLike)):
        model, tokenizer = load_pretrained(model, fast=True)
    elif tokenizer is None:
        raise ValueError("pass the tokenizer together with a model object")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    names = config_label_names(model.config)
    if not texts:
        num_labels = model.config.num_labels
        return Predictions(np.zeros(0, dtype=np.int64), np.zeros((0, num_labels), dtype=np.float32), names)
    max_length = check_max_length(model, max_length or default_max_length(model))
    encoded = encode_batch(tokenizer, list(texts), max_length)
    # Batches of similar lengths pad less; rows go back to the input order at the end.
    order = np.argsort([len(ids) for ids in encoded], kind="stable")
    model.eval()
    probs = np.zeros((len(encoded), model.config.num_labels), dtype=np.float32)
    with torch.no_grad(), tqdm(total=len(encoded), unit="text", disable=not progress) as bar:
        for start in range(0, len(encoded), batch_size):
            rows = order[start : start + batch_size]
            input_ids, attention_mask = pad_right(
                [encoded[row] for row in rows], tokenizer.pad_token_id, max_length
            )
            logits = model(
                input_ids=torch.tensor(input_ids), attention_mask=torch.tensor(attention_mask)
            ).logits
            probs[rows] = torch.softmax(logits.float(), dim=-1).numpy()
            bar.update(len(rows))
    return Predictions(labels=probs.argmax(axis=-1), probabilities=probs, label_names=names)
