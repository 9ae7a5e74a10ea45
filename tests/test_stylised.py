"""Stylised facts: the statistics on synthetic data with known answers, and one short real run."""

import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from sim import stylised
from sim.stylised import NotAvailable
from sim.stylised_facts import FACTS, FACTS_BY_ID

ROOT = Path(__file__).resolve().parents[1]
N = 40_000


@pytest.fixture
def rng():
    return np.random.default_rng(20240601)


def test_hill_recovers_pareto_index(rng):
    for alpha in (0.8, 1.0, 1.5):
        x = rng.pareto(alpha, N) + 1.0  # Pareto with minimum 1 and tail index alpha
        estimate, se, k = stylised.hill(x, 0.10)
        assert k == N // 10
        assert se == pytest.approx(estimate / math.sqrt(k))
        assert abs(estimate - alpha) < 4 * se


def test_hill_needs_a_tail():
    with pytest.raises(NotAvailable):
        stylised.hill(np.arange(1.0, 30.0), 0.1)


def test_kurtosis_and_skewness_of_known_laws(rng):
    assert stylised.excess_kurtosis(rng.normal(size=N)) == pytest.approx(0.0, abs=0.15)
    assert stylised.excess_kurtosis(rng.laplace(size=N)) == pytest.approx(3.0, abs=0.5)
    assert stylised.skewness(rng.normal(size=N)) == pytest.approx(0.0, abs=0.05)
    assert stylised.skewness(rng.exponential(size=N)) == pytest.approx(2.0, abs=0.2)


def test_subbotin_shape_and_likelihood_tell_laplace_from_gaussian(rng):
    laplace = rng.laplace(scale=0.1, size=5000)
    normal = rng.normal(scale=0.1, size=5000)
    assert stylised.subbotin_shape(laplace) == pytest.approx(1.0, abs=0.12)
    assert stylised.subbotin_shape(normal) == pytest.approx(2.0, abs=0.25)
    assert stylised.laplace_minus_normal(laplace) > 0.02
    assert stylised.laplace_minus_normal(normal) < -0.02


def test_size_variance_slope_recovers_scaling(rng):
    size = np.exp(rng.uniform(0, 8, N))
    growth = rng.laplace(size=N) * size**-0.2
    slope, classes = stylised.size_variance_slope(size, growth)
    assert slope == pytest.approx(-0.2, abs=0.02)
    assert len(classes) == stylised.SIZE_CLASSES
    flat, _ = stylised.size_variance_slope(size, rng.normal(size=N))
    assert flat == pytest.approx(0.0, abs=0.02)


def test_spearman():
    a = np.arange(10.0)
    assert stylised.spearman(a, a**3) == pytest.approx(1.0)
    assert stylised.spearman(a, -a) == pytest.approx(-1.0)


def test_exit_rates_by_age_count_exposure_and_exits():
    # firm 0: founded 5 years before the start, alive for months 0..23 (2 years at ages 5-6)
    # firm 1: born in month 0, steps from month 1, exits in month 12 (age 12 months)
    # firm 2: founded 12 years before the start, exits in month 0
    birth = np.array([-60, 0, -144])
    exit_month = np.array([-1, 12, 0])
    alive = np.array([True, False, False])
    rates = stylised.exit_rates_by_age(birth, exit_month, alive, last_month=23)
    (e0, y0), (e3, y3), (e6, y6), (e11, y11) = rates
    assert (e0, e3, e6, e11) == (1, 0, 0, 1)
    assert y0 == pytest.approx(12 / 12)  # firm 1: months 1..12
    assert y3 == pytest.approx(12 / 12)  # firm 0: ages 60..71 months
    assert y6 == pytest.approx(12 / 12)  # firm 0: ages 72..83 months
    assert y11 == pytest.approx(1 / 12)  # firm 2: month 0


def test_exit_rates_by_size_compare_the_smallest_and_largest_quarter_the_year_after():
    # one sector, 8 firms on 31 December 2020; sizes 1..8: quarters {1, 2} and {7, 8}
    start = pd.DataFrame({"seed": 1, "row": range(8), "year": 2020, "revenue": range(1, 9)})
    # 2021: firms 0 and 1 (smallest) and 7 (largest) are gone; 2021 is the last year
    after = start[~start["row"].isin([0, 1, 7])].assign(year=2021)
    small, large = stylised.exit_rates_by_size(pd.concat([start, after]))
    assert small == (2, 2)
    assert large == (1, 2)
    # the last year starts no comparison: a firm there cannot be seen to exit
    assert stylised.exit_rates_by_size(after) == ((0, 0), (0, 0))


