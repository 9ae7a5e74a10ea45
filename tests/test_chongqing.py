"""The Chongqing city scenario (2018 baseline, 2019-2022): loads, reproduces its baseline in
year 0 and runs a year; the observed file validate reads is the city series' mapped rows."""

import csv

import pytest
from conftest import CLOSURE_RATIOS, ROOT, THREADED_KERNELS

from sim.model import InnovationEcosystem
from sim.run import run_scenario
from sim.scenario import load_scenario
from sim.validate import read_observed, simulated_years

SCENARIO = ROOT / "scenarios" / "chongqing_2018_2022.toml"
TARGETS = ROOT / "scenarios" / "targets"
pytestmark = THREADED_KERNELS  # the city's firm table is above the threading threshold


@pytest.fixture(scope="module")
def chongqing():
    return load_scenario(SCENARIO)


@pytest.fixture(scope="module")
def first_year(chongqing):
    """A 12-month lean run: year 0 (2018) and 2019."""
    return run_scenario(chongqing, months=12, agents="lean")


def test_the_scenario_is_the_city_from_2018_with_a_2022_table(chongqing):
    # to 2025: the last observed year of chongqing_series.csv
    assert chongqing.baseline_year == 2018 and chongqing.scenario.horizon_months == 84
    plan = chongqing.plan
    assert (plan.baseline_year, plan.target_year) == (2018, 2022)
    # scored: the three observed series; baseline only: what the closure calibrates to
    assert [row.id for row in plan.rows] == ["tech_smes", "hitech_firms", "rd_gdp_ratio"]
    assert {row.id for row in plan.baselines} >= set(CLOSURE_RATIOS) - {"rd_gdp_ratio"}
    sectors = chongqing.population.sectors
    assert sum(s.hitech for s in sectors) == 2500
    assert sum(s.hitech + s.tech_sme for s in sectors) == 11026  # certified count as registered
    assert all(0 <= s.hitech_field_share <= 1 for s in sectors)


def test_year0_indicators_equal_the_baseline(chongqing, first_year):
    first = first_year.indicators.iloc[0]
    assert first["year"] == 2018
    assert first["tech_smes"] == 11026
    assert first["hitech_firms"] == 2500
    assert first["high_growth_firms"] == chongqing.plan.get("high_growth_firms").baseline
    assert first["valid_invention_patents"] == chongqing.population.valid_invention_patents
    for indicator in CLOSURE_RATIOS:
        baseline = chongqing.plan.get(indicator).baseline
        assert first[indicator] == pytest.approx(baseline, rel=1e-12), indicator
    # firms' and others' patents for 31.02 M residents: the table's 8.32, rounded
    assert first["invention_patents_per_10k"] == pytest.approx(8.32, abs=0.005)
    assert first["gdp"] == pytest.approx(chongqing.region.gdp, rel=1e-12)


def test_year0_calibration_holds_for_another_seed(chongqing):
    model = InnovationEcosystem(setup=chongqing, seed=7, agents="lean")
    first = model.yearly_indicators().iloc[0]
    assert first["tech_smes"] == 11026 and first["hitech_firms"] == 2500
    assert first["rd_gdp_ratio"] == pytest.approx(2.01, rel=1e-12)
    # the modelled firms perform firm_rd_share of the year-0 gross R&D, whatever the seed
    share = chongqing.region.firm_rd_share
    assert first["business_rd"] == pytest.approx(share * 0.0201 * chongqing.region.gdp)


def test_a_year_runs_and_patents_outside_the_firms_grow_with_the_rest(chongqing, first_year):
    years = first_year.indicators
    assert list(years["year"]) == [2018, 2019]
    y1 = years.iloc[1]
    assert 80_000 < y1["firms"] < 120_000 and y1["births"] > 0 and y1["exits"] > 0
    assert y1["tech_smes"] > 0 and y1["hitech_firms"] > 0
    region = chongqing.region
    other = region.other_invention_patents * (1 + region.rest_rd_growth)
    residents = region.population * (1 + region.population_growth)
    expected = 1e4 * (y1["valid_invention_patents"] + other) / residents
    assert y1["invention_patents_per_10k"] == pytest.approx(expected, rel=1e-12)
    # the scorecard scores the observed 2022 values only, not the baseline-only rows
    assert [row["id"] for row in first_year.scorecard] == [r.id for r in chongqing.plan.rows]


