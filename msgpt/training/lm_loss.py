"""GPT-1's auxiliary language-modelling loss for fine-tuning (the paper's λ·L1).

The paper fine-tunes on ``L3 = L2 + λ * L1``: the classification loss plus λ times the
next-token loss of the same inputs, through an LM head tied to the token embeddings.
``lm_loss`` computes L1 from the transformer's last hidden state, so the classifier's
forward pass serves both losses.
"""

from __future__ import annotations

import msgpt.backend  # noqa: F401  (mindnlp before torch/transformers)

import torch
import torch.nn.functional as F


def lm_loss(
    hidden_states: torch.Tensor,
    token_embeddings: torch.Tensor,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mean next-token cross-entropy over the real (non-pad) target tokens of a batch.

    ``hidden_states`` ``(batch, seq, hidden)`` is the last layer's output,
    ``token_embeddings`` ``(vocab, hidden)`` the input embedding matrix (the tied LM head:
    ``logits = hidden_states @ token_embeddings.T``). Position ``t`` predicts token
    ``t + 1``; targets where ``attention_mask`` is 0 (padding) are left out. The mean is
    over all counted tokens of the batch, as HF's LM heads average. On the CPU this is
    one compiled graph (``msgpt.backend.compiled.next_token_loss``); below, the op-by-op reference.
    """
    from msgpt.backend import compiled

    fused = compiled.next_token_loss(hidden_states, token_embeddings, input_ids, attention_mask)
    if fused is not None:
        return fused
    logits = torch.matmul(hidden_states[:, :-1, :], token_embeddings.t())
    targets = input_ids[:, 1:].long()
    losses = F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="none"
    ).reshape(targets.shape)
    if attention_mask is None:
        return losses.mean()
    mask = attention_mask[:, 1:].to(losses.dtype)
    # clamp: a batch with no target token gives 0, not 0/0 (and needs no host check).
    return (losses * mask).sum() / torch.clamp(mask.sum(), min=1.0)


def lm_loss_of_model(model: torch.nn.Module, hidden_states: torch.Tensor, inputs: dict) -> torch.Tensor:
    """``lm_loss`` with the head tied to ``model``'s input embeddings.

    Inputs of several sequences per example (``[batch, S, seq]``: similarity, multiple
    choice) are flattened to ``[batch * S, seq]``, as the transformer ran them and as
    ``hidden_states`` are: every sequence counts as one of the batch.
    """
    input_ids, attention_mask = inputs["input_ids"], inputs.get("attention_mask")
    if input_ids.ndim == 3:
        input_ids = input_ids.reshape(-1, input_ids.shape[-1])
        if attention_mask is not None:
            attention_mask = attention_mask.reshape(-1, attention_mask.shape[-1])
    return lm_loss(hidden_states, model.get_input_embeddings().weight, input_ids, attention_mask)
