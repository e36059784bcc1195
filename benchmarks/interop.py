"""A model folder msgpt saved, read by HF transformers on PyTorch the way PyTorch users read one.

    .venv/bin/python benchmarks/interop.py                       # a tiny classifier on GPT-1's tokenizer
    .venv/bin/python benchmarks/interop.py --model runs/imdb-demo/best

Without ``--model`` it builds a small classifier (2 x 32, random weights) on GPT-1's own
tokenizer (``../shared/openai-gpt``), trained-length 32 and left truncation recorded, and
saves it with ``msgpt.save_pretrained``. Then, in the PyTorch venv ``benchmarks/train_step.py``
creates, with nothing but HF's own API: ``AutoModelForSequenceClassification.from_pretrained``
(its loading report: missing, unexpected, mismatched keys), ``AutoTokenizer`` and
``pipeline("text-classification", top_k=None, truncation=True)`` on reviews with HTML breaks,
short and longer than the trained length. Each check prints on a line of its own; msgpt's
side is ``msgpt.predict(texts, folder, windows=False)`` and ``msgpt.encode_texts`` at the
folder's length. Then GPT-1 as a language model both ways: a tiny one PyTorch saved
(``model.safetensors``, and ``pytorch_model.bin`` only) loaded by ``msgpt.load_language_model``,
and one msgpt saved (``msgpt.save_language_model``) loaded by PyTorch's
``OpenAIGPTLMHeadModel.from_pretrained``: loading report, tied head, logits. The last line is
``interop_ok=1`` when every report is clean, the ids are equal and the probabilities and logits
agree within ``--tolerance``, else ``interop_ok=0``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from train_step import TORCH_VENV, torch_python  # noqa: E402

GPT1 = HERE.parent.parent / "shared" / "openai-gpt"
TEXTS = [
    "A fine film.",
    "What a waste of time.<br /><br />The plot made no sense and the acting was wooden.",
    "I loved it<br/>and so did my kids. " * 12,  # longer than the tiny model's 32 tokens
    "Terrible. " + "The ending, though, was wonderful and moving. " * 10,
    "<BR>Strange start, decent middle, awful end.",
]

PYTORCH_SIDE = """
import json, sys
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline
folder, texts = sys.argv[1], json.loads(sys.argv[2])
model, info = AutoModelForSequenceClassification.from_pretrained(folder, output_loading_info=True)
tokenizer = AutoTokenizer.from_pretrained(folder)
classify = pipeline("text-classification", model=model, tokenizer=tokenizer, top_k=None, truncation=True, device=-1)
scores = classify(texts)
labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
probabilities = [[next(s["score"] for s in row if s["label"] == label) for label in labels] for row in scores]
ids = tokenizer(texts, truncation=True)["input_ids"]
print(json.dumps(dict(info={k: [str(x) for x in v] for k, v in info.items()}, probabilities=probabilities,
                      ids=ids, tokenizer=type(tokenizer).__name__, truncation_side=tokenizer.truncation_side,
                      model_max_length=tokenizer.model_max_length)))
"""

#: Both ways for GPT-1 as a language model: PyTorch saves a tiny one (safetensors, and
#: pytorch_model.bin only, as the hub has both) for msgpt to load; it loads the one msgpt saved.
PYTORCH_SAVES = """
import json, shutil, sys
import torch
from transformers import OpenAIGPTConfig, OpenAIGPTLMHeadModel
gpt1, out, ids = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
torch.manual_seed(0)
model = OpenAIGPTLMHeadModel(OpenAIGPTConfig(vocab_size=40478, n_embd=32, n_layer=2, n_head=2, n_positions=64)).eval()
for name, safe in (("safetensors", True), ("bin", False)):
    model.save_pretrained(f"{out}/{name}", safe_serialization=safe)
    for file in ("vocab.json", "merges.txt"):
        shutil.copyfile(f"{gpt1}/{file}", f"{out}/{name}/{file}")
with torch.no_grad():
    print(json.dumps(model(torch.tensor(ids)).logits.tolist()))
"""
PYTORCH_LOADS_LM = """
import json, sys
import torch
from transformers import OpenAIGPTLMHeadModel
folder, ids = sys.argv[1], json.loads(sys.argv[2])
model, info = OpenAIGPTLMHeadModel.from_pretrained(folder, output_loading_info=True)
with torch.no_grad():
    logits = model.eval()(torch.tensor(ids)).logits.tolist()
print(json.dumps(dict(info={k: [str(x) for x in v] for k, v in info.items()}, logits=logits,
                      tied=model.lm_head.weight.data_ptr() == model.transformer.tokens_embed.weight.data_ptr())))
