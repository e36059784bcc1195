"""Similarity and multiple-choice models: the paper's heads, the task in the config, the
auxiliary LM loss on grouped sequences, and a Trainer run of each."""

from __future__ import annotations

import json

from msgpt.backend import compiled

import mindspore.dataset as ds
import numpy as np
import pytest
import torch
from transformers import OpenAIGPTForSequenceClassification, OpenAIGPTLMHeadModel, OpenAIGPTModel

import msgpt
from msgpt.models.task_heads import OpenAIGPTForMultipleChoice, OpenAIGPTForSimilarity
from msgpt.tokens.tasks import TASKS
from msgpt.training import make_trainer, training_arguments
from msgpt.training.lm_loss import lm_loss_of_model

SEQ_LEN = 16
CLASSES = {"single": OpenAIGPTForSequenceClassification, "pair": OpenAIGPTForSequenceClassification,
           "similarity": OpenAIGPTForSimilarity, "choice": OpenAIGPTForMultipleChoice}


def _sequence(tokenizer, rng, length, low=1, high=None):
    """``<bos> body <eos>`` right-padded to SEQ_LEN, and its attention mask."""
    high = high or tokenizer.vocab_size
    ids = np.full(SEQ_LEN, tokenizer.pad_token_id, np.int32)
    ids[:length] = [tokenizer.bos_token_id, *rng.integers(low, high, length - 2), tokenizer.eos_token_id]
    return ids, (np.arange(SEQ_LEN) < length).astype(np.int32)


def _grouped(tokenizer, batch, sequences, seed=0):
    """``[batch, sequences, SEQ_LEN]`` ids and mask, every sequence of its own length."""
    rng = np.random.default_rng(seed)
    pairs = [_sequence(tokenizer, rng, int(rng.integers(3, SEQ_LEN + 1))) for _ in range(batch * sequences)]
    ids = np.stack([p[0] for p in pairs]).reshape(batch, sequences, SEQ_LEN)
    mask = np.stack([p[1] for p in pairs]).reshape(batch, sequences, SEQ_LEN)
    return ids, mask


def _model(tiny_config, tokenizer, task, num_labels=3):
    torch.manual_seed(0)
    model = msgpt.build_model(tiny_config, tokenizer, num_labels=num_labels, task=task)
    model.eval()
    return model


def _outputs(model, ids, mask, **kwargs):
    with torch.no_grad():
        return model(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask), **kwargs)


def _logits(model, ids, mask):
    return _outputs(model, ids, mask).logits.numpy()


# -- the heads ---------------------------------------------------------------------------
def test_similarity_adds_the_two_eos_states_whatever_their_order(tiny_config, tokenizer):
    model = _model(tiny_config, tokenizer, "similarity")
    ids, mask = _grouped(tokenizer, 4, 2)
    logits = _logits(model, ids, mask)
    assert logits.shape == (4, 3)
    np.testing.assert_allclose(_logits(model, ids[:, ::-1].copy(), mask[:, ::-1].copy()), logits, atol=1e-6)

    # By hand: each order alone through the transformer, its state at <eos>, summed, the head.
    lengths = mask.sum(-1)
    summed = np.zeros((4, tiny_config.n_embd), np.float32)
    for order in range(2):
        with torch.no_grad():
            hidden = model.transformer(
                input_ids=torch.tensor(ids[:, order].copy()), attention_mask=torch.tensor(mask[:, order].copy())
            ).last_hidden_state.numpy()
        summed += hidden[np.arange(4), lengths[:, order] - 1]
    by_hand = summed @ model.score.weight.detach().numpy().T
    np.testing.assert_allclose(logits, by_hand, rtol=1e-4, atol=1e-5)


def test_similarity_takes_two_orders_only(tiny_config, tokenizer):
    model = _model(tiny_config, tokenizer, "similarity")
    ids, mask = _grouped(tokenizer, 2, 3)
    with pytest.raises(ValueError, match="2 sequences per example"):
        _outputs(model, ids, mask)
    with pytest.raises(ValueError, match=r"input_ids \[batch, sequences, seq\]"):
        _outputs(model, ids[:, 0].copy(), mask[:, 0].copy())


