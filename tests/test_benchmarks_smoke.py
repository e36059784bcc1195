"""The speed benchmarks run end to end (one tiny step each; their figures are not checked)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "MSGPT_YIELD"}
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, env=environment,
                          timeout=300)


def test_train_step_runs_without_the_torch_side():
    done = _run("benchmarks/train_step.py", "--config", "tiny", "--no-torch", "--steps", "1", "--warmup", "1",
                "--batch", "2", "--seq", "16")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "config tiny: 2 layers, 64 wide, 4 heads, vocab 1,000" in done.stdout
    assert "train step" in done.stdout and "inference" in done.stdout


def test_waiting_thread_compares_both_priorities_or_says_why_not():
    done = _run("benchmarks/waiting_thread.py", "--config", "tiny", "--rounds", "1", "--steps", "1")
    if os.geteuid() == 0:
        assert done.returncode == 0, done.stderr[-3000:]
        assert "nice 0   nice 19" in done.stdout and "train step" in done.stdout
    else:  # an unprivileged process cannot go back from nice 19 to 0
        assert done.returncode == 1 and "run as root" in done.stdout
