"""Workarounds for mindtorch (mindnlp 0.5.1) gaps that HF's Trainer runs into.

1. **Gradient clipping.** ``torch.nn.utils.clip_grad_norm_`` (what
   ``Accelerator.clip_grad_norm_`` calls for the Trainer's ``max_grad_norm``) takes the
   norm of each gradient with ``LpNorm`` and ``axis=None``, which MindSpore's CPU and GPU
   kernels reject ("the type of 'axis' should be one of [int, tuple, list]"); only
   Ascend's pyboost kernel accepts it. It also rescales with ``Tensor.copy_``, which on
   CPU is a host sync per gradient. ``clip_grad_norm_`` below takes the global L2 norm as
   ``sqrt(sum(g * g))`` (plain multiply and sum kernels, on every backend) and rebinds
   each ``p.grad`` to the scaled gradient, with no sync. ``install_clip_grad_norm`` puts
   it on one ``Accelerator`` instance, so the Trainer's own clipping step uses it.

2. **AdamW.** ``torch.optim.AdamW`` fails on CPU and GPU (mindtorch has ``addcdiv`` on
   Ascend only). msgpt's answer is ``msgpt.training.optim.AdamW``, a fused MindSpore
   kernel used on every backend (it is also much faster); this module only holds the
   probe that says whether the upstream optimizer works.

3. **Loading a checkpoint's weights.** mindnlp replaces ``safetensors.safe_open`` with its
   own reader, whose constructor has no ``backend`` argument and which has no
   ``get_tensors``; ``safetensors.torch.load_file`` (0.8) uses both, so the Trainer's
   ``load_best_model_at_end`` and ``resume_from_checkpoint`` fail, and so does peft's
   loading of a LoRA adapter. ``safetensors_load_file``
   reads the file through the patched ``safe_open`` the way older safetensors did, and
   ``patched_safetensors_load_file()`` puts it in place only while the Trainer loads.

4. **Loading a checkpoint's RNG state.** ``Trainer._load_rng_state`` (resuming) wraps
   ``torch.load`` in ``torch.serialization.safe_globals``, which mindtorch lacks.
   mindtorch's ``load`` does not restrict unpickling (``weights_only=False``), so
   ``patched_safe_globals()`` supplies a do-nothing ``safe_globals`` inside the block.

5. **The rank under msrun.** HF's ``TrainingArguments`` take the process layout from
   accelerate's ``PartialState``, which reads torchrun's variables; under ``msrun`` every
   rank is process 0 of 1, so each would save, log and show progress bars.
   ``install_rank_aware_state`` gives the arguments a ``distributed_state`` that answers
   the rank questions (``process_index``, so ``should_save``, ``should_log`` and
   ``Trainer.is_world_process_zero``) from ``msgpt.runtime.distributed`` and leaves the rest,
   the world size HF batches and wraps the model for included, as HF has it:
   ``MindSporeTrainer`` does the data parallel itself (mindnlp's DDP is an empty class).

The ``upstream_*`` probes try the upstream code path on a tiny input; the tests in
``tests/backend/test_trainer_fixes.py`` assert that they still fail on this backend and
say which workaround can go once one passes.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
import types
from typing import Any, Iterable, Iterator

import safetensors
import safetensors.torch
import torch
from accelerate import Accelerator
from accelerate.utils import DistributedType
from transformers import TrainingArguments

from msgpt.runtime.distributed import DistributedInfo

# Distributed modes whose Accelerator clips in its own way (sharded or engine-managed
# gradients): the replacement hands them back to accelerate.
_DELEGATED = (DistributedType.FSDP, DistributedType.DEEPSPEED, DistributedType.XLA)


def _grads(parameters: Iterable[torch.Tensor] | torch.Tensor) -> tuple[list, list]:
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    params = [p for p in parameters if p.grad is not None]
    return params, [p.grad for p in params]


def global_grad_norm(grads: Iterable[torch.Tensor], norm_type: float = 2.0) -> torch.Tensor:
    """The norm of all ``grads`` seen as one vector (L2 or ``inf``), as a 0-d tensor.

    Stays on the device: nothing is read back to the host.
    """
    grads = list(grads)
    if not grads:
        return torch.tensor(0.0)
    if norm_type == math.inf:
        return torch.stack([g.abs().max().float() for g in grads]).max()
    if norm_type != 2.0:
        raise ValueError(f"only the L2 and inf norms are supported, got norm_type={norm_type}")
    # float32 sums: a bf16/fp16 sum of squares loses the small gradients.
    return torch.stack([_sum_of_squares(g) for g in grads]).sum().sqrt()


def _sum_of_squares(grad: torch.Tensor) -> torch.Tensor:
    """``(grad * grad).sum()`` in float32, as a 0-d tensor.

    Summed over the last axis first, then over the rest: MindSpore's CPU kernel for a
    reduction over all axes at once is several times slower than these two
    (``benchmarks/train_step.py``: clipping GPT-1's gradients took ~0.7 s, now ~0.1 s).
    """
    if grad.dtype != torch.float32:
        grad = grad.float()
    square = grad * grad
    return square.sum(-1).sum() if square.ndim > 1 else square.sum()


@torch.no_grad()
def clip_grad_norm_(
    parameters: Iterable[torch.Tensor] | torch.Tensor, max_norm: float, norm_type: float = 2.0
) -> torch.Tensor:
    """``torch.nn.utils.clip_grad_norm_`` that works on every MindSpore backend.

    Scales all gradients by ``min(1, max_norm / (norm + 1e-6))`` (PyTorch's rule, applied
    unconditionally to avoid a host sync) and returns the norm before clipping. The L2
    case runs as one compiled graph where ``msgpt.backend.compiled`` is on (CPU, float32).
    """
    params, grads = _grads(parameters)
    if float(norm_type) == 2.0:
        from msgpt.backend import compiled

        done = compiled.clip_by_global_norm(grads, max_norm)
        if done is not None:
            total, clipped = done
            for param, grad in zip(params, clipped):
                param.grad = grad
            return total
    total = global_grad_norm(grads, float(norm_type))
    if not params:
        return total
    scale = torch.clamp(float(max_norm) / (total + 1e-6), max=1.0)
    scales = {}  # one cast per dtype, not per gradient
    for param, grad in zip(params, grads):
        if grad.dtype not in scales:
            scales[grad.dtype] = scale.to(grad.dtype)
        # Rebinding instead of grad.copy_(): an in-place copy is a host sync on CPU.
        param.grad = grad * scales[grad.dtype]
    return total


def install_clip_grad_norm(accelerator: Accelerator) -> Accelerator:
    """Make ``accelerator.clip_grad_norm_`` use ``clip_grad_norm_`` (this instance only).

    FSDP, DeepSpeed and XLA keep accelerate's own clipping. Returns ``accelerator``.
    """
    upstream = accelerator.clip_grad_norm_
    if getattr(upstream, "_msgpt_fix", False):
        return accelerator

    def clip(self: Accelerator, parameters, max_norm, norm_type=2):
        if self.distributed_type in _DELEGATED or float(norm_type) not in (2.0, math.inf):
            return upstream(parameters, max_norm, norm_type=norm_type)
        self.unscale_gradients()  # a no-op without fp16 loss scaling, as in accelerate
        return clip_grad_norm_(parameters, max_norm, norm_type=norm_type)

    clip._msgpt_fix = True  # type: ignore[attr-defined]
    accelerator.clip_grad_norm_ = types.MethodType(clip, accelerator)
    return accelerator


class _RankAwareState:
    """``TrainingArguments.distributed_state`` with this process's rank.

    Under ``msrun`` HF's state (accelerate's ``PartialState``) sees a world of one, so
    every rank would call itself process 0 and write and log. This view answers the
    rank questions (``should_save``, ``should_log``, ``is_world_process_zero`` read
    them) from ``msgpt.runtime.distributed`` and leaves everything else, the world size HF
    batches and wraps the model for included, as it was: msgpt does the data parallel.
    """

    def __init__(self, state: Any, info: DistributedInfo) -> None:
        self._state = state
        self._info = info

    @property
    def process_index(self) -> int:
        return self._info.rank

    @property
    def local_process_index(self) -> int:
        return self._info.local_rank

    @property
    def is_main_process(self) -> bool:
        return self._info.rank == 0

    @property
    def is_local_main_process(self) -> bool:
        return self._info.local_rank == 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._state, name)


def install_rank_aware_state(args: TrainingArguments | None, info: DistributedInfo) -> None:
    """Make ``args`` know this process's rank (data parallel only; idempotent)."""
    if args is None or not info.enabled or isinstance(args.distributed_state, _RankAwareState):
        return
    args.distributed_state = _RankAwareState(args.distributed_state, info)


