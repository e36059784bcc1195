"""Export a trained classifier to MindIR, for MindSpore Lite, MindIE or ``mindspore.load``.

``export_mindir`` writes three files side by side, each atomically (all are written to
temporary names first, then renamed), and replaces none without ``overwrite``:

- ``NAME.mindir``: the whole forward of inference as one MindSpore graph with the
  weights inside (``msgpt.inference.graph``), inputs ``input_ids`` and ``attention_mask``
  (int32, ``[batch, seq_len]``; ``[batch, S, seq_len]`` for similarity and choice) of one
  fixed shape (Ascend's static shapes), output the logits;
- ``NAME.json``: the card a service needs besides (``CARD_FORMAT``): task, shapes, the
  ``<pad>``/``<bos>``/``<eos>``/``<delim>`` ids, the truncation side, windows, label names;
- ``NAME.tokenizer.json``: the tokenizer, framing texts as msgpt does (``portable_copy``).

``check_export`` then runs the file in a process of its own with ``mindspore``,
``tokenizers`` and ``numpy`` alone (``msgpt.inference.mindir_service``) and compares its
probabilities with ``msgpt.predict``'s on the same texts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import msgpt.backend  # noqa: F401  (mindnlp before torch/transformers)

import numpy as np
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from msgpt.inference.graph import INPUT_RANK, classifier_cell
from msgpt.inference.mindir_service import CARD_FORMAT, export_paths
from msgpt.inference.predictions import default_max_length, predict
from msgpt.models.classifier import check_max_length, load_pretrained
from msgpt.models.folder import trained_task, trained_windows
from msgpt.models.labels import config_label_names
from msgpt.tokens.tokenizer import DELIMITER, portable_copy

#: Largest difference of a probability from ``msgpt.predict``'s that ``check_export``
#: accepts: float32 rounding through GPT-1's 12 blocks stays well below it.
PROBABILITY_TOLERANCE = 1e-4


@dataclass(frozen=True)
class Export:
    """The files ``export_mindir`` wrote, the graph's input shape and the seconds it took."""

    mindir: Path
    card: Path
    tokenizer: Path
    input_shape: tuple[int, ...]
    seconds: float

    @property
    def megabytes(self) -> float:
        return self.mindir.stat().st_size / 2**20


def graph_input_shape(model: PreTrainedModel, batch_size: int, seq_len: int, candidates: int | None = None) -> tuple:
    """The shape of the exported graph's ``input_ids``: ``[batch, seq]`` or ``[batch, S, seq]``."""
    task = trained_task(model.config)
    if INPUT_RANK.get(task) == 2:
        return (batch_size, seq_len)
    sequences = 2 if task == "similarity" else candidates or model.config.num_labels
    return (batch_size, sequences, seq_len)


def _card(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, shape: tuple, names: dict[str, str],
          source: str | None) -> dict:
    config, task = model.config, trained_task(model.config)
    delimiter = tokenizer.convert_tokens_to_ids(DELIMITER) if DELIMITER in tokenizer.get_vocab() else None
    classes = shape[1] if task == "choice" else config.num_labels
    return {
        "format": CARD_FORMAT,
        "model": names["mindir"],
        "tokenizer": names["tokenizer"],
        "task": task,
        "inputs": {"input_ids": {"shape": list(shape), "dtype": "int32"},
                   "attention_mask": {"shape": list(shape), "dtype": "int32"}},
        "output": {"logits": {"shape": [shape[0], classes], "dtype": "float32"}},
        "batch_size": shape[0],
        "seq_len": shape[-1],
        "num_labels": classes,
        "label_names": None if task == "choice" else list(config_label_names(config) or []) or None,
        "pad_id": tokenizer.pad_token_id,
        "bos_id": tokenizer.bos_token_id,
        "eos_id": tokenizer.eos_token_id,
        "delimiter_id": delimiter,
        "padding_side": "right",
        "truncation_side": tokenizer.truncation_side,
        "windows": bool(trained_windows(config)) and task == "single",
        "source": source,
    }


