"""GPT-1's transformer blocks, and gradient clipping, as compiled MindSpore graphs.

mindnlp runs HF's ``Block.forward`` op by op: each torch op of mindtorch is a Python
dispatch and one MindSpore kernel launch (PyNative). Here the whole block (attention
with its causal and padding masks, MLP with GELU, both LayerNorms, the residuals and
dropout) is one ``mindspore.jit`` function of MindSpore primitives, called on the
block's own parameters. A mindtorch tensor is a ``mindspore.Tensor`` and mindtorch's
``autograd.value_and_grad`` is MindSpore's, so the Trainer's step differentiates the
graph like any other op: the gradients land on the same parameters.

The graph computes what HF's block computes, in a formulation that suits MindSpore's
CPU kernels (each choice measured at the demo's and GPT-1's shapes):

- q, k and v come out of one MatMul + BiasAdd and one transpose, split along the
  leading axis (a contiguous split; indexing the 5-D tensor cost 2 ms a slice);
- the causal and padding masks are added as one additive mask, tiled to the score
  shape and cut off from the gradient: MindSpore's CPU kernels broadcast ~5x slower than
  they add same-shape tensors, and HF's ``w * b + -1e4 * (1 - b) + mask`` costs three
  broadcasts. The values are HF's wherever a query can see a real key, which is every
  row with padding on the right (msgpt pads right); the gradients are HF's;
- attention runs on ``(batch * heads, T, D)`` with transposed-operand batched matmuls;
- LayerNorm is MatMuls (row means against a column of ``1/width``, spread back by a
  row of ones) and same-shape kernels: MindSpore's LayerNorm and LayerNormGrad kernels
  cost 2-3x as much (10x on the demo's 64-wide rows), and autodiff of these ops gives
  the gradient.

Logits and gradients equal the op-by-op path's to float32 rounding
(``tests/backend/test_compiled.py``).

``clip_by_global_norm`` is the Trainer's gradient clipping (``max_grad_norm``) as one
graph: the squared sums, the norm and the scaling of every gradient in one launch
instead of three kernels per parameter.

What the block graph does not cover goes to HF's forward, unchanged: head masks,
returned attention weights, pruned heads, activations other than GELU (GPT-1's) and
ReLU, dtypes other than float32, attention masks not shaped ``(batch, 1, 1, T)``,
tensors not on the CPU, projections that are not HF's own ``Conv1D`` (a LoRA adapter's
wrapper, whose weights the graph would bypass), and anything run under autocast (``--precision fp16/bf16``: the
graph would compute in float32 what autocast computes in half precision). Ascend and
GPU keep mindnlp's op-by-op path: this module has only been run on the CPU
(``tests/backend/test_compiled.py`` is what to run there first).

Each new input shape compiles once (about 0.3 s for a 64-wide block, 1-2 s for GPT-1's);
``msgpt.data`` rounds padded lengths up to a multiple of ``LENGTH_MULTIPLE`` on CPU/GPU
so few shapes occur. ``compile_stats()`` reports the first calls separately.

On by default after ``import msgpt``; ``MSGPT_COMPILE=0`` in the environment (read at
import) or ``msgpt.backend.compiled.uninstall()`` gives HF's forward and msgpt's op-by-op
clipping back.
"""

from __future__ import annotations

import functools
import itertools
import math
import time
from dataclasses import dataclass
from typing import Any, Callable

from msgpt.runtime.switches import switch_on

#: Environment variable: ``0`` keeps HF's op-by-op forward.
ENV_SWITCH = "MSGPT_COMPILE"

_ORIGINAL: dict[str, Callable] = {}
_SEEN_SHAPES: set[tuple] = set()
_GRAPH_NUMBERS = itertools.count()


@dataclass
class CompileStats:
    """First calls of the compiled blocks at each new shape (compile + one run)."""

    shapes: int = 0
    seconds: float = 0.0
    calls: int = 0
    fallbacks: int = 0


_STATS = CompileStats()


def compile_stats() -> CompileStats:
    """How many block shapes compiled, the seconds their first calls took, and how many
    block calls ran compiled (``calls``) or fell back to HF's forward (``fallbacks``)."""
    return CompileStats(**vars(_STATS))


def requested() -> bool:
    """Whether the environment leaves the compiled path on (``MSGPT_COMPILE`` != ``0``)."""

    return switch_on(ENV_SWITCH)


def _modeling():
    from transformers.models.openai import modeling_openai

    return modeling_openai