def upstream_training_arguments_know_the_rank(info: DistributedInfo) -> bool:
    """Whether plain ``TrainingArguments`` see the distributed world msgpt initialised."""
    with tempfile.TemporaryDirectory() as folder:
        args = TrainingArguments(output_dir=folder, report_to="none")
        return (args.world_size, args.process_index) == (info.world_size, info.rank)


def safetensors_load_file(
    filename: str | os.PathLike, device: str | int = "cpu", backend: str | None = None
) -> dict[str, torch.Tensor]:
    """``safetensors.torch.load_file`` through mindnlp's ``safe_open`` (``backend`` is ignored)."""
    tensors = {}
    with safetensors.safe_open(str(filename), framework="pt", device=device) as handle:
        for name in handle.keys():
            tensors[name] = handle.get_tensor(name)
    return tensors


def _load_file_bindings() -> list[tuple[Any, str]]:
    """Where the upstream ``load_file`` is called from: safetensors' module (HF's Trainer
    looks it up there) and peft's own binding of it (``safe_load_file``, taken at import),
    which loads LoRA adapters."""
    bindings: list[tuple[Any, str]] = [(safetensors.torch, "load_file")]
    try:
        import peft.utils.save_and_load as peft_loading
    except ImportError:  # peft is pinned, but the Trainer does not need it
        return bindings
    return [*bindings, (peft_loading, "safe_load_file")]


