"""msgpt.recipes.cli: what every recipe's command line shares."""

from __future__ import annotations

import threading

import pytest

import msgpt.recipes.cli
import msgpt.runtime.distributed
from msgpt.recipes.cli import (
    OneLineParser,
    RecipeError,
    add_device_argument,
    prepare_output_dir,
    report_bad_input,
    run_main,
)


def test_device_names_in_any_case():
    parser = OneLineParser(prog="r.py")
    add_device_argument(parser)
    assert parser.parse_args(["--device", "ascend"]).device == "Ascend"
    assert parser.parse_args([]).device is None


@pytest.mark.parametrize("role, rank, printed", [(None, None, True), ("MS_WORKER", "0", True),
                                                 ("MS_WORKER", "1", False), ("MS_SCHED", "0", False)])
def test_parse_errors_are_one_line_said_once(monkeypatch, capsys, role, rank, printed):
    """Under msrun the parser starts communication to leave with the other ranks
    (report_bad_input; stubbed here, run for real by tests/training/test_data_parallel.py)."""
    started = []
    monkeypatch.setattr(msgpt.runtime.distributed, "init_distributed", lambda device=None: started.append(device))
    if role:
        monkeypatch.setenv("MS_WORKER_NUM", "2")
        monkeypatch.setenv("MS_ROLE", role)
        monkeypatch.setenv("RANK_ID", rank)
    parser = OneLineParser(prog="r.py")
    add_device_argument(parser)
    with pytest.raises(SystemExit) as exit_:
        parser.parse_args(["--device", "TPU"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert (err.count("\n"), err.startswith("r.py: error: argument --device")) == ((1, True) if printed else (0, False))
    assert started == ([None] if role else [])


def test_a_started_run_is_never_overwritten(tmp_path):
    out = tmp_path / "run"
    assert prepare_output_dir(out, resume=False) == out and not out.exists()  # nothing created yet
    (out / "checkpoint-3").mkdir(parents=True)
    with pytest.raises(RecipeError, match="already holds a run; add --resume"):
        prepare_output_dir(out, resume=False)
    assert prepare_output_dir(out, resume=True) == out
    assert prepare_output_dir(out, resume=False, evaluating_only=True) == out


def test_run_main_reports_bad_input_in_one_line(capsys):
    def bad():
        raise RecipeError("--data x.csv: no such file")

    assert run_main("r.py", "CPU", bad, str) == 2
    assert capsys.readouterr().err == "r.py: error: --data x.csv: no such file\n"
    assert run_main("r.py", "CPU", lambda: {"accuracy": 1.0}, lambda m: f"accuracy {m['accuracy']}") == 0
    assert capsys.readouterr().out == "accuracy 1.0\n"


@pytest.mark.parametrize("others_arrive", [True, False])
def test_bad_input_under_msrun_rank_zero_speaks_and_the_ranks_leave_together(monkeypatch, capsys, others_arrive):
    """The barrier the ranks wait at before they exit (tests/training/test_data_parallel.py runs the
    real one under msrun); a rank that meets bad input alone says so after the wait."""
    distributed = msgpt.runtime.distributed
    monkeypatch.setattr(distributed, "_INFO", distributed.DistributedInfo(rank=1, world_size=2))
    never = threading.Event()
    arrived = []
    monkeypatch.setattr(distributed, "barrier", lambda: arrived.append(1) if others_arrive else never.wait(5))
    monkeypatch.setattr(msgpt.recipes.cli, "BAD_INPUT_WAIT_S", 0.2)
    report_bad_input("r.py", "--data x.csv: no such file", main_process=True)
    assert capsys.readouterr().err == "r.py: error: --data x.csv: no such file\n"
    report_bad_input("r.py", "--data x.csv: no such file", main_process=False)
    assert capsys.readouterr().err == ("" if others_arrive else "r.py: error (rank 1): --data x.csv: no such file\n")
    assert arrived == ([1, 1] if others_arrive else [])
