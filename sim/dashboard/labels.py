"""Bilingual labels: plan indicator names and the dashboard's own words.

English is the default and shows the Chinese name beside it; the language switch puts Chinese
first with the English beside it.
"""

import csv
from pathlib import Path

from sim.scenario import Scenario

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
    "levers": ("Levers (take effect from the next month)", "政策杠杆(下月起生效)"),
    "compare": ("Compare with the counterfactual", "与反事实对比"),
    "language": ("Language", "语言"),
    "month": ("Month simulated", "模拟月份"),
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
