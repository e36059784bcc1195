"""Shared fixtures: everything offline, on CPU, with tokenizers and models built here."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

import msgpt

# The suite's own process keeps its scheduling priority (msgpt.runtime.device.yield_to_kernel_threads),
# so that the recipes it starts as subprocesses begin at the normal one;
# tests/runtime/test_device_yield.py turns it on in processes of its own.
os.environ["MSGPT_YIELD"] = "0"
msgpt.select_device("CPU")  # before mindnlp is imported: tests always run on the CPU

import msgpt.backend  # noqa: E402,F401  (makes `import torch` give mindtorch)

#: GPT-1's own tokenizer files and configuration, no weights: ../shared/openai-gpt beside the
#: checkout (never copied into the repo), or where $MSGPT_GPT1_DIR says.
GPT1_DIR = Path(os.environ.get("MSGPT_GPT1_DIR") or Path(__file__).resolve().parents[2] / "shared" / "openai-gpt")
needs_gpt1 = pytest.mark.skipif(
    not (GPT1_DIR / "vocab.json").is_file(),
    reason=f"GPT-1's tokenizer files are not in {GPT1_DIR} (shared/openai-gpt beside the checkout, or $MSGPT_GPT1_DIR)",
)

_WORDS = (
    "the a film movie was is great awful good bad plot acting story actor scene director "
    "boring wonderful terrible funny sad long short music ending i loved hated it this"
).split()


def make_texts(n: int, seed: int = 0, min_words: int = 3, max_words: int = 30) -> list[str]:
    """Random sentences over a small vocabulary: enough for a tiny BPE tokenizer."""
    rng = random.Random(seed)
    return [
        " ".join(rng.choice(_WORDS) for _ in range(rng.randint(min_words, max_words))) + "."
        for _ in range(n)
    ]


@pytest.fixture(scope="session")
def tokenizer_dir(tmp_path_factory):
    """A tiny OpenAIGPT-format vocabulary (vocab.json + merges.txt), without special tokens."""
    from msgpt.tokens.bpe import train_bpe_tokenizer

    return train_bpe_tokenizer(
        make_texts(300), tmp_path_factory.mktemp("bpe"), vocab_size=200, min_frequency=1
    )


@pytest.fixture()
def tokenizer(tokenizer_dir):
    """A fresh fast tokenizer with <bos>/<eos>/<pad> for each test (tests mutate it)."""
    return msgpt.load_tokenizer(tokenizer_dir, fast=True)


@pytest.fixture()
def tiny_config(tokenizer):
    return msgpt.small_gpt_config(
        tokenizer.vocab_size, n_positions=64, n_embd=32, n_layer=2, n_head=2,
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, summary_first_dropout=0.0,
    )


@pytest.fixture()
def tiny_model(tiny_config, tokenizer):
    model = msgpt.build_model(tiny_config, tokenizer, num_labels=2)
    model.eval()
    return model


@pytest.fixture(scope="session")
def gpt1_folder(tmp_path_factory):
    """The hub's ``openai-gpt`` in all but the numbers: GPT-1's config and tokenizer files with
    random weights of that config (116.5M), saved as HF's ``save_pretrained`` saves them."""
    if not (GPT1_DIR / "vocab.json").is_file():
        pytest.skip(f"GPT-1's tokenizer files are not in {GPT1_DIR}")
    import shutil

    import torch
    from transformers import OpenAIGPTConfig, OpenAIGPTLMHeadModel

    folder = tmp_path_factory.mktemp("hub") / "openai-gpt"
    torch.manual_seed(0)
    OpenAIGPTLMHeadModel(OpenAIGPTConfig.from_pretrained(str(GPT1_DIR))).save_pretrained(str(folder))
    for name in ("vocab.json", "merges.txt"):
        shutil.copyfile(GPT1_DIR / name, folder / name)
    return folder
