"""MindSporeTrainer end to end on a tiny GPT: train, evaluate, best model, resume, predict."""

from __future__ import annotations

import os

import numpy as np
import pytest
import safetensors.numpy
from training_helpers import mindspore_dataset, separable_rows, tiny_classifier

from msgpt.training import MindSporeTrainer, make_trainer, training_arguments
from msgpt.training.optim import AdamW

BATCH = 8


def _args(output_dir, **overrides):
    settings = dict(
        learning_rate=3e-3, warmup_ratio=0.0, per_device_train_batch_size=BATCH,
        per_device_eval_batch_size=BATCH, logging_steps=1, disable_tqdm=True, seed=0,
    )
    settings.update(overrides)
    return training_arguments(str(output_dir), **settings)


def _weights(model):
    return {name: p.detach().numpy().copy() for name, p in model.named_parameters()}


def test_train_evaluate_keep_best_and_predict(tokenizer, tmp_path):
    train = mindspore_dataset(separable_rows(tokenizer, 64, seed=1), BATCH, shuffle=True)
    val_rows = separable_rows(tokenizer, 20, seed=2)
    val = mindspore_dataset(val_rows, BATCH)
    args = _args(tmp_path, num_train_epochs=3, learning_rate=5e-3, metric_for_best_model="f1")
    trainer = make_trainer(tiny_classifier(tokenizer), tokenizer, train, val, args)
    assert isinstance(trainer, MindSporeTrainer)

    before = trainer.evaluate()
    trainer.train()
    history = trainer.state.log_history

    # Training: msgpt's AdamW, clipped gradients, the loss going down.
    assert isinstance(trainer.optimizer.optimizer, AdamW)
    steps = [h for h in history if "loss" in h]
    assert len(steps) == 24 and all(np.isfinite(h["grad_norm"]) for h in steps)
    assert np.mean([h["loss"] for h in steps[-4:]]) < 0.5 * np.mean([h["loss"] for h in steps[:4]])
    evals = [h for h in history if "eval_f1" in h]
    assert len(evals) == 3 and all({"eval_accuracy", "eval_loss"} <= set(h) for h in evals)
    assert evals[-1]["eval_loss"] < before["eval_loss"] and evals[-1]["eval_accuracy"] >= 0.9

    # Checkpoints each epoch (safetensors), best one chosen on validation F1 and loaded back.
    best = max(evals, key=lambda h: h["eval_f1"])
    assert trainer.state.best_model_checkpoint.endswith(f"checkpoint-{best['step']}")
    files = set(os.listdir(trainer.state.best_model_checkpoint))
    assert {"model.safetensors", "optimizer.pt", "scheduler.pt", "rng_state.pth", "vocab.json"} <= files
    saved = safetensors.numpy.load_file(os.path.join(trainer.state.best_model_checkpoint, "model.safetensors"))
    now = _weights(trainer.model)
    np.testing.assert_array_equal(now["score.weight"], saved["score.weight"])
    assert trainer.evaluate()["eval_f1"] == pytest.approx(best["eval_f1"])

    # Predictions in dataset order, with labels, for compute_metrics.
    output = trainer.predict(val)
    assert output.predictions.shape == (20, 2)
    np.testing.assert_array_equal(output.label_ids, [row[2] for row in val_rows])
    assert {"test_accuracy", "test_f1", "test_loss"} <= set(output.metrics)


def test_resume_mid_epoch_continues_the_same_run(tokenizer, tmp_path):
    rows = separable_rows(tokenizer, 32, seed=4)  # 4 batches per epoch

    def run(resume=None):
        args = _args(
            tmp_path, num_train_epochs=2, eval_strategy="no", save_strategy="steps", save_steps=3,
            load_best_model_at_end=False, metric_for_best_model=None, save_total_limit=None,
        )
        trainer = make_trainer(
            tiny_classifier(tokenizer), tokenizer, mindspore_dataset(rows, BATCH, shuffle=True), None,
            args, lm_coef=0.5,
        )
        trainer.train(resume_from_checkpoint=resume)
        return trainer

    straight = run()
    resumed = run(resume=str(tmp_path / "checkpoint-3"))  # 3 of the 4 batches of epoch 1 done
    assert resumed.state.global_step == straight.state.global_step == 8
    assert not resumed.args.ignore_data_skip
    for name, value in _weights(straight.model).items():
        np.testing.assert_allclose(_weights(resumed.model)[name], value, rtol=0, atol=1e-5, err_msg=name)


def test_best_model_is_never_chosen_on_training_data(tokenizer, tmp_path):
    train = mindspore_dataset(separable_rows(tokenizer, 8, seed=5), BATCH)
    with pytest.raises(ValueError, match="validation"):
        make_trainer(tiny_classifier(tokenizer), tokenizer, train, train, _args(tmp_path))
    with pytest.raises(ValueError, match="validation"):
        make_trainer(tiny_classifier(tokenizer), tokenizer, train, {"val": train}, _args(tmp_path))


def test_gpt1_defaults():
    args = training_arguments("unused")
    assert (args.learning_rate, args.warmup_ratio, args.weight_decay, args.max_grad_norm) == (
        6.25e-5, 0.002, 0.01, 1.0,
    )
    assert args.lr_scheduler_type == "linear" and args.report_to == [] and args.load_best_model_at_end
    assert training_arguments("unused", num_train_epochs=1).num_train_epochs == 1


def test_body_lr_scale_slows_or_freezes_all_but_the_head(tokenizer, tmp_path):
    train = mindspore_dataset(separable_rows(tokenizer, 16, seed=6), BATCH)

    def trained(scale):
        args = _args(tmp_path / str(scale), max_steps=2, eval_strategy="no", save_strategy="no",
                     load_best_model_at_end=False, metric_for_best_model=None)
        trainer = make_trainer(tiny_classifier(tokenizer), tokenizer, train, None, args, body_lr_scale=scale)
        start = _weights(trainer.model)
        trainer.train()
        rates = {g["initial_lr"] for g in trainer.optimizer.optimizer.param_groups}  # what the schedule scales
        moved = {n: float(np.abs(w - start[n]).max()) for n, w in _weights(trainer.model).items()}
        return rates, moved

    rates, moved = trained(0.0)
    assert rates == {3e-3, 0.0}
    assert moved["score.weight"] > 0
    assert all(change == 0 for name, change in moved.items() if name != "score.weight")
    _, full = trained(1.0)
    _, tenth = trained(0.1)
    body = "transformer.h.0.attn.c_attn.weight"
    assert 0 < tenth[body] < full[body]
    with pytest.raises(ValueError, match="body_lr_scale"):
        make_trainer(tiny_classifier(tokenizer), tokenizer, train, None, _args(tmp_path), body_lr_scale=-1)
