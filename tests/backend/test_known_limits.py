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


def test_mindspore_cannot_export_a_mindnlp_model(tiny_model, tmp_path):
    """mindnlp's models are mindtorch modules, not Cells: mindspore.export refuses them, which is
    why msgpt.inference.graph writes the forward as a Cell. If this starts to pass the export,
    that module could give way to exporting the model itself."""
    import mindspore

    ids = mindspore.Tensor(np.zeros((1, 8), np.int32))
    assert not isinstance(tiny_model, mindspore.nn.Cell)
    with pytest.raises(RuntimeError, match="is not function or method"):
        mindspore.export(tiny_model, ids, ids, file_name=str(tmp_path / "model"), file_format="MINDIR")
    assert not list(tmp_path.iterdir())
