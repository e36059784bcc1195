"""What every msgpt recipe's command line shares: one-line errors, the device and stopping options,
the output folder's guard, resuming, and a ``main`` that works alone or under ``msrun``.

    parser = OneLineParser(prog="my_recipe.py", description=__doc__)
    add_device_argument(parser)
    args = parser.parse_args()
    sys.exit(run_main("my_recipe.py", args.device, lambda: run(args), lambda m: f"done: {m}"))

Nothing here imports MindSpore or mindnlp at module level: a recipe parses and checks
its command line before anything heavy starts.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from pathlib import Path
from typing import Any, Callable

DEVICES = ("Ascend", "GPU", "CPU")

#: Seconds a rank that met bad input under msrun waits for the others to meet it too.
BAD_INPUT_WAIT_S = 60.0


class RecipeError(Exception):
    """A problem with the user's input: reported as one line, without a traceback."""


class OneLineParser(argparse.ArgumentParser):
    """``ArgumentParser`` whose errors are one line (no usage block), said once under msrun."""

    def error(self, message: str) -> None:
        from msgpt.runtime.distributed import init_distributed, is_main_process
        from msgpt.runtime.switches import launched_by_msrun

        # Under msrun every process parses the same line: rank 0 says what is wrong and all
        # leave together (report_bad_input), which needs communication up, as run_main
        # starts it (the scheduler process leaves there).
        if launched_by_msrun():
            init_distributed()
        report_bad_input(self.prog, message, is_main_process())
        self.exit(2)

    def parse_checked(self, argv: list[str] | None, check: Callable[[argparse.Namespace], None]) -> argparse.Namespace:
        """``parse_args``, then ``check(args)``: a ``RecipeError`` it raises is this parser's one-line error."""
        args = self.parse_args(argv)
        try:
            check(args)
        except RecipeError as error:
            self.error(str(error))
        return args


def check_batch_and_length(args: argparse.Namespace) -> None:
    """``--batch-size`` (>= 1) and ``--max-seq-len`` (>= 3, when given), as every
    classification recipe takes them; a ``RecipeError`` naming the option otherwise."""
    if args.batch_size < 1:
        raise RecipeError(f"--batch-size must be at least 1, got {args.batch_size}")
    if args.max_seq_len is not None and args.max_seq_len < 3:
        raise RecipeError(f"--max-seq-len must be at least 3 (<bos>, a token, <eos>), got {args.max_seq_len}")


def add_stopping_arguments(parser: argparse.ArgumentParser, watched: str) -> None:
    """``--max-steps``, ``--early-stopping-patience`` (on ``watched``, e.g. "validation
    accuracy") and ``--eval-steps``, as every training recipe takes them."""
    add = parser.add_argument
    add("--max-steps", type=int, default=-1, help="stop after this many optimizer steps (default: no limit)")
    add("--early-stopping-patience", type=int, metavar="N",
        help=f"stop when {watched} has not improved for N evaluations, keeping the best model "
        "(default: train to the end)")
    add("--eval-steps", type=int, metavar="N",
        help="evaluate and save a checkpoint every N optimizer steps (default: at the end of each epoch)")


def check_stopping_arguments(args: argparse.Namespace, *, evaluating_only: bool = False) -> None:
    """The values of ``add_stopping_arguments``' options; with ``evaluating_only`` the two
    that only training reads are refused."""
    if args.max_steps == 0 or args.max_steps < -1:
        raise RecipeError(f"--max-steps must be positive (or -1 for no limit), got {args.max_steps}")
    for name in ("early_stopping_patience", "eval_steps"):
        value = getattr(args, name)
        if value is not None and (value < 1 or evaluating_only):
            flag = f"--{name.replace('_', '-')}"
            raise RecipeError(f"{flag} is for training, not --eval-only" if evaluating_only
                              else f"{flag} must be at least 1, got {value}")


def device_name(text: str) -> str:
    """``ascend``/``gpu``/``cpu`` in any case, as MindSpore spells them."""
    return {"ascend": "Ascend", "gpu": "GPU", "cpu": "CPU"}.get(text.lower(), text)


def add_device_argument(parser: argparse.ArgumentParser) -> None:
    """``--device``: Ascend, GPU or CPU (default: ``$DEVICE_TARGET``, else the best available)."""
    parser.add_argument("--device", choices=DEVICES, type=device_name,
                        help="backend (default: $DEVICE_TARGET, else the best available)")


def add_input_columns(parser: argparse.ArgumentParser, *, labels: bool = True) -> None:
    """``--text-column``, ``--text-pair-column``, ``--candidate-columns`` and (with ``labels``)
    ``--label-column``: the columns a trained model's texts are read from (predict.py,
    export.py --check)."""
    add = parser.add_argument
    add("--text-column", default="text",
        help="text column of a data file: the text, a pair's first text, a question's context (default: text)")
    add("--text-pair-column", help="pair and similarity models: the second text's column")
    add("--candidate-columns",
        help="multiple-choice models: the candidates' columns, comma-separated, or one column of lists")
    if labels:
        add("--label-column", help="label column of a data file; scored when present (default: label, if any)")


def check_input_columns(args: argparse.Namespace) -> None:
    """``--candidate-columns`` as a tuple of names (a ``RecipeError`` for empty or repeated ones)."""
    if args.candidate_columns is not None:
        args.candidate_columns = parse_columns(args.candidate_columns)


