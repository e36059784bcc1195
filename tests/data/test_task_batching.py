"""Task inputs as datasets and batches: pair rows, [S, L] rows, [batch, S, seq] batches."""

from __future__ import annotations

import numpy as np
import pytest

import msgpt
from msgpt.data import (
    EncodedExamples,
    Examples,
    Splits,
    batch_dataset,
    build_dataset,
    build_datasets,
    encode_examples,
    measure_padding,
    padded_length,
    padding_waste,
    rows_per_batch,
)

PAD = 99
#: Sequence lengths of synthetic examples of S = 3 sequences (width = the longest).
SEQUENCE_LENGTHS = [(3, 2, 3), (5, 1, 2), (4, 4, 4), (8, 3, 6), (2, 2, 1), (7, 9, 3), (6, 2, 2),
                    (3, 5, 4), (1, 1, 2), (10, 4, 4), (5, 5, 5), (12, 3, 2), (2, 6, 3)]


def rows(dataset):
    return list(dataset.create_dict_iterator(output_numpy=True, num_epochs=1))


def synthetic(sequence_lengths=SEQUENCE_LENGTHS, max_seq_len=16) -> EncodedExamples:
    """Example i: S sequences of ids 10 * i + s (s = 0..S-1), padded with PAD; label i % 3."""
    lengths = np.asarray(sequence_lengths)
    ids = []
    for i, group in enumerate(lengths):
        row = np.full((len(group), group.max()), PAD, dtype=np.int32)
        for s, n in enumerate(group):
            row[s, :n] = 10 * i + s
        ids.append(row)
    return EncodedExamples(ids, np.arange(len(lengths)) % 3, max_seq_len, lengths)


def check_batch(batch, sequences=3):
    """[batch, S, seq] int32 columns, right-padded, each sequence one synthetic example's."""
    ids, mask, labels = batch["input_ids"], batch["attention_mask"], batch["labels"]
    assert ids.dtype == mask.dtype == labels.dtype == np.int32
    assert ids.ndim == 3 and ids.shape == mask.shape and ids.shape[1] == sequences
    assert labels.shape == (ids.shape[0],)
    for example, example_mask, label in zip(ids, mask, labels):
        i = int(example[0, 0]) // 10
        assert label == i % 3
        lengths = SEQUENCE_LENGTHS[i]
        np.testing.assert_array_equal(example_mask.sum(axis=1), lengths)
        for s, (sequence, n) in enumerate(zip(example, lengths)):
            assert (sequence[:n] == 10 * i + s).all() and (sequence[n:] == PAD).all()
            assert example_mask[s, :n].all()


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    from msgpt.tokens.bpe import train_bpe_tokenizer

    corpus = ["a fine film with a fine cast", "a dull film, long and loud", "the plot works at all"] * 20
    folder = train_bpe_tokenizer(corpus, tmp_path_factory.mktemp("bpe"), vocab_size=300)
    return msgpt.load_tokenizer(folder, fast=True, delimiter=True)


def test_pair_rows_are_one_dimensional(tokenizer):
    examples = Examples(["a fine film", "the plot"], [1, 0], "mem", text_pairs=["a dull cast", "works"])
    encoded = encode_examples(examples, tokenizer, 16, task="pair")
    expected = msgpt.encode_pairs(tokenizer, examples.texts, examples.text_pairs, 16)
    assert encoded.sequences is None
    for (ids, mask, label), row, want in zip(build_dataset(encoded), expected, [1, 0]):
        assert ids.asnumpy().tolist() == row and mask.asnumpy().tolist() == [1] * len(row)
        assert int(label.asnumpy()) == want


