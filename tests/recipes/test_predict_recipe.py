"""Label names and the trained length through recipes/imdb.py, and recipes/predict.py end to end."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import make_texts
from recipe_helpers import run_recipe_in_process

RECIPES = Path(__file__).resolve().parents[2] / "recipes"
ENV = {"DEVICE_TARGET": "CPU", "HF_HUB_OFFLINE": "1"}  # tests never use the network
POSITIVE = "great wonderful loved funny good".split()
NEGATIVE = "awful terrible hated boring bad".split()
TINY = ["--model", "scratch", "--epochs", "2", "--batch-size", "8", "--max-seq-len", "32",
        "--lr", "3e-3", "--train-fraction", "1", "--val-fraction", "0.25", "--seed", "3"]


def run(recipe: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, str(RECIPES / recipe), *args], capture_output=True, text=True,
                          timeout=600, env={**os.environ, **ENV}, cwd=cwd)


def write_named(path: Path, n: int, seed: int = 0, *, filler_words: int = 10, labels: bool = True) -> Path:
    """Reviews labelled ``positive``/``negative`` by the cue words at their end.

    With ``filler_words`` well above 32 tokens, a model reading 32 tokens from the start
    never sees the cue, one reading 512 does: predictions then depend on the length.
    """
    rows = []
    for i, filler in enumerate(make_texts(n, seed=seed, min_words=filler_words, max_words=filler_words)):
        words = POSITIVE if i % 2 else NEGATIVE
        text = f"{filler} {' '.join(words[(i + k) % 5] for k in range(3))}"
        rows.append([text, "positive" if i % 2 else "negative"] if labels else [text])
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["review", "sentiment"] if labels else ["review"])
        writer.writerows(rows)
    return path


def in_process(recipe: str, *args: str, capsys) -> subprocess.CompletedProcess:
    """A recipe's ``main`` in this process: exit status and output as ``run`` gives them."""
    return run_recipe_in_process(*args, capsys=capsys, recipe=RECIPES / recipe)


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def one_line_error(result: subprocess.CompletedProcess, prog: str, *needles: str) -> str:
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr[-2000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"{prog}: error:"), result.stderr[-2000:]
    for needle in needles:
        assert needle in last, last
    return last


