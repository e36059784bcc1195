"""Saved weights readable like every other file of a model folder.

safetensors 0.8's writer creates its file with mode 0600 whatever the umask, so a folder
that msgpt or HF's Trainer saves had ``model.safetensors`` 0600 beside 0644 config and
tokenizer files: another user, a serving process or a copy to shared storage could not read
the weights. ``install()`` (called by the ``msgpt.backend`` bootstrap) wraps
``safetensors.numpy.save_file``, which mindnlp's ``safetensors.torch.save_file`` calls for
every save, to give the file the mode the umask gives any new file.
``tests/backend/test_file_modes.py`` fails when safetensors no longer needs it.
"""

from __future__ import annotations

import functools
import os
from typing import Callable

import safetensors.numpy

_ORIGINAL: Callable | None = None


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def install() -> None:
    """Make ``safetensors.numpy.save_file`` leave its file ``0o666 & ~umask`` (umask read now)."""
    global _ORIGINAL
    if _ORIGINAL is not None:
        return
    _ORIGINAL = original = safetensors.numpy.save_file
    mode = 0o666 & ~_umask()

    @functools.wraps(original)
    def save_file(tensor_dict, filename, metadata=None):
        result = original(tensor_dict, filename, metadata)
        os.chmod(filename, mode)
        return result

    safetensors.numpy.save_file = save_file


def original_save_file() -> Callable:
    """safetensors' own ``save_file``, for the probe that tells when ``install`` can go."""
    return _ORIGINAL or safetensors.numpy.save_file
