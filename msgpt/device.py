"""Choose the MindSpore backend (Ascend, GPU or CPU) before mindnlp is imported.

mindtorch reads the ``DEVICE_TARGET`` environment variable once, when it is first
imported, so the choice has to be made before any model or tokenizer helper runs.
``msgpt._mindnlp`` calls ``select_device()`` itself, so the default is applied even when
a user never calls it.

On the CPU, kernels are launched synchronously (``mindspore.runtime.launch_blocking``):
mindtorch reads shapes and dtypes of fresh tensors all the time, and each read waits for
the asynchronous pipeline anyway, so synchronous launch makes a training step 2-4x faster
there (``benchmarks/train_step.py``). Ascend and GPU keep asynchronous launch.
"""

from __future__ import annotations

import os
import sys

DEVICES = ("Ascend", "GPU", "CPU")
ENV_VAR = "DEVICE_TARGET"  # the variable mindtorch itself reads at import


def _canonical(name: str) -> str:
    for device in DEVICES:
        if name.strip().lower() == device.lower():
            return device
    raise ValueError(f"unknown device {name!r}: choose one of {', '.join(DEVICES)}")


def available_devices() -> list[str]:
    """Backends this MindSpore build can run on here, best first."""
    from mindspore._c_expression import MSContext  # pylint: disable=no-name-in-module

    context = MSContext.get_instance()
    return [d for d in DEVICES if d == "CPU" or context.is_pkg_support_device(d)]


def resolve_device(name: str | None = None) -> str:
    """The device to use: ``name``, else ``$DEVICE_TARGET``, else the best available one."""
    requested = name or os.environ.get(ENV_VAR)
    if requested:
        device = _canonical(requested)
        if device not in available_devices():
            raise RuntimeError(
                f"device {device} was requested but this MindSpore build cannot use it here "
                f"(available: {', '.join(available_devices())})"
            )
        return device
    return available_devices()[0]


def select_device(name: str | None = None) -> str:
    """Resolve the device and make MindSpore and mindtorch use it; returns its name.

    Call it before the first model or tokenizer helper (they import mindnlp). Calling it
    again with the same device is harmless; changing device afterwards is an error.
    """
    device = resolve_device(name)
    if "mindtorch" in sys.modules:
        import mindspore

        current = mindspore.get_context("device_target")
        if current != device:
            raise RuntimeError(
                f"mindnlp is already running on {current}; select {device} before importing "
                "mindnlp or calling msgpt's model helpers (or set DEVICE_TARGET)"
            )
        return device
    os.environ[ENV_VAR] = device
    if device == "CPU":
        import mindspore

        mindspore.runtime.launch_blocking()
    return device


def current_device() -> str:
    """The device MindSpore is running on (selects the default one if none was chosen)."""
    if "mindtorch" not in sys.modules:
        return select_device()
    import mindspore

    return mindspore.get_context("device_target")


def needs_static_shapes(device: str | None = None) -> bool:
    """True on Ascend, where every new input shape compiles a new graph."""
    return (_canonical(device) if device else current_device()) == "Ascend"
