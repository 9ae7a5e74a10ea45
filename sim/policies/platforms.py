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

import numpy as np

from sim.agents.institutes import University
from sim.policies.lever_group import LeverGroup
from sim.ranking import first_k
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


INSTITUTE_KINDS = {  # kind: its opening rate among the levers
    "new_rd_institutes": "new_rd_institutes_per_year",
    "industry_research_institutes": "industry_research_institutes_per_year",
    "rd_branches": "rd_branches_per_year",
}


class Platforms(LeverGroup):
    """Institutes open each January; platforms recognised and contracts booked on 31 December."""

    name = "platforms"
    flows = ("tech_contract_value",)

    def __init__(self, model, f):
        super().__init__(model, f)
        levers = self.levers_in(model.setup.baseline_year)
        self.universities = [University(model, k) for k in range(levers.universities)]
        self.institutes = dict.fromkeys(INSTITUTE_KINDS, 0)  # opened since year 0, by kind
        self.recognised = 0  # platforms recognised since year 0
        self.services_share = self._services_share(model, f)
        self._place_existing_platforms(f, levers.existing_platforms)

    def on_january(self, f, t: int, year: int) -> None:
        """Institutes open on the plan's schedule and are paid their running costs."""
        levers = self.levers_in(year)
        for kind, rate in INSTITUTE_KINDS.items():
            self.institutes[kind] = self.opened_by(year, rate)
        cost = levers.institute_cost * sum(self.institutes.values())
        self.government.record(self.name, cost)
        self.government.received(self.name, cost)

    def in_force(self, year: int) -> dict:
        """The share of R&D firms buy as services (technology contracts)."""
        return {"services_share": self.services_share}

    def on_december(self, f, t: int, year: int, before: dict) -> None:
        """Recognise the year's new platforms; universities book their contracts."""
        self.recognise_platforms(f, t, year)
        for university in self.universities:
            university.book_contracts(f, year, len(self.universities))

    def recognise_platforms(self, f, t: int, year: int) -> None:
        """The year's quota of new municipal R&D platforms, in the certified firms with most R&D."""
        levers = self.levers_in(year)
        quota = self.opened_by(year, "new_platforms_per_year") - self.recognised
        if quota <= 0:
            return
        rows = np.flatnonzero(
            f.alive & (f.hitech_until > t) & ~f.platform & (f.rd_history[:, 0] >= levers.min_rd)
        )
        chosen = rows[first_k(-f.rd_history[rows, 0], quota)]
        f.platform[chosen] = True
        self.recognised += quota
        self.government.pay_firms(f, chosen, np.full(len(chosen), levers.platform_award), self.name)

    def stock_indicators(self, f) -> dict:
        """Platforms and institutes (plan indicators)."""
        return {
            "rd_platforms": self.external_platforms + int(np.count_nonzero(f.alive & f.platform)),
            "new_rd_institutes": self.levers_in(self.model.year).existing_new_rd_institutes
            + self.institutes["new_rd_institutes"],
            "industry_research_institutes": self.institutes["industry_research_institutes"],
            "rd_branches": self.institutes["rd_branches"],
        }

    def flow_indicators(self, f, year: int) -> dict:
        """Technology-contract turnover of the year (plan unit: 100 M CNY)."""
        return {"tech_contract_value": float(f.services_bought_ytd.sum()) / 100.0}

    def year0_indicators(self, f) -> dict:
        """Year 0: contract turnover is the calibrated share of the year's R&D."""
        values = super().year0_indicators(f)
        values["tech_contract_value"] = self.services_share * float(f.rd_history[f.alive, 0].sum())
        values["tech_contract_value"] /= 100.0
        return values

    def _services_share(self, model, f) -> float:
        """Share of R&D bought as services: set, or calibrated to year-0 contract turnover."""
        share = self.levers_in(model.setup.baseline_year).services_share
        row = model.setup.plan.get("tech_contract_value")
        rd = float(f.rd_history[f.alive, 0].sum())
        if share == 0.0 and row is not None and rd > 0:
            share = min(1.0, row.baseline * 100.0 / rd)  # plan unit: 100 M CNY
        return share

    def _place_existing_platforms(self, f, count: int) -> None:
        """Year-0 platforms sit in the recognised firms with the most R&D; the rest elsewhere."""
        recognised = f.alive & (f.tech_sme | (f.hitech_until > -1))
        rows = np.flatnonzero(recognised)
        chosen = rows[first_k(-f.rd_history[rows, 0], count)]
        f.platform[chosen] = True
        self.external_platforms = count - len(chosen)
