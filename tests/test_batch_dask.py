"""The Dask engine gives the local engine's results, row for row, on a real cluster, and a
Dask worker process killed in the middle of a run loses nothing."""

import json
import logging
import os
import re
import signal
import subprocess
import time

import pandas as pd
import pytest
from conftest import REFERENCE_SCENARIO, ROOT
from test_batch import INNOSIM, TAX_SWEEP, innosim, write_experiment

from sim.batch import read_results
from sim.batch.batch import run_batch
from sim.batch.store import ResultStore

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    """A scheduler and two worker processes, listening on the loopback interface only."""
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    ) as local:
        yield local


def test_dask_cluster_results_equal_local_engine_row_for_row(tmp_path, cluster):
    path = write_experiment(tmp_path, TAX_SWEEP)
    local, dask = tmp_path / "local", tmp_path / "dask"
    run_batch(path, engine="local", workers=2, out=local)
    address = cluster.scheduler_address
    assert address.startswith("tcp://127.0.0.1:")
    with distributed.Client(address) as client:
        workers = client.scheduler_info()["workers"]
    assert len(workers) == 2 and all(w.startswith("tcp://127.0.0.1:") for w in workers)

    result = innosim("batch", path, "--out", dask, "--engine", "dask", "--scheduler", address)
    assert "12 of 12 runs finished, 0 failed" in result.stderr

    expected, got = read_results(local), read_results(dask)
    assert len(got) == 12 * 2
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    manifest = json.loads((dask / "manifest.json").read_text())
    session = manifest["sessions"][-1]
    assert (session["engine"], session["scheduler"], session["workers"]) == ("dask", address, 2)
    ran_on = {r["worker"].rsplit(":", 1)[1] for r in manifest["runs"]}
    assert len(ran_on) >= 1 and all(r["status"] == "ok" for r in manifest["runs"])


def test_dask_engine_starts_its_own_loopback_cluster_and_matches_inline_runs(tmp_path):
    path = write_experiment(tmp_path, TAX_SWEEP)
    summary = run_batch(path, engine="dask", workers=2, out=tmp_path / "dask")
    assert (summary.done, summary.failed) == (12, 0)
    run_batch(path, engine="inline", out=tmp_path / "local")
    pd.testing.assert_frame_equal(
        read_results(tmp_path / "dask"), read_results(tmp_path / "local"), check_exact=True
    )
    session = json.loads((tmp_path / "dask" / "manifest.json").read_text())["sessions"][-1]
    assert session["scheduler"].startswith("tcp://127.0.0.1:") and session["workers"] == 2


def test_unreachable_scheduler_is_a_one_line_error(tmp_path):
    path = write_experiment(tmp_path, TAX_SWEEP)
    result = innosim(
        "batch",
        path,
        "--out",
        tmp_path / "o",
        "--engine",
        "dask",
        "--scheduler",
        "tcp://127.0.0.1:9",
        check=False,
        env={**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"},
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("innosim: error: --scheduler tcp://127.0.0.1:9: cannot connect")
    assert result.stderr.count("\n") == 1


# --------------------------------------------------------------- a worker killed mid-run

# 2 tax rates x 3 seeds of the 300-firm district over 60 years: a run takes a few seconds, so
# a worker is caught in the middle of one, and the batch has runs left after the kill.
LONG_RUNS = """
[replications]
seeds = 3

[levers]
"policy.hitech_tax_rate" = [0.10, 0.15]
"""
LONG_MONTHS = 720


@pytest.fixture(scope="module")
def long_runs_clean(tmp_path_factory):
    """The uninterrupted dataset, made inline in this process."""
    tmp = tmp_path_factory.mktemp("clean")
    path = write_experiment(tmp, LONG_RUNS, scenario=REFERENCE_SCENARIO, months=LONG_MONTHS)
    run_batch(path, engine="inline", out=tmp / "out")
    return read_results(tmp / "out")


def running_runs(dask_worker) -> list[tuple[str, float]]:
    """(key, seconds since it started) of each task a Dask worker is executing now.

    Runs in the worker process (``client.run``).
    """
    now = time.time()
    return [(str(ts.key), now - ts.start_time) for ts in dask_worker.state.executing]


def kill_a_worker_in_a_run(client, batch, out, deadline: float) -> tuple[int, int]:
    """Once a run is saved, SIGKILL the process of a worker that has just started a run.

    A run takes seconds; one started less than half a second ago is still running when the
    kill lands. Returns (the run id it was running, the process id killed).
    """
    while True:
        assert batch.poll() is None, batch.communicate()
        assert time.monotonic() < deadline, "no worker was caught in a run"
        if ResultStore(out).finished():
            for address, running in sorted(client.run(running_runs).items()):
                started = [key for key, seconds in running if seconds < 0.5]
                if started:
                    pid = client.run(os.getpid, workers=[address])[address]
                    os.kill(pid, signal.SIGKILL)
                    run_id = int(re.match(r"innosim-run-(\d+)-", started[0]).group(1))
                    return run_id, pid
        time.sleep(0.05)


@pytest.mark.parametrize(
    "allowed_failures, outcome",
    [(3, "retried"), (0, "failed")],  # 3: Dask's default; 0: a death fails the task at once
)
def test_a_dask_worker_killed_mid_run_is_retried_or_failed_and_resume_completes_the_dataset(
    tmp_path, long_runs_clean, allowed_failures, outcome
):
    import dask
    import distributed

    path = write_experiment(tmp_path, LONG_RUNS, scenario=REFERENCE_SCENARIO, months=LONG_MONTHS)
    out = tmp_path / "out"
    settings = {
        "distributed.scheduler.allowed-failures": allowed_failures,
        "distributed.worker.profile.enabled": False,
    }
    with (
        dask.config.set(settings),
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            silence_logs=logging.CRITICAL,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        address = cluster.scheduler_address
        command = [INNOSIM, "batch", str(path), "--out", str(out), "--engine", "dask"]
        command += ["--scheduler", address]
        batch = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
        try:
            run_id, pid = kill_a_worker_in_a_run(client, batch, out, time.monotonic() + 240)
            _, err = batch.communicate(timeout=300)
        finally:
            if batch.poll() is None:
                batch.kill()
        manifest = json.loads((out / "manifest.json").read_text())
        runs = manifest["runs"]
        killed = runs[run_id]
        if outcome == "retried":  # the nanny restarts the worker; the run is made elsewhere
            assert batch.returncode == 0, err
            assert "6 of 6 runs finished, 0 failed" in err
            assert killed["status"] == "ok" and not killed["worker"].endswith(f":{pid}")
        else:  # recorded as a failed run; the batch goes on with the other runs
            assert batch.returncode == 1, err
            assert killed["status"] == "error"
            failed = [r for r in runs if r["status"] == "error"]
            assert all("the Dask worker failed: KilledWorker" in r["error"] for r in failed)
            assert len(failed) + sum(r["status"] == "ok" for r in runs) == 6
            assert f"{6 - len(failed)} of 6 runs finished, {len(failed)} failed" in err
            record = json.loads((out / "errors" / f"run-{run_id:06d}.error.json").read_text())
            assert "KilledWorker" in record["error"]
        # a later resume, on the same cluster, makes the rest: the uninterrupted dataset
        again = innosim(
            "batch", path, "--out", out, "--engine", "dask", "--scheduler", address, "--resume"
        )
        assert "6 of 6 runs finished" in again.stderr
    pd.testing.assert_frame_equal(read_results(out), long_runs_clean, check_exact=True)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert all(r["status"] == "ok" and r["sha256"] for r in manifest["runs"])
    assert not list((out / "errors").iterdir())
