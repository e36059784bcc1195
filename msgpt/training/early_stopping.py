"""Early stopping on the validation metric, done by HF's ``EarlyStoppingCallback``.

HF's callback counts the evaluations since the metric of the best model last improved
and stops training at ``patience``; ``load_best_model_at_end`` then loads the best
checkpoint. msgpt adds what the callback leaves out: settings it cannot work with are
refused up front with one line (the callback only ``assert``s them once training has
started), a resumed run continues the count from its checkpoint instead of from zero,
and ``early_stopping_summary`` says for ``metrics.json`` whether and where it stopped.
"""

from __future__ import annotations

from typing import Any

import msgpt.backend  # noqa: F401  (mindnlp before transformers)

from transformers import EarlyStoppingCallback, Trainer, TrainingArguments
from transformers.trainer_utils import IntervalStrategy


def check_patience(patience: Any) -> int:
    """``patience`` if it is an integer >= 1, else a ValueError naming it."""
    if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
        raise ValueError(f"early stopping patience must be an integer >= 1, got {patience!r}")
    return patience


def early_stopping_callback(patience: int, args: TrainingArguments) -> EarlyStoppingCallback:
    """HF's callback stopping after ``patience`` evaluations without improvement of
    ``args.metric_for_best_model``; ``args`` must evaluate and keep the best model.

    Sets ``args.restore_callback_states_from_checkpoint`` so that resuming continues the
    count saved with the checkpoint.
    """
    check_patience(patience)
    if args.eval_strategy == IntervalStrategy.NO:
        raise ValueError("early stopping needs evaluations, but eval_strategy is 'no'")
    if not args.load_best_model_at_end or not args.metric_for_best_model:
        raise ValueError(
            "early stopping keeps the best model: it needs load_best_model_at_end=True and a metric_for_best_model"
        )
    args.restore_callback_states_from_checkpoint = True
    return EarlyStoppingCallback(early_stopping_patience=patience)


def early_stopping_summary(trainer: Trainer) -> dict[str, Any] | None:
    """After ``trainer.train()``: the patience, whether training stopped before its last
    step, at which step and epoch, and the best metric and checkpoint; None without
    early stopping."""
    # Looked up now: resuming replaces the callback by one restored from the checkpoint.
    callback = next((c for c in trainer.callback_handler.callbacks if isinstance(c, EarlyStoppingCallback)), None)
    if callback is None:
        return None
    state = trainer.state
    # Patience running out at the very last evaluation stops nothing.
    stopped = callback.early_stopping_patience_counter >= callback.early_stopping_patience
    stopped = stopped and state.global_step < state.max_steps
    return {
        "patience": callback.early_stopping_patience,
        "metric": trainer.args.metric_for_best_model,
        "stopped_early": stopped,
        "stopped_at_step": state.global_step if stopped else None,
        "stopped_at_epoch": round(float(state.epoch), 4) if stopped and state.epoch is not None else None,
        "planned_steps": state.max_steps,
        "evaluations_without_improvement": callback.early_stopping_patience_counter,
        "best_metric": state.best_metric,
        "best_checkpoint": state.best_model_checkpoint,
    }
