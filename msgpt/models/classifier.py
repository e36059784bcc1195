"""GPT-1 for classification tasks: load, build, prepare for the tokenizer, save.

One model class per task (``msgpt.tokens.tasks.TASKS``, the paper's sec. 3.3):
``OpenAIGPTForSequenceClassification`` for a single text and for a pair (the same
model; only the input has a delimiter), ``OpenAIGPTForSimilarity`` and
``OpenAIGPTForMultipleChoice`` (``msgpt.models.task_heads``) for similarity and multiple
choice. All read the hidden state of the last token that is not
``config.pad_token_id``, so with ``<bos> ... <eos>`` and right padding the head reads
``<eos>``, the paper's extract token. The task is recorded in the config
(``msgpt.models.folder``), so a saved folder loads back as the class it was saved from.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import msgpt.backend  # noqa: F401  (mindnlp before transformers)

from transformers import (
    OpenAIGPTConfig,
    OpenAIGPTForSequenceClassification,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from msgpt.models.folder import (
    DEFAULT_TASK,
    check_task,
    record_task,
    record_training,
    recorded_task,
    trained_max_length,
    trained_task,
    trained_truncation_side,
)
from msgpt.models.labels import set_label_names
from msgpt.models.lora import is_lora_folder
from msgpt.models.task_heads import OpenAIGPTForMultipleChoice, OpenAIGPTForSimilarity
from msgpt.models.weights_check import check_model_folder
from msgpt.runtime.atomic import atomic_directory
from msgpt.runtime.hub import hub_load_kwargs, resolve_local_or_hub

logger = logging.getLogger(__name__)

MODEL_FILES = ("config.json", "model.safetensors|pytorch_model.bin|model.safetensors.index.json")

#: The model class of each task; pair classification is single-text classification's
#: model on ``<bos> premise <delim> hypothesis <eos>``.
MODEL_CLASSES: dict[str, type[PreTrainedModel]] = {
    "single": OpenAIGPTForSequenceClassification,
    "pair": OpenAIGPTForSequenceClassification,
    "similarity": OpenAIGPTForSimilarity,
    "choice": OpenAIGPTForMultipleChoice,
}


def _check_num_labels(num_labels: int) -> None:
    if not isinstance(num_labels, int) or num_labels < 2:
        raise ValueError(f"num_labels must be an integer >= 2 for classification, got {num_labels!r}")


def small_gpt_config(vocab_size: int, **overrides: Any) -> OpenAIGPTConfig:
    """A small GPT-1-shaped config for training from scratch (512 positions like GPT-1)."""
    settings = dict(n_positions=512, n_embd=128, n_layer=2, n_head=4, afn="gelu")
    settings.update(overrides)
    return OpenAIGPTConfig(vocab_size=vocab_size, **settings)


def model_class(task: str) -> type[PreTrainedModel]:
    """The model class for ``task`` (a ``ValueError`` listing the tasks otherwise)."""
    return MODEL_CLASSES[check_task(task)]


def prepare_model(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> PreTrainedModel:
    """Fit ``model`` to ``tokenizer``: its pad/bos/eos ids, one embedding row per token.

    The embeddings are resized to ``len(tokenizer)`` (whatever was added before); rows
    that existed are kept as they are.
    """
    if tokenizer.pad_token_id is None:
        raise ValueError("tokenizer has no pad token: call msgpt.add_special_tokens(tokenizer) first")
    _check_num_labels(model.config.num_labels)
    _align_special_token_ids(model, tokenizer)
    if model.get_input_embeddings().weight.shape[0] != len(tokenizer):
        resize_token_embeddings(model, len(tokenizer))
    return model


def _align_special_token_ids(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> None:
    """The tokenizer's pad/bos/eos ids in the model's config (and generation config): the
    head reads the pad id, and HF's Trainer otherwise aligns them itself with a warning
    at every start ("The tokenizer has new PAD/BOS/EOS tokens...")."""
    ids = {name: getattr(tokenizer, name) for name in ("pad_token_id", "bos_token_id", "eos_token_id")}
    for config in (model.config, getattr(model, "generation_config", None)):
        if config is not None:
            for name, value in ids.items():
                setattr(config, name, value)


def resize_token_embeddings(model: PreTrainedModel, size: int) -> None:
    """``size`` rows of token embeddings (an LM head stays tied to them); existing rows kept,
    new ones drawn as the model initialises an embedding (normal, std ``initializer_range``;
    not HF's mean_resizing, which samples a multivariate normal that mindtorch lacks).

    Done here on the host rather than by HF's ``resize_token_embeddings``, whose result it
    matches, draws included: on mindtorch HF's copies the old rows in with a scatter (11 of
    the 16 s that loading ``openai-gpt`` took, 40,478 -> 40,481 rows, 2026-12-06) and leaves
    a parameter whose kernels still see the old row count (``rebuild_embedding_parameter``).
    An untied LM head (not GPT-1's) takes HF's path.
    """
    import numpy as np
    import torch  # mindtorch

    if model.get_output_embeddings() is not None and not model.config.get_text_config(
            decoder=True).tie_word_embeddings:
        model.resize_token_embeddings(size, mean_resizing=False)
        rebuild_embedding_parameter(model)
        return
    embedding = model.get_input_embeddings()
    old = embedding.weight.detach().numpy()
    rows, width = old.shape
    if size == rows:
        return
    weight = np.empty((size, width), dtype=old.dtype)
    weight[: min(rows, size)] = old[:size]
    if size > rows:
        # HF's draws, in its order: the new nn.Embedding's own N(0, 1) init, then _init_weights'
        # N(0, initializer_range), whose last rows are the added ones. A seeded run then gets
        # the same rows, and everything drawn after (LoRA's adapters, say), as with HF's resize.
        torch.empty(size, width, dtype=embedding.weight.dtype).normal_()
        drawn = torch.empty(size, width, dtype=embedding.weight.dtype)
        weight[rows:] = drawn.normal_(mean=0.0, std=model.config.initializer_range).numpy()[rows:]
    embedding.weight = torch.nn.Parameter(torch.tensor(weight), requires_grad=embedding.weight.requires_grad)
    embedding.num_embeddings = size
    model.config.get_text_config().vocab_size = size
    model.vocab_size = size
    if model.get_output_embeddings() is not None:
        model.tie_weights()  # an LM head shares the new parameter, as it shared the old one


def rebuild_embedding_parameter(model: PreTrainedModel) -> None:
    """Give the resized token embedding a parameter whose storage matches its shape.

    HF's resize ends with ``old.weight.data = new.weight.data``; on mindtorch that leaves a
    parameter whose kernels still see the old row count (``zeros_like`` of it has the old
    shape), so optimizer state built from it cannot be added to its gradient. A parameter
    made from a host copy is consistent. ``tests/models/test_foundation_model.py`` checks both
    the fix and whether mindtorch still needs it.
    """
    import torch  # mindtorch

    embedding = model.get_input_embeddings()
    embedding.weight = torch.nn.Parameter(torch.tensor(embedding.weight.detach().numpy()))
    if model.get_output_embeddings() is not None:
        model.tie_weights()  # an LM head shares the new parameter, as it shared the old one


def build_model(
    config: OpenAIGPTConfig | Mapping[str, Any],
    tokenizer: PreTrainedTokenizerBase,
    num_labels: int = 2,
    label_names: Sequence[str] | None = None,
    *,
    task: str = DEFAULT_TASK,
) -> PreTrainedModel:
    """A randomly initialised model for ``task`` from ``config`` (a config or a dict of
    its fields): ``"single"``, ``"pair"``, ``"similarity"`` or ``"choice"``.

    ``num_labels`` is the number of classes; for ``"choice"``, whose head gives one
    score per candidate whatever their number, it is the number of candidates per
    question (``config.num_labels``: what predictions and metrics are sized by).
    ``label_names`` (one per class) are kept in the config as ``id2label``/``label2id``.
    """
    model_type = model_class(task)
    _check_num_labels(num_labels)
    if not isinstance(config, OpenAIGPTConfig):
        config = OpenAIGPTConfig(**dict(config))
    config.num_labels = num_labels
    set_label_names(config, label_names)
    record_task(config, task)
    return prepare_model(model_type(config), tokenizer)


def load_model(
    name_or_path: str | os.PathLike,
    tokenizer: PreTrainedTokenizerBase,
    num_labels: int = 2,
    label_names: Sequence[str] | None = None,
    *,
    task: str = DEFAULT_TASK,
) -> PreTrainedModel:
    """Load a model for ``task`` from a hub name (``openai-gpt``) or a local folder.

    A pretrained language model gets a new, randomly initialised head; a folder saved
    by ``save_pretrained`` comes back as it was, and must have been saved for the same
    task when it records one. ``num_labels`` as in ``build_model`` (for ``"choice"``,
    candidates per question); ``label_names`` replace the config's names
    (``id2label``/``label2id``).
    """
    model_type = model_class(task)
    _check_num_labels(num_labels)
    source = resolve_local_or_hub(name_or_path, required_files=MODEL_FILES, what="model")
    if not isinstance(source, str):
        check_model_folder(source)  # one line naming a damaged file, before the loader's traceback
    kwargs = hub_load_kwargs(source, "model") if isinstance(source, str) else {}
    config = OpenAIGPTConfig.from_pretrained(str(source), num_labels=num_labels, **kwargs)
    saved_task = recorded_task(config)
    if saved_task not in (None, task):
        # Before the weights: same-shaped heads (single vs similarity) would load without
        # a word, others fail on a size mismatch that does not name the task.
        raise ValueError(f"{name_or_path} holds a {saved_task!r} model, not a {task!r} one")
    model = model_type.from_pretrained(str(source), config=config, **kwargs)
    set_label_names(model.config, label_names)
    record_task(model.config, task)
    return prepare_model(model, tokenizer)


def check_max_length(model: PreTrainedModel, max_length: int) -> int:
    """``max_length`` if the model has a position for every token, else a ValueError."""
    positions = model.config.n_positions
    if not isinstance(max_length, int) or max_length < 3:
        raise ValueError(f"max length must be an integer >= 3, got {max_length!r}")
    if max_length > positions:
        raise ValueError(
            f"max length {max_length} is above the model's {positions} positions (config.n_positions)"
        )
    return max_length


def save_pretrained(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    folder: str | os.PathLike,
    *,
    max_seq_len: int | None = None,
) -> Path:
    """Save model (safetensors) and tokenizer to ``folder``, replacing it atomically.

    ``max_seq_len``, the length the model was trained at, is recorded in its config with
    the tokenizer's truncation side (``msgpt.models.folder``), for prediction to default to.
    The tokenizer files say how msgpt frames, cleans and cuts text
    (``msgpt.tokens.tokenizer.portable_copy``): HF transformers on PyTorch reads the folder alike.
    """
    from msgpt.models.lora import is_lora_model, write_adapter
    from msgpt.tokens.tokenizer import portable_copy

    if max_seq_len is not None:
        check_max_length(model, max_seq_len)
        record_training(model.config, max_seq_len, tokenizer.truncation_side)
    length = trained_max_length(model.config) or model.config.n_positions
    with atomic_directory(folder) as tmp:
        if is_lora_model(model):  # the adapter folder: adapter and head, added rows, config
            write_adapter(model, tokenizer, tmp)
        else:
            model.save_pretrained(tmp, safe_serialization=True)
        portable_copy(tokenizer, length).save_pretrained(tmp)  # frames and cuts as msgpt for PyTorch users
    return Path(folder)


def load_pretrained(
    folder: str | os.PathLike, *, fast: bool = False
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Model (the class of the task it records) and tokenizer from a folder written by
    ``save_pretrained``; for a LoRA adapter folder, its base model with the adapter on it."""
    from msgpt.tokens.tokenizer import load_tokenizer

    folder = Path(folder)
    tokenizer = load_tokenizer(folder, fast=fast)
    config = OpenAIGPTConfig.from_pretrained(folder)
    side = trained_truncation_side(config)
    if side is not None:
        tokenizer.truncation_side = side  # texts are cut where they were cut in training
    if is_lora_folder(folder):
        return _load_adapter_folder(folder, tokenizer, config), tokenizer
    model = load_model(folder, tokenizer, num_labels=config.num_labels, task=trained_task(config))
    return model, tokenizer


def _load_adapter_folder(folder: Path, tokenizer: PreTrainedTokenizerBase, config: OpenAIGPTConfig) -> Any:
    """A LoRA folder's model: its base (named in adapter_config.json) fitted to the folder's
    tokenizer with the folder's classes and records, then the adapter (msgpt.models.lora)."""
    from msgpt.models.folder import CONFIG_KEY
    from msgpt.models.labels import config_label_names
    from msgpt.models.lora import attach_adapter, base_model_name

    base = load_model(base_model_name(folder), tokenizer, num_labels=config.num_labels,
                      label_names=config_label_names(config), task=trained_task(config))
    setattr(base.config, CONFIG_KEY, getattr(config, CONFIG_KEY, None))  # trained length, side and task
    return attach_adapter(base, folder)