def install() -> None:
    """Run GPT-1's blocks as compiled graphs where they are covered (idempotent)."""
    if _ORIGINAL:
        return
    block = _modeling().Block
    _ORIGINAL["forward"] = block.forward
    block.forward = compiled_forward


def uninstall() -> None:
    """Give HF's ``Block.forward`` back (idempotent)."""
    if _ORIGINAL:
        _modeling().Block.forward = _ORIGINAL.pop("forward")


def installed() -> bool:
    """Whether ``Block.forward`` is msgpt's compiled one."""
    return bool(_ORIGINAL)


def original_forward() -> Callable:
    """HF's ``Block.forward``, whether or not the compiled one is installed."""
    return _ORIGINAL.get("forward") or _modeling().Block.forward


# -- the graph --------------------------------------------------------------------------
@functools.cache
def _block_graph(n_head: int, head: int, scale: bool, eps_1: float, eps_2: float, activation: str,
                 dropout: tuple[float, float, float], masked: bool) -> Callable:
    """A jitted ``(x, mask, causal, to_mean, to_row, *parameters) -> hidden states`` for
    one block configuration (one graph per input shape inside it).

    ``dropout`` = (attention, residual, MLP) probabilities, all 0 outside training.
    """
    import mindspore

    block = block_function(n_head, head, scale, eps_1, eps_2, activation, dropout, masked)
    # MindSpore names a compiled function by its Python name and warns when "the same"
    # function compiles again; each configuration is its own graph here.
    block.__name__ = block.__qualname__ = f"gpt1_block_{next(_GRAPH_NUMBERS)}"
    return mindspore.jit(block, capture_mode="ast", jit_level="O0")


def block_function(n_head: int, head: int, scale: bool, eps_1: float, eps_2: float, activation: str,
                   dropout: tuple[float, float, float], masked: bool) -> Callable:
    """The block as a plain function of MindSpore primitives, ``(x, mask, causal, to_mean,
    to_row, *parameters) -> hidden states``: jitted for training (``_block_graph``) and
    called from a whole-model ``Cell`` for export (``msgpt.inference.graph``)."""
    from mindspore import ops
    from mindspore.ops import operations as P

    matmul, bias_add, batch_matmul = P.MatMul(), P.BiasAdd(), P.BatchMatMul()
    batch_matmul_bt = P.BatchMatMul(transpose_b=True)
    reshape, transpose, tile, cut, expand = P.Reshape(), P.Transpose(), P.Tile(), P.Slice(), P.ExpandDims()
    split3 = P.Split(0, 3)
    mul, add, sub, div, tanh, relu, rsqrt = P.Mul(), P.Add(), P.Sub(), P.RealDiv(), P.Tanh(), P.ReLU(), P.Rsqrt()
    softmax = P.Softmax(-1)
    stop_gradient = ops.stop_gradient
    p_attn, p_resid, p_mlp = dropout
    drop_attn = P.Dropout(keep_prob=1.0 - p_attn) if p_attn > 0 else None
    drop_resid = P.Dropout(keep_prob=1.0 - p_resid) if p_resid > 0 else None
    drop_mlp = P.Dropout(keep_prob=1.0 - p_mlp) if p_mlp > 0 else None
    gelu_c = math.sqrt(2.0 / math.pi)
    root = math.sqrt(head)
    # A power of two: multiply by its exact inverse, as msgpt.backend.cpu_ops divides (same bits).
    inverse_root = 1.0 / root if math.frexp(root)[0] == 0.5 else None

    def layer_norm(x, gain, bias, eps, to_mean, to_row):
        # (x - mean) / sqrt(var + eps) * gain + bias over the last axis, from matmuls and
        # same-shape kernels: MindSpore's CPU LayerNorm (and its grad) cost several times
        # as much, most on narrow rows. Row means are MatMuls with a (width, 1) column of
        # 1/width, spread back over the row by a (1, width) row of ones.
        centred = sub(x, matmul(matmul(x, to_mean), to_row))
        variance = matmul(mul(centred, centred), to_mean)
        normed = mul(centred, matmul(rsqrt(add(variance, eps)), to_row))
        return bias_add(mul(normed, tile(expand(gain, 0), (x.shape[0], 1))), bias)

    def block(x, mask, causal, to_mean, to_row, w_attn, b_attn, w_attn_proj, b_attn_proj, g_1, b_1,
              w_fc, b_fc, w_mlp_proj, b_mlp_proj, g_2, b_2):
        batch, length, width = x.shape
        rows = reshape(x, (batch * length, width))
        qkv = reshape(bias_add(matmul(rows, w_attn), b_attn), (batch, length, 3, n_head, head))
        qkv = reshape(transpose(qkv, (2, 0, 3, 1, 4)), (3, batch * n_head, length, head))
        q, k, v = split3(qkv)
        q = reshape(q, (batch * n_head, length, head))
        k = reshape(k, (batch * n_head, length, head))
        v = reshape(v, (batch * n_head, length, head))
        if scale and inverse_root is not None:
            # Scaling q by an exact power of two gives the same bits as scaling the
            # scores, on a tensor `length / head` times smaller, forward and backward.
            q = mul(q, inverse_root)
        scores = batch_matmul_bt(q, k)
        if scale and inverse_root is None:
            scores = div(scores, root)
        # HF: w * b + -1e4 * (1 - b) + mask; here one additive mask (see the module doc).
        visible = cut(causal, (0, 0, 0, 0), (1, 1, length, length))
        additive = mul(-1e4, sub(1.0, visible))
        if masked:
            additive = add(additive, mask)
        else:
            additive = tile(additive, (batch, 1, 1, 1))
        additive = stop_gradient(reshape(tile(additive, (1, n_head, 1, 1)), (batch * n_head, length, length)))
        probs = softmax(add(scores, additive))
        if drop_attn is not None:
            probs, _ = drop_attn(probs)
        heads = reshape(batch_matmul(probs, v), (batch, n_head, length, head))
        merged = reshape(transpose(heads, (0, 2, 1, 3)), (batch * length, width))
        a = bias_add(matmul(merged, w_attn_proj), b_attn_proj)
        if drop_resid is not None:
            a, _ = drop_resid(a)
        n = layer_norm(add(rows, a), g_1, b_1, eps_1, to_mean, to_row)
        h = bias_add(matmul(n, w_fc), b_fc)
        if activation == "gelu":  # HF's NewGELUActivation, op for op
            h = mul(mul(0.5, h), add(1.0, tanh(mul(gelu_c, add(h, mul(0.044715, mul(mul(h, h), h)))))))
        else:
            h = relu(h)
        m = bias_add(matmul(h, w_mlp_proj), b_mlp_proj)
        if drop_mlp is not None:
            m, _ = drop_mlp(m)
        out = layer_norm(add(n, m), g_2, b_2, eps_2, to_mean, to_row)
        return reshape(out, (batch, length, width))

    return block


