"""Paired effects (sim/effects.py) and the commands on top: effects, compare, run --set."""

import dataclasses
import io
import json

import numpy as np
import pytest
from conftest import DEFAULT_SCENARIO, SMOKE_SCENARIO
from test_cli import innosim

from sim.effects import (
    BUDGET_GROUPS,
    LEVER_GROUPS,
    compare_scenarios,
    lever_effects,
    mean_interval,
    switched_off,
)
from sim.effects_commands import render_comparison, render_effects
from sim.indicators import INPUT_INDICATORS
from sim.progress import ProgressBar
from sim.scenario import load_scenario
from sim.words import Words


def test_switching_a_budget_group_off_restores_its_declared_defaults_only(liangping):
    for group in BUDGET_GROUPS:
        off = switched_off(liangping, group)
        assert getattr(off.policy, group) == type(getattr(liangping.policy, group))()
        assert getattr(off.policy, group) != getattr(liangping.policy, group)
        others = [f.name for f in dataclasses.fields(off.policy) if f.name != group]
        assert all(getattr(off.policy, k) == getattr(liangping.policy, k) for k in others)
        assert off.plan is liangping.plan and off.source == liangping.source
        assert off.scenario == liangping.scenario  # same seed: common random numbers


def test_tax_groups_off_mean_standard_rate_and_the_baseline_years_super_deduction(liangping):
    off = switched_off(liangping, "hitech_tax_rate").policy
    assert off.hitech_tax_rate == off.standard_tax_rate == 0.25
    held = switched_off(liangping, "super_deduction").policy
    assert held.super_deduction_industrial == {2020: 0.75}
    assert held.super_deduction_other == {2020: 0.75}
    with pytest.raises(ValueError, match="unknown lever group"):
        switched_off(liangping, "tax")


def test_mean_interval_is_students_t_and_degenerate_for_identical_values():
    interval = mean_interval([1.0, 2.0, 3.0, 4.0])
    assert interval.mean == 2.5
    assert interval.lo == pytest.approx(2.5 - 2.3534 * np.std([1, 2, 3, 4], ddof=1) / 2, 1e-4)
    same = mean_interval([3.0, 3.0])
    assert (same.mean, same.lo, same.hi) == (3.0, 3.0, 3.0) and same.excludes_zero
    assert not mean_interval([0.0, 0.0]).excludes_zero


def test_a_group_already_off_has_exactly_zero_effect_and_a_tax_lever_costs_its_revenue_forgone():
    smoke = load_scenario(SMOKE_SCENARIO)  # no district levers: every budget group is off
    effects = lever_effects(smoke, [1, 2, 3], ["vouchers", "hitech_tax_rate"])
    vouchers, tax = effects.levers
    assert all(v.mean == v.lo == v.hi == 0 for v in vouchers.effects.values())
    assert vouchers.cost.mean == 0
    # the 15% rate spends no budget: its cost is the tax it forgoes, booked by the model
    assert tax.cost.mean > 0
    assert effects.cost_items["hitech_tax_rate"] == ["tax_expenditure_hitech_tax_rate"]
    assert tax.effects["tech_smes"].lo <= tax.effects["tech_smes"].hi
    assert not set(effects.outcomes) & INPUT_INDICATORS
    assert effects.year == 2021  # the smoke run ends before the plan's 2025


def test_effects_json_gives_cost_and_effects_per_lever_group():
    out = innosim(
        "effects", DEFAULT_SCENARIO, "--seeds", "3", "--months", "24",
        "--lever", "certification_support", "--format", "json",
    ).stdout  # fmt: skip
    data = json.loads(out)
    [lever] = data["levers"]
    assert lever["lever"] == "certification_support"
    assert lever["cost"] > 0 and lever["cost_items"] == ["spend_certification_support"]
    hitech = lever["effects"]["hitech_firms"]
    assert {"mean", "lo", "hi", "per_10m_cny", "cost_per_unit"} <= set(hitech)
    assert hitech["lo"] <= hitech["mean"] <= hitech["hi"]
    assert hitech["per_10m_cny"]["mean"] == pytest.approx(hitech["mean"] * 10 / lever["cost"])
    assert "service_institutions" not in lever["effects"]  # an input, not an outcome


def test_effects_rejects_an_unknown_group_in_one_line():
    result = innosim("effects", SMOKE_SCENARIO, "--lever", "tax", check=False)
    assert result.returncode == 2
    err = result.stderr.decode()
    assert err.count("\n") == 1 and "--lever tax" in err and "super_deduction" in err


def test_a_scenario_compared_with_itself_differs_by_exactly_zero(small):
    c = compare_scenarios(small, small, [1, 2])
    assert (c.rows[["mean", "lo", "hi"]].fillna(0) == 0).all().all()
    assert c.rows.loc[c.rows["indicator"] == "service_institutions", "kind"].eq("input").all()


