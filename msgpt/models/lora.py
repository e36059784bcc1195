"""LoRA adapters (HF peft) on a GPT-1 classifier: low-rank updates of the attention
projections, the classification head trained whole.

    model = msgpt.add_lora(msgpt.load_model("openai-gpt", tokenizer), r=8)
    ...train...
    msgpt.save_pretrained(model, tokenizer, "runs/lora/best")   # adapter + head, a few MB
    model, tokenizer = msgpt.load_pretrained("runs/lora/best")  # base + adapter again
    msgpt.save_pretrained(msgpt.merge_lora(model), tokenizer, "runs/lora/merged")  # a plain model folder

GPT-1's projections are HF ``Conv1D`` layers (weights stored ``in x out``), hence peft's
``fan_in_fan_out=True``. The default targets, ``c_attn`` and ``c_proj``, are every block's
attention in and out projections and its MLP's output projection (``mlp.c_proj``).

A folder holds peft's layout (``adapter_config.json`` naming the base model,
``adapter_model.safetensors`` with the LoRA weights and the head), the classifier's
``config.json`` (task, labels, trained length), the tokenizer, and
``added_token_embeddings.safetensors``: the embedding rows of the tokens msgpt added to
the base's vocabulary (``<bos>``, ``<eos>``, ``<pad>``...). Those rows are initialised at
random when the base is fitted to the tokenizer and stay frozen under LoRA, so the folder
keeps them for the model to load back as it was trained. (peft's
``trainable_token_indices`` would train them, but on mindtorch it fails (``index_copy``
takes no ``source=``) and, mended, its delta gets no gradient:
``tests/models/test_lora.py`` probes it.)
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the module imports without mindnlp: the recipes' --help reads LORA_TARGETS
    import numpy as np
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

#: GPT-1's attention projections and the MLP's output projection (peft matches names' ends).
LORA_TARGETS = ("c_attn", "c_proj")
#: The head every msgpt task model names ``score``: trained and saved whole.
HEAD_MODULES = ("score",)
#: peft's file naming the base model, the mark of an adapter folder.
ADAPTER_CONFIG = "adapter_config.json"
#: The embedding rows of the tokens added to the base's vocabulary.
ADDED_ROWS = "added_token_embeddings.safetensors"


def is_head_parameter(name: str) -> bool:
    """Whether parameter ``name`` is the head's (``score``), also under peft's prefixes."""
    return any(part in HEAD_MODULES for part in name.split("."))


def is_lora_folder(folder: str | os.PathLike) -> bool:
    """Whether ``folder`` holds a LoRA adapter (peft's ``adapter_config.json``)."""
    return (Path(folder) / ADAPTER_CONFIG).is_file()


def is_lora_model(model: Any) -> bool:
    """Whether ``model`` is a peft model (LoRA adapters on a base)."""
    import msgpt.backend  # noqa: F401  (mindnlp before peft's torch)

    from peft import PeftModel

    return isinstance(model, PeftModel)


def add_lora(
    model: PreTrainedModel,
    *,
    r: int = 8,
    alpha: float | None = None,
    dropout: float = 0.05,
    targets: Sequence[str] = LORA_TARGETS,
) -> Any:
    """``model`` with rank-``r`` LoRA adapters on ``targets`` (scaled by ``alpha / r``;
    ``alpha`` defaults to ``2 r``), dropout ``dropout`` on their input, and its head
    trained whole; every other weight frozen. Returns peft's model (``PeftModel``)."""
    import msgpt.backend  # noqa: F401  (mindnlp before peft's torch)

    from peft import LoraConfig, TaskType, get_peft_model

    alpha = 2 * r if alpha is None else alpha
    if not isinstance(r, int) or r < 1:
        raise ValueError(f"LoRA rank must be an integer >= 1, got {r!r}")
    if not alpha > 0:
        raise ValueError(f"LoRA alpha must be positive, got {alpha}")
    if not 0 <= dropout < 1:
        raise ValueError(f"LoRA dropout must be in [0, 1), got {dropout}")
    targets = list(targets)
    names = [name for name, _ in model.named_modules()]
    missing = [t for t in targets if not any(n == t or n.endswith("." + t) for n in names)]
    if not targets or missing:
        raise ValueError(f"LoRA targets {missing or targets} name no layer of the model (GPT-1's: c_attn, c_proj, "
                         "c_fc)")
    config = LoraConfig(
        task_type=TaskType.SEQ_CLS, r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=targets,
        fan_in_fan_out=True, modules_to_save=list(HEAD_MODULES),
    )
    peft_model = get_peft_model(model, config)
    base = config.base_model_name_or_path
    if base and Path(base).expanduser().is_dir():  # a folder: named so that it loads from anywhere
        config.base_model_name_or_path = str(Path(base).expanduser().resolve())
    return peft_model


def trainable_fraction(model: Any) -> float:
    """The share of ``model``'s parameters that train (LoRA weights and the head)."""
    total = trainable = 0
    for param in model.parameters():
        total += param.numel()
        trainable += param.numel() if param.requires_grad else 0
    return trainable / total


def _added_rows(model: Any, tokenizer: PreTrainedTokenizerBase) -> tuple[int, np.ndarray]:
    """The first added token id and the embedding rows from it on."""
    first = tokenizer.vocab_size  # the base vocabulary; added tokens come after it
    weight = model.get_input_embeddings().weight
    return first, weight.detach().numpy()[first:].copy()


def write_adapter(model: Any, tokenizer: PreTrainedTokenizerBase, folder: str | os.PathLike) -> None:
    """Write a peft model's files into ``folder`` (see the module's docstring): its adapter,
    the classifier's config and the added tokens' rows. ``msgpt.save_pretrained`` calls it
    inside its atomic folder and adds the tokenizer."""
    import safetensors.numpy

    first, rows = _added_rows(model, tokenizer)
    model.save_pretrained(folder, safe_serialization=True)
    model.get_base_model().config.save_pretrained(folder)  # task, labels, trained length: read_model_folder's
    safetensors.numpy.save_file({"rows": rows}, str(Path(folder) / ADDED_ROWS), metadata={"first_id": str(first)})


def base_model_name(folder: str | os.PathLike) -> str:
    """The base model an adapter folder names (``base_model_name_or_path``)."""
    config = json.loads((Path(folder) / ADAPTER_CONFIG).read_text(encoding="utf-8"))
    base = config.get("base_model_name_or_path")
    if not base:
        raise ValueError(f"{Path(folder) / ADAPTER_CONFIG} names no base model (base_model_name_or_path)")
    return str(base)


def attach_adapter(base: PreTrainedModel, folder: str | os.PathLike, *, trainable: bool = False) -> Any:
    """An adapter folder's peft model on ``base`` (its base model, loaded and fitted to the
    folder's tokenizer by the caller: ``msgpt.load_pretrained`` does it): the added tokens'
    rows, the adapter and the head."""
    from msgpt.backend.trainer_fixes import patched_safetensors_load_file

    import safetensors.numpy
    import torch
    from peft import PeftModel

    folder = Path(folder)
    added = safetensors.numpy.load_file(str(folder / ADDED_ROWS))["rows"]
    embedding = base.get_input_embeddings()
    rows = embedding.weight.detach().numpy().copy()
    if added.shape[1] != rows.shape[1] or added.shape[0] > rows.shape[0]:
        raise ValueError(f"{folder / ADDED_ROWS} holds rows of shape {added.shape}, the base's embeddings "
                         f"are {rows.shape}: not this base model's adapter")
    rows[rows.shape[0] - added.shape[0]:] = added
    embedding.weight = torch.nn.Parameter(torch.tensor(rows))
    with patched_safetensors_load_file():
        return PeftModel.from_pretrained(base, str(folder), is_trainable=trainable)


def merge_lora(model: Any) -> PreTrainedModel:
    """The plain model a peft model amounts to: the adapters added into the weights."""
    return model.merge_and_unload()
