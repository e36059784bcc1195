"""The kernel floor: MindSpore's CPU kernels against PyTorch's on the same work, same run.

    .venv/bin/python benchmarks/kernels.py

``train_step.py`` compares whole steps; this script times single kernels with no
mindtorch, HF or msgpt code around them, so what it shows is what msgpt cannot change
from Python: the speed of MindSpore's own CPU kernels and of one launch.

- **MatMul** at GPT-1's four dense shapes, 512 rows (``train_step.py --config gpt1``'s
  batch of 4 x 128 tokens) times 768 -> 2304 (q, k, v), 768 -> 768 (attention output),
  768 -> 3072 and 3072 -> 768 (MLP): about three quarters of a GPT-1 step;
- **one launch**: the sum of two 64-float tensors, where the arithmetic is nothing and
  the time is what any op costs to start (a tiny model's step launches hundreds);
- **AdamW** on the tiny config's 27 parameters: MindSpore's fused ``AdamWeightDecay``
  kernel once per parameter (msgpt's ``AdamW``) against ``torch.optim.AdamW.step``
  (PyTorch's default implementation), the same shapes.

MindSpore launches synchronously (``mindspore.runtime.launch_blocking``, as msgpt runs it
on the CPU), PyTorch's CPU ops are synchronous: a call returns when its result is there.
PyTorch runs in the venv ``train_step.py`` creates (``benchmarks/.torch-venv``), in a
subprocess, one OpenMP thread per core, ``OMP_WAIT_POLICY=PASSIVE`` unless set; the
two sides take turns round by round. Each figure is the median over ``--rounds`` rounds
(after ``--warmup``) of the mean of a few calls per round.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy as np

#: (name, kind, shape, calls per round)
CASES = (
    ("MatMul 512x768 @ 768x2304 (q, k, v)", "matmul", (512, 768, 2304), 4),
    ("MatMul 512x768 @ 768x768 (attn out)", "matmul", (512, 768, 768), 8),
    ("MatMul 512x768 @ 768x3072 (MLP up)", "matmul", (512, 768, 3072), 4),
    ("MatMul 512x3072 @ 3072x768 (MLP down)", "matmul", (512, 3072, 768), 4),
    ("one launch: add of 64 floats", "add", (64,), 200),
    ("AdamW step, tiny's 27 parameters", "adamw", None, 10),
)

#: The tiny config's parameter shapes (benchmarks/train_step.py --config tiny).
TINY_PARAMETERS = (
    [(1000, 64), (512, 64), (2, 64)]
    + 2 * [(64, 192), (192,), (64, 64), (64,), (64,), (64,), (64, 256), (256,), (256, 64), (64,), (64,), (64,)]
)


def _arrays(kind: str, shape: tuple | None) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    if kind == "matmul":
        m, k, n = shape
        return [rng.standard_normal((m, k), np.float32), rng.standard_normal((k, n), np.float32)]
    if kind == "add":
        return [rng.standard_normal(shape, np.float32) for _ in range(2)]
    return [rng.standard_normal(s, np.float32) * 0.02 for s in TINY_PARAMETERS]


def _mindspore_thunks() -> list:
    import mindspore
    from mindspore import Parameter, Tensor
    from mindspore.ops import operations as P

    mindspore.set_device("CPU")
    mindspore.runtime.launch_blocking()
    thunks = []
    for _, kind, shape, _ in CASES:
        arrays = _arrays(kind, shape)
        if kind in ("matmul", "add"):
            op = P.MatMul() if kind == "matmul" else P.Add()
            a, b = (Tensor(x) for x in arrays)
            thunks.append(lambda op=op, a=a, b=b: op(a, b))
            continue
        kernel = mindspore.ops.AdamWeightDecay()
        slots = [
            (Parameter(Tensor(x), name=f"w{i}"), Parameter(Tensor(np.zeros_like(x)), name=f"m{i}"),
             Parameter(Tensor(np.zeros_like(x)), name=f"v{i}"), Tensor(x * 0.1))
            for i, x in enumerate(arrays)
        ]

        def adamw(kernel=kernel, slots=slots):
            for w, m, v, g in slots:
                kernel(w, m, v, 1e-4, 0.9, 0.999, 1e-8, 0.01, g)

        thunks.append(adamw)
    return thunks


def _torch_thunks() -> list:
    import torch

    thunks = []
    for _, kind, shape, _ in CASES:
        arrays = [torch.from_numpy(x) for x in _arrays(kind, shape)]
        if kind == "matmul":
            thunks.append(lambda a=arrays[0], b=arrays[1]: torch.mm(a, b))
        elif kind == "add":
            thunks.append(lambda a=arrays[0], b=arrays[1]: torch.add(a, b))
        else:
            params = [torch.nn.Parameter(x) for x in arrays]
            for p in params:
                p.grad = p.detach() * 0.1
            thunks.append(torch.optim.AdamW(params, lr=1e-4, weight_decay=0.01).step)
    return thunks


def one_round(thunks: list) -> list[float]:
    """Seconds per call of each case, the mean of its calls this round."""
    seconds = []
    for thunk, (_, _, _, calls) in zip(thunks, CASES):
        start = time.perf_counter()
        for _ in range(calls):
            thunk()
        seconds.append((time.perf_counter() - start) / calls)
    return seconds


def torch_worker() -> None:
    """The PyTorch side, as ``train_step.TorchWorker`` drives it: ``{"cmd": "round"}``
    answered with ``{"seconds": [...]}``, until ``quit``."""
    import torch

    thunks = _torch_thunks()
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)["cmd"]
        if command == "quit":
            break
        answer = {"seconds": one_round(thunks)} if command == "round" else {"error": f"unknown command {command!r}"}
        print(json.dumps(answer), flush=True)


def _gflops(kind: str, shape: tuple | None, seconds: float) -> str:
    if kind != "matmul":
        return ""
    m, k, n = shape
    return f"{2 * m * k * n / seconds / 1e9:.0f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=10, help="timed rounds (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed rounds first (default 2)")
    parser.add_argument("--no-torch", action="store_true", help="time MindSpore only")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if opts.worker:
        torch_worker()
        return 0

    import mindspore
    from train_step import TORCH_VENV, TorchWorker, omp_wait_policy, torch_python

    worker = None
    if not opts.no_torch:
        worker = TorchWorker(torch_python(TORCH_VENV, getattr(sys, "_base_executable", sys.executable)),
                             __file__, "--worker")
    thunks = _mindspore_thunks()
    ms_rounds, pt_rounds = [], []
    try:
        for index in range(opts.warmup + opts.rounds):
            # Alternate who goes first, so neither side always follows the other.
            if worker is not None and index % 2 == 0:
                pt_rounds.append(worker.ask("round")["seconds"])
            ms_rounds.append(one_round(thunks))
            if worker is not None and index % 2 == 1:
                pt_rounds.append(worker.ask("round")["seconds"])
    finally:
        if worker is not None:
            worker.close()

    def medians(rounds: list[list[float]]) -> list[float]:
        return [statistics.median(column) for column in zip(*rounds[opts.warmup:])]

    ms = medians(ms_rounds)
    pt = medians(pt_rounds) if worker is not None else None
    print(f"MindSpore {mindspore.__version__} (CPU, launch_blocking)"
          + ("" if pt is None else f" against torch {worker.info['torch']} ({worker.info['threads']} threads, "
                                   f"OMP_WAIT_POLICY={omp_wait_policy()})")
          + f"; median of {opts.rounds} rounds after {opts.warmup} warm-up rounds")
    header = f"{'ms per call':<40}{'MindSpore':>10}"
    print(header + ("" if pt is None else f"{'PyTorch':>10}{'ratio':>8}{'GFLOP/s':>16}"))
    for index, (name, kind, shape, _) in enumerate(CASES):
        line = f"{name:<40}{1000 * ms[index]:>10.3f}"
        if pt is not None:
            rates = f"{_gflops(kind, shape, ms[index])} / {_gflops(kind, shape, pt[index])}" if kind == "matmul" else ""
            line += f"{1000 * pt[index]:>10.3f}{ms[index] / pt[index]:>8.2f}{rates:>16}"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
