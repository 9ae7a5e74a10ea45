"""Designs made elsewhere (SALib, EMA Workbench) run through innosim batch from a table."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SMOKE_SCENARIO
from SALib.sample import sobol as sobol_sample

from sim.batch.batch import run_batch
from sim.batch.experiment import load_experiment
from sim.batch.report import make_report
from sim.batch.store import read_results
from sim.run import run_scenario
from sim.scenario import load_scenario
from sim.schema import InputError

INNOSIM = str(Path(sys.executable).parent / "innosim")
PROBLEM = {
    "num_vars": 3,
    "names": [
        "firms.rd_user_cost_elasticity",
        "firms.innovation_zeta",
        "certification.hitech_validity_years",  # a whole-number parameter: SALib gives floats
    ],
    "bounds": [[0.2, 1.5], [0.3, 0.9], [1, 5]],
}


def experiment_file(tmp_path: Path, design: str, extra: str = "", name: str = "table") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(
        f'[experiment]\nname = "{name}"\nscenario = "{SMOKE_SCENARIO}"\n\n'
        f'[design]\nfile = "{design}"\n{extra}'
    )
    return path


def test_a_salib_sobol_design_in_csv_runs_through_batch_and_the_report_shows_indices(tmp_path):
    x = sobol_sample.sample(PROBLEM, 4, calc_second_order=False, seed=3)  # 4 x (3 + 2) rows
    pd.DataFrame(x, columns=PROBLEM["names"]).to_csv(tmp_path / "sobol.csv", index=False)
    exp = experiment_file(
        tmp_path,
        "sobol.csv",
        '\n[sampler]\nmethod = "sobol"\n\n[replications]\nseeds = [11]\n',
    )
    out = tmp_path / "results"
    batch = subprocess.run(
        [INNOSIM, "batch", str(exp), "--workers", "2", "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert batch.returncode == 0, batch.stderr
    assert "20 of 20 runs finished, 0 failed" in batch.stderr

    data = read_results(out)
    assert data["run_id"].nunique() == 20
    assert list(data.columns[5:8]) == PROBLEM["names"]  # result columns are the dotted keys
    years = data["certification.hitech_validity_years"]
    assert years.dtype == "int64" and set(years) <= {1, 2, 3, 4, 5}
    first = data[data["run_id"] == 7]
    overrides = {k: first[k].iloc[0].item() for k in PROBLEM["names"]}
    assert overrides["certification.hitech_validity_years"] == round(x[7, 2])  # halves to even
    alone = run_scenario(load_scenario(SMOKE_SCENARIO, overrides), 11).indicators
    pd.testing.assert_frame_equal(
        first[alone.columns].reset_index(drop=True), alone, check_dtype=False
    )

    report = subprocess.run(
        [INNOSIM, "report", str(out)], capture_output=True, text=True, check=True
    )
    assert "wrote" in report.stderr
    indices = pd.read_csv(out / "report" / "sobol.csv")
    assert set(indices["factor"]) == set(PROBLEM["names"])
    assert indices[["S1", "ST"]].notna().all().all()
    page = (out / "report" / "report.html").read_text()
    assert "Sensitivity (sobol)" in page and "ST" in page
    assert "Scenario discovery: where targets fail (CART)" in page
    assert (out / "report" / "cart.csv").is_file()


def test_a_table_with_levers_and_seeds_pairs_mixes_on_the_same_points(tmp_path):
    rows = [
        {"policy.vouchers.budget": b, "firms.rd_user_cost_elasticity": e, "seed": s}
        for b in (0.0, 8.0)
        for e in (0.4, 1.2)
        for s in (5, 6)
    ]
    pd.DataFrame(rows).to_parquet(tmp_path / "design.parquet")
    exp = experiment_file(tmp_path, "design.parquet", 'levers = ["policy.vouchers.budget"]\n')
    e = load_experiment(exp)
    assert [f.key for f in e.levers] == ["policy.vouchers.budget"]
    assert e.levers[0].values == (0.0, 8.0) and e.seeds == (5, 6)
    summary = run_batch(exp, engine="inline", out=tmp_path / "out")
    assert summary.done == 8 and summary.failed == 0
    runs = pd.read_parquet(tmp_path / "out" / "design.parquet")
    assert runs["policy_mix_id"].tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    assert runs["sample_id"].tolist() == [0, 0, 1, 1, 0, 0, 1, 1]  # same points in both mixes
    assert runs["replicate"].tolist() == [0, 1] * 4
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["policy_mixes"] == 2
    # the batch keeps a copy of the table: a report needs neither the file nor its place
    assert manifest["copies"]["design.file"]["file"] == str(tmp_path / "design.parquet")
    (tmp_path / "design.parquet").rename(tmp_path / "elsewhere.parquet")
    report = make_report(tmp_path / "out", out=tmp_path / "report", effect_seeds=0)
    assert len(report.summary.mixes) == 2


@pytest.mark.parametrize(
    ("table", "extra", "message"),
    [
        (
            {"policy.vouchrs.budget": [1.0]},
            "",
            'design."d.csv"["policy.vouchrs.budget"] = 1.0: rejected by the base scenario: '
            "policy.vouchrs",
        ),
        (
            {"firms.rd_user_cost_elasticity": [0.5, np.nan]},
            "",
            'd.csv: "firms.rd_user_cost_elasticity"[row 1] = "": empty cell',
        ),
        (
            {"firms.rd_user_cost_elasticity": [0.5, 4.0]},
            "",
            'firms.rd_user_cost_elasticity"] = 4.0: must be between 0 and 3',
        ),
        (
            {"firms.rd_user_cost_elasticity": [0.5], "seed": [1]},
            "\n[replications]\nseeds = 2\n",
            'replications = {"seeds": 2}: the design table has a seed column',
        ),
        (
            {"firms.rd_user_cost_elasticity": [0.5, 0.6, 0.7, 0.8]},
            '\n[sampler]\nmethod = "sobol"\n',
            'sampler.method = "sobol": the design has 4 sample points (rows) over 1 '
            "uncertainties; a sobol design has a multiple of 3",
        ),
        (
            {"firms.rd_user_cost_elasticity": [0.5]},
            'levers = ["policy.vouchers.budget"]\n',
            'design.levers = "policy.vouchers.budget": not a column of d.csv',
        ),
    ],
)
def test_bad_design_tables_are_one_line_errors(tmp_path, table, extra, message):
    pd.DataFrame(table).to_csv(tmp_path / "d.csv", index=False)
    exp = experiment_file(tmp_path, "d.csv", extra)
    with pytest.raises(InputError) as err:
        load_experiment(exp)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_cli_exit_2_on_a_bad_design_table(tmp_path):
    exp = experiment_file(tmp_path, "missing.csv")
    done = subprocess.run([INNOSIM, "batch", str(exp)], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "missing.csv" in done.stderr
    assert "file not found" in done.stderr
