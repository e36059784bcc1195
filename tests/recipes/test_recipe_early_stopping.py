"""recipes/imdb.py --early-stopping-patience / --eval-steps through the command line."""

from __future__ import annotations

import json

import pytest
from recipe_helpers import TINY, _assert_one_line_error, run_recipe, run_recipe_in_process, write_reviews


def test_run_stops_when_validation_accuracy_stalls_and_says_so(tmp_path):
    # At a learning rate of 1e-9 no prediction changes, so validation accuracy never
    # improves after the first evaluation (step 3): patience 1 stops the run at step 6
    # of the 24 that 2 epochs of 12 steps would take.
    data = write_reviews(tmp_path / "reviews.csv", 160)
    out = tmp_path / "out"
    result = run_recipe(*TINY, "--lr", "1e-9", "--eval-steps", "3", "--early-stopping-patience", "1",
                        "--data", str(data), "--output-dir", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    stopping = metrics["early_stopping"]
    assert (stopping["stopped_early"], stopping["stopped_at_step"], stopping["planned_steps"]) == (True, 6, 24)
    assert stopping["stopped_at_epoch"] == 0.5 and stopping["patience"] == 1
    assert stopping["best_checkpoint"] == metrics["best_checkpoint"] == str(out / "checkpoint-3")
    assert [row["epoch"] for row in metrics["epochs"]] == [0.25, 0.5]  # one row per evaluation
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-3", "checkpoint-6"]
    assert (out / "best" / "model.safetensors").is_file() and "test_accuracy" in metrics
    # A quiet start (msgpt/runtime/quiet.py): msgpt's own lines, none of its libraries' noise.
    assert "msgpt.data.splits: train split: 96 examples" in result.stderr
    for noise in ("Modular Diffusers", "PyTorch version", "ftfy or spacy"):
        assert noise not in result.stderr


@pytest.mark.parametrize(
    "args, needles",
    [
        (["--early-stopping-patience", "0"], ["--early-stopping-patience must be at least 1, got 0"]),
        (["--eval-steps", "-5"], ["--eval-steps must be at least 1, got -5"]),
        (["--early-stopping-patience", "two"], ["--early-stopping-patience", "invalid int value"]),
        (["--eval-only", "--model", ".", "--early-stopping-patience", "2"],
         ["--early-stopping-patience is for training, not --eval-only"]),
    ],
)
def test_bad_values_end_in_one_line(args, needles, tmp_path, capsys):
    result = run_recipe_in_process(*TINY, *args, "--output-dir", str(tmp_path / "out"), capsys=capsys)
    _assert_one_line_error(result, *needles)
    assert not (tmp_path / "out").exists()


def test_pretraining_stops_when_the_held_out_loss_stalls(tmp_path, capsys):
    from conftest import make_texts
    from test_pretrain_recipe import SMALL, pretrain_in_process

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(make_texts(500, seed=5)) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    # At 1e-12 no weight moves by a float32 step: the held-out loss stays where it was
    # at the first evaluation (step 2), and patience 1 stops at the second (step 4).
    result = pretrain_in_process("--text", str(corpus), *SMALL, "--lr", "1e-12", "--epochs", "2", "--eval-steps", "2",
                                 "--early-stopping-patience", "1", "--output-dir", str(out), capsys=capsys)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    stopping = metrics["early_stopping"]
    assert (stopping["stopped_early"], stopping["stopped_at_step"], stopping["metric"]) == (True, 4, "loss")
    assert stopping["planned_steps"] > 4 and stopping["evaluations_without_improvement"] == 1
    assert stopping["best_checkpoint"] == str(out / "checkpoint-2")
    assert [round(row["eval_loss"], 6) for row in metrics["epochs"]] == [round(stopping["best_metric"], 6)] * 2
    assert (out / "best" / "model.safetensors").is_file()


def test_pretraining_refuses_a_patience_below_one(tmp_path, capsys):
    from test_pretrain_recipe import pretrain_in_process

    result = pretrain_in_process("--text", "movie-reviews", "--early-stopping-patience", "0",
                                 "--output-dir", str(tmp_path / "out"), capsys=capsys)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "pretrain.py: error: --early-stopping-patience must be at least 1, got 0")
