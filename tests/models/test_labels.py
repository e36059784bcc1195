"""Label names (data -> ids -> model config -> outputs) and the length a model was trained at."""

from __future__ import annotations

import csv
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import msgpt
from msgpt.data import DataError, load_source, load_splits, read_file, read_texts_to_label
from msgpt.models.labels import (
    check_data_names,
    config_label_names,
    evaluation_classes,
    parse_label_names,
    training_classes,
)
from msgpt.recipes.report import write_predictions


def write_csv(path, rows, header=("text", "label")):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


NAMED = [("a fine film", "positive"), ("dull", "negative"), ("great", "positive"), ("bad", "negative")]


# --- names in the data ----------------------------------------------------------------


def test_names_map_to_sorted_ids(tmp_path):
    examples = read_file(write_csv(tmp_path / "d.csv", NAMED))
    assert examples.label_names == ("negative", "positive")
    assert examples.labels == [1, 0, 1, 0]


def test_given_names_fix_the_order(tmp_path):
    examples = read_file(write_csv(tmp_path / "d.csv", NAMED), label_names=("positive", "negative"))
    assert examples.label_names == ("positive", "negative")
    assert examples.labels == [0, 1, 0, 1]


def test_names_in_jsonl_and_parquet(tmp_path):
    lines = tmp_path / "d.jsonl"
    lines.write_text("".join(json.dumps({"text": t, "label": y}) + "\n" for t, y in NAMED), encoding="utf-8")
    parquet = tmp_path / "d.parquet"
    pq.write_table(pa.table({"text": [t for t, _ in NAMED], "label": [y for _, y in NAMED]}), parquet)
    for path in (lines, parquet):
        assert read_file(path).labels == [1, 0, 1, 0]


def test_integer_labels_keep_working_and_can_be_named(tmp_path):
    path = write_csv(tmp_path / "d.csv", [("a", "0"), ("b", "1"), ("c", "2")])
    examples = read_file(path, num_labels=3)
    assert examples.labels == [0, 1, 2] and examples.label_names is None
    named = read_file(path, label_names=("neg", "mid", "pos"))
    assert named.labels == [0, 1, 2] and named.label_names == ("neg", "mid", "pos")
    with pytest.raises(DataError, match=r"row 3: label column 'label' is 2, outside \[0, 2\) for 2 label names"):
        read_file(path, label_names=("neg", "pos"))


def test_unknown_names_are_all_named_in_one_error(tmp_path):
    path = write_csv(tmp_path / "d.csv", [*NAMED, ("meh", "neutral"), ("so so", "mixed")])
    with pytest.raises(DataError) as info:
        read_file(path, label_names=("negative", "positive"))
    message = str(info.value)
    assert "'mixed', 'neutral'" in message and "row 5" in message and "'negative', 'positive'" in message
    assert "\n" not in message


def test_one_name_cannot_classify(tmp_path):
    with pytest.raises(DataError, match="only the label name 'positive'"):
        read_file(write_csv(tmp_path / "d.csv", [("a", "positive"), ("b", "positive")]))


def test_mostly_integers_blame_the_name_and_mostly_names_blame_the_integer(tmp_path):
    with pytest.raises(DataError, match=r"row 3: label column 'label' is 'pos', not an integer"):
        read_file(write_csv(tmp_path / "a.csv", [("a", "0"), ("b", "1"), ("c", "pos")]))
    with pytest.raises(DataError, match=r"row 3: label column 'label' is '1', not a label name like 'pos'"):
        read_file(write_csv(tmp_path / "b.csv", [("a", "pos"), ("b", "neg"), ("c", "1")]))


def test_splits_carry_the_names_and_stratify_by_them(tmp_path):
    rows = [(f"text {i}", "positive" if i % 2 else "negative") for i in range(40)]
    splits = load_splits(write_csv(tmp_path / "d.csv", rows), train_fraction=1.0, val_fraction=0.25)
    assert splits.label_names == ("negative", "positive")
    assert splits.test.label_counts() == {0: 4, 1: 4}
    only = load_splits(tmp_path / "d.csv", test_only=True)
    assert only.label_names == ("negative", "positive") and len(only.test) == 40


