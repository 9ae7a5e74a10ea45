"""The Numba kernels against the plain-Python reference (the readable spec)."""

import numpy as np

from sim.indicators import COUNT_INDICATORS
from sim.reference import ReferenceEcosystem
from sim.run import run_scenario


def run_reference(scenario):
    model = ReferenceEcosystem(setup=scenario)
    for _ in range(scenario.scenario.horizon_months):
        model.step()
    return model.yearly_indicators()


def test_numba_path_equals_reference_on_300_firms_24_months(small):
    assert 280 <= sum(s.hitech + s.tech_sme + s.other for s in small.population.sectors) <= 320
    assert small.scenario.horizon_months == 24
    fast = run_scenario(small).indicators
    slow = run_reference(small)
    assert list(fast["year"]) == list(slow["year"]) == [2020, 2021, 2022]
    for column in fast.columns:
        a = fast[column].astype("float64").to_numpy()
        b = slow[column].astype("float64").to_numpy()
        if column in COUNT_INDICATORS or column == "year":
            assert np.array_equal(a, b, equal_nan=True), column
        else:
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=0, equal_nan=True, err_msg=column)
    # the run is not trivial: firms are born, exit, innovate and change status
    last = fast.iloc[-1]
    assert last["births"] > 0 and last["exits"] > 0 and last["invention_applications"] > 0
    assert fast["hitech_firms"].nunique() > 1 and fast["high_growth_firms"].nunique() > 1


def test_reference_firm_state_matches_table_firm_by_firm(small):
    from sim.model import InnovationEcosystem

    fast = InnovationEcosystem(setup=small, agents="lean")
    slow = ReferenceEcosystem(setup=small)
    for _ in range(13):
        fast.step()
        slow.step()
    table = fast.firms
    alive_ids = np.flatnonzero(table.column("alive"))
    assert [f.firm_id for f in slow.firms_operating()] == alive_ids.tolist()
    for name in ("revenue", "cash", "tech_staff", "employees", "hitech_product_share"):
        ref = np.array([getattr(f, name) for f in slow.firms_operating()])
        np.testing.assert_allclose(table.column(name)[alive_ids], ref, rtol=1e-9, err_msg=name)
    for name in ("invention_patents", "other_ip", "hitech_until", "tech_sme", "high_growth"):
        ref = np.array([getattr(f, name) for f in slow.firms_operating()])
        assert np.array_equal(table.column(name)[alive_ids], ref), name
