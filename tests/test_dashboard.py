"""The dashboard's parts without a browser: lever inputs from the declarations, the live run
with its counterfactual, the charts and the scorecard, and speed at 20,000 firms."""

import dataclasses
import re

import pandas as pd
import pytest
from conftest import DEFAULT_SCENARIO, ROOT, SMOKE_SCENARIO, THREADED_KERNELS
from matplotlib.text import Text

from sim.dashboard import charts
from sim.dashboard.components import (
    INPUT_INDICATORS,
    LEVERS,
    SharedImages,
    frame_key,
    highest_rung,
    ladder_counts,
    plan_rows,
    scorecard_frame,
    view_names,
)
from sim.dashboard.labels import group_title, lever_error, lever_label, untranslated
from sim.dashboard.levers import LeverSpec, lever_specs, lever_value, parse_value, show_value
from sim.dashboard.run import DashboardRun, DistrictRun, load_setups, parse_seed
from sim.indicators import INDICATORS
from sim.model import InnovationEcosystem
from sim.scenario import Policy, load_scenario
from sim.schema import InputError, param, parameter_rows
from sim.words import text, width

NO_POLICY = ROOT / "scenarios" / "liangping_no_policy.toml"
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def smoke_setups():
    return load_setups(str(SMOKE_SCENARIO), str(NO_POLICY))


def test_every_declared_lever_is_an_input_with_its_unit_and_range():
    declared = {row["name"].removeprefix("") for row in parameter_rows(Policy)}
    shown = {spec.key for spec in LEVERS}
    assert shown == declared
    budget = next(spec for spec in LEVERS if spec.key == "vouchers.budget")
    assert budget.label == "budget (M CNY/yr, >= 0)"
    share = next(spec for spec in LEVERS if spec.key == "vouchers.cost_share")
    assert share.label == "cost_share (share, 0 to 1)"
    assert next(s for s in LEVERS if s.key == "super_deduction_industrial").kind == "schedule"


def test_a_new_lever_appears_without_dashboard_changes():
    @dataclasses.dataclass(frozen=True, kw_only=True)
    class NewGroup:
        rate: float = param(0.1, unit="1/yr", lo=0, hi=1, doc="a lever added later")

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class ExtendedPolicy:
        new_group: NewGroup = param(NewGroup())
        count: int = param(3, unit="firms", lo=0)

    specs = lever_specs(ExtendedPolicy)
    assert [(s.key, s.group, s.label) for s in specs] == [
        ("new_group.rate", "new_group", "rate (1/yr, 0 to 1)"),
        ("count", "tax", "count (firms, >= 0)"),
    ]


def test_every_lever_in_the_panel_has_a_chinese_name_and_unit():
    assert untranslated(LEVERS) == []
    units = text()["units"]
    for spec in LEVERS:
        label, name = lever_label(spec, "中文"), text()["levers"][spec.key]
        assert CHINESE.search(name) and label.startswith(f"{name}("), spec.key
        if spec.unit:
            assert units[spec.unit] in label, spec.key
            if units[spec.unit] != spec.unit:  # "0-2" reads the same in both
                assert spec.unit not in label, spec.key
        assert CHINESE.search(group_title(spec.group, "中文")), spec.group
    shown = {spec.key: lever_label(spec, "中文") for spec in LEVERS}
    assert shown["vouchers.budget"] == "创新券年度预算(百万元/年,≥ 0)"
    assert shown["credit.word_of_mouth"] == "口碑传播系数(概率/年(每单位已获贷占比),0 至 5)"
    assert group_title("credit", "中文") == "知识价值信用贷款"
    # English keeps the field's own name, as scenario files and --set spell it
    assert lever_label(LEVERS[0], "English") == LEVERS[0].label
    assert group_title("rd_subsidies", "English") == "rd subsidies"


def test_a_lever_without_chinese_is_reported_and_shown_by_its_key():
    @dataclasses.dataclass(frozen=True, kw_only=True)
    class NewGroup:
        rate: float = param(0.1, unit="1/yr", lo=0, hi=1)

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class ExtendedPolicy:
        new_group: NewGroup = param(NewGroup())
        count: int = param(3, unit="widgets", lo=0)

    specs = lever_specs(ExtendedPolicy)
    assert untranslated(specs) == [
        "new_group.rate: name",
        "new_group.rate: group 'new_group'",
        "count: name",
        "count: unit 'widgets'",
    ]
    assert [lever_label(s, "中文") for s in specs] == ["new_group.rate(1/年,0 至 1)",
                                                      "count(widgets,≥ 0)"]  # fmt: skip


