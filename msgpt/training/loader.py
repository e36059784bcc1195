"""A data loader the HF Trainer can iterate, over a batched MindSpore dataset.

HF's Trainer builds a ``torch.utils.data.DataLoader`` with a sampler that indexes the
dataset, and hands it to ``accelerator.prepare``, which shards it per process. A
MindSpore dataset is already batched, shuffled and (in data-parallel runs) sharded by
its own pipeline, so ``MindSporeLoader`` only turns its batches into mindtorch tensors;
the Trainer moves them to its device as usual. It has a ``__len__`` (batches per epoch)
so the Trainer can count steps, and no ``dataset`` attribute, so the Trainer asks
``num_examples`` (overridden in ``msgpt.training.trainer``) rather than ``len(dataset)``
(which for a MindSpore dataset is a number of batches).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator

import msgpt.backend  # noqa: F401  (mindnlp before torch/transformers)

import mindspore.dataset as ds
import numpy as np
import torch

from msgpt.data.batching import rows_per_batch


def is_mindspore_dataset(obj: Any) -> bool:
    """Whether ``obj`` is a MindSpore dataset pipeline (any ``mindspore.dataset`` node)."""
    return isinstance(obj, ds.Dataset)


class MindSporeLoader:
    """Iterable over the batches of ``dataset`` as dicts of mindtorch tensors.

    ``columns`` keeps only those columns (default: all).

    ``reshuffle=True`` (training) keeps one iterator open across epochs: a seeded
    pipeline (a seeded sampler, or any shuffle once the Trainer has set the global seed)
    starts every new iterator from the first epoch's order, so ``num_epochs=1`` iterators
    would train every epoch on the same order, while one iterator walks MindSpore's
    per-epoch reshuffles. An epoch the Trainer left unfinished is dropped by reopening the
    iterator. ``reshuffle=False`` (evaluation) opens a fresh ``num_epochs=1`` iterator per
    pass.
    """

    def __init__(
        self, dataset: ds.Dataset, *, reshuffle: bool = False, columns: Iterable[str] | None = None
    ) -> None:
        if not is_mindspore_dataset(dataset):
            raise TypeError(f"expected a mindspore.dataset.Dataset, got {type(dataset).__name__}")
        self.ms_dataset = dataset
        self.reshuffle = reshuffle
        # Like the Trainer's remove_unused_columns: columns the model does not take go.
        self.columns = None if columns is None else frozenset(columns)
        self._length: int | None = None
        self._iterator: Any = None
        self._in_epoch = False
        self._skip = 0
        self.epoch = 0

    def __len__(self) -> int:
        """Batches per epoch (MindSpore may have to run the pipeline once to know it)."""
        if self._length is None:
            self._length = int(self.ms_dataset.get_dataset_size())
        return self._length

    @property
    def batch_size(self) -> int:
        """The dataset's batch size (the last batch of an epoch may be smaller); for a
        data-parallel split of global batches, this rank's rows."""
        return rows_per_batch(self.ms_dataset)

    @property
    def num_examples(self) -> int:
        """Examples per epoch, counting the last batch as full (as HF estimates it)."""
        return len(self) * self.batch_size

    def set_epoch(self, epoch: int) -> None:
        """Called by the Trainer before each epoch; the order comes from the pipeline."""
        self.epoch = epoch

    def skip_batches(self, count: int) -> None:
        """Make the next pass start ``count`` batches further on, across epochs.

        For resuming a run: ``count`` is every batch the run had consumed, so a fresh
        iterator replays the same per-epoch shuffles (the pipeline is seeded) and the
        run goes on with the batches it would have seen. Skipped batches go through the
        pipeline but are not converted. Needs ``reshuffle=True``.
        """
        if count < 0:
            raise ValueError(f"cannot skip {count} batches")
        if count and not self.reshuffle:
            raise ValueError("skip_batches needs a loader that keeps its iterator (reshuffle=True)")
        self._skip = count

    def _discard(self, batches: Iterator[Any]) -> None:
        count, self._skip = self._skip, 0
        epoch_size = len(self)
        for _ in range(count // epoch_size):
            for _ in batches:  # a whole epoch: the iterator stops at its end
                pass
        for _ in range(count % epoch_size):
            next(batches)

    def _epoch_iterator(self) -> Iterator[dict[str, np.ndarray]]:
        if not self.reshuffle:
            return self.ms_dataset.create_dict_iterator(num_epochs=1, output_numpy=True)
        if self._iterator is None or self._in_epoch:
            if self._iterator is not None:
                self._iterator.stop()
            # num_epochs=-1: the iterator repeats the pipeline for as many epochs as asked.
            self._iterator = self.ms_dataset.create_dict_iterator(num_epochs=-1, output_numpy=True)
        return self._iterator

    def _convert(self, batch: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
        # from_numpy shares the fresh array MindSpore produced; the Trainer's
        # _prepare_inputs moves it to the training device.
        return {
            name: torch.from_numpy(np.ascontiguousarray(value))
            for name, value in batch.items()
            if self.columns is None or name in self.columns
        }

    def batches(self, select: Callable[[int], bool]) -> Iterator[dict[str, torch.Tensor]]:
        """One pass in order, yielding only the batches whose index ``select`` accepts.

        The others go through the pipeline unconverted (how a data-parallel evaluation
        shares the batches out). Needs ``reshuffle=False``.
        """
        if self.reshuffle:
            raise ValueError("batches(select) is for evaluation loaders (reshuffle=False)")
        for index, batch in enumerate(self._epoch_iterator()):
            if select(index):
                yield self._convert(batch)

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        batches = iter(self._epoch_iterator())
        if self._skip:
            self._discard(batches)
        self._in_epoch = True
        # One batch of look-ahead: the Trainer stops asking after the last batch it
        # counted, so the epoch's end is seen here, before the last batch is handed out.
        upcoming = next(batches, None)
        while upcoming is not None:
            batch, upcoming = upcoming, next(batches, None)
            if upcoming is None:
                self._in_epoch = False
            yield self._convert(batch)

    def close(self) -> None:
        """Release the open training iterator, if any."""
        if self._iterator is not None:
            self._iterator.stop()
            self._iterator = None
        self._in_epoch = False
