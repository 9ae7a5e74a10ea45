"""Talent programmes (鸿雁计划, 重庆英才计划) and S&T commissioners (科技特派员).

Each January the year's high-end talents are recruited (a share of them academician-level
A/B talent) and placed in the registered or certified firms with the most R&D, at most three per
firm; each talent is an agent, adds one tech staff and raises the firm's innovation rate, and
the firm receives a yearly salary subsidy. Commissioners are dispatched to industrial firms
outside the high-tech industries (food, materials, equipment), chosen by lottery; a visit
raises the firm's innovation rate for the year.
"""

from dataclasses import dataclass

import numpy as np

from sim import rng
from sim.agents.talent import Talent
from sim.policies.lever_group import LeverGroup
from sim.ranking import first_k
from sim.schema import param
from sim.sources import ASSUMED, BASELINE, OFF, PLAN


@dataclass(frozen=True, kw_only=True)
class TalentLevers:
    """High-end talent recruitment and S&T commissioners."""

    existing_talents: int = param(
        35, unit="persons", lo=0, hi=1_000_000, source=BASELINE + ": 35 in 2020"
    )
    existing_top_talents: int = param(
        1, unit="persons", lo=0, hi=1_000_000, source=PLAN + ": 1 in 2020"
    )
    recruits_per_year: float = param(0.0, unit="persons/yr", lo=0, hi=100_000, source=OFF)
    top_talent_share: float = param(
        0.032, unit="share", lo=0, hi=1, source="plan ratio: 4 more top talents of 125 recruits"
    )
    salary_subsidy: float = param(0.1, unit="M CNY/person/yr", lo=0, source=ASSUMED)
    innovation_boost: float = param(
        0.3, unit="x zeta per talent", lo=0, source=ASSUMED, doc="added to the firm's multiplier"
    )
    max_per_firm: int = param(3, unit="persons", lo=1, hi=1000, source=ASSUMED)
    commissioners_per_year: float = param(0.0, unit="dispatches/yr", lo=0, hi=100_000, source=OFF)
    commissioner_cost: float = param(0.01, unit="M CNY/dispatch", lo=0, source=ASSUMED)
    commissioner_boost: float = param(0.2, unit="x zeta", lo=0, source=ASSUMED)


class TalentProgrammes(LeverGroup):
    """Recruits and places talents, dispatches commissioners, each January."""

    name = "talent"
    flows = ("tech_commissioners",)
    placements = {"talents": 0, "commissioner_visits": 0}

    def __init__(self, model, f):
        super().__init__(model, f)
        self.talents: list[Talent] = []
        self.top_talents = 0  # recruited since year 0
        self.dispatches = 0  # commissioner dispatches this year

    def on_january(self, f, t: int, year: int) -> None:
        """Recruit and place the year's talents, then dispatch the commissioners."""
        self.recruit(year)
        self.place_talents(f, t, year)
        self.dispatch_commissioners(f, t, year)

    def recruit(self, year: int) -> None:
        """The talents the plan's schedule brings in by this year, a share of them top class."""
        due = self.opened_by(year, "recruits_per_year") - len(self.talents)
        top_due = self.opened_by(
            year, lambda levers: levers.recruits_per_year * levers.top_talent_share
        )
        for _ in range(due):
            top = self.top_talents < top_due
            self.talents.append(Talent(self.model, top_class=top, recruited_year=year))
            self.top_talents += top

    def place_talents(self, f, t: int, year: int) -> None:
        """Unplaced talents go to the recognised firms with most R&D; salaries are subsidised."""
        levers = self.levers_in(year)
        for talent in self.talents:
            talent.step(f)
        unplaced = [talent for talent in self.talents if not talent.placed]
        recognised = f.tech_sme | (f.hitech_until >= t)
        rows = np.flatnonzero(f.alive & recognised & (f.talents < levers.max_per_firm))
        hosts = rows[first_k(-f.rd_history[rows, 0], len(unplaced))]  # most R&D first
        for talent, firm in zip(unplaced, hosts.tolist(), strict=False):
            talent.firm = firm
        # one talent per host firm: whole-array updates, as one firm at a time would give
        f.talents[hosts] += 1
        f.tech_staff[hosts] = np.minimum(f.tech_staff[hosts] + 1.0, f.employees[hosts] + 1.0)
        f.employees[hosts] += 1.0
        placed = np.array([talent.firm for talent in self.talents if talent.placed], dtype=int)
        amounts = np.full(len(placed), levers.salary_subsidy)
        self.government.pay_firms(f, placed, amounts, self.name)

    def dispatch_commissioners(self, f, t: int, year: int) -> None:
        """Send the year's S&T commissioners to traditional industrial firms, by lottery."""
        levers = self.levers_in(year)
        f.commissioner_visits[:] = 0
        due = self.opened_by(year, "commissioners_per_year") - self.opened_by(
            year - 1, "commissioners_per_year"
        )
        flags = self.model.sector_flags
        traditional = flags["industrial"][f.sector] & ~flags["hitech_industry"][f.sector]
        rows = np.flatnonzero(f.alive & traditional)
        draws = rng.uniforms(self.model.seed, t, rows.astype(np.int64), rng.COMMISSIONER)
        chosen = rows[first_k(draws, due)]
        f.commissioner_visits[chosen] = 1
        self.dispatches = len(chosen)
        cost = levers.commissioner_cost * len(chosen)
        self.government.record(self.name, cost)
        self.government.received(self.name, cost)

    def stock_indicators(self, f) -> dict:
        """High-end and top (A/B class) talents in the district (plan indicators)."""
        levers = self.levers_in(self.model.year)
        return {
            "high_end_talent": levers.existing_talents + len(self.talents),
            "top_talent_ab": levers.existing_top_talents + self.top_talents,
        }

    def flow_indicators(self, f, year: int) -> dict:
        """Commissioner dispatches of the year."""
        return {"tech_commissioners": self.dispatches}
