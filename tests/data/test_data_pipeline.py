"""Encoded MindSpore datasets: columns, shuffling, sharding, batching and padding waste."""

from __future__ import annotations

import numpy as np
import pytest

from msgpt.data import (
    COLUMNS,
    LENGTH_MULTIPLE,
    EncodedExamples,
    Examples,
    Splits,
    batch_dataset,
    bucket_lengths,
    build_dataset,
    build_datasets,
    encode_examples,
    measure_padding,
    padded_length,
    padding_waste,
    resolve_shard,
    resolve_strategy,
)

PAD = 99


def rows(dataset):
    return list(dataset.create_dict_iterator(output_numpy=True, num_epochs=1))


def synthetic(lengths, max_seq_len=16) -> EncodedExamples:
    """Sample i has ids [i, i, ...] of length lengths[i] and label i % 2."""
    ids = [np.full(n, i, dtype=np.int32) for i, n in enumerate(lengths)]
    return EncodedExamples(ids, np.arange(len(lengths)) % 2, max_seq_len)


def ids_of(dataset):
    return [int(row["input_ids"][0]) for row in rows(dataset)]


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    from msgpt.tokens.bpe import train_bpe_tokenizer
    from msgpt.tokens.tokenizer import load_tokenizer

    corpus = ["a fine film with a fine cast", "a dull film, long and loud", "the plot works at all"] * 20
    folder = train_bpe_tokenizer(corpus, tmp_path_factory.mktemp("bpe"), vocab_size=300)
    return load_tokenizer(folder, fast=True)


def test_encoded_dataset_has_int32_columns_and_the_foundation_encoding(tokenizer):
    from msgpt.tokens.tokenizer import encode_texts

    examples = Examples(["a fine film", "a dull film, long and loud and long"], [1, 0], "mem")
    encoded = encode_examples(examples, tokenizer, max_seq_len=8)
    dataset = build_dataset(encoded)
    assert dataset.get_col_names() == list(COLUMNS)
    out = rows(dataset)
    expected = encode_texts(tokenizer, examples.texts, 8)
    for row, ids, label in zip(out, expected, examples.labels):
        assert {k: v.dtype for k, v in row.items()} == {k: np.int32 for k in COLUMNS}
        assert row["input_ids"].tolist() == ids
        assert row["attention_mask"].tolist() == [1] * len(ids)
        assert row["labels"].shape == () and int(row["labels"]) == label
    assert len(expected[1]) == 8 and expected[1][-1] == tokenizer.eos_token_id  # truncated, <eos> kept


def test_shuffle_is_seeded_and_a_permutation():
    data = synthetic([3] * 30)
    first = ids_of(build_dataset(data, shuffle=True, seed=5))
    assert sorted(first) == list(range(30)) and first != list(range(30))
    assert ids_of(build_dataset(data, shuffle=True, seed=5)) == first
    assert ids_of(build_dataset(data, shuffle=True, seed=6)) != first
    assert ids_of(build_dataset(data)) == list(range(30))


def test_shuffle_changes_every_epoch_deterministically():
    def epochs(seed):
        iterator = build_dataset(synthetic([3] * 20), shuffle=True, seed=seed).create_dict_iterator(
            output_numpy=True, num_epochs=2)
        return [[int(r["input_ids"][0]) for r in iterator] for _ in range(2)]

    one, two = epochs(1)
    assert one != two and sorted(one) == sorted(two)
    assert epochs(1) == [one, two]


@pytest.mark.parametrize("shuffle", [False, True])
def test_shards_are_disjoint_and_cover_the_data(shuffle):
    data = synthetic([3] * 12)
    shards = [ids_of(build_dataset(data, shuffle=shuffle, seed=1, num_shards=3, shard_id=i)) for i in range(3)]
    assert [len(s) for s in shards] == [4, 4, 4]
    assert sorted(sum(shards, [])) == list(range(12))


def test_uneven_shards_have_equal_sizes():
    data = synthetic([3] * 10)
    shards = [ids_of(build_dataset(data, num_shards=3, shard_id=i)) for i in range(3)]
    assert [len(s) for s in shards] == [4, 4, 4]  # two samples read twice, by wrapping round
    assert set(sum(shards, [])) == set(range(10))


def test_shard_comes_from_the_distributed_context_when_initialised(monkeypatch):
    from msgpt.runtime import distributed

    assert resolve_shard() is None  # not initialised in tests
    monkeypatch.setattr(distributed, "distributed_info", lambda: distributed.DistributedInfo(1, 2))
    assert resolve_shard() == (2, 1)
    assert ids_of(build_dataset(synthetic([3] * 6))) == [1, 3, 5]
    assert resolve_shard(4, 0) == (4, 0)  # explicit wins


