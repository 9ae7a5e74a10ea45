"""Tax levers: the R&D super-deduction schedule and the high-tech (HNTE) income-tax rate.

The firm kernel reads them every month (``PolicyInForce``): the super-deduction lowers the
after-tax user cost of R&D, the 15% rate rewards certification. Their fields sit at the top of
``policy`` (``policy.hitech_tax_rate``, ``policy.super_deduction_industrial``, ...): ``Policy``
takes them from ``TaxLevers``.
"""

from dataclasses import dataclass

from sim.calendar import scheduled
from sim.policies.lever_group import LeverGroup
from sim.schema import param
from sim.sources import DOMAIN


@dataclass(frozen=True, kw_only=True)
class TaxLevers:
    """Corporate income tax on firms, and its R&D incentives."""

    standard_tax_rate: float = param(0.25, unit="share", lo=0, hi=1, source="CIT law")
    hitech_tax_rate: float = param(0.15, unit="share", lo=0, hi=1, source="HNTE rules")
    super_deduction_industrial: dict[int, float] = param(
        {2018: 0.75, 2021: 1.0},
        unit="share of R&D",
        lo=0,
        hi=3,
        source=DOMAIN + ": 75% from 2018, 100% manufacturing from 2021",
        doc="year = rate, held until the next year listed",
    )
    super_deduction_other: dict[int, float] = param(
        {2018: 0.75, 2023: 1.0},
        unit="share of R&D",
        lo=0,
        hi=3,
        source=DOMAIN + ": 100% for all firms from 2023",
    )


class Tax(LeverGroup):
    """Sets the rates and deductions of the month's firm step."""

    name = "tax"

    @property
    def levers(self) -> TaxLevers:
        """The tax levers in force (fields of ``policy`` itself)."""
        return self.model.policy

    def in_force(self, year: int) -> dict:
        """Income-tax rates and the super-deduction in force in ``year``."""
        return {
            "tax_standard": self.levers.standard_tax_rate,
            "tax_hitech": self.levers.hitech_tax_rate,
            "super_deduction_industrial": super_deduction(self.levers, year, industrial=True),
            "super_deduction_other": super_deduction(self.levers, year, industrial=False),
        }


def super_deduction(levers: TaxLevers, year: int, industrial: bool) -> float:
    """The extra deduction, as a share of R&D spend, in force in ``year``."""
    schedule = levers.super_deduction_industrial if industrial else levers.super_deduction_other
    return scheduled(schedule, year)
