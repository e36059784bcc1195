"""Dynamic loss scaling for float16 training of mindtorch models.

The loss is multiplied by ``scale`` before differentiation, so that small gradients survive
float16; the float32 gradients are divided by it again before clipping and the update.
When any gradient is inf or NaN the update is skipped (the gradients are dropped, so the
optimizer leaves every weight and its moments as they are), the scale is halved and the
skip is counted; after ``window`` finite updates in a row the scale doubles. This is the
rule of PyTorch's ``GradScaler`` and of MindSpore's ``DynamicLossScaler``; the defaults are
MindFormers' (2^16, factor 2, window 1000).

What is MindSpore's and what is not, and why:

* the overflow check is ``mindspore.amp.all_finite``, one fused check over all gradients
  that works on mindtorch tensors (on Ascend it reads the AI cores' overflow status, as
  MindSpore's own training does);
* mindtorch's ``GradScaler`` is not used: its ``unscale_`` calls an ``all_finite`` op that
  mindtorch 0.5.1 does not implement on the CPU ("No implementation for function:
  all_finite on cpu"; ``tests/training/test_loss_scaling.py`` probes it);
* ``mindspore.amp.DynamicLossScaler`` is not used either: its state lives in MindSpore
  Parameters, which mindtorch ops reject ("Tensor must have device"), and skipping an
  update needs the verdict on the host anyway, so the scale is kept there, a float
  multiplied into the loss: one host read per update, where ``GradScaler`` has one too.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

#: MindFormers' and PyTorch's starting scale, growth factor; MindFormers' window.
INIT_SCALE = 2.0**16
FACTOR = 2
WINDOW = 1000


class DynamicLossScale:
    """A float16 loss scale: ``scale_loss`` in the step, then ``unscale_and_check`` on the
    gradients of each update. ``state_dict``/``load_state_dict`` carry it across a resume."""

    def __init__(self, init_scale: float = INIT_SCALE, factor: int = FACTOR, window: int = WINDOW) -> None:
        if not init_scale >= 1 or not math.isfinite(init_scale):
            raise ValueError(f"init_scale must be a finite number >= 1, got {init_scale}")
        if factor < 2 or window < 1:
            raise ValueError(f"factor must be >= 2 and window >= 1, got {factor} and {window}")
        self.scale = float(init_scale)
        self.factor = int(factor)
        self.window = int(window)
        #: Finite updates since the last overflow or growth.
        self.good_steps = 0
        #: Updates skipped for inf/NaN gradients, over the whole run.
        self.skipped_steps = 0

    def scale_loss(self, loss: Any) -> Any:
        """``loss`` times the current scale (what the step differentiates)."""
        return loss * self.scale

    def unscale_and_check(self, parameters: Iterable[Any]) -> bool:
        """Divide the parameters' gradients by the scale; ``False`` (gradients dropped, scale
        halved, skip counted) if any was inf or NaN, ``True`` (the scale grows after
        ``window`` of these) otherwise."""
        from mindspore import amp

        params = [p for p in parameters if p.grad is not None]
        if not params:
            return True
        finite = bool(amp.all_finite([p.grad for p in params]))
        if not finite:
            for p in params:
                p.grad = None  # torch optimizers pass over a parameter without a gradient
            self.scale = max(1.0, self.scale / self.factor)
            self.good_steps = 0
            self.skipped_steps += 1
            return False
        inverse = 1.0 / self.scale
        for p in params:
            p.grad = p.grad * inverse  # rebinding, not mul_(): an in-place op syncs on the CPU
        self.good_steps += 1
        if self.good_steps == self.window:
            grown = self.scale * self.factor
            if math.isfinite(grown):
                self.scale = grown
            self.good_steps = 0
        return True

    def state_dict(self) -> dict[str, Any]:
        """What a checkpoint keeps of the scale (JSON-able)."""
        return {"scale": self.scale, "factor": self.factor, "window": self.window,
                "good_steps": self.good_steps, "skipped_steps": self.skipped_steps}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from ``state_dict()``'s figures."""
        self.scale = float(state["scale"])
        self.factor = int(state.get("factor", self.factor))
        self.window = int(state.get("window", self.window))
        self.good_steps = int(state.get("good_steps", 0))
        self.skipped_steps = int(state.get("skipped_steps", 0))
