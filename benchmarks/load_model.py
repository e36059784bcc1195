"""Loading openai-gpt for fine-tuning: msgpt against HF transformers on PyTorch, same run.

    .venv/bin/python benchmarks/load_model.py                       # GPT-1's files from ../shared/openai-gpt
    .venv/bin/python benchmarks/load_model.py --gpt1 DIR --rounds 3

Builds a folder in the hub's ``openai-gpt`` layout from GPT-1's own config and tokenizer files
(random weights of that config, 116.5M parameters, saved with ``save_pretrained``), then, in
a fresh process for each load and alternating sides, times what a fine-tuning run starts
with: the tokenizer with ``<bos>``/``<eos>``/``<pad>`` and the classifier with its embeddings
grown to 40,481 rows. msgpt: ``msgpt.load_tokenizer`` + ``msgpt.load_model`` (MindSpore CPU).
PyTorch: ``OpenAIGPTTokenizerFast`` + ``OpenAIGPTForSequenceClassification.from_pretrained`` +
``resize_token_embeddings``, in the venv ``benchmarks/train_step.py`` creates. Each process
prints its import time, its load time and its peak resident memory (VmHWM); the script
prints the medians and ``load_ratio=X memory_ratio=Y`` (msgpt / PyTorch) last.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from train_step import TORCH_VENV, torch_python  # noqa: E402

GPT1 = HERE.parent.parent / "shared" / "openai-gpt"

_PEAK = """
import sys
sys.path.insert(0, sys.argv[2])  # benchmarks/, for _memory
from _memory import peak_rss_mb
"""
MSGPT_LOAD = _PEAK + """
import json, sys, time
start = time.perf_counter()
import msgpt
msgpt.select_device("CPU")
import msgpt.backend
imported = time.perf_counter()
tokenizer = msgpt.load_tokenizer(sys.argv[1], fast=True)
model = msgpt.load_model(sys.argv[1], tokenizer, num_labels=2)
loaded = time.perf_counter()
assert model.transformer.tokens_embed.weight.shape[0] == 40481
print(json.dumps(dict(imported=imported - start, loaded=loaded - imported, peak_mb=peak_rss_mb())))
"""
TORCH_LOAD = _PEAK + """
import json, sys, time
start = time.perf_counter()
from transformers import OpenAIGPTForSequenceClassification, OpenAIGPTTokenizerFast
imported = time.perf_counter()
tokenizer = OpenAIGPTTokenizerFast.from_pretrained(sys.argv[1])
tokenizer.add_special_tokens({"bos_token": "<bos>", "eos_token": "<eos>", "pad_token": "<pad>"})
model = OpenAIGPTForSequenceClassification.from_pretrained(sys.argv[1], num_labels=2)
model.resize_token_embeddings(len(tokenizer))
loaded = time.perf_counter()
assert model.transformer.tokens_embed.weight.shape[0] == 40481
print(json.dumps(dict(imported=imported - start, loaded=loaded - imported, peak_mb=peak_rss_mb())))
"""


def hub_folder(gpt1: Path, folder: Path) -> Path:
    """GPT-1's config and tokenizer files with random weights of that config."""
    build = (
        "import sys, msgpt; msgpt.select_device('CPU'); import msgpt.backend, torch\n"
        "from transformers import OpenAIGPTConfig, OpenAIGPTLMHeadModel\n"
        "torch.manual_seed(0)\n"
        "OpenAIGPTLMHeadModel(OpenAIGPTConfig.from_pretrained(sys.argv[1])).save_pretrained(sys.argv[2])\n"
    )
    subprocess.run([sys.executable, "-c", build, str(gpt1), str(folder)], check=True, capture_output=True)
    for name in ("vocab.json", "merges.txt"):
        shutil.copyfile(gpt1 / name, folder / name)
    return folder


def load(python: str | Path, script: str, folder: Path) -> dict:
    done = subprocess.run([str(python), "-c", script, str(folder), str(HERE)], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{python} failed to load {folder}:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gpt1", type=Path, default=GPT1, help=f"GPT-1's config and tokenizer files (default {GPT1})")
    parser.add_argument("--rounds", type=int, default=3, help="loads per side, alternating (default 3)")
    parser.add_argument("--torch-venv", type=Path, default=TORCH_VENV, help=f"default {TORCH_VENV}")
    parser.add_argument("--no-torch", action="store_true", help="time msgpt only")
    opts = parser.parse_args(argv)
    if not (opts.gpt1 / "vocab.json").is_file():
        parser.error(f"{opts.gpt1} has no vocab.json: give GPT-1's files with --gpt1")
    torch = None if opts.no_torch else torch_python(opts.torch_venv, getattr(sys, "_base_executable", sys.executable))
    with tempfile.TemporaryDirectory(prefix="msgpt-load-") as work:
        folder = hub_folder(opts.gpt1, Path(work) / "openai-gpt")
        order = [("msgpt", sys.executable, MSGPT_LOAD), *([] if torch is None else [("PyTorch", torch, TORCH_LOAD)])]
        rounds = {side: [] for side, _, _ in order}
        for index in range(opts.rounds):
            for side, python, script in order if index % 2 == 0 else order[::-1]:
                rounds[side].append(load(python, script, folder))
    print(f"loading a 116.5M openai-gpt folder for fine-tuning, median of {opts.rounds} fresh processes each:")
    medians = {side: {key: statistics.median(r[key] for r in runs) for key in runs[0]} for side, runs in rounds.items()}
    for side, m in medians.items():
        print(f"  {side:<8} import {m['imported']:5.1f} s   load {m['loaded']:5.1f} s   "
              f"peak RSS {m['peak_mb']:7,.0f} MB")
    if "PyTorch" not in medians:
        return 0
    ms, pt = medians["msgpt"], medians["PyTorch"]
    print(f"load_ratio={ms['loaded'] / pt['loaded']:.2f} memory_ratio={ms['peak_mb'] / pt['peak_mb']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
