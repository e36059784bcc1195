"""Tokenised examples as a MindSpore ``GeneratorDataset`` with int32 columns.

Columns, in order: ``input_ids`` (``<bos> text <eos>``, unpadded), ``attention_mask``
(ones, same length) and ``labels`` (a scalar). Padding happens when batching
(``msgpt.data.batching``), on the right.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from msgpt.data.examples import Examples
from msgpt.data.sharding import resolve_shard

if TYPE_CHECKING:
    from mindspore.dataset import GeneratorDataset
    from transformers import PreTrainedTokenizerBase


COLUMNS = ("input_ids", "attention_mask", "labels")


class EncodedExamples:
    """Token ids and labels with random access, the source ``GeneratorDataset`` reads.

    Random access (rather than a generator) is what lets MindSpore's samplers shuffle and
    shard it.
    """

    def __init__(self, input_ids: list[np.ndarray], labels: np.ndarray, max_seq_len: int) -> None:
        if len(input_ids) != len(labels):
            raise ValueError(f"{len(input_ids)} encoded texts but {len(labels)} labels")
        self.input_ids = input_ids
        self.labels = np.asarray(labels, dtype=np.int32)
        self.max_seq_len = max_seq_len
        self.lengths = np.fromiter((len(ids) for ids in input_ids), dtype=np.int64, count=len(input_ids))
        if len(self.lengths) and self.lengths.max() > max_seq_len:
            raise ValueError(f"an encoded text has {self.lengths.max()} tokens, more than {max_seq_len}")
        # Every mask is a prefix of one row of ones: a view, no per-row allocation.
        self._ones = np.ones(max_seq_len, dtype=np.int32)

    def __len__(self) -> int:
        return len(self.input_ids)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ids = self.input_ids[index]
        return ids, self._ones[: len(ids)], self.labels[index : index + 1].reshape(())


def encode_examples(
    examples: Examples, tokenizer: "PreTrainedTokenizerBase", max_seq_len: int
) -> EncodedExamples:
    """Tokenise every text in one fast-tokenizer call (``msgpt.encode_batch``)."""
    from msgpt.tokenizer import encode_batch

    ids = encode_batch(tokenizer, examples.texts, max_seq_len) if len(examples) else []
    return EncodedExamples(
        [np.asarray(row, dtype=np.int32) for row in ids], np.asarray(examples.labels), max_seq_len
    )


def build_dataset(
    encoded: EncodedExamples,
    *,
    shuffle: bool = False,
    seed: int = 42,
    num_shards: int | None = None,
    shard_id: int | None = None,
) -> "GeneratorDataset":
    """A ``GeneratorDataset`` over ``encoded``: one shard of it, shuffled if asked.

    Without ``num_shards``/``shard_id`` the shard comes from ``msgpt.init_distributed``
    when several processes run (``msgpt.data.sharding``), so data-parallel processes read
    disjoint examples; shards are equal in size, the last ones topped up by wrapping
    round. (``build_datasets`` reads whole splits and splits the training batches
    instead, which keeps the ranks' step counts equal under every batching strategy.)
    The shuffle is seeded by ``seed`` and reshuffles every epoch, the same way on every run.
    """
    import mindspore.dataset as ds

    if len(encoded) == 0:
        raise ValueError("cannot build a dataset from no examples")
    shard = resolve_shard(num_shards, shard_id)
    sampler = None
    if shuffle or shard is not None:
        shards, index = shard or (1, 0)
        sampler = ds.DistributedSampler(shards, index, shuffle=shuffle)
        # The sampler copies the global dataset seed when constructed; setting ours instead
        # makes the order depend on ``seed`` alone, without touching global random state
        # (ds.config.set_seed also reseeds Python's and NumPy's generators).
        sampler.seed = seed
    return ds.GeneratorDataset(
        encoded,
        column_names=list(COLUMNS),
        sampler=sampler,
        shuffle=False if sampler is None else None,
        # Rows come out of a list: worker processes would only add pickling and memory.
        num_parallel_workers=1,
        python_multiprocessing=False,
    )
