"""Levers scheduled by year: ``{ year = value }`` for any number under ``[policy]``, read through
``LeverGroup.levers_in(year)``; the tech-SME registry's start year; validation at the boundary;
and the tools that set levers (``--set``, experiments, the dashboard, EMA, ``effects``)."""

import json

import pandas as pd
import pytest
from conftest import DEFAULT_SCENARIO, REFERENCE_SCENARIO, ROOT, SMOKE_SCENARIO
from test_policies import ONE_LEVER, district

from sim.agents.government import SPENDING_GROUPS
from sim.batch import build_design, load_experiment, read_results
from sim.batch.batch import run_batch
from sim.calendar import opened_by, opened_over
from sim.cli import main
from sim.dashboard.components import LEVERS
from sim.dashboard.levers import parse_value, show_value
from sim.effects import switched_off
from sim.ema import ScenarioFunction, declaration
from sim.model import InnovationEcosystem
from sim.policies.credit import CreditLevers
from sim.policies.vouchers import VoucherLevers
from sim.run import run_scenario
from sim.scenario import load_scenario
from sim.schema import InputError, in_year

PLAN_TARGETS = ROOT / "scenarios" / "targets" / "liangping_14th_fyp_targets.csv"


def from_year(config, year, off=False):
    """``config`` (a ``[policy]`` table) with each number a schedule from ``year`` (or 0).

    Year-0 stocks (``existing_*``) are kept: they describe the district, not a scheme.
    """
    out = {}
    for key, value in config.items():
        if isinstance(value, dict):
            out[key] = from_year(value, year, off)
        elif key.startswith("existing_"):
            out[key] = value
        else:
            out[key] = value * 0 if off else {str(year): value}
    return out


# ------------------------------------------------------------------------- resolving


def test_numbers_are_read_as_given_and_schedules_resolve_year_by_year():
    plain = VoucherLevers(budget=3.0)
    assert in_year(plain, 2021) is plain  # a lever given as a number is the same object
    levers = load_scenario(
        REFERENCE_SCENARIO,
        {
            "policy.vouchers.budget": {"2022": 3.0, "2024": 5.0},
            "policy.certification_support.pool_size": {"2023": 10},
            "policy.credit.term_months": {"2023": 12},
        },
    ).policy
    assert levers.vouchers.budget == {2022: 3.0, 2024: 5.0}
    budgets = [in_year(levers, y).vouchers.budget for y in (2021, 2022, 2023, 2024, 2030)]
    assert budgets == [0.0, 3.0, 3.0, 5.0, 5.0]
    pool = in_year(levers, 2022).certification_support.pool_size
    assert pool == 0 and isinstance(pool, int)  # off, and still a whole number
    assert in_year(levers, 2022).credit.term_months == 1  # off: its lowest allowed value
    assert in_year(levers, 2021).super_deduction_industrial == 1.0  # the tax defaults too


def test_a_rate_counts_from_the_year_it_starts():
    assert opened_over([7.6] * 5) == opened_by(7.6, 5) == 38
    assert opened_over([]) == 0
    assert opened_over([0.0, 0.0, 5.0, 5.0]) == 10
    assert opened_over([2.5, 2.5, 4.0]) == 9


# ------------------------------------------------------------------- levers in a run


@pytest.fixture(scope="module")
def runs():
    cache = {}

    def run(config):
        key = json.dumps(config, sort_keys=True)
        if key not in cache:
            setup = district(config, horizon_months=36)
            cache[key] = run_scenario(setup, 0).indicators.set_index("year")
        return cache[key]

    return run


@pytest.mark.parametrize("lever", SPENDING_GROUPS)
def test_a_scheduled_lever_is_off_before_its_first_year_and_acts_from_it(runs, lever):
    scheduled = runs(from_year(ONE_LEVER[lever], 2022))
    off = runs(from_year(ONE_LEVER[lever], 2022, off=True))
    # 2021: the district runs exactly as with the lever at 0 (common random numbers)
    pd.testing.assert_series_equal(scheduled.loc[2021], off.loc[2021])
    flow = "kvl_lent" if lever == "credit" else f"spend_{lever}"  # loans fall due after 2022
    assert (off.loc[2022:, flow] == 0.0).all()
    assert scheduled.loc[2022:, flow].sum() > 0.0  # half an institute a year: one by 2023


