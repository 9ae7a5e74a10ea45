"""Words in the reader's language (``--lang zh|en``): the report page and the run table.

Indicator names come from the scenario's plan table (``indicator_zh`` / ``indicator_en``);
every other word, sentence and unit from ``sim/batch/templates/words.toml``, where every key
exists in every language and sentences take their numbers as ``{placeholders}``.
"""

import functools
import tomllib
import unicodedata
from pathlib import Path

from sim.indicators import INDICATORS
from sim.schema import InputError

LANGS = ("en", "zh")
WORDS_FILE = Path(__file__).parent / "batch" / "templates" / "words.toml"

# Chinese names of indicators that are in no plan table but appear in reports and tables.
ZH_EXTRA = {
    "business_rd": "企业研发经费",
    "firms": "在营模拟企业数",
    "hitech_new": "当年新认定高新技术企业",
    "hitech_lapsed": "当年资格到期未重新认定或被取消的高新技术企业",
    "tech_smes_new": "当年新入库科技型企业",
    "tech_smes_left": "当年出库科技型企业(在营)",
}
# Lever groups: those ``innosim effects`` switches off, and the dashboard's lever panels ("tax"
# and the three guidance funds are panels of their own).
ZH_LEVERS = {
    "vouchers": "科技创新券",
    "credit": "知识价值信用贷款",
    "guidance_funds": "种子/天使/风险引导基金",
    "rd_subsidies": "研发补助与重大新产品奖励",
    "certification_support": "高企培育与认定奖励",
    "talent": "人才计划与科技特派员",
    "incubation": "孵化载体",
    "platforms": "研发平台与新型研发机构",
    "attraction": "招商引资",
    "hitech_tax_rate": "高新技术企业15%税率",
    "super_deduction": "研发费用加计扣除",
    "tax": "税收政策",
    "guidance_funds.seed": "种子投资引导基金",
    "guidance_funds.angel": "天使投资引导基金",
    "guidance_funds.venture": "风险投资引导基金",
}
EN_LEVERS = {
    "vouchers": "Innovation vouchers",
    "credit": "Knowledge-value credit loans",
    "guidance_funds": "Seed/angel/venture guidance funds",
    "rd_subsidies": "R&D subsidies and product awards",
    "certification_support": "High-tech cultivation and awards",
    "talent": "Talent programmes and commissioners",
    "incubation": "Incubation chain",
    "platforms": "R&D platforms and institutes",
    "attraction": "Investment attraction",
    "hitech_tax_rate": "15% high-tech tax rate",
    "super_deduction": "R&D super-deduction",
    "tax": "Tax",
    "guidance_funds.seed": "Seed guidance fund",
    "guidance_funds.angel": "Angel guidance fund",
    "guidance_funds.venture": "Venture guidance fund",
}


@functools.cache
def text() -> dict[str, dict[str, str]]:
    """``words.toml``: ``{"en": {...}, "zh": {...}, "units": {...}, "levers": {...}}``.

    ``units`` maps each declared unit to its Chinese, ``levers`` each lever's key under
    ``policy`` (``credit.loan_cap``) to its Chinese name.
    """
    return tomllib.loads(WORDS_FILE.read_text("utf-8"))


def check_lang(lang: str) -> str:
    """``lang`` if it is one of ``LANGS`` (else a one-line ``InputError``)."""
    if lang not in LANGS:
        raise InputError(f"--lang {lang}: must be one of {', '.join(LANGS)}")
    return lang


class Words:
    """Labels in one language: sentences, indicators (from ``plan``), lever groups, units."""

    def __init__(self, lang: str, plan=None):
        self.lang = check_lang(lang)
        self.t = text()[lang]
        # scored rows and baseline-only rows both carry the names of their indicators
        self.plan = {r.id: r for r in plan.rows + plan.baselines} if plan is not None else {}

    def __call__(self, key: str, **values) -> str:
        """The sentence ``key`` with its ``{placeholders}`` filled from ``values``."""
        return self.t[key].format(**values)

    def indicator(self, indicator_id: str) -> str:
        """The plan table's name in this language (falls back to the id's meaning)."""
        row = self.plan.get(indicator_id)
        if self.lang == "zh":
            if row is not None and row.name_zh:
                return row.name_zh
            if indicator_id in ZH_EXTRA:
                return ZH_EXTRA[indicator_id]
        if row is not None:
            return row.name
        return INDICATORS.get(indicator_id, ("", indicator_id))[1]

    def lever(self, group: str) -> str:
        """A lever group's name."""
        return (ZH_LEVERS if self.lang == "zh" else EN_LEVERS).get(group, group)

    def parameter(self, key: str) -> str:
        """A lever by its key under ``policy`` (``credit.loan_cap``), named in this language.

        In Chinese its name from ``[levers]`` when there is one; in English the key itself, the
        field's name as scenario files and ``--set`` spell it.
        """
        if self.lang == "zh":
            return text()["levers"].get(key, key)
        return key

    def factor(self, key: str) -> str | None:
        """An experiment factor (``policy.credit.loan_cap``) by its name in this language.

        ``None`` where it has none but its key: a lever in English (``parameter`` names it by
        its key), an uncertainty in either language. Pages then show the key itself.
        """
        lever = key.removeprefix("policy.")
        if lever == key:
            return None
        name = self.parameter(lever)
        return None if name == lever else name

    def unit(self, unit: str) -> str:
        """A unit as declared (English) or, in Chinese, its translation when there is one."""
        if self.lang == "zh":
            return text()["units"].get(unit, unit)
        return unit

    def yes_no(self, flag: bool) -> str:
        """The word for yes or no."""
        return self.t["yes"] if flag else self.t["no"]


def width(text: str) -> int:
    """Columns ``text`` takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def ljust(text: str, columns: int) -> str:
    """``text`` padded on the right to ``columns`` terminal columns."""
    return text + " " * max(0, columns - width(text))


def rjust(text: str, columns: int) -> str:
    """``text`` padded on the left to ``columns`` terminal columns."""
    return " " * max(0, columns - width(text)) + text
