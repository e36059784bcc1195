"""recipes/imdb.py --early-stopping-patience / --eval-steps through the command line."""

from __future__ import annotations

import json

import pytest

from test_recipe_cli import TINY, _assert_one_line_error, run_recipe, write_reviews


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
def test_bad_values_end_in_one_line(args, needles, tmp_path):
    _assert_one_line_error(run_recipe(*TINY, *args, "--output-dir", str(tmp_path / "out")), *needles)
    assert not (tmp_path / "out").exists()
