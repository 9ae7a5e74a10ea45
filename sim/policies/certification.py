"""High-tech certification support (高企培育): cultivation pool, coaching and awards.

Each January the ``pool_size`` registered tech SMEs closest to the HNTE R&D bar (highest R&D
ratio, not yet certified) enter the cultivation pool: they are coached (``coaching_cost`` each,
paid to service providers), always apply at the December round and pass review more often. On
31 December the district pays awards for first certifications, renewals and new tech SMEs.
"""

from dataclasses import dataclass

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
