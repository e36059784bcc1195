"""Peak memory of the running process, for the benchmarks' msgpt and PyTorch sides alike
(plain Python: the PyTorch side runs it in its own venv)."""

from __future__ import annotations


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, MB: VmHWM, since ru_maxrss keeps the peak
    of the process that started this one across exec (here: the msgpt side's)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    raise RuntimeError("no VmHWM in /proc/self/status (peak memory is read on Linux only)")
