"""Batches: experiment files, designs, the local engine, failed runs, kill and resume."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_SCENARIO, ROOT

from sim.batch import build_design, load_experiment, read_results
from sim.batch.batch import run_batch
from sim.batch.store import write_atomic
from sim.cli import main
from sim.run import run_scenario
from sim.scenario import load_scenario
from sim.schema import InputError

INNOSIM = str(Path(sys.executable).parent / "innosim")
# reference_300 cannot initialise a few seeds (122, 137: the region closure goes negative);
# the tests use seeds from its default, 99, upwards, which all initialise.


def write_experiment(
    tmp_path, body="", *, name="exp", scenario=REFERENCE_SCENARIO, months=12, file="exp.toml"
):
    """A small experiment over ``scenario`` (absolute path) with a shortened horizon."""
    text = (
        f'[experiment]\nname = "{name}"\nscenario = "{scenario}"\n\n'
        f'[base]\n"scenario.horizon_months" = {months}\n\n{body}'
    )
    path = tmp_path / file
    path.write_text(text)
    return path


def innosim(*args, check=True, **kwargs):
    result = subprocess.run(
        [INNOSIM, *map(str, args)], capture_output=True, cwd=ROOT, text=True, **kwargs
    )
    if check and result.returncode != 0:
        raise AssertionError(result.stderr)
    return result


TAX_SWEEP = """
[replications]
seeds = 3