def _check_classifier_folder(folder: Path) -> None:
    """A ``ValueError`` for a folder whose weights have no trained head (a language model's:
    loading it as a classifier would give a random head, and the export random answers)."""
    from msgpt.models.classifier import MODEL_CLASSES

    architectures = json.loads((folder / "config.json").read_text(encoding="utf-8")).get("architectures") or []
    classifiers = {cls.__name__ for cls in MODEL_CLASSES.values()}
    if architectures and not classifiers.intersection(architectures):
        raise ValueError(f"{folder} holds a {', '.join(architectures)}, not a trained classifier: "
                         "fine-tune it first (recipes/imdb.py or classify.py --model FOLDER)")


def load_for_export(
    model: str | os.PathLike | PreTrainedModel, tokenizer: PreTrainedTokenizerBase | None = None
) -> tuple:
    """Model and tokenizer from a folder or as given, a LoRA adapter merged into the
    weights; a ``ValueError`` for a folder that is not a model's or a slow tokenizer."""
    from msgpt.models.lora import is_lora_model, merge_lora

    if isinstance(model, (str, os.PathLike)):
        from msgpt.models.folder import read_model_folder

        _check_classifier_folder(read_model_folder(model).path)
        model, tokenizer = load_pretrained(model, fast=True)
    elif tokenizer is None:
        raise ValueError("pass the tokenizer together with a model object")
    if is_lora_model(model):
        model = merge_lora(model)
    if not tokenizer.is_fast:
        raise ValueError("export needs a fast tokenizer (its tokenizer.json is what a service reads)")
    return model, tokenizer


def export_mindir(
    model: str | os.PathLike | PreTrainedModel,
    output: str | os.PathLike,
    tokenizer: PreTrainedTokenizerBase | None = None,
    *,
    batch_size: int = 1,
    seq_len: int | None = None,
    candidates: int | None = None,
    overwrite: bool = False,
    source: str | os.PathLike | None = None,
) -> Export:
    """Write ``model`` (a saved folder, or a model and its tokenizer) as ``output`` (a
    ``.mindir`` path) with its card and tokenizer beside it (see the module doc).

    ``seq_len`` defaults to the length the model was trained at; ``candidates`` (choice
    models) to the number it was built for. A LoRA model is exported with its adapter
    merged into the weights. The card records ``source`` (default: ``model`` when it is a
    folder) as where the model came from. Bad settings and models the graph does not compute raise a
    ``ValueError`` before anything is written.
    """
    import mindspore

    paths = export_paths(output)
    if source is None and isinstance(model, (str, os.PathLike)):
        source = model
    source = None if source is None else str(Path(source).expanduser().resolve())
    if not overwrite:
        existing = [str(path) for path in paths if path.exists()]
        if existing:
            raise ValueError(f"{', '.join(existing)} exists: pass overwrite=True (--overwrite) to replace it")
    if batch_size < 1:
        raise ValueError(f"batch size must be >= 1, got {batch_size}")
    if candidates is not None and candidates < 2:
        raise ValueError(f"a choice graph needs >= 2 candidates, got {candidates}")
    model, tokenizer = load_for_export(model, tokenizer)
    seq_len = check_max_length(model, seq_len or default_max_length(model))
    start = time.perf_counter()
    model.eval()
    cell = classifier_cell(model)
    shape = graph_input_shape(model, batch_size, seq_len, candidates)
    dummy = mindspore.Tensor(np.full(shape, tokenizer.pad_token_id, np.int32))
    mindir, card, tokenizer_file = paths
    mindir.parent.mkdir(parents=True, exist_ok=True)
    names = {"mindir": mindir.name, "tokenizer": tokenizer_file.name}
    with tempfile.TemporaryDirectory(dir=mindir.parent, prefix=f".{mindir.name}.") as tmp:
        staged = Path(tmp)
        mindspore.export(cell, dummy, mindspore.Tensor(np.zeros(shape, np.int32)),
                         file_name=str(staged / "model"), file_format="MINDIR")
        os.chmod(staged / "model.mindir", 0o644)  # MindSpore writes it read-only for its owner
        portable_copy(tokenizer, seq_len).backend_tokenizer.save(str(staged / "tokenizer.json"))
        (staged / "card.json").write_text(json.dumps(_card(model, tokenizer, shape, names, source), indent=2) + "\n",
                                          encoding="utf-8")
        for name, path in (("tokenizer.json", tokenizer_file), ("card.json", card), ("model.mindir", mindir)):
            os.replace(staged / name, path)
    return Export(mindir, card, tokenizer_file, shape, time.perf_counter() - start)


