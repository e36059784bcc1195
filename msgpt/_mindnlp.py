"""The one place msgpt imports mindnlp, and the patches it applies there.

1. **Hub endpoint.** ``import mindnlp`` sets ``HF_ENDPOINT`` to a mirror when the user
   left it unset, and the hub libraries it imports copy that value into module constants
   at import time. msgpt leaves endpoints to the user: when ``HF_ENDPOINT`` was unset
   before the import, this module removes it again and rewrites the copied constants
   back to the hub libraries' own default. A user who wants the mirror sets
   ``HF_ENDPOINT`` themselves. ``tests/test_mindnlp_patch.py`` fails if mindnlp stops
   overriding the endpoint (the patch is no longer needed) or if the undo stops working.

2. **CPU kernels.** ``msgpt.cpu_ops.install()`` replaces five of mindtorch's CPU ops by
   faster MindSpore kernels with the same results (see that module and
   ``tests/test_cpu_ops.py``).
"""

from __future__ import annotations

import os
import sys

_HUB_PACKAGES = ("huggingface_hub", "transformers", "datasets", "diffusers", "evaluate", "mindnlp")


def _restore_endpoint(injected: str, default: str) -> int:
    """Replace ``injected`` by ``default`` in the hub libraries' string constants."""
    os.environ.pop("HF_ENDPOINT", None)
    replaced = 0
    for name, module in list(sys.modules.items()):
        if module is None or name.split(".")[0] not in _HUB_PACKAGES:
            continue
        for attr, value in list(vars(module).items()):
            if isinstance(value, str) and value.startswith(injected):
                setattr(module, attr, default + value[len(injected):])
                replaced += 1
    return replaced


from msgpt.device import select_device  # noqa: E402

select_device()  # $DEVICE_TARGET or the best device, and its runtime settings, before mindtorch

_user_endpoint = os.environ.get("HF_ENDPOINT")

import mindnlp  # noqa: E402  (must come before anything that imports transformers)
import mindnlp.transformers  # noqa: E402,F401  (applies mindnlp's Trainer/from_pretrained patches)

#: The endpoint mindnlp injected, or None when the user had set one or mindnlp no longer does.
INJECTED_ENDPOINT: str | None = None
if _user_endpoint is None and os.environ.get("HF_ENDPOINT"):
    import huggingface_hub.constants as _hub_constants

    INJECTED_ENDPOINT = os.environ["HF_ENDPOINT"].rstrip("/")
    _restore_endpoint(INJECTED_ENDPOINT, _hub_constants._HF_DEFAULT_ENDPOINT)

from msgpt import cpu_ops  # noqa: E402

cpu_ops.install()
