"""Incremental R&D subsidies and awards for major new products.

On 31 December a firm registered or certified receives ``incremental_share`` of the increase of
its R&D over the year before, up to ``cap_per_firm``; if claims exceed the budget, all are cut
in proportion. Firms count on part of it when they plan R&D (``perceived_share`` of the
subsidy lowers their price of marginal R&D). An innovation whose productivity jump is at least
``major_product_jump`` in a recognised firm is a major new product; each earns the award.
"""

from dataclasses import dataclass

from sim.schema import param
from sim.sources import ASSUMED, OFF


@dataclass(frozen=True, kw_only=True)
class RdSubsidyLevers:
    """Incremental R&D subsidy and new-product awards."""

    budget: float = param(0.0, unit="M CNY/yr", lo=0, source=OFF, doc="incremental subsidy budget")
    incremental_share: float = param(
        0.1, unit="share", lo=0, hi=1, source=ASSUMED, doc="of the year-on-year R&D increase"
    )
    cap_per_firm: float = param(1.0, unit="M CNY/yr", lo=0, source=ASSUMED)
    perceived_share: float = param(
        0.3,
        unit="share",
        lo=0,
        hi=1,
        source=ASSUMED,
        doc="how much of the subsidy rate firms count on when planning R&D",
    )
    major_product_award: float = param(0.0, unit="M CNY", lo=0, source=OFF)
    major_product_jump: float = param(
        0.06,
        unit="share",
        lo=0,
        source="calibrated: about the district's 2016-2020 pace of municipal key new products",
        doc="productivity jump that makes a major new product",
    )


def rd_subsidy_rate(levers: RdSubsidyLevers) -> float:
    """Public share of marginal R&D firms count on from the incremental subsidy."""
    return levers.incremental_share * levers.perceived_share if levers.budget > 0 else 0.0
