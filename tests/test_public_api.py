"""msgpt's public API: the names a notebook imports, by stage, and the 0.1 names that still
work for one release with a warning."""

from __future__ import annotations

import importlib
import sys

import pytest

import msgpt

INTERNALS = ("needs_static_shapes", "yield_to_kernel_threads", "delimiter_id", "model_class", "train_bpe_tokenizer")


def test_every_public_name_resolves():
    for name in msgpt.__all__:
        assert getattr(msgpt, name) is not None, name
    assert "make_trainer" in msgpt.__all__ and "training_arguments" in msgpt.__all__


def test_internals_are_not_public():
    assert not set(INTERNALS) & set(msgpt.__all__)
    assert not set(msgpt._DEPRECATED) & set(msgpt.__all__)


@pytest.mark.parametrize("old", sorted(msgpt._DEPRECATED))
def test_an_old_name_warns_and_gives_its_replacement(old):
    target = msgpt._DEPRECATED[old]
    module, _, attribute = target.rpartition(":")
    expected = getattr(importlib.import_module(module), attribute) if module else getattr(msgpt, target)
    with pytest.warns(DeprecationWarning, match=f"msgpt.{old} is deprecated"):
        assert getattr(msgpt, old) is expected


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no_such_name"):
        msgpt.no_such_name  # noqa: B018


@pytest.mark.parametrize("old", sorted(msgpt._MOVED_MODULES))
def test_an_old_module_path_warns_and_gives_the_moved_module(old):
    new = importlib.import_module(msgpt._MOVED_MODULES[old])
    sys.modules.pop(old, None)
    parent, _, child = old.rpartition(".")
    vars(sys.modules[parent]).pop(child, None)
    with pytest.warns(DeprecationWarning, match=f"{old} is deprecated"):
        module = importlib.import_module(old)
    assert module is new
    assert module.__name__ == module.__spec__.name == msgpt._MOVED_MODULES[old]  # still itself


def test_from_import_of_a_moved_module_warns(monkeypatch):
    monkeypatch.delitem(sys.modules, "msgpt.tokenizer", raising=False)
    monkeypatch.delattr(msgpt, "tokenizer", raising=False)  # an earlier import set it
    with pytest.warns(DeprecationWarning, match="msgpt.tokenizer is deprecated"):
        from msgpt import tokenizer
    assert tokenizer.load_tokenizer is msgpt.load_tokenizer


def test_inference_package_gives_the_function_not_a_module():
    from msgpt.inference import predict

    assert callable(predict) and predict is msgpt.predict