COLUMNS = ["--text-column", "review", "--label-column", "sentiment"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One tiny training run on labels written as words, at 32 tokens."""
    root = tmp_path_factory.mktemp("named")
    data = write_named(root / "reviews.csv", 160)
    result = run("imdb.py", *TINY, "--data", str(data), *COLUMNS, "--output-dir", str(root / "out"))
    assert result.returncode == 0, result.stderr[-3000:]
    return root


# --- recipes/imdb.py ------------------------------------------------------------------


def test_word_labels_train_end_to_end_and_are_saved_by_name(trained):
    out = trained / "out"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["label_names"] == ["negative", "positive"] and metrics["max_seq_len"] == 32
    assert metrics["test_accuracy"] >= 0.75  # the words decide the label: a real run learns it
    config = json.loads((out / "best" / "config.json").read_text())
    assert config["id2label"] == {"0": "negative", "1": "positive"}
    assert config["msgpt"] == {"max_seq_len": 32, "truncation_side": "right", "task": "single", "windows": False}
    rows = read_rows(out / "predictions.csv")
    assert list(rows[0]) == ["text", "label", "prediction", "prob_negative", "prob_positive"]
    assert {row["label"] for row in rows} == {row["prediction"] for row in rows} == {"negative", "positive"}


def test_label_names_option_fixes_the_order(tmp_path, capsys):
    data = write_named(tmp_path / "reviews.csv", 40)
    result = in_process("imdb.py", *TINY, "--max-steps", "1", "--data", str(data), *COLUMNS,
                        "--label-names", "positive,negative", "--output-dir", str(tmp_path / "out"), capsys=capsys)
    assert result.returncode == 0, result.stderr[-3000:]
    config = json.loads((tmp_path / "out" / "best" / "config.json").read_text())
    assert config["id2label"] == {"0": "positive", "1": "negative"}
    assert list(read_rows(tmp_path / "out" / "predictions.csv")[0])[-2:] == ["prob_positive", "prob_negative"]


def eval_args(trained: Path, data: Path, out: Path) -> list[str]:
    return ["--eval-only", "--model", str(trained / "out" / "best"), "--data", str(data), *COLUMNS,
            "--output-dir", str(out)]


def test_eval_only_reads_at_the_trained_length_unless_told(trained, tmp_path, capsys):
    data = write_named(tmp_path / "long.csv", 40, seed=5, filler_words=40)  # cues beyond 32 tokens
    outputs = {}
    for name, extra in (("default", []), ("32", ["--max-seq-len", "32"]), ("512", ["--max-seq-len", "512"])):
        result = in_process("imdb.py", *eval_args(trained, data, tmp_path / name), *extra, capsys=capsys)
        assert result.returncode == 0, result.stderr[-3000:]
        outputs[name] = (tmp_path / name / "predictions.csv").read_text()
        expected = 32 if name == "default" else int(name)
        assert json.loads((tmp_path / name / "metrics.json").read_text())["max_seq_len"] == expected
    assert outputs["default"] == outputs["32"]
    assert outputs["default"] != outputs["512"]  # the length matters for these texts


def test_eval_only_above_the_positions_ends_in_one_line(trained, tmp_path, capsys):
    data = write_named(tmp_path / "d.csv", 10)
    result = in_process("imdb.py", *eval_args(trained, data, tmp_path / "x"), "--max-seq-len", "600", capsys=capsys)
    one_line_error(result, "imdb.py", "600", "512 positions")


def test_eval_only_of_a_folder_without_a_recorded_length_keeps_the_recipe_default(trained, tmp_path, capsys):
    old = tmp_path / "old"
    shutil.copytree(trained / "out" / "best", old)
    config = json.loads((old / "config.json").read_text())
    del config["msgpt"]
    (old / "config.json").write_text(json.dumps(config))
    data = write_named(tmp_path / "d.csv", 20, seed=6)
    result = in_process("imdb.py", "--eval-only", "--model", str(old), "--data", str(data), *COLUMNS,
                        "--output-dir", str(tmp_path / "eval"), capsys=capsys)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads((tmp_path / "eval" / "metrics.json").read_text())["max_seq_len"] == 512


def test_eval_only_on_unknown_label_names_ends_in_one_line(trained, tmp_path, capsys):
    data = tmp_path / "other.csv"
    data.write_text("review,sentiment\ngreat film,positive\nmeh,neutral\nso so,mixed\n", encoding="utf-8")
    result = in_process("imdb.py", *eval_args(trained, data, tmp_path / "eval"), capsys=capsys)
    last = one_line_error(result, "imdb.py", "other.csv",
                          "'mixed', 'neutral'", "'negative', 'positive'")
    assert "row 2" in last
    assert not (tmp_path / "eval").exists()


@pytest.mark.parametrize(
    "extra, needles",
    [
        (["--label-names", "positive,negative"], ["differ from those", "'negative', 'positive'"]),
        (["--num-labels", "3"], ["num_labels=3", "2 classes"]),
    ],
)
def test_eval_only_options_must_agree_with_the_model(trained, tmp_path, extra, needles, capsys):
    data = write_named(tmp_path / "d.csv", 10)
    result = in_process("imdb.py", *eval_args(trained, data, tmp_path / "eval"), *extra, capsys=capsys)
    one_line_error(result, "imdb.py", *needles)


@pytest.mark.parametrize(
    "args, needles",
    [
        (["--label-names", "a,b", "--num-labels", "3"], ["--num-labels 3 disagrees with the 2 --label-names"]),
        (["--label-names", "a,a"], ["--label-names 'a,a'", "repeated"]),
    ],
)
def test_bad_label_options_end_in_one_line(args, needles, tmp_path, capsys):
    result = in_process("imdb.py", *args, "--output-dir", str(tmp_path / "out"), capsys=capsys)
    one_line_error(result, "imdb.py", *needles)


def test_names_and_num_labels_that_disagree_end_in_one_line(tmp_path, capsys):
    data = write_named(tmp_path / "reviews.csv", 20)
    result = in_process("imdb.py", *TINY, "--num-labels", "3", "--data", str(data), *COLUMNS,
                        "--output-dir", str(tmp_path / "out"), capsys=capsys)
    one_line_error(result, "imdb.py", "num_labels=3 disagrees with the 2 label names")
    assert not (tmp_path / "out").exists()


# --- recipes/predict.py -----------------------------------------------------------------


def test_predict_command_labels_unlabelled_texts(trained, tmp_path, capsys, monkeypatch):
    texts = tmp_path / "new.txt"
    texts.write_text("a great wonderful loved film\nawful terrible boring\nthe plot was good\n", encoding="utf-8")
    model = str(trained / "out" / "best")
    result = run("predict.py", "--model", model, "--data", str(texts), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    output = tmp_path / "new.predictions.csv"  # the default: in the current folder
    assert "labelled 3 texts at max length 32" in result.stdout and str(output.name) in result.stdout
    rows = read_rows(output)
    assert [row["text"] for row in rows] == texts.read_text().splitlines()
    assert list(rows[0]) == ["text", "prediction", "prob_negative", "prob_positive"]
    for row in rows:
        probs = {"negative": float(row["prob_negative"]), "positive": float(row["prob_positive"])}
        assert abs(sum(probs.values()) - 1) < 1e-5 and row["prediction"] == max(probs, key=probs.get)
    assert not (tmp_path / "new.predictions.metrics.json").exists()

    before = output.read_bytes()
    monkeypatch.chdir(tmp_path)
    again = in_process("predict.py", "--model", model, "--data", str(texts), capsys=capsys)
    one_line_error(again, "predict.py", "new.predictions.csv already exists", "--overwrite")
    assert output.read_bytes() == before
    replaced = in_process("predict.py", "--model", model, "--data", str(texts), "--overwrite", "--batch-size", "2",
                          capsys=capsys)
    assert replaced.returncode == 0, replaced.stderr[-3000:]
    assert read_rows(output) == rows  # batch size and sorting by length change nothing
    assert not list(tmp_path.glob(".*tmp"))


def test_predict_command_scores_labelled_texts_like_eval_only(trained, tmp_path, capsys):
    data = write_named(tmp_path / "more.csv", 40, seed=9)
    result = in_process("predict.py", "--model", str(trained / "out" / "best"), "--data", str(data), *COLUMNS,
                        "--output", str(tmp_path / "out" / "more.csv"), capsys=capsys)
    assert result.returncode == 0, result.stderr[-3000:]
    scores = json.loads((tmp_path / "out" / "more.metrics.json").read_text())
    assert scores["examples"] == 40 and scores["max_seq_len"] == 32
    assert f"accuracy {scores['accuracy']:.4f}, macro-F1 {scores['f1']:.4f}" in result.stdout
    rows = read_rows(tmp_path / "out" / "more.csv")
    assert scores["accuracy"] == pytest.approx(sum(r["label"] == r["prediction"] for r in rows) / 40)
    evaluated = in_process("imdb.py", *eval_args(trained, data, tmp_path / "eval"), capsys=capsys)
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert (scores["accuracy"], scores["f1"]) == pytest.approx((metrics["test_accuracy"], metrics["test_f1"]))


def test_predict_command_reads_at_the_trained_length_unless_told(trained, tmp_path, capsys):
    data = write_named(tmp_path / "long.csv", 20, seed=5, filler_words=40, labels=False)
    model = str(trained / "out" / "best")
    outputs = {}
    for name, extra in (("default", []), ("32", ["--max-seq-len", "32"]), ("512", ["--max-seq-len", "512"])):
        result = in_process("predict.py", "--model", model, "--data", str(data), "--text-column", "review",
                            "--output", str(tmp_path / f"{name}.csv"), *extra, capsys=capsys)
        assert result.returncode == 0, result.stderr[-3000:]
        outputs[name] = (tmp_path / f"{name}.csv").read_text()
    assert outputs["default"] == outputs["32"] and outputs["default"] != outputs["512"]


def _bad_inputs(tmp: Path, model: str) -> dict[str, tuple[list[str], list[str]]]:
    (tmp / "empty.txt").write_text("fine\n\nbad\n", encoding="utf-8")
    (tmp / "reviews.csv").write_text("review,sentiment\nfine,positive\n", encoding="utf-8")
    (tmp / "unknown.csv").write_text("text,label\nfine,positive\nmeh,neutral\n", encoding="utf-8")
    (tmp / "ok.txt").write_text("fine\n", encoding="utf-8")
    return {
        "missing file": (["--model", model, "--data", str(tmp / "nope.csv")], ["nope.csv", "does not exist"]),
        "missing column": (["--model", model, "--data", str(tmp / "reviews.csv")], ["has no column 'text'"]),
        "missing label column": (["--model", model, "--data", str(tmp / "reviews.csv"), "--text-column", "review",
                                  "--label-column", "label"], ["has no column 'label'"]),
        "empty text": (["--model", model, "--data", str(tmp / "empty.txt")], ["empty.txt, line 2", "empty"]),
        "not a model folder": (["--model", str(tmp), "--data", str(tmp / "ok.txt")], ["not a model folder"]),
        "unknown label": (["--model", model, "--data", str(tmp / "unknown.csv")],
                          ["'neutral'", "'negative', 'positive'"]),
        "too long": (["--model", model, "--data", str(tmp / "ok.txt"), "--max-seq-len", "600"],
                     ["600", "512 positions"]),
        "bad output": (["--model", model, "--data", str(tmp / "ok.txt"), "--output", "x.txt"], ["--output", ".csv"]),
        "no model": (["--data", str(tmp / "ok.txt")], ["--model"]),
    }


@pytest.mark.parametrize("case", ["missing file", "missing column", "missing label column", "empty text",
                                  "not a model folder", "unknown label", "too long", "bad output", "no model"])
def test_predict_command_bad_input_ends_in_one_line(trained, tmp_path, case, capsys, monkeypatch):
    args, needles = _bad_inputs(tmp_path, str(trained / "out" / "best"))[case]
    before = sorted(p.name for p in tmp_path.iterdir())
    monkeypatch.chdir(tmp_path)
    one_line_error(in_process("predict.py", *args, capsys=capsys), "predict.py", *needles)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written
