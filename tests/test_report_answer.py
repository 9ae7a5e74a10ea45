"""The report answers the question on its first screen, in Chinese and English, and fits."""

import dataclasses
import html
import re
import shutil
import warnings

import pandas as pd
import pytest
from conftest import DEFAULT_SCENARIO
from test_batch import write_experiment

from sim.batch.batch import run_batch
from sim.batch.report import make_report
from sim.batch.summary import wilson
from sim.indicators import INPUT_INDICATORS

# The plan scenario for 24 months (2021-2022): 2 named mixes x 2 pool sizes x 3 seeds.
LEVERS = """
[replications]
seeds = 3
base_seed = 1

[[mixes]]
name = "plan"

[[mixes]]
name = "no_attraction"
"policy.attraction.firms_per_year" = 0.0

[levers]
"policy.certification_support.pool_size" = [0, 30]
"""
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("answer")
    path = write_experiment(tmp, LEVERS, scenario=DEFAULT_SCENARIO, months=24)
    run_batch(path, engine="inline", out=tmp / "results")
    return tmp / "results"


@pytest.fixture(scope="module")
def zh(batch, tmp_path_factory):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing CJK glyph in a chart is a UserWarning
        return make_report(
            batch, out=tmp_path_factory.mktemp("zh") / "r", lang="zh", effect_seeds=2
        )


def test_wilson_interval_is_inside_0_1_and_wide_for_few_runs():
    assert wilson(0, 3)[0] == 0 and 0.4 < wilson(0, 3)[1] < 0.6
    lo, hi = wilson(15, 30)
    assert lo < 0.5 < hi and hi - lo < 0.35


def test_answer_section_comes_first_and_ranks_mixes_by_outcome_targets_met(zh):
    page = zh.html.read_text(encoding="utf-8")
    sections = [page.index(f'<section id="{s}">') for s in ("answer", "levers", "charts", "about")]
    assert sections == sorted(sections)
    ranking = zh.summary.ranking
    assert list(ranking["rank"]) == [1, 2, 3, 4]
    assert ranking["targets_met_mean"].is_monotonic_decreasing
    answer = page[sections[0] : sections[1]]
    assert answer.index("组合 ") < answer.index("</table>")  # ranked mixes in the first section
    assert "家/年" in answer  # lever values carry their units (firms/yr)


def test_probabilities_carry_wilson_intervals_and_inputs_are_shown_apart(zh):
    a = zh.summary.attainment
    row = a[(a["policy_mix_id"] == 0) & (a["indicator"] == "hitech_firms")].iloc[0]
    assert (row.p_lo, row.p_hi) == pytest.approx(wilson(round(row.p_meet * row.runs), row.runs))
    page = zh.html.read_text(encoding="utf-8")
    answer = page[: page.index('<section id="levers">')]
    assert f"{row.p_meet:.0%} [{row.p_lo:.0%}, {row.p_hi:.0%}]" in answer
    inputs = answer.index("投入类指标:由政策工具排期设定的目标")
    assert answer.index("高新技术企业") < inputs < answer.index("引进培育高精尖缺人才")
    outcomes_in_ranking = set(zh.summary.ranking["outcome_targets"])
    assert outcomes_in_ranking == {len(zh.summary.outcomes)}
    assert not {t.id for t in zh.summary.outcomes} & INPUT_INDICATORS


def test_chinese_report_uses_the_plan_tables_names_and_lever_effects(zh):
    page = zh.html.read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page
    for name in ("国家高新技术企业", "全社会研发经费占地区生产总值的比重", "高企培育与认定奖励"):
        assert name in page
    effects = zh.lever_effects.set_index(["lever", "indicator"])
    attraction = effects.loc[("attraction", "hitech_firms")]
    # the base scenario attracts 4 certified firms a year at 1 M CNY each: 2021-2022
    assert attraction["cost_mcny"] == pytest.approx(8.0)
    assert attraction["effect_lo"] > 0
    assert set(zh.lever_effects["lever"]) >= {"attraction", "hitech_tax_rate", "super_deduction"}


def test_named_mixes_are_crossed_with_the_lever_lists_and_named_on_the_page(zh):
    mixes = zh.summary.mixes.set_index("policy_mix_id")
    assert list(mixes["mix"]) == ["plan", "plan", "no_attraction", "no_attraction"]
    assert list(mixes["policy.attraction.firms_per_year"]) == [4.0, 4.0, 0.0, 0.0]  # 4: the plan's
    assert list(mixes["policy.certification_support.pool_size"]) == [0, 30, 0, 30]
    assert '组合 2 "no_attraction"' in html.unescape(zh.html.read_text(encoding="utf-8"))


