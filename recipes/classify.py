#!/usr/bin/env python
"""Fine-tune GPT-1 on a classification task in one of the paper's input forms (sec 3.3),
with MindSpore + mindnlp; report test accuracy.

  single      <bos> text <eos>                      one text, one label
  pair        <bos> text <delim> text_pair <eos>    entailment-like: the pair, one label
  similarity  both orders of the pair, their final <eos> states added: order-independent
  choice      <bos> context <delim> candidate_k <eos> for each candidate, softmax over them;
              the label is the right candidate's index

  python recipes/classify.py --data reviews.csv --text-column review --label-column sentiment
  python recipes/classify.py --task pair --data nli.jsonl --text-column premise \\
      --text-pair-column hypothesis --label-names entailment,neutral,contradiction
  python recipes/classify.py --task choice --data story.csv --text-column context \\
      --candidate-columns ending0,ending1 --label-column answer
  python recipes/classify.py --task pair --model scratch --data movie-reviews     offline, on a CPU
  python recipes/classify.py --eval-only --model runs/classify-pair/best --data more.csv ...

--text-column is the text (single), the first text (pair, similarity) or the context (choice).
--data is a CSV/JSONL/parquet file or a dataset folder with train and test splits, or
movie-reviews (offline, built from the IMDB reviews of the movie-reviews package).
--model scratch trains the offline demo's small GPT from scratch (as recipes/imdb.py --demo).
The options, outputs, resuming and errors are recipes/imdb.py's. Outputs in --output-dir
(default: runs/classify-<task>): checkpoint-*/, best/ (model + tokenizer), metrics.json,
predictions.csv, training_curves.png.
"""

from __future__ import annotations

import argparse
import sys

from msgpt.recipes import demo
from msgpt.recipes.classification import (  # light: nothing heavy is imported before the command line is checked
    EVAL_ONLY_NOTES,
    NAMED_DATA,
    PAIR_TASKS,
    TASKS,
    add_classification_arguments,
    describe_defaults,
    parse_classification_args,
    run_classification_main,
)
from msgpt.recipes.cli import OneLineParser, RecipeError, parse_columns

# A pre-trained GPT-1 (openai-gpt or a folder): the paper's fine-tuning settings (sec 4.1).
PRETRAINED = dict(
    model="openai-gpt", epochs=3.0, lr=6.25e-5, batch_size=32, max_seq_len=512, train_fraction=1.0,
    val_fraction=0.1, test_fraction=1.0, truncation="right", windows=False, padding="auto",
)
# --model scratch: the offline demo's small GPT, as recipes/imdb.py --demo trains it.
SCRATCH = dict(model="scratch", **demo.FINE_TUNING)
DEFAULTS_HELP = describe_defaults(
    {**PRETRAINED, "output_dir": "runs/classify-<task>"},
    {key: value for key, value in SCRATCH.items() if key != "model"},  # the model is what --model says
    other_name="scratch",
    notes={**EVAL_ONLY_NOTES, "windows": f"--task single only; {EVAL_ONLY_NOTES['windows']}"},
)


def build_parser() -> OneLineParser:
    """The command line: the task, its columns, and the shared classification options."""
    parser = OneLineParser(
        prog="classify.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--task", choices=TASKS, default="single", help="the input form (default: single)")
    add("--text-pair-column", help="pair, similarity: the second text's column of a data file")
    add("--candidate-columns",
        help="choice: the candidates' columns of a data file, comma-separated, or one column of lists")
    add("--num-candidates", type=int,
        help="choice: candidates per question (movie-reviews: 2 by default, one positive review among them; "
        "a data file must have this many)")
    add_classification_arguments(
        parser, defaults=DEFAULTS_HELP, data_required=True,
        data_help="a CSV/JSONL/parquet file, a dataset folder, or movie-reviews",
    )
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse and check the command line, before anything heavy is imported."""
    return parse_classification_args(build_parser(), argv, defaults, _check)


def defaults(args: argparse.Namespace) -> dict:
    """What is not given: the paper's settings, or the demo's for --model scratch (its
    windows only for single texts, the inputs they read)."""
    values = SCRATCH if args.model == "scratch" else PRETRAINED
    windows = values["windows"] and args.task == "single"
    return {**values, "windows": windows, "output_dir": f"runs/classify-{args.task}"}


def _check(args: argparse.Namespace) -> None:
    """The task's options: each only with the tasks that read it, and given where the data needs it."""
    task, from_file = args.task, args.data not in NAMED_DATA
    if args.text_pair_column is not None and task not in PAIR_TASKS:
        raise RecipeError(f"--text-pair-column is for --task pair or similarity, not --task {task}")
    for flag in ("candidate_columns", "num_candidates"):
        if getattr(args, flag) is not None and task != "choice":
            raise RecipeError(f"--{flag.replace('_', '-')} is for --task choice, not --task {task}")
    if task in PAIR_TASKS and from_file and args.text_pair_column is None:
        raise RecipeError(f"--task {task} reads two texts: give the second one's column with --text-pair-column")
    if task == "choice":
        if args.num_labels is not None or args.label_names is not None:
            raise RecipeError("--task choice scores its candidates (the label is the right one's index): "
                              "--num-labels and --label-names do not apply")
        if from_file and args.candidate_columns is None:
            raise RecipeError("--task choice needs --candidate-columns (comma-separated, or one column of lists)")
        if args.candidate_columns is not None:
            args.candidate_columns = parse_columns(args.candidate_columns)


def main(argv: list[str] | None = None) -> int:
    return run_classification_main("classify.py", parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