def test_a_refused_value_is_one_line_in_the_selected_language(smoke_setups):
    run = DistrictRun(setups=smoke_setups)
    spec = next(s for s in LEVERS if s.key == "vouchers.cost_share")
    with pytest.raises(InputError) as err:
        run.set_lever(spec.key, parse_value(spec, "1.5"))
    in_force = show_value(spec, lever_value(run.district.policy, spec.key))
    english = lever_error(spec, str(err.value), in_force, "English")
    chinese = lever_error(spec, str(err.value), in_force, "中文")
    for line in (english, chinese):
        assert "\n" not in line
        assert "policy.vouchers.cost_share = 1.5" in line  # the field and the value
    assert english.endswith("must be a probability between 0 and 1; 0.5 stays in force")
    assert chinese.startswith("创新券抵扣服务费用比例:")
    assert chinese.endswith("(允许范围 0 至 1);现值 0.5 继续有效")


def test_small_multiple_titles_are_in_one_language_and_fit_their_panel(smoke_setups):
    names = view_names(DistrictRun(setups=smoke_setups))
    for english, chinese in names.values():
        for language, name, other in (("English", english, chinese), ("中文", chinese, english)):
            title = charts.panel_title((english, chinese), language)
            lines = title.split("\n")
            assert len(lines) <= charts.TITLE_LINES, title
            assert all(width(line) <= charts.TITLE_COLUMNS for line in lines), title
            assert re.sub(r"\s", "", title) == re.sub(r"\s", "", name)  # whole, nothing else
            assert other == name or other not in title
    assert charts.wrap("规模以上工业产值中高技术产业占比") == "规模以上工业产值\n中高技术产业占比"
    cut = charts.wrap("规模以上工业企业研发投入经费支出与营业收入比重", columns=20, lines=2)
    assert cut == "规模以上工业企业研发\n投入经费支出与营业…"


@pytest.mark.parametrize(
    ("key", "text", "value"),
    [
        ("vouchers.budget", " 8 ", 8.0),
        ("certification_support.pool_size", "40", 40),
        ("super_deduction_other", "2018: 0.75, 2023: 1.2", {"2018": 0.75, "2023": 1.2}),
    ],
)
def test_typed_text_becomes_the_lever_value(key, text, value):
    spec = next(s for s in LEVERS if s.key == key)
    assert parse_value(spec, text) == value


@pytest.mark.parametrize(
    ("key", "text"),
    [("vouchers.budget", "lots"), ("certification_support.pool_size", "2.5"),
     ("super_deduction_other", "soon: 1")],
)  # fmt: skip
def test_unreadable_text_is_a_one_line_error(key, text):
    spec = next(s for s in LEVERS if s.key == key)
    with pytest.raises(InputError, match=f"policy.{key}") as err:
        parse_value(spec, text)
    assert "\n" not in str(err.value)


def test_schedule_shows_as_it_is_typed():
    spec = LeverSpec("super_deduction_other", "tax", "schedule", "share of R&D", 0, 3, "")
    assert show_value(spec, {2018: 0.75, 2023: 1.0}) == "2018: 0.75, 2023: 1"


def test_out_of_range_value_is_refused_and_the_model_untouched(smoke_setups):
    run = DistrictRun(setups=smoke_setups)
    before = run.district.policy
    spec = next(s for s in LEVERS if s.key == "vouchers.cost_share")
    with pytest.raises(InputError, match="between 0 and 1"):
        run.set_lever(spec.key, parse_value(spec, "1.5"))
    assert run.district.policy is before


def test_seed_must_be_a_whole_number():
    assert parse_seed(" 7 ") == 7
    with pytest.raises(InputError, match="seed"):
        parse_seed("seven")


def test_reset_with_a_seed_that_is_not_a_number_says_so_in_one_line(smoke_setups):
    # Mesa's Reset makes the run from the seed text; raising there would show a traceback.
    run = DashboardRun(setups=smoke_setups, seed="twelve")
    assert run.seed == smoke_setups.scenario.scenario.seed
    assert "\n" not in run.notice
    assert run.notice.startswith("seed = 'twelve': must be a whole number")
    assert DashboardRun(setups=smoke_setups, seed=" 7 ").notice == ""
    assert DashboardRun(setups=smoke_setups, seed=" 7 ").seed == 7


def test_chart_images_are_shared_by_content_only(smoke_setups):
    images, drawn = SharedImages(size=2), []

    def image(run):
        key = frame_key(run.district.yearly_indicators())
        return images.get(key, lambda: drawn.append(key) or b"png")

    first, second = DistrictRun(setups=smoke_setups), DistrictRun(setups=smoke_setups)
    image(first), image(second)
    assert len(drawn) == 1  # two analysts on the baseline year: drawn once
    second.set_lever("vouchers.budget", 40.0)
    for run in (first, second):
        for _ in range(12):
            run.step()
        image(run)
    assert len(drawn) == 3  # other levers, other data: an image of its own