@functools.cache
def averaging(width: int) -> tuple:
    """The (width, 1) column of 1/width and (1, width) row of ones ``layer_norm`` uses."""
    import numpy as np
    from mindspore import Tensor

    return Tensor(np.full((width, 1), 1.0 / width, np.float32)), Tensor(np.ones((1, width), np.float32))


def block_activation(block: Any) -> str | None:
    """``"gelu"`` (HF's NewGELU, GPT-1's) or ``"relu"``: the activations the graph computes; else None."""
    import torch
    from transformers.activations import NewGELUActivation

    act = block.mlp.act
    if isinstance(act, NewGELUActivation):
        return "gelu"
    if isinstance(act, torch.nn.ReLU):
        return "relu"
    return None


def autocasting() -> bool:
    """Whether an autocast region (``torch.autocast``) is active: mindtorch's autocast
    pushes a MindSpore AMP strategy, which casts PyNative ops but not this module's graphs."""
    from mindspore._c_expression.amp import AmpLevel, get_curr_amp_strategy

    strategy = get_curr_amp_strategy()
    return strategy is not None and strategy.get_amp_level() != AmpLevel.AmpO0


def _plain_layers(block: Any) -> bool:
    """Whether the block's projections are HF's own ``Conv1D``s: the graph reads their
    weights directly, so a wrapped layer (a LoRA adapter of peft, say) would be bypassed."""
    from transformers.pytorch_utils import Conv1D

    attn, mlp = block.attn, block.mlp
    return all(type(layer) is Conv1D for layer in (attn.c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj))


