"""The paper's task inputs as token ids: <delim>, pairs, both orders, candidates, truncation."""

from __future__ import annotations

import itertools
import logging

import numpy as np
import pytest
from conftest import make_texts

import msgpt
from msgpt.tokens.inputs import truncate_longest_first
from msgpt.tokens.tokenizer import delimiter_id


@pytest.fixture()
def tokenizer(tokenizer_dir):
    return msgpt.load_tokenizer(tokenizer_dir, fast=True, delimiter=True)


def body(tokenizer, text):
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def ids(tokenizer):
    return tokenizer.bos_token_id, delimiter_id(tokenizer), tokenizer.eos_token_id


def test_delimiter_is_a_special_token_added_once(tokenizer_dir, caplog):
    tokenizer = msgpt.load_tokenizer(tokenizer_dir, fast=True)
    size = len(tokenizer)
    assert msgpt.DELIMITER not in tokenizer.get_vocab()
    assert msgpt.add_special_tokens(tokenizer, delimiter=True) == 1
    assert len(tokenizer) == size + 1 and tokenizer.convert_tokens_to_ids("<delim>") == size
    with caplog.at_level(logging.INFO, logger="msgpt.tokens.tokenizer"):
        assert msgpt.add_special_tokens(tokenizer, delimiter=True) == 0
        assert msgpt.add_special_tokens(tokenizer) == 0
    assert len(tokenizer) == size + 1 and "nothing added" in caplog.text
    assert tokenizer.additional_special_tokens == ["<delim>"]
    # Never split, and the paper's "$" written in a text stays text.
    assert body(tokenizer, "a <delim> b").count(size) == 1
    assert size not in body(tokenizer, "it cost $5 $ $$")


def test_load_tokenizer_adds_the_delimiter_only_when_asked(tokenizer_dir):
    plain = msgpt.load_tokenizer(tokenizer_dir, fast=True)
    both = msgpt.load_tokenizer(tokenizer_dir, fast=True, delimiter=True)
    assert len(both) == len(plain) + 1
    assert delimiter_id(both) == len(plain)
    with pytest.raises(ValueError, match=r"delimiter=True"):
        delimiter_id(plain)
    with pytest.raises(ValueError, match=r"delimiter=True"):
        msgpt.encode_pairs(plain, ["a film"], ["great"], 16)


def test_needs_delimiter_knows_the_tasks():
    assert msgpt.TASKS == ("single", "pair", "similarity", "choice")
    assert [msgpt.needs_delimiter(task) for task in msgpt.TASKS] == [False, True, True, True]
    with pytest.raises(ValueError, match="task must be one of single, pair, similarity, choice, got 'triple'"):
        msgpt.needs_delimiter("triple")


def test_pair_encoding_token_by_token(tokenizer):
    bos, delim, eos = ids(tokenizer)
    firsts, seconds = ["a great film.", "the plot was boring"], ["i loved it", "sad"]
    encoded = msgpt.encode_pairs(tokenizer, firsts, seconds, 64)
    assert encoded == [
        [bos, *body(tokenizer, a), delim, *body(tokenizer, b), eos] for a, b in zip(firsts, seconds)
    ]
    assert [row.count(delim) for row in encoded] == [1, 1]


def test_similarity_encodes_both_orders(tokenizer):
    bos, delim, eos = ids(tokenizer)
    a, b = "a great film.", "the ending was sad"
    [[ab, ba]] = msgpt.encode_similarity_pairs(tokenizer, [a], [b], 64)
    assert ab == [bos, *body(tokenizer, a), delim, *body(tokenizer, b), eos]
    assert ba == [bos, *body(tokenizer, b), delim, *body(tokenizer, a), eos]
    assert msgpt.encode_similarity_pairs(tokenizer, [b], [a], 64) == [[ba, ab]]


def test_choice_encodes_the_context_with_each_candidate(tokenizer):
    bos, delim, eos = ids(tokenizer)
    contexts = ["the film was", "i hated the"]
    candidates = [("great", "awful", "a long story"), ("music", "ending", "actor")]
    encoded = msgpt.encode_choices(tokenizer, contexts, candidates, 64)
    assert encoded == [
        [[bos, *body(tokenizer, context), delim, *body(tokenizer, c), eos] for c in row]
        for context, row in zip(contexts, candidates)
    ]


def test_slow_and_fast_tokenizers_agree_on_pairs(tokenizer_dir):
    slow = msgpt.load_tokenizer(tokenizer_dir, delimiter=True)
    fast = msgpt.load_tokenizer(tokenizer_dir, fast=True, delimiter=True)
    firsts, seconds = make_texts(10, seed=1), make_texts(10, seed=2)
    assert msgpt.encode_pairs(slow, firsts, seconds, 24) == msgpt.encode_pairs(fast, firsts, seconds, 24)


@pytest.mark.parametrize("side", ["right", "left"])
def test_truncation_cuts_the_longer_segment_and_keeps_delimiter_and_eos(tokenizer, side):
    tokenizer.truncation_side = side
    bos, delim, eos = ids(tokenizer)
    long_text, short = make_texts(1, min_words=60, max_words=60)[0], "a great film"
    long_ids, short_ids = body(tokenizer, long_text), body(tokenizer, short)
    assert len(long_ids) > 30 and len(short_ids) == 3
    kept = long_ids[:14] if side == "right" else long_ids[-14:]
    [pair] = msgpt.encode_pairs(tokenizer, [long_text], [short], 20)
    assert pair == [bos, *kept, delim, *short_ids, eos]
    [[ab, ba]] = msgpt.encode_similarity_pairs(tokenizer, [short], [long_text], 20)
    assert ab == [bos, *short_ids, delim, *kept, eos]
    assert ba == [bos, *kept, delim, *short_ids, eos]
    [[choice]] = msgpt.encode_choices(tokenizer, [long_text], [(short,)], 20)
    assert choice == pair


