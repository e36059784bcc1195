"""The speed benchmarks run end to end (one tiny step each; their figures are not checked)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import GPT1_DIR, needs_gpt1

ROOT = Path(__file__).resolve().parents[2]


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
    assert "peak RSS, MB" in done.stdout and "msgpt" in done.stdout.split("peak RSS, MB")[1]


def test_train_step_times_fp16_with_lora():
    done = _run("benchmarks/train_step.py", "--config", "tiny", "--no-torch", "--steps", "1", "--warmup", "1",
                "--batch", "2", "--seq", "16", "--precision", "fp16", "--lora-r", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "msgpt side: fp16, LoRA rank 2:" in done.stdout and "train step" in done.stdout


def test_waiting_thread_compares_both_priorities_or_says_why_not():
    done = _run("benchmarks/waiting_thread.py", "--config", "tiny", "--rounds", "1", "--steps", "1")
    if os.geteuid() == 0:
        assert done.returncode == 0, done.stderr[-3000:]
        assert "nice 0   nice 19" in done.stdout and "train step" in done.stdout
    else:  # an unprivileged process cannot go back from nice 19 to 0
        assert done.returncode == 1 and "run as root" in done.stdout


def test_kernels_runs_without_the_torch_side():
    done = _run("benchmarks/kernels.py", "--no-torch", "--rounds", "1", "--warmup", "0")
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0].startswith("MindSpore ") and "median of 1 rounds" in lines[0]
    rows = {line[:40].strip(): float(line[40:]) for line in lines[2:]}
    assert set(rows) == {
        "MatMul 512x768 @ 768x2304 (q, k, v)", "MatMul 512x768 @ 768x768 (attn out)",
        "MatMul 512x768 @ 768x3072 (MLP up)", "MatMul 512x3072 @ 3072x768 (MLP down)",
        "one launch: add of 64 floats", "AdamW step, tiny's 27 parameters",
    }
    assert all(ms > 0 for ms in rows.values())


def test_kernels_adamw_shapes_are_the_tiny_configs():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import kernels
        import train_step
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    preset = train_step.CONFIGS["tiny"]["model"]
    width, layers = preset["n_embd"], preset["n_layer"]
    expected = preset["vocab_size"] * width + preset["n_positions"] * width + 2 * width  # embeddings + 2-label head
    expected += layers * (width * 3 * width + 3 * width + width * width + width + 4 * width
                          + width * 4 * width + 4 * width + 4 * width * width + width)
    assert sum(int(np.prod(s)) for s in kernels.TINY_PARAMETERS) == expected
    assert len(kernels.TINY_PARAMETERS) == 3 + 12 * layers


@needs_gpt1
def test_load_model_loads_a_gpt1_sized_hub_folder_without_the_torch_side():
    done = _run("benchmarks/load_model.py", "--no-torch", "--rounds", "1", "--gpt1", str(GPT1_DIR))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "msgpt    import" in done.stdout and "peak RSS" in done.stdout


@needs_gpt1
@pytest.mark.skipif(not (ROOT / "benchmarks" / ".torch-venv" / "bin" / "python").exists(),
                    reason="no PyTorch venv (python benchmarks/train_step.py --config tiny creates it)")
def test_interop_pytorch_reads_a_saved_folder_as_msgpt_does():
    done = _run("benchmarks/interop.py")
    assert done.returncode == 0 and done.stdout.strip().endswith("interop_ok=1"), done.stdout + done.stderr[-3000:]


def test_export_measures_the_demo_sized_graph():
    done = _run("benchmarks/export.py", "--config", "demo", "--rounds", "1")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "demo: 1.2M parameters, inputs 1x256" in done.stdout and "passed" in done.stdout
    assert done.stdout.strip().splitlines()[-1].startswith("demo_graph_ratio=")
