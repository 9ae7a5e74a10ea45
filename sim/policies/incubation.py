"""The incubation chain (众创空间 + 孵化器 + 加速器).

Service institutions (maker spaces, incubators, accelerators) are agents with room for
``capacity_per_institution`` tenants. Each month new firms (younger than
``admission_max_age_months``) are admitted in lottery order while there is room; a tenant stays
``incubation_months``, with its exit hazard multiplied by ``exit_hazard_factor`` and its revenue
drift raised by ``growth_boost``. New institutions open at ``new_institutions_per_year``; every
institution receives a yearly operating subsidy.
"""

from dataclasses import dataclass

from sim.schema import param
from sim.sources import ASSUMED, BASELINE, DOMAIN, OFF


@dataclass(frozen=True, kw_only=True)
class IncubationLevers:
    """Incubators and other S&T service institutions."""

    existing_institutions: int = param(
        42, unit="count", lo=0, hi=10_000, source=BASELINE + ": 42 in 2020"
    )
    new_institutions_per_year: float = param(0.0, unit="count/yr", lo=0, hi=1000, source=OFF)
    capacity_per_institution: int = param(
        5, unit="firms", lo=0, hi=100_000, source=ASSUMED + "; 440 thousand m2 over 42 institutions"
    )
    operating_subsidy: float = param(0.0, unit="M CNY/institution/yr", lo=0, source=OFF)
    admission_max_age_months: int = param(12, unit="months", lo=0, source=ASSUMED)
    incubation_months: int = param(24, unit="months", lo=1, source=ASSUMED)
    exit_hazard_factor: float = param(
        0.6,
        unit="x",
        lo=0,
        hi=1,
        source=DOMAIN + ": incubation raises start-up survival; level assumed",
    )
    growth_boost: float = param(0.05, unit="1/yr", lo=0, hi=1, source=ASSUMED)
