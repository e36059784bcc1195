"""HF's ``Trainer`` on MindSpore datasets, with msgpt's optimizer, clipping and GPT-1 loss.

``MindSporeTrainer`` changes only what mindtorch or MindSpore datasets need:

* data: ``get_{train,eval,test}_dataloader`` wrap a MindSpore dataset in
  ``MindSporeLoader`` (no torch ``DataLoader``, no sampler, no ``accelerator.prepare``:
  the pipeline already batches, shuffles and shards per process);
  ``num_examples`` counts examples from the loader. Other datasets go to HF's code.
* optimisation: ``create_optimizer`` builds ``msgpt.training.optim.AdamW`` with HF's
  decay / no-decay groups and the ``TrainingArguments`` hyper-parameters; the LR
  schedule is HF's (``lr_scheduler_type="linear"`` + ``warmup_ratio`` is GPT-1's);
  the Trainer's ``max_grad_norm`` clipping goes through
  ``trainer_fixes.install_clip_grad_norm`` on its accelerator.
* checkpoints: HF's ``_load_best_model``/``_load_from_checkpoint`` read the weights
  with ``trainer_fixes.patched_safetensors_load_file`` in place, ``_load_rng_state``
  runs with ``trainer_fixes.patched_safe_globals``, and ``train`` skips the batches a
  resumed run had already seen in the loader (accelerate's skipping needs a DataLoader).
* loss: with ``lm_coef > 0``, ``compute_loss`` adds GPT-1's auxiliary LM loss, from the
  same forward pass.
* precision (``precision="fp16"``/``"bf16"``, or HF's ``fp16=True``): the forward runs under
  mindtorch's autocast (``msgpt.training.precision``) with float32 master weights; fp16
  differentiates the loss times a dynamic loss scale and, on each update, unscales the
  gradients (after the all-reduce, before clipping) and skips the update and the LR
  scheduler's step on inf/NaN (``msgpt.training.loss_scaling``; the scale is saved with each
  checkpoint as ``loss_scale.json`` and logged with the skips).
* data parallel (``msgpt.init_distributed`` under ``msrun``; HF sees a world of one
  there, and mindnlp's DDP is empty): every rank starts from rank 0's weights, gradients
  are averaged across ranks on each update step (before clipping), logged losses are
  the mean over ranks, evaluation is split by batches and gathered back in order, and
  only rank 0 writes (checkpoints, models) or logs (``args`` learn the rank through
  ``trainer_fixes.install_rank_aware_state``). The train dataset must give every rank
  the same number of batches (``msgpt.data.build_datasets`` does).

Gradients come from mindnlp's patched ``Trainer.training_step`` (``value_and_grad``).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any, Callable, Mapping

import msgpt.backend  # noqa: F401  (mindnlp before torch/transformers)
from msgpt.backend.trainer_fixes import (
    install_clip_grad_norm,
    install_rank_aware_state,
    patched_safe_globals,
    patched_safetensors_load_file,
)

import numpy as np
import torch
from transformers import Trainer, TrainerState, TrainingArguments
from transformers.trainer import PREFIX_CHECKPOINT_DIR, TRAINER_STATE_NAME
from transformers.training_args import OptimizerNames

from msgpt.models.weights_check import newest_sound_checkpoint
from msgpt.runtime.device import yield_to_kernel_threads
from msgpt.runtime.distributed import broadcast_object, distributed_info
from msgpt.training.data_parallel import (
    EvalShard,
    all_gather_arrays,
    all_reduce_gradients,
    broadcast_parameters,
    gather_rows,
)
from msgpt.training.early_stopping import early_stopping_callback
from msgpt.training.lm_loss import lm_loss_of_model
from msgpt.training.loader import MindSporeLoader, is_mindspore_dataset
from msgpt.training.loss_scaling import DynamicLossScale
from msgpt.training.metrics import compute_metrics as default_compute_metrics
from msgpt.training.optim import AdamW, decay_parameter_groups, scale_body_rate
from msgpt.training.precision import autocast, check_name, check_precision

logger = logging.getLogger(__name__)

#: ``TrainingArguments.optim`` values served by msgpt's AdamW (the PyTorch AdamW update).
ADAMW_OPTIMS = frozenset({OptimizerNames.ADAMW_TORCH.value, OptimizerNames.ADAMW_TORCH_FUSED.value})

#: Where a checkpoint keeps the fp16 loss scale (``DynamicLossScale.state_dict``).
LOSS_SCALE_NAME = "loss_scale.json"

#: Torch ``DataLoader`` settings that have no meaning for a MindSpore pipeline.
_TORCH_LOADER_ARGS = ("dataloader_num_workers", "dataloader_drop_last", "group_by_length")


class MindSporeTrainer(Trainer):
    """``transformers.Trainer`` for mindtorch models and MindSpore datasets.

    Extra arguments: ``lm_coef`` (GPT-1's λ, default 0: classification loss only),
    ``body_lr_scale`` (the learning rate of every weight outside the head ``score``, as a
    multiple of the head's; default 1, 0 freezes the body),
    ``fused_optimizer`` (``False`` selects AdamW's per-tensor fallback), ``precision``
    (``"fp32"``, ``"fp16"`` or ``"bf16"``; default fp16 if the arguments say ``fp16=True``,
    else fp32) and ``loss_scale`` (fp16's ``DynamicLossScale``, MindFormers' defaults if
    not given). Data parallel when ``msgpt.init_distributed()`` has initialised several
    processes.
    """

    def __init__(self, *args: Any, lm_coef: float = 0.0, fused_optimizer: bool = True,
                 precision: str | None = None, loss_scale: DynamicLossScale | None = None,
                 body_lr_scale: float = 1.0, **kwargs: Any) -> None:
        if lm_coef < 0:
            raise ValueError(f"lm_coef must be >= 0, got {lm_coef}")
        if not body_lr_scale >= 0:
            raise ValueError(f"body_lr_scale must be >= 0, got {body_lr_scale}")
        self.lm_coef = float(lm_coef)
        self.body_lr_scale = float(body_lr_scale)
        self.fused_optimizer = fused_optimizer
        training_args = kwargs.get("args", args[1] if len(args) > 1 else None)
        #: "fp32", "fp16" or "bf16": the forward's compute precision.
        self.precision = _resolve_precision(precision, training_args)
        check_precision(self.precision)  # one line, before any work, where the device lacks kernels
        #: fp16's loss scale (None otherwise).
        self.loss_scale = (loss_scale or DynamicLossScale()) if self.precision == "fp16" else None
        self._scaled_grad_fn: Callable | None = None
        self._train_loader: MindSporeLoader | None = None
        self.distributed = distributed_info()
        #: Seconds spent averaging gradients across ranks (0 for a single process).
        self.communication_time_s = 0.0
        # Before HF's __init__, which already asks whether this is process 0.
        install_rank_aware_state(training_args, self.distributed)
        super().__init__(*args, **kwargs)
        install_rank_aware_state(self.args, self.distributed)
        _check_validation_data(self.args, self.train_dataset, self.eval_dataset)
        yield_to_kernel_threads()  # CPU: this thread's busy-wait leaves the cores to the kernels

    # -- data -----------------------------------------------------------------------
    def _loader(self, dataset: Any, batch_size: int, what: str, reshuffle: bool) -> MindSporeLoader:
        loader = MindSporeLoader(dataset, reshuffle=reshuffle, columns=self._model_columns())
        ignored = [name for name in _TORCH_LOADER_ARGS if getattr(self.args, name)]
        if ignored:
            logger.warning(
                "%s ignored for MindSpore datasets: workers, batching and order are the pipeline's",
                ", ".join(ignored),
            )
        if loader.batch_size != batch_size:
            # The pipeline batches; the argument only feeds the Trainer's bookkeeping
            # (logged batch size, samples/s), so say when the two differ.
            logger.warning(
                "%s dataset is batched by %d, TrainingArguments say %d; the dataset's batches are used",
                what, loader.batch_size, batch_size,
            )
        return loader

    def _model_columns(self) -> list[str] | None:
        if not self.args.remove_unused_columns:
            return None
        self._set_signature_columns_if_needed()
        return list(self._signature_columns)

    def get_train_dataloader(self):
        """A ``MindSporeLoader`` (kept across epochs) for a MindSpore train dataset."""
        if not is_mindspore_dataset(self.train_dataset):
            return super().get_train_dataloader()
        if self._train_loader is None or self._train_loader.ms_dataset is not self.train_dataset:
            self._train_loader = self._loader(
                self.train_dataset, self._train_batch_size, "train", reshuffle=True
            )
        return self._train_loader

    def get_eval_dataloader(self, eval_dataset: Any = None):
        """A ``MindSporeLoader`` for a MindSpore eval dataset (or a name in a dict of them)."""
        if isinstance(eval_dataset, str):
            dataset = self.eval_dataset[eval_dataset]
        else:
            dataset = eval_dataset if eval_dataset is not None else self.eval_dataset
        if dataset is None:
            raise ValueError("Trainer: evaluation requires an eval_dataset.")
        if not is_mindspore_dataset(dataset):
            return super().get_eval_dataloader(eval_dataset)
        return self._loader(dataset, self.args.eval_batch_size, "eval", reshuffle=False)

    def get_test_dataloader(self, test_dataset: Any):
        """A ``MindSporeLoader`` for a MindSpore test dataset."""
        if not is_mindspore_dataset(test_dataset):
            return super().get_test_dataloader(test_dataset)
        return self._loader(test_dataset, self.args.eval_batch_size, "test", reshuffle=False)

    def num_examples(self, dataloader: Any) -> int:
        """Examples per epoch; for a ``MindSporeLoader``, batches × batch size.

        In data-parallel training, over all ranks (as HF counts the whole dataset).
        """
        if isinstance(dataloader, EvalShard):
            return dataloader.num_examples
        if isinstance(dataloader, MindSporeLoader):
            if dataloader is self._train_loader:
                return dataloader.num_examples * self.distributed.world_size
            return dataloader.num_examples
        return super().num_examples(dataloader)

    def get_total_train_batch_size(self, args: TrainingArguments) -> int:
        """Examples per optimizer step, over all data-parallel ranks."""
        return super().get_total_train_batch_size(args) * self.distributed.world_size

    # -- data parallel --------------------------------------------------------------
    def training_step(self, model: torch.nn.Module, inputs: dict[str, Any], num_items_in_batch: Any = None):
        """mindnlp's step (forward + backward); then, on an update step, the gradients
        averaged across ranks, before HF clips them and the optimizer steps."""
        if self.loss_scale is None:
            loss = super().training_step(model, inputs, num_items_in_batch)
        else:
            loss = self._scaled_training_step(model, inputs, num_items_in_batch)
        # HF sets sync_gradients before each micro-batch: True only on the one that
        # ends a gradient-accumulation cycle, so accumulated gradients go out once.
        if self.distributed.enabled and self.accelerator.sync_gradients:
            start = time.perf_counter()
            all_reduce_gradients(self.model.parameters())
            self.communication_time_s += time.perf_counter() - start
        if self.loss_scale is not None and self.accelerator.sync_gradients:
            # Every rank holds the same summed gradients here, so all take the same verdict.
            finite = self.loss_scale.unscale_and_check(self.model.parameters())
            # accelerate's own flag for "the scaler skipped this update" (its scaler path sets
            # it): HF then leaves the LR scheduler where it is, as with PyTorch's GradScaler.
            self.optimizer._is_overflow = not finite
        return loss

    def _scaled_training_step(self, model: torch.nn.Module, inputs: dict[str, Any], num_items_in_batch: Any):
        """mindnlp's ``training_step`` (msgpt.backend's Trainer) with the loss times the fp16
        loss scale differentiated; returns the unscaled loss, as mindnlp's does."""
        model.train()
        if hasattr(self.optimizer, "train") and callable(self.optimizer.train):
            self.optimizer.train()
        inputs = self._prepare_inputs(inputs)
        if self._scaled_grad_fn is None:
            from mindtorch.autograd import value_and_grad

            def forward(inputs: dict[str, Any], num_items_in_batch: Any, scale: float):
                with self.compute_loss_context_manager():
                    loss = self.compute_loss(model, inputs, num_items_in_batch=num_items_in_batch)
                # mindnlp's normalisation for gradient accumulation, unchanged.
                per_item = self.model_accepts_loss_kwargs and num_items_in_batch is not None
                if not per_item and self.compute_loss_func is None:
                    loss = loss / self.current_gradient_accumulation_steps
                differentiated = loss / self.accelerator.gradient_accumulation_steps
                return differentiated * scale, loss

            self._scaled_grad_fn = value_and_grad(forward, model.trainable_params(), has_aux=True)
        _, (loss,) = self._scaled_grad_fn(inputs, num_items_in_batch, self.loss_scale.scale)
        return loss

    def autocast_smart_context_manager(self, cache_enabled: bool | None = True):
        """The forward's autocast for ``precision`` (training and evaluation alike)."""
        if self.precision == "fp32":
            return super().autocast_smart_context_manager(cache_enabled)
        device_type = next(self.model.parameters()).device.type
        return autocast(self.precision, device_type)

    def precision_summary(self) -> dict[str, Any]:
        """What metrics.json says of the precision: its name and, for fp16, the final loss
        scale and the updates skipped for inf/NaN gradients."""
        summary: dict[str, Any] = {"precision": self.precision}
        if self.loss_scale is not None:
            summary.update(loss_scale=self.loss_scale.scale, skipped_steps=self.loss_scale.skipped_steps)
        return summary

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        """HF's log, with fp16's loss scale and skipped updates beside each training loss."""
        if self.loss_scale is not None and ("loss" in logs or "train_loss" in logs):
            logs = {**logs, "loss_scale": self.loss_scale.scale, "skipped_steps": self.loss_scale.skipped_steps}
        super().log(logs, start_time)

    def _nested_gather(self, tensors: Any, name: str | None = None):
        """Every rank's value (HF averages the logged training loss with it)."""
        if not self.distributed.enabled or not isinstance(tensors, torch.Tensor):
            return super()._nested_gather(tensors, name)
        parts = all_gather_arrays(tensors.detach().cpu().numpy())
        return torch.from_numpy(np.stack(parts)).to(tensors.device)

    def evaluation_loop(self, dataloader: Any, description: str, prediction_loss_only: bool | None = None,
                        ignore_keys: list[str] | None = None, metric_key_prefix: str = "eval"):
        """HF's loop; data parallel, each rank runs whole batches and HF's per-batch
        ``gather_function`` collects them back in order, so every rank ends with the
        predictions, labels and metrics a single process computes."""
        if not (self.distributed.enabled and isinstance(dataloader, MindSporeLoader)):
            return super().evaluation_loop(
                dataloader, description, prediction_loss_only, ignore_keys, metric_key_prefix
            )
        shard = EvalShard(dataloader, self.distributed.rank, self.distributed.world_size)
        self.gather_function = functools.partial(gather_rows, shard=shard)
        try:
            return super().evaluation_loop(shard, description, prediction_loss_only, ignore_keys, metric_key_prefix)
        finally:
            self.gather_function = self.accelerator.gather_for_metrics

    # -- optimisation ---------------------------------------------------------------
    def create_optimizer(self):
        """msgpt's AdamW (works on every backend) for the AdamW ``optim`` choices."""
        if self.optimizer is not None:
            return self.optimizer
        if self.optimizer_cls_and_kwargs is not None or self.args.optim not in ADAMW_OPTIMS:
            return super().create_optimizer()
        args = self.args
        groups = decay_parameter_groups(
            self.model, args.weight_decay, self.get_decay_parameter_names(self.model)
        )
        groups = scale_body_rate(groups, self.model, args.learning_rate, self.body_lr_scale)
        self.optimizer = AdamW(
            groups,
            lr=args.learning_rate,
            betas=(args.adam_beta1, args.adam_beta2),
            eps=args.adam_epsilon,
            weight_decay=args.weight_decay,
            fused=self.fused_optimizer,
        )
        return self.optimizer

    def create_accelerator_and_postprocess(self) -> None:
        """HF's accelerator, with gradient clipping that works on every backend."""
        super().create_accelerator_and_postprocess()
        install_clip_grad_norm(self.accelerator)

    # -- checkpoints ----------------------------------------------------------------
    def train(self, resume_from_checkpoint: str | bool | None = None, trial: Any = None,
              ignore_keys_for_eval: list[str] | None = None, **kwargs: Any):
        """HF's ``train``; a resumed run over a MindSpore dataset skips what it had seen.

        HF skips the batches of a resumed epoch with accelerate's ``skip_first_batches``,
        which needs a torch ``DataLoader``. Here the train loader skips them itself (and
        replays the earlier epochs' shuffles, so the run continues exactly), and HF's
        skipping is turned off for this call (``ignore_data_skip``).
        """
        # One start for all ranks: rank 0's weights (a resumed run then loads the same
        # checkpoint everywhere).
        broadcast_parameters(self.model)
        checkpoint = resume_from_checkpoint
        if checkpoint is True:
            checkpoint = newest_sound_checkpoint(self.args.output_dir)
            if self.distributed.enabled:
                checkpoint = broadcast_object(checkpoint)
        state_file = os.path.join(checkpoint, TRAINER_STATE_NAME) if isinstance(checkpoint, str) else None
        if (
            state_file is None
            or not os.path.isfile(state_file)
            or self.args.ignore_data_skip
            or not is_mindspore_dataset(self.train_dataset)
        ):
            return super().train(resume_from_checkpoint, trial, ignore_keys_for_eval, **kwargs)
        steps_done = TrainerState.load_from_json(state_file).global_step
        loader = self.get_train_dataloader()
        accumulation = self.args.gradient_accumulation_steps
        updates_per_epoch = max(-(-len(loader) // accumulation), 1)
        epochs_done, updates_in_epoch = divmod(steps_done, updates_per_epoch)
        loader.skip_batches(epochs_done * len(loader) + updates_in_epoch * accumulation)
        self.args.ignore_data_skip = True
        try:
            return super().train(checkpoint, trial, ignore_keys_for_eval, **kwargs)
        finally:
            self.args.ignore_data_skip = False

    def _save_checkpoint(self, model: Any, trial: Any) -> None:
        """HF's checkpoint, written to a hidden staging folder and renamed into place.

        HF writes ``checkpoint-N`` file by file; a run killed meanwhile would leave a
        half-written folder that ``--resume`` (``get_last_checkpoint``) then picks. Here
        ``checkpoint-N`` appears whole or not at all. Data parallel, rank 0 alone writes
        it (all ranks hold the same weights and optimizer state) and the others wait,
        then take rank 0's word on which checkpoint is the best.
        """
        if self.distributed.enabled:
            if self.distributed.is_main:
                self._save_checkpoint_whole(model, trial)
            self.state.best_model_checkpoint = broadcast_object(self.state.best_model_checkpoint)
            return
        self._save_checkpoint_whole(model, trial)

    def _save_checkpoint_whole(self, model: Any, trial: Any) -> None:
        run_dir = Path(self._get_output_dir(trial=trial))
        name = f"{PREFIX_CHECKPOINT_DIR}-{self.state.global_step}"
        for leftover in run_dir.glob(".staging-*"):  # from a run killed while saving
            shutil.rmtree(leftover, ignore_errors=True)
        staging = run_dir / f".staging-{name}"
        staging.mkdir(parents=True)
        self._get_output_dir = lambda trial=None: str(staging)  # where HF puts checkpoint-N
        try:
            super()._save_checkpoint(model, trial)
        finally:
            del self._get_output_dir
        if self.loss_scale is not None:
            (staging / name / LOSS_SCALE_NAME).write_text(json.dumps(self.loss_scale.state_dict()) + "\n")
        # HF pointed the best checkpoint at the staging folder when it is this one.
        if self.state.best_model_checkpoint and Path(self.state.best_model_checkpoint).parent == staging:
            self.state.best_model_checkpoint = str(run_dir / Path(self.state.best_model_checkpoint).name)
            self.state.save_to_json(str(staging / name / TRAINER_STATE_NAME))
        final = run_dir / name
        if final.exists():  # written by an earlier, interrupted run of the same steps
            shutil.rmtree(final)
        os.replace(staging / name, final)
        staging.rmdir()
        self._rotate_checkpoints(use_mtime=True, output_dir=str(run_dir))

    def _load_from_checkpoint(self, resume_from_checkpoint: str, model: Any = None) -> None:
        # Private HF hook, the one place resume_from_checkpoint reads the weights.
        with patched_safetensors_load_file():
            super()._load_from_checkpoint(resume_from_checkpoint, model)
        scale_file = Path(resume_from_checkpoint) / LOSS_SCALE_NAME
        if self.loss_scale is not None and scale_file.is_file():
            self.loss_scale.load_state_dict(json.loads(scale_file.read_text()))

    def _load_best_model(self) -> None:
        # Private HF hook, the one place load_best_model_at_end reads the weights.
        # Data parallel: rank 0 reads them and hands them on (no other rank needs the files).
        if not self.distributed.is_main:
            broadcast_parameters(self.model)
            return
        with patched_safetensors_load_file():
            super()._load_best_model()
        broadcast_parameters(self.model)

    def _load_rng_state(self, checkpoint: str | None) -> None:
        # Private HF hook that restores the RNG states of a resumed run.
        with patched_safe_globals():
            super()._load_rng_state(checkpoint)

    # -- loss -----------------------------------------------------------------------
    def compute_loss(
        self,
        model: torch.nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: Any = None,
    ):
        """Classification loss, plus ``lm_coef`` × the LM loss of the same forward pass."""
        if not self.lm_coef or "labels" not in inputs:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        outputs = model(**inputs, output_hidden_states=True)
        lm = lm_loss_of_model(self.accelerator.unwrap_model(model), outputs.hidden_states[-1], inputs)
        loss = outputs.loss + self.lm_coef * lm
        if not return_outputs:
            return loss
        # Without the hidden states, which prediction_step would collect as predictions.
        return loss, type(outputs)(loss=loss, logits=outputs.logits)


def _resolve_precision(precision: str | None, args: TrainingArguments | None) -> str:
    """``precision``, or fp16 where HF's arguments ask for it; HF's flag is then turned off,
    so that accelerate builds no mindtorch ``GradScaler`` of its own (it cannot unscale)."""
    if precision is not None:
        check_name(precision)
    if args is None or not args.fp16:
        return precision or "fp32"
    if precision not in (None, "fp16"):
        raise ValueError(f"precision={precision!r} disagrees with TrainingArguments(fp16=True)")
    args.fp16 = False
    return "fp16"


def _check_validation_data(args: TrainingArguments, train_dataset: Any, eval_dataset: Any) -> None:
    """Refuse to choose the best model on the training data."""
    if not (args.load_best_model_at_end or args.metric_for_best_model) or train_dataset is None:
        return
    candidates = eval_dataset.values() if isinstance(eval_dataset, Mapping) else [eval_dataset]
    if any(candidate is train_dataset for candidate in candidates):
        raise ValueError(
            "eval_dataset is the training dataset: the best model must be chosen on validation data"
        )


def training_arguments(output_dir: str, **overrides: Any) -> TrainingArguments:
    """``TrainingArguments`` with GPT-1's fine-tuning recipe as defaults.

    Adam at 6.25e-5, batch 32, 3 epochs, linear warm-up over 0.2% of the steps then
    linear decay, weight decay 0.01 (not on biases / LayerNorm), gradient clipping at
    1.0; evaluated and saved each epoch, best model by validation accuracy, no
    reporting integrations. ``overrides`` replace any of them.
    """
    settings: dict[str, Any] = dict(
        learning_rate=6.25e-5,
        per_device_train_batch_size=32,
        per_device_eval_batch_size=32,
        num_train_epochs=3,
        lr_scheduler_type="linear",
        warmup_ratio=0.002,
        weight_decay=0.01,
        max_grad_norm=1.0,
        optim=OptimizerNames.ADAMW_TORCH.value,
        eval_strategy="epoch",
        save_strategy="epoch",
        load_best_model_at_end=True,
        metric_for_best_model="accuracy",
        greater_is_better=True,
        save_total_limit=2,
        logging_strategy="steps",
        logging_steps=50,
        # The NaN/inf filter reads the loss back every step (a host sync); logging it
        # every logging_steps is enough to see a divergence.
        logging_nan_inf_filter=False,
        report_to="none",
    )
    settings.update(overrides)
    return TrainingArguments(output_dir=output_dir, **settings)


def make_trainer(
    model: torch.nn.Module,
    tokenizer: Any,
    train_dataset: Any,
    eval_dataset: Any,
    args: TrainingArguments,
    *,
    lm_coef: float = 0.0,
    compute_metrics: Callable[[Any], dict[str, float]] | None = default_compute_metrics,
    callbacks: list[Any] | None = None,
    fused_optimizer: bool = True,
    early_stopping_patience: int | None = None,
    precision: str | None = None,
    body_lr_scale: float = 1.0,
) -> MindSporeTrainer:
    """A ``MindSporeTrainer`` for a GPT-1 classifier on MindSpore datasets.

    ``train_dataset``/``eval_dataset`` are batched MindSpore datasets (columns
    ``input_ids`` and ``attention_mask``, ``[batch, seq]`` or, for the similarity and
    multiple-choice models, ``[batch, S, seq]``; ``labels`` ``[batch]``);
    ``eval_dataset`` must be validation data, never the training set. ``tokenizer`` is
    saved with each checkpoint.
    ``early_stopping_patience=N`` stops training once the validation metric
    (``args.metric_for_best_model``, accuracy by default) has not improved for N
    evaluations; the best model is loaded at the end (``msgpt.training.early_stopping``).
    ``precision`` is ``"fp32"`` (default), ``"fp16"`` (autocast with dynamic loss scaling)
    or ``"bf16"`` (autocast, unscaled); a device without kernels for it is refused at once.
    ``body_lr_scale`` sets the pre-trained body's learning rate as a multiple of the
    head's (``args.learning_rate``): 0.1 keeps it near its weights, 0 freezes it.
    """
    if early_stopping_patience is not None:
        callbacks = [*(callbacks or []), early_stopping_callback(early_stopping_patience, args)]
    return MindSporeTrainer(
        model=model,
        args=args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        processing_class=tokenizer,
        compute_metrics=compute_metrics,
        callbacks=callbacks,
        lm_coef=lm_coef,
        fused_optimizer=fused_optimizer,
        precision=precision,
        body_lr_scale=body_lr_scale,
    )
