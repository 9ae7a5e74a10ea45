"""The determinism matrix: a batch's dataset is the same, bit for bit, on the local and Dask
engines, with 1 and 2 workers, 1 and 2 Numba threads per worker, and lean and full agents.

The scenario has more firms than the kernels' threading threshold, so two Numba threads really
split the firm step; it starts in December and runs one month, so each run still closes a year
(certification rounds, yearly statistics) in a fraction of a second.
"""

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, SMOKE_SCENARIO, THREADED_KERNELS

from sim.agents.kernels import PARALLEL_MIN_ROWS
from sim.batch import read_results
from sim.batch.batch import run_batch
from sim.scenario import load_scenario

distributed = pytest.importorskip("distributed")
INNOSIM = str(Path(sys.executable).parent / "innosim")
pytestmark = THREADED_KERNELS
MODES = [(workers, threads) for workers in (1, 2) for threads in (1, 2)]


@pytest.fixture(scope="module")
def matrix_experiment(tmp_path_factory):
    """2 tax rates x 2 seeds over a December month of a district with > threshold firms."""
    base = {
        "scenario.start_month": 12,
        "scenario.horizon_months": 1,
        "population.sectors[5].other": PARALLEL_MIN_ROWS,
        "region.gdp": 200000.0,
        "region.employed": 900000.0,
    }
    scenario = load_scenario(SMOKE_SCENARIO, base)
    assert sum(s.hitech + s.tech_sme + s.other for s in scenario.population.sectors) > (
        PARALLEL_MIN_ROWS
    )
    lines = "\n".join(f'"{k}" = {v}' for k, v in base.items())
    path = tmp_path_factory.mktemp("matrix") / "matrix.toml"
    path.write_text(
        f'[experiment]\nname = "matrix"\nscenario = "{SMOKE_SCENARIO}"\n\n[base]\n{lines}\n\n'
        '[replications]\nseeds = 2\n\n[levers]\n"policy.hitech_tax_rate" = [0.10, 0.15]\n'
    )
    return path


@pytest.fixture(scope="module")
def reference(matrix_experiment, tmp_path_factory):
    out = tmp_path_factory.mktemp("reference") / "out"
    run_batch(matrix_experiment, engine="inline", out=out)
    data = read_results(out)
    assert len(data) == 4 * 2
    return data


@pytest.mark.parametrize("workers, threads", MODES)
def test_local_engine_matrix(matrix_experiment, reference, tmp_path, workers, threads):
    for agents in ("lean", "full"):
        out = tmp_path / agents
        result = subprocess.run(
            [
                INNOSIM,
                "batch",
                matrix_experiment,
                "--out",
                out,
                "--workers",
                str(workers),
                "--agents",
                agents,
            ],  # fmt: skip
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**os.environ, "NUMBA_NUM_THREADS": str(threads)},
        )
        assert result.returncode == 0, result.stderr
        pd.testing.assert_frame_equal(read_results(out), reference, check_exact=True)


@pytest.mark.parametrize("workers, threads", MODES)
def test_dask_engine_matrix(matrix_experiment, reference, tmp_path, workers, threads):
    with (
        distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            env={"NUMBA_NUM_THREADS": str(threads)},
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        seen = client.run(lambda: __import__("numba").config.NUMBA_NUM_THREADS)
        assert sorted(seen.values()) == [threads] * workers  # the matrix is what it says
        for agents in ("lean", "full"):
            out = tmp_path / agents
            run_batch(
                matrix_experiment,
                engine="dask",
                scheduler=cluster.scheduler_address,
                out=out,
                agents=agents,
            )
            pd.testing.assert_frame_equal(read_results(out), reference, check_exact=True)
