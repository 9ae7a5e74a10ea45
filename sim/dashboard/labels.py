"""Bilingual labels: plan indicator names, lever names and the dashboard's own words.

English is the default and shows the Chinese name beside it; the language switch puts Chinese
first with the English beside it. Levers and their units are named in Chinese by the report's
words (``sim/words.py``, ``sim/batch/templates/words.toml``), the one home of those names.
"""

import csv
import functools
from pathlib import Path

from sim.dashboard.levers import LeverSpec
from sim.scenario import Scenario
from sim.words import ZH_LEVERS, Words, text

LANGUAGES = ("English", "中文")

# The dashboard's own words; indicator names come from the plan table.
WORDS = {
    "outcomes": ("Plan indicators: outcomes", "规划指标:成效"),
    "inputs": ("Plan indicators: inputs set by levers", "规划指标:政策投入"),
    "ladder": ("Status ladder", "企业梯队"),
    "spend": ("Public spend by lever (M CNY)", "各政策公共支出(百万元)"),
    "firms_chart": ("Firms: revenue against R&D intensity", "企业:营业收入与研发强度"),
    "scorecard": ("Scorecard against the plan", "规划目标考核"),
    "policy": ("policy", "政策情景"),
    "counterfactual": ("counterfactual (no policy)", "反事实(无政策)"),
    "target": ("target", "目标"),
    "indicator": ("indicator", "指标"),
    "value": ("value", "数值"),
    "met": ("met", "达标"),
    "yes": ("yes", "是"),
    "no": ("no", "否"),
    "gap": ("gap", "差距"),
    "as_of": ("as of 31 December", "截至12月31日"),
    "revenue": ("revenue (M CNY/yr, log scale)", "营业收入(百万元/年,对数)"),
    "rd_intensity": ("R&D intensity (share of revenue)", "研发强度(占营业收入)"),
    "firms": ("firms", "企业"),
    "tech_smes": ("tech SMEs", "科技型企业"),
    "hitech_firms": ("certified high-tech", "高新技术企业"),
    "high_growth_firms": ("high-growth", "高成长性企业"),
    "specialized_firms": ("specialised SMEs", "专精特新企业"),
    "little_giants": ("little giants", "小巨人企业"),
    "hidden_champions": ("hidden champions", "隐形冠军企业"),
    "otc_listed": ("OTC sci-tech board", "重庆OTC科创板"),
    "star_listed": ("STAR market", "科创板上市"),
    "not_modelled": ("not modelled yet", "尚未建模"),
    "other": ("other firms", "其他企业"),
    "no_spend": ("no public spend booked yet", "尚无公共支出"),
    "tax_expenditure": ("tax expenditure", "税式支出"),
    "levers": ("Levers (take effect from the next month)", "政策杠杆(下月起生效)"),
    "compare": ("Compare with the counterfactual", "与反事实对比"),
    "language": ("Language", "语言"),
    "month": ("Month simulated", "模拟月份"),
    "seed": ("Seed", "随机种子"),
    "range_to": ("to", "至"),
    "at_least": (">=", "≥"),
    "at_most": ("<=", "≤"),
    "any": ("any", "不限"),
    # a refused lever value: the schema's message (English), the value kept in force
    "refused": (
        "{error}; {value} stays in force",
        "{name}:{error}(允许范围 {allowed});现值 {value} 继续有效",
    ),
}


def word(key: str, language: str) -> str:
    """The dashboard word ``key`` in ``language``."""
    english, chinese = WORDS[key]
    return chinese if language == LANGUAGES[1] else english


def indicator_names(scenario: Scenario) -> dict[str, tuple[str, str]]:
    """Indicator id -> (English, Chinese) name, from the scenario's plan table."""
    path = Path(scenario.source).parent / scenario.targets.file
    with path.open(newline="", encoding="utf-8") as handle:
        return {
            row["id"]: (row["indicator_en"], row.get("indicator_zh") or row["indicator_en"])
            for row in csv.DictReader(handle)
        }


def bilingual(names: tuple[str, str], language: str, sep: str = "  ") -> str:
    """A name in ``language`` with the other language beside it."""
    english, chinese = names
    if english == chinese:
        return english
    return f"{chinese}{sep}{english}" if language == LANGUAGES[1] else f"{english}{sep}{chinese}"


@functools.cache
def words_in(language: str) -> Words:
    """The report's words in the dashboard's ``language``."""
    return Words("zh" if language == LANGUAGES[1] else "en")


def allowed(spec: LeverSpec, language: str) -> str:
    """A lever's allowed range in ``language``: ``0 to 1``, ``0 至 1``, ``≥ 0``."""
    return spec.allowed_in(*(word(k, language) for k in ("range_to", "at_least", "at_most", "any")))


def lever_label(spec: LeverSpec, language: str) -> str:
    """A lever input's label: its name, unit and allowed range in ``language``.

    English names the field as scenario files spell it (``budget (M CNY/yr, >= 0)``); Chinese
    gives the lever's Chinese name and unit (``创新券年度预算(百万元/年,≥ 0)``).
    """
    if language != LANGUAGES[1]:
        return spec.label
    words = words_in(language)
    details = [part for part in (words.unit(spec.unit), allowed(spec, language)) if part]
    return f"{words.parameter(spec.key)}({','.join(details)})"


def group_title(group: str, language: str) -> str:
    """A lever panel's title: the table under ``[policy]`` in English, its name in Chinese."""
    if language != LANGUAGES[1]:
        return group.replace("_", " ")
    return words_in(language).lever(group)


def lever_error(spec: LeverSpec, error: str, in_force: str, language: str) -> str:
    """The one line shown under a lever whose typed value was refused.

    ``error`` is the schema's own message (field, value and what is allowed, in English);
    Chinese puts the lever's name and allowed range in Chinese around it.
    """
    return word("refused", language).format(
        error=error,
        value=in_force,
        name=words_in(language).parameter(spec.key),
        allowed=allowed(spec, language),
    )


def untranslated(specs: list[LeverSpec]) -> list[str]:
    """The levers among ``specs`` shown without Chinese: ``"key: name"`` (or unit, group)."""
    words = text()
    gaps = []
    for spec in specs:
        if spec.key not in words["levers"]:
            gaps.append(f"{spec.key}: name")
        if spec.unit and spec.unit not in words["units"]:
            gaps.append(f"{spec.key}: unit {spec.unit!r}")
        if spec.group not in ZH_LEVERS:
            gaps.append(f"{spec.key}: group {spec.group!r}")
    return gaps