def test_counterfactual_is_the_no_policy_scenario_on_the_same_random_numbers():
    setups = load_setups(str(DEFAULT_SCENARIO), str(NO_POLICY))
    run = DistrictRun(setups=setups, compare=True)
    for _ in range(12):
        run.step()
    alone = InnovationEcosystem(setup=load_scenario(NO_POLICY), seed=run.seed, agents="lean")
    for _ in range(12):
        alone.step()
    assert run.counterfactual.yearly_indicators().drop(columns=[]).equals(alone.yearly_indicators())
    assert run.district.indicators["spend_total"] > 0 == alone.indicators["spend_total"]


def test_comparison_switched_on_mid_run_catches_up(smoke_setups):
    from_start = DistrictRun(setups=smoke_setups, compare=True)
    later = DistrictRun(setups=smoke_setups)
    for month in range(12):
        if month == 5:
            later.set_compare(True)
        from_start.step()
        later.step()
    assert later.counterfactual.yearly_indicators().equals(
        from_start.counterfactual.yearly_indicators()
    )


def test_lever_changed_mid_run_acts_from_the_next_month(smoke_setups):
    plain, changed = DistrictRun(setups=smoke_setups), DistrictRun(setups=smoke_setups)
    for month in range(12):
        if month == 3:
            changed.set_lever("rd_subsidies.budget", 200.0)
        plain.step()
        changed.step()
        if month < 3:
            assert lever_value(changed.district.policy, "rd_subsidies.budget") != 200.0
    assert lever_value(changed.district.policy, "rd_subsidies.budget") == 200.0
    assert not changed.district.yearly_indicators().equals(plain.district.yearly_indicators())
    assert not run_stopped_early(changed)


def run_stopped_early(run: DistrictRun) -> bool:
    return run.running


def test_inputs_and_outcomes_split_the_plan_indicators(smoke_setups):
    run = DistrictRun(setups=smoke_setups)
    inputs, outcomes = plan_rows(run, "inputs"), plan_rows(run, "outcomes")
    assert set(inputs) <= set(INPUT_INDICATORS)
    assert "hitech_firms" in outcomes and "high_end_talent" in inputs
    assert not set(inputs) & set(outcomes)


def test_scorecard_is_bilingual_and_adds_the_counterfactual(smoke_setups):
    run = DistrictRun(setups=smoke_setups, compare=True)
    names = view_names(run)
    english = scorecard_frame(run, names, "English")
    assert "Certified national high-tech enterprises / 国家高新技术企业" in set(
        english["indicator"]
    )
    assert "counterfactual (no policy)" in english.columns
    chinese = scorecard_frame(run, names, "中文")
    assert "国家高新技术企业 / Certified national high-tech enterprises" in set(chinese["指标"])


def test_ladder_counts_match_the_indicators(smoke_setups):
    run = DistrictRun(setups=smoke_setups)
    for _ in range(12):
        run.step()
    counts = ladder_counts(run.district)
    assert counts["firms"] == run.district.indicators["firms"]
    assert counts["tech_smes"] == run.district.indicators["tech_smes"]
    assert counts["hitech_firms"] == run.district.indicators["hitech_firms"]
    assert counts["firms"] >= counts["tech_smes"] > 0
    for rung in ("specialized_firms", "little_giants", "otc_listed", "star_listed"):
        assert counts[rung] == run.district.indicators[rung]
    assert counts["specialized_firms"] >= counts["little_giants"] >= 0
    assert list(counts)[-5:] == [
        "specialized_firms",
        "little_giants",
        "hidden_champions",
        "otc_listed",
        "star_listed",
    ]


def test_public_spend_is_labelled_by_lever_group_in_chinese(smoke_setups):
    run = DistrictRun(setups=smoke_setups)
    columns = charts.spend_columns(run.district.yearly_indicators())
    assert "spend_credit" in columns and "tax_expenditure_super_deduction" in columns
    chinese = {column: charts.spend_label(column, "中文") for column in columns}
    assert all(CHINESE.search(label) and "_" not in label for label in chinese.values()), chinese
    assert chinese["spend_credit"] == "知识价值信用贷款"
    assert chinese["tax_expenditure_super_deduction"] == "研发费用加计扣除(税式支出)"
    assert charts.spend_label("spend_rd_subsidies", "English") == "rd subsidies"


def test_charts_are_png_and_change_with_the_run(smoke_setups):
    run = DistrictRun(setups=smoke_setups)
    names = view_names(run)

    def outcome_chart():
        return charts.png(charts.plan_indicators(
            plan_rows(run, "outcomes"), run.district.yearly_indicators(), None,
            run.setups.scenario.plan, names, "English",
        ))  # fmt: skip

    before = outcome_chart()
    for _ in range(12):
        run.step()
    after = outcome_chart()
    assert before.startswith(b"\x89PNG") and after.startswith(b"\x89PNG")
    assert before != after


