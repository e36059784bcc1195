"""Unlabelled text packed into full blocks for language modelling."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_texts

from msgpt.data import DataError, lm_dataset, pack_texts, pack_token_ids

SEP = 0


def test_documents_are_joined_by_the_separator_and_cut_into_full_blocks():
    blocks = pack_token_ids([[1, 2, 3], [4, 5], [6]], block_size=3, separator_id=SEP)
    assert blocks.dtype == np.int32
    assert blocks.tolist() == [[1, 2, 3], [0, 4, 5], [0, 6, 0]]  # nothing is padding
    tail = pack_token_ids([[1, 2, 3], [4, 5]], block_size=4, separator_id=SEP)
    assert tail.tolist() == [[1, 2, 3, 0]]  # the unfilled tail [4, 5, 0] is left out


def test_every_token_lands_in_exactly_one_block_in_order_and_only_the_short_tail_is_left():
    rng = np.random.default_rng(0)
    documents = [list(rng.integers(1, 50, size=rng.integers(1, 30))) for _ in range(40)]
    for separator in (SEP, None):  # GPT-1's own vocabulary has no separator: joined back to back
        stream = [t for doc in documents for t in [*doc, *([] if separator is None else [separator])]]
        blocks = pack_token_ids(documents, block_size=7, separator_id=separator)
        flat = blocks.reshape(-1).tolist()
        assert flat == stream[: len(flat)] and len(stream) - len(flat) < 7
        assert blocks.shape[1] == 7 and (separator is not None or SEP not in flat)


def test_too_little_text_or_a_bad_block_size_is_refused():
    with pytest.raises(DataError, match="fewer than one block of 8"):
        pack_token_ids([[1, 2], [3]], block_size=8, separator_id=SEP)
    with pytest.raises(ValueError, match="block_size"):
        pack_token_ids([[1, 2]], block_size=1, separator_id=SEP)


def test_texts_round_trip_through_the_tokenizer(tokenizer):
    texts = make_texts(20, seed=3)
    sep = tokenizer.eos_token_id
    blocks = pack_texts(texts, tokenizer, block_size=16, separator_id=sep)
    stream = blocks.reshape(-1).tolist()
    expected = [i for text in texts for i in [*tokenizer.encode(text, add_special_tokens=False), sep]]
    assert len(expected) - 16 < len(stream) <= len(expected) and stream == expected[: len(stream)]
    assert tokenizer.pad_token_id not in stream and tokenizer.bos_token_id not in stream
    with pytest.raises(DataError, match="empty document"):
        pack_texts(["a film", "  "], tokenizer, block_size=4, separator_id=sep)


def _rows(dataset, epochs=1):
    iterator = dataset.create_dict_iterator(output_numpy=True, num_epochs=epochs)
    return [b for _ in range(epochs) for b in iterator]


def test_lm_batches_have_labels_equal_to_inputs_and_no_padding():
    blocks = np.arange(40 * 8, dtype=np.int32).reshape(40, 8)
    batches = _rows(lm_dataset(blocks, batch_size=16))
    assert [b["input_ids"].shape for b in batches] == [(16, 8), (16, 8), (8, 8)]
    for b in batches:
        np.testing.assert_array_equal(b["labels"], b["input_ids"])
        assert b["attention_mask"].all()
    assert np.concatenate([b["input_ids"] for b in batches]).tolist() == blocks.tolist()


def test_lm_shuffle_is_seeded_and_data_parallel_ranks_split_each_batch():
    blocks = np.arange(32 * 4, dtype=np.int32).reshape(32, 4)
    one = _rows(lm_dataset(blocks, batch_size=8, shuffle=True, seed=1), epochs=2)
    again = _rows(lm_dataset(blocks, batch_size=8, shuffle=True, seed=1), epochs=2)
    assert again[0]["input_ids"].tolist() == one[0]["input_ids"].tolist()
    assert one[0]["input_ids"].tolist() != one[4]["input_ids"].tolist()  # a new order in epoch 2
    ranks = [_rows(lm_dataset(blocks, batch_size=4, shuffle=True, seed=1, num_shards=2, shard_id=r), epochs=2)
             for r in (0, 1)]
    assert len(ranks[0]) == len(ranks[1]) == len(one) == 8
    for step, batch in enumerate(one):
        together = np.concatenate([ranks[0][step]["input_ids"], ranks[1][step]["input_ids"]])
        assert together.tolist() == batch["input_ids"].tolist()


def test_an_lm_head_model_learns_from_packed_blocks_through_the_trainer(tokenizer, tmp_path):
    """The Trainer stack (AdamW, schedule, clipping, checkpoints) pre-trains a causal LM."""
    import torch
    from transformers import OpenAIGPTLMHeadModel

    import msgpt
    from msgpt.training import MindSporeTrainer, training_arguments

    sep = tokenizer.eos_token_id
    train = pack_texts(make_texts(400, seed=1), tokenizer, block_size=32, separator_id=sep)
    held_out = pack_texts(make_texts(60, seed=2), tokenizer, block_size=32, separator_id=sep)
    torch.manual_seed(0)
    model = OpenAIGPTLMHeadModel(msgpt.small_gpt_config(len(tokenizer), n_positions=32, n_embd=32, n_layer=2, n_head=2))
    args = training_arguments(
        str(tmp_path), learning_rate=3e-3, warmup_ratio=0.1, num_train_epochs=2, per_device_train_batch_size=16,
        per_device_eval_batch_size=16, metric_for_best_model="loss", greater_is_better=False,
        prediction_loss_only=True, logging_steps=5, disable_tqdm=True, seed=0,
    )
    trainer = MindSporeTrainer(
        model=model, args=args, train_dataset=lm_dataset(train, batch_size=16, shuffle=True),
        eval_dataset=lm_dataset(held_out, batch_size=16), processing_class=tokenizer,
    )
    before = trainer.evaluate()["eval_loss"]
    trainer.train()
    after = trainer.evaluate()["eval_loss"]
    assert before > np.log(len(tokenizer)) - 0.5  # about uniform at the start
    assert after < before - 1.0  # held-out perplexity down by e or more
    assert trainer.state.best_model_checkpoint is not None
