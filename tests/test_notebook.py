"""notebooks/imdb_helpers.ipynb: valid nbformat 4, and its code cells run in order, headless.

No Jupyter here (and no new dependency for it): the cells are run by a small script in
a fresh Python process, in a temporary folder, so that the notebook writes nothing into
the repository. A failing cell is named by its number.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "imdb_helpers.ipynb"

# Runs the code cells of the notebook given in argv[1] in one namespace, as a kernel would.
RUNNER = r"""
import json, sys, traceback
cells = json.load(open(sys.argv[1], encoding="utf-8"))["cells"]
namespace = {"__name__": "__main__"}
for number, cell in enumerate(cells, 1):
    if cell["cell_type"] != "code":
        continue
    source = "".join(cell["source"])
    try:
        exec(compile(source, f"<cell {number}>", "exec"), namespace)
    except BaseException:
        traceback.print_exc()
        print(f"notebook cell {number} failed", file=sys.stderr)
        sys.exit(1)
    print(f"[cell {number} done]", flush=True)
"""


@pytest.fixture(scope="module")
def notebook() -> dict:
    return json.loads(NOTEBOOK.read_text(encoding="utf-8"))


def test_notebook_is_valid_nbformat_4_without_outputs(notebook):
    assert notebook["nbformat"] == 4 and isinstance(notebook["nbformat_minor"], int)
    assert notebook["metadata"]["kernelspec"]["language"] == "python"
    for number, cell in enumerate(notebook["cells"], 1):
        assert cell["cell_type"] in ("markdown", "code"), number
        assert isinstance(cell["metadata"], dict) and isinstance(cell["source"], list), number
        assert all(isinstance(line, str) for line in cell["source"]), number
        if cell["cell_type"] == "code":
            # Committed clean: outputs would go stale and bloat diffs.
            assert cell["outputs"] == [] and cell["execution_count"] is None, number
    kinds = [cell["cell_type"] for cell in notebook["cells"]]
    assert kinds.count("code") >= 6 and kinds[0] == "markdown"


def test_notebook_runs_headless_from_top_to_bottom(notebook, tmp_path):
    env = {**os.environ, "DEVICE_TARGET": "CPU", "HF_HUB_OFFLINE": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run([sys.executable, "-c", RUNNER, str(NOTEBOOK)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    failed = [line for line in result.stderr.splitlines() if line.startswith("notebook cell ")]
    assert result.returncode == 0, (failed[-1] if failed else "") + "\n" + result.stderr[-3000:]
    code_cells = [n for n, cell in enumerate(notebook["cells"], 1) if cell["cell_type"] == "code"]
    assert f"[cell {code_cells[-1]} done]" in result.stdout
    # What the notebook promises: a saved model, and predictions from it.
    assert (tmp_path / "runs" / "notebook" / "best" / "model.safetensors").is_file()
    assert "test_accuracy" in result.stdout


def test_runner_names_the_failing_cell(tmp_path):
    broken = {"cells": [{"cell_type": "code", "metadata": {}, "source": ["x = 1\n"], "outputs": [],
                         "execution_count": None},
                        {"cell_type": "markdown", "metadata": {}, "source": ["text"]},
                        {"cell_type": "code", "metadata": {}, "source": ["x / 0\n"], "outputs": [],
                         "execution_count": None}],
              "metadata": {}, "nbformat": 4, "nbformat_minor": 4}
    path = tmp_path / "broken.ipynb"
    path.write_text(json.dumps(broken))
    result = subprocess.run([sys.executable, "-c", RUNNER, str(path)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "notebook cell 3 failed" in result.stderr
    assert "ZeroDivisionError" in result.stderr and "[cell 1 done]" in result.stdout