[levers]
"policy.hitech_tax_rate" = [0.10, 0.15]
"firms.innovation_zeta" = [0.4, 0.8]
"""


# ---------------------------------------------------------------------- experiment files

BAD_FILES = [
    ("[experiment]\nname = 'x'\nscenario = 'nowhere.toml'\n",
     'experiment.scenario = "nowhere.toml": file not found'),
    ("[experiment]\nname = 'x'\nscenario = '{ref}'\ncolour = 3\n",
     "experiment.colour = 3: unknown key; allowed keys: description, name, scenario"),
    ("[experiment]\nname = 'x'\nscenario = '{ref}'\n[samplers]\n",
     "samplers = {}: unknown key; allowed keys: base, design, experiment, levers, mixes, outputs"),
    ("[experiment]\nname = 'x'\nscenario = '{ref}'\n[levers]\n'policy.nope' = [1, 2]\n",
     'levers."policy.nope"[0] = 1: not a scenario parameter; allowed keys: '),
    ("[experiment]\nname = 'x'\nscenario = '{ref}'\n[levers]\n"
     "'policy.hitech_tax_rate' = [0.1, 1.5]\n",
     'levers."policy.hitech_tax_rate"[1] = 1.5: must be a probability between 0 and 1'),
    ("[experiment]\nname = 'x'\nscenario = '{ref}'\n[sampler]\nmethod = 'latin_hypercube'\n"
     "samples = 4\n[uncertainties]\n'firms.innovation_zeta' = {{ range = [0.9, 0.3] }}\n",
     'uncertainties."firms.innovation_zeta".range = [0.9, 0.3]: low must be below high'),
    ("[experiment]\nname = 'x'\nscenario = '{ref}'\n[sampler]\nmethod = 'latin_hypercube'\n"
     "samples = 4\n[uncertainties]\n'firms.innovation_zeta' = {{ range = [0.3] }}\n",
     'uncertainties."firms.innovation_zeta".range = [0.3]: must be a range [low, high]'),
    ("[experiment]\nname = 'x'\nscenario = '{ref}'\n[sampler]\nmethod = 'latin_hypercube'\n"
     "samples = 4\n[uncertainties]\n'firms.rd_user_cost_elasticity' = {{ range = [0.2, 9.0] }}\n",
     'uncertainties."firms.rd_user_cost_elasticity".range[1] = 9.0: must be between 0 and 3'),
    ("[experiment]\nname = 'x'\nscenario = '{ref}'\n[sampler]\nmethod = 'latin_hypercube'\n"
     "samples = 4\n[uncertainties]\n'firms.innovation_zeta' = "
     "{{ range = [0.3, 0.9], distribution = 'lognormal' }}\n",
     'distribution = "lognormal": must be one of uniform, normal, triangular'),
    ("[experiment]\nname = 'x'\nscenario = '{ref}'\n[sampler]\nmethod = 'latin_hypercube'\n"
     "samples = 4\n[uncertainties]\n'firms.innovation_zeta' = "
     "{{ range = [0.3, 0.9], distribution = 'normal' }}\n",
     "a normal distribution needs sd"),
    ("[experiment]\nname = 'x'\nscenario = '{ref}'\n[sampler]\nmethod = 'sobol'\nsamples = 10\n"
     "[uncertainties]\n'firms.innovation_zeta' = {{ range = [0.3, 0.9] }}\n",
     "sampler.samples = 10: sobol needs a power of 2"),
    ("[experiment]\nname = 'x'\nscenario = '{ref}'\n[sampler]\nmethod = 'monte_carlo'\n",
     'sampler.method = "monte_carlo": must be one of full_factorial, latin_hypercube, sobol, '
     "morris"),
    ("[experiment]\nname = 'x'\nscenario = '{ref}'\n[levers]\n"
     "'policy.hitech_tax_rate' = {{ range = [0.1, 0.2] }}\n",
     "full_factorial takes value lists only"),
    ("[experiment]\nname = 'x'\nscenario = '{ref}'\n[replications]\nseeds = 0\n",
     "replications.seeds = 0: must be a count from 1 to 100000 or a list of seeds"),
    ("[experiment]\nname = 'x'\nscenario = '{ref}'\n[outputs]\nindicators = ['hitech']\n",
     'outputs.indicators[0] = "hitech": unknown indicator'),
    ("[experiment]\nname = 'x'\nscenario = '{ref}'\n[outputs]\nyears = [2030]\n",
     "outputs.years[0] = 2030: the base scenario reports years 2020 to 2022"),
    ("[experiment]\nname = 'x'\nscenario = '{ref}'\n[levers]\n'scenario.seed' = [1, 2]\n",
     "scenario.* keys may be set in [base] only"),
    ("[experiment]\nname = 'x'\nscenario = '{ref}'\n[levers]\n'policy.hitech_tax_rate' = []\n",
     "must be a non-empty array of values"),
    ("[experiment\n", "invalid TOML"),
    ("[sampler]\nmethod = 'sobol'\n", "experiment: required table is missing"),
]  # fmt: skip


@pytest.mark.parametrize("text, expected", BAD_FILES)
def test_bad_experiment_files_give_one_line_and_exit_2(tmp_path, capsys, text, expected):
    path = tmp_path / "bad.toml"
    path.write_text(text.format(ref=REFERENCE_SCENARIO))
    assert main(["batch", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"innosim: error: {path}: "), err
    assert expected in err
    assert not (tmp_path / "out").exists()


def test_bad_experiment_file_from_the_command_line_has_no_traceback(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(f"[experiment]\nname = 'x'\nscenario = '{REFERENCE_SCENARIO}'\nextra = 1\n")
    result = innosim("batch", path, check=False)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "experiment.extra = 1: unknown key" in result.stderr


def test_bad_flags_exit_2(tmp_path):
    path = write_experiment(tmp_path)
    assert innosim("batch", path, "--workers", "0", check=False).returncode == 2
    result = innosim("batch", path, "--scheduler", "tcp://127.0.0.1:1", check=False)
    assert result.returncode == 2 and "needs --engine dask" in result.stderr


def test_shipped_experiments_parse_or_name_the_missing_levers():
    design = build_design(load_experiment(ROOT / "experiments" / "liangping_uncertainty.toml"))
    assert len(design.runs) == 64 * 5
    try:
        experiment = load_experiment(ROOT / "experiments" / "liangping_lever_sweep.toml")
    except InputError as err:  # the three levers arrive with issue 3
        assert "policy.vouchers" in str(err) or "policy.credit" in str(err)
    else:
        assert len(build_design(experiment).runs) == 27 * 10


def test_relative_scenario_path_and_nested_lever_tables(tmp_path):
    relative = os.path.relpath(REFERENCE_SCENARIO, tmp_path)
    path = write_experiment(
        tmp_path, "[levers.policy]\nhitech_tax_rate = [0.1, 0.2]\n", scenario=relative
    )
    experiment = load_experiment(path)
    assert experiment.scenario_path == REFERENCE_SCENARIO.resolve()
    assert [f.key for f in experiment.levers] == ["policy.hitech_tax_rate"]


# -------------------------------------------------------------------------------- designs


def test_full_factorial_design_shares_seeds_across_policy_mixes(tmp_path):
    design = build_design(load_experiment(write_experiment(tmp_path, TAX_SWEEP)))
    runs = design.runs
    assert runs["run_id"].tolist() == list(range(12))
    assert runs["policy_mix_id"].tolist() == [0] * 3 + [1] * 3 + [2] * 3 + [3] * 3
    assert runs.groupby("policy_mix_id")["seed"].apply(list).tolist() == [[99, 100, 101]] * 4
    mixes = design.mixes()[["policy.hitech_tax_rate", "firms.innovation_zeta"]]
    assert mixes.values.tolist() == [[0.1, 0.4], [0.1, 0.8], [0.15, 0.4], [0.15, 0.8]]


def test_sampled_designs_respect_ranges_distributions_and_types(tmp_path):
    body = """
