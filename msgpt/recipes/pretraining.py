"""GPT-1's first stage: causal language-model pre-training on unlabelled text.

``pretrain`` packs the documents into full blocks (``msgpt.data.pack_texts``), trains an
``OpenAIGPTLMHeadModel`` through msgpt's Trainer stack (AdamW, warm-up + linear decay,
clipping, one checkpoint per epoch, ``resume``, data parallel under ``msrun``), reports
the held-out loss and perplexity each epoch, and leaves in ``output_dir``:

* ``best/``: the model with the lowest held-out loss, in the hub's ``openai-gpt`` layout
  (``msgpt.save_language_model``), ready for ``recipes/imdb.py --model output_dir/best``;
* ``metrics.json``: the figures of the run, ``training_curves.png``, ``checkpoint-*/``.

``save_untrained`` is the first stage without its training: the vocabulary learnt from the
text and the model as initialised, the start that pays with few labels at the demo's size
(docs/experiments.md, "Label efficiency").

``recipes/pretrain.py`` is its command line; ``recipes/imdb.py --demo`` runs it on the
training reviews before fine-tuning.
"""

from __future__ import annotations

import logging
import math
import os
import time
from pathlib import Path
from typing import Any, Sequence

import msgpt.backend  # noqa: F401  (mindnlp before transformers)

import numpy as np
from transformers import OpenAIGPTLMHeadModel, PreTrainedTokenizerBase

from msgpt.data.packing import lm_dataset, pack_texts
from msgpt.models.language_model import document_separator_id, save_language_model
from msgpt.recipes.report import epoch_history, plot_training_curves, write_metrics
from msgpt.runtime.distributed import barrier, is_main_process
from msgpt.training import MindSporeTrainer
from msgpt.training.early_stopping import early_stopping_callback, early_stopping_summary
from msgpt.training.lm_loss import lm_loss

logger = logging.getLogger(__name__)

#: What the saved model is called inside ``output_dir``.
BEST = "best"


def check_block_size(model: OpenAIGPTLMHeadModel, block_size: int) -> int:
    """``block_size`` if the model has a position for every token of a block, else a ValueError."""
    positions = model.config.n_positions
    if isinstance(block_size, bool) or not isinstance(block_size, int) or block_size < 2:
        raise ValueError(f"block size must be an integer >= 2, got {block_size!r}")
    if block_size > positions:
        raise ValueError(f"block size {block_size} is above the model's {positions} positions (config.n_positions)")
    return block_size


def perplexity(loss: float) -> float:
    """``exp(loss)``, the perplexity of a mean next-token loss in nats (inf on overflow)."""
    try:
        return math.exp(loss)
    except OverflowError:
        return math.inf


class LanguageModelTrainer(MindSporeTrainer):
    """``MindSporeTrainer`` whose loss is ``msgpt.training.lm_loss`` of the transformer's
    last hidden state through the tied head: the mean next-token loss HF's
    ``OpenAIGPTLMHeadModel`` computes from ``labels`` (the blocks' own ids), without
    materialising the ``(rows, vocab)`` logits op by op (one compiled graph on the CPU)."""

    def compute_loss(self, model: Any, inputs: dict[str, Any], return_outputs: bool = False,
                     num_items_in_batch: Any = None):
        lm = self.accelerator.unwrap_model(model)
        ids, mask = inputs["input_ids"], inputs.get("attention_mask")
        hidden = lm.transformer(input_ids=ids, attention_mask=mask)[0]
        loss = lm_loss(hidden, lm.get_output_embeddings().weight, ids, mask)
        return (loss, {"loss": loss}) if return_outputs else loss


