"""GPT-1 as a language model (``OpenAIGPTLMHeadModel``): GPT-1's first stage, generative
pre-training, and the folder it leaves for the second.

    tokenizer = msgpt.load_tokenizer(folder_or_name, add_special=False)   # no <bos>/<eos>/<pad>
    model = msgpt.build_language_model(msgpt.small_gpt_config(len(tokenizer)), tokenizer)  # from scratch
    model = msgpt.load_language_model("openai-gpt", tokenizer)                  # or continue from weights
    ...                                                                   # train on packed blocks
    msgpt.save_language_model(model, tokenizer, "runs/pretrain/best")

The saved folder has the hub's ``openai-gpt`` layout (``config.json``, safetensors weights,
``vocab.json``, ``merges.txt``) and no classification tokens, so fine-tuning reads it
exactly as it reads ``openai-gpt``: ``msgpt.load_tokenizer`` adds ``<bos>``/``<eos>``/
``<pad>``, ``msgpt.load_model`` resizes the embeddings keeping the pre-trained rows, and
the auxiliary LM loss reads the tied embeddings.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import msgpt.backend  # noqa: F401  (mindnlp before transformers)

from transformers import OpenAIGPTConfig, OpenAIGPTLMHeadModel, PreTrainedTokenizerBase

from msgpt.models.classifier import MODEL_FILES, resize_token_embeddings, save_pretrained
from msgpt.models.weights_check import check_model_folder
from msgpt.runtime.hub import hub_load_kwargs, resolve_local_or_hub
from msgpt.tokens.bpe import DOCUMENT_SEPARATOR


def document_separator_id(tokenizer: PreTrainedTokenizerBase) -> int | None:
    """The token that ends each document in packed pre-training text, or None.

    msgpt's own BPE vocabularies have ``DOCUMENT_SEPARATOR`` (``msgpt.tokens.bpe.train_bpe_tokenizer``).
    GPT-1's vocabulary has no such token (BooksCorpus was read as contiguous text):
    documents then follow each other directly, as HF's ``run_clm.py`` joins them.
    """
    token_id = tokenizer.get_vocab().get(DOCUMENT_SEPARATOR)
    return None if token_id is None else int(token_id)


def _fit_embeddings(model: OpenAIGPTLMHeadModel, tokenizer: PreTrainedTokenizerBase) -> OpenAIGPTLMHeadModel:
    rows = model.get_input_embeddings().weight.shape[0]
    if len(tokenizer) > rows:  # a tokenizer with tokens the weights lack: new rows, old ones kept
        resize_token_embeddings(model, len(tokenizer))
    return model


def build_language_model(
    config: OpenAIGPTConfig | Mapping[str, Any], tokenizer: PreTrainedTokenizerBase
) -> OpenAIGPTLMHeadModel:
    """A randomly initialised GPT-1 language model with one embedding row per token."""
    if not isinstance(config, OpenAIGPTConfig):
        config = OpenAIGPTConfig(**dict(config))
    if config.vocab_size < len(tokenizer):
        config.vocab_size = len(tokenizer)
    return _fit_embeddings(OpenAIGPTLMHeadModel(config), tokenizer)


def load_language_model(name_or_path: str | os.PathLike, tokenizer: PreTrainedTokenizerBase) -> OpenAIGPTLMHeadModel:
    """GPT-1's language model from a hub name (``openai-gpt``) or a local folder, to
    continue its pre-training (for example on the text of a new domain).

    Any folder of a GPT-1 model works: the hub's layout, one saved by
    ``save_language_model``, or a fine-tuned classifier (its transformer and tied
    embeddings; the classification head is left out).
    """
    source = resolve_local_or_hub(name_or_path, required_files=MODEL_FILES, what="model")
    if not isinstance(source, str):
        check_model_folder(source)
    kwargs = hub_load_kwargs(source, "model") if isinstance(source, str) else {}
    model = OpenAIGPTLMHeadModel.from_pretrained(str(source), **kwargs)
    return _fit_embeddings(model, tokenizer)


def save_language_model(
    model: OpenAIGPTLMHeadModel, tokenizer: PreTrainedTokenizerBase, folder: str | os.PathLike
) -> Path:
    """``folder`` in the hub's ``openai-gpt`` layout (safetensors), replaced atomically:
    ``msgpt.save_pretrained`` of a language model and its tokenizer (no classification tokens)."""
    return save_pretrained(model, tokenizer, folder)


def new_language_model(
    texts: Sequence[str], tokenizer_folder: str | os.PathLike, *, vocab_size: int, **config: Any
) -> tuple[PreTrainedTokenizerBase, OpenAIGPTLMHeadModel]:
    """From scratch: a BPE vocabulary of ``vocab_size`` learnt from ``texts`` (written to
    ``tokenizer_folder``, without classification tokens) and a randomly initialised GPT-1
    language model for it, sized by ``config`` (``msgpt.small_gpt_config`` fields)."""
    from msgpt.models.classifier import small_gpt_config
    from msgpt.tokens.tokenizer import learn_tokenizer

    tokenizer = learn_tokenizer(texts, tokenizer_folder, vocab_size=vocab_size, add_special=False)
    return tokenizer, build_language_model(small_gpt_config(len(tokenizer), **config), tokenizer)
