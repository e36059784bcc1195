"""Unlabelled text as full blocks of tokens, for causal language modelling (GPT-1's
generative pre-training).

Documents are tokenised without special tokens, each followed by a separator token (or none,
for a vocabulary without one, as HF's ``run_clm.py`` joins them), joined into one stream and
cut into rows of ``block_size`` tokens, so that no token is padding (as GPT-1 trained on
contiguous 512-token sequences). The tail that does not fill a block is left out.
``lm_dataset`` batches the rows with the columns msgpt's classification data has
(``input_ids``, ``attention_mask`` of ones, ``labels``): ``labels`` is ``input_ids``, which
HF's LM heads shift by one themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np

from msgpt.data.examples import DataError

if TYPE_CHECKING:
    from mindspore.dataset import Dataset
    from transformers import PreTrainedTokenizerBase


def pack_token_ids(
    documents: Iterable[Sequence[int]], *, block_size: int, separator_id: int | None
) -> np.ndarray:
    """``(blocks, block_size)`` int32 rows of the documents, each followed by
    ``separator_id`` (unless it is None)."""
    if isinstance(block_size, bool) or not isinstance(block_size, int) or block_size < 2:
        raise ValueError(f"block_size must be an integer >= 2, got {block_size!r}")
    pieces = []
    separator = None if separator_id is None else np.array([separator_id], dtype=np.int32)
    for ids in documents:
        pieces.append(np.asarray(ids, dtype=np.int32))
        if separator is not None:
            pieces.append(separator)
    stream = np.concatenate(pieces) if pieces else np.zeros(0, np.int32)
    blocks = len(stream) // block_size
    if blocks == 0:
        raise DataError(
            f"the text has {len(stream)} tokens, fewer than one block of {block_size}: "
            "give more text or a smaller block size"
        )
    return stream[: blocks * block_size].reshape(blocks, block_size)


def pack_texts(
    texts: Sequence[str], tokenizer: "PreTrainedTokenizerBase", *, block_size: int, separator_id: int | None
) -> np.ndarray:
    """Tokenise ``texts`` (no special tokens, no truncation) and ``pack_token_ids`` them."""
    empty = [i for i, text in enumerate(texts) if not text or not text.strip()]
    if empty:
        raise DataError(f"{len(empty)} empty document(s), the first at position {empty[0]}")
    encoded = tokenizer(list(texts), add_special_tokens=False, truncation=False)["input_ids"]
    return pack_token_ids(encoded, block_size=block_size, separator_id=separator_id)


class _Blocks:
    """Random access to the rows, as ``GeneratorDataset`` samples (ids, mask, labels)."""

    def __init__(self, blocks: np.ndarray) -> None:
        self.blocks = blocks
        self.ones = np.ones(blocks.shape[1], dtype=np.int32)

    def __len__(self) -> int:
        return len(self.blocks)

    def __getitem__(self, index: int):
        row = self.blocks[index]
        return row, self.ones, row


def lm_dataset(
    blocks: np.ndarray,
    *,
    batch_size: int,
    shuffle: bool = False,
    seed: int = 42,
    drop_remainder: bool = False,
    num_shards: int | None = None,
    shard_id: int | None = None,
) -> "Dataset":
    """Batches of ``blocks`` (one static shape), shuffled every epoch if asked.

    Data parallel (``num_shards``/``shard_id``, by default from ``msgpt.init_distributed``),
    like ``build_datasets``' training split: batched by ``batch_size × num_shards`` and
    this shard keeps its ``batch_size`` rows of each batch.
    """
    import mindspore.dataset as ds

    from msgpt.data.batching import COLUMNS, with_rows_per_batch
    from msgpt.data.sharding import batch_for_shard, resolve_shard

    if len(blocks) == 0:
        raise ValueError("cannot build a dataset from no blocks")
    shard = resolve_shard(num_shards, shard_id)
    sampler = None
    if shuffle:
        sampler = ds.DistributedSampler(1, 0, shuffle=True)
        sampler.seed = seed  # the order depends on ``seed`` alone (see build_dataset)
    dataset = ds.GeneratorDataset(
        _Blocks(np.asarray(blocks, dtype=np.int32)), column_names=list(COLUMNS), sampler=sampler,
        shuffle=False if sampler is None else None, num_parallel_workers=1, python_multiprocessing=False,
    )
    return batch_for_shard(
        lambda rows: with_rows_per_batch(dataset.batch(rows, drop_remainder=drop_remainder), rows),
        batch_size, shard, trim=0,
    )