def lm_trainer(
    model: OpenAIGPTLMHeadModel,
    tokenizer: PreTrainedTokenizerBase,
    train_blocks: np.ndarray,
    held_out_blocks: np.ndarray,
    output_dir: str | os.PathLike,
    *,
    batch_size: int,
    seed: int = 42,
    early_stopping_patience: int | None = None,
    precision: str = "fp32",
    **training_arguments: Any,
) -> MindSporeTrainer:
    """A ``MindSporeTrainer`` for language modelling on packed blocks (``pack_texts``).

    The training blocks are shuffled every epoch and split across ``msrun`` ranks; the
    held-out ones give ``eval_loss`` (the best epoch is the lowest). The loss is the
    model's own mean next-token loss of each batch: HF's Trainer would divide the summed
    loss by the number of labels, one per token, where a row of T tokens has T - 1
    targets, which makes every loss (T - 1) / T of the mean. ``early_stopping_patience=N``
    stops once the held-out loss has not improved for N evaluations. ``precision``: as
    ``make_trainer``'s.
    """
    from msgpt.training import training_arguments as make_arguments

    settings: dict[str, Any] = dict(
        per_device_train_batch_size=batch_size, per_device_eval_batch_size=batch_size, seed=seed,
        data_seed=seed, metric_for_best_model="loss", greater_is_better=False, prediction_loss_only=True,
    )
    settings.update(training_arguments)
    args = make_arguments(str(output_dir), **settings)
    callbacks = None if early_stopping_patience is None else [early_stopping_callback(early_stopping_patience, args)]
    trainer = LanguageModelTrainer(
        model=model, args=args, callbacks=callbacks,
        train_dataset=lm_dataset(train_blocks, batch_size=batch_size, shuffle=True, seed=seed, drop_remainder=True),
        eval_dataset=lm_dataset(held_out_blocks, batch_size=batch_size, num_shards=1, shard_id=0),
        processing_class=tokenizer, precision=precision,
    )
    trainer.model_accepts_loss_kwargs = False  # the mean of each batch (see above)
    return trainer


