"""LoRA through HF peft on a tiny GPT classifier: what trains, what is saved, what loads back."""

from __future__ import annotations

import json

from msgpt.backend import compiled

import numpy as np
import pytest
import torch
from training_helpers import batch_tensors, mindspore_dataset, separable_rows, tiny_classifier

import msgpt
from msgpt.models.lora import ADDED_ROWS, add_lora, is_lora_folder, merge_lora, trainable_fraction
from msgpt.training import make_trainer, training_arguments

BATCH = 8


def _args(output_dir, **overrides):
    settings = dict(learning_rate=1e-2, warmup_ratio=0.0, per_device_train_batch_size=BATCH, logging_steps=1,
                    disable_tqdm=True, seed=0, eval_strategy="no", save_strategy="no", load_best_model_at_end=False,
                    metric_for_best_model=None, num_train_epochs=2)
    settings.update(overrides)
    return training_arguments(str(output_dir), **settings)


def _logits(model, inputs):
    model.eval()
    with torch.no_grad():
        return model(**{k: v for k, v in inputs.items() if k != "labels"}).logits.float().numpy()


def _base_weights(model):
    """The frozen weights, by their name in the base model."""
    return {name.replace("base_model.model.", "").replace(".base_layer", ""): p.detach().numpy().copy()
            for name, p in model.named_parameters() if "lora_" not in name and "score" not in name}


@pytest.fixture()
def trained(tokenizer, tmp_path):
    # The base a user names: a model folder (the hub's openai-gpt in real use).
    base_dir = msgpt.save_pretrained(tiny_classifier(tokenizer), tokenizer, tmp_path / "base")
    model = add_lora(msgpt.load_model(base_dir, tokenizer), r=4, dropout=0.0)
    before = _base_weights(model)
    head_before = model.base_model.model.score.modules_to_save["default"].weight.detach().numpy().copy()
    train = mindspore_dataset(separable_rows(tokenizer, 64, seed=1), BATCH, shuffle=True)
    trainer = make_trainer(model, tokenizer, train, None, _args(tmp_path / "run"))
    trainer.train()
    return trainer, before, head_before


def test_only_the_adapters_and_the_head_train(tokenizer):
    model = add_lora(tiny_classifier(tokenizer), r=4)
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    assert names and all("lora_" in n or "score.modules_to_save" in n for n in names)
    assert any("attn.c_attn.lora_A" in n for n in names) and any("mlp.c_proj.lora_B" in n for n in names)
    assert not any("c_fc" in n for n in names)
    # r * (in + out) per adapted layer against the whole: a few percent here, <1% at GPT-1 size.
    assert 0 < trainable_fraction(model) < 0.15


def test_the_compiled_blocks_step_aside_for_adapted_layers(tokenizer):
    # The block graph reads c_attn.weight itself: run on a LoRA block it would bypass the adapter.
    model = add_lora(tiny_classifier(tokenizer), r=4, dropout=0.0)
    for name, p in model.named_parameters():
        if "lora_B" in name:
            with torch.no_grad():
                p.copy_(torch.ones_like(p) * 0.05)  # a non-zero update, as after training
    inputs = batch_tensors(separable_rows(tokenizer, 8, seed=2))
    before = compiled.compile_stats().fallbacks
    with_adapter = _logits(model, inputs)
    assert compiled.compile_stats().fallbacks > before
    with model.disable_adapter():
        without = _logits(model, inputs)
    assert np.abs(with_adapter - without).max() > 1e-3


def test_training_moves_adapters_and_head_and_leaves_the_base(trained):
    trainer, before, head_before = trained
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert np.mean(losses[-3:]) < np.mean(losses[:3])
    after = _base_weights(trainer.model)
    assert after.keys() == before.keys()
    for name, value in after.items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)
    head = trainer.model.base_model.model.score.modules_to_save["default"].weight.detach().numpy()
    assert np.abs(head - head_before).max() > 1e-4
    lora_b = [p.detach().numpy() for n, p in trainer.model.named_parameters() if "lora_B" in n]
    assert all(np.abs(b).max() > 0 for b in lora_b)  # they start at zero


