"""GPT-1's first stage in msgpt: the LM loss, the saved folder, and what fine-tuning reads back."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import make_texts
from safetensors.numpy import load_file

import msgpt
from msgpt.data import pack_texts
from msgpt.models.language_model import document_separator_id
from msgpt.recipes.pretraining import check_block_size, lm_trainer, perplexity
from msgpt.tokens.bpe import DOCUMENT_SEPARATOR

BLOCK = 16


@pytest.fixture()
def lm_tokenizer(tokenizer_dir):
    """The tiny vocabulary as pre-training sees it: no classification tokens."""
    return msgpt.load_tokenizer(tokenizer_dir, add_special=False, fast=True)


@pytest.fixture()
def lm(lm_tokenizer):
    import torch

    torch.manual_seed(0)
    config = msgpt.small_gpt_config(len(lm_tokenizer), n_positions=32, n_embd=32, n_layer=2, n_head=2,
                                    resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    return msgpt.build_language_model(config, lm_tokenizer)


def _numpy(tensor) -> np.ndarray:
    return tensor.detach().numpy().copy()


def test_scratch_vocabularies_end_documents_with_their_own_separator(lm_tokenizer, tokenizer):
    separator = document_separator_id(lm_tokenizer)
    assert separator == lm_tokenizer.get_vocab()[DOCUMENT_SEPARATOR]
    assert not {"<bos>", "<eos>", "<pad>"} & set(lm_tokenizer.get_vocab())
    # A text cannot produce it: the pre-tokeniser splits its characters apart.
    assert separator not in lm_tokenizer(f"a film {DOCUMENT_SEPARATOR} a plot")["input_ids"]
    blocks = pack_texts(["a film.", "the plot."], lm_tokenizer, block_size=4, separator_id=separator)
    assert separator in blocks


def test_lm_loss_of_a_packed_batch_is_the_mean_next_token_loss_by_hand(lm, lm_tokenizer, tmp_path):
    """The loss the Trainer trains on is the plain mean over every next-token prediction
    of the batch: B x (T - 1) targets, nothing masked."""
    import torch

    separator = document_separator_id(lm_tokenizer)
    blocks = pack_texts(make_texts(120, seed=4), lm_tokenizer, block_size=BLOCK, separator_id=separator)
    trainer = lm_trainer(lm, lm_tokenizer, blocks, blocks[:8], tmp_path, batch_size=8, disable_tqdm=True)
    batch = next(iter(trainer.get_train_dataloader()))
    ids = batch["input_ids"].numpy()
    lm.eval()  # no dropout in this config: the same function either way
    with torch.no_grad():
        logits = _numpy(lm(input_ids=batch["input_ids"]).logits).astype(np.float64)
    shifted = logits[:, :-1]
    log_probs = shifted - shifted.max(-1, keepdims=True)
    log_probs -= np.log(np.exp(log_probs).sum(-1, keepdims=True))
    targets = ids[:, 1:]
    by_hand = -np.take_along_axis(log_probs, targets[..., None], axis=-1).mean()
    # What HF's training loop would pass: one item per label, B x T; ignored, so the loss
    # is the mean and not (T - 1) / T of it.
    counted = torch.tensor(ids.size)
    trained_on = float(trainer.compute_loss(lm, dict(batch), num_items_in_batch=counted))
    assert trained_on == pytest.approx(by_hand, rel=1e-5)
    assert not trainer.model_accepts_loss_kwargs
    assert float(trainer.evaluate()["eval_loss"]) > 0


def test_block_size_must_fit_the_model_positions(lm):
    assert check_block_size(lm, 32) == 32
    with pytest.raises(ValueError, match="block size 64 is above the model's 32 positions"):
        check_block_size(lm, 64)
    assert perplexity(np.log(20.0)) == pytest.approx(20.0) and perplexity(1e4) == float("inf")


def _pretrained_folder(lm, lm_tokenizer, folder):
    import torch

    with torch.no_grad():  # not the initialisation: weights that can only come from the folder
        for parameter in lm.parameters():
            parameter.add_(torch.tensor(np.full(parameter.shape, 0.01, dtype=np.float32)))
    return msgpt.save_language_model(lm, lm_tokenizer, folder)


def test_a_pretrained_folder_has_the_hub_layout_and_fine_tunes_like_openai_gpt(lm, lm_tokenizer, tmp_path):
    folder = _pretrained_folder(lm, lm_tokenizer, tmp_path / "pretrained")
    for name in ("config.json", "model.safetensors", "vocab.json", "merges.txt"):
        assert (folder / name).is_file(), name
    config = json.loads((folder / "config.json").read_text())
    assert config["model_type"] == "openai-gpt" and config["vocab_size"] == len(lm_tokenizer)
    saved = load_file(str(folder / "model.safetensors"))
    rows = len(lm_tokenizer)
    assert saved["transformer.tokens_embed.weight"].shape[0] == rows
    vocab = json.loads((folder / "vocab.json").read_text())
    assert not {"<bos>", "<eos>", "<pad>"} & set(vocab)

    # Fine-tuning reads it as it reads openai-gpt: three tokens added, rows kept, head fresh.
    tokenizer = msgpt.load_tokenizer(folder, fast=True)
    assert len(tokenizer) == rows + 3
    model = msgpt.load_model(folder, tokenizer, num_labels=2)
    embeddings = _numpy(model.get_input_embeddings().weight)
    assert embeddings.shape[0] == rows + 3
    np.testing.assert_array_equal(embeddings[:rows], saved["transformer.tokens_embed.weight"])
    state = {name: _numpy(p) for name, p in model.named_parameters()}
    np.testing.assert_array_equal(state["transformer.h.1.mlp.c_fc.weight"], saved["transformer.h.1.mlp.c_fc.weight"])
    # The auxiliary LM loss reads the (resized) input embeddings: the head GPT-1 ties.
    assert model.get_input_embeddings().weight.shape[0] == len(tokenizer)

    # As a language model again (continued pre-training with the new tokens): still tied.
    continued = msgpt.load_language_model(folder, tokenizer)
    assert continued.lm_head.weight is continued.get_input_embeddings().weight
    np.testing.assert_array_equal(_numpy(continued.lm_head.weight)[:rows], saved["transformer.tokens_embed.weight"])


def test_continued_pretraining_starts_from_the_folder_weights(lm, lm_tokenizer, tmp_path):
    folder = _pretrained_folder(lm, lm_tokenizer, tmp_path / "pretrained")
    saved = load_file(str(folder / "model.safetensors"))
    tokenizer = msgpt.load_tokenizer(folder, add_special=False, fast=True)
    model = msgpt.load_language_model(folder, tokenizer)
    for name, parameter in model.named_parameters():
        np.testing.assert_array_equal(_numpy(parameter), saved[name], err_msg=name)
    assert model.lm_head.weight is model.get_input_embeddings().weight


def test_a_folder_that_is_not_a_gpt_is_refused(tmp_path, lm_tokenizer):
    folder = tmp_path / "bert"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "bert"}))
    (folder / "model.safetensors").write_bytes(b"")
    with pytest.raises(ValueError, match="holds a bert, not a GPT-1 \\(openai-gpt\\) model"):
        msgpt.load_language_model(folder, lm_tokenizer)
    with pytest.raises(FileNotFoundError, match="has no config.json"):
        msgpt.load_language_model(tmp_path, lm_tokenizer)
