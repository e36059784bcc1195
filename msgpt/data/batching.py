"""Batching strategies, chosen by device, and the padding each one wastes.

- ``max_length``: every sample padded to ``max_seq_len``. One input shape, so one
  compiled graph on Ascend (its default); training drops the last partial batch.
- ``longest``: each batch padded to its longest sample, rounded up to a multiple of
  ``LENGTH_MULTIPLE`` (32; never above ``max_seq_len``). Little padding, a few shapes:
  the default on CPU and GPU.
- ``buckets``: samples grouped by length before batching. On CPU/GPU each bucket batch
  is padded as ``longest`` pads; on Ascend to the bucket's fixed length (128, 256, 384,
  512 by default), so only that many graphs compile.

The rounding bounds the number of shapes ``msgpt.backend.compiled`` compiles its graphs for
(one per length): at most ``max_seq_len / 32`` lengths instead of one per token count.

Padding is always on the right: the classifier reads the last real token (``<eos>``).

Examples of S sequences each (similarity, multiple choice: ``[S, L]`` rows) batch the
same way, into ``[batch, S, seq]``: every strategy pads the last axis only.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np

from msgpt.runtime.device import needs_static_shapes

if TYPE_CHECKING:
    from mindspore.dataset import Dataset

STRATEGIES = ("max_length", "longest", "buckets")
#: The int32 columns of every dataset and batch msgpt builds, in order.
COLUMNS = ("input_ids", "attention_mask", "labels")
#: Attribute msgpt sets on the datasets it batches: rows per full batch, which
#: ``get_batch_size()`` does not know after bucketing (it says 1) or a data-parallel split.
ROWS_ATTRIBUTE = "msgpt_rows_per_batch"
#: Bucket spacing: coarse where every length compiles a graph, finer where shapes are free.
STATIC_BUCKET_STEP = 128
DYNAMIC_BUCKET_STEP = 64
#: Padded lengths on CPU/GPU are multiples of this (or ``max_seq_len``).
LENGTH_MULTIPLE = 32


def padded_length(longest: int, max_seq_len: int, multiple: int = LENGTH_MULTIPLE) -> int:
    """The width a batch whose longest sample has ``longest`` tokens is padded to:
    ``longest`` rounded up to a multiple of ``multiple``, at most ``max_seq_len``."""
    return min(-(-int(longest) // multiple) * multiple, max(int(max_seq_len), int(longest)))


class _RoundUpWidth:
    """Batch map: pad ``input_ids`` (with ``pad_id``) and ``attention_mask`` (with 0) on
    the right to ``padded_length`` of their width (last axis)."""

    def __init__(self, pad_id: int, max_seq_len: int, multiple: int) -> None:
        self.pad_id, self.max_seq_len, self.multiple = pad_id, max_seq_len, multiple

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray):
        extra = padded_length(input_ids.shape[-1], self.max_seq_len, self.multiple) - input_ids.shape[-1]
        if extra <= 0:
            return input_ids, attention_mask
        widths = ((0, 0),) * (input_ids.ndim - 1) + ((0, extra),)
        return (np.pad(input_ids, widths, constant_values=self.pad_id),
                np.pad(attention_mask, widths, constant_values=0))


def resolve_strategy(strategy: str = "auto", device: str | None = None) -> str:
    """``strategy``, or for ``auto`` the device's default (``max_length`` on Ascend)."""
    if strategy == "auto":
        return "max_length" if needs_static_shapes(device) else "longest"
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown batching strategy {strategy!r}: choose auto or one of {', '.join(STRATEGIES)}")
    return strategy


def static_shapes(strategy: str, device: str | None = None) -> bool:
    """Whether ``strategy`` keeps to a fixed set of sequence lengths on ``device``."""
    strategy = resolve_strategy(strategy, device)
    return strategy == "max_length" or (strategy == "buckets" and needs_static_shapes(device))


