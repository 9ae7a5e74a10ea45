"""The incubation chain (众创空间 + 孵化器 + 加速器).

Service institutions (maker spaces, incubators, accelerators) are agents with room for
``capacity_per_institution`` tenants. Each month new firms (younger than
``admission_max_age_months``) are admitted in lottery order while there is room; a tenant stays
``incubation_months``, with its exit hazard multiplied by ``exit_hazard_factor`` and its revenue
drift raised by ``growth_boost``. New institutions open at ``new_institutions_per_year``; every
institution receives a yearly operating subsidy.
"""

from dataclasses import dataclass

from sim.agents.incubators import (
    Incubator,
    admit,
    free_places,
    graduate,
    incubation_candidates,
)
from sim.calendar import opened_by
from sim.policies.lever_group import LeverGroup
from sim.schema import param
from sim.sources import ASSUMED, BASELINE, DOMAIN, OFF


@dataclass(frozen=True, kw_only=True)
class IncubationLevers:
    """Incubators and other S&T service institutions."""

    existing_institutions: int = param(42, unit="count", lo=0, source=BASELINE + ": 42 in 2020")
    new_institutions_per_year: float = param(0.0, unit="count/yr", lo=0, source=OFF)
    capacity_per_institution: int = param(
        5, unit="firms", lo=0, source=ASSUMED + "; 440 thousand m2 over 42 institutions"
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


class Incubation(LeverGroup):
    """Service institutions: opened and subsidised each January; tenants every month."""

    name = "incubation"

    def __init__(self, model, f):
        super().__init__(model, f)
        levers, year = self.levers, model.setup.baseline_year
        self.incubators = [
            Incubator(model, k + 1, levers.capacity_per_institution, year)
            for k in range(levers.existing_institutions)
        ]
        self.opened = 0  # institutions opened since year 0

    def on_january(self, f, t: int, year: int) -> None:
        """New institutions open on the plan's schedule; every institution is subsidised."""
        levers = self.levers
        new = opened_by(levers.new_institutions_per_year, self.years_elapsed(year)) - self.opened
        for _ in range(new):
            number = len(self.incubators) + 1
            self.incubators.append(
                Incubator(self.model, number, levers.capacity_per_institution, year)
            )
        self.opened += new
        for incubator in self.incubators:
            incubator.subsidy_received += levers.operating_subsidy
        subsidy = levers.operating_subsidy * len(self.incubators)
        self.government.record(self.name, subsidy)
        self.government.received(self.name, subsidy)

    def every_month(self, f, t: int) -> None:
        """Tenants graduate; young firms are admitted while incubators have room."""
        tenants = graduate(f, t, self.incubators)
        places = free_places(f, tenants, self.incubators)
        room = int(places.sum())
        if room == 0:
            return
        candidates = incubation_candidates(f, t, self.model.seed, self.levers, room)
        admit(f, candidates, places, t, self.levers)

    def stock_indicators(self, f) -> dict:
        """Municipal-or-higher S&T service institutions (plan indicator)."""
        return {"service_institutions": len(self.incubators)}