def test_the_observed_file_is_the_mapped_rows_of_the_city_series(chongqing):
    path = TARGETS / "chongqing_observed_2018_2022.csv"
    observed = read_observed(path, simulated_years(chongqing), chongqing.scenario.name)
    with (TARGETS / "chongqing_series.csv").open(encoding="utf-8") as handle:
        series = {
            (r["id"], int(r["year"])): float(r["value"])
            for r in csv.DictReader(handle)
            if r["id"] in ("tech_smes", "hitech_firms", "rd_gdp_ratio")
            and 2018 <= int(r["year"]) <= 2022
        }
    assert {(o.id, o.year): o.value for o in observed} == series
    # the 2018 rows are the scenario's baseline
    for o in observed:
        if o.year == 2018:
            assert o.value == chongqing.plan.get(o.id).baseline


def test_validate_reads_the_whole_city_series(chongqing):
    """Every row of chongqing_series.csv is a simulated year of a model indicator."""
    path = TARGETS / "chongqing_series.csv"
    observed = read_observed(path, simulated_years(chongqing), chongqing.scenario.name)
    with path.open(encoding="utf-8") as handle:
        assert len(observed) == sum(1 for _ in csv.DictReader(handle))
    ids = {o.id for o in observed}
    assert {"kvl_cumulative_firms", "kvl_cumulative_firm_loans", "tech_smes"} <= ids
    assert max(o.year for o in observed) == 2025


def test_the_validation_file_dates_the_mid_year_loan_counts(chongqing):
    """chongqing_observed_2018_2025.csv: the series' rows, each reported mid-year at month 6."""
    path = TARGETS / "chongqing_observed_2018_2025.csv"
    observed = read_observed(path, simulated_years(chongqing), chongqing.scenario.name)
    with (TARGETS / "chongqing_series.csv").open(encoding="utf-8") as handle:
        series = list(csv.DictReader(handle))
    expected = {
        (r["id"], int(r["year"])): (float(r["value"]), 6 if r["note"].startswith("mid-") else 12)
        for r in series
        # a mid-year value of the baseline year is before the first simulated 31 December
        if not (int(r["year"]) == chongqing.baseline_year and r["note"].startswith("mid-"))
    }
    assert {(o.id, o.year): (o.value, o.month) for o in observed} == expected
    assert sum(o.month == 6 for o in observed) == 2


def test_at_year0_as_many_eligible_firms_know_the_loan_scheme_as_it_has_served(chongqing):
    model = InnovationEcosystem(setup=chongqing, agents="lean")
    f = model.firms.arrays()
    served = model.groups["credit"].firms_served
    assert served == 580  # the plan table's end-2018 count
    assert f.loan_aware.sum() == served
    assert (f.tech_sme | (f.hitech_until >= 0))[f.loan_aware].all()


# ------------------------------------------------------------- the city from a later year


@pytest.mark.parametrize(
    ("name", "baseline", "registered", "certified", "rd_gdp"),
    [
        ("chongqing_2019_2025", 2019, 16918, 3141, 1.99),
        ("chongqing_2020_2025", 2020, 26370, 4340, 2.11),
    ],
)
def test_the_city_from_a_later_year_starts_from_its_observed_stock(
    name, baseline, registered, certified, rd_gdp
):
    scenario = load_scenario(ROOT / "scenarios" / f"{name}.toml")
    assert scenario.baseline_year == baseline and scenario.plan.target_year == 2025
    model = InnovationEcosystem(setup=scenario, agents="lean")
    first = model.yearly_indicators().iloc[0]
    assert first["year"] == baseline
    assert (first["tech_smes"], first["hitech_firms"]) == (registered, certified)
    for indicator in CLOSURE_RATIOS:
        assert first[indicator] == pytest.approx(scenario.plan.get(indicator).baseline, rel=1e-12)
    # the registry has been spreading since 2017: some firms off the ladder know it
    f = model.firms.arrays()
    off = f.alive & ~f.tech_sme & (f.hitech_until < 0)
    share = scenario.population.registry_aware_share
    assert share > 0 and f.registry_aware[off].mean() == pytest.approx(share, abs=0.01)
    # the city series validates as it is: the rows before year 0 are left out
    left_out = []
    path = TARGETS / "chongqing_observed_2018_2025.csv"
    observed = read_observed(path, simulated_years(scenario), scenario.scenario.name, left_out)
    assert min(o.year for o in observed) == baseline and max(o.year for o in observed) == 2025
    assert all(o.year < baseline or o.month < 12 for o in left_out) and left_out
