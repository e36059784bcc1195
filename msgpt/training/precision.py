"""Training precision: float32, or float16/bfloat16 compute under mindtorch's autocast.

``fp16`` and ``bf16`` keep the weights, the optimizer state and the gradients in float32
(master weights) and run the forward pass under ``torch.autocast`` (mindtorch's: it pushes
MindSpore's AMP strategy, so MatMuls and their kin compute in half precision while
LayerNorm, softmax and the losses stay in float32, MindSpore's white and black lists).
``fp16`` needs dynamic loss scaling (``msgpt.training.loss_scaling``); ``bf16`` has
float32's range and runs unscaled.

HF's own switches do not serve here: ``TrainingArguments(bf16=True)`` is refused on every
device (``torch.cuda.is_bf16_supported()`` is always False in mindtorch) and ``fp16=True``
makes accelerate build mindtorch's ``GradScaler``, which cannot unscale (no ``all_finite``
kernel on the CPU) or, on the CPU, nothing at all. ``MindSporeTrainer`` takes
``precision=`` instead and maps ``fp16=True`` to it.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any

#: The precisions a recipe's ``--precision`` and ``make_trainer(precision=)`` accept.
PRECISIONS = ("fp32", "fp16", "bf16")


def compute_dtype(precision: str) -> Any:
    """The autocast dtype of ``precision`` (``None`` for fp32)."""
    import torch

    check_name(precision)
    return {"fp32": None, "fp16": torch.float16, "bf16": torch.bfloat16}[precision]


def check_name(precision: str) -> None:
    """A ``ValueError`` unless ``precision`` is one of ``PRECISIONS``."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")


@functools.cache
def _has_matmul_kernel(dtype_name: str) -> str | None:
    """``None`` if a MatMul in ``dtype_name`` runs on the current device, else why not."""
    import torch

    dtype = getattr(torch, dtype_name)
    try:
        ones = torch.ones(2, 2, dtype=dtype)
        (ones @ ones).float().sum().item()
    except Exception as error:  # MindSpore raises RuntimeError/TypeError/ValueError by kernel
        return str(error).splitlines()[0][:160]
    return None


def check_precision(precision: str, device: str | None = None) -> None:
    """Refuse, in one line and before any work, a precision the device has no kernels for
    (bfloat16 on the CPU: MindSpore 2.7 has no bfloat16 MatMul there).

    Probes a 2x2 MatMul in that dtype on the current device (``device`` only names it in the
    message), so a device that gains the kernels is accepted without a change here.
    """
    check_name(precision)
    if precision == "fp32":
        return
    from msgpt.runtime.device import current_device

    dtype_name = "float16" if precision == "fp16" else "bfloat16"
    problem = _has_matmul_kernel(dtype_name)
    if problem is not None:
        where = device or current_device()
        raise ValueError(
            f"precision {precision}: this device ({where}) has no {dtype_name} MatMul kernel, use fp32"
            f"{' or fp16' if precision == 'bf16' else ''} ({problem})"
        )


def autocast(precision: str, device_type: str = "cpu") -> contextlib.AbstractContextManager:
    """The forward pass's context for ``precision``: ``torch.autocast`` in its dtype, or
    nothing for fp32. (mindtorch keeps one autocast dtype per ``device_type``; the
    strategy it pushes applies to the current MindSpore device.)"""
    dtype = compute_dtype(precision)
    if dtype is None:
        return contextlib.nullcontext()
    import torch

    return torch.autocast(device_type, dtype=dtype)
