"""python -m msgpt.env: the bug-report environment, complete and never crashing."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys

import msgpt
from msgpt import env


def _run(**extra: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("HF_ENDPOINT", "HF_HUB_OFFLINE")}
    result = subprocess.run([sys.executable, "-m", "msgpt.env"], capture_output=True, text=True, timeout=300,
                            env={**environment, "DEVICE_TARGET": "CPU", **extra})
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    return {name: value.strip() for name, _, value in (line.partition(":") for line in lines)}


def test_report_names_versions_device_torch_and_hub_settings():
    report = _run(HF_HUB_OFFLINE="1", MSGPT_YIELD="0")
    for name in ("mindspore", "mindnlp", "transformers", "tokenizers", "numpy"):
        assert report[name] == importlib.metadata.version(name)
    assert report["msgpt"].startswith(msgpt.__version__)
    assert report["Python"].startswith(".".join(map(str, sys.version_info[:3])))
    assert report["platform"] and not report["platform"].startswith("unknown")
    assert report["DEVICE_TARGET"] == "CPU" and report["device chosen"].startswith("CPU (as $DEVICE_TARGET)")
    assert "CPU" in report["devices available"].split(", ")
    assert report["torch"].startswith("mindtorch (")
    # Unset stays unset: the endpoint that mindnlp's import injects is not reported as the user's.
    assert report["HF_ENDPOINT"].startswith("unset") and report["hub endpoint used"] == "https://huggingface.co"
    assert report["HF_HUB_OFFLINE"] == "1" and report["MSGPT_YIELD"] == "0"
    assert report["hub cache"].startswith(report["HF_HOME"])
    assert report["CANN"]  # a version on Ascend machines, "not found" here


def test_endpoint_set_by_the_user_is_reported():
    report = _run(HF_ENDPOINT="http://127.0.0.1:9")
    assert report["HF_ENDPOINT"] == report["hub endpoint used"] == "http://127.0.0.1:9"


def test_mindnlp_version_comes_from_the_package_metadata():
    # mindnlp 0.5.1's own __version__ says 0.5.0rc2.
    assert env.package_version("mindnlp") == importlib.metadata.version("mindnlp")
    assert env.package_version("no-such-package-for-msgpt") == "not installed"


def test_cann_version_from_the_toolkit_install_info(tmp_path):
    home = tmp_path / "ascend-toolkit" / "8.0.RC2"
    (home / "aarch64-linux").mkdir(parents=True)
    info = home / "aarch64-linux" / "ascend_toolkit_install.info"
    info.write_text("package_name=Ascend-cann-toolkit\nversion=8.0.RC2\narch=aarch64\n")
    assert env.cann_version({"ASCEND_HOME_PATH": str(home)}, roots=()) == f"8.0.RC2 ({info})"
    assert env.cann_version({}, roots=(str(tmp_path / "ascend-toolkit" / "*"),)) == f"8.0.RC2 ({info})"
    assert env.cann_version({}, roots=(str(tmp_path / "nowhere"),)) is None
    info.write_text("package_name=Ascend-cann-toolkit\n")  # no version field
    assert env.cann_version({"ASCEND_HOME_PATH": str(home)}, roots=()) is None


def test_driver_version(tmp_path):
    (tmp_path / "version.info").write_text("Version=24.1.rc2\nascendhal_version=7.35.19\n")
    assert env.driver_version(str(tmp_path / "version.info")) == "24.1.rc2"
    assert env.driver_version(str(tmp_path / "missing.info")) is None


def test_a_broken_piece_is_reported_not_raised(monkeypatch):
    def broken():
        raise RuntimeError("MindSpore context is broken\nsecond line")

    monkeypatch.setattr("msgpt.runtime.device.available_devices", broken)
    monkeypatch.setattr(env, "package_version", lambda name: (_ for _ in ()).throw(ImportError("metadata gone")))
    report = env.collect()
    assert report["devices available"] == "unknown (RuntimeError: MindSpore context is broken)"
    assert report["device chosen"].startswith("unknown (RuntimeError")
    assert report["numpy"] == "unknown (ImportError: metadata gone)"
    assert report["torch"].startswith("mindtorch")  # the other entries are still there
    assert env.format_report(report).count("\n") == len(report) - 1
