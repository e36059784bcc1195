"""Faster kernels for six mindtorch CPU ops that GPT-1 spends most of its step in.

mindnlp 0.5.1 runs HF's modelling code on mindtorch, which maps each torch op of a CPU
tensor to a MindSpore kernel in ``mindtorch._apis.cpu``. For five of those ops it picks
a path that MindSpore's CPU kernels run several times slower than an equivalent one
(measured per op at GPT-1's shapes, see ``benchmarks/train_step.py``):

- ``addmm(bias, x, w)``, every GPT-1 projection (HF's ``Conv1D``): mindtorch computes
  ``add(mul(beta, bias), mul(alpha, x @ w))``, two multiplies by 1.0 and a broadcasting
  Add. Here: MatMul + BiasAdd, which adds the same bias rows (bitwise the same result).
- ``pow(x, 2)`` and ``pow(x, 3)`` (GPT-1's GELU): MindSpore's Pow kernel costs about ten
  multiplies. Here: ``x * x`` and ``x * x * x``, what PyTorch's CPU kernel does; results
  differ from MindSpore's Pow by at most one ulp.
- ``x / c`` for a power of two ``c`` (attention's ``/ sqrt(head_dim)`` for 64-wide heads):
  here ``x * (1 / c)``, exact since ``1 / c`` is exact, and a Mul is ~10x cheaper than Div.
- ``sub(x, y)``: mindtorch multiplies ``y`` by ``alpha`` even when it is 1. Here: not.
- ``add``/``sub``/``mul``/``div`` of float tensors where one operand is broadcast to an
  output of at least ``BROADCAST_TILE_MIN`` elements (attention masks, position
  embeddings): MindSpore's broadcasting kernels are ~5x slower than same-shape ones, and
  Tile is cheap, so the broadcast operand is tiled first. Same values; the gradient of
  Tile sums over the tiled axes as the broadcast's does.
- ``cast`` of an integer or boolean tensor (attention masks to float, HF's pad-token
  search, index tensors): MindSpore's CPU Cast kernel costs ~0.7 ms whatever the size
  (1,024 elements: 30x a Mul of the same size), four of them per GPT-1 forward. Here
  numpy's ``astype`` (the same C conversion), up to ``HOST_CAST_MAX`` elements. Such a
  cast has no gradient to lose; casts of float tensors keep MindSpore's kernel.

Only CPU tensors take these paths (the table msgpt patches is mindtorch's CPU one), the
gradients come from MindSpore's own bprop of the replacement kernels, and any call the
replacement does not cover goes to mindtorch's original. ``msgpt.backend`` calls
``install()`` right after importing mindnlp; ``uninstall()`` puts mindtorch's ops back
(``benchmarks/train_step.py --no-cpu-ops`` measures the difference).

``tests/backend/test_cpu_ops.py`` checks that each replacement gives the original's values and
gradients, and probes mindtorch's own ops: when one of them stops taking the slow path
(mindtorch fixed it), its test fails and says which replacement can go.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

#: Outputs at least this large get their broadcast operand tiled first (below it the
#: extra Tile kernel costs more than it saves).
BROADCAST_TILE_MIN = 1 << 15
#: Integer/boolean casts up to this many elements go through numpy.
HOST_CAST_MAX = 1 << 20

_ORIGINALS: dict[str, Callable] = {}


def _apis():
    import mindtorch
    from mindtorch._apis import cpu
    from mindtorch._op_prim.cpu import legacy

    return mindtorch, cpu, legacy


def _floats(mindtorch) -> tuple:
    return (mindtorch.float16, mindtorch.bfloat16, mindtorch.float32, mindtorch.float64)


def _wrappers() -> dict[str, tuple[Callable[[Callable], Callable], ...]]:
    """For each op of ``mindtorch._apis.cpu``: wrappers of the original, innermost first."""
    mindtorch, _, legacy = _apis()
    floats = _floats(mindtorch)

    def bias_add(original):
        def addmm(input, mat1, mat2, alpha=1.0, beta=1.0):
            if (alpha == 1 and beta == 1 and input.ndim == 1 and mat1.ndim == 2 and mat2.ndim == 2
                    and input.shape[0] == mat2.shape[1] and input.dtype == mat1.dtype == mat2.dtype):
                return legacy.bias_add(legacy.mat_mul(mat1, mat2, False, False), input, "NCHW")
            return original(input, mat1, mat2, alpha, beta)

        return addmm

    def multiplies(original):
        def pow_tensor_scalar(input, scalar):
            if input.dtype in floats and not isinstance(scalar, bool):
                if scalar == 2:
                    return legacy.mul(input, input)
                if scalar == 3:
                    return legacy.mul(legacy.mul(input, input), input)
            return original(input, scalar)

        return pow_tensor_scalar

    def reciprocal_mul(original):
        def div(input, other):
            if (isinstance(other, (int, float)) and not isinstance(other, bool) and other != 0
                    and math.isfinite(other) and abs(math.frexp(other)[0]) == 0.5
                    and getattr(input, "dtype", None) in floats):
                return legacy.mul(input, 1.0 / other)
            return original(input, other)

        return div

    def no_alpha(original):
        def sub(input, other, alpha=1):
            if alpha == 1:
                return legacy.sub(input, other)
            return original(input, other, alpha)

        return sub

    def tiled(x, shape: tuple):
        if tuple(x.shape) == shape:
            return x
        if x.ndim < len(shape):
            x = legacy.reshape(x, (1,) * (len(shape) - x.ndim) + tuple(x.shape))
        return legacy.tile(x, tuple(s // d for s, d in zip(shape, x.shape)))

    def same_shapes(original):
        def op(input, other, *args, **kwargs):
            if (isinstance(input, mindtorch.Tensor) and isinstance(other, mindtorch.Tensor)
                    and input.dtype == other.dtype and input.dtype in floats
                    and input.ndim and other.ndim and tuple(input.shape) != tuple(other.shape)):
                try:
                    shape = tuple(np.broadcast_shapes(tuple(input.shape), tuple(other.shape)))
                except ValueError:  # not broadcastable: the original raises its own error
                    shape = None
                if shape is not None and math.prod(shape) >= BROADCAST_TILE_MIN:
                    input, other = tiled(input, shape), tiled(other, shape)
            return original(input, other, *args, **kwargs)

        op.__name__ = original.__name__
        return op

    import mindspore

    host_dtypes = {
        mindtorch.bool: np.bool_, mindtorch.int8: np.int8, mindtorch.uint8: np.uint8, mindtorch.int16: np.int16,
        mindtorch.int32: np.int32, mindtorch.int64: np.int64,
        mindtorch.float16: np.float16, mindtorch.float32: np.float32, mindtorch.float64: np.float64,
    }
    exact_sources = tuple(host_dtypes)[:6]  # bool and integers: nothing to differentiate

    def on_host(original):
        def cast(input, dtype):
            if (isinstance(input, mindtorch.Tensor) and input.dtype in exact_sources and dtype in host_dtypes
                    and input.dtype != dtype and math.prod(input.shape) <= HOST_CAST_MAX):
                return mindspore.Tensor(input.asnumpy().astype(host_dtypes[dtype]))
            return original(input, dtype)

        return cast

    return {
        "cast": (on_host,),
        "addmm": (bias_add,),
        "pow_tensor_scalar": (multiplies,),
        "div": (reciprocal_mul, same_shapes),
        "sub": (no_alpha, same_shapes),
        "add": (same_shapes,),
        "mul": (same_shapes,),
    }


def install() -> None:
    """Put msgpt's CPU kernels into mindtorch (idempotent)."""
    if _ORIGINALS:
        return
    _, cpu, _ = _apis()
    for name, wrappers in _wrappers().items():
        op = _ORIGINALS[name] = getattr(cpu, name)
        for wrap in wrappers:
            op = wrap(op)
        setattr(cpu, name, op)


def uninstall() -> None:
    """Give mindtorch its own CPU ops back (idempotent)."""
    _, cpu, _ = _apis()
    for name, original in _ORIGINALS.items():
        setattr(cpu, name, original)
    _ORIGINALS.clear()


def installed() -> bool:
    """Whether msgpt's CPU kernels are in place."""
    _apis()  # importing mindnlp through msgpt installs them
    return bool(_ORIGINALS)


def original(name: str) -> Callable:
    """mindtorch's own CPU op ``name``, whether or not msgpt's replacement is installed."""
    _, cpu, _ = _apis()
    return _ORIGINALS.get(name) or getattr(cpu, name)
