"""Train a GPT-1-compatible BPE vocabulary offline, for runs without the hub.

The files are what ``OpenAIGPTTokenizer`` reads: ``vocab.json`` and ``merges.txt`` with
``</w>`` marking the end of a word, over the same lower-casing BERT pre-tokenisation the
slow tokenizer falls back to (and the fast one uses), so both classes load them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable

from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

UNK = "<unk>"
END_OF_WORD = "</w>"
#: Ends each document in packed pre-training text (``msgpt.data.pack_texts``). Not a
#: classification token: fine-tuning adds ``<bos>``/``<eos>``/``<pad>`` as for GPT-1.
DOCUMENT_SEPARATOR = "<|endoftext|>"


def train_bpe_tokenizer(
    texts: Iterable[str],
    output_dir: str | os.PathLike,
    *,
    vocab_size: int = 8000,
    min_frequency: int = 2,
) -> Path:
    """Learn a BPE vocabulary from ``texts`` and write it to ``output_dir``.

    Returns the folder, ready for ``msgpt.load_tokenizer(folder)``. ``vocab_size`` counts
    the characters, the merges, ``<unk>`` and ``DOCUMENT_SEPARATOR`` (which ends each
    document in pre-training); the GPT-1 fine-tuning tokens are added later by
    ``add_special_tokens``, as for the pretrained vocabulary.
    """
    if vocab_size < 2:
        raise ValueError(f"vocab_size must be at least 2, got {vocab_size}")
    tokenizer = Tokenizer(models.BPE(unk_token=UNK, end_of_word_suffix=END_OF_WORD))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=[UNK, DOCUMENT_SEPARATOR],
        end_of_word_suffix=END_OF_WORD,
        show_progress=False,
    )
    seen = 0

    def counted(items: Iterable[str]) -> Iterable[str]:
        nonlocal seen
        for text in items:
            seen += 1
            yield text

    tokenizer.train_from_iterator(counted(texts), trainer=trainer)
    if seen == 0:
        raise ValueError("cannot train a BPE vocabulary on no texts")
    output = Path(output_dir)
    output.mkdir(parents=True, exist_ok=True)
    tokenizer.model.save(str(output))
    _renumber_vocabulary(output)
    return output


def _renumber_vocabulary(folder: Path) -> None:
    """Give the tokens ids that depend on the texts alone: ``<unk>``, the document
    separator, the sorted alphabet, then each merge's result in merge order.

    The trainer learns the same merges on every run, but numbers the alphabet in hash-map
    order, which changes from process to process; a seeded run must give the same ids.
    """
    vocab_file = folder / "vocab.json"
    vocab = json.loads(vocab_file.read_text(encoding="utf-8"))
    lines = (folder / "merges.txt").read_text(encoding="utf-8").splitlines()
    merged = [left + right for left, right in (line.split() for line in lines[1:] if line)]
    made = set(merged)
    specials = (UNK, DOCUMENT_SEPARATOR)
    alphabet = sorted(token for token in vocab if token not in made and token not in specials)
    order = list(dict.fromkeys([*specials, *alphabet, *merged]))
    if sorted(order) != sorted(vocab):
        raise RuntimeError(f"BPE vocabulary in {folder} does not match its merges")
    vocab_file.write_text(json.dumps({token: i for i, token in enumerate(order)}, ensure_ascii=False), encoding="utf-8")
