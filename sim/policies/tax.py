"""Tax levers: the R&D super-deduction schedule and the high-tech (HNTE) income-tax rate.

The firm kernel reads these every month from ``model.policy``, so a dashboard or a script may
change them while a run goes on.
"""

from dataclasses import dataclass, field


@dataclass
class TaxPolicy:
    """Tax rules in force; mutable on purpose (live levers)."""

    standard_tax_rate: float
    hitech_tax_rate: float
    super_deduction_industrial: dict[int, float] = field(default_factory=dict)
    super_deduction_other: dict[int, float] = field(default_factory=dict)

    @classmethod
    def from_scenario(cls, policy) -> "TaxPolicy":
        """Copy the scenario's policy block into live state."""
        return cls(
            standard_tax_rate=policy.standard_tax_rate,
            hitech_tax_rate=policy.hitech_tax_rate,
            super_deduction_industrial=dict(policy.super_deduction_industrial),
            super_deduction_other=dict(policy.super_deduction_other),
        )

    def super_deduction(self, year: int, industrial: bool) -> float:
        """The extra deduction, as a share of R&D spend, in force in ``year``."""
        schedule = self.super_deduction_industrial if industrial else self.super_deduction_other
        rate = 0.0
        for since, value in sorted(schedule.items()):
            if since <= year:
                rate = value
        return rate
