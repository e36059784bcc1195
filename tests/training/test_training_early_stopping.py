"""Early stopping (make_trainer(..., early_stopping_patience=N)): when it stops, what it
keeps, resuming, and the settings it refuses."""

from __future__ import annotations

import numpy as np
import pytest
import safetensors.numpy
from training_helpers import mindspore_dataset, separable_rows, tiny_classifier

from msgpt.training import early_stopping_summary, make_trainer, training_arguments

BATCH = 8
# Validation accuracy by training step (evaluations every 2 steps, 12 steps planned):
# best at step 4, then 2 evaluations without improvement (patience 2): stop at step 8.
SCRIPT = {2: 0.5, 4: 0.7, 6: 0.6, 8: 0.65, 10: 0.66, 12: 0.68}


def _trainer(tokenizer, tmp_path, script, patience=2, **overrides):
    """A tiny run whose validation accuracy at each step is ``script[step]``."""
    settings = dict(
        learning_rate=3e-3, warmup_ratio=0.0, per_device_train_batch_size=BATCH, per_device_eval_batch_size=BATCH,
        num_train_epochs=3, eval_strategy="steps", eval_steps=2, save_strategy="steps", save_steps=2,
        logging_steps=1, disable_tqdm=True, seed=0,
    )
    settings.update(overrides)
    rows = separable_rows(tokenizer, 32, seed=1)  # 4 batches per epoch
    holder = {}
    trainer = make_trainer(
        tiny_classifier(tokenizer), tokenizer, mindspore_dataset(rows, BATCH, shuffle=True),
        mindspore_dataset(separable_rows(tokenizer, 16, seed=2), BATCH),
        training_arguments(str(tmp_path), **settings),
        compute_metrics=lambda _: {"accuracy": script[holder["trainer"].state.global_step]},
        early_stopping_patience=patience,
    )
    holder["trainer"] = trainer
    return trainer


def test_stops_after_patience_evaluations_and_keeps_the_best_model(tokenizer, tmp_path):
    trainer = _trainer(tokenizer, tmp_path, SCRIPT)
    trainer.train()
    assert trainer.state.global_step == 8
    assert [h["eval_accuracy"] for h in trainer.state.log_history if "eval_accuracy" in h] == [0.5, 0.7, 0.6, 0.65]
    assert trainer.state.best_model_checkpoint == str(tmp_path / "checkpoint-4")
    saved = safetensors.numpy.load_file(str(tmp_path / "checkpoint-4" / "model.safetensors"))
    np.testing.assert_array_equal(trainer.model.score.weight.detach().numpy(), saved["score.weight"])
    summary = early_stopping_summary(trainer)
    assert summary == {
        "patience": 2, "metric": "accuracy", "stopped_early": True, "stopped_at_step": 8,
        "stopped_at_epoch": 2.0, "planned_steps": 12, "evaluations_without_improvement": 2,
        "best_metric": 0.7, "best_checkpoint": str(tmp_path / "checkpoint-4"),
    }


def test_runs_to_the_end_while_the_metric_improves(tokenizer, tmp_path):
    trainer = _trainer(tokenizer, tmp_path, {step: step / 100 for step in range(2, 13, 2)})
    trainer.train()
    summary = early_stopping_summary(trainer)
    assert trainer.state.global_step == 12
    assert (summary["stopped_early"], summary["stopped_at_step"], summary["stopped_at_epoch"]) == (False, None, None)
    assert summary["best_metric"] == 0.12


def test_resumed_run_continues_the_count_of_its_checkpoint(tokenizer, tmp_path):
    # checkpoint-6 holds one evaluation without improvement: one more (step 8) stops the
    # run. Counting from zero again would train on to step 10.
    _trainer(tokenizer, tmp_path, SCRIPT, save_total_limit=None).train()
    resumed = _trainer(tokenizer, tmp_path, SCRIPT, save_total_limit=None)
    resumed.train(resume_from_checkpoint=str(tmp_path / "checkpoint-6"))
    assert resumed.state.global_step == 8
    assert early_stopping_summary(resumed)["stopped_early"]
    assert resumed.state.best_model_checkpoint == str(tmp_path / "checkpoint-4")


def test_no_early_stopping_no_summary(tokenizer, tmp_path):
    rows = separable_rows(tokenizer, 8, seed=1)
    trainer = make_trainer(tiny_classifier(tokenizer), tokenizer, mindspore_dataset(rows, BATCH),
                           mindspore_dataset(rows[:4], BATCH), training_arguments(str(tmp_path)))
    assert early_stopping_summary(trainer) is None


@pytest.mark.parametrize(
    "patience, overrides, message",
    [
        (0, {}, "patience must be an integer >= 1, got 0"),
        (1.5, {}, "patience must be an integer >= 1, got 1.5"),
        (2, dict(eval_strategy="no", save_strategy="no", load_best_model_at_end=False), "eval_strategy is 'no'"),
        (2, dict(load_best_model_at_end=False), "load_best_model_at_end=True"),
    ],
)
def test_unusable_settings_are_refused_in_one_line(tokenizer, tmp_path, patience, overrides, message):
    rows = separable_rows(tokenizer, 8, seed=1)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        make_trainer(tiny_classifier(tokenizer), tokenizer, mindspore_dataset(rows, BATCH),
                     mindspore_dataset(rows[:4], BATCH), training_arguments(str(tmp_path), **overrides),
                     early_stopping_patience=patience)
