"""Plan tables (sim/targets.py): scored rows and baseline-only rows."""

import math

import pytest

from sim.schema import InputError
from sim.targets import read_plan_targets, scorecard


def test_an_empty_target_cell_is_a_baseline_only_row(tmp_path):
    path = tmp_path / "plan.csv"
    path.write_text(
        "id,indicator_en,unit,value_2018,target_2022,kind\n"
        "tech_smes,Tech SMEs,firms,100,150,observed\n"
        "rd_gdp_ratio,R&D/GDP,percent,2.0,,baseline only\n",
        encoding="utf-8",
    )
    plan = read_plan_targets(path, 2018, 2022, "test.toml")
    assert [r.id for r in plan.rows] == ["tech_smes"]
    assert [r.id for r in plan.baselines] == ["rd_gdp_ratio"]
    assert plan.get("rd_gdp_ratio").baseline == 2.0 and math.isnan(plan.get("rd_gdp_ratio").target)
    card = scorecard(plan, {"tech_smes": 160.0, "rd_gdp_ratio": 2.5}, 2022)
    assert [(row["id"], row["met"]) for row in card] == [("tech_smes", True)]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("rd_gdp_ratio,R&D/GDP,percent,,,x", "value_2018 = '': must be a number"),
        ("rd_gdp_ratio,R&D/GDP,percent,2.0", "target_2022 = None: must be a number"),
        ("tech_smes,Again,firms,1,,x", "indicator ids appear twice: tech_smes"),
    ],
)
def test_a_baseline_only_row_still_needs_its_baseline_and_a_unique_id(tmp_path, line, message):
    path = tmp_path / "plan.csv"
    path.write_text(
        "id,indicator_en,unit,value_2018,target_2022,kind\n"
        f"tech_smes,Tech SMEs,firms,100,150,x\n{line}\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        read_plan_targets(path, 2018, 2022, "test.toml")


def test_a_scenario_started_in_another_year_is_told_which_column_its_plan_table_lacks(tmp_path):
    # a scenario moved to another start or target year names the column and why it needs it
    path = tmp_path / "plan.csv"
    path.write_text(
        "id,indicator_en,unit,value_2018,target_2022\ntech_smes,Tech SMEs,firms,100,150\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as err:
        read_plan_targets(path, 2019, 2022, "city.toml")
    assert str(err.value) == (
        f"city.toml: targets.file ({path}): column 'value_2019' is missing (the baseline year "
        "2019: scenario.start_year - 1); has ['id', 'indicator_en', 'unit', 'value_2018', "
        "'target_2022']"
    )
    with pytest.raises(
        InputError, match=r"'target_2025' is missing \(targets.target_year = 2025\)"
    ):
        read_plan_targets(path, 2018, 2025, "city.toml")
