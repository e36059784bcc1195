"""Label names: ``positive``/``negative`` in the data, class ids in the model.

A model trained on named labels keeps them in its config as HF does (``id2label`` and
``label2id``, as ``run_classification.py`` stores them); HF fills a config without
names with ``LABEL_0``, ``LABEL_1``..., which msgpt reads as "no names".

Nothing here imports MindSpore or mindnlp: recipes check names before anything heavy.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

_DEFAULT_NAME = re.compile(r"LABEL_\d+")


def check_label_names(names: Sequence[str]) -> tuple[str, ...]:
    """``names`` as a tuple when they can name classes (at least 2, distinct, not blank)."""
    names = tuple(names)
    if len(names) < 2:
        raise ValueError(f"label names must name at least 2 classes, got {list(names)}")
    blank = [name for name in names if not isinstance(name, str) or not name.strip()]
    if blank:
        raise ValueError(f"label names must be non-empty strings, got {list(names)}")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"label names must differ, {', '.join(map(repr, repeated))} repeated")
    return names


def parse_label_names(text: str) -> tuple[str, ...]:
    """``"neg,pos"`` -> ``("neg", "pos")``: the comma-separated list of a command line."""
    return check_label_names([name.strip() for name in text.split(",")])


def config_label_names(config: Any) -> tuple[str, ...] | None:
    """The label names in a model config (object or ``config.json`` dict), or None when
    it has only HF's ``LABEL_i`` placeholders."""
    id2label = config.get("id2label") if isinstance(config, Mapping) else getattr(config, "id2label", None)
    if not id2label:
        return None
    by_id = {int(key): str(value) for key, value in id2label.items()}
    names = tuple(by_id[i] for i in sorted(by_id))
    if all(_DEFAULT_NAME.fullmatch(name) for name in names):
        return None
    return names


def set_label_names(config: Any, names: Sequence[str] | None) -> None:
    """Store ``names`` (one per class, in id order) as ``id2label``/``label2id``; None
    leaves the config as it is."""
    if names is None:
        return
    names = check_label_names(names)
    if len(names) != config.num_labels:
        raise ValueError(f"{len(names)} label names for a model with {config.num_labels} classes")
    config.id2label = dict(enumerate(names))
    config.label2id = {name: index for index, name in enumerate(names)}


def name_of(label: int, names: Sequence[str] | None) -> str:
    """How a class is written in outputs: its name, or its id when there are no names."""
    return names[label] if names else str(int(label))


def training_classes(
    num_labels: int | None, label_names: Sequence[str] | None, data_names: Sequence[str] | None
) -> tuple[int, tuple[str, ...] | None]:
    """Number of classes and their names for training: the names given, else the data's;
    ``num_labels`` (default 2 without names) must agree with them."""
    names = tuple(label_names or data_names or ()) or None
    if names is None:
        return num_labels or 2, None
    if num_labels is not None and num_labels != len(names):
        raise ValueError(
            f"num_labels={num_labels} disagrees with the {len(names)} label names {', '.join(map(repr, names))}"
        )
    return len(names), names


def evaluation_classes(
    model: str, model_num_labels: int, model_names: Sequence[str] | None,
    num_labels: int | None = None, label_names: Sequence[str] | None = None,
) -> tuple[int, tuple[str, ...] | None]:
    """Number of classes and their names for evaluating a trained model (named ``model``
    in errors): its own; ``num_labels``/``label_names``, when given, must agree, except
    that names may be given for a model trained on integer labels."""
    if num_labels is not None and num_labels != model_num_labels:
        raise ValueError(f"num_labels={num_labels}, but {model} has {model_num_labels} classes")
    if label_names is not None:
        label_names = check_label_names(label_names)
        if model_names is not None and tuple(label_names) != tuple(model_names):
            raise ValueError(
                f"label names {', '.join(map(repr, label_names))} differ from those {model} was trained "
                f"with: {', '.join(map(repr, model_names))}"
            )
        if len(label_names) != model_num_labels:
            raise ValueError(f"{len(label_names)} label names, but {model} has {model_num_labels} classes")
    names = tuple(label_names or model_names or ()) or None
    return model_num_labels, names


def check_data_names(model: str, model_names: Sequence[str] | None, data_names: Sequence[str] | None) -> None:
    """A ``ValueError`` when the data's labels are names but ``model`` knows none."""
    if data_names and not model_names:
        raise ValueError(
            f"the labels are names ({', '.join(map(repr, data_names))}) but {model} was trained on "
            "integer labels and knows no names"
        )
