"""Every kind of bad input gives a DataError (a ValueError) naming the file, column or row."""

from __future__ import annotations

import json
import re

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from msgpt.data import DataError, Examples, SourceData, load_source, load_splits, make_splits, read_file


def jsonl(path, *records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def raises(match, func, *args, **kwargs):
    with pytest.raises(DataError, match=match) as info:
        func(*args, **kwargs)
    return str(info.value)


def test_data_error_is_a_value_error():
    assert issubclass(DataError, ValueError)


def test_missing_file_and_folder(tmp_path):
    raises(r"data file or folder .*nope\.csv does not exist", load_source, tmp_path / "nope.csv")
    raises(r"nope-dir does not exist", load_source, str(tmp_path / "nope-dir") + "/")
    raises(r"missing\.parquet does not exist", read_file, tmp_path / "missing.parquet")


def test_unknown_format(tmp_path):
    path = tmp_path / "reviews.txt"
    path.write_text("text,label\nfine,1\n", encoding="utf-8")
    message = raises(r"unknown data format '\.txt'", load_source, path)
    assert str(path) in message and ".csv" in message


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_empty_file(tmp_path, suffix):
    path = tmp_path / f"empty{suffix}"
    path.write_bytes(b"")
    raises(rf"{re.escape(str(path))} is empty", read_file, path)


def test_file_with_no_rows(tmp_path):
    csv_path = tmp_path / "header.csv"
    csv_path.write_text("text,label\n", encoding="utf-8")
    raises(r"header\.csv has a header but no rows", read_file, csv_path)
    blank = tmp_path / "blank.jsonl"
    blank.write_text("\n\n  \n", encoding="utf-8")
    raises(r"blank\.jsonl holds no records", read_file, blank)
    parquet = tmp_path / "none.parquet"
    pq.write_table(pa.table({"text": pa.array([], pa.string()), "label": pa.array([], pa.int64())}), parquet)
    raises(r"none\.parquet has no rows", read_file, parquet)


def test_missing_column(tmp_path):
    csv_path = tmp_path / "d.csv"
    csv_path.write_text("review,label\nfine,1\n", encoding="utf-8")
    raises(r"d\.csv has no column 'text' \(columns: 'review', 'label'\)", read_file, csv_path)
    raises(r"has no column 'sentiment'", read_file, csv_path, text_column="review", label_column="sentiment")
    parquet = tmp_path / "d.parquet"
    pq.write_table(pa.table({"text": ["a"], "stars": [1]}), parquet)
    raises(r"d\.parquet has no column 'label'", read_file, parquet)
    lines = jsonl(tmp_path / "d.jsonl", {"text": "a", "y": 1}, {"text": "b", "y": 0})
    raises(r"d\.jsonl has no column 'label' in any record", read_file, lines)
    partly = jsonl(tmp_path / "p.jsonl", {"text": "a", "label": 1}, {"text": "b"})
    raises(r"p\.jsonl, line 2: no 'label' field", read_file, partly)


def test_malformed_jsonl_names_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "a", "label": 1}\n\n{"text": "b", "label": 0\n', encoding="utf-8")
    raises(r"bad\.jsonl, line 3: not valid JSON", read_file, path)
    path.write_text('{"text": "a", "label": 1}\n["b", 0]\n', encoding="utf-8")
    raises(r"bad\.jsonl, line 2: not a JSON object", read_file, path)


@pytest.mark.parametrize(
    "text, match",
    [
        ("", "text column 'text' is empty"),
        ("   ", "text column 'text' is empty"),
        ("<br /><br />", "text column 'text' is empty"),  # empty once cleaned
    ],
)
def test_empty_text_names_the_row(tmp_path, text, match):
    path = tmp_path / "d.csv"
    path.write_text(f'text,label\nfine,1\n"{text}",0\n', encoding="utf-8")
    raises(rf"d\.csv, row 2: {match}", read_file, path)


@pytest.mark.parametrize("value, kind", [(7, "int 7, not a string"), (None, "missing"), (["a"], r"list \['a'\], not")])
def test_non_string_text(tmp_path, value, kind):
    path = jsonl(tmp_path / "d.jsonl", {"text": "ok", "label": 0}, {"text": value, "label": 1})
    raises(rf"d\.jsonl, line 2: text column 'text' is {kind}", read_file, path)


@pytest.mark.parametrize("label", ["pos", 1.5, True, None, "1"])
def test_label_that_is_not_an_integer(tmp_path, label):
    path = jsonl(tmp_path / "d.jsonl", {"text": "ok", "label": 0}, {"text": "fine", "label": label})
    raises(rf"d\.jsonl, line 2: label column 'label' is {re.escape(repr(label))}, not an integer", read_file, path)


def test_csv_label_that_is_not_an_integer(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("text,label\nfine,1\nmeh,0.5\n", encoding="utf-8")
    raises(r"d\.csv, row 2: label column 'label' is '0\.5', not an integer", read_file, path)
    path.write_text("text,label\nfine,1\nmeh,\n", encoding="utf-8")
    raises(r"d\.csv, row 2: label column 'label' is '', not an integer", read_file, path)


@pytest.mark.parametrize("label", [2, -1])
def test_label_outside_the_range(tmp_path, label):
    path = tmp_path / "d.csv"
    path.write_text(f"text,label\nfine,1\nmeh,0\nodd,{label}\n", encoding="utf-8")
    raises(rf"d\.csv, row 3: label column 'label' is {label}, outside \[0, 2\)", read_file, path)


def test_label_range_follows_num_labels(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("text,label\nfine,2\n", encoding="utf-8")
    assert read_file(path, num_labels=3).labels == [2]
    raises(r"num_labels must be an integer >= 2", read_file, path, num_labels=1)


def test_parquet_label_checks(tmp_path):
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"text": ["a", "b", "c"], "label": ["pos", "neg", " "]}), path)
    raises(r"d\.parquet, row 3: label column 'label' is ' ', not a label name like 'pos'", read_file, path)
    pq.write_table(pa.table({"text": ["a", None], "label": [0, 1]}), path)
    raises(r"d\.parquet, row 2: text column 'text' is missing", read_file, path)


