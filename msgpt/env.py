"""``python -m msgpt.env``: the environment, as a bug report needs it.

Prints the versions of msgpt's stack, Python and the platform, the device msgpt would
choose and those this MindSpore build can use, whether ``torch`` is mindtorch, the hub
settings (endpoint, offline mode, cache folders) and, on Ascend machines, the CANN and
driver versions. Every entry is probed on its own: a missing or broken piece is reported
as "not installed", "not found" or "unknown (...)" and the rest is still printed.
"""

from __future__ import annotations

import glob
import importlib.metadata
import os
import platform
import sys
from pathlib import Path
from typing import Callable, Mapping

#: Distributions reported, in order (names as pip knows them).
PACKAGES = ("mindspore", "mindnlp", "transformers", "tokenizers", "huggingface-hub", "datasets", "numpy")

#: Where CANN's toolkit is usually installed (``ASCEND_HOME_PATH``/``ASCEND_TOOLKIT_HOME``,
#: set by its ``set_env.sh``, are tried first); each holds ``<arch>-linux/ascend_toolkit_install.info``.
CANN_ROOTS = (
    "/usr/local/Ascend/ascend-toolkit/latest",
    "/usr/local/Ascend/cann",
    "/usr/local/Ascend/cann-*",
    "~/Ascend/ascend-toolkit/latest",
    "~/Ascend/cann",
)
DRIVER_INFO = "/usr/local/Ascend/driver/version.info"


def package_version(name: str) -> str:
    """The installed version of distribution ``name`` from its metadata, or "not installed"."""
    # Metadata, not __version__: mindnlp 0.5.1 still says "0.5.0rc2" there.
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _read_field(path: Path, key: str) -> str | None:
    """The value of ``key=value`` in a CANN or driver info file (key case-insensitive)."""
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip().lower() == key:
            return value.strip()
    return None


def cann_version(environ: Mapping[str, str] = os.environ, roots: tuple[str, ...] = CANN_ROOTS) -> str | None:
    """The version in the first CANN toolkit install info found, with its path
    ("8.0.RC2 (/usr/local/Ascend/...)"), or None."""
    candidates = [environ.get("ASCEND_HOME_PATH"), environ.get("ASCEND_TOOLKIT_HOME"), *roots]
    for root in filter(None, candidates):
        for folder in sorted(glob.glob(os.path.expanduser(root)), reverse=True):  # cann-8.5.0 before cann-8.0.0
            for info in sorted(Path(folder).glob("*-linux/ascend_toolkit_install.info")):
                try:
                    version = _read_field(info, "version")
                except OSError:
                    continue
                if version:
                    return f"{version} ({info})"
    return None


def driver_version(path: str = DRIVER_INFO) -> str | None:
    """The Ascend driver's version from its ``version.info``, or None."""
    try:
        return _read_field(Path(path), "version")
    except OSError:
        return None


def _probe(compute: Callable[[], str]) -> str:
    # One broken piece must not hide the others: the report is most needed when something is broken.
    try:
        return compute()
    except BaseException as error:  # noqa: BLE001  (an import can raise anything, even SystemExit)
        if isinstance(error, KeyboardInterrupt):
            raise
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return f"unknown ({type(error).__name__}{': ' + message if message else ''})"


def _msgpt() -> str:
    import msgpt

    return f"{msgpt.__version__} ({Path(msgpt.__file__).parent})"


def _chosen_device() -> str:
    from msgpt.runtime.device import ENV_VAR, resolve_device

    return f"{resolve_device()} ({'as $' + ENV_VAR if os.environ.get(ENV_VAR) else 'the best available'})"


def _available_devices() -> str:
    from msgpt.runtime.device import available_devices

    return ", ".join(available_devices())


def _torch() -> str:
    import msgpt.backend  # noqa: F401  (makes `import torch` give mindtorch, as in every msgpt run)

    import torch

    where = getattr(torch, "__file__", None) or "?"
    return f"mindtorch ({where})" if "mindtorch" in where else f"NOT mindtorch: {where}"


def _datasets_cache() -> str:
    import datasets

    return str(datasets.config.HF_DATASETS_CACHE)


def _env(name: str, meaning_if_unset: str) -> str:
    value = os.environ.get(name)
    return value if value is not None else f"unset ({meaning_if_unset})"


def collect() -> dict[str, str]:
    """The report's entries, in order: name -> value (never raises)."""
    # The user's settings, read before mindnlp's import (it sets HF_ENDPOINT itself and
    # msgpt's import of it sets DEVICE_TARGET).
    settings = {
        "HF_ENDPOINT": _env("HF_ENDPOINT", "the hub's default"),
        "HF_HUB_OFFLINE": _env("HF_HUB_OFFLINE", "online"),
        "DEVICE_TARGET": _env("DEVICE_TARGET", "the best available device"),
        "MSGPT_COMPILE": _env("MSGPT_COMPILE", "compiled blocks on the CPU"),
        "MSGPT_YIELD": _env("MSGPT_YIELD", "the waiting thread lowered on the CPU"),
    }
    report: dict[str, str] = {
        "msgpt": _probe(_msgpt),
        **{name: _probe(lambda name=name: package_version(name)) for name in PACKAGES},
        "Python": f"{platform.python_version()} ({sys.executable})",
        "platform": _probe(lambda: f"{platform.platform()} ({platform.machine()})"),
        "DEVICE_TARGET": settings["DEVICE_TARGET"],
        "device chosen": _probe(_chosen_device),
        "devices available": _probe(_available_devices),
        "torch": _probe(_torch),
        "MSGPT_COMPILE": settings["MSGPT_COMPILE"],
        "MSGPT_YIELD": settings["MSGPT_YIELD"],
        "HF_ENDPOINT": settings["HF_ENDPOINT"],
        "HF_HUB_OFFLINE": settings["HF_HUB_OFFLINE"],
    }

    def hub(attribute: str) -> str:
        import huggingface_hub.constants as constants

        return str(getattr(constants, attribute))

    report["hub endpoint used"] = _probe(lambda: hub("ENDPOINT"))
    report["HF_HOME"] = _probe(lambda: hub("HF_HOME"))
    report["hub cache"] = _probe(lambda: hub("HF_HUB_CACHE"))
    report["datasets cache"] = _probe(_datasets_cache)
    report["CANN"] = _probe(lambda: cann_version() or "not found (no ascend_toolkit_install.info at the usual paths)")
    report["Ascend driver"] = _probe(lambda: driver_version() or f"not found ({DRIVER_INFO})")
    return report


def format_report(report: Mapping[str, str]) -> str:
    """One ``name: value`` line per entry, names aligned."""
    width = max(map(len, report))
    return "\n".join(f"{name + ':':<{width + 1}} {value}" for name, value in report.items())


def main() -> int:
    """Print the report (the ``python -m msgpt.env`` command)."""
    report = collect()  # mindnlp's import may log; the report comes after, in one piece
    print(format_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
