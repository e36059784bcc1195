"""What a trained model folder remembers of its training, beyond the weights.

``config.json`` gets ``"msgpt": {"max_seq_len": 128, "truncation_side": "left", "task":
"single", "windows": true}``: the length and the side reviews were cut to in training,
the task the model's inputs and head are for (``msgpt.tokens.tasks.TASKS``), and whether its recipe read
longer texts whole, as windows (``msgpt.tokens.windows``). Reading texts at another length
changes what the classifier sees (a model trained on 128 tokens scores lower, and far
slower, at 512), so evaluation and prediction default to these. Folders saved without a length fall
back to the model's positions; without a task, they are ``"single"`` (all folders
before tasks were).

Nothing here imports MindSpore or mindnlp: a command line reads a folder before
anything heavy starts.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from msgpt.models.labels import config_label_names
from msgpt.tokens.tasks import DEFAULT_TASK, check_task

#: The config attribute (a dict, saved in config.json) that holds the training settings.
CONFIG_KEY = "msgpt"
SIDES = ("left", "right")
def record_training(config: Any, max_seq_len: int, truncation_side: str, *, windows: bool | None = None) -> None:
    """Write the max length and truncation side of training into a model config, and
    ``windows`` when given (the task recorded there stays)."""
    if truncation_side not in SIDES:
        raise ValueError(f"truncation side must be one of {SIDES}, got {truncation_side!r}")
    settings = {**_settings(config), "max_seq_len": int(max_seq_len), "truncation_side": truncation_side}
    if windows is not None:
        settings["windows"] = bool(windows)
    setattr(config, CONFIG_KEY, settings)


def record_task(config: Any, task: str) -> None:
    """Write the model's task (one of ``TASKS``) into a model config."""
    setattr(config, CONFIG_KEY, {**_settings(config), "task": check_task(task)})


def _settings(config: Any) -> dict[str, Any]:
    value = config.get(CONFIG_KEY) if isinstance(config, dict) else getattr(config, CONFIG_KEY, None)
    return value if isinstance(value, dict) else {}


def trained_max_length(config: Any) -> int | None:
    """The max length a model config says it was trained with (None if not recorded)."""
    value = _settings(config).get("max_seq_len")
    return value if isinstance(value, int) else None


def trained_truncation_side(config: Any) -> str | None:
    """The truncation side a model config says it was trained with (None if not recorded)."""
    value = _settings(config).get("truncation_side")
    return value if value in SIDES else None


def trained_windows(config: Any) -> bool:
    """Whether a model config says texts longer than its length are read as windows
    (``msgpt.tokens.windows``); False when not recorded."""
    return _settings(config).get("windows") is True


def recorded_task(config: Any) -> str | None:
    """The task a model config records (None if none); a ``ValueError`` for a task
    msgpt does not know."""
    value = _settings(config).get("task")
    return None if value is None else check_task(value)


def trained_task(config: Any) -> str:
    """The task a model config records, ``"single"`` if none (folders saved before
    msgpt had tasks)."""
    return recorded_task(config) or DEFAULT_TASK


@dataclass(frozen=True)
class ModelFolder:
    """What ``config.json`` of a saved classifier says, read without loading the model."""

    path: Path
    num_labels: int
    n_positions: int
    label_names: tuple[str, ...] | None
    max_seq_len: int | None
    truncation_side: str | None
    task: str
    windows: bool = False


def read_model_folder(folder: str | os.PathLike) -> ModelFolder:
    """A saved model folder's settings; a ``ValueError`` naming the problem when
    ``folder`` is not one (missing, or no readable ``config.json``)."""
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise ValueError(f"{path} is not a model folder (no such folder)")
    config_file = path / "config.json"
    if not config_file.is_file():
        raise ValueError(f"{path} is not a model folder (no config.json)")
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{config_file} is not valid JSON ({error})") from None
    if not isinstance(config, dict) or "n_positions" not in config:
        raise ValueError(f"{config_file} is not a GPT-1 config (no n_positions)")
    try:
        task = trained_task(config)
    except ValueError as error:
        raise ValueError(f"{config_file}: {error}") from None
    id2label = config.get("id2label") or {}
    return ModelFolder(
        path=path,
        num_labels=len(id2label) or 2,  # HF's default when the config has no labels
        n_positions=int(config["n_positions"]),
        label_names=config_label_names(config),
        max_seq_len=trained_max_length(config),
        truncation_side=trained_truncation_side(config),
        task=task,
        windows=trained_windows(config),
    )
