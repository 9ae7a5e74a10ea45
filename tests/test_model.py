import numpy as np
import pytest
from conftest import CLOSURE_RATIOS

from sim.agents.firms import Firm
from sim.model import InnovationEcosystem
from sim.run import run_scenario


def test_year0_indicators_equal_the_plan_baseline(liangping):
    first = run_scenario(liangping, months=1).indicators.iloc[0]
    assert first["year"] == 2020
    assert first["tech_smes"] == 205
    assert first["hitech_firms"] == 64
    assert first["high_growth_firms"] == 7
    assert first["valid_invention_patents"] == 148
    for indicator in CLOSURE_RATIOS:
        assert first[indicator] == pytest.approx(liangping.plan.get(indicator).baseline, rel=1e-12)
    # 148 / 658,000 residents is the published 2.25 per 10,000, rounded
    assert first["invention_patents_per_10k"] == pytest.approx(2.25, abs=0.005)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_year0_calibration_holds_for_any_seed(liangping, seed):
    first = run_scenario(liangping, seed=seed, months=1).indicators.iloc[0]
    assert first["rd_gdp_ratio"] == pytest.approx(0.74)
    assert first["hitech_industry_share"] == pytest.approx(17.2)


def test_same_seed_same_result_and_other_seed_differs(small):
    a = run_scenario(small, seed=3).indicators
    b = run_scenario(small, seed=3).indicators
    c = run_scenario(small, seed=4).indicators
    assert a.equals(b)
    assert not a.equals(c)


def test_lean_and_full_modes_give_identical_indicators(small):
    lean = run_scenario(small, agents="lean").indicators
    full = run_scenario(small, agents="full").indicators
    assert lean.equals(full)


def test_firm_agents_are_views_of_the_table_and_track_births_and_exits(small):
    model = InnovationEcosystem(setup=small, agents="full")
    model.run(18)
    firms = model.agents_by_type[Firm]
    alive = np.flatnonzero(model.firms.column("alive"))
    assert sorted(f.firm_id for f in firms) == alive.tolist()
    assert len(model.firms) > len(alive)  # some firms exited and left the registry
    assert max(alive) >= sum(s.hitech + s.tech_sme + s.other for s in small.population.sectors)
    revenue = model.firms.column("revenue")[alive]
    assert firms.agg("revenue", sum) == pytest.approx(revenue.sum(), rel=1e-12)
    certified = firms.select(lambda f: f.hitech)
    assert len(certified) == int(np.count_nonzero(model.firms.column("hitech_until")[alive] >= 17))
    one = firms.select(lambda f: f.firm_id == alive[0]).to_list()[0]
    assert one.cash == model.firms.column("cash")[alive[0]]
    assert one.revenue_history.shape == (3,)


def test_datacollector_collects_years_and_firm_level_reporters(small):
    model = InnovationEcosystem(setup=small, agents="full", collect_firms=True)
    model.run(12)
    years = model.datacollector.get_model_vars_dataframe()
    assert list(years["year"]) == [2020, 2021]
    firms = model.datacollector.get_agenttype_vars_dataframe(Firm)
    last = firms.xs(firms.index.get_level_values(0).max(), level=0)
    alive = np.flatnonzero(model.firms.column("alive"))
    assert len(last) == len(alive)
    assert last["revenue"].sum() == pytest.approx(model.firms.column("revenue")[alive].sum())


def test_higher_super_deduction_raises_business_rd(small):
    """A lever with a known sign: cheaper R&D after tax -> more R&D (same random numbers)."""
    low = small.policy.__class__(
        super_deduction_industrial={2018: 0.0}, super_deduction_other={2018: 0.0}
    )
    high = small.policy.__class__(
        super_deduction_industrial={2018: 2.0}, super_deduction_other={2018: 2.0}
    )
    import dataclasses

    def rd(policy):
        scenario = dataclasses.replace(small, policy=policy)  # keeps the plan and source
        return run_scenario(scenario).indicators["business_rd"].iloc[1:].sum()

    assert rd(high) > 1.05 * rd(low)


def test_live_policy_change_takes_effect_next_month(small):
    base = InnovationEcosystem(setup=small, agents="lean")
    changed = InnovationEcosystem(setup=small, agents="lean")
    base.run(3)
    changed.run(3)
    changed.set_lever("standard_tax_rate", 0.5)
    base.step()
    changed.step()
    assert changed.firms.column("cash").sum() < base.firms.column("cash").sum()


def test_firms_attracted_after_a_mid_year_change_join_next_january(small):
    # entrants of a year are drawn in January with the ids that follow the attracted firms
    model = InnovationEcosystem(setup=small, agents="full")
    model.run(5)
    before = np.count_nonzero(model.firms.column("attracted"))
    model.set_lever("attraction.firms_per_year", 30)
    model.run(7)  # to December: attraction acts in January only
    assert np.count_nonzero(model.firms.column("attracted")) == before
    model.run(2)
    attracted = np.flatnonzero(model.firms.column("attracted"))
    assert len(attracted) > before + 20
    operating = attracted[model.firms.column("alive")[attracted]]
    assert set(operating.tolist()) <= set(model.firm_agents)  # full mode made their agents


