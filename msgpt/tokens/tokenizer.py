"""GPT-1's tokenizer with the classification tokens of the paper: ``<bos> text <eos>``.

GPT-1 was pre-trained without start, extract or pad tokens; fine-tuning adds them, and
the classifier reads the hidden state at ``<eos>`` (the paper's ``<extract>``). The
tasks with two segments (sec 3.3) also need the delimiter between them (the paper's
``$``); their encodings are in ``msgpt.tokens.inputs``.
"""

from __future__ import annotations

import copy
import logging
import os
from pathlib import Path
from typing import Sequence

import msgpt.backend  # noqa: F401  (mindnlp before transformers)

from transformers import OpenAIGPTTokenizer, OpenAIGPTTokenizerFast, PreTrainedTokenizerBase

from msgpt.runtime.hub import hub_load_kwargs, resolve_local_or_hub
from msgpt.tokens.tasks import check_task
from msgpt.tokens.text import HTML_BREAKS

logger = logging.getLogger(__name__)

SPECIAL_TOKENS = {"bos_token": "<bos>", "eos_token": "<eos>", "pad_token": "<pad>"}
TOKENIZER_FILES = ("vocab.json", "merges.txt")
MIN_LENGTH = 3  # <bos>, at least one text token, <eos>
#: The paper's ``$`` between two segments: a special token, so no text ever produces it.
DELIMITER = "<delim>"


def needs_delimiter(task: str) -> bool:
    """Whether ``task``'s inputs (``msgpt.tokens.tasks.TASKS``) have two segments, hence ``<delim>``."""
    return check_task(task) != "single"


def load_tokenizer(
    name_or_path: str | os.PathLike = "openai-gpt",
    *,
    add_special: bool = True,
    fast: bool = False,
    delimiter: bool = False,
) -> PreTrainedTokenizerBase:
    """Load ``OpenAIGPTTokenizer`` from a hub name or a local folder.

    A local folder must hold ``vocab.json`` and ``merges.txt``. With ``add_special`` (the
    default) the ``<bos>``/``<eos>``/``<pad>`` tokens are added, and ``<delim>`` too with
    ``delimiter`` (see ``add_special_tokens``). ``fast=True`` loads the
    Rust ``OpenAIGPTTokenizerFast``, which gives the same ids (without spaCy installed) and
    is much faster on large data.
    """
    cls = OpenAIGPTTokenizerFast if fast else OpenAIGPTTokenizer
    source = resolve_local_or_hub(name_or_path, required_files=TOKENIZER_FILES, what="tokenizer")
    if isinstance(source, str):
        tokenizer = cls.from_pretrained(source, **hub_load_kwargs(source, "tokenizer", "vocab.json"))
    else:
        tokenizer = cls.from_pretrained(str(source))
    if add_special:
        add_special_tokens(tokenizer, delimiter=delimiter)
    return tokenizer


def add_special_tokens(tokenizer: PreTrainedTokenizerBase, *, delimiter: bool = False) -> int:
    """Add ``<bos>``, ``<eos>`` and ``<pad>`` (and ``<delim>`` with ``delimiter``); returns
    how many tokens were new.

    Idempotent: a second call adds nothing, returns 0 and logs that nothing changed.
    Tokens a tokenizer already has under another role are left alone: the roles are set
    to the GPT-1 fine-tuning tokens. ``<delim>`` joins the additional special tokens
    (any already there are kept), so it is never split and only msgpt's encodings put it
    in a sequence. Resize a model's embeddings afterwards (``msgpt.prepare_model``).
    """
    before = len(tokenizer)
    tokens: dict = dict(SPECIAL_TOKENS)
    if delimiter:
        tokens["additional_special_tokens"] = [DELIMITER]
    added = tokenizer.add_special_tokens(tokens, replace_additional_special_tokens=False)
    if added == 0 and len(tokenizer) == before:
        names = [*SPECIAL_TOKENS.values(), *([DELIMITER] if delimiter else [])]
        logger.info("tokenizer already has %s; nothing added", ", ".join(names))
    else:
        logger.info("added %d special tokens; tokenizer now has %d tokens", added, len(tokenizer))
    return added


