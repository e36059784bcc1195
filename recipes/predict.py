#!/usr/bin/env python
"""Label texts with a trained classifier (a best/ folder of recipes/imdb.py, or save_pretrained).

  python recipes/predict.py --model runs/imdb-demo/best --data new_reviews.txt      one text per line
  python recipes/predict.py --model runs/imdb/best --data reviews.csv --text-column review
  python recipes/predict.py --model runs/imdb/best --data test.jsonl --output out/test.csv --overwrite
  python recipes/predict.py --model runs/classify-pair/best --data nli.csv --text-column premise \
      --text-pair-column hypothesis
  python recipes/predict.py --model runs/classify-choice/best --data story.csv --text-column context \
      --candidate-columns ending0,ending1 --label-column answer

Writes a CSV (default: <data name>.predictions.csv in the current folder): text, label
(when the data has a label column), prediction and one probability per class, classes by
name when the model was trained on names. With labels, accuracy and macro-F1 are printed
and written next to it (<output name>.metrics.json). An existing output is never replaced
without --overwrite. Texts are read at the length the model was trained at unless
--max-seq-len says otherwise, and a longer text as its recipe read it: its kept end, or
whole, in windows of that length (--windows/--no-windows override).

The model folder records its task (recipes/classify.py --task): a pair or similarity
model reads the second text of each row too (--text-pair-column, written as text_pair),
a multiple-choice model the candidates of each context (--candidate-columns, written
as candidate_0, ...; any number K >= 2, the same in every row, whatever K the model was
trained with); its label and prediction are a candidate's index, with prob_0 ...
prob_{K-1}. A .txt file holds single texts only.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from msgpt.recipes.cli import (
    OneLineParser,
    RecipeError,
    add_device_argument,
    add_input_columns,
    check_batch_and_length,
    check_input_columns,
    refuse_to_overwrite,
    run_main,
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse and check the command line, before anything heavy is imported."""
    parser = OneLineParser(
        prog="predict.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--model", required=True, help="a trained model folder (config.json, weights, vocab.json, merges.txt)")
    add("--data", required=True, help="texts: a .txt file (one per line) or a CSV/JSONL/parquet file")
    add_input_columns(parser)
    add("--output", help="predictions CSV (default: <data name>.predictions.csv in the current folder)")
    add("--overwrite", action="store_true", help="replace an existing output")
    add("--batch-size", type=int, default=32, help="texts per forward pass (default: 32)")
    add("--max-seq-len", type=int, help="tokens per text incl. <bos>/<eos> (default: the model's training length)")
    add("--windows", action=argparse.BooleanOptionalAction,
        help="read a text longer than the max length whole, as consecutive windows whose class probabilities "
        "are averaged (single texts; default: as the model's recipe did)")
    add_device_argument(parser)
    return parser.parse_checked(argv, _check)


def _check(args: argparse.Namespace) -> None:
    from msgpt.recipes.labelling import output_paths

    check_batch_and_length(args)
    check_input_columns(args)
    try:
        args.paths = output_paths(args.data, args.output)
    except ValueError as error:
        raise RecipeError(f"--output: {error}") from None


def run(args: argparse.Namespace) -> dict[str, Any]:
    from msgpt.recipes.labelling import label_file
    from msgpt.runtime.device import select_device

    refuse_to_overwrite([args.paths.predictions, args.paths.metrics], overwrite=args.overwrite)
    select_device(args.device)  # before label_file imports mindnlp
    return label_file(
        args.model, args.data, args.paths, text_column=args.text_column,
        label_column=args.label_column or "label", require_labels=args.label_column is not None,
        batch_size=args.batch_size, max_length=args.max_seq_len, windows=args.windows,
        text_pair_column=args.text_pair_column, candidate_columns=args.candidate_columns,
    )


def summary(result: dict[str, Any]) -> str:
    """The result line: where the predictions are and, with labels, how good they are."""
    read = f"windows of {result['max_seq_len']} tokens" if result["windows"] else f"max length {result['max_seq_len']}"
    line = f"labelled {result['examples']} texts at {read}; predictions in {result['predictions']}"
    if "accuracy" in result:
        line += f"; accuracy {result['accuracy']:.4f}, macro-F1 {result['f1']:.4f} (in {result['metrics']})"
    return line


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_main("predict.py", args.device, lambda: run(args), summary)


if __name__ == "__main__":
    sys.exit(main())