"""
IDS = [[40, 1000, 2000, 3000, 39000, 7, 285], [5, 6, 7, 8, 9, 10, 11]]


def run_pytorch(python: Path, script: str, *args: str) -> str:
    done = subprocess.run([str(python), "-c", script, *args], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"the PyTorch side failed:\n{done.stderr[-3000:]}")
    return done.stdout.strip().splitlines()[-1]


def lm_logits(model) -> np.ndarray:
    import torch  # mindtorch

    with torch.no_grad():
        return model.eval()(torch.tensor(IDS)).logits.numpy()


def check_language_models(gpt1: Path, python: Path, work: Path, tolerance: float) -> bool:
    """A folder PyTorch saved loads in msgpt with PyTorch's logits; msgpt's saved LM loads
    in PyTorch with no missing, unexpected or mismatched key, the head tied, same logits."""
    import msgpt

    theirs = np.asarray(json.loads(run_pytorch(python, PYTORCH_SAVES, str(gpt1), str(work), json.dumps(IDS))))
    ok = True
    for name in ("safetensors", "bin"):
        tokenizer = msgpt.load_tokenizer(work / name, add_special=False, fast=True)
        difference = float(np.abs(lm_logits(msgpt.load_language_model(work / name, tokenizer)) - theirs).max())
        print(f"PyTorch-saved LM ({name}) in msgpt: logits max |difference| = {difference:.1e}")
        ok &= difference <= tolerance
    tokenizer = msgpt.load_tokenizer(gpt1, add_special=False, fast=True)
    config = msgpt.small_gpt_config(len(tokenizer), n_embd=32, n_layer=2, n_head=2, n_positions=64)
    model = msgpt.build_language_model(config, tokenizer)
    folder = msgpt.save_language_model(model, tokenizer, work / "msgpt-lm")
    loaded = json.loads(run_pytorch(python, PYTORCH_LOADS_LM, str(folder), json.dumps(IDS)))
    problems = {key: value for key, value in loaded["info"].items() if value}
    difference = float(np.abs(lm_logits(model) - np.asarray(loaded["logits"])).max())
    print(f"msgpt-saved LM in PyTorch: loading report {problems or 'clean'}, head tied: {loaded['tied']}, "
          f"logits max |difference| = {difference:.1e}")
    return ok and not problems and loaded["tied"] and difference <= tolerance


def tiny_folder(gpt1: Path, folder: Path) -> Path:
    import msgpt

    tokenizer = msgpt.load_tokenizer(gpt1, fast=True)
    tokenizer.truncation_side = "left"  # the demo's side: the end of a review is kept
    config = msgpt.small_gpt_config(tokenizer.vocab_size, n_embd=32, n_layer=2, n_head=2, n_positions=64)
    model = msgpt.build_model(config, tokenizer, num_labels=2)
    return msgpt.save_pretrained(model, tokenizer, folder, max_seq_len=32)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="a folder saved by msgpt (default: a tiny one, built here)")
    parser.add_argument("--gpt1", type=Path, default=GPT1, help=f"GPT-1's tokenizer files (default {GPT1})")
    parser.add_argument("--torch-venv", type=Path, default=TORCH_VENV, help=f"default {TORCH_VENV}")
    parser.add_argument("--tolerance", type=float, default=1e-5, help="largest probability difference (1e-5)")
    opts = parser.parse_args(argv)
    if not (opts.gpt1 / "vocab.json").is_file():
        parser.error(f"{opts.gpt1} has no vocab.json: give GPT-1's files with --gpt1")
    torch = torch_python(opts.torch_venv, getattr(sys, "_base_executable", sys.executable))

    import msgpt

    msgpt.select_device("CPU")
    with tempfile.TemporaryDirectory(prefix="msgpt-interop-") as work:
        folder = opts.model or tiny_folder(opts.gpt1, Path(work) / "best")
        mine = msgpt.predict(TEXTS, folder, windows=False)
        _, tokenizer = msgpt.load_pretrained(folder, fast=True)
        length = msgpt.read_model_folder(folder).max_seq_len
        my_ids = msgpt.encode_texts(tokenizer, [msgpt.data.clean_text(t) for t in TEXTS], length)
        done = subprocess.run([str(torch), "-c", PYTORCH_SIDE, str(folder), json.dumps(TEXTS)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"the PyTorch side failed:\n{done.stderr[-3000:]}")
    theirs = json.loads(done.stdout.strip().splitlines()[-1])

    problems = {key: value for key, value in theirs["info"].items() if value}
    same_ids = sum(a == b for a, b in zip(my_ids, theirs["ids"]))
    difference = float(np.abs(mine.probabilities - np.asarray(theirs["probabilities"])).max())
    print(f"folder: {folder} (trained length {length}, truncation {tokenizer.truncation_side})")
    print(f"PyTorch: {theirs['tokenizer']}, truncation_side={theirs['truncation_side']}, "
          f"model_max_length={theirs['model_max_length']}")
    print(f"loading report (missing, unexpected, mismatched keys): {problems or 'clean'}")
    print(f"token ids equal to msgpt's <bos> text <eos>: {same_ids} of {len(TEXTS)} texts")
    print(f"pipeline probabilities against msgpt.predict: max |difference| = {difference:.1e}")
    ok = not problems and same_ids == len(TEXTS) and difference <= opts.tolerance
    with tempfile.TemporaryDirectory(prefix="msgpt-interop-lm-") as work:
        ok &= check_language_models(opts.gpt1, torch, Path(work), opts.tolerance)
    print(f"interop_ok={int(ok)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
