"""Which slice of the data this process reads in a data-parallel run."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def distributed_shard() -> tuple[int, int] | None:
    """``(num_shards, shard_id)`` from ``mindspore.communication`` once ``init()`` ran.

    None for a single process: not initialised, or a group of one.
    """
    try:
        from mindspore import communication
    except ImportError:  # a MindSpore build without communication support
        return None
    if not communication.GlobalComm.INITED:
        return None
    try:
        size, rank = communication.get_group_size(), communication.get_rank()
    except RuntimeError as error:  # initialised flag set but no backend to ask
        logger.warning("distributed communication looks initialised but cannot be queried: %s", error)
        return None
    return (size, rank) if size > 1 else None


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
