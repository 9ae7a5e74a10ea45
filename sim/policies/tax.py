"""Tax levers: the R&D super-deduction schedule and the high-tech (HNTE) income-tax rate.

They are declared in ``sim.scenario.Policy`` (standard_tax_rate, hitech_tax_rate,
super_deduction_industrial, super_deduction_other).

The firm kernel reads them every month through the model's policy: the super-deduction lowers
the after-tax user cost of R&D, the 15% rate rewards certification.
"""


def scheduled(schedule: dict[int, float], year: int) -> float:
    """The value of a ``year = value`` step schedule in force in ``year`` (0 before the first)."""
    value = 0.0
    for since, rate in sorted(schedule.items()):
        if since <= year:
            value = rate
    return value


def super_deduction(policy, year: int, industrial: bool) -> float:
    """The extra deduction, as a share of R&D spend, in force in ``year``."""
    schedule = policy.super_deduction_industrial if industrial else policy.super_deduction_other
    return scheduled(schedule, year)
