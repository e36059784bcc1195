"""GPT-1's learning-rate schedule: linear warm-up over 0.2% of the steps, then linear decay.

HF's ``get_linear_schedule_with_warmup`` (a ``LambdaLR``) runs unchanged on mindtorch, so
this module only fixes GPT-1's default and the warm-up rounding; inside the Trainer the
same schedule comes from ``lr_scheduler_type="linear"`` and ``warmup_ratio``.
"""

from __future__ import annotations

import math

import msgpt.backend  # noqa: F401  (mindnlp before torch/transformers)

import torch
from transformers import get_linear_schedule_with_warmup

#: Fraction of the training steps spent warming up, from the GPT-1 paper.
GPT1_WARMUP_RATIO = 0.002


def warmup_steps(num_training_steps: int, warmup_ratio: float = GPT1_WARMUP_RATIO) -> int:
    """Warm-up steps for ``num_training_steps``, rounded up as ``TrainingArguments`` does."""
    if not 0.0 <= warmup_ratio <= 1.0:
        raise ValueError(f"warmup_ratio must lie in [0, 1], got {warmup_ratio}")
    return math.ceil(num_training_steps * warmup_ratio)


def linear_warmup_decay(
    optimizer: torch.optim.Optimizer,
    num_training_steps: int,
    warmup_ratio: float = GPT1_WARMUP_RATIO,
) -> torch.optim.lr_scheduler.LambdaLR:
    """LR multiplier rising linearly from 0 to 1 over the warm-up, then falling to 0 at the end."""
    return get_linear_schedule_with_warmup(
        optimizer, warmup_steps(num_training_steps, warmup_ratio), num_training_steps
    )