[sampler]
method = "latin_hypercube"
samples = 40
seed = 3

[replications]
seeds = [7, 9]

[levers]
"policy.hitech_tax_rate" = [0.10, 0.15]

[uncertainties]
"firms.rd_user_cost_elasticity" = { range = [0.2, 1.5] }
"firms.innovation_zeta" = { range = [0.3, 0.9], distribution = "normal", mean = 0.6, sd = 0.5 }
"region.rest_gdp_growth" = { range = [0.02, 0.08], distribution = "triangular", mode = 0.06 }
"certification.hitech_validity_years" = { range = [2, 4] }
"""
    experiment = load_experiment(write_experiment(tmp_path, body))
    design = build_design(experiment)
    runs = design.runs
    assert len(runs) == 2 * 40 * 2 and runs["policy_mix_id"].nunique() == 2
    for f in experiment.uncertainties:
        assert runs[f.key].between(f.low, f.high).all(), f.key
    assert runs["certification.hitech_validity_years"].dtype == np.int64
    assert set(runs["certification.hitech_validity_years"]) == {2, 3, 4}
    # both mixes meet the same sample points with the same seeds
    by_mix = [
        g.drop(columns=["run_id", "policy_mix_id", "policy.hitech_tax_rate"]).reset_index(drop=True)
        for _, g in runs.groupby("policy_mix_id")
    ]
    pd.testing.assert_frame_equal(*by_mix)
    assert build_design(experiment).runs.equals(runs)  # deterministic
    # Latin hypercube: one point per stratum in every dimension
    strata = np.floor(design.unit["firms.rd_user_cost_elasticity"] * 40).astype(int)
    assert sorted(strata) == list(range(40))


@pytest.mark.parametrize(
    "method, samples, points", [("sobol", 8, 8 * (2 + 2)), ("morris", 3, 3 * (2 + 1))]
)
def test_sobol_and_morris_design_sizes(tmp_path, method, samples, points):
    body = f"""
[sampler]
method = "{method}"
samples = {samples}

[uncertainties]
"firms.rd_user_cost_elasticity" = {{ range = [0.2, 1.5] }}
"firms.innovation_zeta" = {{ range = [0.3, 0.9] }}
"""
    design = build_design(load_experiment(write_experiment(tmp_path, body)))
    assert len(design.runs) == points and len(design.unit) == points


# ------------------------------------------------------------------------ the local engine


def test_local_batch_runs_are_the_model_runs(tmp_path):
    scenario = load_scenario(
        REFERENCE_SCENARIO,
        {
            "scenario.horizon_months": 12,
            "policy.hitech_tax_rate": 0.15,
            "firms.innovation_zeta": 0.4,
        },
    )
    # Run 7 made here first: in a fresh clone this compiles the model's kernels once, into
    # Numba's cache, rather than in both workers at once (the workers then load the cache).
    expected = run_scenario(scenario, 100).indicators
    path = write_experiment(tmp_path, TAX_SWEEP)
    summary = run_batch(path, workers=2, out=tmp_path / "out")
    assert (summary.total, summary.done, summary.failed) == (12, 12, 0)
    data = read_results(tmp_path / "out")
    assert len(data) == 12 * 2  # 12 runs x years 2020, 2021
    assert data[["run_id", "year"]].duplicated().sum() == 0
    run = data[data["run_id"] == 7]
    got = run[expected.columns].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected)
    assert run["seed"].unique().tolist() == [100] and run["policy_mix_id"].unique() == [2]
    # the runs directory is itself a Parquet dataset, with no temporary files left
    assert len(pd.read_parquet(tmp_path / "out" / "runs")) == len(data)
    assert not [p for p in (tmp_path / "out").rglob(".*")]
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert {r["status"] for r in manifest["runs"]} == {"ok"}
    assert manifest["experiment"]["sha256"] and manifest["code_version"]["package"]
    assert all(r["seconds"] > 0 for r in manifest["runs"])


def test_outputs_keep_selected_indicators_and_years(tmp_path):
    body = TAX_SWEEP + '\n[outputs]\nindicators = ["hitech_firms", "tech_smes"]\nyears = [2021]\n'
    run_batch(write_experiment(tmp_path, body), engine="inline", out=tmp_path / "out")
    data = read_results(tmp_path / "out")
    assert data["year"].unique().tolist() == [2021]
    assert list(data.columns)[-3:] == ["year", "hitech_firms", "tech_smes"]


def test_existing_results_need_resume_and_the_same_experiment(tmp_path):
    path = write_experiment(tmp_path, "[replications]\nseeds = 1\n")
    out = tmp_path / "out"
    run_batch(path, engine="inline", out=out)
    with pytest.raises(InputError, match="already holds a batch; pass --resume"):
        run_batch(path, engine="inline", out=out)
    summary = run_batch(path, engine="inline", out=out, resume=True)
    assert (summary.skipped, summary.done) == (1, 0)
    path.write_text(path.read_text() + "\n# changed\n")
    with pytest.raises(InputError, match="another version of the experiment file"):
        run_batch(path, engine="inline", out=out, resume=True)


def test_atomic_write_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "f.bin"
    write_atomic(target, b"first")

    def crash(fd):
        raise OSError("disk full")

    monkeypatch.setattr("sim.atomic.os.fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, b"second")
    assert target.read_bytes() == b"first"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's private 0600


# --------------------------------------------------------------------- failures and resume

LAG_CLASH = """
[replications]
seeds = 2

