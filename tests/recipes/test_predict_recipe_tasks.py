"""recipes/predict.py with pair, similarity and multiple-choice models: tiny models built
here, files labelled through the recipe's main, probabilities checked against msgpt.predict."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import make_texts
from test_predict_recipe import in_process, one_line_error, read_rows

import msgpt

TEXTS = make_texts(6, seed=1)
PAIRS = make_texts(6, seed=2)
CANDIDATES = [tuple(make_texts(3, seed=10 + i)) for i in range(6)]
NAMES = ("entailment", "neutral", "contradiction")


@pytest.fixture()
def save_model(tiny_config, tokenizer, tmp_path):
    """``save_model(task)``: the folder of a tiny untrained ``task`` model, and the model."""

    def save(task: str) -> tuple[Path, object]:
        msgpt.add_special_tokens(tokenizer, delimiter=True)
        torch.manual_seed(0)
        names = NAMES if task == "pair" else None
        model = msgpt.build_model(tiny_config, tokenizer, num_labels=3 if task != "similarity" else 2,
                                  label_names=names, task=task).eval()
        folder = msgpt.save_pretrained(model, tokenizer, tmp_path / task, max_seq_len=48)
        return folder, model

    return save


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def probabilities(rows: list[dict[str, str]], columns: list[str]) -> np.ndarray:
    return np.array([[float(row[c]) for c in columns] for row in rows])


def test_pair_model_labels_a_csv_with_names_and_scores_it(save_model, tokenizer, tmp_path, capsys):
    folder, model = save_model("pair")
    labels = [NAMES[i % 3] for i in range(6)]
    data = write_csv(tmp_path / "nli.csv", ["premise", "hypothesis", "gold"],
                     [list(row) for row in zip(TEXTS, PAIRS, labels)])
    out = tmp_path / "nli.predictions.csv"
    result = in_process("predict.py", "--model", str(folder), "--data", str(data), "--text-column", "premise",
                        "--text-pair-column", "hypothesis", "--label-column", "gold", "--output", str(out),
                        "--batch-size", "4", capsys=capsys)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = read_rows(out)
    prob_columns = [f"prob_{name}" for name in NAMES]
    assert list(rows[0]) == ["text", "text_pair", "label", "prediction", *prob_columns]
    assert [r["text_pair"] for r in rows] == PAIRS and [r["label"] for r in rows] == labels
    expected = msgpt.predict(TEXTS, model, tokenizer, text_pairs=PAIRS, max_length=48)
    np.testing.assert_allclose(probabilities(rows, prob_columns), expected.probabilities, atol=2e-6)
    assert [r["prediction"] for r in rows] == expected.names
    metrics = json.loads(out.with_suffix(".metrics.json").read_text())
    assert metrics["task"] == "pair" and metrics["examples"] == 6
    truth = np.array([NAMES.index(name) for name in labels])
    assert metrics["accuracy"] == pytest.approx(float((expected.labels == truth).mean()))
    assert "accuracy" in result.stdout


def test_similarity_model_labels_a_jsonl_file_in_either_order(save_model, tokenizer, tmp_path, capsys):
    folder, model = save_model("similarity")
    data = tmp_path / "sts.jsonl"
    data.write_text("".join(json.dumps({"a": a, "b": b}) + "\n" for a, b in zip(TEXTS, PAIRS)), encoding="utf-8")
    outputs = []
    for first, second, name in (("a", "b", "ab.csv"), ("b", "a", "ba.csv")):
        result = in_process("predict.py", "--model", str(folder), "--data", str(data), "--text-column", first,
                            "--text-pair-column", second, "--output", str(tmp_path / name), capsys=capsys)
        assert result.returncode == 0, result.stderr[-2000:]
        outputs.append(read_rows(tmp_path / name))
    assert list(outputs[0][0]) == ["text", "text_pair", "prediction", "prob_0", "prob_1"]
    assert not (tmp_path / "ab.metrics.json").exists()  # no labels, no scores
    forward, backward = (probabilities(rows, ["prob_0", "prob_1"]) for rows in outputs)
    expected = msgpt.predict(TEXTS, model, tokenizer, text_pairs=PAIRS, max_length=48)
    np.testing.assert_allclose(forward, expected.probabilities, atol=2e-6)
    np.testing.assert_allclose(backward, forward, atol=2e-5)


@pytest.mark.parametrize("k", [3, 2])
def test_choice_model_scores_candidate_columns_or_a_list_column(save_model, tokenizer, tmp_path, capsys, k):
    """The model was built for 3 candidates; it scores 2 as well (one score per candidate)."""
    folder, model = save_model("choice")
    candidates = [row[:k] for row in CANDIDATES]
    answers = [i % k for i in range(6)]
    by_columns = write_csv(tmp_path / "story.csv", ["context", *[f"end{j}" for j in range(k)], "answer"],
                           [[t, *row, a] for t, row, a in zip(TEXTS, candidates, answers)])
    as_list = write_csv(tmp_path / "story-list.csv", ["context", "ends", "answer"],
                        [[t, json.dumps(list(row)), a] for t, row, a in zip(TEXTS, candidates, answers)])
    expected = msgpt.predict(TEXTS, model, tokenizer, candidates=candidates, max_length=48)
    prob_columns = [f"prob_{j}" for j in range(k)]
    for data, columns in ((by_columns, ",".join(f"end{j}" for j in range(k))), (as_list, "ends")):
        out = tmp_path / f"{data.stem}.out.csv"
        result = in_process("predict.py", "--model", str(folder), "--data", str(data), "--text-column", "context",
                            "--candidate-columns", columns, "--label-column", "answer", "--output", str(out),
                            capsys=capsys)
        assert result.returncode == 0, result.stderr[-2000:]
        rows = read_rows(out)
        assert list(rows[0]) == ["text", *[f"candidate_{j}" for j in range(k)], "label", "prediction",
                                 *prob_columns]
        assert [tuple(r[f"candidate_{j}"] for j in range(k)) for r in rows] == candidates
        assert [int(r["label"]) for r in rows] == answers
        assert [int(r["prediction"]) for r in rows] == expected.labels.tolist()
        np.testing.assert_allclose(probabilities(rows, prob_columns), expected.probabilities, atol=2e-6)
        metrics = json.loads(out.with_suffix(".metrics.json").read_text())
        assert metrics["num_candidates"] == k
        assert metrics["accuracy"] == pytest.approx(float((expected.labels == np.array(answers)).mean()))


@pytest.mark.parametrize("task, data, options, needles", [
    ("single", "csv", ["--text-pair-column", "b"], ["--text-pair-column", "'single' model", "not text pairs"]),
    ("pair", "csv", ["--candidate-columns", "b,c"], ["--candidate-columns", "'pair' model", "not candidates"]),
    ("choice", "csv", ["--text-pair-column", "b"], ["--text-pair-column", "'choice' model"]),
    ("similarity", "csv", [], ["'similarity' model", "--text-pair-column"]),
    ("choice", "csv", [], ["'choice' model", "--candidate-columns"]),
    ("pair", "txt", ["--text-pair-column", "b"], [".txt file", "not text pairs"]),
    ("choice", "txt", ["--candidate-columns", "b,c"], [".txt file", "not candidates"]),
    ("pair", "csv", ["--text-pair-column", "missing"], ["'missing'"]),
    ("pair", "csv", ["--text-pair-column", "empty"], ["row 2", "text pair column 'empty'", "empty"]),
    ("choice", "csv", ["--candidate-columns", "b,b"], ["--candidate-columns", "named twice"]),
    ("choice", "csv", ["--candidate-columns", "b,c", "--label-column", "wrong"], ["outside the 2 candidates"]),
    ("choice", "csv", ["--candidate-columns", "lists"], ["has 3 candidates", "same number"]),
])
def test_inputs_that_do_not_fit_the_model_are_one_line_errors(save_model, tmp_path, capsys, task, data, options,
                                                               needles):
    folder, _ = save_model(task)
    if data == "txt":
        path = tmp_path / "texts.txt"
        path.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    else:
        lists = [json.dumps(["x", "y"] if i != 2 else ["x", "y", "z"]) for i in range(3)]
        path = write_csv(tmp_path / "rows.csv", ["a", "b", "c", "empty", "wrong", "lists"],
                         [[TEXTS[i], PAIRS[i], PAIRS[i + 1], "" if i == 1 else "x", 2, lists[i]] for i in range(3)])
    out = tmp_path / "out.csv"
    result = in_process("predict.py", "--model", str(folder), "--data", str(path), "--text-column", "a",
                        *options, "--output", str(out), capsys=capsys)
    one_line_error(result, "predict.py", *needles)
    assert not out.exists() and not out.with_suffix(".metrics.json").exists()
