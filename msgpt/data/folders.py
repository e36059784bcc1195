"""A local copy of the Stanford ``aclImdb`` folder: one ``.txt`` file per review."""

from __future__ import annotations

import os
import re
from pathlib import Path

from msgpt.data.examples import DataError, Examples, SourceData, make_examples

#: Sub-folder name -> label, as in the original release (``unsup`` is ignored).
ACLIMDB_LABELS = {"neg": 0, "pos": 1}


def find_aclimdb(folder: str | os.PathLike) -> Path | None:
    """The aclImdb root at ``folder`` (or its ``aclImdb`` child), or None if neither is one."""
    folder = Path(folder).expanduser()
    for root in (folder, folder / "aclImdb"):
        if all((root / "train" / name).is_dir() for name in ACLIMDB_LABELS):
            return root
    return None


def _natural_key(path: Path) -> list[object]:
    # aclImdb names are "<id>_<rating>.txt"; numeric order keeps "2_" before "10_".
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


def read_aclimdb_split(root: Path, split: str, *, num_labels: int = 2, clean: bool = True) -> Examples:
    """``root/split/{neg,pos}/*.txt`` as examples, negatives first, files in id order."""
    texts: list[str] = []
    labels: list[int] = []
    names: list[str] = []
    for name, label in ACLIMDB_LABELS.items():
        folder = root / split / name
        if not folder.is_dir():
            raise DataError(f"aclImdb folder {root} has no {split}/{name} folder")
        files = sorted(folder.glob("*.txt"), key=_natural_key)
        if not files:
            raise DataError(f"aclImdb folder {folder} holds no .txt reviews")
        for file in files:
            try:
                texts.append(file.read_bytes().decode("utf-8"))
            except UnicodeDecodeError as error:
                raise DataError(
                    f"review file {file} is not UTF-8 text (byte {error.start}: {error.reason})"
                ) from None
            labels.append(label)
            names.append(f"{split}/{name}/{file.name}")
    return make_examples(
        texts,
        labels,
        origin=str(root / split),
        num_labels=num_labels,
        locate=lambda i: f"file {names[i]}",
        clean=clean,
    )


def load_aclimdb(
    folder: str | os.PathLike,
    *,
    num_labels: int = 2,
    clean: bool = True,
    include_train: bool = True,
) -> SourceData:
    """The train and test splits of an aclImdb folder (pos=1, neg=0).

    A folder without ``test/`` gives ``test=None`` (and always reads ``train``), so the
    caller holds a test split out of train instead.
    """
    root = find_aclimdb(folder)
    if root is None:
        raise DataError(f"{folder} is not an aclImdb folder (no train/pos and train/neg)")
    has_test = (root / "test").is_dir()
    options = dict(num_labels=num_labels, clean=clean)
    train = read_aclimdb_split(root, "train", **options) if include_train or not has_test else None
    test = read_aclimdb_split(root, "test", **options) if has_test else None
    return SourceData(train, test)
