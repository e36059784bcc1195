"""A folder msgpt saves frames, cleans and cuts text in its tokenizer files as msgpt does in
its code, so that HF's AutoTokenizer (on PyTorch, or here: the same transformers and
tokenizers) reads raw text into msgpt's ids. benchmarks/interop.py checks the PyTorch side."""

from __future__ import annotations

import json

from conftest import GPT1_DIR, needs_gpt1
from transformers import AutoTokenizer

import msgpt
from msgpt.data import clean_text

TEXTS = [
    "A fine film.",
    "What a waste.<br /><br />The plot made no sense<BR>at all.",
    "I loved it and so did my kids, every minute of it. " * 8,
]


@needs_gpt1
def test_autotokenizer_on_a_saved_folder_gives_msgpts_ids(tmp_path):
    tokenizer = msgpt.load_tokenizer(GPT1_DIR, fast=True)
    tokenizer.truncation_side = "left"
    config = msgpt.small_gpt_config(tokenizer.vocab_size, n_embd=16, n_layer=1, n_head=2, n_positions=64)
    folder = msgpt.save_pretrained(msgpt.build_model(config, tokenizer, num_labels=2), tokenizer, tmp_path / "best",
                                   max_seq_len=24)
    theirs = AutoTokenizer.from_pretrained(folder)
    assert (theirs.truncation_side, theirs.model_max_length) == ("left", 24)
    assert theirs(TEXTS, truncation=True)["input_ids"] == msgpt.encode_texts(
        tokenizer, [clean_text(t) for t in TEXTS], 24)
    saved = json.loads((folder / "tokenizer_config.json").read_text())
    assert (saved["truncation_side"], saved["model_max_length"]) == ("left", 24)


def test_saving_leaves_the_live_tokenizer_as_it_was(tiny_model, tokenizer, tmp_path):
    before = tokenizer.backend_tokenizer.to_str()
    folder = msgpt.save_pretrained(tiny_model, tokenizer, tmp_path / "best")
    assert tokenizer.backend_tokenizer.to_str() == before
    assert tokenizer("a film", add_special_tokens=True)["input_ids"] == tokenizer("a film")["input_ids"]
    reloaded = msgpt.load_tokenizer(folder, fast=True)
    ids = reloaded("a film")["input_ids"]
    assert ids[0] == reloaded.bos_token_id and ids[-1] == reloaded.eos_token_id
    assert msgpt.encode_text(reloaded, "a film", 16) == msgpt.encode_text(tokenizer, "a film", 16)  # msgpt's, unchanged


def test_a_pair_folder_frames_pairs_with_the_delimiter(tmp_path):
    from conftest import make_texts

    from msgpt.tokens.bpe import train_bpe_tokenizer

    files = train_bpe_tokenizer(make_texts(200), tmp_path / "bpe", vocab_size=150, min_frequency=1)
    tokenizer = msgpt.load_tokenizer(files, fast=True, delimiter=True)
    config = msgpt.small_gpt_config(len(tokenizer), n_embd=16, n_layer=1, n_head=2, n_positions=64)
    model = msgpt.build_model(config, tokenizer, num_labels=2, task="pair")
    folder = msgpt.save_pretrained(model, tokenizer, tmp_path / "best", max_seq_len=32)
    theirs = AutoTokenizer.from_pretrained(folder)
    assert theirs("a film", "the plot")["input_ids"] == msgpt.encode_pairs(tokenizer, ["a film"], ["the plot"], 32)[0]
