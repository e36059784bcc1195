"""The data-parallel context: one process per device, launched by MindSpore's ``msrun``.

    import msgpt
    info = msgpt.init_distributed()          # first thing: before data, models or mindnlp
    info.rank, info.world_size, info.is_main

``msrun`` starts every worker, and one scheduler process, with the same script. It sets
``MS_ROLE``, ``MS_WORKER_NUM``, ``MS_SCHED_HOST``/``PORT``, ``RANK_ID``, ``RANK_SIZE``
(not torchrun's ``RANK``/``WORLD_SIZE``). ``init_distributed`` turns that into an
initialised ``mindspore.communication`` world on the chosen device (HCCL on Ascend,
NCCL on GPU, MCCL on CPU); the scheduler process never returns from it (MindSpore ends
it there when the job is over), so nothing before the call may write anything. Outside
``msrun`` it does nothing and reports a world of one.

The device must be set before ``init()`` and must not be set again afterwards, which
mindtorch's import would do (``msgpt.backend`` prevents it), so the call has to come
before anything imports mindnlp.

This module needs MindSpore only; the collectives on mindtorch tensors that training
uses are in ``msgpt.training.data_parallel``.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from typing import Any

from msgpt.runtime.switches import launched_by_msrun

logger = logging.getLogger(__name__)

#: Backend MindSpore's ``init()`` picks for each device.
BACKENDS = {"Ascend": "hccl", "GPU": "nccl", "CPU": "mccl"}


@dataclass(frozen=True)
class DistributedInfo:
    """Where this process stands: its rank among ``world_size`` processes."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str | None = None

    @property
    def enabled(self) -> bool:
        """Whether several processes train together."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that writes files and prints results."""
        return self.rank == 0


def _communication():
    try:
        from mindspore import communication
    except ImportError:  # a MindSpore build without communication support
        return None
    return communication


def is_initialized() -> bool:
    """Whether ``mindspore.communication`` has been initialised in this process."""
    communication = _communication()
    return communication is not None and bool(communication.GlobalComm.INITED)


_INFO: DistributedInfo | None = None  # fixed once communication is initialised


def distributed_info() -> DistributedInfo:
    """Rank and world size of this process (a world of one when not initialised)."""
    global _INFO
    if _INFO is not None:
        return _INFO
    if not is_initialized():
        return DistributedInfo()
    from mindspore import communication, get_context

    world_size = communication.get_group_size()
    _INFO = DistributedInfo()
    if world_size > 1:
        _INFO = DistributedInfo(
            rank=communication.get_rank(),
            world_size=world_size,
            local_rank=communication.get_local_rank(),
            backend=BACKENDS.get(get_context("device_target")),
        )
    return _INFO


def is_main_process() -> bool:
    """Whether this process should print and write: rank 0, or a single process.

    Also right before ``init_distributed`` (from ``msrun``'s ``RANK_ID``), where the
    scheduler process counts as not main.
    """
    if is_initialized():
        return distributed_info().is_main
    if launched_by_msrun():
        return os.environ.get("MS_ROLE") == "MS_WORKER" and os.environ.get("RANK_ID", "0") == "0"
    return True


def init_distributed(device: str | None = None) -> DistributedInfo:
    """Initialise data-parallel communication when launched by ``msrun``; else a no-op.

    Selects ``device`` (default: ``$DEVICE_TARGET``, else the best available) and calls
    ``mindspore.communication.init()``, which picks HCCL, NCCL or MCCL for it. Call it
    first thing, before anything imports mindnlp; calling it again returns the same
    answer. Under ``msrun`` the scheduler process leaves inside this call.
    """
    if is_initialized():
        return distributed_info()
    if not launched_by_msrun():
        return DistributedInfo()
    if "mindtorch" in sys.modules:
        raise RuntimeError(
            "msgpt.init_distributed() must run before anything imports mindnlp (mindtorch sets "
            "the device at import, which MindSpore refuses after communication starts)"
        )
    import mindspore
    from mindspore import communication

    from msgpt.runtime.device import select_device

    device = select_device(device)
    if os.environ.get("MS_ROLE") != "MS_SCHED":
        # The scheduler only coordinates; it never touches a device.
        mindspore.set_device(device)
    communication.init()  # the scheduler process exits in here when the job ends
    info = distributed_info()
    logger.info(
        "data parallel: rank %d of %d on %s (%s)", info.rank, info.world_size, device, info.backend
    )
    return info


def barrier() -> None:
    """Wait until every process gets here (no-op for a single process).

    On the CPU, an all-reduce of one number: MindSpore's barrier ends in
    ``mindspore.runtime.synchronize()``, which has no CPU device and logs an ERROR line
    each time ("CPU device is not supported"). msrun's report of a failed job shows the
    lines around every ERROR of the ranks' logs, so that one also repeated the lines
    written just before it (a bad-input error line, for one).
    """
    if not distributed_info().enabled:
        return
    import mindspore
    from mindspore.mint import distributed as dist

    if mindspore.get_context("device_target") == "CPU":
        dist.all_reduce(mindspore.Tensor([0], mindspore.int32))  # returns once every rank has sent
    else:
        dist.barrier()


def broadcast_object(obj: Any, src: int = 0) -> Any:
    """``obj`` as rank ``src`` has it, on every rank (small objects of builtin types).

    Through ``all_gather_objects``: MindSpore 2.7's ``broadcast_object_list`` looks its
    rank up in ``hccl_world_group`` whatever the backend (a default argument fixed when
    ``import mindspore`` ran, before ``init()``), so it fails on GPU and CPU.
    ``tests/training/test_data_parallel.py`` says when it works.
    """
    if not distributed_info().enabled:
        return obj
    return all_gather_objects(obj)[src]


def all_gather_objects(obj: Any) -> list[Any]:
    """Every rank's ``obj``, in rank order, on every rank.

    Builtin types only (str, bytes, numbers, None, lists, tuples, dicts): MindSpore
    unpickles what it receives with builtins alone.
    """
    info = distributed_info()
    if not info.enabled:
        return [obj]
    from mindspore.mint import distributed as dist

    gathered: list[Any] = [None] * info.world_size
    dist.all_gather_object(gathered, obj)
    return gathered