def bucket_lengths(
    max_seq_len: int, *, device: str | None = None, lengths: Sequence[int] | None = None
) -> tuple[int, ...]:
    """The upper sequence length of each bucket, ending at ``max_seq_len``.

    ``lengths`` overrides the default grid (multiples of 128 on Ascend, of 64 elsewhere);
    lengths above ``max_seq_len`` are dropped and ``max_seq_len`` is always the last.
    """
    if lengths is None:
        step = STATIC_BUCKET_STEP if needs_static_shapes(device) else DYNAMIC_BUCKET_STEP
        lengths = range(step, max_seq_len, step)
    if any(isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1 for n in lengths):
        raise ValueError(f"bucket lengths must be positive integers, got {list(lengths)}")
    return tuple(sorted({int(n) for n in lengths if n < max_seq_len})) + (max_seq_len,)


def _check(batch_size: int, max_seq_len: int) -> None:
    for name, value, low in (("batch_size", batch_size, 1), ("max_seq_len", max_seq_len, 3)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")


def batch_dataset(
    dataset: "Dataset",
    *,
    batch_size: int,
    max_seq_len: int,
    pad_id: int,
    strategy: str = "auto",
    drop_remainder: bool = False,
    device: str | None = None,
    buckets: Sequence[int] | None = None,
    length_multiple: int = LENGTH_MULTIPLE,
    sequences: int | None = None,
) -> "Dataset":
    """Batch a dataset of ``COLUMNS`` with ``strategy``, padding right.

    ``input_ids`` is padded with ``pad_id`` and ``attention_mask`` with 0; ``labels``
    becomes a ``(batch,)`` column. ``device`` (default: the current one) decides ``auto``
    and the bucket kind; pass ``"Ascend"`` to get Ascend's batches anywhere. Batches
    padded to their longest sample are widened to a multiple of ``length_multiple``
    (1: not at all). ``sequences`` is S for rows of S sequences (``[batch, S, seq]``
    batches; ``EncodedExamples.sequences``), None for 1-D rows.
    """
    _check(batch_size, max_seq_len)
    if isinstance(length_multiple, bool) or not isinstance(length_multiple, int) or length_multiple < 1:
        raise ValueError(f"length_multiple must be an integer >= 1, got {length_multiple!r}")
    strategy = resolve_strategy(strategy, device)
    # None: longest in the batch. S is given, not None: bucket padding would widen it too.
    width = [max_seq_len] if strategy == "max_length" else [None]
    if sequences is not None:
        width = [sequences, *width]
    pad_info = {"input_ids": (width, pad_id), "attention_mask": (width, 0)}
    round_up = length_multiple > 1 and not static_shapes(strategy, device)
    if strategy in ("max_length", "longest"):
        batched = dataset.padded_batch(batch_size, drop_remainder=drop_remainder, pad_info=pad_info)
        if round_up:
            batched = _round_up(batched, pad_id, max_seq_len, length_multiple)
        return with_rows_per_batch(batched, batch_size)
    lengths = bucket_lengths(max_seq_len, device=device, lengths=buckets)
    # Bucket i holds lengths in (lengths[i-1], lengths[i]]; MindSpore's boundaries are
    # exclusive upper bounds, and it pads a bucket to its boundary minus one.
    boundaries = [n + 1 for n in lengths]
    batched = dataset.bucket_batch_by_length(
        ["input_ids"],
        boundaries,
        [batch_size] * (len(boundaries) + 1),
        # By default a row's length is its first dimension: S for [S, L] rows.
        element_length_function=None if sequences is None else _width,
        pad_info=pad_info,
        pad_to_bucket_boundary=needs_static_shapes(device),
        drop_remainder=drop_remainder,
    )
    if round_up:
        batched = _round_up(batched, pad_id, max_seq_len, length_multiple)
    return with_rows_per_batch(batched, batch_size)


def _width(input_ids: np.ndarray) -> int:
    return input_ids.shape[-1]


def _round_up(batched: "Dataset", pad_id: int, max_seq_len: int, multiple: int) -> "Dataset":
    columns = ["input_ids", "attention_mask"]
    return batched.map(operations=_RoundUpWidth(pad_id, max_seq_len, multiple), input_columns=columns,
                       output_columns=columns)


def with_rows_per_batch(dataset: "Dataset", rows: int) -> "Dataset":
    """``dataset``, marked as giving ``rows`` rows per full batch (see ``rows_per_batch``)."""
    setattr(dataset, ROWS_ATTRIBUTE, rows)
    return dataset


def rows_per_batch(dataset: "Dataset") -> int:
    """Rows per full batch of a batched dataset: as marked by msgpt, else as MindSpore says."""
    rows = getattr(dataset, ROWS_ATTRIBUTE, None)
    return int(rows if rows is not None else dataset.get_batch_size())


@dataclass(frozen=True)
class PaddingStats:
    """Real and padded token counts over a run of batches (of every sequence in them).

    ``shapes`` holds the batch shapes, ``(rows, width)`` or ``(rows, S, width)``.
    """

    real_tokens: int
    total_tokens: int
    batches: int
    samples: int
    shapes: frozenset[tuple[int, ...]] = frozenset()

    @property
    def waste(self) -> float:
        """Pad tokens / all tokens (0 for no batches)."""
        return 1 - self.real_tokens / self.total_tokens if self.total_tokens else 0.0

    def __str__(self) -> str:
        return f"{self.waste:.1%} padding ({self.samples} samples in {self.batches} batches)"


def _stats(batches: Iterable[tuple[int, int, tuple[int, ...]]]) -> PaddingStats:
    """Stats from ``(real tokens, samples, shape)`` per batch."""
    real = total = count = samples = 0
    shapes = set()
    for tokens, rows, shape in batches:
        real += tokens
        total += int(np.prod(shape))
        count += 1
        samples += rows
        shapes.add(shape)
    return PaddingStats(real, total, count, samples, frozenset(shapes))


def padding_waste(
    lengths: Sequence[int],
    *,
    strategy: str,
    batch_size: int,
    max_seq_len: int,
    drop_remainder: bool = False,
    device: str | None = None,
    buckets: Sequence[int] | None = None,
    length_multiple: int = LENGTH_MULTIPLE,
    tokens: Sequence[int] | None = None,
    sequences: int | None = None,
) -> PaddingStats:
    """Padding that ``batch_dataset`` would add to samples of ``lengths``, in that order.

    For rows of ``sequences`` sequences each, ``lengths`` are the rows' widths (their
    longest sequence) and ``tokens`` their real tokens (``EncodedExamples.tokens``; by
    default ``lengths``). Exact for data read in order; for shuffled data, pass the
    samples shuffled for an estimate (the pipeline's own order is MindSpore's).
    """
    _check(batch_size, max_seq_len)
    strategy = resolve_strategy(strategy, device)
    lengths = [int(n) for n in lengths]
    tokens = lengths if tokens is None else [int(n) for n in tokens]
    multiple = 1 if static_shapes(strategy, device) else length_multiple
    inner = () if sequences is None else (sequences,)

    def batch(group: list[int], width: int | None = None) -> tuple[int, int, tuple[int, ...]]:
        """``group``'s stats (indices into lengths), padded to ``width`` (default: rounded longest)."""
        if width is None:
            width = padded_length(max(lengths[i] for i in group), max_seq_len, multiple)
        return sum(tokens[i] for i in group), len(group), (len(group), *inner, width)

    if strategy != "buckets":
        def batches():
            for start in range(0, len(lengths), batch_size):
                chunk = range(start, min(start + batch_size, len(lengths)))
                if len(chunk) < batch_size and drop_remainder:
                    return
                yield batch(chunk, max_seq_len if strategy == "max_length" else None)
        return _stats(batches())

    limits = bucket_lengths(max_seq_len, device=device, lengths=buckets)
    to_boundary = needs_static_shapes(device)

    def bucket_batches():
        pending: dict[int, list[int]] = {}
        for i, n in enumerate(lengths):
            index = bisect.bisect_left(limits, n)
            group = pending.setdefault(index, [])
            group.append(i)
            if len(group) == batch_size:
                yield batch(group, limits[index] if to_boundary else None)
                pending[index] = []
        if not drop_remainder:
            for index, group in sorted(pending.items()):
                if group:
                    yield batch(group, limits[index] if to_boundary else None)

    return _stats(bucket_batches())


def measure_padding(batches: Iterable[dict]) -> PaddingStats:
    """Padding in batches as they come out (``create_dict_iterator(output_numpy=True)``)."""
    def counted():
        for batch in batches:
            mask = np.asarray(batch["attention_mask"])
            yield int(mask.sum()), mask.shape[0], tuple(mask.shape)
    return _stats(counted())