def test_threshold_histogram_and_bunching():
    d = np.array([-0.0199, -0.004, -0.001, 0.0, 0.0, 0.001, 0.0024, 0.0026, 0.0199, 0.03])
    edges, counts = stylised.threshold_histogram(d)
    assert len(counts) == 16 and edges[0] == pytest.approx(-0.02)
    assert counts.sum() == 9  # 0.03 is outside
    assert counts[8] == 4 and counts[9] == 1 and counts[7] == 1 and counts[0] == 1
    ratio, above, below = stylised.bunching_ratio(d)
    assert (above, below) == (5, 2) and ratio == pytest.approx(2.5)
    ratio, above, below = stylised.bunching_ratio(np.array([0.001, 0.002]))
    assert (ratio, below) == (2.0, 0)  # a lower bound


def test_hnte_threshold_by_revenue_class():
    rules = SimpleNamespace(
        hitech_small_revenue=50,
        hitech_large_revenue=200,
        hitech_rd_ratio_small=0.05,
        hitech_rd_ratio_medium=0.04,
        hitech_rd_ratio_large=0.03,
    )
    got = stylised.hnte_threshold(np.array([10, 50, 51, 200, 201]), rules)
    assert got.tolist() == [0.05, 0.05, 0.04, 0.04, 0.03]
    with pytest.raises(NotAvailable):
        stylised.hnte_threshold(np.array([1.0]), SimpleNamespace())


def test_facts_table_is_declarative_and_documented():
    ids = [fact.id for fact in FACTS]
    assert len(ids) == len(set(ids)) == len(FACTS_BY_ID)
    assert all(fact.literature and fact.source for fact in FACTS)
    doc = (ROOT / "docs" / "stylised.md").read_text()
    begin, end = doc.index(stylised.TABLE_BEGIN), doc.index(stylised.TABLE_END)
    assert doc[begin + len(stylised.TABLE_BEGIN) : end].strip() == stylised.doc_table(), (
        "docs/stylised.md is stale: paste `python -m sim.stylised --doc-table`"
    )


