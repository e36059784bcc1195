"""Data-parallel training under msrun: 2 CPU processes (MCCL), tiny models.

Each test launches msrun as a user would (``--join=True``), with the venv's ``python``
first on PATH (msrun starts the bare ``python``).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from recipe_helpers import ENV, RECIPE, TINY, run_recipe_in_process, write_reviews

HERE = Path(__file__).resolve().parent
WORKER = HERE.parent / "dp_worker.py"
LORA_FP16 = ["--lora-r", "4", "--precision", "fp16"]
MSRUN = Path(sys.executable).parent / "msrun"
MSRUN_ENV = {**ENV, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def msrun_command(logs: Path, *script_and_args: str, workers: int = 2) -> list[str]:
    return [
        str(MSRUN), f"--worker_num={workers}", f"--local_worker_num={workers}",
        f"--master_port={_free_port()}", f"--log_dir={logs}", "--join=True", "--cluster_time_out=120",
        *map(str, script_and_args),
    ]


def msrun(logs: Path, *script_and_args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(msrun_command(logs, *script_and_args), capture_output=True, text=True,
                          timeout=timeout, env=MSRUN_ENV)


def _logs(logs: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in sorted(logs.glob("*.log")))


def _params(npz) -> dict[str, np.ndarray]:
    return {k: npz[k] for k in npz.files if k.startswith("param/")}


# --- the Trainer: equivalence with one process, ranks in sync --------------------------------


@pytest.fixture(scope="module")
def trainer_runs(tmp_path_factory, tokenizer_dir):
    """4 steps of one process with batch 8, and of 2 ranks with batch 4, from the same start.

    The Trainer's other scenarios follow in the same msrun launch (each launch costs two
    mindnlp start-ups): buckets with gradient accumulation, then a run whose rank 1 fails,
    which ends the launch.
    """
    root = tmp_path_factory.mktemp("dp-trainer")
    single = subprocess.run(
        [sys.executable, str(WORKER), "--tokenizer", str(tokenizer_dir), "--out", str(root / "single"),
         "--batch-size", "8", "--then", "--tokenizer", str(tokenizer_dir), "--out", str(root / "single-lora"),
         "--batch-size", "8", *LORA_FP16], capture_output=True, text=True, timeout=300, env=ENV)
    assert single.returncode == 0, single.stderr[-3000:]
    tokenizer = ["--tokenizer", tokenizer_dir]
    result = msrun(
        root / "logs", WORKER,
        *tokenizer, "--out", root / "dp", "--batch-size", "4", "--init-from", root / "single" / "init0.npz",
        "--probes", "--then",
        # Skewed lengths in buckets, a whole epoch, 2 micro-batches per update.
        *tokenizer, "--out", root / "buckets", "--batch-size", "4", "--padding", "buckets", "--max-steps", "-1",
        "--epochs", "1", "--grad-accum", "2", "--examples", "90", "--then",
        # LoRA adapters in fp16: only their gradients (and the head's) go through the all-reduce.
        *tokenizer, "--out", root / "dp-lora", "--batch-size", "4", "--init-from",
        root / "single-lora" / "init0.npz", *LORA_FP16, "--then",
        *tokenizer, "--out", root / "failing", "--batch-size", "4", "--max-steps", "6",
        "--fail-on-rank", "1", "--fail-at-step", "2",
        timeout=480)
    ended = time.time()
    for run in ("dp", "buckets", "dp-lora"):  # whole before the failing run started
        assert all((root / run / f"rank{r}.json").is_file() for r in (0, 1)), _logs(root / "logs")
    return root, result, ended


def test_two_ranks_train_like_one_process_with_the_global_batch(trainer_runs):
    root, _, _ = trainer_runs
    single, rank0 = np.load(root / "single" / "rank0.npz"), np.load(root / "dp" / "rank0.npz")
    reference, trained = _params(single), _params(rank0)
    assert reference.keys() == trained.keys()
    before = _params(np.load(root / "single" / "init0.npz"))
    assert max(np.abs(reference[k] - before[k]).max() for k in reference) > 1e-3  # it did train
    for name in reference:
        np.testing.assert_allclose(trained[name], reference[name], rtol=0, atol=2e-6, err_msg=name)
    # Logged losses are the mean over ranks: those of the one process.
    logged = [json.loads((root / d / "rank0.json").read_text())["losses"] for d in ("single", "dp")]
    np.testing.assert_allclose(logged[1], logged[0], atol=2e-4)
    assert len(logged[0]) == 4


def test_lora_in_fp16_on_two_ranks_trains_like_one_process(trainer_runs):
    root, _, _ = trainer_runs
    start = _params(np.load(root / "single-lora" / "init0.npz"))
    reference = _params(np.load(root / "single-lora" / "rank0.npz"))
    ranks = [_params(np.load(root / "dp-lora" / f"rank{r}.npz")) for r in (0, 1)]
    for name, value in reference.items():
        if "lora_" in name or "modules_to_save" in name:
            assert np.abs(value - start[name]).max() > 1e-4, name  # it trained
        else:
            np.testing.assert_array_equal(value, start[name], err_msg=name)  # frozen
        # Each rank sees other rows: equal weights mean the adapters' gradients were averaged.
        np.testing.assert_array_equal(ranks[1][name], ranks[0][name], err_msg=name)
        # float16 forward passes of 4 rows against 8 round apart, and Adam's normalised step
        # turns a near-zero gradient's rounding into up to 6e-4 (lr 3e-3, 4 steps: 1.2e-2 at most).
        np.testing.assert_allclose(ranks[0][name], value, rtol=0, atol=1e-3, err_msg=name)
    scales = [json.loads((root / d / f"rank{r}.json").read_text())["precision"]
              for d, r in (("single-lora", 0), ("dp-lora", 0), ("dp-lora", 1))]
    assert scales[0]["precision"] == "fp16" and scales[1] == scales[2] == scales[0]


def test_ranks_start_apart_and_end_with_the_same_parameters(trainer_runs):
    root, _, _ = trainer_runs
    starts = [_params(np.load(root / "dp" / f"init{r}.npz")) for r in (0, 1)]
    assert max(np.abs(starts[0][k] - starts[1][k]).max() for k in starts[0]) > 1e-3  # rank 1 drew its own
    ends = [_params(np.load(root / "dp" / f"rank{r}.npz")) for r in (0, 1)]
    for name in ends[0]:
        np.testing.assert_array_equal(ends[0][name], ends[1][name], err_msg=name)


def test_every_rank_evaluates_to_what_one_process_computes(trainer_runs):
    root, _, _ = trainer_runs
    single = np.load(root / "single" / "rank0.npz")
    for rank in (0, 1):
        got = np.load(root / "dp" / f"rank{rank}.npz")
        np.testing.assert_array_equal(got["label_ids"], single["label_ids"])  # all 24, in order
        np.testing.assert_allclose(got["predictions"], single["predictions"], atol=2e-6)
    one, two = (json.loads((root / "dp" / f"rank{r}.json").read_text()) for r in (0, 1))
    assert one["test_metrics"]["test_accuracy"] == two["test_metrics"]["test_accuracy"]
    assert one["global_step"] == two["global_step"] == 4
    assert one["batches_per_epoch"] == two["batches_per_epoch"] == 8  # 64 examples / global batch 8


def test_only_rank_zero_is_the_main_process(trainer_runs):
    root, _, _ = trainer_runs
    one, two = (json.loads((root / "dp" / f"rank{r}.json").read_text()) for r in (0, 1))
    assert (one["world_size"], one["is_world_process_zero"], one["should_save"]) == (2, True, True)
    assert (two["is_world_process_zero"], two["should_save"]) == (False, False)
    assert one["communication_time_s"] > 0
    # HF's per-step log lines come from rank 0 only (msrun tails both logs to the console,
    # and repeats their ends when a worker fails): a summary for each of the three runs that finished.
    summaries = [(root / "logs" / f"worker_{r}.log").read_text().count("'train_runtime'") for r in (0, 1)]
    assert summaries == [3, 0]


def test_upstream_probes(trainer_runs):
    """Fail when MindSpore/mindtorch no longer need msgpt's detours (then remove them)."""
    root, _, _ = trainer_runs
    probes = json.loads((root / "dp" / "rank1.json").read_text())
    assert not probes["upstream_broadcast_object_list_works"], (
        "mint.distributed.broadcast_object_list works on CPU now: "
        "msgpt.runtime.distributed.broadcast_object can use it")
    assert not probes["upstream_mindtorch_world_size_works"], (
        "mindtorch.distributed works after init(): msgpt.backend's _DistributedShim can go")
    assert probes["mindnlp_barrier_through_shim"]
    assert not probes["upstream_training_arguments_know_the_rank"], (
        "TrainingArguments see msrun's ranks now: trainer_fixes.install_rank_aware_state can go")


