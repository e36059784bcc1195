"""Choose the MindSpore backend (Ascend, GPU or CPU) before mindnlp is imported.

mindtorch reads the ``DEVICE_TARGET`` environment variable once, when it is first
imported, so the choice has to be made before any model or tokenizer helper runs.
``msgpt.backend`` calls ``select_device()`` itself, so the default is applied even when
a user never calls it.

On the CPU, kernels are launched synchronously (``mindspore.runtime.launch_blocking``):
mindtorch reads shapes and dtypes of fresh tensors all the time, and each read waits for
the asynchronous pipeline anyway, so synchronous launch makes a training step 2-4x faster
there (``benchmarks/train_step.py``). Ascend and GPU keep asynchronous launch.

While a kernel runs, the Python thread that launched it busy-waits (``sched_yield`` in a
loop) and so does MindSpore's dispatch queue: on a machine with few cores they take CPU
time from the two threads that compute (``ActorThread_0`` and ``KernelThread_0`` on 2
cores). ``yield_to_kernel_threads`` lowers the waiting thread's scheduling priority so
that the kernels get the cores; msgpt's Trainer and ``msgpt.predict`` call it on the CPU.
"""

from __future__ import annotations

import os
import sys
import threading

from msgpt.runtime.switches import launched_by_msrun, switch_on

DEVICES = ("Ascend", "GPU", "CPU")
ENV_VAR = "DEVICE_TARGET"  # the variable mindtorch itself reads at import
#: Environment variable: ``0`` keeps the waiting thread at its priority (see below).
YIELD_ENV = "MSGPT_YIELD"
#: The niceness the waiting thread gets: the lowest ordinary priority.
WAITING_NICENESS = 19
_YIELDED: set[int] = set()


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


def yield_to_kernel_threads() -> bool:
    """On the CPU (Linux), give the calling thread the lowest scheduling priority (nice 19),
    so that its busy-wait for MindSpore's kernels stops taking a core from the threads that
    run them; returns whether this thread now runs below them.

    MindSpore has no passive wait policy: the launching thread and the dispatch queue spin
    on ``sched_yield`` while a kernel runs (a quarter of the CPU time of a demo fine-tuning
    step on 2 cores). At nice 19 they get a core only when the kernel threads leave one
    idle, which is exactly when Python has work to do (launches are synchronous on the
    CPU). Measured: ``benchmarks/waiting_thread.py``. The kernel threads are started first
    (one small kernel), because threads inherit the niceness of the thread that starts
    them; threads this one starts later (MindSpore's queues) wait at nice 19 too.

    Only this thread changes, for the rest of the process: an unprivileged process cannot
    raise a priority again. ``MSGPT_YIELD=0`` in the environment turns this off; Ascend and
    GPU are left alone (the host thread waits for the device there, not for host cores),
    and so are msrun's processes.
    """

    if not switch_on(YIELD_ENV):
        return False
    if not sys.platform.startswith("linux") or current_device() != "CPU":
        return False

    if launched_by_msrun():
        # Ranks on one CPU compete for the same cores anyway; measured, 2 ranks on 2 cores
        # were no faster with it (153 s against 141 s for a reduced two-stage demo).
        return False
    thread = threading.get_native_id()
    if thread in _YIELDED:
        return True
    _start_kernel_threads()
    try:
        if os.getpriority(os.PRIO_PROCESS, thread) >= WAITING_NICENESS:
            return False  # started at the lowest priority already: nothing to yield to
        os.setpriority(os.PRIO_PROCESS, thread, WAITING_NICENESS)
    except OSError:
        return False
    _YIELDED.add(thread)
    return True


def _start_kernel_threads() -> None:
    """Run one small kernel: MindSpore starts its kernel threads at the first one."""
    import mindspore
    import numpy as np

    mindspore.ops.add(mindspore.Tensor(np.ones(2, np.float32)), 1.0).asnumpy()
