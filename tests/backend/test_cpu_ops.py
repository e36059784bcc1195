"""msgpt.backend.cpu_ops: same values and gradients as mindtorch's own ops, and still needed.

The equality tests run each op through mindtorch's dispatcher twice, with msgpt's
kernels installed and with mindtorch's own, and compare outputs and the gradients of
every input (bitwise, except ``pow``: one ulp). The ``test_upstream_*`` probes record
which MindSpore kernels mindtorch's own op launches: when one fails, mindtorch no longer
takes the slow path, and the replacement its message names can go from msgpt/backend/cpu_ops.py
(re-measure with ``benchmarks/train_step.py --no-cpu-ops``).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from typing import Callable

from msgpt.backend import cpu_ops

import numpy as np
import pytest
import torch
from mindtorch._apis import cpu
from mindtorch._op_prim.cpu import legacy
from mindtorch.autograd import value_and_grad

import msgpt

_KERNELS = ("add", "sub", "mul", "div", "pow", "bias_add", "mat_mul", "batch_mat_mul", "tile", "cast")


@contextlib.contextmanager
def mindtorch_own_ops():
    cpu_ops.uninstall()
    try:
        yield
    finally:
        cpu_ops.install()


@contextlib.contextmanager
def kernel_calls(monkeypatch) -> list[str]:
    """Names of the MindSpore CPU kernels (``legacy.*``) launched inside the block."""
    calls: list[str] = []
    with monkeypatch.context() as patch:
        for name in _KERNELS:
            kernel = getattr(legacy, name)
            patch.setattr(legacy, name, lambda *a, _k=kernel, _n=name, **kw: calls.append(_n) or _k(*a, **kw))
        yield calls


def param(rng, *shape) -> torch.nn.Parameter:
    return torch.nn.Parameter(torch.tensor(rng.standard_normal(shape).astype(np.float32)))


def values_and_grads(fn: Callable, params: list) -> list[np.ndarray]:
    """``fn()`` and the gradients of a weighted sum of it with respect to ``params``."""
    out = fn()
    weights = torch.tensor(np.random.default_rng(1).standard_normal(tuple(out.shape)).astype(np.float32))
    _, grads = value_and_grad(lambda: (fn() * weights).sum(), params, attach_grads=False)()
    return [out.detach().numpy()] + [g.asnumpy() for g in grads]


def _cases(rng):
    x, y, b = param(rng, 6, 24), param(rng, 6, 24), param(rng, 24)
    w = param(rng, 24, 24)
    scores, mask = param(rng, 2, 4, 64, 64), param(rng, 2, 1, 1, 64)  # 32,768 elements
    return {
        # name: (fn, params, kernels msgpt's path launches for fn(), bitwise)
        "addmm": (lambda: torch.addmm(b, x, w), [b, x, w], ["mat_mul", "bias_add"], True),
        "pow2": (lambda: x ** 2, [x], ["mul"], False),
        "pow3": (lambda: torch.pow(x, 3), [x], ["mul", "mul"], False),
        "div_by_8": (lambda: x / 8.0, [x], ["mul"], True),
        "sub": (lambda: torch.sub(x, y), [x, y], ["sub"], True),
        "broadcast_add": (lambda: scores + mask, [scores, mask], ["tile", "add"], True),
        "broadcast_sub": (lambda: scores - mask, [scores, mask], ["tile", "sub"], True),
        "broadcast_mul": (lambda: mask * scores, [scores, mask], ["tile", "mul"], True),
        "broadcast_div": (lambda: scores / mask, [scores, mask], ["tile", "div"], True),
    }


CASES = sorted(_cases(np.random.default_rng(0)))


@pytest.mark.parametrize("case", CASES)
def test_same_values_and_gradients_as_mindtorch(case, monkeypatch):
    fn, params, kernels, bitwise = _cases(np.random.default_rng(0))[case]
    with kernel_calls(monkeypatch) as calls:
        fn()
    assert calls == kernels, f"msgpt's {case} launched {calls}, not {kernels}"
    ours = values_and_grads(fn, params)
    with mindtorch_own_ops():
        theirs = values_and_grads(fn, params)
    for mine, reference in zip(ours, theirs):
        assert mine.shape == reference.shape
        if bitwise:
            np.testing.assert_array_equal(mine, reference)
        else:
            np.testing.assert_allclose(mine, reference, rtol=1e-6, atol=1e-6)


def test_pow_is_within_one_ulp_of_mindspores_pow():
    x = torch.tensor(np.random.default_rng(2).standard_normal(10_000).astype(np.float32))
    ours = (x ** 3).numpy()
    with mindtorch_own_ops():
        theirs = (x ** 3).numpy()
    np.testing.assert_array_max_ulp(ours, theirs, maxulp=1)


@pytest.mark.parametrize("expr", [
    lambda x, y, b, w: torch.addmm(b, x, w, beta=0.5, alpha=2.0),
    lambda x, y, b, w: x ** 2.5,
    lambda x, y, b, w: x / 3.0,
    lambda x, y, b, w: torch.sub(x, y, alpha=2),
    lambda x, y, b, w: x + b,  # broadcast below BROADCAST_TILE_MIN
    lambda x, y, b, w: torch.tensor([3, 4]) / 2,  # integer tensor
], ids=["addmm_alpha_beta", "pow_2.5", "div_by_3", "sub_alpha", "small_broadcast", "int_div"])
def test_other_calls_fall_back_to_mindtorch(expr, monkeypatch):
    rng = np.random.default_rng(3)
    args = (param(rng, 4, 8), param(rng, 4, 8), param(rng, 8), param(rng, 8, 8))
    with kernel_calls(monkeypatch) as calls:
        ours = expr(*args).detach().numpy()
    assert "tile" not in calls and "bias_add" not in calls
    with mindtorch_own_ops():
        theirs = expr(*args).detach().numpy()
    np.testing.assert_array_equal(ours, theirs)


_INTS = np.array([[-3, -1, 0, 1, 2, 127, 255, 2**31 - 1], [-2**31, 7, 8, -9, 10, 11, 12, 13]], dtype=np.int64)


@pytest.mark.parametrize("source, target", [
    ("int64", "int32"), ("int64", "float32"), ("int32", "float32"), ("int32", "int64"), ("bool", "int32"),
    ("bool", "float32"), ("int32", "bool"), ("uint8", "float16"), ("int64", "float64"), ("int16", "int8"),
])
def test_integer_and_boolean_casts_go_through_numpy_with_the_same_values(source, target, monkeypatch):
    x = torch.tensor(_INTS.astype(getattr(np, source) if source != "bool" else np.bool_))
    dtype = getattr(torch, target)
    with kernel_calls(monkeypatch) as calls:
        ours = x.to(dtype)
    assert calls == [] and ours.dtype == dtype and ours.device == x.device
    with mindtorch_own_ops():
        theirs = x.to(dtype)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert (ours + ours).dtype == dtype  # an ordinary mindtorch tensor afterwards


def test_float_casts_keep_mindspores_kernel_and_their_gradient(monkeypatch):
    x = param(np.random.default_rng(11), 4, 8)
    with kernel_calls(monkeypatch) as calls:
        x.to(torch.float16)
    assert calls == ["cast"]
    ours = values_and_grads(lambda: x.to(torch.float64), [x])
    with mindtorch_own_ops():
        theirs = values_and_grads(lambda: x.to(torch.float64), [x])
    for mine, reference in zip(ours, theirs):
        np.testing.assert_array_equal(mine, reference)


def test_tiny_gpt_trains_the_same_with_and_without(tiny_config, tokenizer):
    """A whole model: logits and every gradient agree (to pow's ulp) with mindtorch's own ops."""
    model = msgpt.build_model(tiny_config, tokenizer, num_labels=2)
    model.train()  # no dropout in tiny_config
    rng = np.random.default_rng(4)
    ids = torch.tensor(rng.integers(0, tokenizer.vocab_size, (4, 48)).astype(np.int32))
    labels = torch.tensor(np.array([0, 1, 1, 0], dtype=np.int32))
    params = [p for p in model.parameters() if p.requires_grad]

    def run():
        loss_fn = value_and_grad(lambda: model(input_ids=ids, labels=labels).loss, params, attach_grads=False)
        loss, grads = loss_fn()
        return float(loss), [g.asnumpy() for g in grads]

    loss, grads = run()
    with mindtorch_own_ops():
        ref_loss, ref_grads = run()
    assert loss == pytest.approx(ref_loss, rel=1e-6)
    for mine, reference in zip(grads, ref_grads):
        np.testing.assert_allclose(mine, reference, rtol=1e-4, atol=1e-6)


def test_install_is_idempotent_and_uninstall_restores():
    assert cpu_ops.installed(), "msgpt's import did not install its CPU kernels"
    ours = cpu.addmm
    cpu_ops.install()
    assert cpu.addmm is ours
    with mindtorch_own_ops():
        assert not cpu_ops.installed()
        assert cpu.addmm is cpu_ops.original("addmm") is not ours
        cpu_ops.uninstall()
        assert cpu.addmm is cpu_ops.original("addmm")
    assert cpu_ops.installed() and cpu.addmm is not cpu_ops.original("addmm")


# -- upstream probes: mindtorch's own ops still take the slow path -------------------------
def _upstream_kernels(fn, monkeypatch) -> list[str]:
    with mindtorch_own_ops(), kernel_calls(monkeypatch) as calls:
        fn()
    return calls


def test_upstream_addmm_still_scales_by_alpha_and_beta(monkeypatch):
    rng = np.random.default_rng(5)
    b, x, w = param(rng, 8), param(rng, 4, 8), param(rng, 8, 8)
    calls = _upstream_kernels(lambda: torch.addmm(b, x, w), monkeypatch)
    assert "bias_add" not in calls and calls.count("mul") == 2, (
        f"mindtorch's addmm now launches {calls}: msgpt's addmm replacement can go")


def test_upstream_pow_still_uses_the_pow_kernel(monkeypatch):
    x = param(np.random.default_rng(6), 4, 8)
    calls = _upstream_kernels(lambda: x ** 3, monkeypatch)
    assert calls == ["pow"], f"mindtorch's pow now launches {calls}: msgpt's pow replacement can go"


def test_upstream_div_by_scalar_still_divides(monkeypatch):
    x = param(np.random.default_rng(7), 4, 8)
    calls = _upstream_kernels(lambda: x / 8.0, monkeypatch)
    assert calls == ["div"], f"mindtorch's div now launches {calls}: msgpt's div replacement can go"


def test_upstream_sub_still_multiplies_by_alpha(monkeypatch):
    rng = np.random.default_rng(8)
    x, y = param(rng, 4, 8), param(rng, 4, 8)
    calls = _upstream_kernels(lambda: x - y, monkeypatch)
    assert calls == ["mul", "sub"], f"mindtorch's sub now launches {calls}: msgpt's sub replacement can go"


def test_upstream_still_broadcasts_inside_the_kernel(monkeypatch):
    rng = np.random.default_rng(9)
    scores, mask = param(rng, 2, 4, 64, 64), param(rng, 2, 1, 1, 64)
    calls = _upstream_kernels(lambda: scores + mask, monkeypatch)
    assert calls == ["add"], (
        f"mindtorch's add now launches {calls} for a broadcast: msgpt's broadcast replacement can go")


def test_upstream_cast_still_launches_mindspores_cast_kernel(monkeypatch):
    x = torch.tensor(np.arange(8, dtype=np.int32))
    calls = _upstream_kernels(lambda: x.to(torch.float32), monkeypatch)
    assert calls == ["cast"], (
        f"mindtorch's cast now launches {calls}: re-measure msgpt's host cast (benchmarks/train_step.py)")


def test_a_process_that_starts_from_cpu_ops_gets_them():
    """``from msgpt.backend import cpu_ops`` before anything imported mindnlp: still installed."""
    probe = (
        "import msgpt; msgpt.select_device('CPU')\n"
        "from msgpt.backend import cpu_ops\n"
        "first = cpu_ops.installed()\n"
        "from mindtorch._apis import cpu\n"
        "print(first, cpu.addmm is not cpu_ops.original('addmm'))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "True True"