def portable_copy(tokenizer: PreTrainedTokenizerBase, max_length: int) -> PreTrainedTokenizerBase:
    """A copy of ``tokenizer`` whose saved files read text as msgpt does, for HF transformers
    on PyTorch (``AutoTokenizer``, ``pipeline("text-classification")``) with no hand framing.

    msgpt frames, cleans and cuts text in its own code (``encode_texts`` and the data
    sources); a saved folder says the same in its tokenizer files: the fast tokenizer's
    post-processor adds ``<bos> text <eos>`` (``<bos> a <delim> b <eos>`` for a pair when
    the tokenizer has ``<delim>``), its normalizer turns HTML line breaks into whitespace,
    and ``tokenizer_config.json`` records the truncation side and ``max_length`` (the length
    trained at) as ``model_max_length``, so that ``truncation=True`` cuts where msgpt cut.
    The tokenizer itself is left as it is (msgpt's encodings pass ``add_special_tokens=False``).
    A slow tokenizer gets the truncation side and length only: it has no post-processor.
    """
    portable = copy.deepcopy(tokenizer)
    portable.model_max_length = max_length
    portable.init_kwargs["model_max_length"] = max_length
    portable.init_kwargs["truncation_side"] = tokenizer.truncation_side
    if not portable.is_fast:
        return portable
    from tokenizers import Regex, normalizers, processors

    backend = portable.backend_tokenizer
    # HF leaves the last call's truncation and padding set on the backend, and tokenizer.json
    # would keep them: a reader of that file alone (tokenizers, a MindIR service) would then
    # cut every text at the last call's length. Readers set their own (HF does per call).
    backend.no_truncation()
    backend.no_padding()
    bos, eos = portable.bos_token, portable.eos_token
    if bos is not None and eos is not None:  # a classifier's; a language model's reads plain text
        specials = [(bos, portable.bos_token_id), (eos, portable.eos_token_id)]
        pair = f"{bos} $A {eos} $B {eos}"
        if DELIMITER in portable.additional_special_tokens:
            pair = f"{bos} $A {DELIMITER} $B {eos}"
            specials.append((DELIMITER, portable.convert_tokens_to_ids(DELIMITER)))
        backend.post_processor = processors.TemplateProcessing(single=f"{bos} $A {eos}", pair=pair,
                                                               special_tokens=specials)
    breaks = normalizers.Replace(Regex(f"(?i){HTML_BREAKS}"), "\n")
    old = backend.normalizer
    backend.normalizer = breaks if old is None else normalizers.Sequence([breaks, old])
    return portable


def delimiter_id(tokenizer: PreTrainedTokenizerBase) -> int:
    """The id of ``<delim>``, or a ``ValueError`` when the tokenizer lacks it."""
    if DELIMITER not in tokenizer.additional_special_tokens:
        raise ValueError(
            f"tokenizer has no {DELIMITER} token: call msgpt.add_special_tokens(tokenizer, delimiter=True) first"
        )
    return tokenizer.convert_tokens_to_ids(DELIMITER)


def check_ready(tokenizer: PreTrainedTokenizerBase, max_length: int, min_length: int = MIN_LENGTH) -> None:
    """A ``ValueError`` unless ``tokenizer`` has msgpt's special tokens and ``max_length``
    leaves room for them."""
    missing = [name for name in SPECIAL_TOKENS if getattr(tokenizer, name, None) is None]
    if missing:
        raise ValueError(
            f"tokenizer has no {', '.join(missing)}: call msgpt.add_special_tokens(tokenizer) first"
        )
    if not isinstance(max_length, int) or max_length < min_length:
        raise ValueError(f"max_length must be an integer >= {min_length}, got {max_length!r}")


def check_text(text: object, index: int | None = None, name: str = "text") -> None:
    """A ``TypeError`` or ``ValueError``, naming ``name`` and item ``index``, unless ``text``
    is a non-empty string."""
    where = "" if index is None else f" (item {index})"
    if not isinstance(text, str):
        raise TypeError(f"{name} must be a string, got {type(text).__name__}{where}")
    if not text.strip():
        raise ValueError(f"{name} is empty{where}")


def encode_text(
    tokenizer: PreTrainedTokenizerBase, text: str, max_length: int
) -> list[int]:
    """Token ids of ``<bos> text <eos>``, at most ``max_length`` long.

    Only the text is truncated (from the right); ``<eos>``, the token the classifier
    reads, is always last.
    """
    return encode_texts(tokenizer, [text], max_length)[0]


def encode_texts(
    tokenizer: PreTrainedTokenizerBase, texts: Sequence[str], max_length: int
) -> list[list[int]]:
    """``encode_text`` for many texts in one tokenizer call."""
    check_ready(tokenizer, max_length)
    for index, text in enumerate(texts):
        check_text(text, index if len(texts) > 1 else None)
    body = tokenizer(
        list(texts),
        add_special_tokens=False,
        truncation=True,
        max_length=max_length - 2,
        return_attention_mask=False,
    )["input_ids"]
    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
    return [[bos, *ids, eos] for ids in body]


def tokenizer_files_present(folder: str | os.PathLike) -> bool:
    """Whether ``folder`` holds the files ``OpenAIGPTTokenizer`` needs."""
    return all((Path(folder) / name).is_file() for name in TOKENIZER_FILES)


def learn_tokenizer(
    texts: Sequence[str],
    folder: str | os.PathLike,
    *,
    vocab_size: int,
    add_special: bool = True,
) -> PreTrainedTokenizerBase:
    """A BPE vocabulary learnt from ``texts`` (``msgpt.tokens.bpe.train_bpe_tokenizer``), written to
    ``folder`` and loaded as a fast GPT-1 tokenizer.

    Under ``msrun`` rank 0 learns it and the other ranks read it, so that every rank
    has the same ids.
    """
    from msgpt.runtime.distributed import barrier, is_main_process
    from msgpt.tokens.bpe import train_bpe_tokenizer

    if is_main_process():
        train_bpe_tokenizer(texts, folder, vocab_size=vocab_size)
    barrier()
    return load_tokenizer(folder, add_special=add_special, fast=True)
