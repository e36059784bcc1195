"""GPT-1's auxiliary LM loss: the formula, the Trainer's sum, and its effect on gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from training_helpers import batch_tensors, separable_rows, tiny_classifier

from msgpt.training import make_trainer, training_arguments
from msgpt.training.lm_loss import lm_loss

LM_COEF = 0.5


def _numpy_lm_loss(hidden, embeddings, ids, mask):
    logits = hidden[:, :-1] @ embeddings.T
    logits = logits - logits.max(-1, keepdims=True)
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    targets = ids[:, 1:]
    nll = -np.take_along_axis(log_probs, targets[..., None], -1)[..., 0]
    weights = mask[:, 1:].astype(np.float64)
    return float((nll * weights).sum() / weights.sum())


def test_lm_loss_matches_numpy_and_ignores_padding():
    rng = np.random.default_rng(0)
    hidden = rng.normal(size=(3, 6, 4)).astype(np.float32)
    embeddings = rng.normal(size=(11, 4)).astype(np.float32)
    ids = rng.integers(0, 11, size=(3, 6)).astype(np.int32)
    mask = np.array([[1] * 6, [1] * 4 + [0] * 2, [1] * 2 + [0] * 4], dtype=np.int32)
    got = float(lm_loss(torch.tensor(hidden), torch.tensor(embeddings), torch.tensor(ids), torch.tensor(mask)))
    assert got == pytest.approx(_numpy_lm_loss(hidden, embeddings, ids, mask), rel=1e-5)
    # What sits at padded targets does not matter.
    ids_other_pad = ids.copy()
    ids_other_pad[mask == 0] = 0
    again = lm_loss(torch.tensor(hidden), torch.tensor(embeddings), torch.tensor(ids_other_pad), torch.tensor(mask))
    assert float(again) == pytest.approx(got, rel=1e-6)


@pytest.fixture()
def setup(tokenizer, tmp_path):
    rows = separable_rows(tokenizer, 4, seed=3)
    args = training_arguments(
        str(tmp_path), eval_strategy="no", save_strategy="no", load_best_model_at_end=False,
        metric_for_best_model=None, per_device_train_batch_size=4, disable_tqdm=True,
    )
    return rows, args


def _trainer(tokenizer, args, lm_coef):
    return make_trainer(tiny_classifier(tokenizer), tokenizer, None, None, args, lm_coef=lm_coef)


def test_trainer_loss_is_classification_plus_lambda_lm(tokenizer, setup):
    rows, args = setup
    trainer = _trainer(tokenizer, args, LM_COEF)
    model, inputs = trainer.model, batch_tensors(rows)
    with torch.no_grad():
        loss, outputs = trainer.compute_loss(model, dict(inputs), return_outputs=True)
        plain = model(**inputs)
        last_hidden = model.transformer(
            input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]
        )[0]
    embeddings = model.get_input_embeddings().weight.detach().numpy()
    manual_lm = _numpy_lm_loss(
        last_hidden.numpy(), embeddings, inputs["input_ids"].numpy(), inputs["attention_mask"].numpy()
    )
    assert float(loss) == pytest.approx(float(plain.loss) + LM_COEF * manual_lm, rel=1e-5)
    # The outputs are the classifier's alone: logits, no hidden states for prediction_step.
    assert set(outputs.keys()) == {"loss", "logits"}
    np.testing.assert_allclose(outputs.logits.numpy(), plain.logits.numpy(), rtol=1e-5)


def test_lambda_zero_is_the_model_loss(tokenizer, setup):
    rows, args = setup
    trainer = _trainer(tokenizer, args, 0.0)
    inputs = batch_tensors(rows)
    with torch.no_grad():
        assert float(trainer.compute_loss(trainer.model, dict(inputs))) == pytest.approx(
            float(trainer.model(**inputs).loss), rel=1e-6
        )


def test_lm_term_changes_the_gradients(tokenizer, setup):
    rows, args = setup
    grads = {}
    for coef in (0.0, LM_COEF):
        trainer = _trainer(tokenizer, args, coef)
        trainer.model.train()
        trainer.current_gradient_accumulation_steps = 1  # set by the training loop
        trainer.training_step(trainer.model, batch_tensors(rows))  # mindnlp's value_and_grad step
        grads[coef] = {n: p.grad.numpy().copy() for n, p in trainer.model.named_parameters()}
    embed = "transformer.tokens_embed.weight"
    # The tied LM head sends gradient to the embedding rows of every vocabulary token...
    assert not np.allclose(grads[0.0][embed], grads[LM_COEF][embed])
    unused = sorted(set(range(tokenizer.vocab_size)) - set(np.concatenate([r[0] for r in rows]).tolist()))
    assert np.abs(grads[0.0][embed][unused]).max() == 0.0
    assert np.abs(grads[LM_COEF][embed][unused]).max() > 0.0
    # ...while the classification head sees the same gradient either way.
    np.testing.assert_allclose(grads[0.0]["score.weight"], grads[LM_COEF]["score.weight"], rtol=1e-5)
