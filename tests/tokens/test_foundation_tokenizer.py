"""Tokenizer helpers: special tokens, the <bos> text <eos> encoding, offline BPE files."""

from __future__ import annotations

import json
import logging

import pytest
from conftest import make_texts
from transformers import OpenAIGPTTokenizer

import msgpt
from msgpt.tokens.bpe import train_bpe_tokenizer


def test_special_tokens_are_added_once(tokenizer_dir, caplog):
    tokenizer = msgpt.load_tokenizer(tokenizer_dir, add_special=False, fast=True)
    size = len(tokenizer)
    assert msgpt.add_special_tokens(tokenizer) == 3
    assert len(tokenizer) == size + 3
    assert (tokenizer.bos_token, tokenizer.eos_token, tokenizer.pad_token) == ("<bos>", "<eos>", "<pad>")
    with caplog.at_level(logging.INFO, logger="msgpt.tokens.tokenizer"):
        assert msgpt.add_special_tokens(tokenizer) == 0
    assert len(tokenizer) == size + 3
    assert "nothing added" in caplog.text


def test_encoding_wraps_text_in_bos_and_eos(tokenizer):
    ids = msgpt.encode_text(tokenizer, "a great film.", max_length=64)
    body = tokenizer("a great film.", add_special_tokens=False)["input_ids"]
    assert ids == [tokenizer.bos_token_id, *body, tokenizer.eos_token_id]


def test_truncation_cuts_the_text_and_keeps_eos(tokenizer):
    text = make_texts(1, min_words=200, max_words=200)[0]
    body = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert len(body) > 20
    ids = msgpt.encode_text(tokenizer, text, max_length=20)
    assert len(ids) == 20
    assert ids[0] == tokenizer.bos_token_id and ids[-1] == tokenizer.eos_token_id
    assert ids[1:-1] == body[:18]


def test_slow_and_fast_tokenizers_agree_on_trained_vocabulary(tokenizer_dir):
    slow = msgpt.load_tokenizer(tokenizer_dir)
    fast = msgpt.load_tokenizer(tokenizer_dir, fast=True)
    assert isinstance(slow, OpenAIGPTTokenizer)
    texts = make_texts(20, seed=5) + ["Hello, World! It's a FILM... 10/10"]
    assert msgpt.encode_texts(slow, texts, 64) == msgpt.encode_texts(fast, texts, 64)


def test_trained_vocabulary_uses_end_of_word_form(tokenizer_dir):
    vocab = json.loads((tokenizer_dir / "vocab.json").read_text())
    merges = (tokenizer_dir / "merges.txt").read_text().splitlines()
    assert "<unk>" in vocab
    assert any(token.endswith("</w>") for token in vocab)
    assert merges[0].startswith("#version")
    assert all(len(line.split()) == 2 for line in merges[1:])


def test_bpe_training_needs_texts(tmp_path):
    with pytest.raises(ValueError, match="no texts"):
        train_bpe_tokenizer([], tmp_path)


@pytest.mark.parametrize("text, error", [("", ValueError), ("   ", ValueError), (None, TypeError), (3, TypeError)])
def test_empty_or_non_string_text_is_rejected(tokenizer, text, error):
    with pytest.raises(error, match="text"):
        msgpt.encode_text(tokenizer, text, max_length=16)


def test_encoding_needs_the_special_tokens(tokenizer_dir):
    bare = msgpt.load_tokenizer(tokenizer_dir, add_special=False, fast=True)
    with pytest.raises(ValueError, match="add_special_tokens"):
        msgpt.encode_text(bare, "a film", max_length=16)


def test_max_length_too_small_is_rejected(tokenizer):
    with pytest.raises(ValueError, match="max_length"):
        msgpt.encode_text(tokenizer, "a film", max_length=2)


def test_tokenizer_folder_without_vocab_or_merges(tmp_path, tokenizer_dir):
    (tmp_path / "vocab.json").write_text((tokenizer_dir / "vocab.json").read_text())
    with pytest.raises(FileNotFoundError, match="merges.txt"):
        msgpt.load_tokenizer(tmp_path)
    (tmp_path / "vocab.json").unlink()
    with pytest.raises(FileNotFoundError, match="vocab.json, merges.txt"):
        msgpt.load_tokenizer(tmp_path)


def test_missing_local_folder_is_not_looked_up_on_the_hub(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        msgpt.load_tokenizer(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        msgpt.load_tokenizer("./no/such/folder")


def test_trained_vocabulary_is_the_same_in_every_process(tmp_path):
    """The trainer numbers its alphabet in hash order; msgpt renumbers it canonically."""
    import subprocess
    import sys

    texts = tmp_path / "texts.json"
    texts.write_text(json.dumps(make_texts(300)))
    # The texts come from a file, not from conftest (which imports mindnlp): a bare start.
    script = (
        "import json, sys; from msgpt.tokens.bpe import train_bpe_tokenizer; "
        "train_bpe_tokenizer(json.loads(open(sys.argv[2]).read()), sys.argv[1], vocab_size=200, min_frequency=1)"
    )
    for run in ("a", "b"):
        subprocess.run([sys.executable, "-c", script, str(tmp_path / run), str(texts)], check=True,
                       capture_output=True)
    for name in ("vocab.json", "merges.txt"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
