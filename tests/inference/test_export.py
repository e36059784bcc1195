"""Export to MindIR: the graph run by MindSpore alone gives the model's logits, every task form."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import make_texts, needs_gpt1

import msgpt
from msgpt.inference.export import check_export, export_mindir, run_service
from msgpt.inference.mindir_service import MindIRClassifier, export_paths
from msgpt.inference.predictions import pad_right
from msgpt.models.folder import record_training
from msgpt.tokens.inputs import encode_inputs

EXPORT = Path(__file__).resolve().parents[2] / "recipes" / "export.py"
TEXTS = make_texts(5, seed=1, max_words=60)  # several longer than the exported length
PAIRS = make_texts(5, seed=2, max_words=40)
CANDIDATES = [tuple(make_texts(3, seed=10 + i)) for i in range(5)]
INPUTS = {"single": {}, "pair": {"text_pairs": PAIRS}, "similarity": {"text_pairs": PAIRS},
          "choice": {"candidates": CANDIDATES}}

# The service process: logits of given ids, as a deployed service would compute them.
_LOGITS = """
import json, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from mindir_service import MindIRClassifier
arrays = np.load(sys.argv[3])
logits = MindIRClassifier(sys.argv[2]).run(arrays["input_ids"], arrays["attention_mask"])
np.save(sys.argv[4], logits)
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("msgpt", "mindnlp", "torch", "transformers"))))
"""


def _model(tiny_config, tokenizer, task, num_labels=2, seed=0):
    msgpt.add_special_tokens(tokenizer, delimiter=task != "single")
    torch.manual_seed(seed)
    return msgpt.build_model(tiny_config, tokenizer, num_labels=num_labels, task=task).eval()


def _service_logits(card: Path, input_ids: np.ndarray, attention_mask: np.ndarray, tmp_path: Path):
    arrays, out = tmp_path / "inputs.npz", tmp_path / "logits.npy"
    np.savez(arrays, input_ids=input_ids, attention_mask=attention_mask)
    service_dir = Path(msgpt.__file__).parent / "inference"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", _LOGITS, str(service_dir), str(card), str(arrays), str(out)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return np.load(out), json.loads(done.stdout.strip().splitlines()[-1])


def _encoded(tokenizer, task, length):
    groups = encode_inputs(tokenizer, task, TEXTS, length, **INPUTS[task])
    sequences = [ids for group in groups for ids in group]
    ids, mask = pad_right(sequences, tokenizer.pad_token_id)
    pad = length - ids.shape[1]
    ids = np.pad(ids, ((0, 0), (0, pad)), constant_values=tokenizer.pad_token_id)
    mask = np.pad(mask, ((0, 0), (0, pad)))
    if task in ("similarity", "choice"):
        shape = (len(groups), len(groups[0]), length)
        ids, mask = ids.reshape(shape), mask.reshape(shape)
    return ids, mask


@pytest.mark.parametrize("task", ["single", "pair", "similarity", "choice"])
def test_the_graph_run_by_mindspore_alone_gives_the_models_logits(task, tiny_config, tokenizer, tmp_path):
    model = _model(tiny_config, tokenizer, task, num_labels=3 if task == "choice" else 2)
    export = export_mindir(model, tmp_path / "model.mindir", tokenizer, batch_size=2, seq_len=24)
    ids, mask = _encoded(tokenizer, task, 24)
    with torch.no_grad():
        expected = model(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask)).logits.numpy()
    # Five examples through a batch of two: the last call carries a padding row.
    got, modules = _service_logits(export.card, ids, mask, tmp_path)
    assert modules == []
    assert got.shape == expected.shape == (5, 3 if task == "choice" else 2)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5 * max(1.0, np.abs(expected).max()))
    assert export.input_shape == ((2, 24) if task in ("single", "pair") else (2, 3 if task == "choice" else 2, 24))
    # And from the texts: the service tokenizes as msgpt does, probabilities as msgpt.predict's.
    check = check_export(export, model, TEXTS, tokenizer, **INPUTS[task])
    assert check.passed, check


def test_padding_rows_do_not_change_the_real_rows(tiny_config, tokenizer, tmp_path):
    model = _model(tiny_config, tokenizer, "single")
    export = export_mindir(model, tmp_path / "model.mindir", tokenizer, batch_size=4, seq_len=32)
    ids, mask = _encoded(tokenizer, "single", 32)
    alone, _ = _service_logits(export.card, ids[:1], mask[:1], tmp_path)  # one text and three padding rows
    together, _ = _service_logits(export.card, ids[:4], mask[:4], tmp_path)
    np.testing.assert_allclose(alone[0], together[0], rtol=0, atol=1e-6)


def test_a_choice_graph_takes_the_candidates_it_was_exported_for(tiny_config, tokenizer, tmp_path):
    model = _model(tiny_config, tokenizer, "choice", num_labels=2)
    export = export_mindir(model, tmp_path / "model.mindir", tokenizer, seq_len=24, candidates=3)
    card = json.loads(export.card.read_text())
    assert card["inputs"]["input_ids"]["shape"] == [1, 3, 24] and card["num_labels"] == 3
    assert check_export(export, model, TEXTS, tokenizer, candidates=CANDIDATES).passed


def test_windows_and_the_kept_end_are_read_as_msgpt_reads_them(tiny_config, tokenizer, tmp_path):
    model = _model(tiny_config, tokenizer, "single")
    record_training(model.config, 16, "left", windows=True)
    tokenizer.truncation_side = "left"
    # A call with truncation leaves it set on HF's backend: the saved tokenizer.json must not keep it
    # (the demo's did, and its service read each long review as one window).
    tokenizer(make_texts(2), truncation=True, max_length=6)
    export = export_mindir(model, tmp_path / "model.mindir", tokenizer, batch_size=3)
    assert json.loads(export.tokenizer.read_text())["truncation"] is None
    card = json.loads(export.card.read_text())
    assert (card["seq_len"], card["truncation_side"], card["windows"]) == (16, "left", True)
    texts = make_texts(6, seed=4, min_words=20, max_words=90)  # several windows each
    probs, _ = run_service(export.card, texts)
    expected = msgpt.predict(texts, model, tokenizer).probabilities  # windows, as the model records
    np.testing.assert_allclose(probs, expected, rtol=0, atol=1e-5)


def test_the_card_names_what_a_service_needs(tiny_config, tokenizer, tmp_path):
    model = _model(tiny_config, tokenizer, "pair", num_labels=3)
    msgpt.models.labels.set_label_names(model.config, ["yes", "no", "maybe"])
    export = export_mindir(model, tmp_path / "nli.mindir", tokenizer, seq_len=20)
    assert [p.name for p in (export.mindir, export.card, export.tokenizer)] == [
        "nli.mindir", "nli.json", "nli.tokenizer.json"]
    card = json.loads(export.card.read_text())
    assert card["label_names"] == ["yes", "no", "maybe"]
    assert card["pad_id"] == tokenizer.pad_token_id and card["delimiter_id"] == tokenizer.convert_tokens_to_ids(
        "<delim>")
    assert oct(export.mindir.stat().st_mode & 0o777) == "0o644"
    result = MindIRClassifier(export.card).predict(TEXTS[:2], text_pairs=PAIRS[:2])
    assert set(result["names"]) <= {"yes", "no", "maybe"} and len(result["probabilities"]) == 2


def test_a_lora_model_is_exported_with_its_adapter_merged(tiny_config, tokenizer, tmp_path):
    from msgpt.models.lora import add_lora

    base = msgpt.save_pretrained(_model(tiny_config, tokenizer, "single"), tokenizer, tmp_path / "base")
    model = add_lora(msgpt.load_model(base, tokenizer), r=4, dropout=0.0)
    torch.manual_seed(1)
    with torch.no_grad():  # a trained adapter: B is zero at the start, which would merge to nothing
        for name, parameter in model.named_parameters():
            if "lora_B" in name:
                parameter.copy_(torch.randn(parameter.shape) * 0.5)
    model.eval()
    ids, mask = _encoded(tokenizer, "single", 24)
    with torch.no_grad():
        expected = model(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask)).logits.numpy()
    folder = msgpt.save_pretrained(model, tokenizer, tmp_path / "best", max_seq_len=24)
    export = export_mindir(folder, tmp_path / "best.mindir", batch_size=5)
    got, _ = _service_logits(export.card, ids, mask, tmp_path)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)
    assert json.loads(export.card.read_text())["source"] == str(folder.resolve())


def test_models_the_graph_does_not_compute_are_refused_before_writing(tiny_config, tokenizer, tmp_path):
    model = _model(tiny_config, tokenizer, "single")
    lm_folder = tmp_path / "lm"
    from transformers import OpenAIGPTLMHeadModel

    OpenAIGPTLMHeadModel(model.config).save_pretrained(lm_folder)
    tokenizer.save_pretrained(lm_folder)
    with pytest.raises(ValueError, match="not a trained classifier"):
        export_mindir(lm_folder, tmp_path / "lm.mindir")
    model.config.afn = "swish"
    model.transformer.h[0].mlp.act = torch.nn.SiLU()
    with pytest.raises(ValueError, match="activation 'swish'"):
        export_mindir(model, tmp_path / "swish.mindir", tokenizer)
    with pytest.raises(ValueError, match="must end in .mindir"):
        export_mindir(model, tmp_path / "model.onnx", tokenizer)
    with pytest.raises(ValueError, match="above the model's 64 positions|positions"):
        export_mindir(_model(tiny_config, tokenizer, "single"), tmp_path / "long.mindir", tokenizer, seq_len=65)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lm"]


def test_files_are_written_whole_or_not_at_all(tiny_config, tokenizer, tmp_path, monkeypatch):
    import mindspore

    model = _model(tiny_config, tokenizer, "single")
    first = export_mindir(model, tmp_path / "model.mindir", tokenizer, seq_len=16)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(ValueError, match="exists"):
        export_mindir(model, tmp_path / "model.mindir", tokenizer, seq_len=16)

    def fail_half_way(net, *inputs, file_name, file_format):
        Path(f"{file_name}.mindir").write_bytes(b"half a graph")
        raise RuntimeError("disk full")

    monkeypatch.setattr(mindspore, "export", fail_half_way)
    with pytest.raises(RuntimeError, match="disk full"):
        export_mindir(model, tmp_path / "model.mindir", tokenizer, seq_len=32, overwrite=True)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # no temporary left, nothing replaced
    assert export_paths(first.mindir) == (first.mindir, first.card, first.tokenizer)


def _write_texts(path: Path, texts) -> Path:
    path.write_text("\n".join(texts) + "\n", encoding="utf-8")
    return path


def test_the_recipe_exports_and_checks_a_folder(tiny_config, tokenizer, tmp_path):
    model = _model(tiny_config, tokenizer, "single")
    folder = msgpt.save_pretrained(model, tokenizer, tmp_path / "run" / "best", max_seq_len=24)
    texts = _write_texts(tmp_path / "texts.txt", TEXTS)
    env = dict(os.environ, HF_HUB_OFFLINE="1", DEVICE_TARGET="CPU")
    run = [sys.executable, str(EXPORT), "--model", str(folder), "--check", str(texts), "--batch-size", "2"]
    done = subprocess.run(run, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    line = done.stdout.strip().splitlines()[-1]
    assert f"to {tmp_path / 'run' / 'best.mindir'}: int32 inputs 2x24" in line
    assert "checked with MindSpore alone on 5 texts" in line and "labels agree" in line
    # Again: nothing is replaced without --overwrite, said in one line.
    again = subprocess.run(run, capture_output=True, text=True, env=env, timeout=600)
    assert again.returncode == 2 and "Traceback" not in again.stderr
    last = again.stderr.strip().splitlines()[-1]
    assert last.startswith("export.py: error:") and "--overwrite" in last


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--output", "model.onnx"], "must end in .mindir"),
        (["--batch-size", "0"], "--batch-size must be at least 1"),
        (["--seq-len", "2"], "--seq-len must be at least 3"),
        (["--check-rows", "0"], "--check-rows must be at least 1"),
    ],
)
def test_bad_options_are_one_line(args, needle, capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location("export_recipe", EXPORT)
    recipe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recipe)
    with pytest.raises(SystemExit) as stop:
        recipe.parse_args(["--model", "runs/x/best", *args])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("export.py: error:") and needle in err[0]


def test_bad_input_in_the_run_is_one_line(tiny_config, tokenizer, tmp_path, capsys):
    from recipe_helpers import run_recipe_in_process

    folder = msgpt.save_pretrained(_model(tiny_config, tokenizer, "single"), tokenizer, tmp_path / "best",
                                   max_seq_len=24)
    import shutil

    unknown = Path(shutil.copytree(folder, tmp_path / "unknown-task"))
    config = json.loads((unknown / "config.json").read_text())
    config["msgpt"]["task"] = "regression"
    (unknown / "config.json").write_text(json.dumps(config))
    cases = [
        (["--model", str(tmp_path / "missing")], "no such folder"),
        (["--model", str(unknown)], "regression"),
        (["--model", str(folder), "--seq-len", "99"], "above the model's 64 positions"),
        (["--model", str(folder), "--check", str(tmp_path / "none.txt")], "none.txt"),
        (["--model", str(folder), "--check", str(_write_texts(tmp_path / "t.txt", TEXTS)),
          "--text-pair-column", "b"], "not text pairs"),
    ]
    for args, needle in cases:
        done = run_recipe_in_process(*args, "--output", str(tmp_path / "out.mindir"), capsys=capsys, recipe=EXPORT)
        assert done.returncode == 2, (args, done.stderr)
        last = done.stderr.strip().splitlines()[-1]
        assert last.startswith("export.py: error:") and needle in last, last
    assert not (tmp_path / "out.mindir").exists()


@needs_gpt1
def test_a_gpt1_sized_folder_with_gpt1s_own_tokenizer(gpt1_folder, tmp_path):
    tokenizer = msgpt.load_tokenizer(gpt1_folder, fast=True)
    model = msgpt.load_model(gpt1_folder, tokenizer, num_labels=2)
    folder = msgpt.save_pretrained(model, tokenizer, tmp_path / "best", max_seq_len=64)
    export = export_mindir(folder, tmp_path / "best.mindir", batch_size=2)
    assert export.megabytes > 400  # 116.5M float32 weights inside
    reviews = ["A <br /><br />wonderful film, the best I've seen in years!", "Dull. " * 80,
               "Café society, naïve charm: 10/10 — would watch again?"]
    check = check_export(export, folder, reviews)
    assert check.passed, check
