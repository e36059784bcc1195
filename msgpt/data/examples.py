"""Labelled examples, the row checks every source goes through, and the error they raise."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Callable, Iterator, Mapping, NamedTuple, Sequence

import numpy as np

from msgpt.tokens.text import clean_text


class DataError(ValueError):
    """Data that cannot be used as given; the message names the file, column or row."""


#: Names a row for error messages, e.g. ``lambda i: f"row {i + 1}"``.
Locator = Callable[[int], str]

_INTEGER = re.compile(r"[+-]?\d+")


class Example(NamedTuple):
    """One review (or any text) and its class index."""

    text: str
    label: int


class PairExample(NamedTuple):
    """Two texts (premise and hypothesis, or two sentences to compare) and a class index."""

    text: str
    text_pair: str
    label: int


class ChoiceExample(NamedTuple):
    """A multiple-choice question: its context, the candidate answers, the right one's index."""

    text: str
    candidates: tuple[str, ...]
    label: int


@dataclass(frozen=True, eq=False)
class Examples:
    """Parallel lists of texts and integer labels, plus where they came from.

    Kept as two lists rather than a list of ``Example`` because every consumer (splits,
    tokenizer, label counts) works column-wise, and 25,000 tuples would cost for nothing.
    ``label_names[i]`` names label ``i`` when the source wrote names (None: integers).

    The paper's other task inputs (section 3.3) add one column: ``text_pairs``, the
    second text of each pair (entailment, similarity), or ``candidates``, the answers of
    a multiple-choice question whose context is ``texts[i]`` and whose label is the index
    of the right answer (every question has the same number of candidates).
    """

    texts: list[str]
    labels: list[int]
    origin: str = ""
    label_names: tuple[str, ...] | None = None
    text_pairs: list[str] | None = None
    candidates: list[tuple[str, ...]] | None = None

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.labels):
            raise ValueError(f"{len(self.texts)} texts but {len(self.labels)} labels")
        if self.text_pairs is not None and self.candidates is not None:
            raise ValueError("examples have either text pairs or candidates, not both")
        for name in ("text_pairs", "candidates"):
            column = getattr(self, name)
            if column is not None and len(column) != len(self.texts):
                raise ValueError(f"{len(self.texts)} texts but {len(column)} {name.replace('_', ' ')}")
        if self.candidates:
            counts = {len(row) for row in self.candidates}
            if len(counts) > 1 or min(counts) < 2:
                raise ValueError(f"every question needs the same number (>= 2) of candidates, got {sorted(counts)}")

    @property
    def num_candidates(self) -> int | None:
        """Candidates per question (multiple choice), else None."""
        return len(self.candidates[0]) if self.candidates else None

    def __len__(self) -> int:
        return len(self.texts)

    def __iter__(self) -> Iterator[Example | PairExample | ChoiceExample]:
        return (self[index] for index in range(len(self)))

    def __getitem__(self, index: int) -> Example | PairExample | ChoiceExample:
        if self.text_pairs is not None:
            return PairExample(self.texts[index], self.text_pairs[index], self.labels[index])
        if self.candidates is not None:
            return ChoiceExample(self.texts[index], self.candidates[index], self.labels[index])
        return Example(self.texts[index], self.labels[index])

    def __repr__(self) -> str:
        return f"Examples({len(self)} from {self.origin or '?'}, labels {self.label_counts()})"

    def subset(self, indices: Sequence[int], origin: str | None = None) -> "Examples":
        """The examples at ``indices``, in that order."""
        def pick(column: list | None) -> list | None:
            return None if column is None else [column[i] for i in indices]

        return Examples(
            [self.texts[i] for i in indices],
            [self.labels[i] for i in indices],
            self.origin if origin is None else origin,
            self.label_names,
            pick(self.text_pairs),
            pick(self.candidates),
        )

    def label_counts(self) -> dict[int, int]:
        """How many examples each label has, by label."""
        values, counts = np.unique(np.asarray(self.labels, dtype=np.int64), return_counts=True)
        return {int(v): int(c) for v, c in zip(values, counts)}

    @classmethod
    def empty(cls, origin: str = "", label_names: tuple[str, ...] | None = None) -> "Examples":
        """No examples (for example the train split of an evaluation-only run)."""
        return cls([], [], origin, label_names)

    def emptied(self) -> "Examples":
        """No examples, with this one's kind of input (pairs, candidates) and names."""
        return Examples(
            [], [], self.origin, self.label_names,
            None if self.text_pairs is None else [], None if self.candidates is None else [],
        )


