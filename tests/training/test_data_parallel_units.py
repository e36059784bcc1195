"""Data parallel without msrun: how training batches and evaluation batches are shared out.

The collectives themselves run under msrun in tests/training/test_data_parallel.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import _WORDS

import msgpt
from msgpt.data import Examples, Splits, build_datasets, padded_length, rows_per_batch
from msgpt.runtime import distributed
from msgpt.training import MindSporeLoader, data_parallel

BATCH = 4


def _splits(n: int) -> Splits:
    # Lengths from 1 to 40 words, skewed towards short ones: buckets fill unevenly.
    rng = np.random.default_rng(0)
    # Two leading words name the example (and survive truncation): rows stay distinguishable.
    texts = [f"{_WORDS[i % 30]} {_WORDS[i // 30]} " + " ".join(["film"] * int(k))
             for i, k in enumerate(rng.geometric(0.12, n).clip(1, 40))]
    examples = Examples(texts, [i % 2 for i in range(n)], "skewed")
    return Splits(examples, examples.subset(range(min(n, 6))), examples.subset(range(min(n, 10))))


def _batches(dataset, epochs: int = 1) -> list[list[tuple[int, ...]]]:
    """Each batch as its rows' real tokens (padding stripped), epoch after epoch."""
    out = []
    iterator = dataset.create_dict_iterator(output_numpy=True, num_epochs=epochs)
    for batch in (b for _ in range(epochs) for b in iterator):
        rows = []
        for ids, mask in zip(batch["input_ids"], batch["attention_mask"]):
            rows.append(tuple(ids[: mask.sum()].tolist()))
            assert mask.sum() == 0 or mask[: mask.sum()].all()  # right padding
        out.append(rows)
    return out


@pytest.mark.parametrize("strategy, device", [
    ("longest", "CPU"), ("buckets", "CPU"), ("max_length", "Ascend"), ("buckets", "Ascend"),
])
@pytest.mark.parametrize("n", [96, 90])  # 90: global batches of 8 do not divide it
def test_ranks_take_equal_steps_and_split_the_single_process_batches(tokenizer, strategy, device, n):
    splits = _splits(n)
    kwargs = dict(max_seq_len=48, strategy=strategy, seed=3, device=device, buckets=[8, 16, 24])
    single = build_datasets(splits, tokenizer, batch_size=2 * BATCH, **kwargs)
    ranks = [build_datasets(splits, tokenizer, batch_size=BATCH, num_shards=2, shard_id=r, **kwargs) for r in (0, 1)]
    expected = _batches(single.train)
    got = [_batches(r.train) for r in ranks]

    # Same number of steps on both ranks, whatever the strategy, and that of one process
    # with the global batch; every rank batch is full.
    assert len(got[0]) == len(got[1]) == len(expected) == ranks[0].train.get_dataset_size()
    assert all(len(batch) == BATCH for rank in got for batch in rank)
    assert rows_per_batch(ranks[0].train) == BATCH and rows_per_batch(single.train) == 2 * BATCH
    for step, batch in enumerate(expected):
        together = got[0][step] + got[1][step]
        if len(batch) == 2 * BATCH:  # a full global batch: the two halves, disjoint
            assert together == batch
        else:  # a short one, topped up by wrapping round its own rows
            assert set(together) == set(batch)
    # Over the epoch the ranks read what one process reads: all of it, unless a
    # fixed-shape strategy drops a partial batch.
    seen = {row for rank in got for batch in rank for row in batch}
    assert seen == {row for batch in expected for row in batch}
    if strategy == "longest":
        assert len(seen) == n
    if all(len(batch) == 2 * BATCH for batch in expected):
        assert sum(len(b) for rank in got for b in rank) == len(seen)  # disjoint


@pytest.mark.parametrize("multiple", [1, 8])
def test_ranks_pad_only_to_their_own_rows_where_shapes_are_free(tokenizer, multiple):
    splits = _splits(64)
    rank = build_datasets(splits, tokenizer, batch_size=BATCH, max_seq_len=48, strategy="longest",
                          seed=3, device="CPU", num_shards=2, shard_id=1, length_multiple=multiple)
    widths = set()
    for batch in rank.train.create_dict_iterator(output_numpy=True, num_epochs=1):
        longest = int(batch["attention_mask"].sum(axis=1).max())
        assert batch["input_ids"].shape[1] == padded_length(longest, 48, multiple)
        widths.add(batch["input_ids"].shape[1])
    assert len(widths) > 1


