"""The Dask engine gives the local engine's results, row for row, on a real cluster."""

import json
import os

import pandas as pd
import pytest
from test_batch import TAX_SWEEP, innosim, write_experiment

from sim.batch import read_results
from sim.batch.batch import run_batch

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