def check_num_labels(num_labels: object) -> int:
    """``num_labels`` as an int, or a ``DataError`` when it cannot classify."""
    if isinstance(num_labels, bool) or not isinstance(num_labels, int) or num_labels < 2:
        raise DataError(f"num_labels must be an integer >= 2, got {num_labels!r}")
    return num_labels


def _as_label(value: object, text_labels: bool) -> int | None:
    if isinstance(value, (bool, np.bool_)):
        return None  # True/False would silently pass as 1/0
    if isinstance(value, (int, np.integer)):
        return int(value)
    # Parquet and pandas store an integer column with a gap as floats; 1.0 is still a label.
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
        return int(value)
    if text_labels and isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value.strip())
    return None


def checked_text(text: object, where: str, text_name: str = "text", *, clean: bool = True) -> str:
    """``text`` cleaned, or a ``DataError`` saying ``where`` it is missing, not a string or empty."""
    if not isinstance(text, str):
        kind = "missing" if text is None else f"{type(text).__name__} {text!r:.40}, not a string"
        raise DataError(f"{where}: {text_name} is {kind}")
    if clean:
        text = clean_text(text)
    if not text.strip():
        raise DataError(f"{where}: {text_name} is empty")
    return text


def _is_name(value: object, text_labels: bool) -> bool:
    return isinstance(value, str) and bool(value.strip()) and _as_label(value, text_labels) is None


def label_ids(
    labels: Sequence[object],
    *,
    origin: str,
    num_labels: int,
    locate: Locator,
    label_column: str | None = None,
    text_labels: bool = False,
    label_names: Sequence[str] | None = None,
) -> tuple[list[int], tuple[str, ...] | None]:
    """Class ids for a label column, and the names they stand for (None for integers).

    A column of integers is taken as ids, in ``[0, len(label_names) or num_labels)``. A
    column of names (no cell an integer) is mapped through ``label_names`` when given,
    else through its own names, sorted. A column that mixes both, or names outside
    ``label_names``, is a ``DataError`` naming the cell(s).
    """
    label_name = f"label column {label_column!r}" if label_column else "label"
    ids = [_as_label(value, text_labels) for value in labels]
    if all(label is not None for label in ids):
        limit = len(label_names) if label_names else num_labels
        for index, label in enumerate(ids):
            if not 0 <= label < limit:
                bound = f"{limit} label names" if label_names else f"num_labels={limit}"
                raise DataError(
                    f"{origin}, {locate(index)}: {label_name} is {label}, outside [0, {limit}) for {bound}"
                )
        return ids, tuple(label_names) if label_names else None
    named = [_is_name(value, text_labels) for value in labels]
    if not all(named) and sum(named) <= len(named) // 2:
        # Mostly integers: the odd cell out is the mistake.
        index = next(i for i, label in enumerate(ids) if label is None)
        raise DataError(f"{origin}, {locate(index)}: {label_name} is {labels[index]!r}, not an integer")
    if not all(named):
        index = named.index(False)
        example = next(value for value, is_name in zip(labels, named) if is_name)
        raise DataError(
            f"{origin}, {locate(index)}: {label_name} is {labels[index]!r}, not a label name like {example!r}"
        )
    names = tuple(label_names) if label_names else tuple(sorted(set(labels)))
    if len(names) < 2:
        raise DataError(
            f"{origin}: {label_name} has only the label name {names[0]!r}; a classifier needs at least 2 "
            "(give the label names to use)"
        )
    index_of = {name: i for i, name in enumerate(names)}
    unknown = sorted({value for value in labels if value not in index_of})
    if unknown:
        first = next(i for i, value in enumerate(labels) if value not in index_of)
        raise DataError(
            f"{origin}: {label_name} has label name(s) {', '.join(map(repr, unknown))} (first at "
            f"{locate(first)}) outside the known names {', '.join(map(repr, names))}"
        )
    return [index_of[value] for value in labels], names