def test_hub_layout_splits_share_one_mapping(tmp_path):
    folder = tmp_path / "copy" / "data"
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"text": ["a", "b", "c"], "label": ["neg", "pos", "neg"]}),
                   folder / "train-00000-of-00001.parquet")
    pq.write_table(pa.table({"text": ["d", "e"], "label": ["mid", "pos"]}), folder / "test-00000-of-00001.parquet")
    source = load_source(tmp_path / "copy", cache_dir=tmp_path / "cache")
    assert source.train.label_names == source.test.label_names == ("mid", "neg", "pos")
    assert source.train.labels == [1, 2, 1] and source.test.labels == [0, 2]


def test_texts_to_label_with_and_without_labels(tmp_path):
    txt = tmp_path / "new.txt"
    txt.write_text("a fine film\nawful<br />really\n", encoding="utf-8")
    unlabelled = read_texts_to_label(txt)
    assert unlabelled.texts == ["a fine film", "awful\nreally"] and unlabelled.labels is None
    labelled = read_texts_to_label(write_csv(tmp_path / "d.csv", NAMED), label_names=("negative", "positive"))
    assert labelled.labels == [1, 0, 1, 0]
    no_labels = read_texts_to_label(write_csv(tmp_path / "t.csv", [("x",), ("y",)], header=("text",)))
    assert no_labels.labels is None and no_labels.texts == ["x", "y"]
    with pytest.raises(DataError, match=r"has no column 'sentiment'"):
        read_texts_to_label(tmp_path / "t.csv", label_column="sentiment", require_labels=True)


def test_texts_to_label_refuse_an_empty_text(tmp_path):
    txt = tmp_path / "new.txt"
    txt.write_text("fine\n\nbad\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"new\.txt, line 2: text is empty"):
        read_texts_to_label(txt)


# --- names on the command line and in configs -----------------------------------------


def test_parse_label_names():
    assert parse_label_names("neg, pos") == ("neg", "pos")
    for bad, match in (("pos", "at least 2"), ("pos,,neg", "non-empty"), ("a,b,a", "'a' repeated")):
        with pytest.raises(ValueError, match=match):
            parse_label_names(bad)


def test_config_names_ignore_hf_placeholders():
    assert config_label_names({"id2label": {"0": "LABEL_0", "1": "LABEL_1"}}) is None
    assert config_label_names({"id2label": {"1": "pos", "0": "neg"}}) == ("neg", "pos")
    assert config_label_names({}) is None


def test_classes_for_training_and_evaluation():
    assert training_classes(None, None, None) == (2, None)
    assert training_classes(None, None, ("a", "b", "c")) == (3, ("a", "b", "c"))
    assert training_classes(None, ("x", "y"), ("a", "b", "c")) == (2, ("x", "y"))
    with pytest.raises(ValueError, match="num_labels=2 disagrees with the 3 label names"):
        training_classes(2, None, ("a", "b", "c"))
    assert evaluation_classes("m", 2, ("neg", "pos")) == (2, ("neg", "pos"))
    assert evaluation_classes("m", 2, None, label_names=("n", "p")) == (2, ("n", "p"))
    with pytest.raises(ValueError, match="differ from those m was trained with: 'neg', 'pos'"):
        evaluation_classes("m", 2, ("neg", "pos"), label_names=("pos", "neg"))
    with pytest.raises(ValueError, match="num_labels=3, but m has 2 classes"):
        evaluation_classes("m", 2, None, num_labels=3)
    with pytest.raises(ValueError, match="labels are names .'a', 'b'. but m was trained on integer labels"):
        check_data_names("m", None, ("a", "b"))
    check_data_names("m", ("a", "b"), ("a", "b"))
    check_data_names("m", None, None)


def test_predictions_csv_by_name_and_without_labels(tmp_path):
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8]])
    path = write_predictions(tmp_path / "p.csv", ["x", "y"], [0, 0], probabilities, ("neg", "pos"))
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert [(r["label"], r["prediction"], r["prob_pos"]) for r in rows] == [("neg", "neg", "0.100000"),
                                                                            ("neg", "pos", "0.800000")]
    path = write_predictions(tmp_path / "q.csv", ["x", "y"], None, probabilities)
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert list(rows[1]) == ["text", "prediction", "prob_0", "prob_1"] and rows[1]["prediction"] == "1"


