"""msgpt's patch of mindnlp's hub endpoint (msgpt/backend/__init__.py): the endpoint stays the user's."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

PROBE = """
import json, os
import msgpt.backend as patch
import huggingface_hub.constants as hub, transformers.utils.hub as th, datasets.config as dc
print(json.dumps({"injected": patch.INJECTED_ENDPOINT, "env": os.environ.get("HF_ENDPOINT"),
                  "hub": hub.ENDPOINT, "default": hub._HF_DEFAULT_ENDPOINT,
                  "transformers": th.HUGGINGFACE_CO_RESOLVE_ENDPOINT, "datasets": dc.HF_ENDPOINT}))
"""


def _probe(**env: str) -> dict:
    environment = {k: v for k, v in os.environ.items() if k != "HF_ENDPOINT"} | env
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=environment, capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def unset_probe() -> dict:
    """One start without HF_ENDPOINT, read by the two tests that need it."""
    return _probe()


def test_mindnlp_still_injects_an_endpoint_so_the_patch_is_needed(unset_probe):
    assert unset_probe["injected"], (
        "mindnlp no longer sets HF_ENDPOINT on import: msgpt/backend/__init__.py's undo can be removed"
    )


def test_unset_endpoint_stays_unset_and_libraries_use_their_default(unset_probe):
    seen = unset_probe
    assert seen["env"] is None
    assert seen["hub"] == seen["transformers"] == seen["datasets"] == seen["default"]


def test_endpoint_set_by_the_user_is_kept():
    seen = _probe(HF_ENDPOINT="http://127.0.0.1:9")
    assert seen["injected"] is None
    assert seen["env"] == seen["hub"] == seen["transformers"] == seen["datasets"] == "http://127.0.0.1:9"