@contextlib.contextmanager
def patched_safetensors_load_file() -> Iterator[None]:
    """``safetensors_load_file`` in place of ``safetensors.torch.load_file`` (and peft's
    binding of it) inside the block only.

    Does nothing when the upstream function works (see ``upstream_load_file_works``).
    """
    if _upstream_load_file_ok():
        yield
        return
    saved = [(module, name, getattr(module, name)) for module, name in _load_file_bindings()]
    for module, name, _ in saved:
        setattr(module, name, safetensors_load_file)
    try:
        yield
    finally:
        for module, name, upstream in saved:
            setattr(module, name, upstream)


_LOAD_FILE_OK: bool | None = None


def _upstream_load_file_ok() -> bool:
    global _LOAD_FILE_OK
    if _LOAD_FILE_OK is None:
        _LOAD_FILE_OK = upstream_load_file_works()
    return _LOAD_FILE_OK


def _null_safe_globals(allowlist: Iterable[Any]) -> contextlib.AbstractContextManager:
    """Stand-in for ``torch.serialization.safe_globals``: nothing to allow in mindtorch."""
    return contextlib.nullcontext()


@contextlib.contextmanager
def patched_safe_globals() -> Iterator[None]:
    """``torch.serialization.safe_globals`` exists inside the block (if it did not already)."""
    if upstream_safe_globals_exists():
        yield
        return
    torch.serialization.safe_globals = _null_safe_globals
    try:
        yield
    finally:
        del torch.serialization.safe_globals


def _probe_param() -> torch.nn.Parameter:
    param = torch.nn.Parameter(torch.ones(2, 3))
    param.grad = torch.full((2, 3), 0.5)
    return param


def upstream_clip_grad_norm_works() -> bool:
    """Whether ``torch.nn.utils.clip_grad_norm_`` runs and is right on this backend."""
    try:
        norm = torch.nn.utils.clip_grad_norm_([_probe_param()], 1.0)
        return abs(float(norm) - math.sqrt(6 * 0.25)) < 1e-5
    except Exception:  # noqa: BLE001  (any failure means: still broken)
        return False


def upstream_adamw_works() -> bool:
    """Whether ``torch.optim.AdamW`` (the Trainer's default optimizer) can step here."""
    param = _probe_param()
    try:
        torch.optim.AdamW([param], lr=0.1).step()
        # First step of Adam moves every weight by lr (times sign of the gradient).
        return abs(float(param[0, 0]) - (1.0 - 0.1 - 0.1 * 0.01)) < 1e-5
    except Exception:  # noqa: BLE001
        return False


def upstream_load_file_works() -> bool:
    """Whether ``safetensors.torch.load_file`` reads back a file ``save_file`` wrote."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "probe.safetensors")
        try:
            safetensors.torch.save_file({"w": torch.ones(2, 3)}, path)
            loaded = safetensors.torch.load_file(path, device="cpu")
            return float(loaded["w"].sum()) == 6.0
        except Exception:  # noqa: BLE001
            return False


def upstream_safe_globals_exists() -> bool:
    """Whether mindtorch has ``torch.serialization.safe_globals`` (HF calls it on resume)."""
    return hasattr(torch.serialization, "safe_globals")