def test_the_chinese_page_names_each_lever_and_keeps_its_key_in_small_type(zh):
    from test_report import visible_text

    from sim.words import text

    page = html.unescape(zh.html.read_text(encoding="utf-8"))
    names = text()["levers"]
    for key, unit in (("attraction.firms_per_year", "家/年"),
                      ("certification_support.pool_size", "家/年")):  # fmt: skip
        ranking = f'{names[key]} <span class="id">policy.{key}</span> = '
        assert ranking in page[: page.index('<section id="levers">')], key
        header = f'<th class="l">{names[key]} ({unit}) <span class="id">policy.{key}</span></th>'
        assert header in page, key  # the mixes table
    shown = visible_text(zh.html.read_text(encoding="utf-8"))  # without the small keys
    dotted = re.findall(r"(?<![\w/.])[a-z_]+(?:\.[a-z_]+)+", shown)
    assert [d for d in dotted if not d.endswith((".md", ".xlsx", ".csv"))] == []
    assert "pool_size" not in shown and "firms_per_year" not in shown


def test_a_bad_value_in_a_named_mix_is_one_line_naming_it(tmp_path):
    from sim.batch.experiment import load_experiment
    from sim.schema import InputError

    body = '[[mixes]]\nname = "x"\n"policy.vouchers.budget" = -1.0\n'
    path = write_experiment(tmp_path, body, scenario=DEFAULT_SCENARIO)
    with pytest.raises(InputError, match=r'mixes\[0\]."policy.vouchers.budget" = -1.0: .*>= 0'):
        load_experiment(path)


def test_workbook_holds_every_table(zh):
    sheets = pd.read_excel(zh.out / "report.xlsx", sheet_name=None)
    assert {"ranking", "attainment", "mixes", "lever_effects", "discovery"} <= set(sheets)
    assert len(sheets["attainment"]) == len(zh.summary.attainment)


def test_no_table_is_wider_than_the_page_in_chromium_at_1400_px(batch, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium is not installed (scripts/system_deps.sh installs it)")
    report = make_report(batch, out=tmp_path / "en", lang="en", effect_seeds=2)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(report.html.as_uri())
        layout = page.evaluate(
            """() => ({
                page: document.documentElement.clientWidth,
                scroll: document.documentElement.scrollWidth,
                tables: Array.from(document.querySelectorAll('table'))
                    .map(t => t.getBoundingClientRect().right),
                answerTop: document.getElementById('answer').getBoundingClientRect().top,
            })"""
        )
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        browser.close()
    assert layout["tables"] and max(layout["tables"]) <= layout["page"]
    assert layout["scroll"] <= layout["page"]
    assert layout["answerTop"] < 900  # the answer starts on the first screen
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_the_answer_says_when_mixes_tie_instead_of_naming_one_best(zh):
    from sim.batch.report import Words, answer_sentences
    from sim.scenario import load_scenario

    words = Words("en", load_scenario(DEFAULT_SCENARIO).plan)
    tied = zh.summary.ranking.copy()
    tied["targets_met_mean"] = tied["targets_met_mean"].iloc[0]  # every mix meets the same
    all_tie = answer_sentences(dataclasses.replace(zh.summary, ranking=tied), words)
    assert all_tie[0].startswith(f"All {len(tied)} mixes are expected to meet the same number")
    two = zh.summary.ranking.copy()
    two.loc[two.index[1], "targets_met_mean"] = two["targets_met_mean"].iloc[0]
    two.loc[two.index[2:], "targets_met_mean"] = two["targets_met_mean"].iloc[0] - 5
    first = answer_sentences(dataclasses.replace(zh.summary, ranking=two), words)[0]
    assert " tie for the most outcome targets" in first
    alone = answer_sentences(zh.summary, words)[0]
    if zh.summary.ranking["targets_met_mean"].nunique() == len(zh.summary.ranking):
        assert " is expected to meet the most outcome targets" in alone


def test_the_chinese_page_with_lever_effects_has_no_english_sentence_left(zh):
    from test_report import english_phrases, visible_text

    text = visible_text(zh.html.read_text(encoding="utf-8"))
    assert "每千万元效果" in text or "对所有结果指标均无可检测的效果" in text  # the lever section
    assert english_phrases(text) == []
