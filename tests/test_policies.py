"""Policy levers: money accounted for to the yuan, effects with the intended sign, the
knowledge-value credit circuit breaker, and the plan against its counterfactual."""

import numpy as np
import pytest
from conftest import REFERENCE_SCENARIO, ROOT
from scipy import stats

from sim import rng
from sim.agents.government import SPENDING_GROUPS
from sim.agents.incubators import (
    applicant_score,
    applicants,
    incubation_candidates,
    places,
    support_share,
)
from sim.model import InnovationEcosystem
from sim.policies.incubation import IncubationLevers
from sim.run import run_scenario
from sim.scenario import load_scenario

SEEDS = range(10)

# One lever switched on at a time (on top of a district with every lever off).
ONE_LEVER = {
    "vouchers": {"vouchers": {"budget": 3.0}},
    "credit": {
        "credit": {
            "loan_cap": 5.0,
            "compensation_fund": 20.0,
            "application_rate": 0.5,
            "need_cash_months": 6.0,
        }
    },
    "guidance_funds": {
        "guidance_funds": {
            "seed": {"public_capital": 10.0},
            "angel": {"public_capital": 10.0},
            "venture": {"public_capital": 10.0},
        }
    },
    "rd_subsidies": {"rd_subsidies": {"budget": 2.0, "major_product_award": 0.1}},
    "certification_support": {
        "certification_support": {
            "pool_size": 10,
            "award_new_hitech": 0.2,
            "award_renewed_hitech": 0.1,
            "award_new_tech_sme": 0.01,
        }
    },
    "talent": {"talent": {"recruits_per_year": 8.0, "commissioners_per_year": 40.0}},
    "incubation": {"incubation": {"new_institutions_per_year": 2.0, "operating_subsidy": 0.2}},
    "platforms": {
        "platforms": {
            "existing_platforms": 10,
            "new_platforms_per_year": 3.0,
            "platform_award": 0.5,
            "new_rd_institutes_per_year": 0.5,
        }
    },
    "attraction": {"attraction": {"firms_per_year": 3.0, "subsidy_per_firm": 1.0}},
}


def district(policy=None, **scenario):
    """The ~300-firm test district with every lever off except ``policy``."""
    overrides = {"policy": policy or {}}
    overrides |= {f"scenario.{key}": value for key, value in scenario.items()}
    return load_scenario(REFERENCE_SCENARIO, overrides=overrides)


def run_model(scenario, seed=0, checks=None):
    model = InnovationEcosystem(setup=scenario, seed=seed, agents="lean")
    for _ in range(scenario.scenario.horizon_months):
        model.step()
        if checks:
            checks(model)
    return model


def no_negative_balances(model):
    assert model.groups["credit"].compensation_fund.balance >= -1e-12
    for fund in model.groups["guidance_funds"].funds.values():
        assert fund.cash >= -1e-12


@pytest.mark.parametrize("lever", SPENDING_GROUPS)
def test_public_money_paid_equals_money_received_every_year(lever):
    model = run_model(district(ONE_LEVER[lever]), checks=no_negative_balances)
    government = model.government
    years = sorted(government.accounts)
    assert years == [2021, 2022]
    for year in years:
        spent = government.spent[year]
        accounts = government.accounts[year]
        for other in SPENDING_GROUPS:
            if other != lever:
                assert spent[other] == 0.0, (other, year)
        institutions = accounts.get(f"institutions_{lever}", 0.0)
        if lever == "vouchers":
            received = accounts["firms_voucher_used"]
        elif lever == "credit":
            previous = government.accounts.get(year - 1, {}).get("bank_compensation", 0.0)
            received = accounts["bank_compensation"] - previous
        elif lever == "guidance_funds":
            previous = government.accounts.get(year - 1, {}).get("funds_public_invested", 0.0)
            received = accounts["funds_public_invested"] - previous
        else:
            received = accounts["firms_public_receipts"] + institutions
        assert received == pytest.approx(spent[lever], rel=1e-12, abs=1e-12), (lever, year)
    assert sum(government.spent[year][lever] for year in years) > 0, f"{lever} spent nothing"


