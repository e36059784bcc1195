"""What the environment says before anything starts: msgpt's on/off switches, and msrun.

Imports nothing from msgpt: the device, distributed and backend modules all read it.
"""

from __future__ import annotations

import os


def switch_on(name: str) -> bool:
    """Whether msgpt's on/off environment switch ``name`` (``MSGPT_COMPILE``,
    ``MSGPT_YIELD``) leaves its feature on: anything but ``0``/``false``/``no``/``off``."""
    return os.environ.get(name, "1").strip().lower() not in ("0", "false", "no", "off")


def launched_by_msrun() -> bool:
    """Whether this process was started by ``msrun`` (a worker or the scheduler)."""
    return os.environ.get("MS_ROLE") in ("MS_WORKER", "MS_SCHED") and "MS_WORKER_NUM" in os.environ
