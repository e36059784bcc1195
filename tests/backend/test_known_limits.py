"""Upstream limits msgpt documents rather than works around; each test tells when one is gone."""

from __future__ import annotations

import numpy as np
import pytest
import torch


@pytest.mark.xfail(strict=True, reason=(
    "mindtorch's CPU dropout ignores the seeded generator (mindtorch/_apis/cpu.py), so a resumed "
    "run with dropout cannot replay its masks; an XPASS means it can, and the resume note of docs/recipes.md "
    "and the demo's dropout-free model can be revisited"))
def test_cpu_dropout_follows_the_generator_state():
    drop = torch.nn.Dropout(0.5)
    drop.train()
    x = torch.ones(64)
    torch.manual_seed(0)
    state = torch.random.get_rng_state()
    first = drop(x).numpy()
    torch.random.set_rng_state(state)
    np.testing.assert_array_equal(drop(x).numpy(), first)