def test_credit_and_fund_books_balance():
    model = run_model(district(ONE_LEVER["credit"] | ONE_LEVER["guidance_funds"]))
    credit, funds = model.groups["credit"], model.groups["guidance_funds"].funds
    fund, bank = credit.compensation_fund, credit.bank
    assert bank.lent > 0 and bank.overdue > 0
    assert fund.paid_out == pytest.approx(bank.compensation_received)
    assert fund.balance == pytest.approx(20.0 + fund.topped_up - fund.paid_out)
    assert fund.paid_out <= 0.8 * bank.overdue + 1e-9
    invested = sum(f.invested for f in funds.values())
    assert invested > 0
    assert model.firms.column("equity_received").sum() == pytest.approx(invested)
    for f in funds.values():
        committed = f.public + f.private
        assert f.cash == pytest.approx(committed - f.invested + f.proceeds)


def test_a_fund_table_setting_some_keys_keeps_its_stages_defaults_for_the_others():
    from dataclasses import replace

    from sim.policies.guidance_funds import GuidanceFundLevers

    declared = GuidanceFundLevers()
    # the plan scenario's angel table sets its capital only
    plan = ROOT / "scenarios" / "liangping_2021_2025.toml"
    funds = load_scenario(plan).policy.guidance_funds
    assert funds.angel == replace(declared.angel, public_capital=20.0)
    assert funds.angel.leverage == 1.0 and funds.angel.min_status == 1
    setting = {"policy.guidance_funds.venture.public_capital": 10.0}
    venture = load_scenario(plan, overrides=setting).policy.guidance_funds.venture
    assert venture == replace(declared.venture, public_capital=10.0)
    # a table read from the file agrees with a live change of the same key
    model = InnovationEcosystem(setup=load_scenario(REFERENCE_SCENARIO), agents="lean")
    model.set_lever("guidance_funds.angel.public_capital", 10.0)
    assert model.policy.guidance_funds == load_scenario(REFERENCE_SCENARIO).policy.guidance_funds
    # any nested table: a profile keeps its status's other values
    setting = {"population.profiles.hitech.revenue_multiplier": 3.0}
    hitech = load_scenario(plan, overrides=setting).population.profiles.hitech
    assert hitech == replace(load_scenario(plan).population.profiles.hitech, revenue_multiplier=3.0)


def test_circuit_breaker_stops_new_lending_once_losses_pass_it():
    credit = ONE_LEVER["credit"]["credit"] | {
        "breaker_loss_ratio": 0.02,
        "warning_loss_ratio": 0.01,
    }
    scenario = district({"credit": credit}, horizon_months=36)
    model = InnovationEcosystem(setup=scenario, agents="lean")
    tripped_at = None
    bank = model.groups["credit"].bank
    for month in range(36):
        loans_before = bank.loans_made
        tripped = bank.loss_ratio >= 0.02
        model.step()
        if tripped:
            tripped_at = month if tripped_at is None else tripped_at
            assert bank.loans_made == loans_before, f"lent after the breaker, {month}"
    assert tripped_at is not None, "losses never reached the breaker: the test checks nothing"
    assert bank.loans_made > 0


def paired(outcome, low, high, seeds=SEEDS):
    """Outcome under ``high`` minus under ``low``, seed by seed (common random numbers)."""
    return np.array([outcome(high, seed) - outcome(low, seed) for seed in seeds], dtype=float)


def total(indicator):
    def outcome(scenario, seed):
        frame = run_scenario(scenario, seed=seed).indicators
        return float(frame[indicator].iloc[1:].astype(float).sum())

    return outcome


def final(indicator):
    def outcome(scenario, seed):
        return float(run_scenario(scenario, seed=seed).indicators[indicator].iloc[-1])

    return outcome


