"""High-tech certification support (高企培育): cultivation pool, coaching and awards.

Each January the ``pool_size`` registered tech SMEs closest to the HNTE R&D bar (highest R&D
ratio, not yet certified) enter the cultivation pool: they are coached (``coaching_cost`` each,
paid to service providers), always apply at the December round and pass review more often. On
31 December the district pays awards for first certifications, renewals and new tech SMEs.
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

    pool_size: int = param(0, unit="firms/yr", lo=0, source=OFF)
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


class CertificationSupport(LeverGroup):
    """The cultivation pool in January; awards for new statuses on 31 December."""

    name = "certification_support"

    def on_january(self, f, t: int, year: int) -> None:
        """Registered, uncertified firms with the highest R&D ratio enter the pool."""
        support = self.levers
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
        """Awards for first certifications, renewals and new tech SMEs."""
        support = self.levers
        new_hitech = np.flatnonzero(f.alive & (f.hitech_since == t))
        renewed = np.flatnonzero(
            f.alive & (before["hitech_until"] == t) & (f.hitech_until > t) & (f.hitech_since != t)
        )
        new_sme = np.flatnonzero(f.alive & f.tech_sme & ~before["tech_sme"])
        for rows, award in (
            (new_hitech, support.award_new_hitech),
            (renewed, support.award_renewed_hitech),
            (new_sme, support.award_new_tech_sme),
        ):
            if award > 0:
                self.government.pay_firms(f, rows, np.full(len(rows), award), self.name)


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.zeros(len(a)), where=b > 0)