def assert_readable(figure):
    """Every piece of text the figure shows (titles, ticks, legend, offsets) is large enough."""
    for label in figure.findobj(Text):
        if label.get_visible() and label.get_text().strip():
            px = label.get_fontsize() * charts.DPI / 72
            assert px >= charts.MIN_TEXT_PX, (label.get_text(), px)


def overlaps(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


@pytest.mark.parametrize("language", ["English", "中文"])
def test_plan_charts_have_readable_panels_and_a_legend_clear_of_them(smoke_setups, language):
    run = DistrictRun(setups=smoke_setups, compare=True)
    for _ in range(12):
        run.step()
    names = view_names(run)
    ids = plan_rows(run, "outcomes")
    assert len(ids) > 12  # five rows of panels: the figure grows with them
    figure = charts.plan_indicators(
        ids, run.district.yearly_indicators(), run.counterfactual.yearly_indicators(),
        run.setups.scenario.plan, names, language,
    )  # fmt: skip
    figure.draw_without_rendering()
    # drawn at about the size shown (a full-width card of a 1600 px window): px are screen px
    assert figure.bbox.width <= 1150
    assert_readable(figure)
    panels = [ax for ax in figure.axes if ax.get_visible()]
    assert len(panels) == len(ids)
    for ax in panels:
        box = ax.get_window_extent()
        assert box.width >= 200 and box.height >= 140, (ax.get_title(), box)
    whole = [ax.get_tightbbox() for ax in panels]  # each panel with its title and ticks
    for k, box in enumerate(whole):
        assert figure.bbox.x0 <= box.x0 and box.x1 <= figure.bbox.x1, panels[k].get_title()
        assert figure.bbox.y0 <= box.y0 and box.y1 <= figure.bbox.y1, panels[k].get_title()
        assert not any(overlaps(box, other) for other in whole[k + 1 :]), panels[k].get_title()
    (legend,) = figure.legends
    assert len(legend.get_texts()) == 3  # policy, counterfactual, target
    shown = legend.get_window_extent()
    assert figure.bbox.y0 <= shown.y0 and shown.y1 <= figure.bbox.y1
    assert not any(overlaps(shown, box) for box in whole)


@pytest.mark.parametrize("language", ["English", "中文"])
def test_the_spend_legend_is_outside_the_bars(smoke_setups, language):
    run = DistrictRun(setups=smoke_setups, compare=True)
    for _ in range(12):
        run.step()
    figure = charts.public_spend(
        run.district.yearly_indicators(), run.counterfactual.yearly_indicators(), language
    )
    figure.draw_without_rendering()
    (ax,) = figure.axes
    assert ax.get_legend() is None
    (legend,) = figure.legends
    assert len(legend.get_texts()) >= 2  # a lever's spend and the counterfactual
    shown, plot = legend.get_window_extent(), ax.get_tightbbox()
    assert not overlaps(shown, plot)
    assert figure.bbox.y0 <= shown.y0 and shown.x0 >= figure.bbox.x0
    assert shown.x1 <= figure.bbox.x1
    assert_readable(figure)


def test_every_lever_in_the_spend_chart_has_a_colour_of_its_own():
    columns = [c for c in INDICATORS if c.startswith(("spend_", "tax_expenditure"))]
    frame = pd.DataFrame({"year": [2020, 2021], **{c: [1.0, 2.0] for c in columns}})
    figure = charts.public_spend(frame, None, "中文")
    (ax,) = figure.axes
    colours = [bars.patches[0].get_facecolor() for bars in ax.containers]
    assert len(colours) == len(charts.spend_columns(frame)) > 10
    assert len(set(colours)) == len(colours)


def twenty_thousand_firms():
    scenario = load_scenario(DEFAULT_SCENARIO)
    overrides = {
        f"population.sectors[{i}].other": sector.other * 21
        for i, sector in enumerate(scenario.population.sectors)
    }
    scaled = load_scenario(DEFAULT_SCENARIO, overrides=overrides)
    return dataclasses.replace(load_setups(str(DEFAULT_SCENARIO), str(NO_POLICY)), scenario=scaled)


@THREADED_KERNELS
def test_playing_20000_firms_steps_and_redraws_every_month():
    """A month while playing at 20,000 firms: the step and the charts redrawn every month.

    How fast this goes is measured in benchmarks, not asserted here.
    """
    run = DistrictRun(setups=twenty_thousand_firms())
    assert run.district.indicators["firms"] >= 19_000
    first = run.district.month
    for _ in range(6):
        run.step()
        ladder = charts.status_ladder(ladder_counts(run.district), None, "English")
        f = run.district.firms.arrays()
        alive = f.alive.astype(bool)
        points = charts.firm_points(
            f.revenue[alive], f.rd_intensity[alive], highest_rung(run.district), "English"
        )
        assert ladder is not None and points is not None
    assert run.district.month == first + 6