def assert_increases(diffs):
    assert diffs.mean() > 0, diffs
    if np.ptp(diffs) == 0:
        return
    assert stats.ttest_1samp(diffs, 0.0, alternative="greater").pvalue < 0.05, diffs


DIRECTIONS = [
    (
        "larger voucher budget -> more firm R&D",
        {"vouchers": {"budget": 0.0}},
        {"vouchers": {"budget": 6.0}},
        total("business_rd"),
    ),
    (
        "incremental R&D subsidy -> more firm R&D",
        {"rd_subsidies": {"budget": 0.0}},
        {"rd_subsidies": {"budget": 5.0, "incremental_share": 0.3}},
        total("business_rd"),
    ),
    (
        "larger guidance funds -> more equity invested",
        {},
        {"guidance_funds": {"seed": {"public_capital": 20.0}}},
        total("equity_invested"),
    ),
    (
        "larger guidance funds -> more firm R&D",
        {},
        {"guidance_funds": {"seed": {"public_capital": 20.0}, "angel": {"public_capital": 20.0}}},
        total("business_rd"),
    ),
    (
        "cultivation pool -> more certified firms",
        {},
        {"certification_support": {"pool_size": 20, "pass_bonus": 0.2}},
        final("hitech_firms"),
    ),
    (
        "more talent -> more invention applications",
        {},
        {"talent": {"recruits_per_year": 20.0}},
        total("invention_applications"),
    ),
    (
        "more platforms -> more invention applications",
        {},
        {"platforms": {"new_platforms_per_year": 6.0, "innovation_boost": 0.5}},
        total("invention_applications"),
    ),
    (
        "attraction -> more certified firms",
        {},
        {"attraction": {"firms_per_year": 4.0}},
        final("hitech_firms"),
    ),
    (
        "larger loan cap -> more lending",
        {"credit": {"loan_cap": 1.0, "compensation_fund": 50.0}},
        {"credit": {"loan_cap": 5.0, "compensation_fund": 50.0}},
        total("kvl_lent"),
    ),
]


@pytest.mark.parametrize("name, low, high, outcome", DIRECTIONS, ids=[d[0] for d in DIRECTIONS])
def test_more_of_a_lever_gives_more_of_its_intended_effect(name, low, high, outcome):
    assert_increases(paired(outcome, district(low), district(high)))


def test_incubation_capacity_lowers_exits_of_young_firms():
    no_places = {"area_per_tenant": 1e5}  # less than one place per institution
    low = district({"incubation": no_places}, horizon_months=36)
    support = {"exit_hazard_factor": 0.3, "space_support_share": 1.0, "application_share": 1.0}
    high = district({"incubation": support}, horizon_months=36)
    assert_increases(-paired(total("exits"), low, high))


def test_incubation_services_lower_exits_of_young_firms():
    levers = {"exit_hazard_factor": 0.3, "application_share": 1.0}
    low = district({"incubation": levers | {"operating_subsidy": 0.0}}, horizon_months=36)
    high = district({"incubation": levers | {"operating_subsidy": 2.0}}, horizon_months=36)
    assert_increases(-paired(total("exits"), low, high))


def test_capacity_is_the_baseline_area_over_the_area_a_tenant_takes():
    levers = IncubationLevers()
    assert places(levers) == 31  # 440 thousand m2 / 42 institutions / 333 m2
    assert places(IncubationLevers(area_per_institution=1000.0, area_per_tenant=500.0)) == 2
    model = InnovationEcosystem(setup=district(), agents="lean")
    incubators = model.groups["incubation"].incubators
    assert len(incubators) == 42 and sum(i.capacity for i in incubators) == 42 * 31


def test_support_grows_with_services_per_tenant_and_saturates():
    levers = IncubationLevers()
    space = support_share(0.0, levers)
    assert space == levers.space_support_share > 0
    half = support_share(levers.service_half_cost, levers)
    assert half == pytest.approx(space + (1 - space) / 2)
    shares = [support_share(s, levers) for s in (0.0, 0.002, 0.01, 0.05, 1.0, 100.0)]
    assert all(a < b for a, b in zip(shares, shares[1:], strict=False))
    assert shares[-1] < 1.0
    gains = np.diff(shares[:4]) / np.diff([0.0, 0.002, 0.01, 0.05])
    assert (np.diff(gains) < 0).all()  # each yuan per tenant buys less than the one before


