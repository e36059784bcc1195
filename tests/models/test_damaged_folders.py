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


def test_newest_sound_checkpoint_skips_what_cannot_resume(saved, tmp_path, caplog):
    import shutil

    from msgpt.models.weights_check import checkpoint_problem, newest_sound_checkpoint

    run = tmp_path / "run"
    for step in (5, 10, 15, 20):
        shutil.copytree(saved, run / f"checkpoint-{step}")
        (run / f"checkpoint-{step}" / "trainer_state.json").write_text('{"global_step": %d}' % step)
    (run / "checkpoint-20" / "trainer_state.json").unlink()  # its save never finished
    (run / "checkpoint-15" / "trainer_state.json").write_text('{"global_st')
    (run / "checkpoint-10" / "optimizer.pt").write_bytes(b"PK\x03\x04 cut short")
    assert newest_sound_checkpoint(run) == str(run / "checkpoint-5")
    assert "trainer_state.json is missing" in checkpoint_problem(run / "checkpoint-20")
    assert "trainer_state.json is not readable JSON" in checkpoint_problem(run / "checkpoint-15")
    assert "optimizer.pt is truncated" in checkpoint_problem(run / "checkpoint-10")
    skipped = [r.getMessage().split()[0] for r in caplog.records if "cannot resume the run" in r.getMessage()]
    assert skipped == ["checkpoint-20", "checkpoint-15", "checkpoint-10"]
    assert newest_sound_checkpoint(tmp_path / "empty") is None