def pretrain(
    model: OpenAIGPTLMHeadModel,
    tokenizer: PreTrainedTokenizerBase,
    train_texts: Sequence[str],
    held_out_texts: Sequence[str],
    output_dir: str | os.PathLike,
    *,
    block_size: int = 512,
    batch_size: int = 64,
    epochs: float = 1.0,
    learning_rate: float = 2.5e-4,
    warmup_ratio: float = 0.01,
    weight_decay: float = 0.01,
    max_steps: int = -1,
    seed: int = 42,
    resume: bool = False,
    logging_steps: int = 10,
    early_stopping_patience: int | None = None,
    precision: str = "fp32",
    extra_metrics: dict[str, Any] | None = None,
    **training_overrides: Any,
) -> dict[str, Any]:
    """Pre-train ``model`` on ``train_texts``; returns the figures written to metrics.json.

    ``held_out_texts`` give the validation loss and perplexity after each epoch (the
    best epoch is kept); they are never trained on. ``extra_metrics`` (what the text and
    model were, for example) head metrics.json. Defaults are GPT-1's pre-training
    (Adam at 2.5e-4, weight decay 0.01, 512-token blocks of 64) but for the schedule:
    HF's linear decay after the warm-up, where the paper anneals with a cosine
    (``lr_scheduler_type="cosine"`` in ``training_overrides`` gives it).
    ``early_stopping_patience=N`` stops once the held-out loss has not improved for N
    evaluations (``metrics["early_stopping"]`` says where). ``precision`` is ``"fp32"``,
    ``"fp16"`` (with dynamic loss scaling) or ``"bf16"``, as ``make_trainer``'s.
    """
    from msgpt.recipes.cli import last_checkpoint

    check_block_size(model, block_size)
    out = Path(output_dir)
    separator = document_separator_id(tokenizer)
    start = time.perf_counter()
    train_blocks = pack_texts(train_texts, tokenizer, block_size=block_size, separator_id=separator)
    held_out_blocks = pack_texts(held_out_texts, tokenizer, block_size=block_size, separator_id=separator)
    logger.info(
        "pre-training on %d blocks of %d tokens (%d documents), held out %d blocks (%d documents); packed in %.1f s",
        len(train_blocks), block_size, len(train_texts), len(held_out_blocks), len(held_out_texts),
        time.perf_counter() - start,
    )
    trainer = lm_trainer(
        model, tokenizer, train_blocks, held_out_blocks, out, batch_size=batch_size, seed=seed,
        num_train_epochs=epochs, learning_rate=learning_rate, warmup_ratio=warmup_ratio,
        weight_decay=weight_decay, max_steps=max_steps, logging_steps=logging_steps,
        early_stopping_patience=early_stopping_patience, precision=precision, **training_overrides,
    )
    checkpoint = last_checkpoint(out) if resume else None
    started = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=checkpoint)
    train_time = time.perf_counter() - started
    history = list(trainer.state.log_history)
    stopping = early_stopping_summary(trainer)  # before evaluate() below, which the callback would count
    final = trainer.evaluate()  # the model kept: the best epoch's, loaded back at the end
    epochs_rows = epoch_history(history)
    for row in epochs_rows:
        if "eval_loss" in row:
            row["eval_perplexity"] = perplexity(row["eval_loss"])
    world_size = trainer.distributed.world_size
    metrics: dict[str, Any] = {
        **(extra_metrics or {}),
        "model_config": {
            k: getattr(model.config, k) for k in ("vocab_size", "n_positions", "n_embd", "n_layer", "n_head")
        },
        "block_size": block_size,
        "document_separator": None if separator is None else tokenizer.convert_ids_to_tokens(separator),
        "train_documents": len(train_texts), "train_blocks": len(train_blocks),
        "train_tokens": int(train_blocks.size),
        "held_out_documents": len(held_out_texts), "held_out_blocks": len(held_out_blocks),
        "world_size": world_size, "global_batch_size": batch_size * world_size,
        "train_time_s": round(train_time, 1),
        "train_tokens_per_second": round(result.metrics.get("train_samples_per_second", 0.0) * block_size, 1),
        "train_loss": result.metrics.get("train_loss"),
        "validation_loss": final["eval_loss"],
        "validation_perplexity": perplexity(final["eval_loss"]),
        "best_checkpoint": trainer.state.best_model_checkpoint,
        "epochs": epochs_rows,
        **trainer.precision_summary(),
    }
    if stopping is not None:
        metrics["early_stopping"] = stopping
    if is_main_process():
        save_language_model(trainer.model, tokenizer, out / BEST)
        plot_training_curves(out / "training_curves.png", history)
        write_metrics(out / "metrics.json", metrics)
    barrier()  # under msrun, no rank reads best/ before rank 0 has written it
    logger.info(
        "pre-training done in %.0f s: validation loss %.3f, perplexity %.1f; model in %s",
        train_time, metrics["validation_loss"], metrics["validation_perplexity"], out / BEST,
    )
    return metrics


def save_untrained(
    model: OpenAIGPTLMHeadModel,
    tokenizer: PreTrainedTokenizerBase,
    train_texts: Sequence[str],
    output_dir: str | os.PathLike,
    *,
    extra_metrics: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``model`` as initialised and ``tokenizer`` (learnt from ``train_texts``) in
    ``output_dir/best``, as ``pretrain`` leaves a trained one, with a metrics.json that says
    no step was taken (no held-out perplexity); returns those metrics."""
    out = Path(output_dir)
    metrics: dict[str, Any] = {
        **(extra_metrics or {}),
        "model_config": {
            k: getattr(model.config, k) for k in ("vocab_size", "n_positions", "n_embd", "n_layer", "n_head")
        },
        "train_documents": len(train_texts), "train_steps": 0, "validation_perplexity": None,
    }
    if is_main_process():
        save_language_model(model, tokenizer, out / BEST)
        write_metrics(out / "metrics.json", metrics)
    barrier()
    logger.info("no pre-training: vocabulary of %d tokens and the initialised model in %s", len(tokenizer), out / BEST)
    return metrics
