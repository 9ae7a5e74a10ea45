"""Knowledge sources and collaborations (sim/policies/platforms.py): partner choice by field
and capacity, the spillover and the services a partner buys, technology contracts calibrated
at year 0, institutes adding collaborations, and their running costs booked once."""

import numpy as np
import pytest
from test_policies import assert_increases, district, paired, total

from sim.model import InnovationEcosystem
from sim.policies.platforms import match_partners
from sim.run import run_scenario

# Few places, so that the district's firms compete for partners.
SCARCE = {"university_capacity": 1, "existing_new_rd_institutes": 1, "institute_capacity": 4}


def scarce(**levers):
    return district({"platforms": SCARCE | levers})


def test_year0_tech_contracts_equal_the_plan_baseline_for_any_seed(liangping):
    for seed in (2021, 3):
        first = run_scenario(liangping, seed=seed, months=1).indicators.iloc[0]
        assert first["tech_contract_value"] == pytest.approx(0.98, rel=1e-12)
        assert first["knowledge_collaborations"] > 0


def test_a_partner_firm_gets_the_spillover_and_buys_services():
    scenario = scarce()
    levers = scenario.policy
    model = InnovationEcosystem(setup=scenario, agents="lean")
    model.run(11)  # January to November 2021
    f = model.firms.arrays()
    partners = f.knowledge_partner > 0
    assert 0 < np.count_nonzero(partners) < len(model.groups["platforms"].seekers(f))
    assert (f.partner_fit[partners] > 0).all() and (f.partner_fit[~partners] == 0).all()
    expected = (
        1.0
        + levers.talent.innovation_boost * f.talents
        + levers.platforms.innovation_boost * f.platform
        + levers.platforms.collaboration_boost * f.partner_fit
        + levers.talent.commissioner_boost * f.commissioner_visits
    )
    np.testing.assert_allclose(f.innovation_boost, expected, rtol=1e-15)
    # a partner buys the services share of its real R&D as it spends it
    share = model.groups["platforms"].services_share
    real = f.rd_ytd - f.rd_relabelled_ytd
    np.testing.assert_allclose(f.services_bought_ytd[partners], share * real[partners], rtol=1e-9)
    assert (f.services_bought_ytd[partners] > 0).all()
    assert (f.services_bought_ytd[~partners & (real > 0)] > 0).all()  # booked by the firm step
    until_november = f.services_bought_ytd[partners].sum()
    partners, alive = partners.copy(), f.alive.copy()
    model.step()  # December: the sources book their partners' purchases, nobody else's
    spending = partners & alive  # operating in December
    december = share * model.firms.column("rd_spend")[: len(partners)][spending].sum()
    sources = model.groups["platforms"].sources
    contracts = sum(source.contracts[2021] for source in sources)
    assert contracts == pytest.approx(until_november + december, rel=1e-9)
    assert contracts == pytest.approx(100.0 * model.indicators["tech_contract_value"], rel=1e-12)
    assert sum(source.partners[2021] for source in sources) == np.count_nonzero(partners)


def test_sources_never_take_more_partners_than_their_capacity():
    model = InnovationEcosystem(
        setup=scarce(industry_research_institutes_per_year=1.0), agents="lean"
    )
    group = model.groups["platforms"]
    for _ in range(scarce().scenario.horizon_months):
        model.step()
        f = model.firms.arrays()
        taken = np.bincount(f.knowledge_partner, minlength=len(group.sources) + 1)[1:]
        assert (taken <= [group.capacity(source) for source in group.sources]).all()
        assert (taken == [group.capacity(source) for source in group.sources]).all()  # scarce
        partners = f.knowledge_partner > 0
        fields = np.array([source.field for source in group.sources])
        same = fields[f.knowledge_partner[partners] - 1] == f.sector[partners]
        assert (f.partner_fit[partners][same] == 1.0).all()
        assert (f.partner_fit[partners][~same] == 0.5).all()


def test_opening_institutes_adds_collaborations_contracts_and_innovation():
    low, high = scarce(), scarce(industry_research_institutes_per_year=2.0)
    diffs = paired(total("knowledge_collaborations"), low, high, seeds=range(5))
    assert (diffs > 0).all(), diffs
    assert_increases(paired(total("tech_contract_value"), low, high))
    assert_increases(paired(total("invention_applications"), low, high))


