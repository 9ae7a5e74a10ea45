"""Scenario values as samplers produce them: NumPy scalars and whole-number floats."""

import numpy as np
import pytest
from conftest import SMOKE_SCENARIO
from scipy import stats

from sim.batch.experiment import Factor
from sim.scenario import load_scenario
from sim.schema import InputError, whole_number


def test_load_scenario_takes_numpy_scalars_and_whole_number_floats():
    scenario = load_scenario(
        SMOKE_SCENARIO,
        {
            "population.sectors[0].other": np.int64(37),  # int parameter (firms)
            "certification.hitech_validity_years": 4.0,  # int parameter, whole float
            "firms.grant_lag_max": np.float64(20.0),  # int parameter, NumPy whole float
            "policy.vouchers.budget": np.int64(5),  # float parameter, NumPy int
            "firms.rd_user_cost_elasticity": np.float32(0.75),  # float parameter, float32
            "region.rest_gdp_growth": 0.05,
        },
    )
    other = scenario.population.sectors[0].other
    assert other == 37 and type(other) is int
    assert scenario.certification.hitech_validity_years == 4
    assert type(scenario.certification.hitech_validity_years) is int
    assert scenario.firms.grant_lag_max == 20 and type(scenario.firms.grant_lag_max) is int
    assert scenario.policy.vouchers.budget == 5.0
    assert type(scenario.policy.vouchers.budget) is float
    assert scenario.firms.rd_user_cost_elasticity == 0.75
    assert type(scenario.firms.rd_user_cost_elasticity) is float


def test_numpy_scalars_give_the_run_plain_values_give():
    plain = load_scenario(SMOKE_SCENARIO, {"certification.hitech_validity_years": 4})
    sampled = load_scenario(SMOKE_SCENARIO, {"certification.hitech_validity_years": np.int32(4)})
    assert plain == sampled


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("certification.hitech_validity_years", 3.5, "3.5: must be a whole number"),
        ("certification.hitech_validity_years", np.float64(3.5), "3.5: must be a whole number"),
        ("certification.hitech_validity_years", np.int64(40), "40: must be between 1 and 10"),
        ("policy.hitech_tax_rate", np.float64(1.5), "1.5: must be a probability between 0 and 1"),
        ("policy.hitech_tax_rate", np.float64("nan"), "nan: must be a finite number"),
        ("population.sectors[0].industrial", np.int64(1), "1: must be true or false"),
    ],
)
def test_bad_sampled_values_are_one_line_errors_in_plain_terms(key, value, message):
    with pytest.raises(InputError) as err:
        load_scenario(SMOKE_SCENARIO, {key: value})
    text = str(err.value)
    assert "\n" not in text and "np." not in text
    assert text.endswith(f"{key} = {message}")


def test_numpy_bool_for_a_flag():
    scenario = load_scenario(SMOKE_SCENARIO, {"population.sectors[0].industrial": np.False_})
    assert scenario.population.sectors[0].industrial is False


def test_one_rounding_rule_nearest_halves_to_even_shared_with_the_batch_samplers():
    assert [whole_number(v) for v in (2.4, 2.5, 2.6, 3.5, -0.5, np.float32(6.999999))] == [
        2,
        2,
        3,
        4,
        0,
        7,
    ]
    factor = Factor("certification.hitech_validity_years", "uncertainty", int, low=1, high=5)
    normal = Factor(
        "certification.hitech_validity_years",
        "uncertainty",
        int,
        low=1,
        high=5,
        distribution="triangular",
        mode=3,
    )
    u = np.linspace(0, 1, 41)
    assert all(type(v) is int for v in factor.from_unit(u) + normal.from_unit(u))
    raw = stats.triang.ppf(u, 0.5, loc=1, scale=4)  # unrounded values, then the shared rule
    assert normal.from_unit(u) == [whole_number(v) for v in raw]
