"""Texts to classify with a trained model, from a file; their labels too when it has them.

    inputs = read_texts_to_label("new.csv", label_names=("negative", "positive"))
    inputs.texts, inputs.labels        # labels: class ids, or None for unlabelled texts

A ``.txt`` file holds one text per line; a CSV, JSON Lines or parquet file has a text
column and, optionally, a label column (integers or names, as for training). Every text
must be non-empty: the output has one row per input row, so none is skipped.

For a pair or similarity model a data file also has the second text's column
(``text_pair_column``); for a multiple-choice model, candidate columns (or one column of
lists, ``candidate_columns``) with the same number K >= 2 of candidates in every row,
and the label, when there is one, is the right candidate's index in ``[0, K)``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from msgpt.data.examples import (
    DataError,
    candidate_cells,
    candidate_names,
    check_num_labels,
    checked_candidates,
    checked_text,
    choice_labels,
    label_ids,
)
from msgpt.data.files import FORMATS, check_file, decode_utf8, read_columns

TEXT_SUFFIX = ".txt"


@dataclass(frozen=True)
class TextsToLabel:
    """Cleaned texts in file order; ``labels`` (class ids, or for multiple choice the right
    candidate's index) when the file has a label column; ``text_pairs`` (a pair's second
    text) or ``candidates`` (a question's answers) when they were asked for."""

    texts: list[str]
    labels: list[int] | None
    label_names: tuple[str, ...] | None
    origin: str
    text_pairs: list[str] | None = None
    candidates: list[tuple[str, ...]] | None = None

    @property
    def num_candidates(self) -> int | None:
        """K, the candidates of every question (None without candidates)."""
        return len(self.candidates[0]) if self.candidates else None


def read_texts_to_label(
    path: str | os.PathLike,
    *,
    text_column: str = "text",
    label_column: str = "label",
    require_labels: bool = False,
    label_names: Sequence[str] | None = None,
    num_labels: int = 2,
    clean: bool = True,
    text_pair_column: str | None = None,
    candidate_columns: str | Sequence[str] | None = None,
) -> TextsToLabel:
    """The texts of ``path`` and, when it has ``label_column`` (required with
    ``require_labels``), their class ids (``msgpt.data.examples.label_ids``); with
    ``text_pair_column`` their second texts, with ``candidate_columns`` their candidates
    (and labels that index them)."""
    num_labels = check_num_labels(num_labels)
    if text_pair_column is not None and candidate_columns is not None:
        raise DataError("a text has either a text pair or candidates, not both")
    candidates = () if candidate_columns is None else candidate_names(candidate_columns)
    pair = [] if text_pair_column is None else [text_pair_column]
    path = Path(path).expanduser()
    if path.suffix.lower() == TEXT_SUFFIX:
        if require_labels:
            raise DataError(f"{path}: a {TEXT_SUFFIX} file has no label column (one text per line)")
        if pair or candidates:
            kind = "text pairs" if pair else "candidates"
            raise DataError(
                f"{path}: a {TEXT_SUFFIX} file holds one text per line, not {kind}; use a CSV/JSONL/parquet file"
            )
        lines = decode_utf8(check_file(path)).splitlines()
        texts = [checked_text(line, f"{path}, line {i + 1}", clean=clean) for i, line in enumerate(lines)]
        if not texts:
            raise DataError(f"data file {path} holds no text")
        return TextsToLabel(texts, None, None, str(path))
    if path.suffix.lower() not in FORMATS:
        known = ", ".join(sorted([*FORMATS, TEXT_SUFFIX]))
        raise DataError(f"{path}: unknown data format {path.suffix or '(no suffix)'!r}; use one of {known}")
    # dict.fromkeys: a column named twice (text and pair alike) is read once.
    wanted = list(dict.fromkeys([text_column, *pair, *candidates]))
    if require_labels:
        table = read_columns(path, [*wanted, label_column])
    else:
        table = read_columns(path, wanted, optional=[label_column])
    origin = str(path)

    def texts_of(column: str, name: str) -> list[str]:
        return [
            checked_text(text, f"{path}, {table.locate(i)}", f"{name} {column!r}", clean=clean)
            for i, text in enumerate(table.columns[column])
        ]

    texts = texts_of(text_column, "text column")
    text_pairs = texts_of(text_pair_column, "text pair column") if pair else None
    rows = None
    if candidates:
        rows = checked_candidates(
            candidate_cells(table.columns, candidates), origin=origin, locate=table.locate,
            candidate_columns=candidates, clean=clean, text_lists=table.format == "csv",
        )
    labels, names = None, None
    if label_column in table.columns and rows is not None:
        labels = choice_labels(table.columns[label_column], len(rows[0]), origin=origin, locate=table.locate,
                               label_column=label_column, text_labels=table.format == "csv")
    elif label_column in table.columns:
        labels, names = label_ids(
            table.columns[label_column], origin=origin, num_labels=num_labels, locate=table.locate,
            label_column=label_column, text_labels=table.format == "csv", label_names=label_names,
        )
    return TextsToLabel(texts, labels, names, origin, text_pairs=text_pairs, candidates=rows)
