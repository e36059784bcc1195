"""Small MindSpore datasets and models for the training tests (offline, CPU, tiny)."""

from __future__ import annotations

import mindspore.dataset as ds
import numpy as np
import torch

import msgpt

COLUMNS = ["input_ids", "attention_mask", "labels"]
SEQ_LEN = 16


def separable_rows(tokenizer, n: int, seed: int, seq_len: int = SEQ_LEN) -> list[tuple]:
    """``<bos> body <eos> <pad>...`` rows whose label says which half of the vocabulary
    the body comes from: a task a tiny GPT learns in a few steps."""
    rng = np.random.default_rng(seed)
    vocab = tokenizer.vocab_size  # ids below the special tokens
    rows = []
    for _ in range(n):
        label = int(rng.integers(0, 2))
        length = int(rng.integers(4, seq_len + 1))
        low, high = (1, vocab // 2) if label == 0 else (vocab // 2, vocab)
        ids = np.full(seq_len, tokenizer.pad_token_id, np.int32)
        ids[:length] = [tokenizer.bos_token_id, *rng.integers(low, high, length - 2), tokenizer.eos_token_id]
        mask = (np.arange(seq_len) < length).astype(np.int32)
        rows.append((ids, mask, np.int32(label)))
    return rows


def mindspore_dataset(rows: list[tuple], batch_size: int, shuffle: bool = False, seed: int = 7):
    """A batched ``GeneratorDataset``; shuffled by a sampler with its own seed (as
    ``msgpt.data`` does), so the order does not depend on global random state."""
    if shuffle:
        sampler = ds.DistributedSampler(1, 0, shuffle=True)
        sampler.seed = seed
        dataset = ds.GeneratorDataset(rows, COLUMNS, sampler=sampler)
    else:
        dataset = ds.GeneratorDataset(rows, COLUMNS, shuffle=False)
    return dataset.batch(batch_size)


def tiny_classifier(tokenizer, seed: int = 0, **overrides):
    """A 2-layer, 32-wide GPT classifier without dropout (deterministic)."""
    torch.manual_seed(seed)
    settings = dict(
        n_positions=SEQ_LEN, n_embd=32, n_layer=2, n_head=2,
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, summary_first_dropout=0.0,
    )
    settings.update(overrides)
    config = msgpt.small_gpt_config(tokenizer.vocab_size, **settings)
    return msgpt.build_model(config, tokenizer, num_labels=2)


def batch_tensors(rows: list[tuple]) -> dict[str, torch.Tensor]:
    """The rows as one batch of mindtorch tensors, as the loader yields them."""
    return {
        name: torch.tensor(np.stack([row[i] for row in rows]))
        for i, name in enumerate(COLUMNS)
    }
