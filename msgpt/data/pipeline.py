"""Splits to batched MindSpore datasets in one call: encode, shard, shuffle, batch."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from msgpt.data.batching import (
    LENGTH_MULTIPLE,
    PaddingStats,
    batch_dataset,
    padding_waste,
    resolve_strategy,
    static_shapes,
)
from msgpt.data.dataset import build_dataset, encode_examples
from msgpt.data.sharding import batch_for_shard, resolve_shard
from msgpt.data.splits import Splits

if TYPE_CHECKING:
    from mindspore.dataset import Dataset
    from transformers import PreTrainedTokenizerBase

logger = logging.getLogger(__name__)


@dataclass
class DataPipeline:
    """Batched datasets per split (empty splits are left out) and what batching costs.

    ``padding`` holds each split's estimated ``PaddingStats`` (the train estimate uses a
    seeded shuffle of its lengths, as MindSpore's own order is not known in advance).
    """

    datasets: dict[str, "Dataset"]
    strategy: str
    padding: dict[str, PaddingStats]
    sizes: dict[str, int]
    shard: tuple[int, int] | None = None
    lengths: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def train(self) -> "Dataset | None":
        return self.datasets.get("train")

    @property
    def validation(self) -> "Dataset | None":
        return self.datasets.get("validation")

    @property
    def test(self) -> "Dataset | None":
        return self.datasets.get("test")


def build_datasets(
    splits: Splits,
    tokenizer: "PreTrainedTokenizerBase",
    *,
    batch_size: int = 32,
    max_seq_len: int = 512,
    strategy: str = "auto",
    eval_batch_size: int | None = None,
    seed: int = 42,
    device: str | None = None,
    num_shards: int | None = None,
    shard_id: int | None = None,
    buckets: list[int] | None = None,
    length_multiple: int = LENGTH_MULTIPLE,
    task: str = "single",
) -> DataPipeline:
    """Encode every non-empty split and batch it for the Trainer.

    Train is shuffled (seeded) and, with a fixed-shape strategy (``max_length``, or
    ``buckets`` on Ascend), drops its last partial batch so no new shape ever appears;
    validation and test keep every example. On CPU/GPU, batches padded to their longest
    sample are widened to a multiple of ``length_multiple`` (see ``msgpt.data.batching``).
    Iterate with
    ``create_dict_iterator(output_numpy=True)``: columns ``input_ids``,
    ``attention_mask``, ``labels``, all int32. ``task`` (``msgpt.TASKS``) says how the
    examples are encoded (``encode_examples``): ``single`` and ``pair`` give
    ``[batch, seq]`` inputs, ``similarity`` and ``choice`` ``[batch, S, seq]`` (S = 2
    orders or the number of candidates); padding stats count every sequence.

    Data parallel (``num_shards``/``shard_id``, by default from ``msgpt.init_distributed``),
    train is batched by ``batch_size × num_shards`` and this shard keeps ``batch_size``
    rows of every batch (``msgpt.data.sharding``): the same number of steps on every
    rank, whatever the strategy. Validation and test stay whole; ``MindSporeTrainer``
    shares their batches out.
    """
    strategy = resolve_strategy(strategy, device)
    shard = resolve_shard(num_shards, shard_id)
    fixed = static_shapes(strategy, device)
    pad_id = tokenizer.pad_token_id
    if pad_id is None:
        raise ValueError("tokenizer has no pad token: call msgpt.add_special_tokens(tokenizer) first")
    datasets, padding, lengths = {}, {}, {}
    for name, examples in splits:
        if len(examples) == 0:
            continue
        training = name == "train"
        encoded = encode_examples(examples, tokenizer, max_seq_len, task)
        dataset = build_dataset(encoded, shuffle=training, seed=seed, num_shards=1, shard_id=0)
        size = batch_size if training else (eval_batch_size or batch_size)
        drop = training and fixed
        ranks = shard[0] if shard and training else 1
        datasets[name] = batch_for_shard(
            lambda rows, dataset=dataset, drop=drop, encoded=encoded: batch_dataset(
                dataset, batch_size=rows, max_seq_len=max_seq_len, pad_id=pad_id,
                strategy=strategy, drop_remainder=drop, device=device, buckets=buckets,
                length_multiple=length_multiple, sequences=encoded.sequences,
            ),
            size, shard if training else None, trim=0 if fixed else length_multiple,
        )
        order = np.random.default_rng(seed).permutation(len(encoded)) if training else slice(None)
        padding[name] = padding_waste(  # of the global batches, when split
            encoded.lengths[order], strategy=strategy, batch_size=size * ranks, max_seq_len=max_seq_len,
            drop_remainder=drop, device=device, buckets=buckets, length_multiple=length_multiple,
            tokens=encoded.tokens[order], sequences=encoded.sequences,
        )
        lengths[name] = encoded.lengths
        logger.info(
            "%s: %d examples, %s batches of %d, mean length %.0f tokens, ~%.1f%% padding%s",
            name, len(encoded), strategy, size, encoded.lengths.mean(), 100 * padding[name].waste,
            f", rank {shard[1]} of {shard[0]} takes {size} rows of each" if ranks > 1 else "",
        )
    return DataPipeline(datasets, strategy, padding, splits.sizes(), shard, lengths)
