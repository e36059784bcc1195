"""A trained model folder in, labels and class probabilities out."""

from __future__ import annotations

from msgpt._lazy import lazy_exports

_EXPORTS = {
    "predict": "msgpt.inference.predictions",
    "Predictions": "msgpt.inference.predictions",
    "default_max_length": "msgpt.inference.predictions",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
