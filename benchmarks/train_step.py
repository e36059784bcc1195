"""Time one training step of a tiny GPT-1 classifier the way MindSporeTrainer runs it.

    .venv/bin/python benchmarks/train_step.py --optimizer fused
    .venv/bin/python benchmarks/train_step.py --optimizer loop --launch-blocking

A step is what the Trainer does per batch: mindnlp's ``training_step`` (forward and
backward through ``value_and_grad``), clipping at 1.0, the optimizer step, ``zero_grad``.
Prints the median and best step time, and the optimizer's and clipping's share.
Optimizers: ``fused`` (msgpt's AdamW, one AdamWeightDecay kernel per parameter),
``loop`` (its per-tensor fallback), ``inplace`` (a PyTorch-style per-tensor loop of
in-place mindtorch ops, i.e. what a straight port of ``torch.optim.AdamW`` without
``addcdiv`` costs).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time

import numpy as np


class InplaceAdamW:
    """PyTorch's single-tensor AdamW with mindtorch in-place ops (for comparison only)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
        import torch

        self.params = list(params)
        self.lr, self.betas, self.eps, self.wd = lr, betas, eps, weight_decay
        self.state = [(torch.zeros_like(p), torch.zeros_like(p)) for p in self.params]
        self.t = 0

    def step(self):
        self.t += 1
        b1, b2 = self.betas
        step_size = self.lr / (1 - b1**self.t)
        root2 = math.sqrt(1 - b2**self.t)
        for p, (m, v) in zip(self.params, self.state):
            g = p.grad
            p.mul_(1 - self.lr * self.wd)
            m.mul_(b1).add_(g, alpha=1 - b1)
            v.mul_(b2).add_(g * g, alpha=1 - b2)
            p.sub_(m / (v.sqrt() / root2 + self.eps) * step_size)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--optimizer", choices=["fused", "loop", "inplace"], default="fused")
    parser.add_argument("--launch-blocking", action="store_true", help="mindspore.runtime.launch_blocking()")
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--device", default="CPU")
    opts = parser.parse_args(argv)

    import msgpt

    msgpt.select_device(opts.device)
    from msgpt import _mindnlp  # noqa: F401
    import mindspore
    import torch

    if opts.launch_blocking:
        mindspore.runtime.launch_blocking()
    from msgpt.training import make_trainer, training_arguments

    texts = [f"word{i % 50} story film {i}" for i in range(200)]
    with tempfile.TemporaryDirectory() as folder:
        tokenizer = msgpt.load_tokenizer(msgpt.train_bpe_tokenizer(texts, folder, vocab_size=300), fast=True)
        config = msgpt.small_gpt_config(
            tokenizer.vocab_size, n_layer=opts.layers, n_embd=opts.width, n_head=4, n_positions=opts.seq
        )
        model = msgpt.build_model(config, tokenizer, num_labels=2)
        args = training_arguments(
            folder, eval_strategy="no", save_strategy="no", load_best_model_at_end=False,
            metric_for_best_model=None, disable_tqdm=True, learning_rate=1e-4,
        )
        trainer = make_trainer(model, tokenizer, None, None, args, fused_optimizer=opts.optimizer == "fused")
        if opts.optimizer == "inplace":
            trainer.optimizer = InplaceAdamW(model.parameters(), lr=1e-4)
        else:
            trainer.create_optimizer()
        trainer.current_gradient_accumulation_steps = 1  # set by the training loop
        model.train()
        rng = np.random.default_rng(0)
        inputs = {
            "input_ids": torch.tensor(rng.integers(0, tokenizer.vocab_size, (opts.batch, opts.seq)).astype(np.int32)),
            "attention_mask": torch.ones(opts.batch, opts.seq, dtype=torch.int32),
            "labels": torch.tensor(rng.integers(0, 2, opts.batch).astype(np.int32)),
        }
        totals, optim, clip = [], [], []
        for _ in range(opts.steps):
            start = time.perf_counter()
            loss = trainer.training_step(model, inputs)
            float(loss)  # the Trainer logs it: wait for the step here, as a real loop does
            t_clip = time.perf_counter()
            trainer.accelerator.clip_grad_norm_(model.parameters(), 1.0)
            t_opt = time.perf_counter()
            trainer.optimizer.step()
            model.zero_grad()
            float(model.score.weight[0, 0])  # wait for the update
            end = time.perf_counter()
            totals.append(end - start)
            clip.append(t_opt - t_clip)
            optim.append(end - t_opt)
    warm = slice(2, None)
    ms = lambda xs: 1000 * statistics.median(xs[warm])  # noqa: E731
    print(
        f"optimizer={opts.optimizer} launch_blocking={opts.launch_blocking} "
        f"L={opts.layers} H={opts.width} batch={opts.batch}x{opts.seq}: "
        f"step median {ms(totals):.1f} ms (best {1000 * min(totals[warm]):.1f}); "
        f"optimizer {ms(optim):.1f} ms, clip {ms(clip):.1f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
