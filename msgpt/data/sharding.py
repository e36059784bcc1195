"""Which data this process reads in a data-parallel run.

Training splits *global batches*: every rank runs the same seeded pipeline, batched by
``batch_size × world_size`` with whatever strategy (``max_length``, ``longest``,
``buckets``), and keeps its own ``batch_size`` rows of each batch (``split_global_batches``).
So every rank takes exactly the same number of steps whatever the lengths (bucketing by
rank would give each rank its own count and hang the collectives), the ranks' rows of
a step are disjoint, and together they are the batch one process would train on with
``batch_size × world_size``. A global batch with fewer rows than that (the last of an
epoch, or of a bucket) is topped up by wrapping round its own rows, as
``DistributedSampler`` pads its shards.

Evaluation is not split here: ``MindSporeTrainer`` shares its batches out whole and
gathers the results back in order (``msgpt.training.data_parallel``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Callable

import numpy as np

from msgpt.data.batching import COLUMNS, padded_length, with_rows_per_batch

if TYPE_CHECKING:
    from mindspore.dataset import Dataset

logger = logging.getLogger(__name__)

def distributed_shard() -> tuple[int, int] | None:
    """``(world_size, rank)`` once ``msgpt.init_distributed`` (or ``init()``) ran with
    several processes, else None."""
    from msgpt.runtime import distributed

    info = distributed.distributed_info()
    return (info.world_size, info.rank) if info.enabled else None


def resolve_shard(num_shards: int | None = None, shard_id: int | None = None) -> tuple[int, int] | None:
    """The shard to read: the one given, else the distributed one, else None (all data)."""
    if num_shards is None and shard_id is None:
        return distributed_shard()
    if num_shards is None or shard_id is None:
        raise ValueError("give both num_shards and shard_id, or neither")
    for name, value in (("num_shards", num_shards), ("shard_id", shard_id)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be an integer, got {value!r}")
    if num_shards < 1 or not 0 <= shard_id < num_shards:
        raise ValueError(f"need num_shards >= 1 and 0 <= shard_id < num_shards, got {num_shards}, {shard_id}")
    return num_shards, shard_id


class _RankRows:
    """``rows`` rows of a global batch: those of shard ``shard_id``, wrapping round
    (rows are split along the batch axis, whether ``[batch, seq]`` or ``[batch, S, seq]``)."""

    def __init__(self, rows: int, shard_id: int, trim: int) -> None:
        self.rows = rows
        self.shard_id = shard_id
        self.trim = trim

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray, labels: np.ndarray):
        start = self.shard_id * self.rows
        index = np.arange(start, start + self.rows) % len(labels)
        ids, mask = input_ids[index], attention_mask[index]
        if self.trim:  # shapes are free: pad only to this rank's longest sequence, rounded up
            width = padded_length(int(mask.sum(axis=-1).max()), ids.shape[-1], self.trim)
            ids, mask = ids[..., :width], mask[..., :width]
        return ids, mask, labels[index]


def batch_for_shard(
    batch: Callable[[int], "Dataset"], rows: int, shard: tuple[int, int] | None, *, trim: int
) -> "Dataset":
    """``batch(rows)`` for one process; for ``shard`` ``(num_shards, shard_id)``,
    ``batch(rows × num_shards)`` with this shard's rows of each batch kept."""
    if shard is None or shard[0] == 1:
        return batch(rows)
    return split_global_batches(batch(rows * shard[0]), rows=rows, num_shards=shard[0], shard_id=shard[1], trim=trim)


def split_global_batches(
    dataset: "Dataset", *, rows: int, num_shards: int, shard_id: int, trim: int
) -> "Dataset":
    """Shard ``shard_id``'s ``rows`` rows of each batch of ``dataset`` (batched by
    ``rows × num_shards``). ``trim`` > 0 cuts the padding down to the rows kept, rounded
    up to a multiple of ``trim`` (for devices without static shapes); 0 keeps it."""

    split = dataset.map(
        operations=_RankRows(rows, shard_id, trim),
        input_columns=list(COLUMNS),
        output_columns=list(COLUMNS),
        python_multiprocessing=False,
    )
    return with_rows_per_batch(split, rows)  # get_batch_size() still says the global batch
