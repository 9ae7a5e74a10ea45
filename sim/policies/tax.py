"""Tax levers: the R&D super-deduction schedule and the high-tech (HNTE) income-tax rate.

The firm kernel reads them every month (``PolicyInForce``): the super-deduction lowers the
after-tax user cost of R&D, the 15% rate rewards certification. Their fields sit at the top of
``policy`` (``policy.hitech_tax_rate``, ``policy.super_deduction_industrial``, ...): ``Policy``
takes them from ``TaxLevers``. Like every lever, each is a number or a year = value schedule;
the super-deduction and loss carry-forward default to the national schedules.
"""

from dataclasses import dataclass

from sim.policies.lever_group import LeverGroup
from sim.schema import param
from sim.sources import DOMAIN


@dataclass(frozen=True, kw_only=True)
class TaxLevers:
    """Corporate income tax on firms, and its R&D incentives."""

    standard_tax_rate: float = param(0.25, unit="share", lo=0, hi=1, source="CIT law")
    hitech_tax_rate: float = param(0.15, unit="share", lo=0, hi=1, source="HNTE rules")
    super_deduction_industrial: float = param(
        {2018: 0.75, 2021: 1.0},
        unit="share of R&D",
        lo=0,
        hi=3,
        source=DOMAIN + ": 75% from 2018, 100% manufacturing from 2021",
        doc="year = rate, held until the next year listed",
    )
    super_deduction_other: float = param(
        {2018: 0.75, 2023: 1.0},
        unit="share of R&D",
        lo=0,
        hi=3,
        source=DOMAIN + ": 100% for all firms from 2023",
    )
    super_deduction_tech_sme: float = param(
        {2017: 0.75, 2022: 1.0},
        unit="share of R&D",
        lo=0,
        hi=3,
        source=DOMAIN + ": Caishui [2017] No. 34 (75%), 100% for tech SMEs from 2022",
        doc="registered tech SMEs deduct the larger of this and their sector's rate",
    )
    loss_carry_years: float = param(
        {2008: 5},
        unit="yr",
        lo=0,
        hi=10,
        source="CIT law (2008): losses carried forward 5 years",
    )
    loss_carry_years_recognised: float = param(
        {2008: 5, 2018: 10},
        unit="yr",
        lo=0,
        hi=10,
        source=DOMAIN + ": Caishui [2018] No. 76, 10 years for certified firms and tech SMEs",
    )


class Tax(LeverGroup):
    """Sets the rates and deductions of the month's firm step."""

    name = "tax"

    def levers_of(self, policy) -> TaxLevers:
        """The tax levers: fields of ``policy`` itself."""
        return policy

    def in_force(self, year: int) -> dict:
        """Income-tax rates, the super-deduction and loss carry-forward in force in ``year``."""
        levers = self.levers_in(year)
        return {
            "tax_standard": levers.standard_tax_rate,
            "tax_hitech": levers.hitech_tax_rate,
            "super_deduction_industrial": levers.super_deduction_industrial,
            "super_deduction_other": levers.super_deduction_other,
            "super_deduction_tech_sme": levers.super_deduction_tech_sme,
            "loss_carry_years": levers.loss_carry_years,
            "loss_carry_years_recognised": levers.loss_carry_years_recognised,
        }

    def on_december(self, f, t: int, year: int, before: dict) -> None:
        """Book the year's revenue forgone through each tax lever (the year-end kernel's)."""
        alive = f.alive
        self.government.forgo("super_deduction", float(f.forgone_deduction_last_year[alive].sum()))
        self.government.forgo("hitech_tax_rate", float(f.forgone_rate_last_year[alive].sum()))
