"""Model helpers: embeddings fit the tokenizer, the head reads <eos>, save/load round trip."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import OpenAIGPTForSequenceClassification

import msgpt
from msgpt.inference.predictions import pad_right
from msgpt.runtime import hub


def _logits(model, input_ids, attention_mask=None):
    with torch.no_grad():
        out = model(
            input_ids=torch.tensor(np.asarray(input_ids, dtype=np.int32)),
            attention_mask=None if attention_mask is None else torch.tensor(attention_mask),
        )
    return out.logits.numpy()


def test_embeddings_match_tokenizer_length_and_keep_old_rows(tiny_config, tokenizer):
    model = msgpt.build_model(tiny_config, tokenizer)
    embeddings = model.get_input_embeddings().weight
    assert embeddings.shape[0] == len(tokenizer) == tokenizer.vocab_size + 3
    old = embeddings.detach().numpy().copy()

    tokenizer.add_tokens(["<sep>", "<extra>"])
    msgpt.prepare_model(model, tokenizer)
    new = model.get_input_embeddings().weight.detach().numpy()
    assert new.shape[0] == len(tokenizer) == old.shape[0] + 2
    np.testing.assert_array_equal(new[: old.shape[0]], old)
    assert model.config.pad_token_id == tokenizer.pad_token_id


def test_the_trainer_finds_the_special_tokens_aligned(tiny_model, tokenizer, tmp_path):
    """The config carries the tokenizer's pad/bos/eos ids, so HF's Trainer has nothing to
    align and says nothing at start ("The tokenizer has new PAD/BOS/EOS tokens...")."""
    import logging

    from msgpt.training import make_trainer, training_arguments

    assert (tiny_model.config.pad_token_id, tiny_model.config.bos_token_id, tiny_model.config.eos_token_id) == (
        tokenizer.pad_token_id, tokenizer.bos_token_id, tokenizer.eos_token_id)
    args = training_arguments(str(tmp_path), eval_strategy="no", save_strategy="no", load_best_model_at_end=False,
                              metric_for_best_model=None)
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # on the Trainer's own logger: transformers' loggers do not propagate
    trainer_logger = logging.getLogger("transformers.trainer")
    trainer_logger.addHandler(handler)
    try:
        make_trainer(tiny_model, tokenizer, None, None, args)
    finally:
        trainer_logger.removeHandler(handler)
    assert not [r for r in records if "PAD/BOS/EOS" in r.getMessage()]


def test_resized_embedding_is_a_consistent_parameter(tiny_model, tokenizer):
    weight = tiny_model.get_input_embeddings().weight
    assert tuple(torch.zeros_like(weight).shape) == tuple(weight.shape) == (len(tokenizer), 32)
    assert any(p is weight for p in tiny_model.trainable_params())


@pytest.mark.parametrize("tied", [True, False])
def test_resizing_leaves_what_hfs_resize_leaves(tiny_config, tokenizer, tied):
    """msgpt resizes on the host (HF's resize is slow on mindtorch); the model must end as
    HF's would: the sizes recorded, the LM head tied or resized, the same rows, and the random
    stream where HF's leaves it (a seeded run, LoRA's adapters drawn after, gives the same numbers)."""
    from transformers import OpenAIGPTConfig, OpenAIGPTLMHeadModel, set_seed

    config = OpenAIGPTConfig(**{**tiny_config.to_dict(), "initializer_range": 0.5, "tie_word_embeddings": tied})
    ours, theirs = OpenAIGPTLMHeadModel(config), OpenAIGPTLMHeadModel(config.__class__(**config.to_dict()))
    theirs.load_state_dict(ours.state_dict())
    rows = config.vocab_size
    size = rows + 400
    set_seed(1)  # mindtorch's CPU normal_ draws from numpy's global generator, which set_seed seeds
    msgpt.models.classifier.resize_token_embeddings(ours, size)
    after_ours = torch.empty(8).normal_().numpy()
    set_seed(1)
    theirs.resize_token_embeddings(size, mean_resizing=False)
    msgpt.models.classifier.rebuild_embedding_parameter(theirs)  # HF's rows read back sound
    after_theirs = torch.empty(8).normal_().numpy()
    weight = ours.get_input_embeddings().weight
    assert tuple(torch.zeros_like(weight).shape) == (size, 32)  # a sound parameter (HF's is not, below)
    for model in (ours, theirs):
        weight = model.get_input_embeddings().weight
        assert tuple(weight.shape) == (size, 32)
        assert (model.config.vocab_size, model.vocab_size, model.get_input_embeddings().num_embeddings) == (size,) * 3
        assert (model.lm_head.weight is weight) == tied and tuple(model.lm_head.weight.shape) == (size, 32)
    new, old = (model.get_input_embeddings().weight.detach().numpy() for model in (ours, theirs))
    np.testing.assert_array_equal(new, old)  # old rows kept, and HF's draws for the new ones
    np.testing.assert_array_equal(after_ours, after_theirs)  # what is drawn next is drawn alike
    assert abs(new[rows:].std() - 0.5) < 0.05  # at the model's initializer_range
    assert any(p is ours.get_input_embeddings().weight for p in ours.trainable_params())
    msgpt.models.classifier.resize_token_embeddings(ours, rows)  # and back down: rows cut
    np.testing.assert_array_equal(ours.get_input_embeddings().weight.detach().numpy(), old[:rows])


def test_mindtorch_still_needs_the_embedding_rebuild(tiny_config, tokenizer):
    """When this fails, HF's resize leaves a sound parameter on mindtorch and
    msgpt.models.classifier.rebuild_embedding_parameter can be removed."""
    model = OpenAIGPTForSequenceClassification(tiny_config)
    model.resize_token_embeddings(len(tokenizer), mean_resizing=False)
    weight = model.get_input_embeddings().weight
    assert tuple(torch.zeros_like(weight).shape) != tuple(weight.shape)


def test_preparing_twice_changes_nothing(tiny_model, tokenizer):
    before = tiny_model.get_input_embeddings().weight.detach().numpy().copy()
    msgpt.prepare_model(tiny_model, tokenizer)
    np.testing.assert_array_equal(tiny_model.get_input_embeddings().weight.detach().numpy(), before)


@pytest.mark.parametrize("max_length", [None, 64])
def test_right_padded_batch_gives_each_sample_its_own_logits(tiny_model, tokenizer, max_length):
    texts = ["a great film.", "the plot was long and the acting was bad and boring.", "sad."]
    encoded = msgpt.encode_texts(tokenizer, texts, 64)
    input_ids, attention_mask = pad_right(encoded, tokenizer.pad_token_id, max_length)
    assert len({len(ids) for ids in encoded}) == 3  # the batch really is padded
    longest = max(len(ids) for ids in encoded)
    assert input_ids.shape[1] == (longest if max_length is None else 32)  # rounded up as the pipeline does
    batch = _logits(tiny_model, input_ids, attention_mask)
    for row, ids in enumerate(encoded):
        alone = _logits(tiny_model, [ids], np.ones((1, len(ids)), dtype=np.int32))
        np.testing.assert_allclose(batch[row], alone[0], rtol=1e-4, atol=1e-5)


def test_head_reads_the_eos_position(tiny_model, tokenizer):
    ids = msgpt.encode_text(tokenizer, "a great film.", 64)
    changed = list(ids)
    changed[-1] = tokenizer.bos_token_id  # same length, different last token
    assert not np.allclose(_logits(tiny_model, [ids]), _logits(tiny_model, [changed]))


def test_save_and_load_give_identical_logits(tiny_model, tokenizer, tmp_path):
    folder = msgpt.save_pretrained(tiny_model, tokenizer, tmp_path / "best")
    assert (folder / "model.safetensors").is_file()
    assert not list(tmp_path.glob(".best*"))  # no temporary folder left behind
    ids = [msgpt.encode_text(tokenizer, "the acting was great.", 64)]

    model, loaded_tokenizer = msgpt.load_pretrained(folder)
    assert loaded_tokenizer.get_vocab() == tokenizer.get_vocab()
    assert loaded_tokenizer.pad_token == "<pad>"
    np.testing.assert_array_equal(_logits(model, ids), _logits(tiny_model, ids))

    plain = OpenAIGPTForSequenceClassification.from_pretrained(folder)
    plain.eval()
    np.testing.assert_array_equal(_logits(plain, ids), _logits(tiny_model, ids))


def test_saving_again_replaces_the_folder_atomically(tiny_model, tokenizer, tmp_path):
    folder = msgpt.save_pretrained(tiny_model, tokenizer, tmp_path / "best")
    (folder / "stale.txt").write_text("from an older save")
    msgpt.save_pretrained(tiny_model, tokenizer, folder)
    assert not (folder / "stale.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best"]


def test_model_name_that_is_a_local_folder_loads_without_the_hub(
    tiny_model, tokenizer, tmp_path, monkeypatch
):
    msgpt.save_pretrained(tiny_model, tokenizer, tmp_path / "openai-gpt")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(hub, "hub_reachable", lambda timeout=5.0: pytest.fail("hub was contacted"))
    model = msgpt.load_model("openai-gpt", msgpt.load_tokenizer("openai-gpt", fast=True))
    ids = [msgpt.encode_text(tokenizer, "a film.", 64)]
    np.testing.assert_array_equal(_logits(model, ids), _logits(tiny_model, ids))


def test_unreachable_hub_fails_fast_with_the_offline_options(tokenizer, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setattr(hub, "hub_reachable", lambda timeout=5.0: False)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(msgpt.HubUnavailableError, match="--demo"):
        msgpt.load_model("openai-gpt", tokenizer)
    with pytest.raises(msgpt.HubUnavailableError, match="local folder"):
        msgpt.load_tokenizer("openai-gpt")


def test_model_folder_without_weights(tmp_path, tokenizer, tiny_config):
    tiny_config.save_pretrained(tmp_path)
    with pytest.raises(FileNotFoundError, match="model.safetensors"):
        msgpt.load_model(tmp_path, tokenizer)


@pytest.mark.parametrize("num_labels", [1, 0, -2])
def test_num_labels_below_two_is_rejected(tiny_config, tokenizer, num_labels):
    with pytest.raises(ValueError, match="num_labels"):
        msgpt.build_model(tiny_config, tokenizer, num_labels=num_labels)


def test_max_length_above_positions_is_rejected(tiny_model):
    assert msgpt.check_max_length(tiny_model, 64) == 64
    with pytest.raises(ValueError, match="above the model's 64 positions"):
        msgpt.check_max_length(tiny_model, 65)


def test_tokenizer_without_pad_is_rejected(tiny_config, tokenizer_dir):
    bare = msgpt.load_tokenizer(tokenizer_dir, add_special=False, fast=True)
    with pytest.raises(ValueError, match="no pad token"):
        msgpt.build_model(tiny_config, bare)
