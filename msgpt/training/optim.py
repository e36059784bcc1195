"""AdamW for mindtorch parameters, one fused MindSpore kernel per parameter.

``torch.optim.AdamW`` (the Trainer's default) cannot step on CPU or GPU under mindtorch:
its update calls ``addcdiv``, which mindtorch implements on Ascend only. Rebuilding the
update from mindtorch's in-place ops works, but on CPU every in-place op
(``mul_``, ``add_``, ``copy_``...) is an ``assign_value`` that waits for the device, so a
step costs several host syncs per parameter.

``AdamW`` here calls MindSpore's ``AdamWeightDecay`` primitive instead, which updates
the parameter and both moments in place in one kernel, with no host sync, on Ascend,
GPU and CPU (it is the kernel ``mindspore.nn.AdamWeightDecay`` uses). That kernel has no
bias correction, so each step passes it rescaled hyper-parameters that make its update
exactly PyTorch's AdamW (see ``_kernel_hyperparams``). ``fused=False`` runs the same
update as a per-tensor loop of mindtorch ops: the slow fallback, and a second
implementation for the tests.

Parameter groups, ``state_dict``/``load_state_dict`` and LR schedulers work as for any
``torch.optim.Optimizer``; the state of a parameter is ``step`` (a Python int, so that
reading it never syncs), ``exp_avg`` and ``exp_avg_sq``.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Sequence

import msgpt.backend  # noqa: F401  (mindnlp before torch/transformers)

import mindspore
import torch
from transformers.trainer_pt_utils import get_parameter_names

#: HF Trainer's rule for parameters without weight decay (biases and norm gains): the
#: GPT-1 paper applies its L2 term "on all non bias or gain weights".
NO_DECAY_NAME_PATTERNS = (r"bias", r"layernorm", r"rmsnorm", r"(?:^|\.)norm(?:$|\.)", r"_norm(?:$|\.)")


def _kernel_hyperparams(
    lr: float, beta1: float, beta2: float, eps: float, weight_decay: float, step: int
) -> tuple[float, float, float]:
    """``(lr, eps, decay)`` for ``AdamWeightDecay`` that make its update PyTorch's AdamW.

    PyTorch's AdamW at step ``t`` with ``b1 = 1 - beta1**t`` and ``b2 = 1 - beta2**t``::

        w <- w - lr * wd * w - (lr / b1) * m / (sqrt(v) / sqrt(b2) + eps)

    The kernel does ``w <- w - lr' * (m / (sqrt(v) + eps') + wd' * w)``; both agree for
    ``lr' = lr * sqrt(b2) / b1``, ``eps' = eps * sqrt(b2)`` and ``wd' = wd * b1 / sqrt(b2)``.
    """
    bias1 = 1.0 - beta1**step
    root2 = math.sqrt(1.0 - beta2**step)
    return lr * root2 / bias1, eps * root2, weight_decay * bias1 / root2


def _zeros_shaped_like(param: torch.Tensor) -> torch.Tensor:
    """Zeros of ``param``'s Python-side shape, dtype and device.

    Not ``zeros_like``: its output shape is inferred by MindSpore from the parameter,
    and a parameter whose data was swapped for a resized one (HF's
    ``resize_token_embeddings``), or one that took the place of such a parameter in the
    same process, can still report the old row count there; the kernel then rejects the
    moments as the wrong size.
    """
    return torch.zeros(tuple(param.shape), dtype=param.dtype, device=param.device)


class AdamW(torch.optim.Optimizer):
    """Decoupled-weight-decay Adam (PyTorch's ``AdamW`` update) on every MindSpore backend.

    ``fused=True`` (default) updates each parameter with one ``AdamWeightDecay`` kernel;
    ``fused=False`` uses a per-tensor loop of mindtorch ops (slower, mainly for tests).
    Parameters whose ``grad`` is ``None`` are skipped, as in PyTorch.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
        *,
        fused: bool = True,
    ) -> None:
        if lr < 0:
            raise ValueError(f"invalid learning rate {lr}")
        if not (0.0 < betas[0] < 1.0 and 0.0 < betas[1] < 1.0):
            raise ValueError(f"betas must lie in (0, 1), got {betas}")  # the kernel's own rule
        if eps <= 0:
            raise ValueError(f"eps must be > 0, got {eps}")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)
        super().__init__(params, defaults)
        self.fused = fused
        # One primitive instance for all parameters: MindSpore caches its kernel by shape.
        self._kernel = mindspore.ops.AdamWeightDecay()

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        """One AdamW update of every parameter that has a gradient."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, eps, weight_decay = float(group["lr"]), group["eps"], group["weight_decay"]
            for param in group["params"]:
                grad = param.grad
                if grad is None:
                    continue
                state = self.state[param]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = _zeros_shaped_like(param)
                    state["exp_avg_sq"] = _zeros_shaped_like(param)
                state["step"] = step = int(state["step"]) + 1
                if self.fused:
                    k_lr, k_eps, k_decay = _kernel_hyperparams(lr, beta1, beta2, eps, weight_decay, step)
                    self._kernel(
                        param, state["exp_avg"], state["exp_avg_sq"],
                        k_lr, beta1, beta2, k_eps, k_decay, grad,
                    )
                else:
                    self._loop_update(param, grad, state, lr, beta1, beta2, eps, weight_decay, step)
        return loss

    @staticmethod
    def _loop_update(param, grad, state, lr, beta1, beta2, eps, weight_decay, step) -> None:
        # Moments are rebound to new tensors (no in-place op, so no host sync on CPU); only
        # the parameter itself must be updated in place, with one copy_.
        exp_avg = state["exp_avg"] * beta1 + grad * (1.0 - beta1)
        exp_avg_sq = state["exp_avg_sq"] * beta2 + grad * grad * (1.0 - beta2)
        state["exp_avg"], state["exp_avg_sq"] = exp_avg, exp_avg_sq
        bias1 = 1.0 - beta1**step
        root2 = math.sqrt(1.0 - beta2**step)
        denom = exp_avg_sq.sqrt() / root2 + eps
        param.copy_(param * (1.0 - lr * weight_decay) - exp_avg / denom * (lr / bias1))


def decay_parameter_groups(
    model: torch.nn.Module, weight_decay: float, names: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """Two parameter groups, as HF's Trainer makes them: decayed weights, and the rest.

    Biases and LayerNorm parameters get no weight decay. ``names`` overrides the list of
    decayed parameter names (e.g. ``Trainer.get_decay_parameter_names(model)``).
    """
    if names is None:
        names = get_parameter_names(model, [torch.nn.LayerNorm], list(NO_DECAY_NAME_PATTERNS))
    decayed = set(names)
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    return [
        {"params": [p for n, p in trainable if n in decayed], "weight_decay": weight_decay},
        {"params": [p for n, p in trainable if n not in decayed], "weight_decay": 0.0},
    ]


def scale_body_rate(groups: list[dict[str, Any]], model: torch.nn.Module, lr: float,
                    body_lr_scale: float) -> list[dict[str, Any]]:
    """``groups`` with every parameter outside the task head (``score``) at ``lr * body_lr_scale``.

    Discriminative fine-tuning: a pre-trained body kept near its weights while a new head
    learns at ``lr`` (0 freezes the body: no update, no decay). Each group is split in two,
    head and body, with their own ``lr``; HF's schedulers scale both alike.
    """
    from msgpt.models.lora import is_head_parameter

    if body_lr_scale == 1:
        return groups
    head = {id(p) for n, p in model.named_parameters() if is_head_parameter(n)}
    split = []
    for group in groups:
        for is_head, rate in ((True, lr), (False, lr * body_lr_scale)):
            params = [p for p in group["params"] if (id(p) in head) == is_head]
            if params:
                split.append({**group, "params": params, "lr": rate})
    return split
