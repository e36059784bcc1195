"""What the recipe tests share: running a recipe (as a process or in this one) and
writing reviews a tiny model can learn. At tests/' top so that every test folder reads it."""

from __future__ import annotations

import csv
import importlib.util
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import make_texts

RECIPES = Path(__file__).resolve().parents[1] / "recipes"
RECIPE = RECIPES / "imdb.py"
POSITIVE = "great wonderful loved funny good".split()
NEGATIVE = "awful terrible hated boring bad".split()


ENV = {**os.environ, "DEVICE_TARGET": "CPU", "HF_HUB_OFFLINE": "1"}  # tests never use the network


def run_recipe(*args: str, timeout: int = 600, recipe: Path = RECIPE) -> subprocess.CompletedProcess:
    """A recipe (recipes/imdb.py unless told) as a process of its own, offline, on the CPU."""
    return subprocess.run(
        [sys.executable, str(recipe), *args], capture_output=True, text=True, timeout=timeout, env=ENV
    )


def run_recipe_in_process(*args: str, capsys, recipe: Path = RECIPE) -> subprocess.CompletedProcess:
    """``run_recipe`` without starting an interpreter: the recipe's ``main`` in this process
    (mindnlp already imported, on the CPU as conftest chose), offline as ``ENV`` makes a
    subprocess; exit status and output as ``run_recipe`` gives them. For the tests that
    are about what a run does, not about the process (its start-up, signals, msrun)."""
    import datasets
    import huggingface_hub.constants

    spec = importlib.util.spec_from_file_location(f"recipe_{recipe.stem}", recipe)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
        patch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
        # The recipe's logging.basicConfig configures the root logger when it has no handler
        # (pytest's logging plugin off): put it back as it was for the next tests.
        patch.setattr(logging.root, "handlers", list(logging.root.handlers))
        patch.setattr(logging.root, "level", logging.root.level)
        try:
            code = module.main([*args, "--device", "CPU"])
        except SystemExit as exit:  # argparse's errors
            code = exit.code
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess([recipe.name, *args], code, out, err)


def write_reviews(path: Path, n: int, seed: int = 0, *, text_column="text", label_column="label") -> Path:
    """Reviews whose label follows from their words, so that a tiny model can learn it."""
    rows = []
    for i, filler in enumerate(make_texts(n, seed=seed, max_words=10)):
        label = i % 2
        words = (POSITIVE if label else NEGATIVE)
        cue = " ".join(words[(i + k) % 5] for k in range(3))
        rows.append({text_column: f"{filler} {cue}", label_column: label})
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=[text_column, label_column])
        writer.writeheader()
        writer.writerows(rows)
    return path


TINY = ["--model", "scratch", "--epochs", "2", "--batch-size", "8", "--max-seq-len", "32",
        "--lr", "3e-3", "--train-fraction", "1", "--val-fraction", "0.25", "--seed", "3"]


def _assert_one_line_error(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("imdb.py: error:"), result.stderr[-2000:]
    for needle in needles:
        assert needle in last, last
