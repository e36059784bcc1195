"""msgpt's CPU training step with the waiting thread at normal and at lowest priority, same run.

    .venv/bin/python benchmarks/waiting_thread.py --config demo
    .venv/bin/python benchmarks/waiting_thread.py --config tiny

While MindSpore's kernel threads compute, the Python thread that launched the kernels
busy-waits. ``msgpt.runtime.device.yield_to_kernel_threads`` (msgpt's Trainer calls it on the CPU) gives
that thread nice 19. This script builds ``train_step.py``'s model and batch for
``--config`` and times the same training step (forward and backward, clipping, AdamW,
``zero_grad``) and inference with the thread (and MindSpore's dispatch queues, which it
starts) at nice 0 and at nice 19, alternating
``--rounds`` times ``--steps`` steps each, so that the host's own drift affects both alike;
it prints the medians per step, their ratio, and the thread's CPU time per step.

Going back from nice 19 to 0 needs root; without it the script says so and stops.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_step import CONFIGS, MsgptSide, config_and_batch  # noqa: E402


def _thread_cpu_seconds() -> float:
    fields = open(f"/proc/self/task/{threading.get_native_id()}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _waiting_threads() -> list[int]:
    """This thread and MindSpore's queues (started from it, so they share its niceness
    when ``yield_to_kernel_threads`` ran first), not the kernel threads."""
    found = [threading.get_native_id()]
    for stat in Path(f"/proc/{os.getpid()}/task").glob("*/stat"):
        text = stat.read_text()
        if text[text.index("(") + 1 : text.rindex(")")].endswith("_queue"):
            found.append(int(stat.parent.name))
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", choices=sorted(CONFIGS), default="demo")
    parser.add_argument("--rounds", type=int, default=6, help="rounds at each priority (default 6)")
    parser.add_argument("--steps", type=int, default=5, help="steps per round (default 5)")
    opts = parser.parse_args(argv)
    if not sys.platform.startswith("linux"):
        parser.error("thread priorities are Linux's here")
    if os.geteuid() != 0:
        print("cannot raise the thread's priority back to 0: run as root, or compare "
              "benchmarks/train_step.py runs with and without MSGPT_YIELD=0")
        return 1
    os.environ["MSGPT_YIELD"] = "0"  # this script sets the priority itself

    model_config, batch = config_and_batch(opts.config)
    batch_size, seq = batch["input_ids"].shape
    with tempfile.TemporaryDirectory(prefix="msgpt-bench-") as workdir:
        side = MsgptSide(model_config, batch, workdir, 6.25e-5, 0, "fused")
        for _ in range(3):  # compile and warm up
            side.one_round()
        steps: dict[int, list[float]] = {0: [], 19: []}
        inference: dict[int, list[float]] = {0: [], 19: []}
        cpu: dict[int, list[float]] = {0: [], 19: []}
        for _ in range(opts.rounds):
            for nice in (0, 19):
                for waiting in _waiting_threads():
                    os.setpriority(os.PRIO_PROCESS, waiting, nice)
                start_cpu = _thread_cpu_seconds()
                rounds = [side.one_round() for _ in range(opts.steps)]
                cpu[nice].append((_thread_cpu_seconds() - start_cpu) / opts.steps)
                steps[nice].append(statistics.median(r["step"] for r in rounds))
                inference[nice].append(statistics.median(r["inference"] for r in rounds))
    print(f"config {opts.config}: batch {batch_size} x {seq}; {opts.rounds} alternating rounds of "
          f"{opts.steps} steps at each priority; medians of the rounds' medians")
    print(f"{'ms':<28}{'nice 0':>10}{'nice 19':>10}{'ratio':>8}")
    for label, values in (("train step", steps), ("inference", inference), ("waiting thread CPU per step", cpu)):
        normal, low = (1000 * statistics.median(values[n]) for n in (0, 19))
        print(f"{label:<28}{normal:>10.1f}{low:>10.1f}{normal / low:>8.2f}")
    print("train step per round (nice 0):", " ".join(f"{1000 * v:.0f}" for v in steps[0]))
    print("train step per round (nice 19):", " ".join(f"{1000 * v:.0f}" for v in steps[19]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
