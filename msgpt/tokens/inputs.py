"""The paper's input transformations for two-segment tasks (sec 3.3), as token ids.

- pair (entailment): ``<bos> premise <delim> hypothesis <eos>``;
- similarity: both orders, ``[<bos> a <delim> b <eos>, <bos> b <delim> a <eos>]``;
- multiple choice: ``<bos> context <delim> candidate_k <eos>`` for each candidate.

Too long a sequence loses tokens from its longer segment first, one at a time, as
HF's ``longest_first`` truncation does (the second segment loses the odd one when both
are equally long), each segment cut on the side ``tokenizer.truncation_side`` names
("left" keeps its end). ``<bos>``, ``<delim>`` and ``<eos>`` always stay and no segment
is ever emptied, so the classifier still reads ``<eos>``, last.

Each list of segments is tokenised in one batched call, as ``msgpt.encode_texts``
tokenises texts: ``$`` in a text stays text (a literal ``<delim>`` or ``<eos>`` would
be read as that token, as it is in single texts).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from msgpt.tokens.tokenizer import check_ready, check_text, delimiter_id

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

#: ``<bos>``, one token of each segment, ``<delim>``, ``<eos>``.
PAIR_MIN_LENGTH = 5


def encode_pairs(
    tokenizer: "PreTrainedTokenizerBase", firsts: Sequence[str], seconds: Sequence[str], max_length: int
) -> list[list[int]]:
    """``<bos> first <delim> second <eos>`` for each pair, at most ``max_length`` long."""
    _check_pairs(tokenizer, firsts, seconds, max_length)
    join = _joiner(tokenizer, max_length)
    return [join(a, b) for a, b in zip(tokenize_segments(tokenizer, firsts, "first text"),
                                       tokenize_segments(tokenizer, seconds, "second text"))]


def encode_similarity_pairs(
    tokenizer: "PreTrainedTokenizerBase", firsts: Sequence[str], seconds: Sequence[str], max_length: int
) -> list[list[list[int]]]:
    """Both orders of each pair: ``[encoding of (a, b), encoding of (b, a)]``."""
    _check_pairs(tokenizer, firsts, seconds, max_length)
    join = _joiner(tokenizer, max_length)
    return [[join(a, b), join(b, a)] for a, b in zip(tokenize_segments(tokenizer, firsts, "first text"),
                                                     tokenize_segments(tokenizer, seconds, "second text"))]


def encode_choices(
    tokenizer: "PreTrainedTokenizerBase",
    contexts: Sequence[str],
    candidates: Sequence[Sequence[str]],
    max_length: int,
) -> list[list[list[int]]]:
    """``<bos> context <delim> candidate <eos>`` for every candidate of every question."""
    check_ready(tokenizer, max_length, PAIR_MIN_LENGTH)
    if len(contexts) != len(candidates):
        raise ValueError(f"{len(contexts)} contexts but {len(candidates)} rows of candidates")
    for index, row in enumerate(candidates):
        if isinstance(row, str) or not isinstance(row, Sequence):
            raise TypeError(f"candidates of item {index} must be a sequence of strings, got {row!r:.40}")
        if not row:
            raise ValueError(f"candidates of item {index} are none")
        for k, candidate in enumerate(row):
            check_text(candidate, index if len(candidates) > 1 else None, f"candidate {k}")
    join = _joiner(tokenizer, max_length)
    context_ids = tokenize_segments(tokenizer, contexts, "context")
    candidate_ids = iter(_tokenize(tokenizer, [candidate for row in candidates for candidate in row]))
    return [[join(context, next(candidate_ids)) for _ in row] for context, row in zip(context_ids, candidates)]


def encode_inputs(
    tokenizer: "PreTrainedTokenizerBase",
    task: str,
    texts: Sequence[str],
    max_length: int,
    *,
    text_pairs: Sequence[str] | None = None,
    candidates: Sequence[Sequence[str]] | None = None,
) -> list[list[list[int]]]:
    """Each example as the sequences ``task`` (``msgpt.tokens.tasks.TASKS``) reads: one for
    single texts and pairs, both orders for similarity, one per candidate for choice.
    ``text_pairs`` or ``candidates`` must be given where the task reads them."""
    from msgpt.tokens.tokenizer import encode_texts

    if task == "single":
        return [[ids] for ids in encode_texts(tokenizer, texts, max_length)]
    if task == "pair":
        return [[ids] for ids in encode_pairs(tokenizer, texts, text_pairs, max_length)]
    if task == "similarity":
        return encode_similarity_pairs(tokenizer, texts, text_pairs, max_length)
    return encode_choices(tokenizer, texts, candidates, max_length)


def _check_pairs(tokenizer, firsts: Sequence[str], seconds: Sequence[str], max_length: int) -> None:
    check_ready(tokenizer, max_length, PAIR_MIN_LENGTH)
    if len(firsts) != len(seconds):
        raise ValueError(f"{len(firsts)} first texts but {len(seconds)} second texts")


def tokenize_segments(tokenizer, texts: Sequence[str], name: str) -> list[list[int]]:
    """Each text's token ids, whole and without special tokens, after checking that every
    text is a non-empty string (errors name ``name`` and the item)."""
    for index, text in enumerate(texts):
        check_text(text, index if len(texts) > 1 else None, name)
    return _tokenize(tokenizer, texts)


def _tokenize(tokenizer, texts: Sequence[str]) -> list[list[int]]:
    if not texts:
        return []
    # Whole segments (truncation is ours); verbose=False: no warning for texts longer
    # than the model, which truncation takes care of.
    return tokenizer(list(texts), add_special_tokens=False, return_attention_mask=False, verbose=False)["input_ids"]


def _joiner(tokenizer, max_length: int):
    """``join(a, b)``: the ids of ``<bos> a <delim> b <eos>``, truncated to ``max_length``."""
    bos, eos, delimiter = tokenizer.bos_token_id, tokenizer.eos_token_id, delimiter_id(tokenizer)
    budget, side = max_length - 3, tokenizer.truncation_side

    def join(first: list[int], second: list[int]) -> list[int]:
        first, second = truncate_longest_first(first, second, budget, side)
        return [bos, *first, delimiter, *second, eos]

    return join


def truncate_longest_first(
    first: list[int], second: list[int], budget: int, side: str = "right"
) -> tuple[list[int], list[int]]:
    """Cut ``first`` and ``second`` to ``budget`` tokens together, the longer first.

    The same counts as HF's ``longest_first``: the longer loses tokens until both are
    equally long, then they lose in turn, the second first. With ``budget`` >= 2 neither
    is emptied. ``side`` "left" cuts a segment's start, "right" its end.
    """
    excess = len(first) + len(second) - budget
    if excess <= 0:
        return first, second
    gap = min(abs(len(first) - len(second)), excess)
    rest = excess - gap
    cut_first, cut_second = rest // 2, rest - rest // 2
    if len(first) > len(second):
        cut_first += gap
    else:
        cut_second += gap
    return _cut(first, cut_first, side), _cut(second, cut_second, side)


def _cut(ids: list[int], count: int, side: str) -> list[int]:
    if count == 0:
        return ids
    return ids[count:] if side == "left" else ids[:-count]