def test_a_budget_spends_from_the_year_its_schedule_starts(runs):
    spend = runs({"vouchers": {"budget": {"2022": 3.0}}})["spend_vouchers"]
    assert spend[2021] == 0.0
    assert 0.0 < spend[2022] <= 3.0


def test_capital_and_yearly_rates_come_into_force_with_their_schedule():
    config = {
        "credit": {"loan_cap": {"2022": 5.0}, "compensation_fund": {"2022": 20.0}},
        "guidance_funds": {"seed": {"public_capital": {"2022": 10.0}}},
        "talent": {"recruits_per_year": {"2022": 4.0, "2023": 8.0}},
        "incubation": {"new_institutions_per_year": {"2022": 2.0}},
    }
    model = InnovationEcosystem(setup=district(config, horizon_months=36), seed=0, agents="lean")
    model.run(12)
    assert model.groups["credit"].compensation_fund.balance == 0.0
    assert model.groups["guidance_funds"].funds["seed"].cash == 0.0
    model.run(24)
    frame = model.yearly_indicators().set_index("year")
    assert frame["high_end_talent"].tolist() == [35, 35, 39, 47]  # 2020 to 2023
    assert frame["service_institutions"].tolist() == [42, 42, 44, 46]
    fund = model.groups["credit"].compensation_fund
    assert fund.topped_up == 20.0 and fund.balance == pytest.approx(20.0 - fund.paid_out)
    seed = model.groups["guidance_funds"].funds["seed"]
    assert seed.public == 10.0 and seed.invested > 0


def test_a_lever_set_during_a_run_may_be_a_schedule():
    model = InnovationEcosystem(setup=district(), seed=0, agents="lean")
    model.set_lever("vouchers.budget", {"2022": 3.0})
    model.run(24)
    spend = model.yearly_indicators().set_index("year")["spend_vouchers"]
    assert spend[2021] == 0.0 and spend[2022] > 0.0
    with pytest.raises(InputError) as err:
        model.set_lever("vouchers.budget", {"2022": -3.0})
    assert str(err.value) == "lever change: policy.vouchers.budget.2022 = -3.0: must be >= 0"


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


def test_firms_learn_of_certification_before_the_registry_opens(tmp_path):
    # the certification rung is older than the registry: only firms that know the ladder
    # apply, so a year 0 before the registry must not freeze who may ever be certified
    model = InnovationEcosystem(setup=past_district(tmp_path, 2015), seed=0, agents="lean")
    f = model.firms.arrays()
    off_ladder = f.alive & ~f.registry_aware
    model.run(12)  # 2015: no registry yet
    assert not f.tech_sme.any()
    assert f.registry_aware[: len(off_ladder)][off_ladder].sum() > 0.05 * off_ladder.sum()


def later_year_0(share, path=REFERENCE_SCENARIO, **scenario):
    """A scenario whose year 0 finds ``share`` of the firms off the ladder aware of it."""
    return load_scenario(
        path,
        {"population.registry_aware_share": share}
        | {f"scenario.{key}": value for key, value in scenario.items()},
    )


@pytest.mark.parametrize("burn_in_years", [0, 1])
def test_a_later_year_0_finds_the_registry_known_beyond_the_firms_on_it(burn_in_years):
    def year_0(share):
        setup = later_year_0(share, burn_in_years=burn_in_years)
        model = InnovationEcosystem(setup=setup, seed=0, agents="lean")
        f = model.firms.arrays()
        on_ladder = f.alive & (f.tech_sme | (f.hitech_until > -1))
        assert f.registry_aware[on_ladder].all()
        return model, f.registry_aware[f.alive & ~on_ladder].mean()

    plain, none_aware = year_0(0.0)
    aware, share = year_0(0.5)
    assert none_aware == 0.0 and 0.4 < share < 0.6
    # the year-0 state is the baseline's either way
    columns = ["tech_smes", "hitech_firms", "firms", "rd_gdp_ratio"]
    pd.testing.assert_frame_equal(
        plain.yearly_indicators()[columns], aware.yearly_indicators()[columns]
    )