@dataclass(frozen=True)
class ExportCheck:
    """How the exported graph, run by MindSpore alone, compares with ``msgpt.predict``."""

    examples: int
    max_probability_difference: float
    labels_agree: bool
    modules: tuple[str, ...]  # msgpt, mindnlp, torch or transformers modules the service loaded (none)

    @property
    def passed(self) -> bool:
        return self.max_probability_difference <= PROBABILITY_TOLERANCE and self.labels_agree and not self.modules


_SERVICE_RUN = """
import json, sys
sys.path.insert(0, sys.argv[1])
from mindir_service import MindIRClassifier
inputs = json.load(open(sys.argv[3], encoding="utf-8"))
probs = MindIRClassifier(sys.argv[2]).probabilities(inputs["texts"], inputs["text_pairs"], inputs["candidates"])
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("msgpt", "mindnlp", "mindtorch", "torch", "transformers"))
json.dump({"probabilities": probs.tolist(), "modules": loaded}, open(sys.argv[4], "w"))
"""


def run_service(card: str | os.PathLike, texts: Sequence[str], *, text_pairs: Sequence[str] | None = None,
                candidates: Sequence[Sequence[str]] | None = None) -> tuple[np.ndarray, tuple[str, ...]]:
    """The exported model's probabilities for ``texts`` from a fresh Python process that
    imports ``msgpt.inference.mindir_service`` by path (not msgpt): ``(probabilities,
    the msgpt/mindnlp/torch/transformers modules that process loaded)``."""
    with tempfile.TemporaryDirectory(prefix="msgpt-mindir-check-") as tmp:
        inputs, result = Path(tmp) / "inputs.json", Path(tmp) / "result.json"
        given = {"texts": list(texts), "text_pairs": None if text_pairs is None else list(text_pairs),
                 "candidates": None if candidates is None else [list(row) for row in candidates]}
        inputs.write_text(json.dumps(given), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSTARTUP")}
        done = subprocess.run(
            # The folder of this file is mindir_service.py's: the child imports that one file.
            [sys.executable, "-c", _SERVICE_RUN, str(Path(__file__).parent), str(card), str(inputs), str(result)],
            cwd=tmp, env=env, capture_output=True, text=True,
        )
        if done.returncode != 0:
            tail = done.stderr.strip().splitlines()[-1:] or ["(no output)"]
            raise RuntimeError(f"the MindIR service process failed (exit {done.returncode}): {tail[0]}")
        data = json.loads(result.read_text(encoding="utf-8"))
    return np.asarray(data["probabilities"], np.float32), tuple(data["modules"])


def check_export(
    export: Export,
    model: str | os.PathLike | PreTrainedModel,
    texts: Sequence[str],
    tokenizer: PreTrainedTokenizerBase | None = None,
    *,
    text_pairs: Sequence[str] | None = None,
    candidates: Sequence[Sequence[str]] | None = None,
) -> ExportCheck:
    """Run the exported files on ``texts`` with MindSpore alone (``run_service``) and compare
    with ``msgpt.predict`` of ``model`` at the exported length, windows as the card says."""
    card = json.loads(export.card.read_text(encoding="utf-8"))
    model, tokenizer = load_for_export(model, tokenizer)
    reference = predict(texts, model, tokenizer, text_pairs=text_pairs, candidates=candidates,
                        max_length=card["seq_len"], windows=card["windows"])
    probs, modules = run_service(export.card, texts, text_pairs=text_pairs, candidates=candidates)
    difference = float(np.abs(probs - reference.probabilities).max()) if len(texts) else 0.0
    # A label may differ only where two classes tie within the tolerance.
    margin = np.sort(reference.probabilities, axis=-1)
    close = (margin[:, -1] - margin[:, -2]) <= 2 * PROBABILITY_TOLERANCE if len(texts) else np.zeros(0, bool)
    agree = bool(np.all((probs.argmax(-1) == reference.labels) | close))
    return ExportCheck(len(texts), difference, agree, modules)

