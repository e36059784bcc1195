"""Tokenised examples as a MindSpore ``GeneratorDataset`` with int32 columns.

Columns, in order: ``input_ids`` (``<bos> text <eos>``, unpadded), ``attention_mask``
(ones, same length) and ``labels`` (a scalar). Padding happens when batching
(``msgpt.data.batching``), on the right.

Tasks with several sequences per example (similarity: both orders; multiple choice: one
per candidate) give ``[S, L]`` rows instead: the example's S sequences, the shorter ones
right-padded to the longest (L) with the pad id and mask 0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from msgpt.data.batching import COLUMNS
from msgpt.data.examples import Examples
from msgpt.data.sharding import resolve_shard

if TYPE_CHECKING:
    from mindspore.dataset import GeneratorDataset
    from transformers import PreTrainedTokenizerBase




class EncodedExamples:
    """Token ids and labels with random access, the source ``GeneratorDataset`` reads.

    Random access (rather than a generator) is what lets MindSpore's samplers shuffle and
    shard it.
    """

    def __init__(
        self,
        input_ids: list[np.ndarray],
        labels: np.ndarray,
        max_seq_len: int,
        sequence_lengths: np.ndarray | None = None,
    ) -> None:
        """``input_ids``: 1-D rows, or ``[S, L]`` rows padded on the right whose real
        lengths ``sequence_lengths`` (``[examples, S]``) gives."""
        if len(input_ids) != len(labels):
            raise ValueError(f"{len(input_ids)} encoded texts but {len(labels)} labels")
        self.input_ids = input_ids
        self.labels = np.asarray(labels, dtype=np.int32)
        self.max_seq_len = max_seq_len
        #: Padded length of each example (its longest sequence), what batching pads to.
        self.lengths = np.fromiter((ids.shape[-1] for ids in input_ids), dtype=np.int64, count=len(input_ids))
        if len(self.lengths) and self.lengths.max() > max_seq_len:
            raise ValueError(f"an encoded text has {self.lengths.max()} tokens, more than {max_seq_len}")
        if sequence_lengths is not None and len(sequence_lengths) != len(input_ids):
            raise ValueError(f"{len(input_ids)} encoded examples but {len(sequence_lengths)} rows of lengths")
        self.sequence_lengths = sequence_lengths
        # Every mask is a prefix of one row of ones: a view, no per-row allocation.
        self._ones = np.ones(max_seq_len, dtype=np.int32)

    @property
    def sequences(self) -> int | None:
        """Sequences per example (S) for ``[S, L]`` rows, None for 1-D rows."""
        return None if self.sequence_lengths is None else self.sequence_lengths.shape[1]

    @property
    def tokens(self) -> np.ndarray:
        """Real (unpadded) tokens of each example, over all its sequences."""
        return self.lengths if self.sequence_lengths is None else self.sequence_lengths.sum(axis=1)

    def __len__(self) -> int:
        return len(self.input_ids)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ids = self.input_ids[index]
        if self.sequence_lengths is None:
            mask = self._ones[: len(ids)]
        else:
            mask = (np.arange(ids.shape[1]) < self.sequence_lengths[index][:, None]).astype(np.int32)
        return ids, mask, self.labels[index : index + 1].reshape(())


def encode_examples(
    examples: Examples, tokenizer: "PreTrainedTokenizerBase", max_seq_len: int, task: str = "single"
) -> EncodedExamples:
    """Tokenise every example the way ``task`` reads it, each column in one fast-tokenizer
    call: ``single`` (``msgpt.encode_texts``) and ``pair`` give 1-D rows, ``similarity``
    and ``choice`` ``[S, L]`` rows (``msgpt.tokens.inputs``)."""
    _check_task(examples, task)
    labels = np.asarray(examples.labels)
    if len(examples) == 0:
        return EncodedExamples([], labels, max_seq_len)
    from msgpt.tokens.inputs import encode_inputs

    groups = encode_inputs(tokenizer, task, examples.texts, max_seq_len,
                           text_pairs=examples.text_pairs, candidates=examples.candidates)
    if task in ("single", "pair"):  # one sequence each: 1-D rows
        return EncodedExamples([np.asarray(ids, dtype=np.int32) for (ids,) in groups], labels, max_seq_len)
    rows, lengths = zip(*(_padded(group, tokenizer.pad_token_id) for group in groups))
    return EncodedExamples(list(rows), labels, max_seq_len, np.stack(lengths))


_INPUTS = {"single": "single texts", "pair": "text pairs", "similarity": "text pairs", "choice": "candidates"}


def _check_task(examples: Examples, task: str) -> None:
    """A ``ValueError`` unless ``examples`` hold the inputs ``task`` reads (none to check
    when there are no examples)."""
    from msgpt.tokens.tasks import check_task

    check_task(task)
    if len(examples) == 0:
        return
    have = "text pairs" if examples.text_pairs is not None else (
        "candidates" if examples.candidates is not None else "single texts")
    if have != _INPUTS[task]:
        origin = examples.origin or "?"
        raise ValueError(f"task {task!r} reads {_INPUTS[task]}, but the examples ({origin}) have {have}")


def _padded(group: list[list[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """One example's sequences as an ``[S, L]`` array padded right, and their lengths."""
    lengths = np.fromiter((len(ids) for ids in group), dtype=np.int64, count=len(group))
    rows = np.full((len(group), lengths.max()), pad_id, dtype=np.int32)
    for row, ids in zip(rows, group):
        row[: len(ids)] = ids
    return rows, lengths


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
