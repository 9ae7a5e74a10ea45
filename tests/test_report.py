"""``innosim report``: attainment probabilities, paired effects, charts, HTML, sensitivity."""

import csv
import json
import re

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_SCENARIO, ROOT
from test_batch import innosim, write_experiment

from sim.batch import read_results
from sim.batch.analysis import prim
from sim.batch.batch import run_batch
from sim.batch.interop import make_model
from sim.batch.report import make_report
from sim.run import run_scenario
from sim.scenario import load_scenario

# Targets for 2021 near the middle of reference_300's outcomes, so probabilities are neither
# all 0 nor all 1 (the district's 2025 targets are far beyond a 300-firm population).
TARGETS_2021 = {
    "hitech_firms": 19,
    "tech_smes": 50,
    "rd_gdp_ratio": 0.80,
    "invention_patents_per_10k": 2.4,
}


def small_scenario(tmp_path):
    """reference_300 (12 months: 2020-2021) scored against a 2021 plan table."""
    plan = ROOT / "scenarios" / "targets" / "liangping_14th_fyp_targets.csv"
    with plan.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    with (tmp_path / "plan_2021.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, ["id", "indicator_en", "unit", "value_2020", "target_2021"])
        writer.writeheader()
        for row in rows:
            target = TARGETS_2021.get(row["id"], row["target_2025"])
            writer.writerow(
                {
                    "id": row["id"],
                    "indicator_en": row["indicator_en"],
                    "unit": row["unit"],
                    "value_2020": row["value_2020"],
                    "target_2021": target,
                }
            )
    text = REFERENCE_SCENARIO.read_text()
    text = re.sub(r'file = ".*"', 'file = "plan_2021.csv"', text, count=1)
    text = text.replace("target_year = 2025", "target_year = 2021")
    path = tmp_path / "small.toml"
    path.write_text(text)
    return path


SWEEP = """
[replications]
seeds = 8

[levers]
"policy.hitech_tax_rate" = [0.15, 0.05]
"firms.innovation_zeta" = [0.6, 1.2]
"""


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sweep")
    path = write_experiment(tmp, SWEEP, scenario=small_scenario(tmp), months=12)
    run_batch(path, engine="inline", out=tmp / "results")
    return tmp / "results"


@pytest.fixture(scope="module")
def report(sweep, tmp_path_factory):
    """The sweep's report against mix 0, shared by the tests that only read it."""
    return make_report(
        sweep, baseline=0, out=tmp_path_factory.mktemp("report") / "r", effect_seeds=0
    )


def test_report_writes_html_charts_workbook_and_tables(sweep, tmp_path):
    out = tmp_path / "report"
    result = innosim("report", sweep, "--out", out, "--effect-seeds", "1")
    assert "wrote" in result.stderr
    assert (out / "fan_charts.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for name in ("ranking", "attainment", "mixes", "lever_effects", "discovery"):
        assert (out / f"{name}.csv").is_file()
    assert (out / "report.xlsx").read_bytes()[:2] == b"PK"  # a zip: the xlsx container
    page = (out / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert page.count("data:image/png;base64,") == 1
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", page)  # nothing external
    assert "<script" not in page
    assert "Probability of meeting each outcome target" in page
    assert "What each lever buys per yuan" in page
    assert "e-0" not in page  # no scientific notation in the tables


def test_attainment_probabilities_and_paired_effects_match_the_dataset(sweep, report):
    table = pd.read_csv(report.out / "attainment.csv")
    data = read_results(sweep)
    final = data[data["year"] == 2021]
    assert report.year == 2021 and not report.notes
    targets = table["indicator"].unique()
    assert set(TARGETS_2021) <= set(targets) and len(table) == 4 * len(targets)
    # One probability by hand: mix 3 (tax 5%, zeta 1.2), high-tech firms >= 19 in 2021.
    runs = final[final["policy_mix_id"] == 3]
    assert len(runs) == 8 and sorted(runs["seed"]) == list(range(99, 107))
    manual = sum(int(v) >= 19 for v in runs["hitech_firms"]) / 8
    row = table[(table["policy_mix_id"] == 3) & (table["indicator"] == "hitech_firms")]
    assert row["p_meet"].item() == pytest.approx(manual)
    assert row["target"].item() == 19 and row["runs"].item() == 8
    # ... and every other probability and median the same way
    for _, r in table.iterrows():
        values = final.loc[final["policy_mix_id"] == r["policy_mix_id"], r["indicator"]]
        values = values.astype(float)
        assert r["p_meet"] == pytest.approx((values >= r["target"]).mean())
        assert r["median"] == pytest.approx(values.median())
    probabilities = table["p_meet"]
    assert ((probabilities > 0) & (probabilities < 1)).any(), "targets should be informative"
    # paired effect: same seed, mix 3 minus mix 0
    base = final[final["policy_mix_id"] == 0].set_index("seed")["hitech_firms"].astype(float)
    diff = runs.set_index("seed")["hitech_firms"].astype(float) - base
    assert row["effect_mean"].item() == pytest.approx(diff.mean())
    assert row["effect_lo"].item() < diff.mean() < row["effect_hi"].item() or diff.std() == 0
    assert (table["p_lo"] <= table["p_meet"]).all() and (table["p_meet"] <= table["p_hi"]).all()
    baseline_rows = table[table["policy_mix_id"] == 0]
    assert (baseline_rows["effect_mean"] == 0).all()


def test_other_baseline_and_bad_arguments(sweep, tmp_path):
    report = make_report(sweep, baseline=2, out=tmp_path / "r", effect_seeds=0)
    assert (report.attainment.query("policy_mix_id == 2")["effect_mean"] == 0).all()
    result = innosim("report", sweep, "--baseline", "9", "--out", tmp_path / "x", check=False)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "--baseline 9: no such policy mix; this batch has mixes 0 to 3" in result.stderr
    result = innosim("report", tmp_path / "nothing", check=False)
    assert result.returncode == 2 and "not a batch results directory" in result.stderr
    result = innosim("report", sweep, "--year", "2030", "--out", tmp_path / "y", check=False)
    assert result.returncode == 2 and "the results hold years 2020 to 2021" in result.stderr


@pytest.mark.parametrize("method, samples", [("sobol", 4), ("morris", 3)])
def test_sensitivity_indices_for_sobol_and_morris(tmp_path, method, samples):
    body = f"""
[sampler]
method = "{method}"
samples = {samples}

[replications]
seeds = [99]

[outputs]
indicators = ["hitech_firms", "tech_smes", "rd_gdp_ratio"]

[uncertainties]
"firms.innovation_zeta" = {{ range = [0.2, 1.5] }}
"firms.rd_user_cost_elasticity" = {{ range = [0.2, 1.5] }}
"""
    path = write_experiment(tmp_path, body, scenario=small_scenario(tmp_path), months=12)
    run_batch(path, engine="inline", out=tmp_path / "results")
    report = make_report(tmp_path / "results", out=tmp_path / "r", effect_seeds=0)
    table = report.sensitivity
    assert set(table["factor"]) == {"firms.innovation_zeta", "firms.rd_user_cost_elasticity"}
    columns = ["S1", "ST"] if method == "sobol" else ["mu_star", "sigma"]
    assert set(columns) <= set(table.columns)
    assert (tmp_path / "r" / f"{method}.csv").is_file()
    page = report.html.read_text()
    assert f"Sensitivity ({method})" in page
    assert report.lever_effects.empty  # --effect-seeds 0


def test_prim_finds_the_box_where_a_target_fails():
    rng = np.random.default_rng(1)
    x = pd.DataFrame({"a": rng.uniform(0, 1, 2000), "b": rng.uniform(0, 10, 2000)})
    fails = (x["a"] < 0.3) & (x["b"] > 5)
    box = prim(x, fails.to_numpy())
    assert box is not None and set(box.limits) == {"a", "b"}
    assert box.limits["a"][1] == pytest.approx(0.3, abs=0.05)
    assert box.limits["b"][0] == pytest.approx(5, abs=0.5)
    assert box.density > 0.8 and box.coverage >= 0.5
    assert prim(x, np.zeros(2000, dtype=bool)) is None  # nothing to find


def test_discovery_table_in_a_sweep(report):
    rows = report.discovery.set_index("indicator")
    assert set(rows.index) >= set(TARGETS_2021)
    assert all(isinstance(b, str) and b for b in rows["box"])


def test_interop_model_function_is_the_model():
    model = make_model(REFERENCE_SCENARIO, outcomes=["hitech_firms", "tech_smes"])
    out = model(firms__innovation_zeta=np.float64(0.9), **{"policy.hitech_tax_rate": 0.1}, seed=7)
    scenario = load_scenario(
        REFERENCE_SCENARIO, {"firms.innovation_zeta": 0.9, "policy.hitech_tax_rate": 0.1}
    )
    final = run_scenario(scenario, 7).indicators.iloc[-1]
    assert out["hitech_firms"] == float(final["hitech_firms"])
    assert out["tech_smes"] == float(final["tech_smes"])
    assert out["met_hitech_firms"] == 0.0  # 300 firms are far from the district's 130
    assert set(out) == {"hitech_firms", "tech_smes", "met_hitech_firms", "met_tech_smes"}
    json.dumps(out)  # plain floats
