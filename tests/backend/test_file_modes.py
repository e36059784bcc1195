"""msgpt.backend.file_modes: saved weights get the umask's mode, like the folder's other files."""

from __future__ import annotations

import os
import stat

from msgpt.backend import file_modes

import numpy as np

import msgpt


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def expected_mode() -> int:
    return 0o666 & ~file_modes._umask()


def test_upstream_safetensors_still_writes_private_files(tmp_path):
    path = tmp_path / "w.safetensors"
    file_modes.original_save_file()({"a": np.zeros(3, dtype=np.float32)}, str(path))
    assert mode(path) == 0o600, (
        f"safetensors now writes {oct(mode(path))}: msgpt.backend.file_modes can go")


def test_a_saved_model_folder_is_readable_like_its_other_files(tiny_model, tokenizer, tmp_path):
    folder = msgpt.save_pretrained(tiny_model, tokenizer, tmp_path / "best")
    weights = folder / "model.safetensors"
    assert weights.is_file() and expected_mode() != 0o600  # the suite runs with umask 022
    assert mode(weights) == mode(folder / "config.json") == expected_mode()
