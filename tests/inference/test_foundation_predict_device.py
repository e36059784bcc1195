"""predict() on a saved folder, and device selection."""

from __future__ import annotations

import numpy as np
import pytest

import msgpt
from msgpt.runtime import device


def test_predict_from_folder_gives_labels_and_probabilities(tiny_model, tokenizer, tmp_path):
    folder = msgpt.save_pretrained(tiny_model, tokenizer, tmp_path / "best")
    texts = ["a great film.", "boring and long.", "sad music.", "i loved it."]
    result = msgpt.predict(texts, folder, batch_size=3)
    assert result.probabilities.shape == (4, 2)
    np.testing.assert_allclose(result.probabilities.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(result.labels, result.probabilities.argmax(axis=1))
    one_by_one = [msgpt.predict([t], tiny_model, tokenizer).probabilities[0] for t in texts]
    np.testing.assert_allclose(result.probabilities, np.stack(one_by_one), rtol=1e-4, atol=1e-6)


def test_predict_names_the_bad_text(tiny_model, tokenizer):
    with pytest.raises(ValueError, match="item 1"):
        msgpt.predict(["fine.", "  "], tiny_model, tokenizer)


def test_device_from_argument_and_environment(monkeypatch):
    monkeypatch.delenv("DEVICE_TARGET", raising=False)
    assert msgpt.resolve_device("cpu") == "CPU"
    monkeypatch.setenv("DEVICE_TARGET", "CPU")
    assert msgpt.resolve_device() == "CPU"
    monkeypatch.delenv("DEVICE_TARGET")
    assert msgpt.resolve_device() in msgpt.available_devices()


def test_unknown_or_unavailable_device_is_rejected(monkeypatch):
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        msgpt.resolve_device("tpu")
    monkeypatch.setattr(device, "available_devices", lambda: ["CPU"])
    with pytest.raises(RuntimeError, match="Ascend was requested"):
        msgpt.resolve_device("ascend")


def test_static_shapes_only_on_ascend():
    assert device.needs_static_shapes("Ascend")
    assert not device.needs_static_shapes("GPU")
    assert not device.needs_static_shapes("CPU")
    assert not device.needs_static_shapes()  # tests run on the CPU


def test_device_cannot_change_once_mindnlp_runs(monkeypatch):
    assert msgpt.select_device("CPU") == "CPU"
    monkeypatch.setattr(device, "available_devices", lambda: ["GPU", "CPU"])
    with pytest.raises(RuntimeError, match="already running on CPU"):
        msgpt.select_device("GPU")


def test_cpu_launches_kernels_synchronously():
    from mindspore._c_expression import RuntimeConf  # pylint: disable=no-name-in-module

    assert msgpt.current_device() == "CPU"
    assert RuntimeConf.get_instance().is_launch_blocking()
