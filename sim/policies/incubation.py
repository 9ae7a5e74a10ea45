"""The incubation chain (众创空间 + 孵化器 + 加速器).

Service institutions (maker spaces, incubators, accelerators) are agents with room for
``capacity_per_institution`` tenants. Each month technology start-ups (younger than
``admission_max_age_months``, with an R&D plan and at least ``min_tech_staff_share`` tech staff)
apply and are admitted in lottery order while there is room; a tenant stays
``incubation_months``, with its exit hazard multiplied by ``exit_hazard_factor`` and its revenue
drift raised by ``growth_boost``. New institutions open at ``new_institutions_per_year``; every
institution receives a yearly operating subsidy.
"""

from dataclasses import dataclass

from sim.agents.incubators import Incubator, incubation_candidates, tenants_by_incubator
from sim.policies.lever_group import LeverGroup
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
    min_tech_staff_share: float = param(
        0.1,
        unit="share",
        lo=0,
        hi=1,
        source=ASSUMED + " (incubators admit technology start-ups)",
        doc="applicants need an R&D plan and at least this share of tech staff",
    )
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
        year = model.setup.baseline_year
        levers = self.levers_in(year)
        self.incubators = [
            Incubator(model, k + 1, levers.capacity_per_institution, year)
            for k in range(levers.existing_institutions)
        ]
        self.opened = 0  # institutions opened since year 0

    def on_january(self, f, t: int, year: int) -> None:
        """New institutions open on the plan's schedule; every institution is subsidised."""
        levers = self.levers_in(year)
        new = self.opened_by(year, "new_institutions_per_year") - self.opened
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
        """Each incubator's tenants graduate; applicants, in lottery order, fill the places."""
        tenants = tenants_by_incubator(f, len(self.incubators))
        places = [
            incubator.graduate(f, t, mine)
            for incubator, mine in zip(self.incubators, tenants, strict=True)
        ]
        room = sum(places)
        if room == 0:
            return
        levers = self.levers_in(self.model.date(t)[0])
        applicants = incubation_candidates(f, t, self.model.seed, levers, room)
        start = 0
        for incubator, free in zip(self.incubators, places, strict=True):
            incubator.admit(f, applicants[start : start + free], t, levers)
            start += free

    def stock_indicators(self, f) -> dict:
        """Municipal-or-higher S&T service institutions (plan indicator)."""
        return {"service_institutions": len(self.incubators)}