@pytest.mark.parametrize("side", ["right", "left"])
def test_two_long_segments_share_the_budget(tokenizer, side):
    tokenizer.truncation_side = side
    bos, delim, eos = ids(tokenizer)
    a, b = make_texts(2, seed=7, min_words=40, max_words=40)
    a_ids, b_ids = body(tokenizer, a), body(tokenizer, b)
    assert min(len(a_ids), len(b_ids)) > 20
    [pair] = msgpt.encode_pairs(tokenizer, [a], [b], 12)  # 9 text tokens: 5 + 4, the second losing the odd one
    cut = (lambda ids, n: ids[:n]) if side == "right" else (lambda ids, n: ids[-n:])
    assert pair == [bos, *cut(a_ids, 5), delim, *cut(b_ids, 4), eos]


def test_the_shortest_length_keeps_one_token_of_each_segment(tokenizer):
    bos, delim, eos = ids(tokenizer)
    long_text = make_texts(1, min_words=50, max_words=50)[0]
    [pair] = msgpt.encode_pairs(tokenizer, ["film"], [long_text], 5)
    assert pair == [bos, *body(tokenizer, "film"), delim, body(tokenizer, long_text)[0], eos]
    with pytest.raises(ValueError, match="max_length must be an integer >= 5, got 4"):
        msgpt.encode_pairs(tokenizer, ["film"], ["a film"], 4)
    with pytest.raises(ValueError, match=">= 5"):
        msgpt.encode_choices(tokenizer, ["film"], [("a", "b")], 4)


@pytest.mark.parametrize("side", ["right", "left"])
def test_truncation_counts_match_hf_longest_first(tokenizer, side):
    tokenizer.truncation_side = side
    sizes = [(10, 3), (3, 10), (7, 7), (8, 7), (7, 8), (1, 30), (30, 1), (2, 2), (6, 5)]
    for (n1, n2), budget in itertools.product(sizes, [2, 3, 5, 9]):
        first, second = list(range(n1)), list(range(100, 100 + n2))
        ours = truncate_longest_first(first, second, budget, side)
        theirs = tokenizer.truncate_sequences(
            first, second, max(0, n1 + n2 - budget), truncation_strategy="longest_first"
        )[:2]
        assert ours == tuple(theirs), (n1, n2, budget)
        assert all(ours) and len(ours[0]) + len(ours[1]) == min(n1 + n2, budget), (n1, n2, budget)


@pytest.mark.parametrize(
    "firsts, seconds, error, message",
    [
        (["a film", ""], ["good", "bad"], ValueError, r"^first text is empty \(item 1\)$"),
        (["a film", "a plot"], ["good", "  "], ValueError, r"^second text is empty \(item 1\)$"),
        (["a film"], [None], TypeError, r"^second text must be a string, got NoneType$"),
        ([3, "a plot"], ["good", "bad"], TypeError, r"^first text must be a string, got int \(item 0\)$"),
    ],
)
def test_empty_or_non_string_segments_name_the_item_and_segment(tokenizer, firsts, seconds, error, message):
    with pytest.raises(error, match=message):
        msgpt.encode_pairs(tokenizer, firsts, seconds, 16)
    with pytest.raises(error, match=message):
        msgpt.encode_similarity_pairs(tokenizer, firsts, seconds, 16)


@pytest.mark.parametrize(
    "contexts, candidates, error, message",
    [
        (["a film", ""], [("good", "bad")] * 2, ValueError, r"^context is empty \(item 1\)$"),
        (["a film", "a plot"], [("good", "bad"), ("good", " ")], ValueError, r"^candidate 1 is empty \(item 1\)$"),
        (["a film"], [("good", 2)], TypeError, r"^candidate 1 must be a string, got int$"),
        (["a film"], ["good"], TypeError, r"^candidates of item 0 must be a sequence of strings"),
        (["a film"], [()], ValueError, r"^candidates of item 0 are none$"),
        (["a film"], [("a", "b")] * 2, ValueError, r"^1 contexts but 2 rows of candidates$"),
    ],
)
def test_bad_choices_name_the_item_and_segment(tokenizer, contexts, candidates, error, message):
    with pytest.raises(error, match=message):
        msgpt.encode_choices(tokenizer, contexts, candidates, 16)


def test_unequal_pair_columns_are_rejected(tokenizer):
    with pytest.raises(ValueError, match="2 first texts but 1 second texts"):
        msgpt.encode_pairs(tokenizer, ["a", "b"], ["c"], 16)


def test_adding_the_delimiter_to_a_prepared_model_keeps_its_rows(tokenizer_dir):
    tokenizer = msgpt.load_tokenizer(tokenizer_dir, fast=True)
    config = msgpt.small_gpt_config(tokenizer.vocab_size, n_positions=32, n_embd=16, n_layer=1, n_head=2)
    model = msgpt.build_model(config, tokenizer)
    old = model.get_input_embeddings().weight.detach().numpy().copy()
    assert old.shape[0] == len(tokenizer)
    msgpt.add_special_tokens(tokenizer, delimiter=True)
    msgpt.prepare_model(model, tokenizer)
    new = model.get_input_embeddings().weight.detach().numpy()
    assert new.shape == (old.shape[0] + 1, old.shape[1])
    np.testing.assert_array_equal(new[: old.shape[0]], old)
