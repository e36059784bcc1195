"""Texts to classify with a trained model, from a file; their labels too when it has them.

    inputs = read_texts_to_label("new.csv", label_names=("negative", "positive"))
    inputs.texts, inputs.labels        # labels: class ids, or None for unlabelled texts

A ``.txt`` file holds one text per line; a CSV, JSON Lines or parquet file has a text
column and, optionally, a label column (integers or names, as for training). Every text
must be non-empty: the output has one row per input row, so none is skipped.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from msgpt.data.errors import DataError
from msgpt.data.examples import check_num_labels, checked_text, label_ids
from msgpt.data.files import FORMATS, check_file, decode_utf8, read_columns

TEXT_SUFFIX = ".txt"


@dataclass(frozen=True)
class TextsToLabel:
    """Cleaned texts in file order; ``labels`` (class ids) when the file has a label column."""

    texts: list[str]
    labels: list[int] | None
    label_names: tuple[str, ...] | None
    origin: str


def read_texts_to_label(
    path: str | os.PathLike,
    *,
    text_column: str = "text",
    label_column: str = "label",
    require_labels: bool = False,
    label_names: Sequence[str] | None = None,
    num_labels: int = 2,
    clean: bool = True,
) -> TextsToLabel:
    """The texts of ``path`` and, when it has ``label_column`` (required with
    ``require_labels``), their class ids (``msgpt.data.examples.label_ids``)."""
    num_labels = check_num_labels(num_labels)
    path = Path(path).expanduser()
    if path.suffix.lower() == TEXT_SUFFIX:
        if require_labels:
            raise DataError(f"{path}: a {TEXT_SUFFIX} file has no label column (one text per line)")
        lines = decode_utf8(check_file(path)).splitlines()
        texts = [checked_text(line, f"{path}, line {i + 1}", clean=clean) for i, line in enumerate(lines)]
        if not texts:
            raise DataError(f"data file {path} holds no text")
        return TextsToLabel(texts, None, None, str(path))
    if path.suffix.lower() not in FORMATS:
        known = ", ".join(sorted([*FORMATS, TEXT_SUFFIX]))
        raise DataError(f"{path}: unknown data format {path.suffix or '(no suffix)'!r}; use one of {known}")
    if require_labels:
        table = read_columns(path, [text_column, label_column])
    else:
        table = read_columns(path, [text_column], optional=[label_column])
    texts = [
        checked_text(text, f"{path}, {table.locate(i)}", f"text column {text_column!r}", clean=clean)
        for i, text in enumerate(table.columns[text_column])
    ]
    if label_column not in table.columns:
        return TextsToLabel(texts, None, None, str(path))
    labels, names = label_ids(
        table.columns[label_column], origin=str(path), num_labels=num_labels, locate=table.locate,
        label_column=label_column, text_labels=table.format == "csv", label_names=label_names,
    )
    return TextsToLabel(texts, labels, names, str(path))
