"""High-tech certification support (高企培育): cultivation pool, coaching and awards.

Each January the ``pool_size`` registered tech SMEs closest to the HNTE R&D bar (highest R&D
ratio, not yet certified) enter the cultivation pool: they are coached (``coaching_cost`` each,
paid to service providers), always apply at the December round and pass review more often. On
31 December the district pays awards for first certifications, renewals and new tech SMEs, and
for new specialised SMEs, little giants, hidden champions and listings: firms weigh these
awards when they decide to seek those statuses (docs/model.md 7.8).
"""

from dataclasses import dataclass

import numpy as np

from sim.policies.lever_group import LeverGroup
from sim.ranking import first_k
from sim.schema import param
from sim.sources import ASSUMED, DOMAIN, OFF


@dataclass(frozen=True, kw_only=True)
class CertificationSupportLevers:
    """Cultivation pool and awards."""

    pool_size: int = param(0, unit="firms/yr", lo=0, hi=10_000_000, source=OFF)
    coaching_cost: float = param(0.02, unit="M CNY/firm", lo=0, source=ASSUMED)
    pass_bonus: float = param(
        0.1, unit="prob", lo=0, hi=1, source=ASSUMED, doc="added to the review pass rate"
    )
    award_new_hitech: float = param(
        0.0, unit="M CNY", lo=0, source=OFF + "; Yubei district pays 0.2 (" + DOMAIN + ")"
    )
    award_renewed_hitech: float = param(
        0.0, unit="M CNY", lo=0, source=OFF + "; Yubei district pays 0.1"
    )
    award_new_tech_sme: float = param(
        0.0, unit="M CNY", lo=0, source=OFF + "; Yubei district pays 0.01"
    )
    award_specialised: float = param(
        0.0, unit="M CNY", lo=0, source=OFF, doc="paid for a new specialised-SME recognition"
    )
    award_little_giant: float = param(
        0.0, unit="M CNY", lo=0, source=OFF, doc="paid for a new little-giant recognition"
    )
    award_hidden_champion: float = param(
        0.0, unit="M CNY", lo=0, source=OFF, doc="paid for a new hidden-champion recognition"
    )
    award_otc_listing: float = param(
        0.0, unit="M CNY", lo=0, source=OFF, doc="paid for a listing on the Chongqing OTC board"
    )
    award_star_listing: float = param(
        0.0, unit="M CNY", lo=0, source=OFF, doc="paid for a listing on the STAR market"
    )
    campaign_firms: int = param(
        0,
        unit="firms/yr",
        lo=0,
        hi=100_000,
        source=OFF + "; the plan's registration campaigns (科技型企业入库培育)",
        doc="firms visited each January and told of the registry and its benefits",
    )
    campaign_cost_per_firm: float = param(
        0.002, unit="M CNY/firm", lo=0, source=ASSUMED, doc="cost of one campaign visit"
    )


class CertificationSupport(LeverGroup):
    """The cultivation pool in January; awards for new statuses on 31 December."""

    name = "certification_support"
    placements = {"cultivated": False}

    def on_january(self, f, t: int, year: int) -> None:
        """The registration campaign, then the cultivation pool."""
        self.run_registration_campaign(f, year)
        self.select_cultivation_pool(f, t, year)

    def in_force(self, year: int) -> dict:
        """The awards firms weigh when they decide to register or apply."""
        support = self.levers_in(year)
        return {
            "award_new_hitech": support.award_new_hitech,
            "award_renewed_hitech": support.award_renewed_hitech,
            "award_new_tech_sme": support.award_new_tech_sme,
        }

    def run_registration_campaign(self, f, year: int) -> None:
        """Firms doing R&D that do not know the registry are told of it, most R&D first."""
        support = self.levers_in(year)
        if support.campaign_firms == 0:
            return
        rows = np.flatnonzero(f.alive & ~f.registry_aware & ~f.tech_sme & (f.rd_history[:, 0] > 0))
        ratio = _ratio(f.rd_history[rows, 0], f.revenue_history[rows, 0])
        reached = rows[first_k(-ratio, support.campaign_firms)]
        f.registry_aware[reached] = True
        cost = support.campaign_cost_per_firm * len(reached)
        self.government.record(self.name, cost)
        self.government.received(self.name, cost)

    def select_cultivation_pool(self, f, t: int, year: int) -> None:
        """Registered, uncertified firms with the highest R&D ratio enter the pool."""
        support = self.levers_in(year)
        f.cultivated[:] = False
        if support.pool_size == 0:
            return
        rows = np.flatnonzero(f.alive & f.tech_sme & (f.hitech_until < t))
        ratio = _ratio(f.rd_history[rows, 0], f.revenue_history[rows, 0])
        chosen = rows[first_k(-ratio, support.pool_size)]  # highest first, ties by firm id
        f.cultivated[chosen] = True
        self.government.record(self.name, support.coaching_cost * len(chosen))
        self.government.received(self.name, support.coaching_cost * len(chosen))

    def on_december(self, f, t: int, year: int, before: dict) -> None:
        """Awards for first certifications, renewals, new tech SMEs and the upper rungs."""
        support = self.levers_in(year)
        new_hitech = np.flatnonzero(f.alive & (f.hitech_since == t))
        renewed = np.flatnonzero(
            f.alive & (before["hitech_until"] == t) & (f.hitech_until > t) & (f.hitech_since != t)
        )
        new_sme = np.flatnonzero(f.alive & f.tech_sme & ~before["tech_sme"])
        granted = before.get("ladder_granted", {})
        empty = np.zeros(0, dtype=np.int64)
        for rows, award in (
            (new_hitech, support.award_new_hitech),
            (renewed, support.award_renewed_hitech),
            (new_sme, support.award_new_tech_sme),
        ) + tuple(
            (granted.get(status, empty), amount)
            for status, amount in ladder_awards(support).items()
        ):
            if award > 0:
                self.government.pay_firms(f, rows, np.full(len(rows), award), self.name)


def ladder_awards(support) -> dict[str, float]:
    """The awards for the upper rungs of the ladder, by status (``sim.agents.ladder``)."""
    return {
        "specialised": support.award_specialised,
        "little_giant": support.award_little_giant,
        "champion": support.award_hidden_champion,
        "otc": support.award_otc_listing,
        "star": support.award_star_listing,
    }


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.zeros(len(a)), where=b > 0)
