"""Accuracy and macro-F1 in NumPy, and compute_metrics on an EvalPrediction."""

from __future__ import annotations

import numpy as np
import pytest
from transformers import EvalPrediction

from msgpt.training.metrics import accuracy, compute_metrics, macro_f1


def test_accuracy_from_ids_and_from_logits():
    labels = np.array([0, 1, 1, 0])
    assert accuracy([0, 1, 0, 0], labels) == 0.75
    logits = np.array([[2.0, 1.0], [0.0, 3.0], [1.0, -1.0], [0.5, 0.4]])
    assert accuracy(logits, labels) == 0.75


def test_macro_f1_by_hand():
    labels = np.array([0, 0, 0, 1, 1, 2])
    predictions = np.array([0, 0, 1, 1, 2, 2])
    # class 0: P=1, R=2/3 -> 0.8; class 1: P=1/2, R=1/2 -> 0.5; class 2: P=1/2, R=1 -> 2/3
    assert macro_f1(predictions, labels) == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)


def test_macro_f1_counts_a_never_predicted_class_as_zero():
    labels = np.array([0, 1, 1, 1])
    predictions = np.array([1, 1, 1, 1])  # class 0 never predicted: F1 0
    assert macro_f1(predictions, labels) == pytest.approx((0.0 + 2 * 3 / 7) / 2)
    # A class absent from labels and predictions counts only when num_labels asks for it.
    assert macro_f1(predictions, labels, num_labels=3) == pytest.approx((2 * 3 / 7) / 3)


def test_metrics_reject_mismatched_or_empty_inputs():
    with pytest.raises(ValueError):
        accuracy([0, 1], [0, 1, 1])
    with pytest.raises(ValueError):
        macro_f1([], [])


def test_compute_metrics_on_eval_prediction():
    logits = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]], dtype=np.float32)
    labels = np.array([1, 0, 0, 0])
    metrics = compute_metrics(EvalPrediction(predictions=logits, label_ids=labels))
    assert metrics == {"accuracy": 0.75, "f1": pytest.approx((2 * 2 / 3 * 1 / (2 / 3 + 1) + 2 / 3) / 2)}
    as_tuple = compute_metrics(EvalPrediction(predictions=(logits,), label_ids=labels))
    assert as_tuple == metrics
