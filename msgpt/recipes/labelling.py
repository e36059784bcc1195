"""Label a file of texts with a trained model: what ``recipes/predict.py`` runs.

    paths = output_paths("new.csv")                       # new.predictions.csv (+ .metrics.json)
    summary = label_file("runs/imdb-demo/best", "new.csv", paths)

The output CSV has the text, the true label when the file has labels, the predicted label
(by name when the model has names) and one probability per class; with labels, accuracy
and macro-F1 go to a JSON file next to it. Both are written atomically.

The model folder's recorded task (``msgpt.models.folder``) says what else a row needs: a pair
or similarity model its second text (``text_pair_column``, written as ``text_pair``), a
multiple-choice model its candidates (``candidate_columns``, written as ``candidate_0``,
...). A choice model scores any number K >= 2 of candidates (one score each), not only
the K it was trained with: its label and prediction are a candidate's index, with one
probability per candidate (``prob_0`` ... ``prob_{K-1}``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

PREDICTIONS_SUFFIX = ".predictions.csv"


@dataclass(frozen=True)
class OutputPaths:
    """Where the predictions and, for labelled texts, their scores go."""

    predictions: Path
    metrics: Path


def output_paths(data: str | os.PathLike, output: str | os.PathLike | None = None) -> OutputPaths:
    """``output`` (a ``.csv`` path), by default ``<data name>.predictions.csv`` in the current
    folder (data folders are often read-only mounts); the metrics JSON shares its name."""
    predictions = Path(output) if output is not None else Path(Path(data).stem + PREDICTIONS_SUFFIX)
    if predictions.suffix.lower() != ".csv":
        raise ValueError(f"the predictions file must end in .csv, got {predictions}")
    return OutputPaths(predictions, predictions.with_suffix(".metrics.json"))


def check_task_columns(
    model: str | os.PathLike,
    task: str,
    *,
    text_pair_column: str | None = None,
    candidate_columns: str | Sequence[str] | None = None,
) -> None:
    """A ``ValueError`` (naming predict.py's options) when the columns given do not fit a
    ``task`` model: pairs for pair and similarity, candidates for choice, neither for single."""
    reads = {"single": "one text", "pair": "text pairs", "similarity": "text pairs", "choice": "candidates"}[task]
    if text_pair_column is not None and task not in ("pair", "similarity"):
        raise ValueError(f"--text-pair-column: {model} is a {task!r} model, which reads {reads}, not text pairs")
    if candidate_columns is not None and task != "choice":
        raise ValueError(f"--candidate-columns: {model} is a {task!r} model, which reads {reads}, not candidates")
    if task in ("pair", "similarity") and text_pair_column is None:
        raise ValueError(f"{model} is a {task!r} model: give the second text's column with --text-pair-column")
    if task == "choice" and candidate_columns is None:
        raise ValueError(f"{model} is a 'choice' model: give its candidates with --candidate-columns "
                         "(comma-separated, or one column of lists)")


def label_file(
    model: str | os.PathLike,
    data: str | os.PathLike,
    paths: OutputPaths,
    *,
    text_column: str = "text",
    label_column: str = "label",
    require_labels: bool = False,
    batch_size: int = 32,
    max_length: int | None = None,
    windows: bool | None = None,
    progress: bool = True,
    text_pair_column: str | None = None,
    candidate_columns: str | Sequence[str] | None = None,
) -> dict[str, Any]:
    """Predict a label for every text of ``data`` with the model folder ``model``; write
    ``paths`` and return the figures (accuracy and macro-F1 when ``data`` has labels).

    ``max_length`` defaults to the length the model was trained at, ``windows`` (long
    texts read whole, ``msgpt.tokens.windows``) to what its recipe did. A pair or
    similarity model reads ``text_pair_column`` too, a choice model ``candidate_columns``
    (``check_task_columns``). Bad input (not a model folder, a missing file or column,
    an empty text, columns the model's task does not read, a label name the model does
    not know, a choice label outside the candidates) raises a ``ValueError`` naming it,
    before the model is loaded.
    """
    from msgpt.data.to_label import read_texts_to_label
    from msgpt.models.folder import read_model_folder
    from msgpt.models.labels import check_data_names
    from msgpt.recipes.report import input_columns

    folder = read_model_folder(model)
    if max_length is not None and max_length > folder.n_positions:
        raise ValueError(f"max length {max_length} is above the model's {folder.n_positions} positions")
    check_task_columns(model, folder.task, text_pair_column=text_pair_column, candidate_columns=candidate_columns)
    windows = folder.windows if windows is None else windows
    if windows and folder.task != "single":
        raise ValueError(f"{model} is a {folder.task!r} model: windows are for single texts")
    choice = folder.task == "choice"
    inputs = read_texts_to_label(
        data, text_column=text_column, label_column=label_column, require_labels=require_labels,
        label_names=None if choice else folder.label_names, num_labels=folder.num_labels,
        text_pair_column=text_pair_column, candidate_columns=candidate_columns,
    )
    check_data_names(str(model), folder.label_names, inputs.label_names)

    from msgpt.inference.predictions import default_max_length, predict
    from msgpt.models.classifier import load_pretrained
    from msgpt.recipes.report import write_metrics, write_predictions
    from msgpt.training.metrics import accuracy, macro_f1

    classifier, tokenizer = load_pretrained(folder.path, fast=True)
    max_length = max_length or default_max_length(classifier)
    result = predict(inputs.texts, classifier, tokenizer, text_pairs=inputs.text_pairs, candidates=inputs.candidates,
                     batch_size=batch_size, max_length=max_length, windows=windows, progress=progress)
    summary: dict[str, Any] = {
        "model": str(model), "task": folder.task, "data": str(data), "examples": len(inputs.texts),
        "max_seq_len": max_length,
        "truncation_side": tokenizer.truncation_side, "windows": windows,
        "label_names": list(result.label_names) if result.label_names else None,
        "predictions": str(paths.predictions),
    }
    if choice:
        summary["num_candidates"] = inputs.num_candidates
    write_predictions(paths.predictions, inputs.texts, inputs.labels, result.probabilities, result.label_names,
                      inputs=input_columns(inputs))
    if inputs.labels is not None:
        summary["accuracy"] = accuracy(result.labels, inputs.labels)
        classes = inputs.num_candidates if choice else folder.num_labels
        summary["f1"] = macro_f1(result.labels, inputs.labels, num_labels=classes)
        summary["metrics"] = str(paths.metrics)
        write_metrics(paths.metrics, summary)
    elif paths.metrics.exists():
        paths.metrics.unlink()  # it scored the predictions just replaced, not these
    return summary
