"""Small training runs through msgpt's data pipeline and Trainer, for
tests/training/test_data_parallel.py: started by ``msrun`` (data parallel) or alone (the reference).

Each run writes, for each rank, ``rank<R>.npz`` (final parameters, test predictions) and
``rank<R>.json`` (step counts, logged losses, probes) into its ``--out``. Several runs,
their options separated by ``--then``, go one after the other in one launch: a launch of
2 ranks costs two mindnlp start-ups, each further run only its training.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import msgpt  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--tokenizer", required=True)
parser.add_argument("--out", required=True)
parser.add_argument("--batch-size", type=int, default=4)
parser.add_argument("--max-steps", type=int, default=4)
parser.add_argument("--epochs", type=float, default=1)
parser.add_argument("--examples", type=int, default=64)
parser.add_argument("--padding", default="longest")
parser.add_argument("--grad-accum", type=int, default=1)
parser.add_argument("--init-from", help="rank 0 (only) starts from these weights (an npz of parameters)")
parser.add_argument("--fail-on-rank", type=int, default=-1)
parser.add_argument("--fail-at-step", type=int, default=2)
parser.add_argument("--probes", action="store_true", help="also probe the upstream gaps msgpt works around")
parser.add_argument("--lora-r", type=int, help="train rank-R LoRA adapters and the head only")
parser.add_argument("--precision", default="fp32")


def split_runs(argv: list[str]) -> list[list[str]]:
    groups: list[list[str]] = [[]]
    for arg in argv:
        if arg == "--then":
            groups.append([])
        else:
            groups[-1].append(arg)
    return groups


runs = [parser.parse_args(group) for group in split_runs(sys.argv[1:])]  # all checked before the first starts

info = msgpt.init_distributed("CPU")  # first: the msrun scheduler leaves in here

import msgpt.backend  # noqa: E402,F401  (mindnlp, on that device, before transformers)
from msgpt.backend.trainer_fixes import upstream_training_arguments_know_the_rank  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from conftest import make_texts  # noqa: E402
from training_helpers import tiny_classifier  # noqa: E402
from transformers import TrainerCallback  # noqa: E402

from msgpt.data import Examples, Splits, build_datasets  # noqa: E402
from msgpt.training import make_trainer, training_arguments  # noqa: E402


class Fail(TrainerCallback):
    def __init__(self, rank: int, step: int) -> None:
        self.rank, self.step = rank, step

    def on_step_end(self, training_args, state, control, **kwargs):
        if info.rank == self.rank and state.global_step == self.step:
            raise RuntimeError(f"rank {info.rank} fails at step {state.global_step} (test)")


def train(args: argparse.Namespace) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"started{info.rank}").write_text(str(time.time()))  # the failing run's test times from here

    # Skewed lengths (3 to 28 words) with the label in cue words, so bucketing has work to do.
    texts = make_texts(args.examples + 24, seed=11, min_words=1, max_words=26)
    labels = [i % 2 for i in range(len(texts))]
    texts = [t + (" great wonderful" if y else " awful boring") for t, y in zip(texts, labels)]
    examples = Examples(texts, labels, "dp-test")
    splits = Splits(
        examples.subset(range(args.examples)),
        examples.subset(range(args.examples, args.examples + 8)),
        examples.subset(range(args.examples, args.examples + 24)),
    )

    tokenizer = msgpt.load_tokenizer(args.tokenizer, fast=True)
    data = build_datasets(splits, tokenizer, batch_size=args.batch_size, max_seq_len=16,
                          strategy=args.padding, seed=5, device="CPU")
    # Initialisation differs by rank under msrun even with one seed: the Trainer must make
    # every rank start from rank 0's weights.
    model = tiny_classifier(tokenizer, seed=0)
    if args.lora_r:
        from msgpt.models.lora import add_lora

        model = add_lora(model, r=args.lora_r, dropout=0.0)
    if args.init_from and info.rank == 0:
        with torch.no_grad():
            for name, value in np.load(args.init_from).items():
                model.get_parameter(name.removeprefix("param/")).copy_(torch.from_numpy(value))
    initial = {f"param/{name}": p.detach().numpy().copy() for name, p in model.named_parameters()}

    trainer = make_trainer(
        model, tokenizer, data.train, data.validation,
        training_arguments(
            str(out / "trainer"), learning_rate=3e-3, warmup_ratio=0.0, num_train_epochs=args.epochs,
            max_steps=args.max_steps, per_device_train_batch_size=args.batch_size,
            per_device_eval_batch_size=args.batch_size, gradient_accumulation_steps=args.grad_accum,
            eval_strategy="no", save_strategy="no", load_best_model_at_end=False, logging_steps=1,
            disable_tqdm=True, seed=0,
        ),
        callbacks=[Fail(args.fail_on_rank, args.fail_at_step)], precision=args.precision,
    )
    batches_per_epoch = len(trainer.get_train_dataloader())
    trainer.train()
    prediction = trainer.predict(data.test)

    np.savez(out / f"init{info.rank}.npz", **initial)
    np.savez(
        out / f"rank{info.rank}.npz",
        predictions=prediction.predictions, label_ids=prediction.label_ids,
        **{f"param/{name}": p.detach().numpy() for name, p in trainer.model.named_parameters()},
    )
    (out / f"rank{info.rank}.json").write_text(json.dumps({
        **(probes(trainer, tokenizer, out) if args.probes else {}),
        "rank": info.rank, "world_size": info.world_size,
        "batches_per_epoch": batches_per_epoch, "global_step": trainer.state.global_step,
        "losses": [h["loss"] for h in trainer.state.log_history if "loss" in h],
        "test_metrics": prediction.metrics,
        "is_world_process_zero": trainer.is_world_process_zero(), "should_save": trainer.args.should_save,
        "communication_time_s": trainer.communication_time_s,
        "precision": trainer.precision_summary(),
    }))


def probes(trainer, tokenizer, out: Path) -> dict[str, bool]:
    return {
        "upstream_broadcast_object_list_works": upstream_broadcast_object_list_works(),
        "upstream_mindtorch_world_size_works": upstream_mindtorch_world_size_works(),
        "mindnlp_barrier_through_shim": mindnlp_barrier_through_shim(trainer, tokenizer, out),
        "upstream_training_arguments_know_the_rank": upstream_training_arguments_know_the_rank(info),
    }


def upstream_broadcast_object_list_works() -> bool:
    from mindspore.mint import distributed as dist

    holder = [f"from rank {info.rank}"]
    try:
        dist.broadcast_object_list(holder, src=0)
    except RuntimeError:
        return False
    return holder == ["from rank 0"]


def upstream_mindtorch_world_size_works() -> bool:
    try:
        return torch.distributed.get_world_size() == info.world_size
    except Exception:  # noqa: BLE001  (any failure: still broken)
        return False


def mindnlp_barrier_through_shim(trainer, tokenizer, out: Path) -> bool:
    """mindnlp's from_pretrained wrapper, which calls dist.barrier() under msrun."""
    from msgpt.runtime.distributed import barrier

    folder = out / "saved"
    if info.rank == 0:
        msgpt.save_pretrained(trainer.model, tokenizer, folder)
    barrier()
    loaded = msgpt.load_model(folder, tokenizer)
    return all(np.array_equal(a.detach().numpy(), b.detach().numpy())
               for a, b in zip(loaded.parameters(), trainer.model.parameters()))


for run in runs:
    train(run)