def _covered(block: Any, x: Any, attention_mask: Any, head_mask: Any, output_attentions: bool,
             activation: str | None, parameters: tuple) -> bool:
    """Whether the graph computes exactly what HF's forward would for these arguments
    (``activation`` and ``parameters``: the block's, from ``block_activation``/``block_parameters``)."""
    import torch

    attn = block.attn
    if head_mask is not None or output_attentions or attn.pruned_heads or x.ndim != 3:
        return False
    if not _plain_layers(block):
        return False
    if x.dtype != torch.float32 or x.device.type != "cpu" or activation is None or autocasting():
        return False
    if attn.split_size != x.shape[-1] or x.shape[-1] % attn.n_head:
        return False
    if attention_mask is not None and (
        attention_mask.dtype != torch.float32 or tuple(attention_mask.shape) != (x.shape[0], 1, 1, x.shape[1])
    ):
        return False
    return all(p.dtype == torch.float32 for p in parameters)


def block_parameters(block: Any) -> tuple:
    """The block's weights in the order the graph takes them."""
    attn, mlp = block.attn, block.mlp
    return (
        attn.c_attn.weight, attn.c_attn.bias, attn.c_proj.weight, attn.c_proj.bias,
        block.ln_1.weight, block.ln_1.bias, mlp.c_fc.weight, mlp.c_fc.bias,
        mlp.c_proj.weight, mlp.c_proj.bias, block.ln_2.weight, block.ln_2.bias,
    )


# -- the language-modelling loss ---------------------------------------------------------
@functools.cache
def _next_token_graph(masked: bool) -> Callable:
    """A jitted ``(hidden, weight, input_ids, mask) -> mean next-token loss``."""
    import mindspore
    from mindspore import ops
    from mindspore.ops import operations as P

    matmul_bt, cut, reshape, tile, cast = P.MatMul(transpose_b=True), P.Slice(), P.Reshape(), P.Tile(), P.Cast()
    mul, sub, div, maximum, reduce_sum = P.Mul(), P.Sub(), P.RealDiv(), P.Maximum(), P.ReduceSum()
    cross_entropy = P.SparseSoftmaxCrossEntropyWithLogits()

    def next_token_loss(hidden, weight, input_ids, mask):
        batch, length, width = hidden.shape
        rows = batch * (length - 1)
        # Position t predicts token t + 1.
        h = reshape(cut(hidden, (0, 0, 0), (batch, length - 1, width)), (rows, width))
        targets = reshape(cast(cut(input_ids, (0, 1), (batch, length - 1)), mindspore.int32), (rows,))
        if not masked:
            return cross_entropy(matmul_bt(h, weight), targets)
        # A padded target's row of h is zeroed: its logits are then all 0, its loss exactly
        # log(vocab) and its gradient into h and the weight 0. The fused kernel's mean over
        # all rows, less those constants, over the real targets is the masked mean.
        keep = ops.stop_gradient(reshape(cast(cut(mask, (0, 1), (batch, length - 1)), mindspore.float32), (rows, 1)))
        h = mul(h, tile(keep, (1, width)))
        total = mul(cross_entropy(matmul_bt(h, weight), targets), float(rows))
        real = reduce_sum(keep)
        padding_loss = mul(sub(float(rows), real), math.log(weight.shape[0]))
        return div(sub(total, padding_loss), maximum(real, 1.0))

    next_token_loss.__name__ = next_token_loss.__qualname__ = f"next_token_loss_{next(_GRAPH_NUMBERS)}"
    return mindspore.jit(next_token_loss, capture_mode="ast", jit_level="O0")


def next_token_loss(hidden: Any, weight: Any, input_ids: Any, attention_mask: Any = None) -> Any | None:
    """The mean next-token cross-entropy of ``hidden`` ``(batch, T, width)`` through the
    LM head ``weight`` ``(vocab, width)``, over targets where ``attention_mask`` is 1, as
    one compiled graph around MindSpore's fused softmax cross-entropy kernel; or ``None``
    where it is not used (compiled path off, not float32 CPU tensors, T < 2, autocast).

    The op-by-op path (``msgpt.training.lm_loss``) materialises the log-probabilities and
    their gradient as separate kernels over the ``(rows, vocab)`` logits, which made
    the loss three quarters of a pre-training step of the demo model.
    """
    import torch

    if not installed() or hidden.ndim != 3 or hidden.shape[1] < 2 or autocasting():
        return None
    if any(t.dtype != torch.float32 or t.device.type != "cpu" for t in (hidden, weight)):
        return None
    graph = _next_token_graph(attention_mask is not None)
    (weight_input,) = _as_inputs((weight,))
    loss = graph(hidden, weight_input, input_ids, input_ids if attention_mask is None else attention_mask)
    loss._device = hidden.device
    return loss


