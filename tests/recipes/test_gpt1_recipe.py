"""The openai-gpt path at GPT-1's real size (12 x 768, 40,478 tokens, 512 positions), offline:
a folder in the hub's layout with random weights through the recipes, as the real weights go.
Each run takes tens of seconds and ~6 GB; the speed and memory figures are in benchmarks."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import needs_gpt1
from recipe_helpers import RECIPES, run_recipe, write_reviews
from safetensors.numpy import load_file

import msgpt

pytestmark = needs_gpt1
SHORT = ["--max-seq-len", "64", "--batch-size", "4", "--max-steps", "3", "--train-fraction", "1",
         "--val-fraction", "0.25", "--device", "CPU"]


def test_load_model_grows_gpt1s_embeddings_keeping_every_row(gpt1_folder):
    tokenizer = msgpt.load_tokenizer(gpt1_folder, fast=True)
    model = msgpt.load_model(gpt1_folder, tokenizer, num_labels=2)
    rows = model.transformer.tokens_embed.weight.detach().numpy()
    saved = load_file(str(gpt1_folder / "model.safetensors"))["transformer.tokens_embed.weight"]
    assert saved.shape == (40478, 768) and rows.shape == (40481, 768)
    assert np.array_equal(rows[:40478], saved)
    assert model.config.n_positions == 512 and model.config.pad_token_id == 40480
    assert sum(p.numel() for p in model.parameters()) == 116_538_624  # GPT-1 (116,534,784) + 3 rows + the 2-class head


@pytest.fixture(scope="module")
def fine_tuned(gpt1_folder, tmp_path_factory):
    """recipes/imdb.py --model FOLDER for 3 steps at 64 tokens, with GPT-1's auxiliary LM loss."""
    work = tmp_path_factory.mktemp("gpt1-run")
    data = write_reviews(work / "reviews.csv", 48)
    result = run_recipe("--model", str(gpt1_folder), "--data", str(data), *SHORT, "--lm-coef", "0.5",
                        "--output-dir", str(work / "run"))
    assert result.returncode == 0, result.stderr[-3000:]
    return work


def test_the_recipe_fine_tunes_the_hub_folder_and_saves_a_gpt1_sized_classifier(fine_tuned):
    run = fine_tuned / "run"
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test_examples"] == 10 and 0 <= metrics["test_accuracy"] <= 1
    config = json.loads((run / "best" / "config.json").read_text())
    assert (config["vocab_size"], config["n_positions"], config["n_layer"], config["n_embd"]) == (40481, 512, 12, 768)
    assert config["msgpt"]["max_seq_len"] == 64
    weights = load_file(str(run / "best" / "model.safetensors"))
    assert weights["transformer.tokens_embed.weight"].shape == (40481, 768)
    assert weights["score.weight"].shape == (2, 768)


def test_eval_only_and_predict_read_the_gpt1_sized_model(fine_tuned):
    best, data = fine_tuned / "run" / "best", fine_tuned / "reviews.csv"
    evaluated = run_recipe("--eval-only", "--model", str(best), "--data", str(data), "--device", "CPU",
                           "--output-dir", str(fine_tuned / "eval"))
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    assert json.loads((fine_tuned / "eval" / "metrics.json").read_text())["test_examples"] == 48  # the whole file
    predicted = run_recipe("--model", str(best), "--data", str(data), "--device", "CPU",
                           "--output", str(fine_tuned / "labelled.csv"), recipe=RECIPES / "predict.py")
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    rows = (fine_tuned / "labelled.csv").read_text().splitlines()
    assert len(rows) == 49  # the header and every review


def test_pretraining_continues_from_the_hub_folder_with_the_head_tied(gpt1_folder, tmp_path):
    corpus = write_reviews(tmp_path / "text.csv", 400)  # 5% held out must fill a block
    out = tmp_path / "pretrain"
    result = run_recipe("--text", str(corpus), "--model", str(gpt1_folder), "--block-size", "64", "--batch-size", "2",
                        "--max-steps", "2", "--device", "CPU", "--output-dir", str(out), recipe=RECIPES / "pretrain.py")
    assert result.returncode == 0, result.stderr[-3000:]
    tokenizer = msgpt.load_tokenizer(out / "best", add_special=False, fast=True)
    model = msgpt.load_language_model(out / "best", tokenizer)
    assert model.lm_head.weight is model.transformer.tokens_embed.weight  # tied, as GPT-1's
    assert model.transformer.tokens_embed.weight.shape[1] == 768 and model.config.n_positions == 512
