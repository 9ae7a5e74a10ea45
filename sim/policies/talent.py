"""Talent programmes (鸿雁计划, 重庆英才计划) and S&T commissioners (科技特派员).

Each January the year's high-end talents are recruited (a share of them academician-level
A/B talent) and placed in the registered or certified firms with the most R&D, at most three per
firm; each talent is an agent, adds one tech staff and raises the firm's innovation rate, and
the firm receives a yearly salary subsidy. Commissioners are dispatched to industrial firms
outside the high-tech industries (food, materials, equipment), chosen by lottery; a visit
raises the firm's innovation rate for the year.
"""

from dataclasses import dataclass

from sim.schema import param
from sim.sources import ASSUMED, BASELINE, OFF, PLAN


@dataclass(frozen=True, kw_only=True)
class TalentLevers:
    """High-end talent recruitment and S&T commissioners."""

    existing_talents: int = param(
        35, unit="persons", lo=0, hi=1_000_000, source=BASELINE + ": 35 in 2020"
    )
    existing_top_talents: int = param(
        1, unit="persons", lo=0, hi=1_000_000, source=PLAN + ": 1 in 2020"
    )
    recruits_per_year: float = param(0.0, unit="persons/yr", lo=0, hi=100_000, source=OFF)
    top_talent_share: float = param(
        0.032, unit="share", lo=0, hi=1, source="plan ratio: 4 more top talents of 125 recruits"
    )
    salary_subsidy: float = param(0.1, unit="M CNY/person/yr", lo=0, source=ASSUMED)
    innovation_boost: float = param(
        0.3, unit="x zeta per talent", lo=0, source=ASSUMED, doc="added to the firm's multiplier"
    )
    max_per_firm: int = param(3, unit="persons", lo=1, hi=1000, source=ASSUMED)
    commissioners_per_year: float = param(0.0, unit="dispatches/yr", lo=0, hi=100_000, source=OFF)
    commissioner_cost: float = param(0.01, unit="M CNY/dispatch", lo=0, source=ASSUMED)
    commissioner_boost: float = param(0.2, unit="x zeta", lo=0, source=ASSUMED)
