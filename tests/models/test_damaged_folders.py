"""A damaged model folder ends in one line naming the folder, the file and what is wrong
(msgpt.models.weights_check), before any weights load; a sound folder loads as before."""

from __future__ import annotations

import json
import zipfile

import pytest

import msgpt
from msgpt.models.weights_check import check_model_folder


@pytest.fixture()
def saved(tiny_model, tokenizer, tmp_path):
    return msgpt.save_pretrained(tiny_model, tokenizer, tmp_path / "best")


def load(folder, tokenizer):
    return msgpt.load_model(folder, tokenizer, num_labels=2)


def edit_config(folder, **changes):
    path = folder / "config.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


def test_a_sound_folder_passes_and_loads(saved, tokenizer):
    check_model_folder(saved)
    assert load(saved, tokenizer).config.vocab_size == len(tokenizer)


@pytest.mark.parametrize("keep", [0, 5, 100, -1000])
def test_a_truncated_weights_file_is_named(saved, tokenizer, keep):
    weights = saved / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[:keep] if keep >= 0 else data[:keep])
    with pytest.raises(ValueError, match=r"model\.safetensors is (truncated|corrupt)"):
        load(saved, tokenizer)


def test_a_corrupt_header_is_named(saved, tokenizer):
    weights = saved / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[8:16] = b"\xff\xfe{{{{{{"
    weights.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"model\.safetensors is corrupt: its safetensors header is not JSON"):
        load(saved, tokenizer)


def test_a_config_that_does_not_match_the_weights_is_named(saved, tokenizer):
    edit_config(saved, n_embd=64, n_layer=3)
    expected = (r"config\.json does not match model\.safetensors: "
                r"n_embd 64 \(the weights: 32\), n_layer 3 \(the weights: 2\)")
    with pytest.raises(ValueError, match=expected):
        load(saved, tokenizer)


def test_a_config_that_is_not_gpt1s_is_named(saved, tokenizer):
    edit_config(saved, model_type="bert")
    with pytest.raises(ValueError, match=r"holds a bert, not a GPT-1 \(openai-gpt\) model"):
        load(saved, tokenizer)


def test_a_vocabulary_that_does_not_match_the_embedding_rows_is_named(saved, tokenizer):
    (saved / "added_tokens.json").unlink()  # the three tokens msgpt added, gone from the files
    config = json.loads((saved / "tokenizer_config.json").read_text())
    config["added_tokens_decoder"] = {k: v for k, v in config["added_tokens_decoder"].items()
                                      if v["content"] not in ("<bos>", "<eos>", "<pad>")}
    (saved / "tokenizer_config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=rf"tokenizer files hold {len(tokenizer) - 3} tokens but model\.safetensors "
                                         rf"has {len(tokenizer)} embedding rows"):
        check_model_folder(saved)


def test_a_truncated_pytorch_bin_is_named(saved, tmp_path):
    (saved / "model.safetensors").unlink()
    archive = tmp_path / "w.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("archive/data.pkl", b"x" * 100)
    (saved / "pytorch_model.bin").write_bytes(archive.read_bytes()[:60])
    with pytest.raises(ValueError, match=r"pytorch_model\.bin is truncated or not a PyTorch weights file"):
        check_model_folder(saved)
