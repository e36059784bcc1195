"""msgpt.predict for the paper's other inputs: pairs, similarity pairs, multiple choice."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import make_texts

import msgpt
from msgpt.inference.predictions import pad_right
from msgpt.tokens.inputs import encode_pairs

TEXTS = make_texts(5, seed=1)
PAIRS = make_texts(5, seed=2, max_words=60)
CANDIDATES = [tuple(make_texts(3, seed=10 + i)) for i in range(5)]


def _model(tiny_config, tokenizer, task, num_labels=2):
    msgpt.add_special_tokens(tokenizer, delimiter=True)
    torch.manual_seed(0)
    return msgpt.build_model(tiny_config, tokenizer, num_labels=num_labels, task=task).eval()


def test_pair_predictions_are_the_model_on_the_pair_encoding(tiny_config, tokenizer):
    model = _model(tiny_config, tokenizer, "pair", num_labels=3)
    got = msgpt.predict(TEXTS, model, tokenizer, text_pairs=PAIRS, batch_size=2, max_length=40)
    for i, (a, b) in enumerate(zip(TEXTS, PAIRS)):
        ids, mask = pad_right(encode_pairs(tokenizer, [a], [b], 40), tokenizer.pad_token_id)
        with torch.no_grad():
            logits = model(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask)).logits
        expected = torch.softmax(logits, dim=-1).numpy()[0]
        np.testing.assert_allclose(got.probabilities[i], expected, atol=1e-5)
    assert got.probabilities.shape == (5, 3)
    assert (got.labels == got.probabilities.argmax(axis=1)).all()


def test_similarity_predictions_do_not_depend_on_the_order_of_the_pair(tiny_config, tokenizer):
    model = _model(tiny_config, tokenizer, "similarity")
    forward = msgpt.predict(TEXTS, model, tokenizer, text_pairs=PAIRS, batch_size=2)
    backward = msgpt.predict(PAIRS, model, tokenizer, text_pairs=TEXTS, batch_size=3)
    np.testing.assert_allclose(forward.probabilities, backward.probabilities, atol=1e-5)


def test_choice_probabilities_are_over_the_candidates_whatever_their_order(tiny_config, tokenizer, tmp_path):
    model = _model(tiny_config, tokenizer, "choice", num_labels=3)
    got = msgpt.predict(TEXTS, model, tokenizer, candidates=CANDIDATES, batch_size=2)
    assert got.probabilities.shape == (5, 3) and got.label_names is None
    np.testing.assert_allclose(got.probabilities.sum(axis=1), 1.0, atol=1e-5)
    permutation = [2, 0, 1]
    shuffled = [tuple(row[j] for j in permutation) for row in CANDIDATES]
    again = msgpt.predict(TEXTS, model, tokenizer, candidates=shuffled, batch_size=4)
    np.testing.assert_allclose(again.probabilities, got.probabilities[:, permutation], atol=1e-5)
    # A saved folder predicts the same, its task read back from the config.
    msgpt.save_pretrained(model, tokenizer, tmp_path / "choice", max_seq_len=64)
    loaded = msgpt.predict(TEXTS, tmp_path / "choice", candidates=CANDIDATES)
    np.testing.assert_allclose(loaded.probabilities, got.probabilities, atol=1e-5)


@pytest.mark.parametrize("task, kwargs, message", [
    ("pair", {}, "a 'pair' model reads text_pairs"),
    ("choice", dict(text_pairs=PAIRS), "a 'choice' model does not read text_pairs"),
    ("single", dict(text_pairs=PAIRS), "a 'single' model does not read text_pairs"),
    ("similarity", dict(text_pairs=PAIRS[:2]), "5 texts but 2 text pairs"),
    ("choice", dict(candidates=[("a", "b")] * 4 + [("a", "b", "c")]), "same number"),
])
def test_inputs_that_do_not_fit_the_model_are_refused(tiny_config, tokenizer, task, kwargs, message):
    model = _model(tiny_config, tokenizer, task)
    with pytest.raises(ValueError, match=message):
        msgpt.predict(TEXTS, model, tokenizer, **kwargs)
