"""GPT-1's own tokenizer (``../shared/openai-gpt``: OpenAI's vocab.json and merges.txt) through
msgpt, on real IMDB reviews: what ``openai-gpt`` users get, with nothing learnt from test data."""

from __future__ import annotations

import json

import pytest
import transformers
from conftest import GPT1_DIR, needs_gpt1
from transformers import OpenAIGPTTokenizer, OpenAIGPTTokenizerFast

import msgpt
from msgpt.data import load_movie_reviews

pytestmark = needs_gpt1

GPT1_VOCAB = 40478
#: Texts where tokenizers differ if anything differs: markup, accents, curly quotes, emoji,
#: digits and punctuation runs, other scripts, whitespace.
HARD = [
    "A masterpiece.<br /><br />The acting is superb.",
    "Café, naïve, résumé, Zoë: über-cool and façade.",
    "“It’s not ‘bad’,” she said… it’s—worse.",
    "10/10!!! 🎬🍿 would watch again 😂",
    "Ελληνικά, русский, 日本語 and عربي in one review.",
    "  spaces\tand\ttabs\nand\n\nnewlines  ",
    "$5.99 for 2hrs? 50% of it was ads... #fail @studio",
    "ALL CAPS SHOUTING and MiXeD cAsE",
]


@pytest.fixture(scope="module")
def reviews() -> list[str]:
    """300 real reviews as the package ships them (HTML breaks kept), plus the hard cases."""
    examples = load_movie_reviews(clean=False)
    return [*examples.texts[:300], *HARD]


@pytest.fixture(scope="module")
def fast():
    return msgpt.load_tokenizer(GPT1_DIR, fast=True)


def test_the_tokenizer_is_gpt1s_plus_three_tokens(fast):
    assert fast.vocab_size == GPT1_VOCAB and len(fast) == GPT1_VOCAB + 3
    assert (fast.bos_token_id, fast.eos_token_id, fast.pad_token_id) == (40478, 40479, 40480)
    slow = msgpt.load_tokenizer(GPT1_DIR)
    assert (len(slow), slow.bos_token_id, slow.eos_token_id, slow.pad_token_id) == (40481, 40478, 40479, 40480)
    paired = msgpt.load_tokenizer(GPT1_DIR, fast=True, delimiter=True)
    assert len(paired) == 40482 and paired.convert_tokens_to_ids("<delim>") == 40481


def test_added_tokens_leave_gpt1s_vocabulary_as_it_was(fast):
    original = json.loads((GPT1_DIR / "vocab.json").read_text(encoding="utf-8"))
    assert len(original) == GPT1_VOCAB
    vocab = fast.get_vocab()
    assert {token: vocab[token] for token in original} == original
    assert sorted(set(vocab) - set(original)) == ["<bos>", "<eos>", "<pad>"]


def test_msgpt_uses_hf_transformers_own_tokenizer_classes():
    """In mindnlp 0.5.1 ``mindnlp.transformers`` is HF transformers: the same classes, the same code."""
    import mindnlp.transformers

    assert mindnlp.transformers.OpenAIGPTTokenizer is OpenAIGPTTokenizer
    assert "mindnlp" not in transformers.__file__
    assert type(msgpt.load_tokenizer(GPT1_DIR)) is OpenAIGPTTokenizer
    assert type(msgpt.load_tokenizer(GPT1_DIR, fast=True)) is OpenAIGPTTokenizerFast


def test_ids_equal_hfs_on_real_reviews(fast, reviews):
    """msgpt's <bos> text <eos> is HF's own ids for the text, framed: the special tokens change
    nothing else, and slow, fast and HF's untouched tokenizers agree."""
    plain_fast = OpenAIGPTTokenizerFast.from_pretrained(str(GPT1_DIR))
    plain_slow = OpenAIGPTTokenizer.from_pretrained(str(GPT1_DIR))
    slow = msgpt.load_tokenizer(GPT1_DIR)
    reference = [plain_slow(text, add_special_tokens=False)["input_ids"] for text in reviews]
    assert [plain_fast(text, add_special_tokens=False)["input_ids"] for text in reviews] == reference
    long_enough = 10**6
    for tokenizer in (fast, slow):
        encoded = msgpt.encode_texts(tokenizer, reviews, long_enough)
        assert [ids[1:-1] for ids in encoded] == reference
        assert all(ids[0] == 40478 and ids[-1] == 40479 for ids in encoded)
    assert max(max(ids) for ids in reference) < GPT1_VOCAB  # no text makes a special token


def test_how_gpt1s_tokenizer_reads_hard_text(fast, reviews):
    """What HF's GPT-1 tokenizer does to text, stated: lower case, accents stripped, HTML split
    into pieces (msgpt's data sources clean <br /> first), and characters outside GPT-1's
    vocabulary as <unk>: emoji, and also curly quotes, the ellipsis and the dash, which GPT-1's
    own preprocessing (ftfy, then its text_utils) turned into ASCII before BPE. On IMDB that
    is rare: 482 <unk> in 7.3M tokens, in 87 of the 25,000 reviews (measured 2026-12-03)."""

    def tokens(text: str) -> list[str]:
        return fast.convert_ids_to_tokens(fast(text, add_special_tokens=False)["input_ids"])

    assert tokens("Café NAÏVE") == ["cafe</w>", "naive</w>"]
    assert tokens("<br />") == ["<</w>", "br</w>", "/</w>", "></w>"]
    assert msgpt.data.clean_text("a<br /><br />b") == "a\nb"
    assert tokens("\u201cIt\u2019s\u201d") == ["<unk>", "it</w>", "<unk>", "s</w>", "<unk>"]
    assert tokens("It's \"ok\"") == ["it</w>", "'</w>", "s</w>", '"</w>', "ok</w>", '"</w>']
    assert tokens("worse\u2026\u2014ok \U0001F3AC") == ["worse</w>", "<unk>", "<unk>", "ok</w>", "<unk>"]
    ids = [i for text in reviews[:300] for i in fast(text, add_special_tokens=False)["input_ids"]]
    assert ids.count(fast.unk_token_id) / len(ids) < 1e-3


def test_truncation_keeps_eos_on_long_real_reviews(fast, reviews):
    long = [text for text in reviews if len(fast(text, add_special_tokens=False)["input_ids"]) > 600]
    assert long, "the movie-reviews sample has no review over 600 tokens"
    for text in long[:5]:
        body = fast(text, add_special_tokens=False)["input_ids"]
        right = msgpt.encode_text(fast, text, 512)
        assert len(right) == 512 and right[0] == 40478 and right[-1] == 40479 and right[1:-1] == body[:510]
        fast.truncation_side = "left"
        try:
            left = msgpt.encode_text(fast, text, 512)
        finally:
            fast.truncation_side = "right"
        assert left[-1] == 40479 and left[1:-1] == body[-510:]


def test_the_slow_tokenizer_falls_back_from_spacy_and_ftfy():
    """GPT-1 was trained on text fixed by ftfy and split by spaCy; HF's slow tokenizer does that
    only when both are installed, else (as here: spaCy is not in msgpt's stack) it uses BERT's
    BasicTokenizer, as the fast tokenizer always does. The two then give the same ids (above);
    with spaCy and ftfy installed the slow one would give GPT-1's own pre-tokenization instead."""
    slow = OpenAIGPTTokenizer.from_pretrained(str(GPT1_DIR))
    assert slow.fix_text is None
    assert type(slow.nlp).__name__ == "BasicTokenizer"