def _synthetic_run(rng, drop: tuple[str, ...] = ()) -> stylised.RunData:
    """A panel with a known law: Laplace growth, a Pareto cross-section, R&D at thresholds."""
    firms, years = 400, range(2020, 2026)
    rows = []
    revenue = rng.pareto(1.0, firms) + 1.0
    rd = np.where(rng.random(firms) < 0.5, 0.0, 0.05 + rng.uniform(0, 0.01, firms))
    for year in years:
        for row in range(firms):
            rows.append((year, row, revenue[row], revenue[row], rd[row] * revenue[row]))
        revenue = revenue * np.exp(rng.laplace(scale=0.1, size=firms))
    panel = pd.DataFrame(rows, columns=["year", "row", "revenue", "employees", "booked_rd"])
    panel["booked_revenue"] = panel["revenue"]
    panel["sector"] = 0
    panel.insert(0, "seed", 1)
    panel = panel.drop(columns=list(drop))
    birth = np.concatenate([np.full(firms // 2, -100), rng.integers(0, 24, firms // 2)])
    exit_month = np.where(rng.random(firms) < 0.1, 40, -1)
    exit_month = np.maximum(exit_month, np.where(exit_month >= 0, birth + 1, -1))
    alive = exit_month < 0
    incubated = rng.random(firms) < 0.3
    return stylised.RunData(
        seed=1,
        panel=panel,
        firms={"alive": alive, "birth_month": birth, "exit_month": exit_month},
        last_month=71,
        ever_incubated=incubated,
        baseline_year=2020,
    )


RULES = SimpleNamespace(
    hitech_small_revenue=1e9,
    hitech_large_revenue=2e9,
    hitech_rd_ratio_small=0.05,
    hitech_rd_ratio_medium=0.04,
    hitech_rd_ratio_large=0.03,
)


def test_compute_facts_on_a_synthetic_panel(rng):
    facts, used = stylised.compute_facts([_synthetic_run(rng)], RULES)
    by_id = {fact["id"]: fact for fact in facts}
    assert [fact["id"] for fact in facts] == [fact.id for fact in FACTS]
    assert by_id["growth.excess_kurtosis"]["value"] > 1.5
    assert by_id["growth.subbotin_b"]["within"] is True
    assert by_id["rd.rank_first_last"]["value"] == pytest.approx(1.0)
    assert by_id["rd.performer_stays"]["value"] == 1.0
    assert by_id["hnte.bunching_ratio"]["detail"]["below"] == 0
    assert used["rd_intensity"] == "booked_rd / booked_revenue"
    for fact in facts:
        assert fact["value"] is None or math.isfinite(fact["value"])
        assert fact["within"] in (True, False, None)


def test_a_missing_column_makes_its_facts_na(rng):
    run = _synthetic_run(rng, drop=("booked_rd", "booked_revenue", "employees"))
    del run.firms["exit_month"]
    facts, used = stylised.compute_facts([run], RULES)
    by_id = {fact["id"]: fact for fact in facts}
    for fact_id in ("size.employees.tail10", "rd.rank_first_last", "exit.age_0_2"):
        assert by_id[fact_id]["value"] is None
        assert by_id[fact_id]["within"] is None
        assert "missing" in by_id[fact_id]["note"]
    assert by_id["size.revenue.tail10"]["value"] is not None  # the rest still computes


def test_command_json_on_a_short_real_run(capsys):
    scenario = ROOT / "scenarios" / "ci_smoke.toml"
    assert stylised.main([str(scenario), "--seeds", "1", "--months", "36", "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) >= {"scenario", "seeds", "facts"}
    assert result["scenario"] == "ci_smoke" and len(result["seeds"]) == 1
    assert [fact["id"] for fact in result["facts"]] == [fact.id for fact in FACTS]
    for fact in result["facts"]:
        assert set(fact) >= {"id", "value", "literature", "source", "within"}
        assert fact["within"] in (True, False, None)
        assert fact["value"] is None or math.isfinite(fact["value"])
    values = {fact["id"]: fact["value"] for fact in result["facts"]}
    for fact_id in ("size.revenue.tail10", "growth.excess_kurtosis", "rd.rank_first_last"):
        assert values[fact_id] is not None
    assert stylised.format_table(result).count("\n") > len(FACTS)


class _NewFirms:
    """Synthetic new firms, all born in month 5, added group by group."""

    AGES = 25  # applicant scores recorded at ages 0-24 months

    def __init__(self):
        self.columns = {k: [] for k in ("exit", "incubated", "scores", "admitted")}

    def add(self, count, survive, *, tenant=False, startup=True, score=10.0, exit_at=20, age=1):
        """``count`` firms of which ``survive`` (a share) survive 36 months; the others exit
        in month ``exit_at``; tenants are admitted at age ``age``. A start-up shows ``score``
        to incubators at every age it is operating; other firms never apply."""
        kept = round(survive * count)
        exits = [-1] * kept + [exit_at] * (count - kept)
        self.columns["exit"].extend(exits)
        self.columns["incubated"].extend([tenant] * count)
        self.columns["admitted"].extend([5 + age if tenant else -1] * count)
        for exit_month in exits:
            row = np.full(self.AGES, np.nan)
            if startup:
                operating = np.arange(self.AGES) <= (exit_month - 5 if exit_month >= 0 else 99)
                row[1:][operating[1:]] = score
            self.columns["scores"].append(row)
        return self

    def run(self) -> stylised.RunData:
        c = {k: np.array(v) for k, v in self.columns.items()}
        return stylised.RunData(
            seed=1,
            panel=pd.DataFrame(),
            firms={
                "alive": c["exit"] < 0,
                "birth_month": np.full(len(c["exit"]), 5),
                "exit_month": c["exit"],
            },
            last_month=60,
            ever_incubated=c["incubated"],
            baseline_year=2020,
            applicant_scores=c["scores"],
            admitted_month=c["admitted"],
        )


def _selected_start_ups() -> stylised.RunData:
    """Survival depends on the score band only and incubators pick high scores.

    Band 0 (score 10): 20 tenants and 80 other start-ups, 60% of each survive 36 months. Band 3
    (score 70): 80 tenants and 20 others, 95% of each survive. Plus 100 firms that are not
    technology start-ups, none incubated, 80% surviving. Incubation changes nothing.
    """
    return (
        _NewFirms()
        .add(20, 0.60, tenant=True, score=10.0)
        .add(80, 0.60, score=10.0)
        .add(80, 0.95, tenant=True, score=70.0)
        .add(20, 0.95, score=70.0)
        .add(100, 0.80, startup=False, score=0.0)
        .run()
    )


@pytest.mark.parametrize(
    ("flag", "value", "allowed"),
    [("--seeds", "0", ">= 1"), ("--seeds", "x", "whole number"), ("--months", "5000", "1 to 1200")],
)
def test_bad_flags_give_one_line_naming_the_value_and_exit_2(capsys, flag, value, allowed):
    scenario = ROOT / "scenarios" / "ci_smoke.toml"
    with pytest.raises(SystemExit) as stop:
        stylised.main([str(scenario), flag, value])
    assert stop.value.code == 2
    message = capsys.readouterr().err.strip().splitlines()[-1]
    assert flag in message and repr(value) in message and allowed in message


def test_incubated_firms_are_compared_with_similar_non_tenants():
    out = {}
    stylised._incubation_facts([_selected_start_ups()], out)
    assert out["incubation.survival_gap"]["value"] == pytest.approx(0.0)  # no effect, none found
    assert out["incubation.survival_incubated"]["value"] == pytest.approx(0.2 * 0.6 + 0.8 * 0.95)
    assert out["incubation.survival_not_incubated"]["n"] == 100  # the non-tenant start-ups only
    # tenants against every other new firm: selection on score looks like an effect
    assert out["incubation.survival_gap_naive"]["value"] > 0.1


def test_firms_that_exit_before_the_age_tenants_were_admitted_are_not_compared():
    # tenants admitted at 12 months; 10 of the 50 others exit at 5 months, 32 of the other
    # 40 (80%) survive 36 months, as do 40 of the 50 tenants: no effect
    firms = _NewFirms().add(50, 0.8, tenant=True, age=12).add(10, 0.0, exit_at=10)
    run = firms.add(40, 0.8).run()
    out = {}
    stylised._incubation_facts([run], out)
    assert out["incubation.survival_gap"]["value"] == pytest.approx(0.0)
    assert out["incubation.survival_not_incubated"]["n"] == 40
    assert out["incubation.survival_gap_naive"]["value"] == pytest.approx(0.8 - 32 / 50)


def test_a_firm_admitted_later_is_a_control_until_it_is_admitted():
    # 50 tenants admitted at 1 month, 50 at 12 months, 50 never: 80% of each survive
    firms = _NewFirms().add(50, 0.8, tenant=True, age=1).add(50, 0.8, tenant=True, age=12)
    out = {}
    stylised._incubation_facts([firms.add(50, 0.8).run()], out)
    assert out["incubation.survival_gap"]["value"] == pytest.approx(0.0)
    assert out["incubation.survival_not_incubated"]["n"] == 100  # late tenants and the rest


def test_non_tenants_are_matched_on_the_score_incubators_saw_when_they_chose():
    # at entry all score 70; by 6 months 50 have fallen to 10 (cash-strapped, they cut R&D
    # staff) and only those exit (half of them). Incubators admit at 6 months on the scores
    # then, so tenants are firms still at 70; matched on the score at 6 months, no effect shows
    firms = _NewFirms().add(40, 1.0, tenant=True, score=70.0, age=6).add(10, 1.0, score=70.0)
    run = firms.add(50, 0.5, score=70.0).run()
    fallen = np.arange(50, 100)
    run.applicant_scores[fallen, 6:] = 10.0
    out = {}
    stylised._incubation_facts([run], out)
    assert out["incubation.survival_gap"]["value"] == pytest.approx(0.0)
    assert out["incubation.survival_not_incubated"]["n"] == 10
    assert out["incubation.survival_gap_naive"]["value"] == pytest.approx(1.0 - 35 / 60)


def test_matched_incubation_facts_need_the_applicant_scores():
    run = _selected_start_ups()
    run.applicant_scores = None
    out = {}
    stylised._incubation_facts([run], out)
    assert "not recorded" in out["incubation.survival_gap"]["note"]
    assert out["incubation.survival_gap_naive"]["value"] > 0.1


def test_rd_premium_recovers_a_known_return_and_leaves_young_firms_out():
    rng = np.random.default_rng(3)
    firms, years = 2000, range(2020, 2024)
    rd = np.where(rng.random(firms) < 0.5, 0.0, rng.uniform(0.01, 0.1, firms))
    birth = np.where(np.arange(firms) < firms // 2, -100, 30)  # half are young throughout
    revenue = np.full(firms, 10.0)
    rows = []
    for year in years:
        rows += [(1, row, year, revenue[row], rd[row] * revenue[row]) for row in range(firms)]
        # old firms earn 0.3 per unit of R&D intensity; young ones grow 2.0 per unit (selection)
        rho = np.where(birth < 0, 0.3, 2.0)
        revenue = revenue * np.exp(rho * rd + rng.normal(0, 0.02, firms))
    panel = pd.DataFrame(rows, columns=["seed", "row", "year", "booked_revenue", "booked_rd"])
    panel["revenue"] = panel["booked_revenue"]
    panel["birth_month"] = birth[panel["row"]]
    slope = stylised.rd_premium(panel, stylised.growth_rates(panel))["value"]
    assert slope == pytest.approx(0.3, abs=0.02)