def test_compare_prints_paired_effects_with_intervals_plan_against_counterfactual():
    text = innosim(
        "compare", DEFAULT_SCENARIO, DEFAULT_SCENARIO.with_name("liangping_no_policy.toml"),
        "--seeds", "3", "--months", "24",
    ).stdout.decode()  # fmt: skip
    assert "liangping_2021_2025 minus liangping_no_policy, paired on 3 seeds" in text
    block = text[text.index("hitech_firms (firms)") :].splitlines()
    assert block[1].split() == ["year", "A", "B", "A", "-", "B", "90%", "interval"]
    row_2022 = next(line for line in block if line.strip().startswith("2022"))
    assert row_2022.count("[") == 1 and row_2022.count(",") >= 1
    assert "[input: set by a lever schedule]" in text


def test_run_set_is_the_same_as_an_override_and_is_validated_like_the_file():
    from sim.run import run_scenario

    args = ("run", SMOKE_SCENARIO, "--format", "json", "--set", "policy.hitech_tax_rate=0.25")
    data = json.loads(innosim(*args, "--set", "policy.vouchers.budget=2").stdout)
    overrides = {"policy.hitech_tax_rate": 0.25, "policy.vouchers.budget": 2}
    expected = run_scenario(load_scenario(SMOKE_SCENARIO, overrides)).to_json_dict()
    assert data == json.loads(json.dumps(expected))
    assert data != json.loads(
        json.dumps(run_scenario(load_scenario(SMOKE_SCENARIO)).to_json_dict())
    )
    bad = innosim("run", SMOKE_SCENARIO, "--set", "policy.hitech_tax_rate=1.5", check=False)
    assert bad.returncode == 2
    assert b"policy.hitech_tax_rate = 1.5" in bad.stderr and bad.stderr.count(b"\n") == 1


def test_progress_bar_draws_counts_and_failures_through_rich_and_nothing_when_disabled():
    from rich.console import Console

    sink = io.StringIO()
    console = Console(file=sink, force_terminal=True, width=100)
    with ProgressBar("sweep", 10, already=2, console=console, enabled=True) as bar:
        bar.update(3, failed=1)
    text = sink.getvalue()
    assert "sweep" in text and "6/10" in text and "1 failed" in text and "ETA" in text
    quiet = ProgressBar("sweep", 10, enabled=False)
    quiet.update(5)
    quiet.close()


def test_lever_groups_are_the_policys_dataclasses_and_the_tax_levers():
    assert LEVER_GROUPS[-2:] == ("hitech_tax_rate", "super_deduction")
    assert "vouchers" in BUDGET_GROUPS and "attraction" in BUDGET_GROUPS


def test_help_texts_print_percent_signs_once():
    for command in ("report", "compare", "effects"):
        text = innosim(command, "--help").stdout.decode()
        assert "90% " in text and "%%" not in text
        assert "--lang {en,zh}" in text  # the tables in Chinese too


def test_effects_table_in_chinese_names_groups_units_and_indicators(liangping):
    effects = lever_effects(liangping, [2021, 2022], ["vouchers"], 24)
    en = render_effects(effects)
    zh = render_effects(effects, Words("zh", liangping.plan))
    assert zh.startswith("liangping_2021_2025 各政策组的效果(2022 年)")
    assert "vouchers(科技创新券):公共成本 " in zh and "截至 2022 年(spend_vouchers)" in zh
    rd = next(line for line in zh.splitlines() if line.strip().startswith("business_rd"))
    assert "百万元" in rd and rd.endswith("企业研发经费")
    assert zh.rstrip().endswith("仅在整个区间大于 0 时给出。")
    [english] = [line for line in en.splitlines() if line.startswith("  business_rd")]
    assert rd.split()[2:-1] == english.split()[3:]  # after the id and the unit "M CNY"
    assert "public cost" in en and "公共成本" not in en


def test_compare_table_in_chinese_has_the_english_numbers(liangping):
    counterfactual = load_scenario(DEFAULT_SCENARIO.with_name("liangping_no_policy.toml"))
    comparison = compare_scenarios(liangping, counterfactual, [2021, 2022], 12)
    en = render_comparison(comparison).splitlines()
    zh = render_comparison(comparison, Words("zh", liangping.plan)).splitlines()
    assert zh[0].startswith("liangping_2021_2025 减 liangping_no_policy,2 个随机种子配对")
    assert "tech_smes (家) 科技型企业" in zh and "tech_smes (firms)" in en
    assert any(line.endswith("[投入类:由政策排期设定] 引进培育高精尖缺人才") for line in zh)
    assert len(zh) == len(en)
    numbers = [line.split()[-4:] for line in en if line.startswith("  20")]
    assert numbers == [line.split()[-4:] for line in zh if line.startswith("  20")]
