"""The one place msgpt imports mindnlp, and the patches it applies there.

1. **Hub endpoint.** ``import mindnlp`` sets ``HF_ENDPOINT`` to a mirror when the user
   left it unset, and the hub libraries it imports copy that value into module constants
   at import time. msgpt leaves endpoints to the user: when ``HF_ENDPOINT`` was unset
   before the import, this module removes it again and rewrites the copied constants
   back to the hub libraries' own default. A user who wants the mirror sets
   ``HF_ENDPOINT`` themselves. ``tests/backend/test_mindnlp_patch.py`` fails if mindnlp stops
   overriding the endpoint (the patch is no longer needed) or if the undo stops working.

2. **CPU kernels.** ``msgpt.backend.cpu_ops.install()`` replaces five of mindtorch's CPU ops by
   faster MindSpore kernels with the same results (see that module and
   ``tests/backend/test_cpu_ops.py``).

3. **Compiled blocks.** ``msgpt.backend.compiled.install()`` runs GPT-1's transformer blocks as
   compiled MindSpore graphs on the CPU, unless ``MSGPT_COMPILE=0`` (see that module and
   ``tests/backend/test_compiled.py``).

4. **Data parallel (msrun).** Two mindtorch gaps, both met only once
   ``mindspore.communication`` is initialised (``msgpt.init_distributed``):

   a. mindtorch's import calls ``mindspore.set_device($DEVICE_TARGET)``, which MindSpore
      refuses after ``init()`` ("can not be modified": ``init`` gave the process its own
      device id). The device is already set then, so ``DEVICE_TARGET`` is hidden while
      mindnlp is imported, and mindtorch takes the device from MindSpore's context.
   b. mindnlp's ``from_pretrained`` wrapper calls ``torch.distributed.get_world_size()``
      and ``barrier()`` whenever communication is initialised; mindtorch's fail without
      its own process group ("Default process group has not been initialized"), and
      with one, its barrier fails on CPU. The wrapper's module gets ``_DistributedShim``:
      rank and size from ``mindspore.communication``, ``msgpt.runtime.distributed.barrier``,
      everything else mindtorch's.
   ``tests/training/test_data_parallel.py`` checks both under msrun, with probes that fail when
   mindtorch no longer needs them.

5. **Quiet start.** ``msgpt.runtime.quiet.install()``, before the import, filters the three
   lines that importing mindnlp (diffusers, datasets) and loading GPT-1's tokenizer print
   on every run, on the loggers that emit them (see that module and ``tests/runtime/test_quiet.py``).

6. **Weights files' mode.** safetensors 0.8 writes 0600 whatever the umask;
   ``msgpt.backend.file_modes.install()`` gives saved weights the umask's mode like every
   other file (see that module and ``tests/backend/test_file_modes.py``).
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


from msgpt.runtime import quiet  # noqa: E402
from msgpt.runtime.device import select_device  # noqa: E402

quiet.install()  # before mindnlp's import emits the first of those lines
select_device()  # $DEVICE_TARGET or the best device, and its runtime settings, before mindtorch

_user_endpoint = os.environ.get("HF_ENDPOINT")

from msgpt.runtime.distributed import is_initialized as _communication_initialized  # noqa: E402

_device_env = os.environ.pop("DEVICE_TARGET", None) if _communication_initialized() else None
try:
    import mindnlp  # noqa: E402  (must come before anything that imports transformers)
    import mindnlp.transformers  # noqa: E402,F401  (applies mindnlp's Trainer/from_pretrained patches)
finally:
    if _device_env is not None:
        os.environ["DEVICE_TARGET"] = _device_env

#: The endpoint mindnlp injected, or None when the user had set one or mindnlp no longer does.
INJECTED_ENDPOINT: str | None = None
if _user_endpoint is None and os.environ.get("HF_ENDPOINT"):
    import huggingface_hub.constants as _hub_constants

    INJECTED_ENDPOINT = os.environ["HF_ENDPOINT"].rstrip("/")
    _restore_endpoint(INJECTED_ENDPOINT, _hub_constants._HF_DEFAULT_ENDPOINT)

from msgpt.backend import compiled, cpu_ops, file_modes  # noqa: E402

file_modes.install()
cpu_ops.install()
if compiled.requested():
    compiled.install()


class _DistributedShim:
    """``mindtorch.distributed`` as mindnlp's ``from_pretrained`` wrapper uses it, with
    rank, world size and barrier from MindSpore's communication (see 4b above)."""

    def __init__(self, upstream) -> None:
        self._upstream = upstream

    @staticmethod
    def get_rank(group=None) -> int:
        from mindspore import communication

        return communication.get_rank()

    @staticmethod
    def get_world_size(group=None) -> int:
        from mindspore import communication

        return communication.get_group_size()

    @staticmethod
    def barrier(group=None, async_op=False, device_ids=None):
        from msgpt.runtime.distributed import barrier

        barrier()

    def __getattr__(self, name: str):
        return getattr(self._upstream, name)


def _from_pretrained_wrapper_globals() -> dict | None:
    """The namespace of mindnlp's ``_get_resolved_checkpoint_files`` wrapper (the module
    ``mindnlp/transformers/modeling_utils.py``, which the name ``mindnlp.transformers``
    no longer reaches: it is HF transformers there), or None if mindnlp has none."""
    import transformers.modeling_utils

    function = getattr(transformers.modeling_utils, "_get_resolved_checkpoint_files", None)
    namespace = getattr(function, "__globals__", {})
    return namespace if "dist" in namespace and namespace.get("__name__", "").startswith("mindnlp") else None


_wrapper_globals = _from_pretrained_wrapper_globals()
if _wrapper_globals is not None and not isinstance(_wrapper_globals["dist"], _DistributedShim):
    _wrapper_globals["dist"] = _DistributedShim(_wrapper_globals["dist"])
