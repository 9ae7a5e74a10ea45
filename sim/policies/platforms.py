"""R&D platforms, new R&D institutes and industry-academia collaboration.

At year 0 the district's recognised platforms sit in the firms with the most R&D. Each
31 December up to the year's quota of certified firms with R&D of at least ``min_rd`` are
recognised as new municipal platforms (an award each) and innovate faster. New-type R&D
institutes, industry research institutes and R&D branches open on the plan's schedule at a
yearly cost (counted; their effect on firms is not modelled yet). Firms buy a share of their
R&D as services from universities and institutes: the district's technology-contract turnover,
calibrated at year 0; vouchers pay part of it.
"""

from dataclasses import dataclass

from sim.schema import param
from sim.sources import ASSUMED, BASELINE, OFF, PLAN


@dataclass(frozen=True, kw_only=True)
class PlatformLevers:
    """R&D platforms and institutes."""

    existing_platforms: int = param(
        43, unit="count", lo=0, hi=10_000, source=BASELINE + ": 43 in 2020"
    )
    new_platforms_per_year: float = param(0.0, unit="count/yr", lo=0, hi=1000, source=OFF)
    platform_award: float = param(0.0, unit="M CNY", lo=0, source=OFF)
    min_rd: float = param(1.0, unit="M CNY/yr", lo=0, source=ASSUMED)
    innovation_boost: float = param(0.3, unit="x zeta", lo=0, source=ASSUMED)
    existing_new_rd_institutes: int = param(
        4, unit="count", lo=0, hi=10_000, source=BASELINE + ": 4"
    )
    new_rd_institutes_per_year: float = param(0.0, unit="count/yr", lo=0, hi=1000, source=OFF)
    industry_research_institutes_per_year: float = param(
        0.0, unit="count/yr", lo=0, hi=1000, source=OFF
    )
    rd_branches_per_year: float = param(0.0, unit="count/yr", lo=0, hi=1000, source=OFF)
    institute_cost: float = param(2.0, unit="M CNY/institute/yr", lo=0, source=ASSUMED)
    universities: int = param(21, unit="count", lo=1, hi=10_000, source=BASELINE + ": 21 partners")
    services_share: float = param(
        0.0,
        unit="share of R&D",
        lo=0,
        hi=1,
        source=PLAN + ": 0 means calibrate so year-0 contracts = 98 M CNY",
        doc="share of R&D bought as services (technology contracts)",
    )


def opened_by(per_year: float, years_elapsed: int) -> int:
    """Institutions opened after ``years_elapsed`` full years at ``per_year``."""
    return int(per_year * years_elapsed + 1e-9)
