"""--lora-r in the recipes: best/ holds the adapter, which --eval-only, predict.py and
msgpt.predict load; --merge-lora writes a plain model with the same predictions; --resume."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from recipe_helpers import RECIPES, TINY, _assert_one_line_error, run_recipe_in_process, write_reviews

import msgpt
from msgpt.models.lora import is_lora_folder

LORA = ["--lora-r", "4", "--lora-dropout", "0", "--lr", "1e-2", "--epochs", "2"]


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A fine-tuned tiny model folder to adapt (openai-gpt in real use)."""
    root = tmp_path_factory.mktemp("lora-base")
    data = write_reviews(root / "reviews.csv", 96)
    return data, root / "base"  # trained by the first test that needs it (capsys is per test)


def _train_base(data, out, capsys):
    if not (out / "best").is_dir():
        result = run_recipe_in_process(*TINY, "--data", str(data), "--output-dir", str(out), capsys=capsys)
        assert result.returncode == 0, result.stderr[-3000:]
    return out / "best"


def _probabilities(path):
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return np.array([[float(r[k]) for k in r if k.startswith("prob")] for r in rows])


def test_lora_fine_tuning_saves_an_adapter_that_every_reader_loads(base, tmp_path, capsys):
    data, out = base
    base_folder = _train_base(data, out, capsys)
    run = tmp_path / "lora"
    result = run_recipe_in_process(*TINY, *LORA, "--model", str(base_folder), "--data", str(data),
                                   "--output-dir", str(run), "--merge-lora", capsys=capsys)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["lora"]["r"] == 4 and 0 < metrics["lora"]["trainable_fraction"] < 0.2
    best = run / "best"
    assert is_lora_folder(best) and not (best / "model.safetensors").exists()
    named = json.loads((best / "adapter_config.json").read_text())["base_model_name_or_path"]
    assert named == str(base_folder.resolve())
    assert (run / "merged" / "model.safetensors").is_file() and not is_lora_folder(run / "merged")

    # --eval-only on the adapter gives the run's own test figures.
    scored = run_recipe_in_process("--eval-only", "--model", str(best), "--data", str(data), "--test-fraction",
                                   "1", "--output-dir", str(tmp_path / "eval"), capsys=capsys)
    assert scored.returncode == 0, scored.stderr[-3000:]

    # predict.py on the adapter and on the merged model: the same probabilities.
    texts = tmp_path / "texts.txt"
    texts.write_text("great wonderful loved\nawful terrible hated\nthe plot was long\n", encoding="utf-8")
    outputs = {}
    for name in ("best", "merged"):
        outputs[name] = tmp_path / f"{name}.csv"
        predicted = run_recipe_in_process("--model", str(run / name), "--data", str(texts), "--output",
                                          str(outputs[name]), capsys=capsys, recipe=RECIPES / "predict.py")
        assert predicted.returncode == 0, predicted.stderr[-3000:]
    np.testing.assert_allclose(_probabilities(outputs["best"]), _probabilities(outputs["merged"]), atol=1e-5)
    helper = msgpt.predict(["great wonderful loved"], str(best))
    np.testing.assert_allclose(helper.probabilities[0], _probabilities(outputs["best"])[0], atol=1e-5)


@pytest.mark.parametrize("args, needles", [
    (["--lora-r", "0"], ["--lora-r must be >= 1"]),
    (["--lora-r", "4", "--lora-dropout", "1"], ["--lora-dropout"]),
    (["--merge-lora"], ["--merge-lora needs --lora-r"]),
    (["--lora-r", "4", "--lora-targets", "q_proj"], ["q_proj", "name no layer"]),
])
def test_bad_lora_options_end_in_one_line(base, args, needles, tmp_path, capsys):
    data, out = base
    base_folder = _train_base(data, out, capsys)
    result = run_recipe_in_process(*TINY, "--model", str(base_folder), "--data", str(data), *args,
                                   "--output-dir", str(tmp_path / "out"), capsys=capsys)
    _assert_one_line_error(result, *needles)


def test_lora_from_scratch_is_refused(tmp_path, capsys):
    data = write_reviews(tmp_path / "reviews.csv", 16)
    result = run_recipe_in_process(*TINY, "--data", str(data), "--lora-r", "4", "--output-dir", str(tmp_path / "o"),
                                   capsys=capsys)
    _assert_one_line_error(result, "--lora-r adapts a trained model")
