"""msgpt/runtime/quiet.py: a run starts with msgpt's own lines, not its libraries' noise."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

from msgpt.runtime import quiet

# Starts as a recipe does (logging at INFO, then mindnlp), loads a GPT-1 tokenizer (the
# slow one, which prints the ftfy line), then logs what must still show.
PROBE = """
import logging, sys
logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
if sys.argv[2] == "loud":
    import msgpt.runtime.quiet
    msgpt.runtime.quiet.install = lambda: None  # as msgpt was before: what the libraries print
import msgpt, msgpt.backend
msgpt.load_tokenizer(sys.argv[1])  # logs "msgpt.tokens.tokenizer: added 3 special tokens ..."
logging.getLogger("diffusers.modular_pipelines").warning("another diffusers warning")
logging.getLogger("datasets").warning("another datasets warning")
logging.getLogger("transformers.models.openai.tokenization_openai").warning("another tokenizer warning")
"""

NOISE = (
    "Modular Diffusers is currently an experimental feature",
    "datasets: PyTorch version",
    "ftfy or spacy is not installed",
)
KEPT = (
    "msgpt.tokens.tokenizer: added 3 special tokens",
    "another diffusers warning",
    "another datasets warning",
    "another tokenizer warning",
)


@pytest.fixture(scope="module")
def start_output(tokenizer_dir):
    def run(mode: str) -> str:
        env = {**os.environ, "DEVICE_TARGET": "CPU", "HF_HUB_OFFLINE": "1"}
        result = subprocess.run([sys.executable, "-c", PROBE, str(tokenizer_dir), mode],
                                capture_output=True, text=True, timeout=300, env=env)
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout + result.stderr

    return {mode: run(mode) for mode in ("quiet", "loud")}


def test_library_noise_is_gone_and_msgpt_lines_remain(start_output):
    output = start_output["quiet"]
    for line in NOISE:
        assert line not in output, output
    for line in KEPT:
        assert line in output, output


@pytest.mark.parametrize("line", NOISE)
def test_upstream_still_prints_the_line_so_its_filter_is_needed(start_output, line):
    assert line in start_output["loud"], (
        f"the libraries no longer print {line!r}: its entry in msgpt.runtime.quiet.NOISE can go"
    )


def test_filter_drops_only_matching_messages_of_its_own_logger():
    quiet.install()
    quiet.install()  # idempotent: one filter per logger
    logger = logging.getLogger("datasets")
    assert sum(isinstance(f, quiet.DropMessages) for f in logger.filters) == 1

    def passes(name: str, message: str) -> bool:
        record = logging.LogRecord(name, logging.INFO, __file__, 1, message, None, None)
        return bool(logging.getLogger(name).filter(record))

    assert not passes("datasets", "PyTorch version 2.7.1+dev available.")
    assert passes("datasets", "PyTorch version 2.7.1+dev available, but something else went wrong")
    assert passes("datasets", "Loading the dataset from disk")
    assert passes("msgpt", "PyTorch version 2.7.1+dev available.")
