"""Classification metrics in NumPy, offline (no ``evaluate.load``, which downloads code)."""

from __future__ import annotations

from typing import Any

import numpy as np

#: Names ``compute_metrics`` reports (the Trainer prefixes them, e.g. ``eval_f1``).
METRICS = ("accuracy", "f1")


def _as_arrays(predictions: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    predictions = np.asarray(predictions)
    labels = np.asarray(labels).reshape(-1)
    if predictions.ndim > 1:  # logits or probabilities: the class is the arg-max
        predictions = predictions.reshape(-1, predictions.shape[-1]).argmax(axis=-1)
    predictions = predictions.reshape(-1)
    if predictions.shape != labels.shape:
        raise ValueError(f"{predictions.shape[0]} predictions for {labels.shape[0]} labels")
    if labels.size == 0:
        raise ValueError("no labels to score")
    return predictions.astype(np.int64), labels.astype(np.int64)


def accuracy(predictions: Any, labels: Any) -> float:
    """Fraction of correct predictions; ``predictions`` are class ids or logits."""
    predictions, labels = _as_arrays(predictions, labels)
    return float((predictions == labels).mean())


def macro_f1(predictions: Any, labels: Any, num_labels: int | None = None) -> float:
    """Unweighted mean of the per-class F1 scores (scikit-learn's ``average="macro"``).

    The classes are ``range(num_labels)`` when given, else those in labels or
    predictions; a class with no true and no predicted example scores 0, as in
    scikit-learn.
    """
    predictions, labels = _as_arrays(predictions, labels)
    if num_labels is None:
        classes = np.union1d(labels, predictions)
    else:
        classes = np.arange(num_labels)
    scores = []
    for cls in classes:
        true_pos = np.sum((predictions == cls) & (labels == cls))
        predicted = np.sum(predictions == cls)
        actual = np.sum(labels == cls)
        denominator = predicted + actual
        scores.append(2.0 * true_pos / denominator if denominator else 0.0)
    return float(np.mean(scores))


def compute_metrics(eval_prediction: Any) -> dict[str, float]:
    """``compute_metrics`` for HF's Trainer: accuracy and macro-F1 from logits and labels.

    Macro-F1 averages over the classes present in the labels or the predictions, like
    scikit-learn's ``f1_score(average="macro")``.
    """
    predictions = eval_prediction.predictions
    if isinstance(predictions, (tuple, list)):  # extra model outputs after the logits
        predictions = predictions[0]
    labels = eval_prediction.label_ids
    return {"accuracy": accuracy(predictions, labels), "f1": macro_f1(predictions, labels)}
