"""MindSporeLoader: batches as mindtorch tensors, a length, per-epoch reshuffles, skipping."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from training_helpers import mindspore_dataset

from msgpt.training.loader import MindSporeLoader

N, BATCH = 10, 4


def _rows():
    # The first token of each row is its index: easy to follow through the shuffle.
    return [(np.full(3, i, np.int32), np.ones(3, np.int32), np.int32(i % 2)) for i in range(N)]


def _order(loader):
    return [batch["input_ids"][:, 0].numpy().tolist() for batch in loader]


def test_batches_are_mindtorch_tensors_with_a_length():
    loader = MindSporeLoader(mindspore_dataset(_rows(), BATCH))
    assert len(loader) == 3 and loader.batch_size == BATCH and loader.num_examples == 12
    batches = list(loader)
    assert len(batches) == 3
    first = batches[0]
    assert set(first) == {"input_ids", "attention_mask", "labels"}
    assert isinstance(first["input_ids"], torch.Tensor) and tuple(first["input_ids"].shape) == (BATCH, 3)
    assert first["labels"].numpy().tolist() == [0, 1, 0, 1]
    assert tuple(batches[-1]["labels"].shape) == (2,)  # the short last batch
    assert _order(loader) == _order(loader)  # a fresh, identical pass each time


def test_columns_keeps_only_the_named_ones():
    loader = MindSporeLoader(mindspore_dataset(_rows(), BATCH), columns=["input_ids", "labels"])
    assert set(next(iter(loader))) == {"input_ids", "labels"}


def test_training_loader_reshuffles_each_epoch_even_when_not_drained():
    loader = MindSporeLoader(mindspore_dataset(_rows(), BATCH, shuffle=True), reshuffle=True)
    epochs = []
    for _ in range(3):
        # Like the Trainer: take exactly len(loader) batches, never see StopIteration.
        iterator = iter(loader)
        epochs.append([next(iterator)["input_ids"][:, 0].numpy().tolist() for _ in range(len(loader))])
    for order in epochs:
        assert sorted(sum(order, [])) == list(range(N))
    assert epochs[0] != epochs[1] != epochs[2]
    # An unfinished epoch is dropped: the next pass starts a fresh iterator.
    fresh = MindSporeLoader(mindspore_dataset(_rows(), BATCH, shuffle=True), reshuffle=True)
    next(iter(fresh))
    assert _order(fresh) == epochs[0]


def test_skip_batches_continues_where_a_run_stopped():
    def loader():
        return MindSporeLoader(mindspore_dataset(_rows(), BATCH, shuffle=True), reshuffle=True)

    straight = loader()
    epochs = [_order(straight) for _ in range(2)]
    resumed = loader()
    resumed.skip_batches(len(resumed) + 1)  # one epoch and one batch done
    assert _order(resumed) == epochs[1][1:]
    with pytest.raises(ValueError):
        MindSporeLoader(mindspore_dataset(_rows(), BATCH)).skip_batches(1)


def test_rejects_other_datasets():
    with pytest.raises(TypeError):
        MindSporeLoader([1, 2, 3])
