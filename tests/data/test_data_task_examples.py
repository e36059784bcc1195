"""Examples with the paper's pair and multiple-choice inputs (issue 12)."""

import pytest

from msgpt.data.examples import ChoiceExample, Example, Examples, PairExample


def test_pairs_are_kept_row_by_row_through_subset_and_iteration():
    examples = Examples(["a", "b", "c"], [0, 1, 0], "x", None, text_pairs=["A", "B", "C"])
    assert examples[1] == PairExample("b", "B", 1)
    picked = examples.subset([2, 0])
    assert picked.texts == ["c", "a"] and picked.text_pairs == ["C", "A"] and picked.labels == [0, 0]
    assert list(Examples(["a"], [1])) == [Example("a", 1)]


def test_candidates_are_kept_and_counted():
    examples = Examples(["q", "r"], [1, 0], "x", candidates=[("1", "2"), ("3", "4")])
    assert examples.num_candidates == 2
    assert list(examples) == [ChoiceExample("q", ("1", "2"), 1), ChoiceExample("r", ("3", "4"), 0)]
    assert examples.subset([1]).candidates == [("3", "4")]
    assert examples.emptied().candidates == [] and len(examples.emptied()) == 0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(text_pairs=["A"], candidates=[("1", "2")]), "not both"),
        (dict(text_pairs=["A", "B"]), "2 text pairs"),
        (dict(candidates=[("1",)]), ">= 2"),
    ],
)
def test_inconsistent_columns_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Examples(["q"], [0], "x", **kwargs)


def test_questions_with_different_numbers_of_candidates_are_refused():
    with pytest.raises(ValueError, match=r"same number.*\[2, 3\]"):
        Examples(["q", "r"], [0, 0], "x", candidates=[("1", "2"), ("1", "2", "3")])
