"""The burn-in: the drawn population lives years under the baseline's policies, re-anchored."""

import numpy as np
import pandas as pd
import pytest
from conftest import CLOSURE_RATIOS, DEFAULT_SCENARIO, REFERENCE_SCENARIO

from sim.agents import burn_in, ladder
from sim.indicators import COUNT_INDICATORS
from sim.model import InnovationEcosystem
from sim.reference import ReferenceEcosystem
from sim.run import run_scenario
from sim.scenario import load_scenario

# and patents per 10,000 residents, not a closure ratio: the burn-in re-anchors the patent stock
RATIOS = (*CLOSURE_RATIOS, "invention_patents_per_10k")


def burnt_in(path, years: int, seed: int | None = None) -> InnovationEcosystem:
    scenario = load_scenario(path, overrides={"scenario.burn_in_years": years})
    return InnovationEcosystem(setup=scenario, seed=seed, agents="full")


@pytest.fixture(scope="module")
def district():
    """The district drawn (no burn-in) and burnt in for three years, seed 0."""
    return burnt_in(DEFAULT_SCENARIO, 0), burnt_in(DEFAULT_SCENARIO, 3)


def test_year0_counts_are_the_baseline_and_ratios_within_2_percent(district):
    drawn, burnt = (m.yearly_indicators().iloc[0] for m in district)
    for name in COUNT_INDICATORS:
        if not pd.isna(drawn[name]):
            assert burnt[name] == drawn[name], name
    assert burnt["tech_smes"] == 205 and burnt["hitech_firms"] == 64
    for name in RATIOS:
        assert burnt[name] == pytest.approx(drawn[name], rel=0.02), name
    # the flows of year 0 are not observed, with a burn-in or without
    assert pd.isna(burnt["births"]) and pd.isna(burnt["spend_total"])


def test_the_firms_lived_the_years_between(district):
    drawn, burnt = (m.firms.arrays() for m in district)
    # firms were born during the burn-in and some of the drawn ones exited
    assert (burnt.birth_month[burnt.alive] >= -36).sum() > 50
    assert (~burnt.alive[: len(drawn.alive)]).sum() > 50
    # the drawn firms' dates moved back three years; histories are the model's own
    survivors = np.flatnonzero(burnt.alive[: len(drawn.alive)])
    assert (burnt.birth_month[survivors] == drawn.birth_month[survivors] - 36).all()
    assert not np.allclose(burnt.rd_history[survivors], drawn.rd_history[survivors])
    # money is back at year-0 levels: each sector's booked revenue as drawn
    np.testing.assert_allclose(
        burn_in.sector_revenue(burnt), burn_in.sector_revenue(drawn), rtol=1e-9
    )


def test_the_levers_act_during_the_burn_in_and_nothing_carries_over(monkeypatch):
    from sim.agents.government import Government

    booked = []
    record = Government.record

    def spy(self, group, amount):
        booked.append((self.model.current_year, group, amount))
        record(self, group, amount)

    monkeypatch.setattr(Government, "record", spy)
    model = burnt_in(DEFAULT_SCENARIO, 2)
    drawn = burnt_in(DEFAULT_SCENARIO, 0)
    # the baseline year's levers paid out in both burn-in years (vouchers, incubators, ...)
    years = {year for year, _, amount in booked if amount > 0}
    assert years == {2019, 2020}  # the baseline year and the one before
    assert {group for year, group, amount in booked if year == 2019 and amount > 0} >= {
        "vouchers",
        "incubation",
    }
    # year 0 opens afresh: the same books, agents and counts as without a burn-in
    assert dict(model.government.spent) == dict(drawn.government.spent) == {}
    lever_agents = [type(a).__name__ for a in model.agents if not isinstance(a, model.FIRM_AGENTS)]
    drawn_agents = [type(a).__name__ for a in drawn.agents if not isinstance(a, drawn.FIRM_AGENTS)]
    assert sorted(lever_agents) == sorted(drawn_agents)
    assert model.groups["attraction"].attracted == 0 and model.groups["talent"].talents == []
    assert model.month == -1 and model.births_this_year == model.exits_this_year == 0
    f = model.firms.arrays()
    assert (f.loan_balance == 0).all() and not f.cultivated.any()


def test_what_the_funds_invested_in_the_burn_in_is_not_received_in_year_1():
    model = burnt_in(DEFAULT_SCENARIO, 2)
    # the funds start afresh with no stakes, so the firms hold no equity from them
    assert (model.firms.column("equity_received") == 0).all()
    model.run(12)
    accounts = model.government.accounts[2021]
    assert accounts["funds_invested"] > 0
    assert accounts["firms_equity_received"] == pytest.approx(accounts["funds_invested"])


def test_agents_and_table_agree_after_the_burn_in(district):
    _, burnt = district
    alive = np.flatnonzero(burnt.firms.column("alive"))
    assert sorted(burnt.firm_agents) == alive.tolist()


def test_statuses_are_held_by_firms_at_the_margin(district):
    _, burnt = district
    f = burnt.firms.arrays()
    held = ladder.holders(f, -1)
    assert held["specialised"].sum() == 9 and held["little_giant"].sum() == 1
    # firms on the ladder know it, and only they
    on_ladder = f.alive & (f.tech_sme | (f.hitech_until > -1))
    assert (f.registry_aware[f.alive] == on_ladder[f.alive]).all()


def test_same_seed_same_run_and_the_burn_in_draws_its_own_streams():
    scenario = load_scenario(REFERENCE_SCENARIO, overrides={"scenario.burn_in_years": 2})
    a = run_scenario(scenario, seed=5, months=24).indicators
    b = run_scenario(scenario, seed=5, months=24).indicators
    assert a.equals(b)
    plain = run_scenario(load_scenario(REFERENCE_SCENARIO), seed=5, months=24).indicators
    assert not a.iloc[1:].equals(plain.iloc[1:])


def test_reference_equals_the_kernels_through_a_burn_in():
    scenario = load_scenario(REFERENCE_SCENARIO, overrides={"scenario.burn_in_years": 1})
    kernels = run_scenario(scenario, months=12).indicators
    reference = ReferenceEcosystem(setup=scenario)
    reference.run(12)
    pd.testing.assert_frame_equal(reference.yearly_indicators(), kernels, rtol=1e-9)


def test_burn_in_years_are_validated(tmp_path):
    from sim.schema import InputError

    with pytest.raises(InputError, match="burn_in_years"):
        load_scenario(DEFAULT_SCENARIO, overrides={"scenario.burn_in_years": -1})
