#!/usr/bin/env python
"""Export a trained classifier to MindIR, for MindSpore Lite, MindIE or mindspore.load + nn.GraphCell.

  python recipes/export.py --model runs/imdb-demo/best                      writes runs/imdb-demo/best.mindir
  python recipes/export.py --model runs/imdb/best --output deploy/imdb.mindir --batch-size 8 --seq-len 256
  python recipes/export.py --model runs/imdb-demo/best --check reviews.txt  runs it with MindSpore alone
  python recipes/export.py --model runs/classify-pair/best --check nli.csv --text-column premise \
      --text-pair-column hypothesis

Writes three files side by side (none replaced without --overwrite):
  NAME.mindir           the model's inference forward as one graph, weights inside: inputs
                        input_ids and attention_mask, int32 [batch, seq] ([batch, S, seq] for
                        similarity and choice models), right-padded with <pad>; output logits
  NAME.json             the card: task, shapes, <pad>/<bos>/<eos>/<delim> ids, truncation side,
                        windows, label names
  NAME.tokenizer.json   the tokenizer (HF tokenizers), framing texts as msgpt does

The shape is fixed (Ascend's static shapes): --batch-size (default 1) and --seq-len
(default: the length the model was trained at). For several lengths, export once per
length. A LoRA folder is exported with its adapter merged into the weights; a choice
model's graph takes --candidates answers per question (default: as trained).

--check FILE runs the written files in a fresh process with mindspore, tokenizers and
numpy alone (msgpt/inference/mindir_service.py, which a service can copy as it is) on the
first --check-rows texts of FILE (.txt one per line, or CSV/JSONL/parquet columns as in
predict.py), and compares its probabilities with msgpt.predict's.
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
    check_input_columns,
    run_main,
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse and check the command line, before anything heavy is imported."""
    parser = OneLineParser(
        prog="export.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--model", required=True, help="a trained model folder (a best/ folder, save_pretrained, a LoRA folder)")
    add("--output", help="the MindIR file, ending in .mindir (default: <model folder>.mindir beside the folder)")
    add("--overwrite", action="store_true", help="replace existing output files")
    add("--batch-size", type=int, default=1, help="rows per call of the graph (default: 1)")
    add("--seq-len", type=int, help="tokens per sequence incl. <bos>/<eos> (default: the model's training length)")
    add("--candidates", type=int, help="choice models: answers per question (default: as the model was built)")
    add("--check", metavar="FILE", help="texts to run the exported files on with MindSpore alone")
    add("--check-rows", type=int, default=16, help="how many of --check's texts (default: 16)")
    add_input_columns(parser, labels=False)
    add_device_argument(parser)
    return parser.parse_checked(argv, _check)


def _check(args: argparse.Namespace) -> None:
    from msgpt.inference.mindir_service import export_paths  # light: no MindSpore
    from msgpt.recipes.exporting import default_output

    if args.batch_size < 1:
        raise RecipeError(f"--batch-size must be at least 1, got {args.batch_size}")
    if args.seq_len is not None and args.seq_len < 3:
        raise RecipeError(f"--seq-len must be at least 3 (<bos>, a token, <eos>), got {args.seq_len}")
    if args.candidates is not None and args.candidates < 2:
        raise RecipeError(f"--candidates must be at least 2, got {args.candidates}")
    if args.check_rows < 1:
        raise RecipeError(f"--check-rows must be at least 1, got {args.check_rows}")
    check_input_columns(args)
    args.output = args.output or str(default_output(args.model))
    try:
        args.paths = export_paths(args.output)
    except ValueError as error:
        raise RecipeError(f"--output: {error}") from None


def run(args: argparse.Namespace) -> dict[str, Any]:
    from msgpt.recipes.cli import refuse_to_overwrite
    from msgpt.runtime.device import select_device

    refuse_to_overwrite(list(args.paths), overwrite=args.overwrite)
    select_device(args.device)  # before export_folder imports mindnlp
    from msgpt.recipes.exporting import export_folder

    try:
        return export_folder(
            args.model, args.output, batch_size=args.batch_size, seq_len=args.seq_len, candidates=args.candidates,
            overwrite=args.overwrite, check_data=args.check, check_rows=args.check_rows,
            text_column=args.text_column, text_pair_column=args.text_pair_column,
            candidate_columns=args.candidate_columns,
        )
    except RuntimeError as error:  # a failed check: said in one line, exit status 2
        raise RecipeError(str(error)) from None


def summary(result: dict[str, Any]) -> str:
    """The result line: what was written, how big, how long, and the check."""
    shape = "x".join(str(n) for n in result["input_shape"])
    line = (f"exported {result['model']} ({result['task']}) to {result['mindir']}: int32 inputs {shape}, "
            f"{result['megabytes']:.1f} MB in {result['seconds']:.1f} s; card {result['card']}, "
            f"tokenizer {result['tokenizer']}")
    check = result["check"]
    if check is not None:
        line += (f"; checked with MindSpore alone on {check['examples']} texts: probabilities within "
                 f"{check['max_probability_difference']:.1e} of msgpt.predict's, labels agree")
    return line


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_main("export.py", args.device, lambda: run(args), summary)


if __name__ == "__main__":
    sys.exit(main())
