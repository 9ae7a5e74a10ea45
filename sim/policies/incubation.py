"""The incubation chain (众创空间 + 孵化器 + 加速器).

**Places.** Service institutions (maker spaces, incubators, accelerators) are agents with
``area_per_institution`` m² each (the district's 440 thousand m² over its 42 institutions in
2020) and room for ``floor(area_per_institution / area_per_tenant)`` tenants: 31 places each,
1,302 in the district, at the national incubators' floor of 3 tenants per 1,000 m². New
institutions open at ``new_institutions_per_year`` with the same area.

**Who applies.** Technology start-ups: firms founded at most ``admission_max_age_months`` ago
(24 in the national rules) with an R&D plan and at least ``min_tech_staff_share`` tech staff
(the tech-SME floor), not attracted from outside. Not every such firm wants a place: a share
``application_share`` of them seek one (a trait of the firm, drawn once).

**Selection.** Each month tenants whose ``incubation_months`` are over, or who exited, leave;
the free places go to applicants ranked by their tech-SME evaluation score (tech-staff share,
R&D intensity, IP), highest first, ties broken by a lottery keyed on the firm. When applicants
outnumber places the most promising get in, so tenants differ from other start-ups before any
support: compare them with similar non-tenants (``python -m sim.stylised`` matches on birth
year, score band and age at admission).

**Support.** A tenant's exit hazard is multiplied by ``1 − (1 − h)·ψ`` and its revenue drift
raised by ``g·ψ`` while it is a tenant, h = ``exit_hazard_factor`` and g = ``growth_boost`` the
support with full services. ψ, the share of full support, grows with the service spending per
tenant s (mentoring, shared labs, finance matching), which is what the operating subsidy buys:

    s = operating_subsidy / places,    ψ = σ + (1 − σ)·s/(s + s½)

σ = ``space_support_share`` is what space alone gives (cheap premises, peers), s½ =
``service_half_cost`` the spending per tenant that buys half of the rest. Each institution is
paid ``operating_subsidy`` every January and spends it over all its places: the places the
modelled start-ups leave free are held by start-ups and teams outside the firm table (see
docs/model.md, what tenants represent). Support is set at admission and renewed each January.
"""

from dataclasses import dataclass

import numpy as np

from sim.agents.firms import NEVER
from sim.agents.incubators import (
    Incubator,
    admit,
    graduate,
    incubation_candidates,
    support,
)
from sim.policies.lever_group import LeverGroup
from sim.schema import param
from sim.sources import ASSUMED, BASELINE, DOMAIN, OFF

MOST_2018 = "MOST incubator rules 2018 (Guokefaqu [2018] No. 300)"
MATCHED_SURVIVAL = (
    "matched studies: no survival gain after graduation (Schwartz 2013, J. Technol. Transf. 38), "
    "lower survival (Amezcua 2010, US)"
)
MATCHED_GROWTH = (
    "matched studies: faster employment and sales growth (Amezcua 2010, US); lower sales early, "
    "higher later, no job effect (Lukes, Longo & Zouhar 2019, Technovation 82-83)"
)


