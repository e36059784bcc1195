"""A trained model folder in, labels and class probabilities out; or out as MindIR for deployment.

``predictions`` runs the mindtorch model (``msgpt.predict``); ``graph`` writes the same
forward as one MindSpore ``Cell``, ``export`` saves it as MindIR with a card and the
tokenizer, and ``mindir_service`` runs those files with MindSpore alone (no msgpt).
"""

from __future__ import annotations

from msgpt._lazy import lazy_exports

_EXPORTS = {
    "predict": "msgpt.inference.predictions",
    "Predictions": "msgpt.inference.predictions",
    "default_max_length": "msgpt.inference.predictions",
    "export_mindir": "msgpt.inference.export",
    "check_export": "msgpt.inference.export",
    "Export": "msgpt.inference.export",
    "ExportCheck": "msgpt.inference.export",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