# -- gradient clipping -----------------------------------------------------------------
@functools.cache
def _clip_graph() -> Callable:
    """A jitted ``(grads, max_norm) -> (norm, clipped grads)``: PyTorch's clipping rule."""
    import mindspore
    from mindspore.ops import operations as P

    mul, add_n, sqrt, reduce_sum, minimum = P.Mul(), P.AddN(), P.Sqrt(), P.ReduceSum(), P.Minimum()

    def clip(grads, max_norm):
        squares = []
        for grad in grads:
            square = mul(grad, grad)
            # The last axis first: a reduction over all axes at once is slower on CPU.
            squares.append(reduce_sum(reduce_sum(square, -1)) if square.ndim > 1 else reduce_sum(square))
        norm = sqrt(add_n(squares))
        scale = minimum(max_norm / (norm + 1e-6), 1.0)
        return norm, tuple(mul(grad, scale) for grad in grads)

    clip.__name__ = clip.__qualname__ = "clip_by_global_norm"
    return mindspore.jit(clip, capture_mode="ast", jit_level="O0")


def clip_by_global_norm(grads: list, max_norm: float) -> tuple[Any, list] | None:
    """``(norm, grads scaled by min(1, max_norm / (norm + 1e-6)))`` from one compiled
    graph (one launch instead of three kernels per gradient), or ``None`` where the
    graph is not used: compiled path off, gradients not all float32 CPU tensors."""
    import torch

    if not (installed() and grads) or any(g.dtype != torch.float32 or g.device.type != "cpu" for g in grads):
        return None
    import mindspore

    # mutable: a plain tuple of tensors is a compile-time constant (a new graph per call).
    norm, clipped = _clip_graph()(mindspore.mutable(tuple(grads)), mindspore.Tensor(float(max_norm), mindspore.float32))
    device = grads[0].device
    norm._device = device
    for grad in clipped:
        grad._device = device
    return norm, list(clipped)


def _differentiating() -> bool:
    """Whether MindSpore is recording for a gradient (it compiles a graph apart for that)."""
    from mindspore.common.api import _pynative_executor  # private; the name jit's own cache uses

    return bool(_pynative_executor.requires_grad())


def _as_inputs(parameters: tuple) -> tuple:
    """The parameters as plain tensors (a no-copy reshape each), the gradient flowing back.

    A ``Parameter`` given to a jitted function is bound into the compiled graph as a
    weight: MindSpore then compiles one graph per parameter set (per block), and after
    ``param.data = ...`` (``Module.to``, which HF's Trainer runs before evaluating) the
    graphs of different blocks were seen to end up on one shared weight buffer.
    Ordinary inputs are neither: one graph serves every block of a shape.
    """
    reshape = _reshape()
    return tuple(reshape(p, p.shape) for p in parameters)


@functools.cache
def _reshape() -> Callable:
    from mindspore.ops import operations as P

    return P.Reshape()


def compiled_forward(self: Any, x: Any, attention_mask: Any = None, head_mask: Any = None,
                     output_attentions: bool = False) -> list:
    """``Block.forward`` as one compiled graph, or HF's where the graph does not cover it."""
    activation, parameters = block_activation(self), block_parameters(self)
    if not _covered(self, x, attention_mask, head_mask, output_attentions, activation, parameters):
        _STATS.fallbacks += 1
        return original_forward()(self, x, attention_mask, head_mask, output_attentions)
    attn, mlp = self.attn, self.mlp
    dropout = (attn.attn_dropout.p, attn.resid_dropout.p, mlp.dropout.p) if self.training else (0.0, 0.0, 0.0)
    key = (attn.n_head, x.shape[-1] // attn.n_head, bool(attn.scale), self.ln_1.eps, self.ln_2.eps,
           activation, dropout, attention_mask is not None)
    graph = _block_graph(*key)
    shape_key = key + (tuple(x.shape), _differentiating())
    first = shape_key not in _SEEN_SHAPES
    start = time.perf_counter() if first else 0.0
    out = graph(x, x if attention_mask is None else attention_mask, attn.bias, *averaging(x.shape[-1]),
                *_as_inputs(parameters))
    # A tensor made by MindSpore lacks the device mindtorch keeps in a Python attribute.
    out._device = x.device
    _STATS.calls += 1
    if first:
        _SEEN_SHAPES.add(shape_key)
        _STATS.shapes += 1
        _STATS.seconds += time.perf_counter() - start
    return [out]
