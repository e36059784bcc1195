"""Local CSV, JSON Lines and parquet files with a text and a label column."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from msgpt.data.examples import DataError, Examples, Locator, candidate_cells, candidate_names, make_examples

if TYPE_CHECKING:
    import pandas as pd

#: File suffixes (lower case) and the format each one means.
FORMATS = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",  # JSON Lines under the .json name is what hub exports write
    ".parquet": "parquet",
    ".pq": "parquet",
}


def file_format(path: str | os.PathLike) -> str:
    """``csv``, ``jsonl`` or ``parquet`` from the suffix; a ``DataError`` for any other."""
    suffix = Path(path).suffix.lower()
    try:
        return FORMATS[suffix]
    except KeyError:
        known = ", ".join(sorted(FORMATS))
        raise DataError(
            f"{path}: unknown data format {suffix or '(no suffix)'!r}; use one of {known}"
        ) from None


def check_file(path: str | os.PathLike) -> Path:
    """``path`` as a ``Path`` when it is a non-empty file, else a ``DataError``."""
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(f"data file {path} does not exist")
    if not path.is_file():
        raise DataError(f"data path {path} is not a file")
    if path.stat().st_size == 0:
        raise DataError(f"data file {path} is empty")
    return path


def read_file(
    path: str | os.PathLike,
    *,
    text_column: str = "text",
    label_column: str = "label",
    text_pair_column: str | None = None,
    candidate_columns: str | Sequence[str] | None = None,
    num_labels: int = 2,
    clean: bool = True,
    label_names: Sequence[str] | None = None,
) -> Examples:
    """Every row of a CSV, JSON Lines or parquet file as checked ``Examples``.

    Labels are integers or names (``positive``), mapped through ``label_names`` when
    given, else sorted (``msgpt.data.examples.label_ids``).

    ``text_pair_column`` reads pairs (``Examples.text_pairs``). ``candidate_columns``
    reads multiple-choice questions whose context is the text column: one column per
    candidate (``["ending0", "ending1"]``), or one column of lists (a JSON list in a CSV
    cell); the label column then holds the right candidate's index.
    """
    candidates = () if candidate_columns is None else candidate_names(candidate_columns)
    pair = [] if text_pair_column is None else [text_pair_column]
    # dict.fromkeys: a column named twice (text and pair alike) is read once.
    table = read_columns(path, list(dict.fromkeys([text_column, label_column, *pair, *candidates])))
    return make_examples(
        table.columns[text_column],
        table.columns[label_column],
        origin=str(table.path),
        num_labels=num_labels,
        locate=table.locate,
        text_column=text_column,
        label_column=label_column,
        clean=clean,
        text_labels=table.format == "csv",  # every CSV cell is text: "1" is a label, "[...]" a list
        label_names=label_names,
        text_pairs=table.columns[text_pair_column] if text_pair_column is not None else None,
        text_pair_column=text_pair_column,
        candidates=candidate_cells(table.columns, candidates) if candidates else None,
        candidate_columns=candidates or None,
    )


@dataclass(frozen=True)
class Columns:
    """Some columns of a data file, row by row, and how to name a row in an error."""

    path: Path
    format: str
    columns: dict[str, list[Any]]
    locate: Locator


def read_columns(path: str | os.PathLike, names: list[str], optional: Sequence[str] = ()) -> Columns:
    """The columns ``names`` of a CSV, JSON Lines or parquet file (every row), and those
    of ``optional`` that the file has (one absent from the whole file is left out).

    A missing file, an unknown format, a missing column or a file without rows is a
    ``DataError`` that says which.
    """
    path = check_file(path)
    kind = file_format(path)
    reader = {"csv": _csv_columns, "jsonl": _jsonl_columns, "parquet": _parquet_columns}[kind]
    columns, locate = reader(path, [*names, *(name for name in optional if name not in names)], set(optional))
    return Columns(path, kind, columns, locate)


def read_csv_frame(path: Path, columns: list[str], optional: set[str] = frozenset()) -> "pd.DataFrame":
    """The named columns of a CSV file, every cell as a string.

    Reading as strings keeps pandas from guessing: a label column with one bad cell would
    otherwise turn into floats or objects and the bad row could no longer be named.
    """
    import pandas as pd

    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except pd.errors.EmptyDataError:
        raise DataError(f"data file {path} is empty") from None
    except UnicodeDecodeError as error:
        raise DataError(
            f"data file {path} is not UTF-8 text (byte {error.start}: {error.reason})"
        ) from None
    except pd.errors.ParserError as error:
        raise DataError(f"data file {path} is not valid CSV: {error}") from None
    missing = [name for name in columns if name not in frame.columns and name not in optional]
    if missing:
        raise DataError(
            f"data file {path} has no column {', '.join(map(repr, missing))} "
            f"(columns: {', '.join(map(repr, frame.columns))})"
        )
    if frame.empty:
        raise DataError(f"data file {path} has a header but no rows")
    return frame[[name for name in columns if name in frame.columns]]


def _csv_columns(path: Path, names: list[str], optional: set[str]) -> tuple[dict[str, list[Any]], Locator]:
    """A CSV file with a header row; rows are numbered from 1 after the header."""
    frame = read_csv_frame(path, names, optional)
    return {name: frame[name].tolist() for name in frame.columns}, lambda i: f"row {i + 1}"


def decode_utf8(path: Path) -> str:
    """The file's text; a ``DataError`` naming the line when it is not UTF-8."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise DataError(f"data file {path} is not UTF-8 text (line {line}: {error.reason})") from None