@pytest.mark.parametrize("num_shards, shard_id", [(2, None), (None, 0), (2, 2), (0, 0), (2, -1)])
def test_bad_shard_arguments(num_shards, shard_id):
    with pytest.raises(ValueError):
        resolve_shard(num_shards, shard_id)


def test_auto_strategy_follows_the_device():
    assert resolve_strategy("auto", "Ascend") == "max_length"
    assert resolve_strategy("auto", "CPU") == "longest"
    assert resolve_strategy("auto", "GPU") == "longest"
    assert resolve_strategy("buckets", "Ascend") == "buckets"
    with pytest.raises(ValueError, match="unknown batching strategy"):
        resolve_strategy("bucket")


def test_bucket_lengths():
    assert bucket_lengths(512, device="Ascend") == (128, 256, 384, 512)
    assert bucket_lengths(300, device="Ascend") == (128, 256, 300)
    assert bucket_lengths(200, device="CPU") == (64, 128, 192, 200)
    assert bucket_lengths(10, lengths=[8, 4, 12]) == (4, 8, 10)


LENGTHS = [3, 9, 5, 4, 12, 7, 3, 16, 6, 10, 2]


def batches(strategy, device, drop_remainder=False, buckets=None, batch_size=4, length_multiple=1):
    dataset = batch_dataset(build_dataset(synthetic(LENGTHS)), batch_size=batch_size, max_seq_len=16, pad_id=PAD,
                            strategy=strategy, drop_remainder=drop_remainder, device=device, buckets=buckets,
                            length_multiple=length_multiple)
    return rows(dataset)


def check_right_padding(batch):
    for ids, mask in zip(batch["input_ids"], batch["attention_mask"]):
        n = int(mask.sum())
        assert n == LENGTHS[int(ids[0])]
        assert (ids[:n] == ids[0]).all() and (ids[n:] == PAD).all()
        assert (mask[:n] == 1).all() and (mask[n:] == 0).all()


@pytest.mark.parametrize("device", ["CPU", "Ascend"])
def test_max_length_batches_have_one_shape(device):
    out = batches("max_length", device, drop_remainder=True)
    assert [b["input_ids"].shape for b in out] == [(4, 16), (4, 16)]  # 11 samples, remainder dropped
    assert all(b["attention_mask"].shape == (4, 16) and b["labels"].shape == (4,) for b in out)
    for b in out:
        check_right_padding(b)
        assert all(v.dtype == np.int32 for v in b.values())


def test_longest_pads_each_batch_to_its_longest_sample():
    out = batches("longest", "CPU")
    assert [b["input_ids"].shape for b in out] == [(4, 9), (4, 16), (3, 10)]
    for b in out:
        check_right_padding(b)


def test_longest_rounds_widths_up_to_the_length_multiple_below_max_seq_len():
    out = batches("longest", "CPU", length_multiple=4)  # longest 9, 16, 10 -> 12, 16, 12
    assert [b["input_ids"].shape for b in out] == [(4, 12), (4, 16), (3, 12)]
    for b in out:
        check_right_padding(b)
    assert padded_length(9, 16, 32) == 16 and padded_length(33, 512) == 64 and padded_length(64, 512) == 64
    # The default: multiples of 32 capped at max_seq_len, so 16 here.
    assert {b["input_ids"].shape[1] for b in batches("longest", "CPU", length_multiple=LENGTH_MULTIPLE)} == {16}
    with pytest.raises(ValueError, match="length_multiple"):
        batches("longest", "CPU", length_multiple=0)


def test_buckets_on_cpu_pad_to_the_longest_in_the_bucket():
    out = batches("buckets", "CPU", buckets=[4, 8])  # buckets (0,4] (4,8] (8,16]
    for b in out:
        check_right_padding(b)
        lengths = b["attention_mask"].sum(axis=1)
        assert b["input_ids"].shape[1] == lengths.max()
        limit = min(n for n in (4, 8, 16) if n >= lengths.max())
        assert lengths.min() > {4: 0, 8: 4, 16: 8}[limit]  # one bucket per batch
    assert sum(b["input_ids"].shape[0] for b in out) == len(LENGTHS)


