"""Data parallel across machines, as a ModelArts multi-node job runs it: one msrun launcher per
node (``--worker_num=2 --local_worker_num=1 --node_rank=N --master_addr=...``), here two
launchers on this machine, one rank each.

msrun starts the scheduler on the launcher whose ``--master_addr`` is one of ``ip -j addr``'s
addresses (``_is_local_ip``); on one machine both launchers would, so node 1 runs with an
``ip`` on its PATH that lists no address, as a second machine's would. Everything else is
msrun's and MindSpore's own: the rank ids from ``--node_rank``, the MCCL collectives over TCP.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
from test_data_parallel import MSRUN, MSRUN_ENV, WORKER, _free_port, _logs, _params

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="msrun's nodes, on Linux")

NO_ADDRESSES = """#!/bin/sh
# As msrun sees a second machine: none of this host's addresses is the master's.
[ "$1" = "-j" ] && echo "[]" && exit 0
exec /usr/sbin/ip "$@"
"""


def launch_nodes(tmp: Path, *worker_args: str, cluster_time_out: int = 60) -> list[subprocess.Popen]:
    """Node 0 (the scheduler and rank 0) and node 1 (rank 1), each its own msrun launcher."""
    fake = tmp / "second-machine"
    fake.mkdir(exist_ok=True)
    (fake / "ip").write_text(NO_ADDRESSES)
    (fake / "ip").chmod(0o755)
    port = _free_port()
    nodes = []
    for node in (0, 1):
        env = dict(MSRUN_ENV)
        if node == 1:
            env["PATH"] = f"{fake}{os.pathsep}{env['PATH']}"
        command = [str(MSRUN), "--worker_num=2", "--local_worker_num=1", f"--node_rank={node}",
                   "--master_addr=127.0.0.1", f"--master_port={port}", f"--log_dir={tmp / f'logs{node}'}",
                   "--join=True", f"--cluster_time_out={cluster_time_out}", str(WORKER), *worker_args]
        console = (tmp / f"console{node}.txt").open("w")  # a file, not an unread pipe msrun could block on
        nodes.append(subprocess.Popen(command, stdout=console, stderr=subprocess.STDOUT, env=env,
                                      start_new_session=True))
        console.close()  # the launcher has its own copy
        if node == 0:
            time.sleep(2)  # the scheduler first, as on a real cluster's master node
    return nodes


def test_two_nodes_train_as_one_job(tmp_path, tokenizer_dir):
    nodes = launch_nodes(tmp_path, "--tokenizer", str(tokenizer_dir), "--out", str(tmp_path / "out"))
    codes = [node.wait(timeout=300) for node in nodes]
    logs = "\n".join(_logs(tmp_path / f"logs{n}") for n in (0, 1))
    assert codes == [0, 0], logs
    import json

    ranks = [json.loads((tmp_path / "out" / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [(r["rank"], r["world_size"], r["should_save"]) for r in ranks] == [(0, 2, True), (1, 2, False)]
    assert ranks[0]["global_step"] == ranks[1]["global_step"] == 4
    first, second = (_params(np.load(tmp_path / "out" / f"rank{r}.npz")) for r in (0, 1))
    assert first.keys() == second.keys() and all(np.array_equal(first[k], second[k]) for k in first)


def test_a_dead_node_ends_the_job_non_zero_in_bounded_time(tmp_path, tokenizer_dir):
    out = tmp_path / "out"
    nodes = launch_nodes(tmp_path, "--tokenizer", str(tokenizer_dir), "--out", str(out), "--max-steps", "100000",
                         "--examples", "4000", cluster_time_out=30)
    deadline = time.monotonic() + 240
    while not (out / "started1").exists() and time.monotonic() < deadline and nodes[1].poll() is None:
        time.sleep(0.1)
    assert (out / "started1").exists(), _logs(tmp_path / "logs1")
    launcher = psutil.Process(nodes[1].pid)
    dead = [launcher, *launcher.children(recursive=True)]  # the launcher and its rank: the machine is gone
    for process in dead:
        process.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    code = nodes[0].wait(timeout=300)
    waited = time.monotonic() - killed
    nodes[1].wait(timeout=30)
    assert code != 0, _logs(tmp_path / "logs0")
    assert waited < 150, f"node 0 noticed the dead node after {waited:.0f} s"
    print(f"node 0 ended with {code} {waited:.0f} s after node 1 died")
