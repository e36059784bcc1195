"""Collectives on mindtorch tensors for data-parallel training (``msgpt.runtime.distributed``).

mindnlp 0.5.1 has no working data parallel (its ``DistributedDataParallel`` is an empty
class), so ``MindSporeTrainer`` does what DDP does with these, through
``mindspore.mint.distributed`` (which accepts mindtorch tensors on every backend):

* ``broadcast_parameters``: every rank starts from rank 0's weights;
* ``all_reduce_gradients``: the mean gradient over ranks, one flat all-reduce per dtype;
* ``EvalShard`` + ``gather_rows``: evaluation split by whole batches, results gathered
  back into the single-process order.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

import msgpt.backend  # noqa: F401  (mindnlp before torch)

import numpy as np
import torch
from mindspore.mint import distributed as dist

from msgpt.runtime.distributed import all_gather_objects, distributed_info


def _by_dtype(tensors: Iterable[torch.Tensor]) -> dict[Any, list[torch.Tensor]]:
    groups: dict[Any, list[torch.Tensor]] = {}
    for tensor in tensors:
        groups.setdefault(tensor.dtype, []).append(tensor)
    return groups


def _flatten(tensors: list[torch.Tensor]) -> torch.Tensor:
    return torch.cat([t.reshape(-1) for t in tensors])


def _unflatten(flat: torch.Tensor, like: list[torch.Tensor]) -> list[torch.Tensor]:
    sizes = [t.numel() for t in like]
    return [part.reshape(t.shape) for part, t in zip(torch.split(flat, sizes), like)]


def all_reduce_gradients(parameters: Iterable[torch.Tensor]) -> int:
    """Replace each ``p.grad`` by its mean over all ranks; returns the collectives used.

    Gradients are flattened into one buffer per dtype, so a step costs one all-reduce
    (not one per parameter). Every rank must call it with the same parameters in the
    same order. A no-op for a single process.
    """
    info = distributed_info()
    if not info.enabled:
        return 0
    by_dtype: dict[Any, list[torch.Tensor]] = {}
    for param in parameters:
        if param.grad is not None:
            by_dtype.setdefault(param.grad.dtype, []).append(param)
    for params in by_dtype.values():
        grads = [p.grad for p in params]
        flat = _flatten(grads)
        dist.all_reduce(flat)
        # Rebinding, as the clipping does: an in-place copy is a host sync per tensor on CPU.
        for param, grad in zip(params, _unflatten(flat / info.world_size, grads)):
            param.grad = grad
    return len(by_dtype)


@torch.no_grad()
def broadcast_parameters(module: torch.nn.Module, src: int = 0) -> None:
    """Give every rank rank ``src``'s parameters and buffers (in place, one call per dtype)."""
    if not distributed_info().enabled:
        return
    tensors = [p for p in module.parameters()] + [b for b in module.buffers()]
    for group in _by_dtype(tensors).values():
        flat = _flatten([t.detach() for t in group])
        dist.broadcast(flat, src=src)
        for tensor, value in zip(group, _unflatten(flat, group)):
            # A clone: copied from a view, mindtorch's parameter would share the flat
            # buffer's storage, and HF's save_pretrained refuses shared tensors.
            tensor.copy_(value.clone())


class EvalShard:
    """This rank's share of an evaluation loader: whole batches, round robin.

    Rank ``r`` of ``n`` evaluates batches ``r, r + n, r + 2n, ...`` exactly as a single
    process would batch them (same rows, same padding), and every rank takes the same
    number of steps: a rank whose batches have run out repeats one marked as padding,
    which ``gather_rows`` leaves out. Gathering each step in rank order then restores the
    single-process order.
    """

    def __init__(self, loader: Any, rank: int, world_size: int) -> None:
        self.loader = loader
        self.rank = rank
        self.world_size = world_size
        self.padding = False  # whether the batch last yielded is a stand-in

    def __len__(self) -> int:
        return -(-len(self.loader) // self.world_size)

    @property
    def batch_size(self) -> int:
        return self.loader.batch_size

    @property
    def num_examples(self) -> int:
        """Examples in the whole evaluation set (as a single process counts them)."""
        return self.loader.num_examples

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        steps, taken, spare = len(self), 0, None
        for batch in self.loader.batches(select=lambda i: i % self.world_size == self.rank):
            spare = batch
            self.padding = False
            taken += 1
            yield batch
        while taken < steps:
            if spare is None:  # fewer batches than ranks: borrow the first one
                spare = next(iter(self.loader))
            self.padding = True
            taken += 1
            yield spare
        self.padding = False


def all_gather_arrays(array: np.ndarray | None) -> list[np.ndarray | None]:
    """Every rank's ``array`` (or None), in rank order, on every rank."""
    # MindSpore unpickles gathered objects with builtins only: send bytes, not arrays.
    packed = None if array is None else (array.dtype.str, array.shape, np.ascontiguousarray(array).tobytes())
    return [
        None if part is None else np.frombuffer(part[2], dtype=np.dtype(part[0])).reshape(part[1])
        for part in all_gather_objects(packed)
    ]


def gather_rows(tensor: torch.Tensor, shard: EvalShard) -> torch.Tensor:
    """Every rank's rows of this step's ``tensor``, in rank order; stand-in batches add none."""
    parts = all_gather_arrays(None if shard.padding else tensor.detach().cpu().numpy())
    rows = np.concatenate([part for part in parts if part is not None])
    return torch.from_numpy(rows.copy()).to(tensor.device)