def test_each_epoch_is_reshuffled_the_same_way_on_every_rank(tokenizer):
    splits = _splits(48)
    ranks = [build_datasets(splits, tokenizer, batch_size=BATCH, max_seq_len=48, seed=3, device="CPU",
                            num_shards=2, shard_id=r) for r in (0, 1)]
    first, second = (_batches(r.train, epochs=2) for r in ranks)
    half = len(first) // 2
    assert half == 6 and first[:half] != first[half:]  # a new order in epoch 2
    assert {row for b in first[:half] + second[:half] for row in b} == {
        row for b in first[half:] + second[half:] for row in b}


def test_evaluation_stays_whole_for_the_trainer_to_share(tokenizer):
    splits = _splits(32)
    rank = build_datasets(splits, tokenizer, batch_size=BATCH, max_seq_len=48, device="CPU", num_shards=2, shard_id=1)
    assert sum(len(b) for b in _batches(rank.test)) == 10


def _ordered(tokenizer, examples):
    """``examples`` batched in order (an evaluation set)."""
    from msgpt.data import batch_dataset, build_dataset, encode_examples

    return batch_dataset(build_dataset(encode_examples(examples, tokenizer, 48)), batch_size=BATCH,
                         max_seq_len=48, pad_id=tokenizer.pad_token_id, strategy="longest", device="CPU")


def _row_keys(batch):
    """One number per row that tells the rows apart."""
    ids = batch["input_ids"].numpy().astype(np.int64)
    return ids @ (np.arange(ids.shape[1]) + 1) ** 2


@pytest.mark.parametrize("batches, world", [(7, 2), (6, 3), (2, 4)])
def test_evaluation_shards_gather_back_into_the_single_process_order(tokenizer, monkeypatch, batches, world):
    """Each rank runs whole batches round robin; gathering each step rank by rank
    restores the single-process order and leaves out the stand-ins of ranks that ran out."""
    loader = MindSporeLoader(_ordered(tokenizer, _splits(BATCH * batches - 1).train), reshuffle=False)
    reference = [key for batch in loader for key in _row_keys(batch)]
    shards = [data_parallel.EvalShard(loader, rank, world) for rank in range(world)]
    assert [len(s) for s in shards] == [-(-batches // world)] * world
    assert all(s.num_examples == loader.num_examples for s in shards)

    iterators, gathered = [iter(s) for s in shards], []
    for _ in range(len(shards[0])):
        keys = [_row_keys(next(it)) for it in iterators]
        sent = [None if s.padding else (k.dtype.str, k.shape, k.tobytes()) for s, k in zip(shards, keys)]
        monkeypatch.setattr(data_parallel, "all_gather_objects", lambda obj, sent=sent: sent)
        first = None
        for rank, shard in enumerate(shards):  # every rank ends with the same rows
            rows = data_parallel.gather_rows(torch.from_numpy(keys[rank]), shard).numpy().tolist()
            assert rank == 0 or rows == first
            first = rows
        gathered.extend(first)
    assert gathered == reference
    assert all(next(it, None) is None for it in iterators)  # as many steps on every rank
    assert not any(s.padding for s in shards)


def test_a_single_process_is_untouched():
    info = msgpt.init_distributed("CPU")  # not under msrun: nothing to initialise
    assert info == msgpt.DistributedInfo() and not info.enabled and info.is_main
    assert msgpt.distributed_info() == info and msgpt.is_main_process()
    assert distributed.broadcast_object("x") == "x" and distributed.all_gather_objects(1) == [1]
    distributed.barrier()
    assert data_parallel.all_reduce_gradients([]) == 0


def test_main_process_is_known_before_init_from_msrun_variables(monkeypatch):
    monkeypatch.setenv("MS_WORKER_NUM", "2")
    for role, rank, main in (("MS_WORKER", "0", True), ("MS_WORKER", "1", False), ("MS_SCHED", "0", False)):
        monkeypatch.setenv("MS_ROLE", role)
        monkeypatch.setenv("RANK_ID", rank)
        assert distributed.launched_by_msrun() and distributed.is_main_process() is main


def test_init_after_mindnlp_is_refused(monkeypatch):
    monkeypatch.setenv("MS_ROLE", "MS_WORKER")
    monkeypatch.setenv("MS_WORKER_NUM", "2")
    with pytest.raises(RuntimeError, match="before anything imports mindnlp"):
        msgpt.init_distributed("CPU")  # the tests imported mindnlp long ago
