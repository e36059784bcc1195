"""recipes/classify.py: a tiny single-text run through its command line, the task options'
checks, and the options it shares with recipes/imdb.py."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from test_recipe_cli import ENV, TINY, write_reviews

RECIPES = Path(__file__).resolve().parents[1] / "recipes"
ROOT = RECIPES.parent


def load_recipe(name: str):
    spec = importlib.util.spec_from_file_location(f"recipe_{name}", RECIPES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_single_task_trains_end_to_end_into_the_default_folder(tmp_path):
    data = write_reviews(tmp_path / "reviews.csv", 160)
    # From another folder: the default output is relative to where the recipe runs.
    env = {**ENV, "PYTHONPATH": os.pathsep.join([str(ROOT), ENV.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, str(RECIPES / "classify.py"), "--task", "single", *TINY,
                             "--data", str(data)], capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    out = tmp_path / "runs" / "classify-single"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["split_sizes"] == {"train": 96, "validation": 32, "test": 32}
    assert metrics["test_accuracy"] >= 0.75  # word-determined labels: a real run beats chance
    assert result.stdout.strip().splitlines()[-1] == (
        f"test accuracy {metrics['test_accuracy']:.4f}, macro-F1 {metrics['test_f1']:.4f} on 32 texts; "
        "results in runs/classify-single")
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-12", "checkpoint-24"]
    assert (out / "best" / "model.safetensors").is_file() and (out / "predictions.csv").is_file()


def _error(capsys, *args: str) -> str:
    """classify.py's main in this process: it must exit 2 with one error line, which is returned."""
    with pytest.raises(SystemExit) as exit:
        load_recipe("classify").main(list(args))
    assert exit.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("classify.py: error: "), lines
    return lines[0]


MR = ["--data", "movie-reviews"]


@pytest.mark.parametrize(
    "args, needle",
    [
        ([], "the following arguments are required: --data"),
        ([*MR, "--text-pair-column", "b"], "--text-pair-column is for --task pair or similarity, not --task single"),
        ([*MR, "--task", "choice", "--text-pair-column", "b", "--candidate-columns", "x,y"],
         "--text-pair-column is for --task pair or similarity, not --task choice"),
        ([*MR, "--task", "pair", "--text-pair-column", "b", "--candidate-columns", "x,y"],
         "--candidate-columns is for --task choice, not --task pair"),
        ([*MR, "--candidate-columns", "x,y"], "--candidate-columns is for --task choice, not --task single"),
        (["--task", "similarity", "--data", "FILE"], "--task similarity reads two texts: give the second one's column"),
        (["--task", "choice", "--data", "FILE"], "--task choice needs --candidate-columns"),
        ([*MR, "--task", "choice", "--candidate-columns", "x,y", "--label-names", "a,b"],
         "--num-labels and --label-names do not apply"),
        ([*MR, "--task", "choice", "--candidate-columns", "x, ,y"], "--candidate-columns 'x, ,y': a column name is empty"),
        ([*MR, "--task", "choice", "--candidate-columns", "x,y,x"], "--candidate-columns 'x,y,x': a column is named twice"),
        ([*MR, "--task", "triple"], "argument --task: invalid choice: 'triple'"),
        # The shared checks, said as imdb.py says them.
        ([*MR, "--lr=-1"], "--lr must be positive, got -1.0"),
        ([*MR, "--model", "scratch", "--max-seq-len", "600"], "--max-seq-len 600 is above the model's 512 positions"),
        ([*MR, "--eval-only", "--model", "openai-gpt"], "--eval-only needs --model to be a trained model folder"),
    ],
)
def test_options_that_do_not_fit_end_in_one_line(args, needle, capsys, tmp_path):
    args = [str(write_reviews(tmp_path / "reviews.csv", 8)) if arg == "FILE" else arg for arg in args]
    assert needle in _error(capsys, *args)


def test_candidate_columns_become_names():
    args = load_recipe("classify").parse_args(["--task", "choice", "--data", "movie-reviews",
                                               "--candidate-columns", "ending0, ending1,ending2"])
    assert args.candidate_columns == ("ending0", "ending1", "ending2")


def test_defaults_follow_the_task_and_the_model():
    classify = load_recipe("classify")
    paper = classify.parse_args(["--task", "pair", "--data", "movie-reviews"])
    assert (paper.output_dir, paper.model, paper.lr, paper.epochs, paper.batch_size) == (
        "runs/classify-pair", "openai-gpt", 6.25e-5, 3.0, 32)
    # --model scratch: imdb.py --demo's fine-tuning.
    scratch = classify.parse_args(["--model", "scratch", "--data", "movie-reviews"])
    demo = load_recipe("imdb").parse_args(["--demo"])
    for key in ("epochs", "lr", "batch_size", "max_seq_len", "truncation", "train_fraction", "val_fraction"):
        assert getattr(scratch, key) == getattr(demo, key), key


def _options(parser) -> dict[str, tuple]:
    return {action.dest: (tuple(action.option_strings), action.default, action.type, action.choices)
            for action in parser._actions}


def test_imdb_and_classify_take_the_same_shared_options():
    imdb, classify = _options(load_recipe("imdb").build_parser()), _options(load_recipe("classify").build_parser())
    assert set(imdb) - set(classify) == {"demo", "pretrain_epochs"}
    assert set(classify) - set(imdb) == {"task", "text_pair_column", "candidate_columns"}
    shared = set(imdb) & set(classify)
    assert len(shared) > 20 and {k: imdb[k] for k in shared} == {k: classify[k] for k in shared}


def test_both_recipes_read_a_shared_command_line_alike(tmp_path):
    data = str(write_reviews(tmp_path / "reviews.csv", 8))
    line = [*TINY, "--data", data, "--output-dir", "o", "--truncation", "left", "--test-fraction", "0.5",
            "--label-names", "neg,pos", "--lm-coef", "0.5",
            "--eval-steps", "3", "--early-stopping-patience", "2", "--padding", "buckets", "--resume"]
    imdb = vars(load_recipe("imdb").parse_args(line))
    classify = vars(load_recipe("classify").parse_args(line))
    shared = (set(imdb) & set(classify)) - {"default_max_seq_len"}  # each recipe's own default length
    assert {k: imdb[k] for k in shared} == {k: classify[k] for k in shared}
    assert classify["task"] == imdb["task"] == "single"