def candidate_names(candidate_columns: str | Sequence[str]) -> tuple[str, ...]:
    """The candidate columns as a tuple, or a ``DataError`` when they cannot be.

    One name is a column whose cells are lists of candidates; two or more name one
    column per candidate, in order.
    """
    names = (candidate_columns,) if isinstance(candidate_columns, str) else tuple(candidate_columns)
    if not names or not all(isinstance(name, str) and name for name in names):
        raise DataError(f"candidate_columns must name one column of lists or >= 2 columns, got {candidate_columns!r}")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise DataError(f"candidate_columns names {', '.join(map(repr, repeated))} more than once")
    return names


def candidate_cells(columns: Mapping[str, Sequence[object]], names: Sequence[str]) -> list[object]:
    """Each row's raw candidates: a tuple of the named columns' cells, or the one list column's cell."""
    if len(names) == 1:
        return list(columns[names[0]])
    return list(zip(*(columns[name] for name in names)))


def _checked_candidates(
    cell: object, where: str, names: Sequence[str], *, clean: bool, text_lists: bool
) -> tuple[str, ...]:
    if len(names) > 1:
        return tuple(
            checked_text(text, where, f"candidate column {name!r}", clean=clean) for name, text in zip(names, cell)
        )
    column = f"candidate column {names[0]!r}"
    if text_lists and isinstance(cell, str):
        try:
            cell = json.loads(cell)
        except json.JSONDecodeError:
            raise DataError(f"{where}: {column} is {cell!r:.40}, not a JSON list of strings") from None
    if not isinstance(cell, (list, tuple)):
        kind = "missing" if cell is None else f"{type(cell).__name__} {cell!r:.40}"
        raise DataError(f"{where}: {column} is {kind}, not a list of candidates")
    if len(cell) < 2:
        raise DataError(f"{where}: {column} has {len(cell)} candidate(s); multiple choice needs at least 2")
    return tuple(
        checked_text(text, where, f"candidate {number} in column {names[0]!r}", clean=clean)
        for number, text in enumerate(cell, start=1)
    )


def choice_labels(labels: Sequence[object], count: int, *, origin: str, locate: Locator,
                  label_column: str | None, text_labels: bool) -> list[int]:
    """Labels that index one of ``count`` candidates (multiple choice); names have no meaning here."""
    label_name = f"label column {label_column!r}" if label_column else "label"
    ids = []
    for index, value in enumerate(labels):
        label = _as_label(value, text_labels)
        if label is None:
            raise DataError(
                f"{origin}, {locate(index)}: {label_name} is {value!r}, not the index of a candidate (0 to {count - 1})"
            )
        if not 0 <= label < count:
            raise DataError(
                f"{origin}, {locate(index)}: {label_name} is {label}, outside the {count} candidates [0, {count})"
            )
        ids.append(label)
    return ids


