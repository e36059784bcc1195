"""Fine-tuning with HF's Trainer on MindSpore datasets, on Ascend, GPU and CPU.

    from msgpt.training import make_trainer, training_arguments
    args = training_arguments("runs/gpt1", num_train_epochs=3)   # GPT-1's recipe as defaults
    trainer = make_trainer(model, tokenizer, data.train, data.validation, args, lm_coef=0.5,
                           early_stopping_patience=2,   # optional: stop after 2 evaluations without gain
                           precision="fp16")            # optional: float16 with dynamic loss scaling
    trainer.train()
    trainer.evaluate()          # eval_accuracy, eval_f1 (macro)

Names are imported lazily (importing them starts mindnlp, which fixes the device).
"""

from __future__ import annotations

from msgpt._lazy import lazy_exports

_EXPORTS = {
    "MindSporeTrainer": "msgpt.training.trainer",
    "make_trainer": "msgpt.training.trainer",
    "training_arguments": "msgpt.training.trainer",
    "MindSporeLoader": "msgpt.training.loader",
    "is_mindspore_dataset": "msgpt.training.loader",
    "AdamW": "msgpt.training.optim",
    "decay_parameter_groups": "msgpt.training.optim",
    "linear_warmup_decay": "msgpt.training.schedule",
    "warmup_steps": "msgpt.training.schedule",
    "GPT1_WARMUP_RATIO": "msgpt.training.schedule",
    "all_reduce_gradients": "msgpt.training.data_parallel",
    "broadcast_parameters": "msgpt.training.data_parallel",
    "clip_grad_norm_": "msgpt.backend.trainer_fixes",
    "global_grad_norm": "msgpt.backend.trainer_fixes",
    "lm_loss": "msgpt.training.lm_loss",
    "accuracy": "msgpt.training.metrics",
    "macro_f1": "msgpt.training.metrics",
    "compute_metrics": "msgpt.training.metrics",
    "early_stopping_callback": "msgpt.training.early_stopping",
    "early_stopping_summary": "msgpt.training.early_stopping",
    "DynamicLossScale": "msgpt.training.loss_scaling",
    "PRECISIONS": "msgpt.training.precision",
    "check_precision": "msgpt.training.precision",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