def test_similarity_rows_hold_both_orders_padded(tokenizer):
    examples = Examples(["a fine film with a fine cast", "the plot"], [1, 0], "mem",
                        text_pairs=["a dull film", "works at all"])
    encoded = encode_examples(examples, tokenizer, 32, task="similarity")
    expected = msgpt.encode_similarity_pairs(tokenizer, examples.texts, examples.text_pairs, 32)
    assert encoded.sequences == 2
    for index, group in enumerate(expected):
        ids, mask, label = encoded[index]
        width = max(map(len, group))
        assert ids.shape == mask.shape == (2, width) and encoded.lengths[index] == width
        assert encoded.tokens[index] == sum(map(len, group)) and label == examples.labels[index]
        for sequence, sequence_mask, want in zip(ids, mask, group):
            pad = [tokenizer.pad_token_id] * (width - len(want))
            assert sequence.tolist() == want + pad
            assert sequence_mask.tolist() == [1] * len(want) + [0] * len(pad)


def test_choice_rows_hold_one_sequence_per_candidate(tokenizer):
    examples = Examples(["a fine film", "the plot"], [2, 0], "mem",
                        candidates=[("cast", "a dull film", "works"), ("at all", "loud", "long and loud")])
    encoded = encode_examples(examples, tokenizer, 32, task="choice")
    expected = msgpt.encode_choices(tokenizer, examples.texts, examples.candidates, 32)
    assert encoded.sequences == 3 and encoded.labels.tolist() == [2, 0]
    for index, group in enumerate(expected):
        ids, mask, _ = encoded[index]
        assert ids.shape == (3, max(map(len, group)))
        assert [row[: len(want)].tolist() for row, want in zip(ids, group)] == group
        np.testing.assert_array_equal(mask.sum(axis=1), [len(want) for want in group])


@pytest.mark.parametrize("task, examples, message", [
    ("single", Examples(["a"], [0], "mem", text_pairs=["b"]),
     r"task 'single' reads single texts, but the examples \(mem\) have text pairs"),
    ("pair", Examples(["a"], [0], "mem"), "task 'pair' reads text pairs, but .* have single texts"),
    ("similarity", Examples(["a"], [0], "mem", candidates=[("b", "c")]), "reads text pairs, but .* have candidates"),
    ("choice", Examples(["a"], [0], "mem", text_pairs=["b"]), "task 'choice' reads candidates, but .* have text pairs"),
    ("triple", Examples(["a"], [0], "mem"), "task must be one of single, pair, similarity, choice, got 'triple'"),
])
def test_the_task_must_match_the_examples(tokenizer, task, examples, message):
    with pytest.raises(ValueError, match=message):
        encode_examples(examples, tokenizer, 16, task=task)


@pytest.mark.parametrize("strategy, device, multiple, widths", [
    # Widths 3 5 4 8 | 2 9 6 5 | 2 10 5 12 | 6 in batches of 4.
    ("longest", "CPU", 1, {8, 9, 12, 6}),         # each batch: its longest sequence
    ("longest", "CPU", 4, {8, 12}),               # rounded up to a multiple of 4
    ("max_length", "CPU", 4, {16}),               # Ascend's static shape, on any device
    ("buckets", "CPU", 1, {4, 8, 6, 12}),         # buckets (0,4], (4,8], (8,16], each batch its longest
    ("buckets", "Ascend", 4, {4, 8, 16}),         # padded to the bucket lengths
])
def test_every_strategy_batches_rows_of_several_sequences(strategy, device, multiple, widths):
    options = dict(batch_size=4, max_seq_len=16, strategy=strategy, device=device, buckets=[4, 8],
                   length_multiple=multiple)
    encoded = synthetic()
    batches = rows(batch_dataset(build_dataset(encoded), pad_id=PAD, sequences=3, **options))
    for batch in batches:
        check_batch(batch)
    assert {b["input_ids"].shape[2] for b in batches} == widths
    assert sorted(int(b["input_ids"][j, 0, 0]) // 10 for b in batches for j in range(len(b["labels"]))) == list(
        range(len(SEQUENCE_LENGTHS)))
    measured = measure_padding(batches)
    assert measured.real_tokens == sum(map(sum, SEQUENCE_LENGTHS))
    assert measured.total_tokens == sum(b["input_ids"].size for b in batches)
    assert measured == padding_waste(encoded.lengths, tokens=encoded.tokens, sequences=3, **options)


