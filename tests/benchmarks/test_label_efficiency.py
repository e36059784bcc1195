"""benchmarks/label_efficiency.py's pieces on tiny data: the same subsets for every method, no
test text in pre-training, cached stages reused. (Its accuracies are the benchmark's to print.)"""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

import pytest
from conftest import make_texts

from msgpt.data.files import read_file

ROOT = Path(__file__).resolve().parents[2]
_SPEC = importlib.util.spec_from_file_location("label_efficiency", ROOT / "benchmarks" / "label_efficiency.py")
bench = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(bench)


def _examples(path: Path, texts: list[str]):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows((text, i % 2) for i, text in enumerate(texts))
    return read_file(path)


@pytest.fixture()
def pool_and_test(tmp_path):
    texts = list(dict.fromkeys(make_texts(400, seed=3)))
    pool = _examples(tmp_path / "pool.csv", texts[:300])
    test = _examples(tmp_path / "test.csv", texts[300:360] + texts[:2])  # two pool reviews are also test reviews
    return pool, test


def test_every_method_reads_the_same_seeded_subset(pool_and_test, tmp_path):
    pool, test = pool_and_test
    folder = bench.write_subset(tmp_path / "out", pool, test, 100, seed=1)
    again = bench.write_subset(tmp_path / "again", pool, test, 100, seed=1)
    other = bench.write_subset(tmp_path / "out", pool, test, 100, seed=2)
    assert (folder / "train.csv").read_bytes() == (again / "train.csv").read_bytes()
    assert (folder / "train.csv").read_bytes() != (other / "train.csv").read_bytes()
    train, validation, got_test = bench.train_and_validation(folder, seed=1)
    assert len(train) + len(validation) == 100 and len(validation) == 10
    assert sorted(train.labels + validation.labels).count(0) == 50  # stratified
    assert set(train.texts) <= set(pool.texts) and not set(train.texts) & set(validation.texts)
    assert list(got_test.texts) == list(test.texts)
    assert bench.label_subset(pool, "all", seed=1) is pool


def test_no_test_text_reaches_pre_training(pool_and_test):
    pool, test = pool_and_test
    texts = bench.pretraining_texts(pool, test)
    assert not set(texts) & set(test.texts)
    assert len(texts) == len(pool) - 2


def test_cached_stages_are_reused_not_run_again(pool_and_test, tmp_path, monkeypatch):
    pool, test = pool_and_test
    stage = tmp_path / "lm-50"
    (stage / "best").mkdir(parents=True)
    (stage / "best" / "config.json").write_text("{}")
    (stage / "metrics.json").write_text(json.dumps({"validation_perplexity": 300.0, "stage_time_s": 12.0}))
    import msgpt.recipes.pretraining as pretraining

    monkeypatch.setattr(pretraining, "pretrain", lambda *a, **k: pytest.fail("pre-trained again"))
    folder, metrics = bench.pretrained_language_model(tmp_path, pool, test, 50)
    assert folder == stage / "best" and metrics["validation_perplexity"] == 300.0
    with pytest.raises(pytest.fail.Exception, match="pre-trained again"):  # a deeper model is another stage
        bench.pretrained_language_model(tmp_path, pool, test, 50, layers=4)
    with pytest.raises(pytest.fail.Exception, match="pre-trained again"):  # so are other blocks
        bench.pretrained_language_model(tmp_path, pool, test, 50, block_size=128)

    data = bench.write_subset(tmp_path, pool, test, 100, seed=1)
    run = tmp_path / "runs" / f"scratch-{data.name}"
    run.mkdir(parents=True)
    (run / "metrics.json").write_text(json.dumps({"test_accuracy": 0.75}))
    monkeypatch.setattr(bench.subprocess, "run", lambda *a, **k: pytest.fail("fine-tuned again"))
    assert bench.fine_tune(data, tmp_path, "scratch", 1, None)["test_accuracy"] == 0.75


def test_small_label_counts_train_long_enough():
    assert bench.schedule(225) == (16, 20.0)  # 15 steps an epoch: 300 steps
    assert bench.schedule(18000) == (64, 2.0)
    with pytest.raises(Exception, match=">= 20"):
        bench.parse_labels("10,all")
    assert bench.parse_labels("250, all") == [250, "all"]


