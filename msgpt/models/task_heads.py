"""GPT-1's heads for inputs of several sequences each: similarity and multiple choice.

The paper (sec. 3.3) rewrites every task as token sequences for one transformer. Here
an example is ``S`` sequences, ``input_ids``/``attention_mask`` ``[batch, S, seq]``,
each ``<bos> ... <eos>`` padded on the right:

* similarity, S = 2: ``<bos> A <delim> B <eos>`` and ``<bos> B <delim> A <eos>``; the
  two final ``<eos>`` states are added element-wise, then one linear head (order-free
  by construction: a sum does not know which order came first);
* multiple choice, S = K: ``<bos> context <delim> answer_k <eos>``; one score per
  candidate from a linear head on its ``<eos>`` state, softmax over the candidates.

The transformer runs once on the ``[batch * S, seq]`` flattened sequences, so hidden
states come back flattened too (what the auxiliary LM loss reads). Both classes are
``OpenAIGPTPreTrainedModel``s with the transformer under ``transformer.``, so
``from_pretrained("openai-gpt")`` loads the pre-trained weights into them and
``save_pretrained`` writes them as HF's classifier would.
"""

from __future__ import annotations

import msgpt.backend  # noqa: F401  (mindnlp before torch/transformers)

import torch
from torch import nn
from transformers import OpenAIGPTConfig, OpenAIGPTModel, OpenAIGPTPreTrainedModel
from transformers.modeling_outputs import (
    BaseModelOutput,
    MultipleChoiceModelOutput,
    SequenceClassifierOutput,
)

#: Sequences per similarity example: A then B, and B then A.
SIMILARITY_ORDERS = 2


class _GroupedSequencesModel(OpenAIGPTPreTrainedModel):
    """The shared part: run ``[batch, S, seq]`` inputs flat, read each sequence's ``<eos>``."""

    def __init__(self, config: OpenAIGPTConfig) -> None:
        super().__init__(config)
        self.transformer = OpenAIGPTModel(config)

    def _eos_states(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None,
        output_attentions: bool | None,
        output_hidden_states: bool | None,
    ) -> tuple[torch.Tensor, BaseModelOutput]:
        """``[batch, S, hidden]`` states at each sequence's last non-pad token, and the
        transformer's outputs on the flattened ``[batch * S, seq]`` input."""
        if input_ids.ndim != 3:
            raise ValueError(
                f"{type(self).__name__} takes input_ids [batch, sequences, seq], got shape {tuple(input_ids.shape)}"
            )
        pad_id = self.config.pad_token_id
        if pad_id is None:
            raise ValueError("config.pad_token_id is not set: msgpt.prepare_model(model, tokenizer) sets it")
        batch, sequences, length = input_ids.shape
        flat_ids = input_ids.reshape(batch * sequences, length)
        flat_mask = None if attention_mask is None else attention_mask.reshape(batch * sequences, length)
        outputs = self.transformer(
            flat_ids,
            attention_mask=flat_mask,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=True,
        )
        hidden = outputs.last_hidden_state
        # As OpenAIGPTForSequenceClassification: the rightmost token that is not padding,
        # the <eos> of a right-padded sequence.
        non_pad = (flat_ids != pad_id).to(hidden.device, torch.int32)
        positions = torch.arange(length, device=hidden.device, dtype=torch.int32)
        last = (positions * non_pad).argmax(-1)
        eos = hidden[torch.arange(batch * sequences, device=hidden.device), last]
        return eos.reshape(batch, sequences, hidden.shape[-1]), outputs


class OpenAIGPTForSimilarity(_GroupedSequencesModel):
    """GPT-1 for text similarity: both orders of a pair, their ``<eos>`` states added,
    a linear head to ``config.num_labels`` classes (``score``, as HF's classifier)."""

    def __init__(self, config: OpenAIGPTConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.score = nn.Linear(config.n_embd, self.num_labels, bias=False)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
    ) -> SequenceClassifierOutput:
        """``input_ids``/``attention_mask`` ``[batch, 2, seq]`` (A-delim-B, B-delim-A),
        ``labels`` ``[batch]``: logits ``[batch, num_labels]``, cross-entropy loss."""
        if input_ids.ndim == 3 and input_ids.shape[1] != SIMILARITY_ORDERS:
            raise ValueError(
                f"similarity takes {SIMILARITY_ORDERS} sequences per example (both orders), got {input_ids.shape[1]}"
            )
        eos, outputs = self._eos_states(input_ids, attention_mask, output_attentions, output_hidden_states)
        logits = self.score(eos.sum(dim=1))
        loss = None
        if labels is not None:
            loss = nn.functional.cross_entropy(logits.view(-1, self.num_labels), labels.view(-1).long())
        return SequenceClassifierOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )


class OpenAIGPTForMultipleChoice(_GroupedSequencesModel):
    """GPT-1 for multiple choice: one score per candidate from its ``<eos>`` state
    (``score``, a linear ``n_embd -> 1``), softmax over the candidates.

    Any number of candidates K works; ``config.num_labels`` is the K the model was
    built for (``msgpt.models.classifier.build_model``), which is what predictions are sized by.
    """

    def __init__(self, config: OpenAIGPTConfig) -> None:
        super().__init__(config)
        # No bias: one added to every candidate's score cancels in the softmax.
        self.score = nn.Linear(config.n_embd, 1, bias=False)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
    ) -> MultipleChoiceModelOutput:
        """``input_ids``/``attention_mask`` ``[batch, K, seq]`` (context-delim-candidate k),
        ``labels`` ``[batch]`` (the right candidate's index): logits ``[batch, K]``,
        cross-entropy over the candidates."""
        eos, outputs = self._eos_states(input_ids, attention_mask, output_attentions, output_hidden_states)
        logits = self.score(eos).squeeze(-1)
        loss = None
        if labels is not None:
            loss = nn.functional.cross_entropy(logits, labels.view(-1).long())
        return MultipleChoiceModelOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )
