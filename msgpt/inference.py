"""Inference: texts in, labels and class probabilities out."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from msgpt import _mindnlp  # noqa: F401  (mindnlp before torch/transformers)
from msgpt.data.batching import padded_length
from msgpt.model import check_max_length, load_pretrained
from msgpt.tokenizer import encode_batch
from transformers import OpenAIGPTForSequenceClassification, PreTrainedTokenizerBase


@dataclass(frozen=True)
class Predictions:
    """``labels[i]`` is the argmax of ``probabilities[i]`` (one row per text)."""

    labels: np.ndarray
    probabilities: np.ndarray


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


def predict(
    texts: Sequence[str],
    model: str | os.PathLike | OpenAIGPTForSequenceClassification,
    tokenizer: PreTrainedTokenizerBase | None = None,
    *,
    batch_size: int = 32,
    max_length: int | None = None,
) -> Predictions:
    """Classify ``texts`` with a trained model (a folder from ``save_pretrained``, or objects).

    ``max_length`` defaults to the model's number of positions; longer texts are
    truncated, keeping ``<eos>``.
    """
    import torch  # mindtorch, once mindnlp is imported

    if isinstance(model, (str, os.PathLike)):
        model, tokenizer = load_pretrained(model, fast=True)
    elif tokenizer is None:
        raise ValueError("pass the tokenizer together with a model object")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if not texts:
        num_labels = model.config.num_labels
        return Predictions(np.zeros(0, dtype=np.int64), np.zeros((0, num_labels), dtype=np.float32))
    max_length = check_max_length(model, max_length or model.config.n_positions)
    encoded = encode_batch(tokenizer, list(texts), max_length)
    model.eval()
    probabilities = []
    with torch.no_grad():
        for start in range(0, len(encoded), batch_size):
            input_ids, attention_mask = pad_right(
                encoded[start : start + batch_size], tokenizer.pad_token_id, max_length
            )
            logits = model(
                input_ids=torch.tensor(input_ids), attention_mask=torch.tensor(attention_mask)
            ).logits
            probabilities.append(torch.softmax(logits.float(), dim=-1).numpy())
    probs = np.concatenate(probabilities)
    return Predictions(labels=probs.argmax(axis=-1), probabilities=probs)