def test_choice_scores_each_candidate_and_follows_their_order(tiny_config, tokenizer):
    model = _model(tiny_config, tokenizer, "choice", num_labels=4)
    ids, mask = _grouped(tokenizer, 3, 4, seed=1)
    out = _outputs(model, ids, mask, labels=torch.tensor(np.array([0, 3, 1], np.int32)))
    logits = out.logits.numpy()
    assert logits.shape == (3, 4)
    probs = torch.softmax(out.logits, dim=-1).numpy()
    np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-6)
    assert len({tuple(row) for row in np.round(logits, 5)}) == 3  # the candidates really differ

    order = [2, 0, 3, 1]
    np.testing.assert_allclose(_logits(model, ids[:, order], mask[:, order]), logits[:, order], atol=1e-6)

    # Loss: cross-entropy over the candidates; one score per candidate, from its <eos>.
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    assert float(out.loss) == pytest.approx(-np.mean(log_probs[np.arange(3), [0, 3, 1]]), rel=1e-5)
    lengths = mask.sum(-1).reshape(-1)
    with torch.no_grad():
        hidden = model.transformer(
            input_ids=torch.tensor(ids.reshape(12, SEQ_LEN)), attention_mask=torch.tensor(mask.reshape(12, SEQ_LEN))
        ).last_hidden_state.numpy()
    by_hand = hidden[np.arange(12), lengths - 1] @ model.score.weight.detach().numpy().T
    np.testing.assert_allclose(logits, by_hand.reshape(3, 4), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("task", ["similarity", "choice"])
def test_head_reads_eos_not_the_padding(tiny_config, tokenizer, task):
    model = _model(tiny_config, tokenizer, task)
    ids, mask = _grouped(tokenizer, 2, 2, seed=2)
    logits = _logits(model, ids, mask)
    # More padding after <eos>: the last position moves, <eos> does not.
    more_ids = np.concatenate([ids, np.full((2, 2, 8), tokenizer.pad_token_id, np.int32)], -1)
    more_mask = np.concatenate([mask, np.zeros((2, 2, 8), np.int32)], -1)
    np.testing.assert_allclose(_logits(model, more_ids, more_mask), logits, rtol=1e-4, atol=1e-5)
    # While the token at <eos> itself counts.
    changed = ids.copy()
    changed[0, 0, mask[0, 0].sum() - 1] = tokenizer.bos_token_id
    assert not np.allclose(_logits(model, changed, mask)[0], logits[0])


def test_hidden_states_are_those_of_the_flattened_sequences(tiny_config, tokenizer):
    model = _model(tiny_config, tokenizer, "choice")
    ids, mask = _grouped(tokenizer, 2, 3, seed=3)
    hidden = _outputs(model, ids, mask, output_hidden_states=True).hidden_states
    assert len(hidden) == tiny_config.n_layer + 1
    assert tuple(hidden[-1].shape) == (6, SEQ_LEN, tiny_config.n_embd)
    assert _outputs(model, ids, mask).hidden_states is None


@pytest.mark.parametrize("task", ["similarity", "choice"])
def test_compiled_blocks_run_the_flattened_sequences_as_hfs_forward_does(tiny_config, tokenizer, task):
    model = _model(tiny_config, tokenizer, task)
    ids, mask = _grouped(tokenizer, 3, 2, seed=6)
    assert compiled.installed()
    before = compiled.compile_stats()
    logits = _logits(model, ids, mask)
    after = compiled.compile_stats()
    assert (after.calls - before.calls, after.fallbacks - before.fallbacks) == (tiny_config.n_layer, 0)
    compiled.uninstall()
    try:
        np.testing.assert_allclose(_logits(model, ids, mask), logits, rtol=1e-4, atol=1e-5)
    finally:
        compiled.install()


@pytest.mark.parametrize("task", ["similarity", "choice"])
def test_lm_loss_of_grouped_sequences_is_that_of_the_flat_batch(tiny_config, tokenizer, task):
    model = _model(tiny_config, tokenizer, task)
    ids, mask = _grouped(tokenizer, 3, 2, seed=4)
    hidden = _outputs(model, ids, mask, output_hidden_states=True).hidden_states[-1]
    with torch.no_grad():
        inputs = {"input_ids": torch.tensor(ids), "attention_mask": torch.tensor(mask)}
        got = float(lm_loss_of_model(model, hidden, inputs))

    # By hand, in NumPy: next-token cross-entropy of the 6 sequences, padded targets left out.
    flat_ids, flat_mask = ids.reshape(6, SEQ_LEN), mask.reshape(6, SEQ_LEN)
    logits = hidden.numpy()[:, :-1].astype(np.float64) @ model.get_input_embeddings().weight.detach().numpy().T
    logits -= logits.max(-1, keepdims=True)
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    nll = -np.take_along_axis(log_probs, flat_ids[:, 1:, None].astype(np.int64), -1)[..., 0]
    weights = flat_mask[:, 1:]
    assert got == pytest.approx(float((nll * weights).sum() / weights.sum()), rel=1e-5)


# -- build, prepare, save, load ----------------------------------------------------------
@pytest.mark.parametrize("task", TASKS)
def test_each_task_saves_and_loads_as_its_own_class(tiny_config, tokenizer, tmp_path, task):
    model = _model(tiny_config, tokenizer, task)
    assert type(model) is CLASSES[task]
    folder = msgpt.save_pretrained(model, tokenizer, tmp_path / "best", max_seq_len=SEQ_LEN)
    config = json.loads((folder / "config.json").read_text())
    assert config["msgpt"] == {"task": task, "max_seq_len": SEQ_LEN, "truncation_side": tokenizer.truncation_side}
    assert msgpt.read_model_folder(folder).task == task

    loaded, _ = msgpt.load_pretrained(folder, fast=True)
    assert type(loaded) is CLASSES[task]
    ids, mask = _grouped(tokenizer, 2, 2, seed=5)
    if task in ("single", "pair"):
        ids, mask = ids[:, 0].copy(), mask[:, 0].copy()
    np.testing.assert_array_equal(_logits(loaded, ids, mask), _logits(model, ids, mask))


@pytest.mark.parametrize("layout", ["hub", "language model"])
def test_pretrained_transformer_weights_load_into_the_grouped_models(tiny_config, tokenizer, tmp_path, layout):
    """The hub's openai-gpt holds a bare transformer (no prefix); a language model saved by
    msgpt holds it under ``transformer.``: both fill the new models' transformer."""
    torch.manual_seed(1)
    tiny_config.vocab_size = tokenizer.vocab_size  # pre-trained without the fine-tuning tokens
    source = OpenAIGPTModel(tiny_config) if layout == "hub" else OpenAIGPTLMHeadModel(tiny_config)
    source.save_pretrained(tmp_path / "pretrained", safe_serialization=True)
    bare = source if layout == "hub" else source.transformer
    saved = {name: p.detach().numpy() for name, p in bare.named_parameters()}
    for task in ("similarity", "choice"):
        model = msgpt.load_model(tmp_path / "pretrained", tokenizer, num_labels=3, task=task)
        state = {name: p.detach().numpy() for name, p in model.transformer.named_parameters()}
        np.testing.assert_array_equal(state["h.1.mlp.c_fc.weight"], saved["h.1.mlp.c_fc.weight"])
        rows = tokenizer.vocab_size
        np.testing.assert_array_equal(state["tokens_embed.weight"][:rows], saved["tokens_embed.weight"])
        assert state["tokens_embed.weight"].shape[0] == len(tokenizer)


def test_folder_without_a_task_is_single_and_tasks_do_not_mix(tiny_config, tokenizer, tmp_path):
    folder = msgpt.save_pretrained(_model(tiny_config, tokenizer, "similarity"), tokenizer, tmp_path / "sim")
    with pytest.raises(ValueError, match="holds a 'similarity' model, not a 'single' one"):
        msgpt.load_model(folder, tokenizer, num_labels=3)
    with pytest.raises(ValueError, match="holds a 'similarity' model, not a 'choice' one"):
        msgpt.load_model(folder, tokenizer, num_labels=3, task="choice")  # a head of another shape

    config_file = folder / "config.json"
    config = json.loads(config_file.read_text())
    del config["msgpt"]  # as saved before msgpt had tasks
    config_file.write_text(json.dumps(config))
    assert msgpt.read_model_folder(folder).task == "single"
    assert type(msgpt.load_pretrained(folder, fast=True)[0]) is OpenAIGPTForSequenceClassification
    # A folder that records no task can start another task (as a pre-trained language model does).
    assert type(msgpt.load_model(folder, tokenizer, num_labels=3, task="similarity")) is OpenAIGPTForSimilarity

    config["msgpt"] = {"task": "ranking"}
    config_file.write_text(json.dumps(config))
    with pytest.raises(ValueError, match="config.json: task must be one of single, pair, similarity, choice"):
        msgpt.read_model_folder(folder)


def test_unknown_task_is_rejected_with_the_four(tiny_config, tokenizer):
    with pytest.raises(ValueError, match="task must be one of single, pair, similarity, choice, got 'ranking'"):
        msgpt.build_model(tiny_config, tokenizer, task="ranking")


@pytest.mark.parametrize("task", ["similarity", "choice"])
def test_prepare_model_resizes_keeping_old_rows(tiny_config, tokenizer, task):
    model = _model(tiny_config, tokenizer, task)
    old = model.get_input_embeddings().weight.detach().numpy().copy()
    tokenizer.add_special_tokens({"additional_special_tokens": ["<delim>"]})
    msgpt.prepare_model(model, tokenizer)
    new = model.get_input_embeddings().weight.detach().numpy()
    assert new.shape[0] == len(tokenizer) == old.shape[0] + 1
    np.testing.assert_array_equal(new[: old.shape[0]], old)
    assert (model.config.pad_token_id, model.config.eos_token_id) == (tokenizer.pad_token_id, tokenizer.eos_token_id)


# -- the Trainer -------------------------------------------------------------------------
def _choice_rows(tokenizer, n, candidates, seed):
    """The right candidate's body comes from the upper half of the vocabulary, the
    others' from the lower half."""
    rng = np.random.default_rng(seed)
    half = tokenizer.vocab_size // 2
    rows = []
    for _ in range(n):
        label = int(rng.integers(0, candidates))
        sequences = [
            _sequence(tokenizer, rng, int(rng.integers(4, SEQ_LEN + 1)), *((half, None) if k == label else (1, half)))
            for k in range(candidates)
        ]
        rows.append((np.stack([s[0] for s in sequences]), np.stack([s[1] for s in sequences]), np.int32(label)))
    return rows


def _similarity_rows(tokenizer, n, seed):
    """``<bos> A <delim> B <eos>`` and ``<bos> B <delim> A <eos>``; label 1 when both
    texts come from the upper half of the vocabulary, 0 when from the lower half."""
    rng = np.random.default_rng(seed)
    half = tokenizer.vocab_size // 2
    delim = tokenizer.convert_tokens_to_ids("<delim>")
    rows = []
    for _ in range(n):
        label = int(rng.integers(0, 2))
        low, high = (half, tokenizer.vocab_size) if label else (1, half)
        a, b = (list(rng.integers(low, high, int(rng.integers(1, 6)))) for _ in range(2))
        ids = np.full((2, SEQ_LEN), tokenizer.pad_token_id, np.int32)
        for order, (first, second) in enumerate(((a, b), (b, a))):
            tokens = [tokenizer.bos_token_id, *first, delim, *second, tokenizer.eos_token_id]
            ids[order, : len(tokens)] = tokens
        rows.append((ids, (ids != tokenizer.pad_token_id).astype(np.int32), np.int32(label)))
    return rows


def _dataset(rows, batch):
    columns = [np.stack([row[i] for row in rows]) for i in range(3)]
    return ds.NumpySlicesDataset(
        {"input_ids": columns[0], "attention_mask": columns[1], "labels": columns[2]}, shuffle=False
    ).batch(batch)


@pytest.mark.parametrize("task", ["similarity", "choice"])
def test_trainer_trains_evaluates_and_saves_grouped_models(tiny_config, tokenizer, tmp_path, task):
    tokenizer.add_special_tokens({"additional_special_tokens": ["<delim>"]})  # before the model is built
    labels = 2 if task == "similarity" else 3
    make = (lambda n, seed: _similarity_rows(tokenizer, n, seed)) if task == "similarity" \
        else (lambda n, seed: _choice_rows(tokenizer, n, 3, seed))
    train, val_rows = make(32, 1), make(12, 2)
    first_loss = {}
    for lm_coef in (0.0, 0.5):
        model = _model(tiny_config, tokenizer, task, num_labels=labels)
        model.train()
        args = training_arguments(
            str(tmp_path / f"run-{lm_coef}"), learning_rate=3e-3, warmup_ratio=0.0, num_train_epochs=1,
            per_device_train_batch_size=8, per_device_eval_batch_size=8, logging_steps=1, disable_tqdm=True,
            seed=0, save_strategy="no", load_best_model_at_end=False,
        )
        trainer = make_trainer(model, tokenizer, _dataset(train, 8), _dataset(val_rows, 8), args, lm_coef=lm_coef)
        trainer.train()
        steps = [h for h in trainer.state.log_history if "loss" in h]
        assert len(steps) == 4 and all(np.isfinite(h["loss"]) and np.isfinite(h["grad_norm"]) for h in steps)
        first_loss[lm_coef] = steps[0]["loss"]

        metrics = trainer.evaluate()
        output = trainer.predict(_dataset(val_rows, 8))
        assert output.predictions.shape == (12, labels)
        expected = [row[2] for row in val_rows]
        np.testing.assert_array_equal(output.label_ids, expected)
        assert metrics["eval_accuracy"] == pytest.approx(np.mean(output.predictions.argmax(-1) == expected))

    # Same start, same first batch: λ × the LM loss (about log(vocab) = 5 untrained) on top.
    assert first_loss[0.5] > first_loss[0.0] + 1.0

    folder = msgpt.save_pretrained(trainer.model, tokenizer, tmp_path / "best", max_seq_len=SEQ_LEN)
    loaded, _ = msgpt.load_pretrained(folder, fast=True)
    trainer.model.eval()
    ids = np.stack([row[0] for row in val_rows])
    mask = np.stack([row[1] for row in val_rows])
    np.testing.assert_array_equal(_logits(loaded, ids, mask), _logits(trainer.model, ids, mask))