def test_bad_live_lever_is_rejected_with_its_name(small):
    from sim.schema import InputError

    model = InnovationEcosystem(setup=small, agents="lean")
    with pytest.raises(InputError, match=r"policy.vouchers.budget = -1: must be >= 0"):
        model.set_lever("vouchers.budget", -1)
    with pytest.raises(InputError, match="unknown lever"):
        model.set_lever("vouchers.colour", 1)
    model.set_lever("vouchers.budget", 5)
    assert model.policy.vouchers.budget == 5.0


def test_agent_mode_is_validated(small):
    with pytest.raises(ValueError, match="agents must be one of"):
        InnovationEcosystem(setup=small, agents="some")


@pytest.mark.parametrize("seed", [1, 2])
def test_year0_high_growth_firms_are_the_qualifying_firms_that_seek_it(liangping, seed):
    """The year-end rule applied to the year-0 stock keeps exactly the table's firms."""
    from sim.agents.population import qualifies_high_growth, seeks_high_growth

    model = InnovationEcosystem(setup=liangping, seed=seed, agents="lean")
    f = model.firms.arrays()
    alive = f.alive.astype(bool)
    recognised = f.tech_sme.astype(bool) | (f.hitech_until > -1)
    columns = {"revenue_history": f.revenue_history, "birth_month": f.birth_month}
    qualifying = qualifies_high_growth(liangping, columns, recognised) & alive
    seeks = seeks_high_growth(seed, len(alive)) < model.sector_params.high_growth_take_up[f.sector]
    held = f.high_growth.astype(bool) & alive
    assert np.array_equal(held, qualifying & seeks)
    per_sector = np.bincount(f.sector[held], minlength=len(liangping.population.sectors))
    assert list(per_sector) == [s.high_growth for s in liangping.population.sectors]
    # more firms qualify than hold it: the recognition is taken up, not automatic
    assert qualifying.sum() > held.sum()


def test_year0_rd_goes_to_recognised_then_latent_firms_then_the_others(liangping):
    """The region's year-0 business R&D: the registry's pool keeps its R&D before the others."""
    from types import SimpleNamespace

    from sim.agents.population import scale_rd_to_region

    def columns():
        return {
            "tech_sme": np.array([True, False, False, False]),
            "hitech_until": np.array([-10, -10, -10, -10]),
            "rd_history": np.array([[10.0] * 3, [4.0] * 3, [6.0] * 3, [6.0] * 3]),
            "rd_intensity": np.full(4, 0.05),
            "rd_intensity_long_run": np.full(4, 0.05),
            "rd_per_tech_staff": np.full(4, 0.5),
        }

    latent = np.array([False, True, False, False])
    row = liangping.plan.get("rd_gdp_ratio")
    for target, expected in ((30.0, [10, 4, 8, 8]), (12.0, [10, 2, 0, 0])):
        region = SimpleNamespace(firm_rd_share=target / (row.baseline / 100.0 * 1000.0), gdp=1000.0)
        scenario = SimpleNamespace(plan=liangping.plan, region=region)
        cols = columns()
        scale_rd_to_region(scenario, cols, latent)
        np.testing.assert_allclose(cols["rd_history"][:, 0], expected)


def test_firm_totals_are_the_sums_over_operating_firms(small):
    """The compiled year totals against the same sums written out over the operating firms."""
    from sim.indicators import firm_totals

    model = InnovationEcosystem(setup=small, agents="lean")
    model.run(24)
    f, flags, t = model.firms.arrays(), model.sector_flags, model.month
    above_scale = small.population.above_scale_revenue
    totals = firm_totals(f, flags, above_scale, t)
    alive = f.alive
    sector = f.sector
    revenue, rd = f.revenue_history[:, 0], f.rd_history[:, 0]
    industrial = flags["industrial"][sector] & alive
    above = industrial & (revenue >= above_scale)
    value_added = revenue * flags["value_added_share"][sector]
    assert np.count_nonzero(~alive) > 0 and np.count_nonzero(above) > 0  # both cases occur
    assert totals["firms"] == np.count_nonzero(alive)
    assert totals["hitech_firms"] == np.count_nonzero(alive & (f.hitech_until > t))
    assert totals["valid_invention_patents"] == f.invention_patents[alive].sum()
    expected = {
        "business_rd": rd[alive].sum(),
        "firm_revenue": revenue[alive].sum(),
        "firm_tax": f.tax_last_year[alive].sum(),
        "value_added": value_added[alive].sum(),
        "tech_staff": f.tech_staff[alive].sum(),
        "above_scale_revenue": revenue[above].sum(),
        "above_scale_rd": rd[above].sum(),
        "above_scale_hitech_revenue": revenue[above & flags["hitech_industry"][sector]].sum(),
        "industrial_value_added": value_added[industrial].sum(),
    }
    for name, value in expected.items():
        assert totals[name] == pytest.approx(value, rel=1e-12), name