def test_summary_gives_mean_and_spread_over_seeds():
    rows = [{"method": "tfidf", "labels": 250, "seed": s, "pretrain_steps": None, "test_accuracy": a}
            for s, a in ((1, 0.70), (2, 0.74), (3, 0.78))]
    (summary,) = bench.summarise(rows)
    assert summary["seeds"] == 3 and summary["min"] == 0.70 and summary["max"] == 0.78
    assert summary["mean"] == pytest.approx(0.74)


def test_each_set_of_fine_tuning_options_runs_apart(pool_and_test, tmp_path, monkeypatch):
    assert bench.variant(None) == bench.variant({"lr": None, "lm_coef": None}) == ""
    assert bench.variant({"lr": 1e-3, "lm_coef": None, "body_lr_scale": 0.1}) == "-lr0.001-body0.1"
    pool, test = pool_and_test
    data = bench.write_subset(tmp_path, pool, test, 100, seed=1)
    commands = []

    def run(command, **kwargs):
        commands.append(command)
        run_dir = Path(command[command.index("--output-dir") + 1])
        run_dir.mkdir(parents=True)
        (run_dir / "metrics.json").write_text(json.dumps({"test_accuracy": 0.5}))
        return bench.subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(bench.subprocess, "run", run)
    bench.fine_tune(data, tmp_path, "pretrained", 1, tmp_path / "lm-50" / "best", {"lr": 1e-3, "body_lr_scale": 0.0})
    bench.fine_tune(data, tmp_path, "pretrained", 1, tmp_path / "lm-50" / "best", {"lr": 1e-3})
    bench.fine_tune(data, tmp_path, "pretrained", 1, tmp_path / "lm-90" / "best", {"lr": 1e-3})  # another budget
    (first, second, _) = commands
    assert first[-4:] == ["--lr", "0.001", "--body-lr-scale", "0.0"] and second[-2:] == ["--lr", "0.001"]
    assert {p.name for p in (tmp_path / "runs").iterdir()} == {
        f"pretrained-lm-50-{data.name}-lr0.001-body0", f"pretrained-lm-50-{data.name}-lr0.001",
        f"pretrained-lm-90-{data.name}-lr0.001"}