def test_save_and_load_round_trip_and_merge(trained, tokenizer, tmp_path):
    trainer, _, _ = trained
    model = trainer.model
    base_dir = tmp_path / "base"
    inputs = batch_tensors(separable_rows(tokenizer, 8, seed=3))
    expected = _logits(model, inputs)

    folder = msgpt.save_pretrained(model, tokenizer, tmp_path / "best", max_seq_len=16)
    assert is_lora_folder(folder) and not (folder / "model.safetensors").exists()
    adapter_config = json.loads((folder / "adapter_config.json").read_text())
    assert adapter_config["base_model_name_or_path"] == str(base_dir) and adapter_config["fan_in_fan_out"]
    assert (folder / ADDED_ROWS).is_file() and (folder / "adapter_model.safetensors").stat().st_size < 200_000

    loaded, loaded_tokenizer = msgpt.load_pretrained(folder)
    np.testing.assert_allclose(_logits(loaded, inputs), expected, rtol=1e-5, atol=1e-6)
    assert msgpt.read_model_folder(folder).max_seq_len == 16

    merged = merge_lora(loaded)
    assert not any("lora_" in n for n, _ in merged.named_parameters())
    np.testing.assert_allclose(_logits(merged, inputs), expected, rtol=1e-4, atol=1e-5)
    plain = msgpt.save_pretrained(merged, loaded_tokenizer, tmp_path / "merged")
    assert (plain / "model.safetensors").is_file() and not is_lora_folder(plain)
    again, _ = msgpt.load_pretrained(plain)
    np.testing.assert_allclose(_logits(again, inputs), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kwargs, needle", [
    (dict(r=0), "rank"), (dict(alpha=0), "alpha"), (dict(dropout=1.0), "dropout"),
    (dict(targets=["q_proj"]), "name no layer"),
])
def test_bad_lora_settings_are_refused(tokenizer, kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        add_lora(tiny_classifier(tokenizer), **kwargs)


_TRAINABLE_TOKENS_PROBE = """
import sys
sys.path[:0] = [{tests!r}, {tests_training!r}]
import msgpt
msgpt.select_device("CPU")
import msgpt.backend
from mindtorch.autograd import value_and_grad
from peft import LoraConfig, TaskType, get_peft_model
from training_helpers import batch_tensors, separable_rows, tiny_classifier
tokenizer = msgpt.load_tokenizer({tokenizer_dir!r}, fast=True)
model = tiny_classifier(tokenizer)
ids = [tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id]
config = LoraConfig(task_type=TaskType.SEQ_CLS, r=2, target_modules=["c_attn"], fan_in_fan_out=True,
                    trainable_token_indices={{"tokens_embed": ids}})
model = get_peft_model(model, config)
inputs = batch_tensors(separable_rows(tokenizer, 4, seed=1))
params = [p for p in model.parameters() if p.requires_grad]
value_and_grad(lambda: model(**inputs).loss, params)()
delta = next(p for n, p in model.named_parameters() if "trainable_tokens_delta" in n)
sys.exit(0 if delta.grad is not None and float(delta.grad.abs().sum()) > 0 else 1)
"""


@pytest.mark.xfail(strict=True, reason="peft's trainable_token_indices fails on mindtorch (its index_copy takes no "
                   "source=; mended by hand, the delta still gets no gradient); an XPASS means it trains, and "
                   "msgpt.models.lora could train the added tokens' rows")
def test_upstream_trainable_tokens_still_get_no_gradient(tokenizer_dir):
    # In a process of its own: peft's trainable tokens leave state behind that breaks later
    # tests' compiled LM-loss graph (seen in the suite, 2026-12-03).
    import subprocess
    import sys
    from pathlib import Path

    tests = Path(__file__).resolve().parents[1]
    script = _TRAINABLE_TOKENS_PROBE.format(tests=str(tests), tests_training=str(tests / "training"),
                                            tokenizer_dir=str(tokenizer_dir))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]


def test_resume_continues_the_lora_run(tokenizer, tmp_path):
    base_dir = msgpt.save_pretrained(tiny_classifier(tokenizer), tokenizer, tmp_path / "base")
    rows = separable_rows(tokenizer, 32, seed=4)  # 4 batches per epoch

    def run(resume=None):
        torch.manual_seed(0 if resume is None else 1)  # the resumed run's adapters start elsewhere: loaded back
        model = add_lora(msgpt.load_model(base_dir, tokenizer), r=4, dropout=0.0)
        args = _args(tmp_path / "run", save_strategy="steps", save_steps=3, save_total_limit=None)
        trainer = make_trainer(model, tokenizer, mindspore_dataset(rows, BATCH, shuffle=True), None, args)
        trainer.train(resume_from_checkpoint=resume)
        return {n: p.detach().numpy().copy() for n, p in trainer.model.named_parameters() if p.requires_grad}

    whole = run()
    checkpoint = tmp_path / "run" / "checkpoint-3"
    assert (checkpoint / "adapter_model.safetensors").is_file() and not (checkpoint / "model.safetensors").exists()
    resumed = run(resume=str(checkpoint))
    assert resumed.keys() == whole.keys()
    for name, value in whole.items():
        np.testing.assert_allclose(resumed[name], value, rtol=1e-5, atol=1e-6, err_msg=name)
