"""A trained classifier as one MindSpore ``Cell``: what ``mindspore.export`` writes as MindIR.

mindnlp 0.5.1's models are mindtorch modules, not ``Cell``s, and cannot be exported. Here
the whole forward of inference is MindSpore primitives on ``Parameter`` copies of the
model's weights: token and position embeddings, GPT-1's blocks (the same function the
training path compiles, ``msgpt.backend.compiled.block_function``, without dropout), the
``<eos>`` state of each sequence (its rightmost token that is not padding, as HF's
classifier reads it) and the linear head. Every task form is covered:

- ``single`` and ``pair``: inputs ``[batch, seq]``, logits ``[batch, num_labels]``;
- ``similarity``: inputs ``[batch, 2, seq]`` (both orders), the two ``<eos>`` states
  summed, logits ``[batch, num_labels]``;
- ``choice``: inputs ``[batch, K, seq]``, one score per candidate, logits ``[batch, K]``.

The logits equal the mindtorch model's to float32 rounding (``tests/inference/test_export.py``).
"""

from __future__ import annotations

from typing import Any

import msgpt.backend  # noqa: F401  (mindnlp before torch/transformers)
from msgpt.backend.compiled import averaging, block_activation, block_function, block_parameters

import numpy as np
from transformers import PreTrainedModel

from msgpt.models.folder import trained_task

#: The ``input_ids`` rank each task's graph takes (batch, [sequences,] length).
INPUT_RANK = {"single": 2, "pair": 2, "similarity": 3, "choice": 3}


def _parameter(tensor: Any, name: str) -> Any:
    import mindspore

    return mindspore.Parameter(mindspore.Tensor(tensor.detach().float().numpy().copy()), name=name, requires_grad=False)


def _check_exportable(model: PreTrainedModel) -> str:
    """The model's task, or a ``ValueError`` naming what the graph does not compute."""
    from msgpt.models.lora import is_lora_model

    if is_lora_model(model):
        raise ValueError("a LoRA model: merge its adapter into the weights first (msgpt.merge_lora)")
    if not hasattr(model, "score") or not hasattr(model, "transformer"):
        raise ValueError(f"{type(model).__name__} is not a GPT-1 classifier (no transformer and score head)")
    task = trained_task(model.config)
    if task not in INPUT_RANK:
        raise ValueError(f"unknown task {task!r}: the graph computes {', '.join(INPUT_RANK)}")
    if model.config.pad_token_id is None:
        raise ValueError("config.pad_token_id is not set: the head reads the last token that is not padding")
    transformer = model.transformer
    for index, block in enumerate(transformer.h):
        if block_activation(block) is None:
            raise ValueError(f"block {index}: activation {model.config.afn!r} is not GELU or ReLU")
        if block.attn.pruned_heads:
            raise ValueError(f"block {index} has pruned heads")
    if getattr(model.score, "bias", None) is not None:
        raise ValueError("the head has a bias, which GPT-1's classifier heads do not")
    return task


def classifier_cell(model: PreTrainedModel) -> Any:
    """A ``mindspore.nn.Cell`` computing ``model``'s logits from ``(input_ids, attention_mask)``
    (int32, right-padded), with copies of its weights: a ``ValueError`` names what it cannot
    compute (a LoRA model before merging, an unknown task, another activation)."""
    import mindspore
    from mindspore import nn
    from mindspore.ops import operations as P

    task = _check_exportable(model)
    config, transformer = model.config, model.transformer
    width, heads = config.n_embd, config.n_head
    first = transformer.h[0]
    block = block_function(
        heads, width // heads, bool(first.attn.scale), first.ln_1.eps, first.ln_2.eps, block_activation(first),
        (0.0, 0.0, 0.0), True,
    )
    to_mean, to_row = averaging(width)
    causal = mindspore.Tensor(first.attn.bias.float().numpy().copy())
    pad_id = int(config.pad_token_id)
    min_value = float(np.finfo(np.float32).min)

    gather, reshape, cast, cut, expand = P.Gather(), P.Reshape(), P.Cast(), P.Slice(), P.ExpandDims()
    add, sub, mul, not_equal, argmax = P.Add(), P.Sub(), P.Mul(), P.NotEqual(), P.Argmax(-1, mindspore.int32)
    matmul_bt, reduce_sum, tile = P.MatMul(transpose_b=True), P.ReduceSum(), P.Tile()
    gather_rows, stack = P.GatherNd(), P.Stack(-1)

    class Block(nn.Cell):
        def __init__(self, index: int, module: Any) -> None:
            super().__init__()
            prefix = f"transformer.h.{index}."
            names = ("attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight", "attn.c_proj.bias",
                     "ln_1.weight", "ln_1.bias", "mlp.c_fc.weight", "mlp.c_fc.bias",
                     "mlp.c_proj.weight", "mlp.c_proj.bias", "ln_2.weight", "ln_2.bias")
            self.weights = mindspore.ParameterTuple(
                [_parameter(p, prefix + name) for p, name in zip(block_parameters(module), names)]
            )

        def construct(self, x, mask):
            return block(x, mask, causal, to_mean, to_row, *self.weights)

    class Classifier(nn.Cell):
        def __init__(self) -> None:
            super().__init__()
            self.tokens_embed = _parameter(transformer.tokens_embed.weight, "transformer.tokens_embed.weight")
            self.positions_embed = _parameter(transformer.positions_embed.weight, "transformer.positions_embed.weight")
            self.blocks = nn.CellList([Block(i, module) for i, module in enumerate(transformer.h)])
            self.score = _parameter(model.score.weight, "score.weight")

        def construct(self, input_ids, attention_mask):
            length = input_ids.shape[-1]
            ids = reshape(input_ids, (-1, length))
            rows = ids.shape[0]
            positions = cut(self.positions_embed, (0, 0), (length, width))
            hidden = add(gather(self.tokens_embed, ids, 0), positions)
            # HF's additive padding mask: 0 where a key is real, float32's lowest where it is padding.
            mask = cast(reshape(attention_mask, (rows, 1, 1, length)), mindspore.float32)
            mask = mul(sub(1.0, mask), min_value)
            for layer in self.blocks:
                hidden = layer(hidden, mask)
            # The <eos> state: the rightmost position whose token is not padding.
            real = cast(not_equal(ids, pad_id), mindspore.int32)
            index = mindspore.numpy.arange(length, dtype=mindspore.int32)
            last = argmax(mul(tile(expand(index, 0), (rows, 1)), real))
            row = mindspore.numpy.arange(rows, dtype=mindspore.int32)
            eos = gather_rows(hidden, stack((row, last)))
            if task == "similarity":  # both orders' states summed, as OpenAIGPTForSimilarity
                eos = reduce_sum(reshape(eos, (input_ids.shape[0], input_ids.shape[1], width)), 1)
            logits = matmul_bt(eos, self.score)
            if task == "choice":  # one score per candidate
                logits = reshape(logits, (input_ids.shape[0], input_ids.shape[1]))
            return logits

    return Classifier()
