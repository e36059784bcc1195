"""What a run leaves behind: metrics.json, predictions.csv, training_curves.png.

Every file is written atomically (``msgpt.io``): a run killed while writing leaves the
previous version, never a half-written one.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from msgpt.io import atomic_write_bytes, atomic_write_json, atomic_write_text


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


def write_predictions(
    path: str | os.PathLike,
    texts: Sequence[str],
    labels: Sequence[int],
    probabilities: np.ndarray,
) -> Path:
    """``predictions.csv``: text, true label, predicted label, one probability per class."""
    if not (len(texts) == len(labels) == len(probabilities)):
        raise ValueError(
            f"{len(texts)} texts, {len(labels)} labels and {len(probabilities)} predictions differ in number"
        )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["text", "label", "prediction", *[f"prob_{c}" for c in range(probabilities.shape[1])]])
    for text, label, probs in zip(texts, labels, probabilities):
        writer.writerow([text, int(label), int(np.argmax(probs)), *[f"{p:.6f}" for p in probs]])
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