def test_padding_stats_count_every_sequence():
    # Two examples of widths 3 and 5 holding 6 and 7 real tokens, in one batch padded to 5.
    stats = padding_waste([3, 5], tokens=[6, 7], sequences=2, strategy="longest", batch_size=2,
                          max_seq_len=8, length_multiple=1)
    assert (stats.real_tokens, stats.total_tokens, stats.shapes) == (13, 2 * 2 * 5, {(2, 2, 5)})


def _choice_splits(n: int) -> Splits:
    words = "a fine film with cast dull long and loud the plot works at all".split()
    rng = np.random.default_rng(0)

    def text(k):
        return " ".join(rng.choice(words, size=k))

    examples = Examples([f"q{i} " + text(rng.integers(1, 12)) for i in range(n)], [i % 3 for i in range(n)],
                        "mem", candidates=[tuple(text(rng.integers(1, 8)) for _ in range(3)) for _ in range(n)])
    return Splits(examples, examples.subset(range(5)), examples.subset(range(7)))


@pytest.mark.parametrize("strategy, device", [("longest", "CPU"), ("max_length", "Ascend"), ("buckets", "Ascend")])
def test_build_datasets_batches_choices(tokenizer, strategy, device):
    data = build_datasets(_choice_splits(24), tokenizer, batch_size=4, max_seq_len=24, strategy=strategy,
                          device=device, buckets=[16], task="choice")
    test = rows(data.test)
    assert {b["input_ids"].shape[1] for b in test} == {3}
    labels = np.concatenate([b["labels"] for b in test]).tolist()
    if strategy == "buckets":  # bucketing reorders
        labels.sort()
        assert labels == sorted(i % 3 for i in range(7))
    else:
        assert [b["input_ids"].shape[0] for b in test] == [4, 3] and labels == [i % 3 for i in range(7)]
    assert data.padding["test"] == measure_padding(test)
    for b in test + rows(data.train):
        assert b["input_ids"].dtype == b["attention_mask"].dtype == b["labels"].dtype == np.int32
        if strategy == "max_length":
            assert b["input_ids"].shape[2] == 24
        last = b["attention_mask"].sum(axis=2) - 1  # <eos> ends every candidate's sequence
        picked = np.take_along_axis(b["input_ids"], last[..., None], axis=2)[..., 0]
        assert (picked == tokenizer.eos_token_id).all()
        assert (b["input_ids"][b["attention_mask"] == 0] == tokenizer.pad_token_id).all()


@pytest.mark.parametrize("strategy, device", [("longest", "CPU"), ("buckets", "CPU"), ("max_length", "Ascend")])
def test_ranks_split_three_dimensional_batches_along_the_batch_axis(tokenizer, strategy, device):
    splits = _choice_splits(30)
    kwargs = dict(max_seq_len=24, strategy=strategy, seed=3, device=device, buckets=[12], task="choice",
                  length_multiple=4)
    single = build_datasets(splits, tokenizer, batch_size=8, **kwargs)
    ranks = [build_datasets(splits, tokenizer, batch_size=4, num_shards=2, shard_id=r, **kwargs) for r in (0, 1)]
    expected, got = rows(single.train), [rows(r.train) for r in ranks]
    assert len(got[0]) == len(got[1]) == len(expected) and rows_per_batch(ranks[0].train) == 4

    def examples(batch):
        return [tuple(tuple(seq[m == 1].tolist()) for seq, m in zip(ids, mask))
                for ids, mask in zip(batch["input_ids"], batch["attention_mask"])]

    for step, batch in enumerate(expected):
        halves = [got[r][step] for r in (0, 1)]
        for half in halves:
            assert half["input_ids"].shape[:2] == (4, 3) and half["labels"].shape == (4,)
            if strategy != "max_length":  # shapes are free: each rank pads to its own rows
                longest = int(half["attention_mask"].sum(axis=2).max())
                assert half["input_ids"].shape[2] == padded_length(longest, 24, 4)
        together = examples(halves[0]) + examples(halves[1])
        if len(batch["labels"]) == 8:
            assert together == examples(batch)
            assert np.concatenate([h["labels"] for h in halves]).tolist() == batch["labels"].tolist()
        else:
            assert set(together) == set(examples(batch))
