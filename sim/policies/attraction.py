"""Investment attraction (引凤 / 招商引资): outside high-tech firms brought into the district.

Each January ``firms_per_year`` certified high-tech firms (the fraction carried over) relocate
into a high-tech-industry sector chosen by lottery, drawn from the high-tech profile at
``revenue_multiplier`` times its size; each receives ``subsidy_per_firm``. They keep their
certificate (three years from arrival) and count in every indicator from then on.
"""

from dataclasses import dataclass

from sim.schema import param
from sim.sources import ASSUMED, OFF


@dataclass(frozen=True, kw_only=True)
class AttractionLevers:
    """Firms attracted and the subsidy per firm."""

    firms_per_year: float = param(0.0, unit="firms/yr", lo=0, hi=100_000, source=OFF)
    subsidy_per_firm: float = param(0.0, unit="M CNY", lo=0, source=OFF)
    revenue_multiplier: float = param(1.5, unit="x", lo=0.01, source=ASSUMED)
