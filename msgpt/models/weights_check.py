"""A local GPT-1 model folder checked before its weights load: one line naming the folder,
the file and what is wrong, instead of a loader's traceback.

Reads only ``config.json``, the tokenizer files and the safetensors header (a few KB), so it
costs nothing next to loading 117M weights. Caught: a config that is not GPT-1's or does not
say what the weights are (vocabulary rows, width, positions, layers), a vocabulary that does
not match the embedding rows, a truncated or corrupt weights file. Nothing here imports
MindSpore or mindnlp.
"""

from __future__ import annotations

import json
import logging
import os
import re
import struct
import zipfile
from pathlib import Path
from typing import Any

GPT1_MODEL_TYPE = "openai-gpt"
_CHECKPOINT = re.compile(r"checkpoint-(\d+)")  # HF's checkpoint folders, as get_last_checkpoint reads them

logger = logging.getLogger(__name__)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ValueError(f"{path} is not readable JSON ({error})") from None


def check_gpt_config(folder: str | os.PathLike) -> dict | None:
    """``config.json`` of a local GPT-1 folder, or a ``ValueError`` naming what it holds
    instead; None when the folder has no config (hub names are the loaders' to check)."""
    path = Path(folder).expanduser() / "config.json"
    if not path.is_file():
        return None
    config = _read_json(path)
    model_type = config.get("model_type") if isinstance(config, dict) else None
    if model_type != GPT1_MODEL_TYPE:
        raise ValueError(
            f"model folder {path.parent} holds a {model_type or 'model without a model_type'}, "
            f"not a GPT-1 ({GPT1_MODEL_TYPE}) model"
        )
    return config


def safetensors_shapes(path: Path) -> dict[str, list[int]]:
    """The tensor shapes a safetensors file's header lists, after checking that the file
    is as long as the header says; a ``ValueError`` naming the file when it is not."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        prefix = handle.read(8)
        if len(prefix) < 8:
            raise ValueError(f"{path} is truncated: {size} bytes, not even a safetensors header")
        (length,) = struct.unpack("<Q", prefix)
        if length > size - 8:
            raise ValueError(f"{path} is truncated or not safetensors: its header says {length:,} bytes "
                             f"of {size - 8:,} in the file")
        try:
            header = json.loads(handle.read(length))
        except (UnicodeDecodeError, ValueError):
            raise ValueError(f"{path} is corrupt: its safetensors header is not JSON") from None
    tensors = {name: value for name, value in header.items() if name != "__metadata__"}
    end = max((value["data_offsets"][1] for value in tensors.values()), default=0)
    if 8 + length + end != size:
        raise ValueError(f"{path} is truncated: {size:,} bytes where its header needs {8 + length + end:,}")
    return {name: value["shape"] for name, value in tensors.items()}


def _check_bin(path: Path) -> None:
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is truncated or not a PyTorch weights file (no zip archive)")
    with zipfile.ZipFile(path) as archive:
        if not any(name.endswith("data.pkl") for name in archive.namelist()):
            raise ValueError(f"{path} is not a PyTorch weights file (no data.pkl in it)")


def _tokens_in(folder: Path) -> int | None:
    """How many tokens the folder's tokenizer files hold (vocab.json plus added tokens)."""
    vocab_file = folder / "vocab.json"
    if not vocab_file.is_file():
        return None
    vocab = _read_json(vocab_file)
    added: set[str] = set()
    added_file = folder / "added_tokens.json"
    if added_file.is_file():
        added |= set(_read_json(added_file))
    config_file = folder / "tokenizer_config.json"
    if config_file.is_file():
        decoder = _read_json(config_file).get("added_tokens_decoder") or {}
        added |= {entry["content"] for entry in decoder.values() if isinstance(entry, dict) and "content" in entry}
    return len(vocab) + len(added - set(vocab))


def check_model_folder(folder: str | os.PathLike) -> None:
    """A ``ValueError`` naming the folder, the file and what is wrong when a local GPT-1
    folder cannot load as it stands; nothing for a folder that can (or a hub name)."""
    folder = Path(folder).expanduser()
    config = check_gpt_config(folder)
    if config is None:
        return
    weights, pickled = folder / "model.safetensors", folder / "pytorch_model.bin"
    if not weights.is_file():
        if pickled.is_file():
            _check_bin(pickled)
        return  # a sharded folder (model.safetensors.index.json) is the loader's to read
    shapes = safetensors_shapes(weights)
    embeddings = next((shape for name, shape in shapes.items() if name.endswith("tokens_embed.weight")), None)
    positions = next((shape for name, shape in shapes.items() if name.endswith("positions_embed.weight")), None)
    if embeddings is None or positions is None:
        raise ValueError(f"{weights} has no GPT-1 embeddings (tokens_embed, positions_embed): not GPT-1's weights")
    said = {key: config[key] for key in ("vocab_size", "n_embd", "n_positions", "n_layer") if key in config}
    layers = {int(m.group(1)) for name in shapes for m in [re.search(r"\bh\.(\d+)\.", name)] if m}
    found = {"vocab_size": embeddings[0], "n_embd": embeddings[1], "n_positions": positions[0],
             "n_layer": len(layers)}
    wrong = [f"{key} {said[key]} (the weights: {found[key]})" for key in said if said[key] != found[key]]
    if wrong:
        raise ValueError(f"{folder / 'config.json'} does not match {weights.name}: {', '.join(wrong)}")
    tokens = _tokens_in(folder)
    if tokens is not None and tokens != embeddings[0]:
        raise ValueError(f"model folder {folder}: its tokenizer files hold {tokens:,} tokens but "
                         f"{weights.name} has {embeddings[0]:,} embedding rows")


def checkpoint_problem(folder: str | os.PathLike) -> str | None:
    """What keeps a ``checkpoint-N`` folder from resuming a run, or None when nothing does."""
    folder = Path(folder)
    state = folder / "trainer_state.json"
    if not state.is_file():
        return f"{state} is missing"
    try:
        _read_json(state)
        check_model_folder(folder)
    except ValueError as error:
        return str(error)
    optimizer = folder / "optimizer.pt"
    if optimizer.exists() and not zipfile.is_zipfile(optimizer):
        return f"{optimizer} is truncated or not a PyTorch file"
    return None


def newest_sound_checkpoint(run_dir: str | os.PathLike) -> str | None:
    """The newest ``checkpoint-N`` in ``run_dir`` that can resume the run, as HF's
    ``get_last_checkpoint`` picks one but skipping, with a warning that names what is wrong,
    each newer one that cannot (weights truncated by a full disk, a copy cut short...)."""
    found = [(int(m.group(1)), path) for path in Path(run_dir).glob("checkpoint-*")
             if path.is_dir() and (m := _CHECKPOINT.fullmatch(path.name))]
    for _, path in sorted(found, reverse=True):
        problem = checkpoint_problem(path)
        if problem is None:
            return str(path)
        logger.warning("%s cannot resume the run (%s): trying the checkpoint before it", path.name, problem)
    return None
