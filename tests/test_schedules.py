"""Levers scheduled by year: ``{ year = value }`` for any number under ``[policy]``, read through
``LeverGroup.levers_in(year)``; the tech-SME registry's start year; validation at the boundary;
and the tools that set levers (``--set``, experiments, the dashboard, EMA, ``effects``)."""

import pytest
from conftest import REFERENCE_SCENARIO, ROOT

from sim.run import run_scenario
from sim.scenario import load_scenario
from sim.schema import InputError

PLAN_TARGETS = ROOT / "scenarios" / "targets" / "liangping_14th_fyp_targets.csv"


# ---------------------------------------------------------------- the tech-SME registry


def past_district(tmp_path, start_year, **overrides):
    """The test district started in ``start_year`` (no tech SMEs in year 0), for 3 years."""
    baseline = start_year - 1
    text = PLAN_TARGETS.read_text().replace("value_2020", f"value_{baseline}")
    targets = tmp_path / f"targets_{baseline}.csv"
    targets.write_text(text.replace("target_2025", f"target_{start_year + 2}"))
    data = {
        "scenario.start_year": start_year,
        "scenario.horizon_months": 36,
        "targets.file": str(targets),
        "targets.target_year": start_year + 2,
    }
    for i in range(6):
        data |= {f"population.sectors[{i}].tech_sme": 0, f"population.sectors[{i}].high_growth": 0}
    return load_scenario(REFERENCE_SCENARIO, data | overrides)


def test_the_tech_sme_registry_opens_in_2017(tmp_path):
    smes = run_scenario(past_district(tmp_path, 2015), 0).indicators.set_index("year")["tech_smes"]
    assert smes[2014] == smes[2015] == smes[2016] == 0
    assert smes[2017] > 0
    earlier = past_district(tmp_path, 2015, **{"certification.tech_sme_registry_from": 2015})
    assert run_scenario(earlier, 0).indicators.set_index("year")["tech_smes"][2015] > 0


def test_tech_smes_in_year_0_before_the_registry_are_refused(tmp_path):
    with pytest.raises(InputError) as err:
        past_district(tmp_path, 2015, **{"population.sectors[2].tech_sme": 3})
    assert str(err.value).endswith(
        "population.sectors[2].tech_sme = 3: must be 0: year 0 (2014) is before the tech-SME "
        "registry opens in 2017 (certification.tech_sme_registry_from)"
    )