def test_no_spillover_and_no_institutes_leave_innovation_unchanged():
    """The institutes act on innovation through the collaborations' spillover only."""
    low = scarce(collaboration_boost=0.0)
    high = scarce(collaboration_boost=0.0, industry_research_institutes_per_year=2.0)
    for seed in range(2):
        a = run_scenario(low, seed=seed).indicators
        b = run_scenario(high, seed=seed).indicators
        for indicator in ("invention_applications", "valid_invention_patents", "business_rd"):
            assert a[indicator].equals(b[indicator]), indicator


def test_institute_costs_are_booked_once_and_received_by_the_institutes():
    scenario = scarce(new_rd_institutes_per_year=1.0, rd_branches_per_year=0.5)
    model = InnovationEcosystem(setup=scenario, agents="lean")
    model.run(scenario.scenario.horizon_months)
    group, government = model.groups["platforms"], model.government
    funded = [s for s in group.sources if s.kind != "university" and s.opened_year > 2020]
    cost = scenario.policy.platforms.institute_cost
    for year in (2021, 2022):
        open_then = [s for s in funded if s.opened_year <= year]
        assert government.spent[year]["platforms"] == pytest.approx(cost * len(open_then))
        assert government.accounts[year]["institutions_platforms"] == pytest.approx(
            cost * len(open_then)
        )
    received = sum(s.funding_received for s in funded)
    assert received == pytest.approx(sum(government.spent[y]["platforms"] for y in (2021, 2022)))
    assert [s.opened_year for s in funded] == [2021, 2022, 2022]


def match(firms, fields, rd, draws, source_fields, capacity):
    partner, fit = match_partners(
        np.asarray(firms),
        np.asarray(fields),
        np.asarray(rd, dtype=float),
        np.asarray(draws, dtype=float),
        np.asarray(source_fields),
        np.asarray(capacity),
        0.5,
    )
    return dict(
        zip(
            np.asarray(firms).tolist(),
            zip(partner.tolist(), fit.tolist(), strict=True),
            strict=True,
        )
    )


def test_partners_by_field_first_then_other_fields_in_queue_order():
    # sources: 1 in field 0 (2 places), 2 in field 1 (1 place)
    firms, fields = [10, 11, 12, 13], [0, 0, 0, 1]
    rd, draws = [4.0, 3.0, 2.0, 1.0], [0.5, 0.5, 0.5, 0.5]  # queue: 10, 11, 12, 13
    result = match(firms, fields, rd, draws, [0, 1], [2, 1])
    assert result == {10: (1, 1.0), 11: (1, 1.0), 12: (0, 0.0), 13: (2, 1.0)}
    # with field 1 empty of seekers, its place goes to field 0's next in the queue
    result = match(firms[:3], fields[:3], rd[:3], draws[:3], [0, 1], [2, 1])
    assert result == {10: (1, 1.0), 11: (1, 1.0), 12: (2, 0.5)}


def test_partner_choice_does_not_depend_on_the_order_firms_are_given():
    generator = np.random.default_rng(7)
    n = 200
    firms = np.arange(1000, 1000 + n)
    fields = generator.integers(0, 4, n)
    rd = generator.lognormal(0.0, 1.0, n)
    draws = generator.random(n)
    source_fields, capacity = np.array([0, 1, 1, 2, 3, 3]), np.array([5, 10, 3, 8, 1, 20])
    first = match(firms, fields, rd, draws, source_fields, capacity)
    order = generator.permutation(n)
    again = match(firms[order], fields[order], rd[order], draws[order], source_fields, capacity)
    assert first == again
    taken = np.bincount([p for p, _ in first.values()], minlength=7)[1:]
    assert taken.sum() == capacity.sum() and (taken <= capacity).all()
    # the queue is weighted by R&D: partners have more R&D than those left out
    partnered = np.array([first[i][0] > 0 for i in firms.tolist()])
    assert np.median(rd[partnered]) > np.median(rd[~partnered])
