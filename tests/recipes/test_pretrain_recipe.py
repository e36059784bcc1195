"""recipes/pretrain.py and the demo's two stages through their command lines, tiny and offline."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import make_texts
from recipe_helpers import TINY, run_recipe, run_recipe_in_process, write_reviews
from safetensors.numpy import load_file

PRETRAIN = Path(__file__).resolve().parents[2] / "recipes" / "pretrain.py"
MODEL = ["--vocab-size", "200", "--n-embd", "32", "--n-layer", "2", "--n-head", "2", "--n-positions", "64",
         "--batch-size", "8", "--dropout", "0", "--lr", "3e-3", "--seed", "3"]
SMALL = [*MODEL, "--block-size", "32"]


def run_pretrain(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return run_recipe(*args, timeout=timeout, recipe=PRETRAIN)


def pretrain_in_process(*args: str, capsys) -> subprocess.CompletedProcess:
    """``run_pretrain`` in this process, for tests not about the process."""
    return run_recipe_in_process(*args, capsys=capsys, recipe=PRETRAIN)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("text") / "corpus.txt"
    path.write_text("\n".join(make_texts(500, seed=5)) + "\n\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def pretrained(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("pretrain") / "out"
    result = run_pretrain("--text", str(corpus), *SMALL, "--epochs", "2", "--output-dir", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    return out, result


def test_pretraining_writes_a_hub_layout_model_and_its_perplexity(pretrained):
    out, result = pretrained
    best = out / "best"
    for name in ("config.json", "model.safetensors", "vocab.json", "merges.txt"):
        assert (best / name).is_file(), name
    assert not {"<bos>", "<eos>", "<pad>"} & set(json.loads((best / "vocab.json").read_text()))
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["train_documents"] + metrics["held_out_documents"] == 500
    assert metrics["held_out_documents"] == 25 and metrics["document_separator"] == "<|endoftext|>"
    epochs = metrics["epochs"]
    assert [round(e["epoch"]) for e in epochs] == [1, 2]
    assert all(e["eval_perplexity"] == pytest.approx(np.exp(e["eval_loss"])) for e in epochs)
    # Learnt: the held-out perplexity is far below the vocabulary's (uniform guessing).
    assert metrics["validation_perplexity"] < 0.5 * metrics["model_config"]["vocab_size"]
    assert metrics["validation_perplexity"] == pytest.approx(min(e["eval_perplexity"] for e in epochs), rel=1e-4)
    assert f"validation perplexity {metrics['validation_perplexity']:.1f}" in result.stdout
    assert sorted(p.name for p in out.glob("checkpoint-*")) and (out / "training_curves.png").is_file()
    assert not list(out.glob(".*tmp"))


def test_imdb_fine_tunes_the_pretrained_folder_as_it_would_openai_gpt(pretrained, tmp_path, capsys):
    out, _ = pretrained
    data = write_reviews(tmp_path / "reviews.csv", 120)
    args = [a for a in TINY if a not in ("--model", "scratch")]
    result = run_recipe_in_process(*args, "--model", str(out / "best"), "--data", str(data),
                                   "--output-dir", str(tmp_path / "ft"), capsys=capsys)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "pretraining" not in json.loads((tmp_path / "ft" / "metrics.json").read_text())
    pre = load_file(str(out / "best" / "model.safetensors"))
    vocab = pre["transformer.tokens_embed.weight"].shape[0]
    tuned = load_file(str(tmp_path / "ft" / "best" / "model.safetensors"))
    assert tuned["transformer.tokens_embed.weight"].shape[0] == vocab + 3  # <bos>, <eos>, <pad>
    config = json.loads((tmp_path / "ft" / "best" / "config.json").read_text())
    assert config["architectures"] == ["OpenAIGPTForSequenceClassification"]


def test_continued_pretraining_starts_from_the_given_model(pretrained, corpus, tmp_path, capsys):
    out, _ = pretrained
    result = pretrain_in_process("--text", str(corpus), "--model", str(out / "best"), "--block-size", "32",
                                 "--batch-size", "8", "--lr", "1e-12", "--max-steps", "2",
                                 "--output-dir", str(tmp_path / "more"), capsys=capsys)
    assert result.returncode == 0, result.stderr[-3000:]
    before = load_file(str(out / "best" / "model.safetensors"))
    after = load_file(str(tmp_path / "more" / "best" / "model.safetensors"))
    assert before.keys() == after.keys()
    for name in before:
        np.testing.assert_allclose(after[name], before[name], atol=1e-6, err_msg=name)
    metrics = json.loads((tmp_path / "more" / "metrics.json").read_text())
    first = json.loads((out / "metrics.json").read_text())
    assert metrics["validation_loss"] < first["epochs"][0]["eval_loss"] + 1.0  # not a fresh model's loss
    assert metrics["model"] == str(out / "best")


def test_zero_epochs_leaves_the_vocabulary_and_the_initialised_model(pretrained, corpus, tmp_path, capsys):
    trained, _ = pretrained
    out = tmp_path / "vocab-only"
    result = pretrain_in_process("--text", str(corpus), *SMALL, "--epochs", "0", "--output-dir", str(out),
                                 capsys=capsys)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "no pre-training: the vocabulary (" in result.stdout
    # The vocabulary pre-training learns from the same text and seed; the weights it starts from.
    assert (out / "best" / "vocab.json").read_text() == (trained / "best" / "vocab.json").read_text()
    assert (out / "best" / "merges.txt").read_text() == (trained / "best" / "merges.txt").read_text()
    untrained = load_file(str(out / "best" / "model.safetensors"))
    after = load_file(str(trained / "best" / "model.safetensors"))
    assert untrained.keys() == after.keys()
    assert not np.allclose(untrained["transformer.tokens_embed.weight"], after["transformer.tokens_embed.weight"])
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["train_steps"] == 0 and metrics["validation_perplexity"] is None
    assert metrics["train_documents"] == 475 and not list(out.glob("checkpoint-*"))


@pytest.mark.parametrize("args, needle", [
    (["--text", "{d}/blank.txt"], "holds no text"),
    (["--text", "{d}/corpus.txt", "--block-size", "128"], "--block-size 128 is above the model's 64 positions"),
    (["--text", "{d}/corpus.txt", "--n-embd", "30", "--n-head", "4"], "--n-embd 30 is not a multiple of --n-head 4"),
    (["--text", "{d}/missing.txt"], "does not exist"),
    (["--text", "{d}/corpus.txt", "--model", "{d}/bert"], "not a GPT-1 (openai-gpt) model"),
    (["--text", "{d}/corpus.txt", "--epochs", "-1"], "--epochs must be positive (or 0 from scratch), got -1"),
    (["--text", "{d}/corpus.txt", "--model", "{d}/bert", "--epochs", "0"], "--epochs must be positive"),
])
def test_bad_input_ends_in_one_line_and_writes_nothing(args, needle, corpus, tmp_path, capsys):
    (tmp_path / "corpus.txt").write_text(corpus.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "blank.txt").write_text("\n \n", encoding="utf-8")
    bert = tmp_path / "bert"
    bert.mkdir()
    (bert / "config.json").write_text(json.dumps({"model_type": "bert"}))
    (bert / "model.safetensors").write_bytes(b"")
    (bert / "vocab.json").write_text("{}")
    (bert / "merges.txt").write_text("#version: 0.2\n")
    # What the case gives comes last and wins; a given model takes no sizes from scratch.
    small = ["--block-size", "32"] if "--model" in args else MODEL if "--block-size" in args else SMALL
    out = tmp_path / "out"
    result = pretrain_in_process(*small, *[a.format(d=tmp_path) for a in args], "--output-dir", str(out),
                                 capsys=capsys)
    _assert_one_line_error(result, needle)
    assert not out.exists()


def _assert_one_line_error(result: subprocess.CompletedProcess, needle: str) -> None:
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1 and errors[0] == result.stderr.strip().splitlines()[-1], result.stderr[-2000:]
    assert errors[0].startswith("pretrain.py: error:") and needle in errors[0], errors[0]


def test_a_block_size_above_a_given_model_positions_ends_in_one_line(pretrained, corpus, tmp_path, capsys):
    out, _ = pretrained
    result = pretrain_in_process("--text", str(corpus), "--model", str(out / "best"), "--block-size", "128",
                                 "--output-dir", str(tmp_path / "more"), capsys=capsys)
    _assert_one_line_error(result, "block size 128 is above the model's 64 positions (config.n_positions)")


def test_the_imdb_recipe_runs_both_stages(tmp_path, capsys):
    """--pretrain-epochs: stage one on the training split's texts, stage two from its model."""
    data = write_reviews(tmp_path / "reviews.csv", 400)
    out = tmp_path / "two"
    result = run_recipe_in_process(*TINY, "--pretrain-epochs", "1", "--data", str(data), "--output-dir", str(out),
                                   capsys=capsys)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    stage = json.loads((out / "pretraining" / "metrics.json").read_text())
    assert metrics["pretraining"]["validation_perplexity"] == stage["validation_perplexity"]
    assert metrics["model"] == str(out / "pretraining" / "best")
    # The training split's texts only: 240 training reviews, 2% of them held out for perplexity.
    assert metrics["split_sizes"]["train"] == 240
    assert stage["train_documents"] + stage["held_out_documents"] == 240
    assert (out / "pretraining" / "best" / "model.safetensors").is_file() and (out / "best").is_dir()