def test_not_utf8(tmp_path):
    csv_path = tmp_path / "latin.csv"
    csv_path.write_bytes("text,label\ncaf\u00e9,1\n".encode("latin-1"))
    raises(r"latin\.csv is not UTF-8 text", read_file, csv_path)
    lines = tmp_path / "latin.jsonl"
    lines.write_bytes(b'{"text": "a", "label": 1}\n{"text": "caf\xe9", "label": 0}\n')
    raises(r"latin\.jsonl is not UTF-8 text \(line 2", read_file, lines)


def test_aclimdb_errors(tmp_path):
    root = tmp_path / "aclImdb"
    for name in ("pos", "neg"):
        (root / "train" / name).mkdir(parents=True)
        (root / "train" / name / "1_1.txt").write_text("fine", encoding="utf-8")
    (root / "test" / "pos").mkdir(parents=True)
    raises(r"aclImdb folder .* has no test/neg folder", load_source, root)
    (root / "test" / "neg").mkdir()
    raises(r"test/neg holds no \.txt reviews", load_source, root)
    (root / "test" / "neg" / "3_1.txt").write_bytes(b"caf\xe9")
    raises(r"review file .*3_1\.txt is not UTF-8", load_source, root)
    (root / "test" / "neg" / "3_1.txt").write_text("<br />", encoding="utf-8")
    (root / "test" / "pos" / "4_9.txt").write_text("fine", encoding="utf-8")
    raises(r"file test/neg/3_1\.txt: text is empty", load_source, root)


def test_folder_that_no_reader_understands(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.md").write_text("hello", encoding="utf-8")
    raises(r"neither an aclImdb folder nor one that datasets can read", load_source,
           tmp_path / "notes", cache_dir=tmp_path / "cache")


def _source(n_per_label: int) -> SourceData:
    texts = [f"review {i}" for i in range(2 * n_per_label)]
    return SourceData(Examples(texts, [0] * n_per_label + [1] * n_per_label, "mem"), None)


def test_split_that_ends_up_empty():
    raises(r"the train split is empty: train_fraction=0\.01 of the 8 examples", make_splits,
           _source(5), train_fraction=0.01)
    raises(r"the validation split is empty: val_fraction=0\.01", make_splits, _source(5), train_fraction=1.0,
           val_fraction=0.01)
    raises(r"the train split is empty: val_fraction=0\.9", make_splits, _source(5), train_fraction=0.2,
           val_fraction=0.9)
    raises(r"the test split is empty: holdout_fraction=0\.01", make_splits, _source(5), holdout_fraction=0.01)
    raises(r"the test split is empty: test_fraction=0\.01", make_splits, _source(5), train_fraction=1.0,
           test_fraction=0.01)


@pytest.mark.parametrize(
    "option, value",
    [("train_fraction", 0), ("train_fraction", 1.5), ("val_fraction", 1.0), ("val_fraction", -0.1),
     ("test_fraction", 0), ("holdout_fraction", 1.0), ("train_fraction", "half"), ("train_fraction", True)],
)
def test_fraction_out_of_range(option, value):
    raises(rf"{option} must be a number in", make_splits, _source(50), **{option: value})


def test_load_splits_rejects_bad_num_labels_before_reading():
    raises(r"num_labels must be an integer >= 2, got 0", load_splits, "movie-reviews", num_labels=0)