def test_equal_steps_under_buckets_with_gradient_accumulation(trainer_runs):
    """Skewed lengths in buckets, a whole epoch, 2 micro-batches per update: no rank hangs."""
    root, _, _ = trainer_runs
    one, two = (json.loads((root / "buckets" / f"rank{r}.json").read_text()) for r in (0, 1))
    assert one["batches_per_epoch"] == two["batches_per_epoch"] > 0
    assert one["global_step"] == two["global_step"] == -(-one["batches_per_epoch"] // 2)
    ends = [_params(np.load(root / "buckets" / f"rank{r}.npz")) for r in (0, 1)]
    assert all(np.array_equal(ends[0][k], ends[1][k]) for k in ends[0])


def test_a_failing_rank_ends_msrun_with_an_error(trainer_runs):
    root, result, ended = trainer_runs
    assert result.returncode != 0
    # msrun stops rank 0, waiting in an all-reduce, soon after rank 1 fails.
    assert ended - float((root / "failing" / "started0").read_text()) < 200
    assert "rank 1 fails at step 2 (test)" in (root / "logs" / "worker_1.log").read_text()
    assert not (root / "failing" / "rank0.json").exists()


# --- the recipe ------------------------------------------------------------------------------

# 2 ranks x 8 = global batch 16: half the steps of the single-process tiny run, so a higher
# rate (the same run in one process with --batch-size 16 scores 0.91 with it, 0.59 without).
DP_TINY = [*TINY, "--epochs", "3", "--lr", "6e-3"]
# Both of GPT-1's stages, as the demo runs them: the first stage's blocks are shared out like
# the classifier's batches. 400 reviews: the 2% held out for perplexity must fill a block.
DP_RECIPE = [*DP_TINY, "--pretrain-epochs", "1"]
DP_REVIEWS = 400


@pytest.fixture(scope="module")
def recipe_run(tmp_path_factory):
    """The recipe command of tests/recipes/test_recipe_cli.py with a first stage, prefixed by msrun."""
    root = tmp_path_factory.mktemp("dp-recipe")
    data = write_reviews(root / "reviews.csv", DP_REVIEWS)
    result = msrun(root / "logs", RECIPE, *DP_RECIPE, "--data", data, "--output-dir", root / "out")
    assert result.returncode == 0, _logs(root / "logs")
    return root, data, result


def test_recipe_under_msrun_writes_one_set_of_results(recipe_run):
    root, _, result = recipe_run
    out = root / "out"
    metrics = json.loads((out / "metrics.json").read_text())
    assert (metrics["world_size"], metrics["per_device_batch_size"], metrics["global_batch_size"]) == (2, 8, 16)
    assert metrics["split_sizes"] == {"train": 240, "validation": 80, "test": 80}
    # 240 examples in global batches of 16: 15 steps an epoch (one process with batch 8: 30).
    checkpoints = {p.name for p in out.glob("checkpoint-*")}
    assert "checkpoint-45" in checkpoints and checkpoints <= {"checkpoint-15", "checkpoint-30", "checkpoint-45"}
    assert Path(metrics["best_checkpoint"]).name in checkpoints
    assert (out / "best" / "model.safetensors").is_file() and (out / "training_curves.png").is_file()
    # Rank 0 alone wrote the first stage, and the second started from its model.
    stage = json.loads((out / "pretraining" / "metrics.json").read_text())
    assert metrics["model"] == str(out / "pretraining" / "best")
    assert metrics["pretraining"]["validation_perplexity"] == stage["validation_perplexity"]
    assert stage["train_documents"] + stage["held_out_documents"] == metrics["split_sizes"]["train"]
    assert (out / "pretraining" / "best" / "model.safetensors").is_file()
    assert not list(out.glob(".*")) and not list((out / "pretraining").glob(".*"))  # nothing half-written or staged
    # One writer, one voice: each result line once (msrun shows both workers' output).
    console = result.stdout + result.stderr
    for line in ("test accuracy", "data parallel on 2 processes", "pre-training done"):
        assert console.count(line) == 1, (line, console[-3000:])
    assert metrics["test_accuracy"] >= 0.75


def test_recipe_test_figures_equal_a_single_process_evaluation_of_best(recipe_run, tmp_path, capsys):
    root, _, _ = recipe_run
    with (root / "out" / "predictions.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    test_file = tmp_path / "test.csv"
    with test_file.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows([row["text"], row["label"]] for row in rows)
    single = run_recipe_in_process("--eval-only", "--model", str(root / "out" / "best"), "--data", str(test_file),
                                   "--max-seq-len", "32", "--batch-size", "8", "--output-dir", str(tmp_path / "eval"),
                                   capsys=capsys)
    assert single.returncode == 0, single.stderr[-3000:]
    assert (tmp_path / "eval" / "predictions.csv").read_text() == (root / "out" / "predictions.csv").read_text()
    dp, one = (json.loads(p.read_text()) for p in (root / "out" / "metrics.json", tmp_path / "eval" / "metrics.json"))
    for key in ("test_accuracy", "test_f1", "test_loss", "test_examples"):
        assert dp[key] == one[key], key


def test_recipe_resumes_under_msrun_after_the_job_is_killed(recipe_run, tmp_path):
    """SIGKILL to msrun and every rank mid-way through the second stage (a lost node; how
    msrun ends a run whose rank fails is test_a_failing_rank_ends_msrun_with_an_error),
    then --resume: the same results as the uninterrupted run."""
    root, data, _ = recipe_run
    out = tmp_path / "out"
    command = msrun_command(tmp_path / "logs", RECIPE, *DP_RECIPE, "--data", data, "--output-dir", out)
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=MSRUN_ENV,
                           start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while not list(out.glob("checkpoint-*")) and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        running = run.poll() is None
    finally:
        _kill_job(run, out)
    output, _ = run.communicate(timeout=60)
    assert running, output[-3000:]
    assert list(out.glob("checkpoint-*")) and not (out / "metrics.json").exists()
    # A newer checkpoint damaged since it was written (weights cut short): rank 0 passes over
    # it with a warning, and every rank resumes from the sound one.
    newest = max(out.glob("checkpoint-*"), key=lambda path: int(path.name.split("-")[1]))
    damaged = out / f"checkpoint-{int(newest.name.split('-')[1]) + 1000}"
    shutil.copytree(newest, damaged)
    weights = damaged / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])

    # --resume skips the finished first stage and continues the second from its checkpoint.
    result = msrun(tmp_path / "logs2", RECIPE, *DP_RECIPE, "--data", data, "--output-dir", out, "--resume")
    assert result.returncode == 0, _logs(tmp_path / "logs2")
    assert (result.stdout + result.stderr).count("pre-training already done") == 1
    warned = [(tmp_path / "logs2" / f"worker_{r}.log").read_text(errors="replace").count(
        f"{damaged.name} cannot resume the run") for r in (0, 1)]
    assert warned == [1, 0]  # rank 0 decides, the ranks follow its word
    assert (out / "predictions.csv").read_text() == (root / "out" / "predictions.csv").read_text()
    resumed, whole = (json.loads((d / "metrics.json").read_text()) for d in (out, root / "out"))
    assert resumed["test_accuracy"] == whole["test_accuracy"] and resumed["test_loss"] == whole["test_loss"]


def _kill_job(run: subprocess.Popen, out: Path) -> None:
    """SIGKILL msrun and its ranks (they run in process groups of their own: each has the
    output folder on its command line), and wait until none is left."""
    import psutil

    os.killpg(run.pid, signal.SIGKILL)
    ranks = []
    for process in psutil.process_iter(["cmdline"]):
        try:
            if str(out) in (process.info["cmdline"] or []):
                process.kill()
                ranks.append(process)
        except psutil.NoSuchProcess:
            continue
    _, alive = psutil.wait_procs(ranks, timeout=30)
    assert not alive, f"ranks still running: {[p.pid for p in alive]}"


def test_bad_input_under_msrun_is_one_line_once(tmp_path):
    result = msrun(tmp_path / "logs", RECIPE, *TINY, "--data", tmp_path / "missing.csv", timeout=240)
    assert result.returncode != 0
    console = result.stdout + result.stderr
    errors = [line for line in console.splitlines() if "imdb.py: error:" in line]
    assert len(errors) == 1 and "missing.csv" in errors[0], console[-3000:]