def test_a_run_adds_its_cells_to_the_table_and_replaces_only_its_own(tmp_path):
    def row(method, seed, accuracy, steps=None):
        return {"method": method, "labels": 1000, "seed": seed, "pretrain_steps": steps, "test_accuracy": accuracy}

    first = bench.ResultsTable(tmp_path / "results")
    first.add(row("tfidf", 1, 0.80))
    first.add(row("pretrained", 1, 0.70, steps=1335))
    second = bench.ResultsTable(tmp_path / "results")  # a later run, of other cells and one again
    second.add(row("pretrained", 1, 0.75, steps=4005))
    second.add(row("tfidf", 1, 0.81))
    again = bench.ResultsTable(tmp_path / "results")
    assert sorted((r["method"], r["pretrain_steps"], r["test_accuracy"]) for r in again.rows) == [
        ("pretrained", 1335, 0.70), ("pretrained", 4005, 0.75), ("tfidf", None, 0.81)]
    with open(tmp_path / "results.csv", newline="", encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == 3


def test_a_wider_model_keeps_gpt1s_head_width_and_is_a_stage_of_its_own():
    assert bench.model_shape()["n_embd"] == 64 and bench.model_shape()["n_head"] == 1
    wide = bench.model_shape(width=128)
    assert (wide["n_embd"], wide["n_head"], wide["n_layer"]) == (128, 2, 2)
    assert bench.model_shape(layers=4, width=32)["n_head"] == 1
    assert bench.stage_tag() == "" and bench.stage_tag(4, 128) == "-layers4-width128"
    assert bench.stage_tag(block_size=128) == "-block128"
    assert bench.pretraining_batch(None) == (256, 8) and bench.pretraining_batch(128) == (128, 16)  # 2,048 tokens


def test_zero_minutes_saves_the_random_start_with_the_pools_vocabulary(pool_and_test, tmp_path, monkeypatch):
    pool, test = pool_and_test
    import msgpt.recipes.pretraining as pretraining

    monkeypatch.setattr(pretraining, "pretrain", lambda *a, **k: pytest.fail("pre-trained a 0-step stage"))
    folder, metrics = bench.pretrained_language_model(tmp_path, pool, test, 0, width=128)
    assert folder == tmp_path / "lm-0-width128" / "best"
    config = json.loads((folder / "config.json").read_text())
    assert (config["n_embd"], config["n_head"]) == (128, 2)
    vocab = json.loads((folder / "vocab.json").read_text())
    assert any(token.startswith("movie") for token in vocab)  # learnt from the pool's text
    assert metrics["train_steps"] == 0 and metrics["validation_perplexity"] is None
    assert json.loads((tmp_path / "lm-0-width128" / "metrics.json").read_text())["train_steps"] == 0


@pytest.mark.parametrize("flags, message", [
    (["--pretrain-minutes", "5,-1"], "--pretrain-minutes"),
    (["--pretrain-minutes", "five"], "--pretrain-minutes"),
    (["--pretrain-minutes", "0.0001"], "at least a step"),
    (["--lm-width", "100"], "multiple of 64"),
    (["--lm-block-size", "1024"], "512 positions"),
])
def test_bad_budgets_and_widths_are_refused_before_any_work(flags, message, tmp_path, capsys):
    with pytest.raises(SystemExit):
        bench.main(["--out", str(tmp_path / "out"), *flags])
    assert message in capsys.readouterr().err and not (tmp_path / "out").exists()


def test_other_blocks_see_as_many_tokens_a_step(pool_and_test, tmp_path, monkeypatch):
    pool, test = pool_and_test
    import msgpt.recipes.pretraining as pretraining

    calls = []
    monkeypatch.setattr(pretraining, "pretrain", lambda *a, **k: calls.append(k) or {"validation_perplexity": 9.0})
    folder, _ = bench.pretrained_language_model(tmp_path, pool, test, 20, block_size=64)
    assert folder == tmp_path / "lm-20-block64" / "best"
    (call,) = calls
    assert (call["block_size"], call["batch_size"], call["max_steps"]) == (64, 32, 20)


def test_parts_of_a_trained_stage_go_onto_the_random_start_matched_by_token(pool_and_test, tmp_path):
    from safetensors.numpy import load_file, save_file

    pool, test = pool_and_test
    initial, _ = bench.pretrained_language_model(tmp_path, pool, test, 0)
    trained = tmp_path / "lm-5" / "best"  # a "trained" stage: other weights, two token ids swapped
    trained.mkdir(parents=True)
    for source in initial.iterdir():
        (trained / source.name).write_bytes(source.read_bytes())
    vocab = json.loads((initial / "vocab.json").read_text())
    a, b = sorted(vocab, key=vocab.get)[-2:]
    swapped = dict(vocab, **{a: vocab[b], b: vocab[a]})
    (trained / "vocab.json").write_text(json.dumps(swapped))
    weights = {k: v + 1.0 for k, v in load_file(initial / "model.safetensors").items()}
    save_file(weights, str(trained / "model.safetensors"), metadata={"format": "pt"})

    start = load_file(initial / "model.safetensors")
    folder = bench.partly_trained_stage(trained, initial, ("tokens",))
    assert folder == tmp_path / "lm-5-parts-tokens" / "best"
    got = load_file(folder / "model.safetensors")
    tokens = "transformer.tokens_embed.weight"
    for token in (a, b):  # each token's row is the trained stage's row for that token
        assert (got[tokens][vocab[token]] == weights[tokens][swapped[token]]).all()
    for key in got:
        if key != tokens:
            assert (got[key] == start[key]).all(), key
    assert json.loads((folder / "vocab.json").read_text()) == vocab  # the random start's tokenizer
    assert json.loads((folder / "parts.json").read_text())["tensors_taken"] == [tokens]

    blocks = load_file(bench.partly_trained_stage(trained, initial, bench.parse_parts("blocks")) / "model.safetensors")
    assert (blocks[tokens] == start[tokens]).all()
    assert all((blocks[k] == weights[k]).all() for k in blocks if k.startswith("transformer.h."))
    assert bench.parse_parts("blocks, tokens") == ("tokens", "blocks")
    for text in ("wings", "tokens,positions,blocks", ""):
        with pytest.raises(Exception, match="--lm-parts"):
            bench.parse_parts(text)