def _jsonl_columns(path: Path, names: list[str], optional: set[str]) -> tuple[dict[str, list[Any]], Locator]:
    """One JSON object per line (blank lines skipped), or a JSON array of objects."""
    content = decode_utf8(path).lstrip("\ufeff")
    if content.lstrip().startswith("["):
        try:
            items = json.loads(content)
        except json.JSONDecodeError as error:
            raise DataError(f"data file {path} is not valid JSON: {error}") from None
        records = list(enumerate(items, start=1))
        unit = "item"
    else:
        records = []
        # split("\n") rather than splitlines(): the latter also breaks at U+2028 and
        # friends, which JSON strings may hold raw, and the line numbers would drift.
        for number, line in enumerate(content.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                records.append((number, json.loads(line)))
            except json.JSONDecodeError as error:
                raise DataError(f"{path}, line {number}: not valid JSON ({error.msg})") from None
        unit = "line"
    if not records:
        raise DataError(f"data file {path} holds no records")
    columns: dict[str, list[Any]] = {name: [] for name in names}
    numbers = []
    first_missing: dict[str, int] = {}
    present = dict.fromkeys(names, 0)
    for number, record in records:
        if not isinstance(record, dict):
            raise DataError(f"{path}, {unit} {number}: not a JSON object")
        for name in names:
            if name in record:
                present[name] += 1
            else:
                first_missing.setdefault(name, number)
            columns[name].append(record.get(name))
        numbers.append(number)
    for name, number in first_missing.items():
        if present[name] == 0 and name in optional:
            del columns[name]
            continue
        if present[name] == 0:
            raise DataError(f"data file {path} has no column {name!r} in any record")
        raise DataError(f"{path}, {unit} {number}: no {name!r} field")
    return columns, lambda i: f"{unit} {numbers[i]}"


def _parquet_columns(path: Path, names: list[str], optional: set[str]) -> tuple[dict[str, list[Any]], Locator]:
    """A parquet file; rows are numbered from 1."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        present = pq.read_schema(path).names
    except (pa.ArrowInvalid, OSError) as error:
        raise DataError(f"data file {path} is not a valid parquet file ({error})") from None
    missing = [name for name in names if name not in present and name not in optional]
    if missing:
        raise DataError(
            f"data file {path} has no column {', '.join(map(repr, missing))} "
            f"(columns: {', '.join(map(repr, present))})"
        )
    names = [name for name in names if name in present]
    table = pq.read_table(path, columns=names)
    if table.num_rows == 0:
        raise DataError(f"data file {path} has no rows")
    return {name: table.column(name).to_pylist() for name in names}, lambda i: f"row {i + 1}"
