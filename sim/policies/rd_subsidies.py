"""Incremental R&D subsidies and awards for major new products.

On 31 December a firm registered or certified receives ``incremental_share`` of the increase of
its R&D over the year before, up to ``cap_per_firm``; if claims exceed the budget, all are cut
in proportion. Firms count on part of it when they plan R&D (``perceived_share`` of the
subsidy lowers their price of marginal R&D). An innovation whose productivity jump is at least
``major_product_jump`` in a recognised firm is a major new product; each earns the award.
"""

from dataclasses import dataclass

import numpy as np

from sim.policies.lever_group import LeverGroup
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


class RdSubsidies(LeverGroup):
    """Incremental subsidies and major-product awards, paid on 31 December."""

    name = "rd_subsidies"
    flows = ("major_new_products",)

    def in_force(self, year: int) -> dict:
        """The subsidy firms count on when planning R&D; what makes a major product."""
        levers = self.levers_in(year)
        return {
            "rd_subsidy_rate": rd_subsidy_rate(levers),
            "major_product_jump": levers.major_product_jump,
        }

    def on_december(self, f, t: int, year: int, before: dict) -> None:
        """Pay the year's incremental subsidies, then the product awards."""
        self.pay_incremental_subsidies(f, t, year)
        self.pay_major_product_awards(f, year)

    def pay_incremental_subsidies(self, f, t: int, year: int) -> None:
        """A share of each recognised firm's R&D increase, cut pro rata to the budget."""
        levers = self.levers_in(year)
        if levers.budget <= 0:
            return
        recognised = f.alive & (f.tech_sme | (f.hitech_until > t)) & (f.rd_history[:, 1] > 0)
        rows = np.flatnonzero(recognised)
        increase = np.maximum(0.0, f.rd_history[rows, 0] - f.rd_history[rows, 1])
        claims = np.minimum(levers.cap_per_firm, levers.incremental_share * increase)
        total = claims.sum()
        if total > levers.budget:
            claims = claims * (levers.budget / total)
        self.government.pay_firms(f, rows[claims > 0], claims[claims > 0], self.name)

    def pay_major_product_awards(self, f, year: int) -> None:
        """An award per major new product of the year."""
        award = self.levers_in(year).major_product_award
        rows = np.flatnonzero(f.major_products_ytd > 0)
        if award > 0:
            amounts = award * f.major_products_ytd[rows].astype(np.float64)
            self.government.pay_firms(f, rows, amounts, self.name)

    def flow_indicators(self, f, year: int) -> dict:
        """Major new products of the year (plan indicator)."""
        return {"major_new_products": int(f.major_products_ytd[f.alive].sum())}