def add_precision_argument(parser: argparse.ArgumentParser) -> None:
    """``--precision``: fp32, fp16 (autocast + dynamic loss scaling) or bf16 (autocast)."""
    from msgpt.training.precision import PRECISIONS

    parser.add_argument(
        "--precision", choices=PRECISIONS, default="fp32",
        help="compute precision, weights kept in float32: fp16 = float16 with dynamic loss scaling (Ascend 910A, "
        "GPU), bf16 = bfloat16 (Ascend 910B; the CPU has no bfloat16 kernels) (default: fp32)",
    )


def prepare_output_dir(output_dir: str | Path, *, resume: bool, evaluating_only: bool = False) -> Path:
    """The output folder (created when the first file is written): a finished or started
    run there is never overwritten silently."""
    out = Path(output_dir)
    # A stage of its own (the demo's pretraining/) counts as a started run too.
    started = out.is_dir() and (any(out.glob("checkpoint-*")) or any(out.glob("*/checkpoint-*")))
    if resume and not started and not evaluating_only:
        logging.getLogger("msgpt").warning("--resume: no checkpoint in %s, starting from the beginning", out)
    if not resume and not evaluating_only and (started or (out / "metrics.json").exists()):
        raise RecipeError(
            f"{out} already holds a run; add --resume to continue it or choose another --output-dir"
        )
    return out


def parse_label_names_option(text: str | None, option: str = "--label-names") -> tuple[str, ...] | None:
    """A comma-separated list of label names from the command line (None stays None)."""
    from msgpt.models.labels import parse_label_names

    if text is None:
        return None
    try:
        return parse_label_names(text)
    except ValueError as error:
        raise RecipeError(f"{option} {text!r}: {error}") from None


def parse_columns(text: str, option: str = "--candidate-columns", what: str = "column") -> tuple[str, ...]:
    """A comma-separated list of names (of columns, or ``what``) from the command line:
    none empty, none twice."""
    names = tuple(name.strip() for name in text.split(","))
    if "" in names:
        raise RecipeError(f"{option} {text!r}: a {what} name is empty")
    if len(set(names)) < len(names):
        raise RecipeError(f"{option} {text!r}: a {what} is named twice")
    return names


def refuse_to_overwrite(paths: list[Path], *, overwrite: bool) -> None:
    """A ``RecipeError`` naming the first of ``paths`` that exists, unless ``overwrite``."""
    if overwrite:
        return
    for path in paths:
        if Path(path).exists():
            raise RecipeError(f"{path} already exists; add --overwrite to replace it or choose another --output")


def last_checkpoint(out: str | Path) -> str | None:
    """The newest ``checkpoint-N`` in ``out`` that can resume the run, as rank 0 sees it, on
    every rank (or None); a damaged newer one is skipped with a warning naming the problem."""
    from msgpt.models.weights_check import newest_sound_checkpoint
    from msgpt.runtime.distributed import broadcast_object, is_main_process

    return broadcast_object(newest_sound_checkpoint(out) if is_main_process() else None)


def user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean bad input: reported as one line, exit status 2."""
    from msgpt.data import DataError
    from msgpt.runtime.hub import HubUnavailableError

    return (RecipeError, DataError, HubUnavailableError, FileNotFoundError, NotADirectoryError, ValueError)


def run_main(
    prog: str, device: str | None, run: Callable[[], Any], summary: Callable[[Any], str]
) -> int:
    """Run a recipe: exit status 0 with ``summary(result)`` printed, or 2 with one error line.

    Under ``msrun``, communication starts first, before any data or model work (the
    scheduler process leaves there); rank 0 alone logs at INFO, prints the summary and
    the error line (``report_bad_input``), the other ranks say only what goes wrong. A single
    process runs as is.
    """
    from msgpt.runtime.distributed import init_distributed, is_main_process

    init_distributed(device)
    main_process = is_main_process()
    logging.basicConfig(
        level=logging.INFO if main_process else logging.WARNING,
        format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S",
    )
    try:
        result = run()
    except user_errors() as error:
        report_bad_input(prog, str(error), main_process)
        return 2
    if main_process:
        print(summary(result))
    return 0


def report_bad_input(prog: str, message: str, main_process: bool = True) -> None:
    """The one error line for bad input, and under msrun every rank leaving together.

    Every rank meets the same bad input, parsing the command line (``OneLineParser``) or
    running (``run_main``); rank 0 prints the line, then all wait at a barrier before they
    exit. msrun stops the job as soon as one process exits with an error, and shows the
    ranks' output through ``tail`` processes it stops too: a rank that exited at once could
    end the job before rank 0's line got through, or before rank 0 got to it (seen in CI: no
    line at all).
    Should the input be bad for this rank alone, the others never come: after
    ``BAD_INPUT_WAIT_S`` it says so itself, naming its rank.
    """
    from msgpt.runtime.distributed import barrier, distributed_info

    if main_process:
        print(f"{prog}: error: {message}", file=sys.stderr, flush=True)
    info = distributed_info()
    if not info.enabled:
        return
    # In a thread, so that the wait can end: MindSpore's barrier has no timeout (it lets
    # Python run while it waits).
    waiting = threading.Thread(target=barrier, name="msgpt-bad-input-barrier", daemon=True)
    waiting.start()
    waiting.join(BAD_INPUT_WAIT_S)
    if waiting.is_alive() and not main_process:
        print(f"{prog}: error (rank {info.rank}): {message}", file=sys.stderr, flush=True)