@pytest.mark.parametrize("subsidy", [0.0, 0.2, 2.0])
def test_tenants_get_the_support_their_incubators_services_buy(subsidy):
    scenario = district({"incubation": {"operating_subsidy": subsidy}}, horizon_months=13)
    model = run_model(scenario)
    f, levers = model.firms.arrays(), model.policy.incubation
    tenants = np.flatnonzero(f.incubator > 0)
    assert len(tenants) > 0
    share = support_share(subsidy / places(levers), levers)
    np.testing.assert_allclose(
        f.exit_hazard_factor[tenants], 1 - (1 - levers.exit_hazard_factor) * share, rtol=1e-12
    )
    np.testing.assert_allclose(f.growth_boost[tenants], levers.growth_boost * share, rtol=1e-12)
    others = np.flatnonzero((f.incubator == 0) & f.alive)
    assert (f.exit_hazard_factor[others] == 1.0).all() and (f.growth_boost[others] == 0.0).all()


def test_more_subsidy_per_tenant_gives_tenants_more_support():
    support = {}
    for subsidy in (0.0, 0.2, 2.0):
        scenario = district({"incubation": {"operating_subsidy": subsidy}}, horizon_months=13)
        f = run_model(scenario).firms.arrays()
        tenants = f.incubator > 0
        support[subsidy] = (f.exit_hazard_factor[tenants].max(), f.growth_boost[tenants].min())
    assert support[0.0][0] > support[0.2][0] > support[2.0][0]  # lower exit hazard
    assert support[0.0][1] < support[0.2][1] < support[2.0][1]  # faster growth


def test_incubators_admit_the_most_promising_applicants_when_places_bind():
    levers = {
        "existing_institutions": 2,
        "area_per_institution": 1000.0,
        "area_per_tenant": 500.0,  # 2 places each
        "new_institutions_per_year": 1.0,
        "application_share": 1.0,
    }
    model = InnovationEcosystem(setup=district({"incubation": levers}), agents="lean")
    refused_months = 0
    for _ in range(model.setup.scenario.horizon_months):
        f = model.firms.arrays()
        before = f.incubator.copy()
        ranked = incubation_candidates(
            f, model.month + 1, model.seed, model.policy.incubation, 10**9
        )
        model.step()
        f = model.firms.arrays()
        incubators = model.groups["incubation"].incubators
        tenants = np.bincount(f.incubator, minlength=len(incubators) + 1)[1:]
        assert (tenants <= [i.capacity for i in incubators]).all()
        admitted = np.flatnonzero((f.incubator[: len(before)] > 0) & (before == 0))
        assert sorted(admitted) == sorted(ranked[: len(admitted)])  # the first of the ranking
        refused = ranked[len(admitted) :]
        if len(admitted) and len(refused):
            refused_months += 1
            scores = applicant_score(f, ranked)
            assert scores[: len(admitted)].min() >= scores[len(admitted) :].max()
    assert refused_months > 0, "places never bound: the test checks nothing"


