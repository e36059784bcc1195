"""--precision in the recipes: fp16 trains and says what its loss scale did; bf16 on the CPU
ends in one line before any work."""

from __future__ import annotations

import json

import pytest
from recipe_helpers import RECIPES, TINY, _assert_one_line_error, run_recipe_in_process, write_reviews

from msgpt.training.precision import check_precision


def _cpu_lacks_bf16() -> bool:
    try:
        check_precision("bf16")
    except ValueError:
        return True
    return False


def test_fp16_fine_tuning_reports_its_loss_scale(tmp_path, capsys):
    data = write_reviews(tmp_path / "reviews.csv", 96)
    out = tmp_path / "out"
    result = run_recipe_in_process(*TINY, "--data", str(data), "--output-dir", str(out), "--precision", "fp16",
                                   capsys=capsys)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["precision"] == "fp16" and metrics["loss_scale"] >= 1 and metrics["skipped_steps"] >= 0
    assert 0 <= metrics["test_accuracy"] <= 1
    assert all(json.loads((c / "loss_scale.json").read_text())["scale"] >= 1 for c in out.glob("checkpoint-*"))
    assert (out / "best" / "model.safetensors").is_file()


@pytest.mark.skipif(not _cpu_lacks_bf16(), reason="this device has bfloat16 kernels: nothing to refuse")
@pytest.mark.parametrize("recipe", ["imdb.py", "pretrain.py"])
def test_bf16_where_the_device_has_no_kernel_ends_in_one_line_and_writes_nothing(recipe, tmp_path, capsys):
    data = write_reviews(tmp_path / "reviews.csv", 48)
    out = tmp_path / "out"
    args = [*TINY, "--data", str(data)] if recipe == "imdb.py" else ["--text", str(data), "--max-steps", "2"]
    result = run_recipe_in_process(*args, "--output-dir", str(out), "--precision", "bf16", capsys=capsys,
                                   recipe=RECIPES / recipe)
    if recipe == "imdb.py":
        _assert_one_line_error(result, "bf16", "no bfloat16 MatMul kernel")
    else:
        assert result.returncode == 2 and "no bfloat16 MatMul kernel" in result.stderr.strip().splitlines()[-1]
    assert not out.exists() or not any(out.iterdir())
