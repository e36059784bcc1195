"""msgpt's training step and inference against HF transformers on PyTorch, same run.

    .venv/bin/python benchmarks/train_step.py --config tiny
    .venv/bin/python benchmarks/train_step.py --config gpt1
    .venv/bin/python benchmarks/train_step.py --config demo

Configs: ``gpt1`` is GPT-1's shape (12 layers, 768 wide, 12 heads, vocab 40,478 + 3
special tokens, 512 positions), batch 4 x 128 tokens; ``tiny`` is 2 layers, 64 wide,
4 heads, vocab 1,000, 512 positions, batch 8 x 128 (overhead-bound: it measures the
framework's cost per op more than the arithmetic); ``demo`` is the offline demo's
model (``msgpt.recipes.demo.MODEL``: 2 layers, 64 wide, one head, no dropout, vocab 16,003) at its batch,
64 x 256. ``--batch``/``--seq`` override the batch shape. Both sides build a 2-label
``OpenAIGPTForSequenceClassification`` with the config's dropout (0.1, none for demo).
Training samples/s (batch / train step) are printed for both sides.

**msgpt side** (this process, MindSpore + mindnlp on the CPU): a step is what
``MindSporeTrainer`` runs per batch: mindnlp's ``Trainer.training_step`` (forward and
backward through ``value_and_grad``), the Trainer's clipping at 1.0 (msgpt's
``clip_grad_norm_``), msgpt's ``AdamW`` (fused kernel; ``--optimizer loop`` for its
fallback), ``model.zero_grad()``.

**PyTorch side** (a subprocess, ``benchmarks/_torch_baseline.py``, in a venv of its own
that this script creates on first use and then reuses: ``benchmarks/.torch-venv`` with
``TORCH_REQUIREMENTS``, CPU build of torch): ``model(**batch).loss``,
``loss.backward()``, ``torch.nn.utils.clip_grad_norm_(params, 1.0)``,
``torch.optim.AdamW`` (weight decay 0.01 on weights, none on biases / LayerNorm, as
HF's Trainer groups them), ``zero_grad``.

Both sides load the same initial weights (msgpt's, saved as safetensors; the script
prints the largest difference of their eval-mode logits on the batch as a check) and
the same batch (drawn with numpy from ``--seed``; int32 on msgpt as its pipeline makes
it, int64 on PyTorch). They take turns, round by round, in alternating order, so that a
busy machine slows both alike. A round, the same on both sides:

1. **forward**: ``model(**batch).loss`` in train mode, grad mode on, outside any
   gradient computation (``float(loss)`` to wait for it);
2. **train step** = forward + backward (``training_step`` / ``loss.backward()``, then
   ``float(loss)``) + **optimizer** (clipping, AdamW step, ``zero_grad``, then reading
   one updated weight back to the host); **backward** is reported as
   (forward + backward) - forward of the same round: mindtorch computes the gradients
   inside ``value_and_grad`` and gives no point between the two passes to time;
3. **inference**: ``model(**batch).logits`` in eval mode under ``no_grad``.

``--warmup`` rounds (3) are dropped, then each column is the median of ``--steps``
rounds (10). On the CPU msgpt launches kernels synchronously
(``mindspore.runtime.launch_blocking``, set by ``msgpt.select_device``), and
``mindspore.runtime.synchronize`` does not exist there, so host reads of a scalar are the
barriers, equally on both sides. Each side's peak resident memory (``VmHWM``) is
printed with the model built and after the rounds. The last line is ``train_ratio=X infer_ratio=Y``
(msgpt's median time / PyTorch's, train step and inference).

Threads: each side keeps its framework's default (MindSpore's CPU runtime computes on
its actor and kernel threads; PyTorch takes one OpenMP thread per core,
``--torch-threads`` to change), and PyTorch runs with ``OMP_WAIT_POLICY=PASSIVE``
unless the variable is set (see ``omp_wait_policy``).

The msgpt side runs with msgpt's faster kernels for five mindtorch CPU ops
(``msgpt.backend.cpu_ops``, installed by ``import msgpt``'s mindnlp import); ``--no-cpu-ops``
gives mindtorch its own ops back, to measure what they save. Its transformer blocks run
as compiled MindSpore graphs (``msgpt.backend.compiled``); ``--no-compile`` runs HF's op-by-op
forward instead. Compiling happens in the warm-up rounds; the time of each block shape's
first call is printed apart from the steady-state medians.

``--precision fp16``/``bf16`` and ``--lora-r R`` change the msgpt side only (its forward under
autocast with dynamic loss scaling; rank-R LoRA adapters and the head training): PyTorch's
full fp32 step stays the baseline, so the ratios say what the option costs or saves
against the usual PyTorch run.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # msgpt from this checkout when not installed
from _memory import peak_rss_mb  # noqa: E402  (beside this script)

from msgpt.recipes import demo  # noqa: E402  (no MindSpore import)

TORCH_VENV = HERE / ".torch-venv"
#: What the PyTorch baseline runs on. torch 2.13.0 is the CPU wheel this machine has on
#: disk; transformers is msgpt's own version (requirements.lock), so both sides run the
#: same modelling code.
TORCH_REQUIREMENTS = (
    "torch==2.13.0",
    "transformers==4.56.2",
    "numpy<2",
    "safetensors>=0.4.3",
    "tokenizers>=0.22,<0.23",
    "huggingface-hub>=0.34,<1.0",
)
_STAMP = ".msgpt-benchmark-requirements"

GPT1_VOCAB = 40478 + 3  # GPT-1's BPE vocabulary + <bos>, <eos>/<cls>, <pad>
CONFIGS = {
    "tiny": dict(model=dict(n_layer=2, n_embd=64, n_head=4, vocab_size=1000, n_positions=512), batch=8, seq=128),
    "gpt1": dict(model=dict(n_layer=12, n_embd=768, n_head=12, vocab_size=GPT1_VOCAB, n_positions=512),
                 batch=4, seq=128),
    "demo": dict(model=dict(demo.MODEL, vocab_size=demo.VOCAB_SIZE + 3), batch=64, seq=256),
}
PHASES = ("step", "forward", "backward", "optimizer", "inference")
LABELS = {
    "step": "train step",
    "forward": "  forward",
    "backward": "  backward",
    "optimizer": "  optimizer+clip",
    "inference": "inference",
}


# -- the PyTorch venv -------------------------------------------------------------------
def torch_python(venv: Path, base_python: str) -> Path:
    """The python of ``venv``, created with ``TORCH_REQUIREMENTS`` unless it already has them."""
    python = venv / "bin" / "python"
    stamp = venv / _STAMP
    wanted = "\n".join(TORCH_REQUIREMENTS) + "\n"
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    print(f"creating the PyTorch venv {venv} (once; about a minute, ~1.2 GB)", file=sys.stderr, flush=True)
    start = time.perf_counter()
    subprocess.run([base_python, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *TORCH_REQUIREMENTS],
        check=True,
    )
    cuda = subprocess.run(
        [str(python), "-c", "import torch; print(torch.version.cuda)"], check=True, capture_output=True, text=True
    ).stdout.strip()
    if cuda != "None":
        raise RuntimeError(f"{venv} got a CUDA build of torch (CUDA {cuda}); install a CPU build there")
    stamp.write_text(wanted)
    print(f"PyTorch venv ready in {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    return python


def omp_wait_policy() -> str:
    """PyTorch's OpenMP wait policy: ``$OMP_WAIT_POLICY``, else PASSIVE.

    With the default (spinning) policy, a machine whose cores are shared with other work
    makes every parallel region wait for a descheduled thread: PyTorch on 2 threads ran
    up to 25x slower than on 1 here while another job was training. PASSIVE keeps its
    2 threads useful on a busy machine and costs little on an idle one.
    """
    return os.environ.get("OMP_WAIT_POLICY", "PASSIVE")


class TorchWorker:
    """A script in the PyTorch venv (``_torch_baseline.py`` and its arguments by default),
    one JSON line per command: ``{"cmd": ...}`` in, a JSON object out (``"error"`` on
    failure), an information line first, ``quit`` at the end."""

    def __init__(self, python: Path, *script: str) -> None:
        self.process = subprocess.Popen(
            [str(python), *script],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONNOUSERSITE": "1", "OMP_WAIT_POLICY": omp_wait_policy()},
        )
        self.info = self._read()

    def _read(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the PyTorch baseline stopped (exit code {self.process.wait()})")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return answer

    def ask(self, command: str) -> dict:
        self.process.stdin.write(json.dumps({"cmd": command}) + "\n")
        self.process.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
            self.process.stdin.close()
            self.process.wait(timeout=60)


# -- the msgpt side ---------------------------------------------------------------------
class MsgptSide:
    """A GPT-1 classifier, its batch and the ``MindSporeTrainer`` that trains it."""

    def __init__(self, model_config: dict, batch: dict, workdir: str, learning_rate: float,
                 seed: int, optimizer: str, precision: str = "fp32", lora_r: int | None = None) -> None:
        import msgpt.backend  # noqa: F401

        import torch  # mindtorch
        from transformers import OpenAIGPTConfig, OpenAIGPTForSequenceClassification

        import msgpt  # noqa: F401  (selects the device, launch_blocking on the CPU)
        from msgpt.training import make_trainer, training_arguments

        self.torch = torch
        torch.manual_seed(seed)
        config = OpenAIGPTConfig(**model_config)
        self.model = OpenAIGPTForSequenceClassification(config)
        if lora_r:
            from msgpt.models.lora import add_lora

            self.model = add_lora(self.model, r=lora_r, dropout=0.0)
        args = training_arguments(
            workdir, eval_strategy="no", save_strategy="no", load_best_model_at_end=False,
            metric_for_best_model=None, disable_tqdm=True, learning_rate=learning_rate,
        )
        self.trainer = make_trainer(self.model, None, None, None, args, fused_optimizer=optimizer == "fused",
                                    precision=precision)
        self.trainer.create_optimizer()
        self.trainer.current_gradient_accumulation_steps = 1  # set by the training loop
        self.inputs = {name: torch.tensor(array) for name, array in batch.items()}
        self.parameters = sum(p.numel() for p in self.model.parameters())
        self.trainable = sum(p.numel() for p in self.model.parameters() if p.requires_grad)
        # One updated weight read back after the step, as PyTorch's side reads the head's.
        self.probe = next(p for p in self.model.parameters() if p.requires_grad) if lora_r else self.model.score.weight

    def save_weights(self, path: str) -> None:
        from safetensors.numpy import save_file

        state = {}
        for name, t in self.model.state_dict().items():
            # With LoRA, the base's own weights under their names (the adapters start at zero).
            name = name.removeprefix("base_model.model.").replace(".base_layer.", ".")
            if "lora_" in name or ".modules_to_save." in name:
                continue
            state[name.replace(".original_module.", ".")] = np.ascontiguousarray(t.detach().numpy())
        save_file(state, path)

    def logits(self) -> np.ndarray:
        self.model.eval()
        with self.torch.no_grad(), self.trainer.autocast_smart_context_manager():
            logits = self.model(**self.inputs).logits.float().numpy()
        self.model.train()
        return logits

    def one_round(self) -> dict[str, float]:
        model, trainer, inputs = self.model, self.trainer, self.inputs
        model.train()
        start = time.perf_counter()
        loss = model(**inputs).loss
        float(loss)
        forward = time.perf_counter() - start
        del loss

        start = time.perf_counter()
        loss = trainer.training_step(model, inputs)
        float(loss)
        t_fb = time.perf_counter()
        trainer.accelerator.clip_grad_norm_(model.parameters(), 1.0)
        trainer.optimizer.step()
        model.zero_grad()
        float(self.probe.reshape(-1)[0])
        end = time.perf_counter()

        model.eval()
        with self.torch.no_grad(), trainer.autocast_smart_context_manager():
            t_inf = time.perf_counter()
            logits = model(**inputs).logits
            float(logits[0, 0])
            infer = time.perf_counter() - t_inf
        model.train()
        return {
            "forward": forward,
            "forward_backward": t_fb - start,
            "optimizer": end - t_fb,
            "step": end - start,
            "inference": infer,
            "loss": float(loss),
        }


# -- report -----------------------------------------------------------------------------
def medians(rounds: list[dict[str, float]]) -> dict[str, float]:
    columns = {name: [r[name] for r in rounds] for name in ("step", "forward", "optimizer", "inference")}
    columns["backward"] = [r["forward_backward"] - r["forward"] for r in rounds]
    return {name: statistics.median(values) for name, values in columns.items()}


def table(ms: dict[str, float], pt: dict[str, float] | None) -> list[str]:
    lines = [f"{'ms, median':<18}{'msgpt':>10}" + ("" if pt is None else f"{'PyTorch':>10}{'ratio':>8}")]
    for phase in PHASES:
        mine = 1000 * ms[phase]
        if pt is None:
            lines.append(f"{LABELS[phase]:<18}{mine:>10.1f}")
            continue
        theirs = 1000 * pt[phase]
        ratio = f"{mine / theirs:.2f}" if theirs > 0 else "n/a"
        lines.append(f"{LABELS[phase]:<18}{mine:>10.1f}{theirs:>10.1f}{ratio:>8}")
    return lines


def config_and_batch(name: str, batch_size: int | None = None, seq: int | None = None,
                     seed: int = 0) -> tuple[dict, dict]:
    """The model config of ``CONFIGS[name]`` and a random batch for it (``batch_size`` x
    ``seq`` tokens, the config's by default)."""
    preset = CONFIGS[name]
    model_config = dict(preset["model"], afn="gelu")
    batch_size, seq = batch_size or preset["batch"], seq or preset["seq"]
    vocab = model_config["vocab_size"]
    model_config["pad_token_id"] = vocab - 1  # the head needs one; the batch never uses it
    rng = np.random.default_rng(seed)
    batch = {
        "input_ids": rng.integers(0, vocab - 1, (batch_size, seq)).astype(np.int32),
        "attention_mask": np.ones((batch_size, seq), dtype=np.int32),
        "labels": rng.integers(0, 2, batch_size).astype(np.int32),
    }
    return model_config, batch


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", choices=sorted(CONFIGS), default="tiny")
    parser.add_argument("--batch", type=int, help="examples per batch (default: the config's)")
    parser.add_argument("--seq", type=int, help="tokens per example (default: 128)")
    parser.add_argument("--steps", type=int, default=10, help="timed rounds (default 10)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed rounds first (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--learning-rate", type=float, default=6.25e-5)
    parser.add_argument("--optimizer", choices=["fused", "loop"], default="fused", help="msgpt's AdamW mode")
    parser.add_argument("--no-torch", action="store_true", help="time msgpt only")
    parser.add_argument("--torch-venv", type=Path, default=TORCH_VENV, help=f"default {TORCH_VENV}")
    parser.add_argument("--torch-threads", type=int, default=0,
                        help="torch.set_num_threads on the PyTorch side (default: torch's own, one per core)")
    parser.add_argument("--no-cpu-ops", action="store_true",
                        help="run the msgpt side on mindtorch's own CPU ops, without msgpt.backend.cpu_ops")
    parser.add_argument("--precision", choices=["fp32", "fp16", "bf16"], default="fp32",
                        help="the msgpt side's compute precision (PyTorch's stays fp32: the baseline)")
    parser.add_argument("--lora-r", type=int, help="the msgpt side trains rank-R LoRA adapters and the head "
                        "(PyTorch's trains every weight: the baseline)")
    parser.add_argument("--no-compile", action="store_true",
                        help="run the msgpt side's blocks op by op (HF's forward), without msgpt.backend.compiled")
    opts = parser.parse_args(argv)

    preset = CONFIGS[opts.config]
    batch_size, seq = opts.batch or preset["batch"], opts.seq or preset["seq"]
    if seq > preset["model"]["n_positions"]:
        parser.error(f"--seq {seq} is above the model's {preset['model']['n_positions']} positions")
    model_config, batch = config_and_batch(opts.config, batch_size, seq, opts.seed)

    python = None if opts.no_torch else torch_python(opts.torch_venv, getattr(sys, "_base_executable", sys.executable))
    worker = None
    with tempfile.TemporaryDirectory(prefix="msgpt-bench-") as workdir:
        side = MsgptSide(model_config, batch, workdir, opts.learning_rate, opts.seed, opts.optimizer,
                         opts.precision, opts.lora_r)
        built_rss = peak_rss_mb()
        from msgpt.backend import compiled, cpu_ops

        import mindspore

        if opts.no_cpu_ops:
            cpu_ops.uninstall()
        if opts.no_compile:
            compiled.uninstall()

        if python is not None:
            np.savez(os.path.join(workdir, "batch.npz"), **batch)
            side.save_weights(os.path.join(workdir, "weights.safetensors"))
            spec = dict(config=model_config, learning_rate=opts.learning_rate, seed=opts.seed,
                        threads=opts.torch_threads)
            with open(os.path.join(workdir, "spec.json"), "w") as handle:
                json.dump(spec, handle)
            worker = TorchWorker(python, str(HERE / "_torch_baseline.py"), workdir)
        try:
            logit_diff = None
            if worker is not None:
                theirs = np.asarray(worker.ask("logits")["logits"])
                logit_diff = float(np.abs(side.logits() - theirs).max())
            ms_rounds, pt_rounds = [], []
            for index in range(opts.warmup + opts.steps):
                # Alternate who goes first, so neither side always follows the other.
                if worker is not None and index % 2 == 0:
                    pt_rounds.append(worker.ask("round"))
                ms_rounds.append(side.one_round())
                if worker is not None and index % 2 == 1:
                    pt_rounds.append(worker.ask("round"))
            rss = {"msgpt": (built_rss, peak_rss_mb())}
            if worker is not None:
                rss["PyTorch"] = (worker.info["peak_rss_mb"], worker.ask("memory")["peak_rss_mb"])
        finally:
            if worker is not None:
                worker.close()

    ms = medians(ms_rounds[opts.warmup:])
    pt = medians(pt_rounds[opts.warmup:]) if worker is not None else None
    shape = model_config
    print(
        f"config {opts.config}: {shape['n_layer']} layers, {shape['n_embd']} wide, {shape['n_head']} heads, "
        f"vocab {shape['vocab_size']:,}, {shape['n_positions']} positions; batch {batch_size} x {seq}; "
        f"{side.parameters / 1e6:.2f}M parameters"
    )
    if opts.precision != "fp32" or opts.lora_r:
        print(f"msgpt side: {opts.precision}" + (f", LoRA rank {opts.lora_r}: {side.trainable / 1e6:.3f}M "
              f"trainable ({100 * side.trainable / side.parameters:.2f}%)" if opts.lora_r else "")
              + "; PyTorch side: fp32, every weight trained")
    print(
        f"msgpt: MindSpore {mindspore.__version__} + mindnlp {importlib.metadata.version('mindnlp')}, "
        f"{mindspore.get_context('device_target')}, AdamW {opts.optimizer}, "
        f"CPU ops: {'msgpt.backend.cpu_ops' if cpu_ops.installed() else 'mindtorch'}, "
        f"blocks: {'compiled (msgpt.backend.compiled)' if compiled.installed() else 'op by op'}"
    )
    stats = compiled.compile_stats()
    if stats.calls:
        print(f"compiled blocks: {stats.shapes} shape(s) compiled in the warm-up, first calls {stats.seconds:.2f} s "
              f"in all; {stats.calls} compiled block calls, {stats.fallbacks} op-by-op")
    if worker is not None:
        info = worker.info
        print(f"PyTorch: torch {info['torch']}, transformers {info['transformers']}, {info['threads']} threads "
              f"(OMP_WAIT_POLICY={omp_wait_policy()}); "
              f"eval logits max |msgpt - PyTorch| = {logit_diff:.1e}")
    print(f"median of {opts.steps} rounds after {opts.warmup} warm-up rounds; "
          f"backward = (forward+backward) - forward; optimizer includes clipping and zero_grad")
    for line in table(ms, pt):
        print(line)
    print("peak RSS, MB (the process: framework, model, optimizer state, activations): "
          + "; ".join(f"{who} {built:,.0f} with the model built, {peak:,.0f} after the rounds"
                      for who, (built, peak) in rss.items()))
    rate = f"training samples/s at batch {batch_size} x {seq}: msgpt {batch_size / ms['step']:.1f}"
    print(rate + ("" if pt is None else f", PyTorch {batch_size / pt['step']:.1f}"))
    if pt is not None:
        print(f"train_ratio={ms['step'] / pt['step']:.2f} infer_ratio={ms['inference'] / pt['inference']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