# --- names and the trained length through save/load and predict() ---------------------

LONG = " ".join(["the film was long and the story was sad but the music"] * 8)  # ~100 tokens


@pytest.fixture()
def saved(tiny_config, tokenizer, tmp_path):
    """A tiny model trained (as far as saving goes) on names at 16 tokens, cut on the left."""
    model = msgpt.build_model(tiny_config, tokenizer, num_labels=3, label_names=("neg", "mid", "pos"))
    tokenizer.truncation_side = "left"
    return msgpt.save_pretrained(model, tokenizer, tmp_path / "best", max_seq_len=16)


def test_names_and_length_round_trip_through_save_and_load(saved):
    config = json.loads((saved / "config.json").read_text())
    assert config["id2label"] == {"0": "neg", "1": "mid", "2": "pos"}
    assert config["label2id"] == {"neg": 0, "mid": 1, "pos": 2}
    assert config["msgpt"] == {"max_seq_len": 16, "truncation_side": "left", "task": "single"}
    folder = msgpt.read_model_folder(saved)
    assert (folder.num_labels, folder.label_names, folder.max_seq_len, folder.truncation_side, folder.n_positions) \
        == (3, ("neg", "mid", "pos"), 16, "left", 64)
    model, tokenizer = msgpt.load_pretrained(saved, fast=True)
    assert config_label_names(model.config) == ("neg", "mid", "pos")
    assert tokenizer.truncation_side == "left"


def test_predict_gives_names_and_reads_at_the_trained_length(saved):
    texts = [LONG, "a great film.", LONG + " boring"]
    default = msgpt.predict(texts, saved)
    assert default.label_names == ("neg", "mid", "pos")
    assert default.names == [("neg", "mid", "pos")[i] for i in default.labels]
    at_16 = msgpt.predict(texts, saved, max_length=16)
    at_64 = msgpt.predict(texts, saved, max_length=64)  # an explicit length wins
    np.testing.assert_allclose(default.probabilities, at_16.probabilities, rtol=1e-5, atol=1e-6)
    assert not np.allclose(default.probabilities[0], at_64.probabilities[0], rtol=1e-3, atol=1e-4)
    with pytest.raises(ValueError, match="max length 65 is above the model's 64 positions"):
        msgpt.predict(texts, saved, max_length=65)


def test_folder_without_a_recorded_length_reads_at_its_positions(tiny_model, tokenizer, tmp_path):
    folder = msgpt.save_pretrained(tiny_model, tokenizer, tmp_path / "old")
    assert json.loads((folder / "config.json").read_text())["msgpt"] == {"task": "single"}  # no length
    assert msgpt.read_model_folder(folder).max_seq_len is None
    default = msgpt.predict([LONG], folder)
    np.testing.assert_allclose(default.probabilities, msgpt.predict([LONG], folder, max_length=64).probabilities,
                               rtol=1e-5, atol=1e-6)
    assert default.label_names is None and default.names == [str(default.labels[0])]


def test_saving_a_length_above_the_positions_is_refused(tiny_model, tokenizer, tmp_path):
    with pytest.raises(ValueError, match="above the model's 64 positions"):
        msgpt.save_pretrained(tiny_model, tokenizer, tmp_path / "m", max_seq_len=65)
    assert not (tmp_path / "m").exists()


def test_not_a_model_folder(tmp_path):
    with pytest.raises(ValueError, match="is not a model folder .no config.json."):
        msgpt.read_model_folder(tmp_path)
    with pytest.raises(ValueError, match="is not a model folder .no such folder."):
        msgpt.read_model_folder(tmp_path / "nope")