def test_firms_that_know_the_registry_at_year_0_register_in_the_first_round():
    # without the share, a year 0 some years after the registry opened stalls it for a year:
    # every firm off the ladder must first learn of it (the city from 2020: -29% in 2021)
    def first_round(share):
        indicators = run_scenario(later_year_0(share, DEFAULT_SCENARIO), 0, months=12).indicators
        return indicators.set_index("year")["tech_smes_new"][2021]

    assert first_round(0.5) > 2 * first_round(0.0)


def test_tech_smes_in_year_0_before_the_registry_are_refused(tmp_path):
    with pytest.raises(InputError) as err:
        past_district(tmp_path, 2015, **{"population.sectors[2].tech_sme": 3})
    assert str(err.value).endswith(
        "population.sectors[2].tech_sme = 3: must be 0: year 0 (2014) is before the tech-SME "
        "registry opens in 2017 (certification.tech_sme_registry_from)"
    )


# ----------------------------------------------------------------- the command line


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        (
            "policy.vouchers.budget={ 2022 = -1.0 }",
            "policy.vouchers.budget.2022 = -1.0: must be >= 0",
        ),
        (
            "policy.vouchers.budget={ 1800 = 1.0 }",
            "policy.vouchers.budget.1800 = 1.0: keys must be years between 1900 and 2200",
        ),
        (
            "policy.vouchers.budget={ soon = 1.0 }",
            "policy.vouchers.budget.soon = 1.0: keys must be years between 1900 and 2200",
        ),
        (
            "policy.certification_support.pool_size={ 2022 = 2.5 }",
            "policy.certification_support.pool_size.2022 = 2.5: must be a whole number",
        ),
        (
            "policy.vouchers.cost_share={ 2022 = 1.5 }",
            "policy.vouchers.cost_share.2022 = 1.5: must be a probability between 0 and 1",
        ),
        (
            "policy.vouchers.budget={}",
            "policy.vouchers.budget = {}: must be a table of year = value, e.g. { 2021 = 1.0 }",
        ),
        (
            "policy.vouchers.budget=[1, 2]",
            "policy.vouchers.budget = [1, 2]: must be a number or a table of year = value",
        ),
        (
            "policy.super_deduction_other={ 2022 = 4.0 }",
            "policy.super_deduction_other.2022 = 4.0: must be between 0 and 3",
        ),
    ],
)
def test_bad_schedules_give_one_line_and_exit_2(capsys, setting, expected):
    assert main(["run", str(SMOKE_SCENARIO), "--set", setting]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith(f"innosim: error: {SMOKE_SCENARIO}: {expected}")


def test_a_schedule_from_the_first_year_runs_as_the_number(capsys):
    def run(setting):
        assert main(["run", str(SMOKE_SCENARIO), "--format", "json", "--set", setting]) == 0
        return capsys.readouterr().out

    assert run("policy.vouchers.budget={ 2021 = 12.0 }") == run("policy.vouchers.budget=12.0")


# --------------------------------------------------- experiments, dashboard, EMA, effects


def test_a_batch_lever_sets_a_scheduled_key_to_a_constant(tmp_path):
    path = tmp_path / "exp.toml"
    path.write_text(
        f'[experiment]\nname = "sched"\nscenario = "{REFERENCE_SCENARIO}"\n\n'
        '[base]\n"scenario.horizon_months" = 12\n'
        '"policy.credit.loan_cap" = { 2022 = 5.0 }\n\n'
        '[levers]\n"policy.super_deduction_other" = [0.75, 1.5]\n'
    )
    experiment = load_experiment(path)
    assert experiment.base["policy.credit.loan_cap"] == {"2022": 5.0}  # one value, not a year
    assert experiment.scenario.policy.credit.loan_cap == {2022: 5.0}
    run_batch(path, engine="inline", out=tmp_path / "out")
    data = read_results(tmp_path / "out")
    for value in (0.75, 1.5):
        got = data[data["policy.super_deduction_other"] == value]
        setup = load_scenario(
            REFERENCE_SCENARIO,
            {
                "scenario.horizon_months": 12,
                "policy.credit.loan_cap": {"2022": 5.0},
                "policy.super_deduction_other": value,
            },
        )
        expected = run_scenario(setup, int(got["seed"].iloc[0])).indicators
        pd.testing.assert_frame_equal(got[expected.columns].reset_index(drop=True), expected)


def test_a_mix_may_set_one_year_of_a_schedule(tmp_path):
    path = tmp_path / "exp.toml"
    path.write_text(
        f'[experiment]\nname = "mixes"\nscenario = "{REFERENCE_SCENARIO}"\n\n'
        '[base]\n"scenario.horizon_months" = 12\n"policy.credit.loan_cap" = { 2021 = 2.0 }\n\n'
        '[[mixes]]\nname = "more_in_2022"\npolicy.credit.loan_cap.2022 = 5.0\n\n'
        '[[mixes]]\nname = "as_planned"\n'
    )
    design = build_design(load_experiment(path))
    mixes = design.mixes().set_index("mix")["policy.credit.loan_cap.2022"]
    assert mixes.to_dict() == {"more_in_2022": 5.0, "as_planned": 2.0}  # 2.0: in force then
    overrides = design.overrides(int(design.runs["run_id"].iloc[0]), {"a": 1})
    assert overrides["policy.credit.loan_cap.2022"] == 5.0


def test_dashboard_inputs_take_and_show_schedules():
    budget = next(spec for spec in LEVERS if spec.key == "vouchers.budget")
    assert parse_value(budget, "2022: 3, 2024: 5") == {"2022": 3.0, "2024": 5.0}
    assert show_value(budget, {2022: 3.0, 2024: 5.5}) == "2022: 3, 2024: 5.5"
    assert parse_value(budget, "3") == 3.0
    deduction = next(spec for spec in LEVERS if spec.key == "super_deduction_other")
    assert parse_value(deduction, "1.0") == 1.0  # a constant
    assert show_value(deduction, 1.0) == "1"
    with pytest.raises(InputError, match="policy.vouchers.budget") as err:
        parse_value(budget, "2022 3")
    assert "\n" not in str(err.value)


def test_ema_samples_a_scheduled_key_as_a_constant():
    assert declaration("policy.super_deduction_other", "levers") == (float, 0, 3)
    function = ScenarioFunction(
        scenario=str(SMOKE_SCENARIO),
        base={"policy.credit.loan_cap": {"2021": 5.0}},
        seed=1,
        year=2021,
        outcomes=("business_rd",),
        series=(),
        series_years=(2020, 2021),
        targets={},
    )
    out = function(**{"policy.super_deduction_other": 1.5})
    assert out["error"] == 0.0 and out["business_rd"] > 0


def test_effects_switch_a_scheduled_lever_group_off_in_every_year():
    config = {
        "credit": {"loan_cap": {"2021": 2.0, "2022": 5.0}, "compensation_fund": {"2022": 20.0}}
    }
    scenario = district(config | {"super_deduction_other": 1.2})
    off = switched_off(scenario, "credit")
    assert off.policy.credit == CreditLevers()
    frame = run_scenario(off, 0).indicators.set_index("year")
    assert (frame.loc[2021:, ["kvl_lent", "spend_credit"]] == 0).all().all()
    held = switched_off(scenario, "super_deduction").policy
    assert held.super_deduction_other == {2020: 1.2}  # a number, held as it is