def make_examples(
    texts: Sequence[object],
    labels: Sequence[object],
    *,
    origin: str,
    num_labels: int,
    locate: Locator,
    text_column: str | None = None,
    label_column: str | None = None,
    clean: bool = True,
    text_labels: bool = False,
    label_names: Sequence[str] | None = None,
    text_pairs: Sequence[object] | None = None,
    text_pair_column: str | None = None,
    candidates: Sequence[object] | None = None,
    candidate_columns: str | Sequence[str] | None = None,
) -> Examples:
    """Clean and check raw rows; the first bad row raises a ``DataError`` naming it.

    ``text_labels`` accepts labels written as digits, and candidate lists written as
    JSON, for formats (CSV) where every cell is text. Texts are checked after cleaning,
    so a review that is only markup is empty. Labels are integers or names (see
    ``label_ids``).

    ``text_pairs`` (read from ``text_pair_column``) gives each text its second text,
    checked like the first. ``candidates`` (see ``candidate_cells``; from
    ``candidate_columns``, which names them in errors) makes multiple-choice questions
    whose context is the text: every row needs the same number K >= 2 of non-empty
    candidates, its label is the index of the right one, in ``[0, K)`` whatever
    ``num_labels`` says, and label names do not apply.
    """
    num_labels = check_num_labels(num_labels)
    if text_pairs is not None and candidates is not None:
        raise DataError(f"{origin}: rows have either a text pair or candidates, not both")
    text_name = f"text column {text_column!r}" if text_column else "text"
    if not texts:
        raise DataError(f"{origin} has no examples")

    def where(index: int) -> str:
        return f"{origin}, {locate(index)}"

    out_texts = [checked_text(text, where(index), text_name, clean=clean) for index, text in enumerate(texts)]
    out_pairs = None
    if text_pairs is not None:
        pair_name = f"text pair column {text_pair_column!r}" if text_pair_column else "text pair"
        out_pairs = [checked_text(text, where(index), pair_name, clean=clean) for index, text in enumerate(text_pairs)]
    if candidates is None:
        ids, names = label_ids(
            list(labels), origin=origin, num_labels=num_labels, locate=locate, label_column=label_column,
            text_labels=text_labels, label_names=label_names,
        )
        return Examples(out_texts, ids, origin, names, text_pairs=out_pairs)
    if label_names:
        raise DataError(f"{origin}: label names do not apply to multiple choice, whose label is a candidate's index")
    rows = checked_candidates(candidates, origin=origin, locate=locate, candidate_columns=candidate_columns,
                              clean=clean, text_lists=text_labels)
    ids = choice_labels(list(labels), len(rows[0]), origin=origin, locate=locate, label_column=label_column,
                        text_labels=text_labels)
    return Examples(out_texts, ids, origin, None, candidates=rows)


def checked_candidates(
    candidates: Sequence[object],
    *,
    origin: str,
    locate: Locator,
    candidate_columns: str | Sequence[str] | None = None,
    clean: bool = True,
    text_lists: bool = False,
) -> list[tuple[str, ...]]:
    """Each row's candidates (raw cells from ``candidate_cells``) cleaned and checked: the
    same number K >= 2 in every row, none empty; a ``DataError`` naming the first bad row.
    ``text_lists`` reads a list column's cells written as JSON (CSV)."""
    columns = candidate_names(candidate_columns if candidate_columns is not None else "candidates")
    rows = [
        _checked_candidates(cell, f"{origin}, {locate(index)}", columns, clean=clean, text_lists=text_lists)
        for index, cell in enumerate(candidates)
    ]
    count = len(rows[0])
    for index, row in enumerate(rows):
        if len(row) != count:
            raise DataError(
                f"{origin}, {locate(index)}: candidate column {columns[0]!r} has {len(row)} candidates but "
                f"{locate(0)} has {count}; every question needs the same number"
            )
    return rows


@dataclass(frozen=True)
class SourceData:
    """What a source provides before any splitting.

    ``train`` is the pool that the train fraction, the validation split and (for sources
    without one) the held-out test split come from; ``test`` is the source's own test
    split. Either is ``None`` when the source lacks it or it was not asked for.
    """

    train: Examples | None
    test: Examples | None