[levers]
"firms.grant_lag_min" = [16, 20]
"firms.grant_lag_max" = [18, 22]
"""


def test_a_failing_run_leaves_an_error_record_and_the_others_finish(tmp_path):
    # Each value is valid alone; the mix grant_lag_min = 20 > grant_lag_max = 18 is not, so
    # its runs (ids 4 and 5) fail when the worker validates their scenario.
    path = write_experiment(tmp_path, LAG_CLASH)
    out = tmp_path / "out"
    result = innosim("batch", path, "--out", out, "--workers", "1", check=False)
    assert result.returncode == 1, result.stderr
    assert "6 of 8 runs finished, 2 failed" in result.stderr
    assert "ETA" not in result.stderr  # no progress bar when stderr is not a terminal
    assert sorted(p.name for p in (out / "errors").iterdir()) == [
        "run-000004.error.json",
        "run-000005.error.json",
    ]
    record = json.loads((out / "errors" / "run-000004.error.json").read_text())
    assert record["policy_mix_id"] == 2 and record["seed"] == 99
    assert record["overrides"]["firms.grant_lag_min"] == 20
    assert "grant_lag_min = 20: must be <= firms.grant_lag_max" in record["error"]
    assert "Traceback" in record["traceback"]
    assert sorted(read_results(out)["run_id"].unique()) == [0, 1, 2, 3, 6, 7]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "failed runs"
    assert [r["status"] for r in manifest["runs"]].count("error") == 2


def test_killed_batch_resumes_to_exactly_the_uninterrupted_dataset(tmp_path):
    body = '[replications]\nseeds = 15\n\n[levers]\n"policy.hitech_tax_rate" = [0.10, 0.15, 0.20]\n'
    path = write_experiment(tmp_path, body)
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    run_batch(path, engine="inline", out=clean)  # the uninterrupted batch, in this process

    process = subprocess.Popen(
        [INNOSIM, "batch", str(path), "--out", str(killed), "--workers", "1"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the pool dies with it
    )
    runs = killed / "runs"
    deadline = time.monotonic() + 120
    try:
        while not (runs.is_dir() and len(list(runs.glob("run-*.parquet"))) >= 5):
            assert process.poll() is None, "the batch ended before it could be killed"
            assert time.monotonic() < deadline, "no run finished in time"
            time.sleep(0.01)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    finished_at_kill = len(list(runs.glob("run-*.parquet")))
    assert 5 <= finished_at_kill < 45

    result = innosim("batch", path, "--out", killed, "--resume", "--workers", "1")
    assert "before this session" in result.stderr
    names = sorted(p.name for p in runs.iterdir())
    assert names == sorted(p.name for p in (clean / "runs").iterdir())
    assert len(names) == 45
    pd.testing.assert_frame_equal(read_results(killed), read_results(clean))
    manifest = json.loads((killed / "manifest.json").read_text())
    assert manifest["status"] == "complete" and len(manifest["sessions"]) == 2
    assert [r["status"] for r in manifest["runs"]] == ["ok"] * 45
    assert not [p for p in killed.rglob(".*")]  # stale temporary files were cleared


@pytest.mark.parametrize("numba_first", [False, True])
def test_one_thread_per_worker_only_before_numba_and_without_leaking_after(numba_first):
    # a worker limits itself before Numba loads; a process that already runs Numba (a task run
    # in the calling process) keeps its threads and does not pass the limit to its children
    code = (
        ("import numba; " if numba_first else "")
        + "import os; from sim.batch.worker import limit_numba_threads; limit_numba_threads(); "
        + "import numba; print(os.environ.get('NUMBA_NUM_THREADS'), numba.config.NUMBA_NUM_THREADS)"
    )
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_NUM_THREADS"}
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, check=True
    )
    variable, threads = run.stdout.split()
    if numba_first:
        assert variable == "None" and int(threads) == len(os.sched_getaffinity(0))
    else:
        assert variable == "1" and threads == "1"