def test_the_admission_ranking_breaks_ties_by_a_reproducible_lottery():
    model = run_model(district({"incubation": {"application_share": 1.0}}, horizon_months=6))
    f, levers = model.firms.arrays(), model.policy.incubation
    f.incubator[:] = 0  # every young technology firm applies again
    applicants = incubation_candidates(f, 7, model.seed, levers, 10**9)
    assert len(applicants) > 5
    # two classes of applicants, alike within each: R&D 7% (50 points) or 3% (20 points)
    f.tech_staff[applicants] = 0.2 * f.employees[applicants]
    f.other_ip[applicants] = 0
    f.invention_patents[applicants] = 0
    strong = applicants[::2]
    f.rd_effort[applicants] = 0.03
    f.rd_effort[strong] = 0.07
    first = incubation_candidates(f, 7, model.seed, levers, 10**9)
    assert np.array_equal(first, incubation_candidates(f, 7, model.seed, levers, 10**9))
    assert sorted(first[: len(strong)]) == sorted(strong)  # the stronger class first
    other = incubation_candidates(f, 7, model.seed + 1, levers, 10**9)
    assert sorted(other[: len(strong)]) == sorted(strong)
    assert not np.array_equal(first, other)  # another seed's lottery orders the ties differently
    assert incubation_candidates(f, 7, model.seed, levers, 3).tolist() == first[:3].tolist()


def test_applicants_are_the_young_technology_firms_that_seek_a_place():
    """The compiled applicant pass against the entry rules written out over the whole table."""
    model = run_model(district({"incubation": {"application_share": 0.5}}, horizon_months=18))
    f, levers, t = model.firms.arrays(), model.policy.incubation, model.month + 1
    f.incubator[::7] = 0  # some tenants apply again
    seeks = (
        rng.uniforms(model.seed, rng.INIT_MONTH, np.arange(len(f.alive)), rng.INCUBATION_SEEKER)
        < levers.application_share
    )
    expected = np.flatnonzero(
        (f.birth_month >= t - levers.admission_max_age_months)
        & f.alive
        & (f.incubator == 0)
        & (f.rd_intensity > 0)
        & (f.tech_staff >= levers.min_tech_staff_share * f.employees)
        & ~f.attracted
        & seeks
    )
    assert 0 < len(expected) < np.count_nonzero(f.alive)
    assert applicants(f, t - levers.admission_max_age_months, levers, model.seed).tolist() == (
        expected.tolist()
    )


def test_incubators_never_hold_more_tenants_than_their_capacity():
    levers = {
        "existing_institutions": 2,
        "area_per_institution": 1000.0,
        "area_per_tenant": 500.0,  # 2 places each
        "new_institutions_per_year": 1.0,
        "incubation_months": 6,
        "application_share": 1.0,
    }
    full_months = []

    def tenancy(model):
        f, incubators = model.firms.arrays(), model.groups["incubation"].incubators
        tenants = np.bincount(f.incubator, minlength=len(incubators) + 1)
        capacity = np.array([0] + [i.capacity for i in incubators])
        assert (tenants[1:] <= capacity[1:]).all()
        in_incubator = f.incubator > 0
        assert (f.incubated_until[in_incubator] >= model.month).all()
        assert (f.growth_boost[~in_incubator & f.alive] == 0.0).all()
        full_months.append((tenants[1:] == capacity[1:]).all() and len(incubators) > 2)

    model = run_model(district({"incubation": levers}), checks=tenancy)
    assert any(full_months)  # every incubator full, new ones included
    assert sum(i.graduates for i in model.groups["incubation"].incubators) > 0


def test_lower_circuit_breaker_threshold_means_less_lending():
    credit = {
        "loan_cap": 5.0,
        "compensation_fund": 50.0,
        "application_rate": 0.5,
        "need_cash_months": 6.0,
        "warning_loss_ratio": 1.0,
    }
    strict = district({"credit": credit | {"breaker_loss_ratio": 0.01}}, horizon_months=36)
    loose = district({"credit": credit | {"breaker_loss_ratio": 0.5}}, horizon_months=36)
    assert_increases(paired(total("kvl_lent"), strict, loose))


def test_plan_scenario_beats_no_policy_on_hitech_firms_by_2025():
    plan = load_scenario(ROOT / "scenarios" / "liangping_2021_2025.toml")
    counterfactual = load_scenario(ROOT / "scenarios" / "liangping_no_policy.toml")
    diffs = paired(final("hitech_firms"), counterfactual, plan, seeds=range(5))
    assert_increases(diffs)
    assert run_scenario(plan, seed=0).indicators["year"].iloc[-1] == 2025