def test_buckets_on_ascend_use_only_the_bucket_lengths():
    out = batches("buckets", "Ascend", drop_remainder=True, buckets=[4, 8], batch_size=2)
    shapes = {b["input_ids"].shape for b in out}
    assert shapes == {(2, 4), (2, 8), (2, 16)}
    for b in out:
        check_right_padding(b)
    # Buckets (0,4], (4,8], (8,16] get 4, 3 and 4 samples; the odd one out of (4,8] is dropped.
    assert sum(b["input_ids"].shape[0] for b in out) == 4 + 2 + 4


def test_padding_waste_hand_computed():
    lengths = [3, 5, 4, 8]
    common = dict(batch_size=2, max_seq_len=10, length_multiple=1)
    # max_length: 4 x 10 slots for 20 tokens.
    assert padding_waste(lengths, strategy="max_length", **common).waste == pytest.approx(20 / 40)
    # longest: [3,5] -> 2 x 5, [4,8] -> 2 x 8: 26 slots, 20 tokens.
    assert padding_waste(lengths, strategy="longest", **common).waste == pytest.approx(6 / 26)
    # buckets (0,4] and (4,10]: [3,4] -> 2 x 4, [5,8] -> 2 x 8 on CPU; 2 x 10 on Ascend.
    cpu = padding_waste(lengths, strategy="buckets", buckets=[4], device="CPU", **common)
    assert cpu.waste == pytest.approx(4 / 24) and cpu.shapes == {(2, 4), (2, 8)}
    ascend = padding_waste(lengths, strategy="buckets", buckets=[4], device="Ascend", **common)
    assert ascend.waste == pytest.approx(8 / 28) and ascend.shapes == {(2, 4), (2, 10)}
    dropped = padding_waste([3, 5, 4], strategy="longest", drop_remainder=True, **common)
    assert (dropped.samples, dropped.real_tokens, dropped.total_tokens) == (2, 8, 10)
    # Rounded to multiples of 4: [3,5] -> 2 x 8, [4,8] -> 2 x 8 (Ascend's buckets are not rounded).
    rounded = dict(common, length_multiple=4)
    assert padding_waste(lengths, strategy="longest", **rounded).waste == pytest.approx(12 / 32)
    assert padding_waste(lengths, strategy="buckets", buckets=[4], device="Ascend", **rounded) == ascend


@pytest.mark.parametrize(
    "strategy, device, drop",
    [("max_length", "CPU", True), ("longest", "CPU", False), ("buckets", "CPU", False),
     ("buckets", "Ascend", True), ("buckets", "Ascend", False)],
)
@pytest.mark.parametrize("multiple", [1, 4])
def test_measured_padding_matches_the_computed_figure(strategy, device, drop, multiple):
    options = dict(batch_size=4, max_seq_len=16, strategy=strategy, drop_remainder=drop, device=device,
                   buckets=[4, 8], length_multiple=multiple)
    measured = measure_padding(rows(batch_dataset(build_dataset(synthetic(LENGTHS)), pad_id=PAD, **options)))
    computed = padding_waste(LENGTHS, **options)
    assert measured == computed


def test_build_datasets_end_to_end(tokenizer):
    texts = [f"a fine film {'and a fine cast ' * (i % 5)}" for i in range(20)]
    examples = Examples(texts, [i % 2 for i in range(20)], "mem")
    splits = Splits(examples, examples.subset(range(5)), examples.subset(range(7)))
    data = build_datasets(splits, tokenizer, batch_size=4, max_seq_len=12, strategy="auto", device="Ascend")
    assert data.strategy == "max_length"
    train = rows(data.train)
    assert len(train) == 5 and {b["input_ids"].shape for b in train} == {(4, 12)}
    test = rows(data.test)
    assert [b["input_ids"].shape[0] for b in test] == [4, 3]  # evaluation keeps every example
    assert set(data.padding) == {"train", "validation", "test"}
    assert 0 < data.padding["test"].waste < 1
    assert data.padding["test"] == measure_padding(test)
    # Right padding with the tokenizer's <pad>; <eos> is the last real token.
    for b in test:
        last = b["attention_mask"].sum(axis=1) - 1
        assert (b["input_ids"][np.arange(len(last)), last] == tokenizer.eos_token_id).all()
        assert (b["input_ids"][b["attention_mask"] == 0] == tokenizer.pad_token_id).all()


def test_build_datasets_skips_empty_splits(tokenizer):
    examples = Examples(["a fine film", "a dull film"], [1, 0], "mem")
    splits = Splits(Examples.empty(), Examples.empty(), examples)
    data = build_datasets(splits, tokenizer, batch_size=2, max_seq_len=8, device="CPU")
    assert data.train is None and data.validation is None
    (batch,) = rows(data.test)
    assert batch["labels"].tolist() == [1, 0] and batch["input_ids"].shape[0] == 2
