"""msgpt.tokens.windows: long texts read whole as windows, in predict and in the recipe's test evaluation."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from conftest import make_texts
from recipe_helpers import run_recipe_in_process, write_reviews

import msgpt
from msgpt.tokens.windows import Windows, encode_windows, split_into_windows


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("length", [0, 1, 6, 7, 20])
def test_windows_hold_every_token_once_the_kept_end_first(side, length):
    ids = list(range(100, 100 + length))
    windows = split_into_windows(ids, 7, side)
    assert all(1 <= len(w) <= 7 for w in windows) or length == 0
    assert all(len(w) == 7 for w in windows[:-1])  # only the last may be shorter
    in_order = windows[::-1] if side == "left" else windows
    assert [t for w in in_order for t in w] == ids
    if length:
        assert windows[0] == (ids[-7:] if side == "left" else ids[:7])  # what truncation keeps


@pytest.mark.parametrize("side", ["left", "right"])
def test_first_window_is_the_truncated_encoding_and_a_short_text_one_window(tokenizer, side):
    tokenizer.truncation_side = side
    texts = make_texts(6, seed=4, min_words=2, max_words=40)
    windows = msgpt.encode_windows(tokenizer, texts, 12)  # exported for notebooks
    truncated = msgpt.encode_texts(tokenizer, texts, 12)
    bodies = tokenizer(texts, add_special_tokens=False)["input_ids"]
    for i, body in enumerate(bodies):
        mine = [s for s, owner in zip(windows.sequences, windows.owners) if owner == i]
        assert mine[0] == truncated[i]
        assert len(mine) == max(1, -(-len(body) // 10))
        assert all(s[0] == tokenizer.bos_token_id and s[-1] == tokenizer.eos_token_id and len(s) <= 12 for s in mine)
        assert windows.weights[windows.owners == i].sum() == len(body)
    assert len(windows) > len(texts)  # the texts of up to 40 words do not fit in 10 tokens


def test_combine_is_the_token_weighted_mean_of_each_texts_windows():
    windows = Windows([[1], [2], [3]], owners=np.array([0, 0, 1]), weights=np.array([3.0, 1.0, 5.0]), num_texts=2)
    probabilities = np.array([[0.9, 0.1], [0.1, 0.9], [0.3, 0.7]])
    combined = windows.combine(probabilities)
    np.testing.assert_allclose(combined, [[0.7, 0.3], [0.3, 0.7]])
    with pytest.raises(ValueError, match="2 rows of probabilities for 3 windows"):
        windows.combine(probabilities[:2])


def test_bad_texts_are_named(tokenizer):
    with pytest.raises(ValueError, match=r"text is empty \(item 1\)"):
        encode_windows(tokenizer, ["fine", "  "], 12)
    tokenizer.pad_token = None
    with pytest.raises(ValueError, match="pad"):
        encode_windows(tokenizer, ["fine"], 12)


def test_predict_with_windows_averages_the_windows_predictions(tiny_model, tokenizer):
    tokenizer.truncation_side = "left"
    texts = make_texts(5, seed=8, min_words=20, max_words=40)
    windows = encode_windows(tokenizer, texts, 12)
    window_texts = [tokenizer.decode(ids[1:-1]) for ids in windows.sequences]
    assert [msgpt.encode_texts(tokenizer, [t], 12)[0] for t in window_texts] == windows.sequences  # decodes back
    each = msgpt.predict(window_texts, tiny_model, tokenizer, max_length=12).probabilities
    got = msgpt.predict(texts, tiny_model, tokenizer, max_length=12, windows=True)
    np.testing.assert_allclose(got.probabilities, windows.combine(each), atol=1e-6)
    assert (got.labels == got.probabilities.argmax(1)).all()
    short = make_texts(4, seed=2, min_words=1, max_words=3)  # one window each: as without windows
    np.testing.assert_allclose(msgpt.predict(short, tiny_model, tokenizer, max_length=12, windows=True).probabilities,
                               msgpt.predict(short, tiny_model, tokenizer, max_length=12).probabilities, atol=1e-6)


def test_windows_are_refused_for_pair_models(tokenizer, tiny_config):
    msgpt.add_special_tokens(tokenizer, delimiter=True)
    model = msgpt.build_model(tiny_config, tokenizer, num_labels=2, task="pair")
    with pytest.raises(ValueError, match="windows are for single texts"):
        msgpt.predict(["a"], model, tokenizer, text_pairs=["b"], windows=True)


def test_recipe_tests_with_windows_and_predict_reads_them_the_same(tmp_path, capsys):
    """A run with --windows: the test figures are the reviews' (not the windows'), its
    model records the windows, and predict() on best/ gives predictions.csv again."""
    data = write_reviews(tmp_path / "reviews.csv", 120, seed=5)
    out = tmp_path / "out"
    result = run_recipe_in_process(
        "--model", "scratch", "--epochs", "1", "--batch-size", "8", "--max-seq-len", "12", "--lr", "3e-3",
        "--train-fraction", "1", "--val-fraction", "0.25", "--seed", "3", "--windows",
        "--data", str(data), "--output-dir", str(out), capsys=capsys)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test_examples"] == 24 < metrics["test_windows"]
    with (out / "predictions.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    labels = np.array([int(r["label"]) for r in rows])
    written = np.array([[float(r["prob_0"]), float(r["prob_1"])] for r in rows])
    assert metrics["test_accuracy"] == pytest.approx(float((written.argmax(1) == labels).mean()))
    assert json.loads((out / "best" / "config.json").read_text())["msgpt"]["windows"] is True
    again = msgpt.predict([r["text"] for r in rows], out / "best")
    np.testing.assert_allclose(again.probabilities, written, atol=2e-6)
    without = msgpt.predict([r["text"] for r in rows], out / "best", windows=False)
    assert not np.allclose(without.probabilities, written, atol=1e-4)  # the windows did change them
    # --eval-only reads the texts as the model's recipe did, from its config.
    evaluated = run_recipe_in_process("--eval-only", "--model", str(out / "best"), "--data", str(data),
                                      "--output-dir", str(tmp_path / "eval"), capsys=capsys)
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    assert json.loads((tmp_path / "eval" / "metrics.json").read_text())["test_windows"] > 120


def test_windows_with_a_pair_task_end_in_one_line(tmp_path, capsys):
    from recipe_helpers import RECIPES

    result = run_recipe_in_process("--task", "pair", "--windows", "--data", "movie-reviews",
                                   "--output-dir", str(tmp_path / "o"), capsys=capsys, recipe=RECIPES / "classify.py")
    assert result.returncode == 2 and "--windows reads single texts, not --task pair" in result.stderr.splitlines()[-1]
