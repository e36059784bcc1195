"""msgpt's AdamW against a NumPy AdamW, its parameter groups, and the GPT-1 schedule."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from training_helpers import tiny_classifier

from msgpt.training.optim import AdamW, decay_parameter_groups
from msgpt.training.schedule import linear_warmup_decay, warmup_steps

SHAPES = [(4, 3), (3,), (2, 5)]
DECAY = [0.01, 0.0, 0.01]  # weights decayed, the "bias" not
STEPS, WARMUP, LR = 6, 2, 0.1


def _numpy_adamw(init, grads, betas=(0.9, 0.999), eps=1e-8):
    """PyTorch's AdamW, written out in float64, under linear warm-up then linear decay."""
    beta1, beta2 = betas
    params = [x.astype(np.float64).copy() for x in init]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    for t, step_grads in enumerate(grads, start=1):
        done = t - 1  # scheduler steps taken before this optimizer step
        factor = done / WARMUP if done < WARMUP else max(0.0, (STEPS - done) / (STEPS - WARMUP))
        lr = LR * factor
        for i, g in enumerate(step_grads):
            params[i] *= 1 - lr * DECAY[i]
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g * g
            m_hat, v_hat = m[i] / (1 - beta1**t), v[i] / (1 - beta2**t)
            params[i] -= lr * m_hat / (np.sqrt(v_hat) + eps)
    return params


def _run(fused, init, grads, restart_at=None):
    params = [torch.nn.Parameter(torch.tensor(x)) for x in init]

    def build():
        groups = [
            {"params": [params[0], params[2]], "weight_decay": 0.01},
            {"params": [params[1]], "weight_decay": 0.0},
        ]
        optimizer = AdamW(groups, lr=LR, fused=fused)
        return optimizer, linear_warmup_decay(optimizer, STEPS, warmup_ratio=WARMUP / STEPS)

    optimizer, scheduler = build()
    for t, step_grads in enumerate(grads):
        if t == restart_at:  # a resumed run: fresh objects, state from state_dict
            saved = optimizer.state_dict(), scheduler.state_dict()
            optimizer, scheduler = build()
            optimizer.load_state_dict(saved[0])
            scheduler.load_state_dict(saved[1])
        for param, g in zip(params, step_grads):
            param.grad = torch.tensor(g)
        optimizer.step()
        scheduler.step()
    return [p.detach().numpy() for p in params]


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    init = [rng.normal(size=s).astype(np.float32) for s in SHAPES]
    grads = [[rng.normal(size=s).astype(np.float32) for s in SHAPES] for _ in range(STEPS)]
    return init, grads


@pytest.mark.parametrize("fused", [True, False], ids=["fused-kernel", "per-tensor-loop"])
def test_adamw_matches_numpy_reference_with_decay_and_schedule(problem, fused):
    init, grads = problem
    expected = _numpy_adamw(init, grads)
    for got, want, start in zip(_run(fused, init, grads), expected, init):
        assert np.abs(want - start).max() > 0.1  # the run moved the weights
        np.testing.assert_allclose(got, want, rtol=0, atol=5e-6)


def test_adamw_state_dict_round_trip_continues_the_same_run(problem):
    init, grads = problem
    straight = _run(True, init, grads)
    resumed = _run(True, init, grads, restart_at=3)
    for a, b in zip(straight, resumed):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-7)


def test_adamw_skips_parameters_without_gradient():
    used, unused = torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(3))
    optimizer = AdamW([used, unused], lr=0.1)
    used.grad = torch.full((3,), 0.5)
    optimizer.step()
    np.testing.assert_allclose(unused.detach().numpy(), 1.0)
    # First Adam step moves by lr; decoupled decay takes lr * wd * w first.
    np.testing.assert_allclose(used.detach().numpy(), 1.0 - 0.1 * 0.01 - 0.1, atol=1e-6)
    assert unused not in optimizer.state


@pytest.mark.parametrize("kwargs", [{"lr": -1.0}, {"betas": (1.0, 0.999)}, {"eps": 0.0}, {"weight_decay": -0.1}])
def test_adamw_rejects_invalid_hyperparameters(kwargs):
    with pytest.raises(ValueError):
        AdamW([torch.nn.Parameter(torch.ones(2))], **kwargs)


def test_no_weight_decay_on_biases_and_layernorm(tokenizer):
    model = tiny_classifier(tokenizer)
    decayed, plain = decay_parameter_groups(model, 0.01)
    assert decayed["weight_decay"] == 0.01 and plain["weight_decay"] == 0.0
    names = {id(p): n for n, p in model.named_parameters()}
    plain_names = {names[id(p)] for p in plain["params"]}
    decayed_names = {names[id(p)] for p in decayed["params"]}
    assert plain_names and all(".bias" in n or ".ln_" in n for n in plain_names)
    assert "transformer.tokens_embed.weight" in decayed_names and "score.weight" in decayed_names
    assert len(plain_names) + len(decayed_names) == len(list(model.parameters()))


def test_schedule_warmup_peak_and_end():
    param = torch.nn.Parameter(torch.ones(1))
    optimizer = AdamW([param], lr=1.0)
    total = 1000
    scheduler = linear_warmup_decay(optimizer, total)  # GPT-1: 0.2% warm-up
    assert warmup_steps(total) == 2
    rates = [scheduler.get_last_lr()[0]]
    for _ in range(total):
        optimizer.step()
        scheduler.step()
        rates.append(scheduler.get_last_lr()[0])
    assert rates[0] == 0.0 and rates[1] == pytest.approx(0.5)  # warming up
    assert rates[2] == pytest.approx(1.0) and max(rates) == pytest.approx(1.0)  # peak
    assert rates[501] == pytest.approx((total - 501) / (total - 2))  # linear decay
    assert rates[total] == 0.0  # end


def test_warmup_steps_round_up_like_training_arguments():
    assert warmup_steps(100) == 1 and warmup_steps(1500) == 3 and warmup_steps(10, 0.0) == 0
    with pytest.raises(ValueError):
        warmup_steps(10, 1.5)



def test_adamw_moments_follow_the_parameter_after_an_in_place_resize(tiny_config, tokenizer):
    # HF's resize swaps the embedding's data; mindtorch then infers shapes for that
    # parameter from its old row count, and zeros_like of a parameter built later in its
    # place can inherit that count. msgpt's model helpers rebuild the parameter; the
    # optimizer must size its moments from the real shape.
    import gc

    from transformers import OpenAIGPTForSequenceClassification

    stale = OpenAIGPTForSequenceClassification(tiny_config)
    stale.resize_token_embeddings(len(tokenizer), mean_resizing=False)
    torch.zeros_like(stale.get_input_embeddings().weight)  # infers the old row count
    del stale
    gc.collect()
    model = tiny_classifier(tokenizer)
    weight = model.get_input_embeddings().weight
    before = weight.detach().numpy().copy()
    weight.grad = torch.ones(*weight.shape)
    optimizer = AdamW([weight], lr=0.1, weight_decay=0.0)
    optimizer.step()
    assert tuple(optimizer.state[weight]["exp_avg"].shape) == tuple(weight.shape)
    np.testing.assert_allclose(weight.detach().numpy(), before - 0.1, atol=1e-5)