@dataclass(frozen=True, kw_only=True)
class IncubationLevers:
    """Incubators and other S&T service institutions."""

    existing_institutions: int = param(
        42, unit="count", lo=0, hi=10_000, source=BASELINE + ": 42 in 2020"
    )
    new_institutions_per_year: float = param(0.0, unit="count/yr", lo=0, hi=1000, source=OFF)
    area_per_institution: float = param(
        10_476.0,
        unit="m2",
        lo=0,
        hi=1e7,
        source=BASELINE + ": 44 x 10^4 m2 of incubation area over 42 institutions",
    )
    area_per_tenant: float = param(
        333.0,
        unit="m2/tenant",
        lo=1,
        hi=1e5,
        doc="incubation area a tenant takes, common space included",
        source=MOST_2018 + ": national incubators hold at least 3 tenants per 1,000 m2; "
        "range 200-614 (China 2012: 43 M m2, 70 thousand tenants)",
    )
    operating_subsidy: float = param(
        0.0,
        unit="M CNY/institution/yr",
        lo=0,
        source=OFF,
        doc="buys services (mentoring, shared labs, finance matching) for its places",
    )
    admission_max_age_months: int = param(
        24, unit="months", lo=0, source=MOST_2018 + ": tenants founded at most 24 months before"
    )
    min_tech_staff_share: float = param(
        0.1,
        unit="share",
        lo=0,
        hi=1,
        source=MOST_2018 + ": tenants meet the tech-SME requirements (below 10% tech staff a "
        "firm scores no tech-staff points)",
        doc="applicants need an R&D plan and at least this share of tech staff",
    )
    application_share: float = param(
        0.5,
        unit="share",
        lo=0,
        hi=1,
        doc="share of technology start-ups that seek a place",
        source=ASSUMED + "; range 0.2-0.95 (China 2012: over 95% of tech start-ups said to "
        "be in incubators)",
    )
    incubation_months: int = param(
        36,
        unit="months",
        lo=1,
        source=ASSUMED + "; range 24-48 (" + MOST_2018 + ": at most 48 months)",
    )
    service_half_cost: float = param(
        0.01,
        unit="M CNY/tenant/yr",
        lo=1e-6,
        doc="service spending per tenant that buys half the services' support",
        source=ASSUMED + "; range 0.005-0.03 (" + MOST_2018 + ": one service staff and one "
        "mentor per 10 tenants, ~0.1 M CNY a staff-year)",
    )
    space_support_share: float = param(
        0.25,
        unit="share",
        lo=0,
        hi=1,
        doc="share of full support that space alone gives",
        source=ASSUMED + "; range 0-0.5",
    )
    exit_hazard_factor: float = param(
        0.6,
        unit="x",
        lo=0,
        hi=1,
        doc="tenants' exit hazard multiplier with full support",
        source=DOMAIN
        + ": incubation raises start-up survival; level assumed, range 0.5-1.0 ("
        + MATCHED_SURVIVAL
        + ")",
    )
    growth_boost: float = param(
        0.05,
        unit="1/yr",
        lo=0,
        hi=1,
        doc="tenants' extra revenue drift with full support",
        source=ASSUMED + "; range 0-0.10 (" + MATCHED_GROWTH + ")",
    )


class Incubation(LeverGroup):
    """Service institutions: opened and subsidised each January; tenants every month."""

    name = "incubation"
    placements = {
        "incubated_until": NEVER,
        "incubator": 0,
        "growth_boost": 0.0,
        "exit_hazard_factor": 1.0,
    }

    def __init__(self, model, f):
        super().__init__(model, f)
        year = model.setup.baseline_year
        levers = self.levers_in(year)
        self.incubators = [
            Incubator(model, k + 1, levers, year) for k in range(levers.existing_institutions)
        ]
        self.opened = 0  # institutions opened since year 0

    def on_january(self, f, t: int, year: int) -> None:
        """New institutions open on the plan's schedule; every institution is subsidised.

        Its tenants' support follows the services this year's subsidy buys.
        """
        levers = self.levers_in(year)
        new = self.opened_by(year, "new_institutions_per_year") - self.opened
        for _ in range(new):
            number = len(self.incubators) + 1
            self.incubators.append(Incubator(self.model, number, levers, year))
        self.opened += new
        for incubator in self.incubators:
            incubator.subsidise(levers.operating_subsidy)
        subsidy = levers.operating_subsidy * len(self.incubators)
        self.government.record(self.name, subsidy)
        self.government.received(self.name, subsidy)
        support(f, np.flatnonzero(f.incubator != 0), self.incubators, levers)

    def every_month(self, f, t: int) -> None:
        """Tenants whose incubation ended leave; the most promising applicants fill the places."""
        free = graduate(f, t, self.incubators)
        room = int(free.sum())
        if room == 0:
            return
        levers = self.levers_in(self.model.date(t)[0])
        applicants = incubation_candidates(f, t, self.model.seed, levers, room)
        admit(f, applicants, free, t, self.incubators, levers)

    def stock_indicators(self, f) -> dict:
        """Municipal-or-higher S&T service institutions (plan indicator)."""
        return {"service_institutions": len(self.incubators)}
