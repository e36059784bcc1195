"""What a run leaves behind: metrics.json, predictions.csv, training_curves.png.

Every file is written atomically (``msgpt.runtime.atomic``): a run killed while writing leaves the
previous version, never a half-written one.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from msgpt.models.labels import name_of
from msgpt.runtime.atomic import atomic_write_bytes, atomic_write_json, atomic_write_text


def epoch_history(log_history: Iterable[dict[str, Any]]) -> list[dict[str, float]]:
    """Per-epoch figures from ``trainer.state.log_history``.

    Each row has the epoch, the mean training loss logged during it (when any was
    logged) and the validation figures (``eval_*``) of its end.
    """
    rows: list[dict[str, float]] = []
    losses: list[float] = []
    for entry in log_history:
        if "loss" in entry:
            losses.append(float(entry["loss"]))
        elif "eval_loss" in entry or any(k.startswith("eval_") for k in entry):
            row = {"epoch": round(float(entry.get("epoch", len(rows) + 1)), 4)}
            if losses:
                row["train_loss"] = float(np.mean(losses))
            row.update({k: float(v) for k, v in entry.items() if k.startswith("eval_")})
            rows.append(row)
            losses = []
    return rows


def write_metrics(path: str | os.PathLike, metrics: dict[str, Any]) -> Path:
    """``metrics.json`` with the given (JSON-serialisable) figures, atomically."""
    return atomic_write_json(path, metrics)


def input_columns(examples: Any) -> dict[str, list[str]]:
    """``write_predictions``' columns besides the text, for examples (a split, or texts to
    label) with a pair's second text or a question's candidates; none for single texts."""
    if examples.text_pairs is not None:
        return {"text_pair": examples.text_pairs}
    if examples.candidates is not None:
        return {f"candidate_{k}": [row[k] for row in examples.candidates] for k in range(examples.num_candidates or 0)}
    return {}


def write_predictions(
    path: str | os.PathLike,
    texts: Sequence[str],
    labels: Sequence[int] | None,
    probabilities: np.ndarray,
    label_names: Sequence[str] | None = None,
    inputs: Mapping[str, Sequence[str]] | None = None,
) -> Path:
    """``predictions.csv``: text, the other ``inputs`` columns (a pair's second text, a
    question's candidates), true label (left out when ``labels`` is None), predicted
    label, one probability per class; classes by name when ``label_names`` are given
    (``prob_positive``), else by id (``prob_1``; for multiple choice the candidate's index)."""
    inputs = dict(inputs or {})
    if len(texts) != len(probabilities) or (labels is not None and len(labels) != len(texts)):
        raise ValueError(
            f"{len(texts)} texts, {'no' if labels is None else len(labels)} labels and "
            f"{len(probabilities)} predictions differ in number"
        )
    for name, column in inputs.items():
        if len(column) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(column)} in column {name!r}")
    if label_names is not None and len(label_names) != probabilities.shape[1]:
        raise ValueError(f"{len(label_names)} label names for {probabilities.shape[1]} classes")
    classes = [name_of(c, label_names) for c in range(probabilities.shape[1])]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["text", *inputs, *(["label"] if labels is not None else []), "prediction",
                     *[f"prob_{c}" for c in classes]])
    for row, (text, probs) in enumerate(zip(texts, probabilities)):
        truth = [] if labels is None else [classes[int(labels[row])]]
        writer.writerow([text, *(column[row] for column in inputs.values()), *truth,
                         classes[int(np.argmax(probs))], *[f"{p:.6f}" for p in probs]])
    return atomic_write_text(path, buffer.getvalue())


def plot_training_curves(path: str | os.PathLike, log_history: Sequence[dict[str, Any]]) -> Path | None:
    """``training_curves.png``: loss (training as logged, validation per epoch) and
    validation accuracy per epoch (a classifier) or validation perplexity (a language
    model, whose evaluation has no accuracy), both against the epoch."""
    history = epoch_history(log_history)
    train = [(float(e["epoch"]), float(e["loss"])) for e in log_history if "loss" in e and "epoch" in e]
    if not history and not train:
        return None
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and CI
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    if train:
        left.plot(*zip(*train), label="train (logged)")
    validation = [(row["epoch"], row["eval_loss"]) for row in history if "eval_loss" in row]
    if validation:
        left.plot(*zip(*validation), marker="o", label="validation")
    left.set(title="loss", xlabel="epoch")
    left.legend()
    accuracy = [(row["epoch"], row["eval_accuracy"]) for row in history if "eval_accuracy" in row]
    if accuracy or not validation:
        if accuracy:
            right.plot(*zip(*accuracy), marker="o", color="tab:green")
        right.set(title="validation accuracy", xlabel="epoch")
    else:
        right.plot([e for e, _ in validation], [float(np.exp(min(v, 700.0))) for _, v in validation],
                   marker="o", color="tab:purple")
        right.set(title="validation perplexity", xlabel="epoch")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return atomic_write_bytes(path, buffer.getvalue())
