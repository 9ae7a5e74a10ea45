"""The model's calendar: month indices, years, deal months and year-keyed schedules.

Month index ``t = 0`` is the scenario's first month; ``t = -1`` is 31 December of the baseline
year, the state the population describes. The model, the reference and experiments all turn a
month index into a date here.
"""

DEAL_MONTHS = (1, 4, 7, 10)  # guidance funds invest and sell at the start of each quarter


def calendar(start_year: int, start_month: int, t: int) -> tuple[int, int]:
    """(year, month of year 1-12) of month index ``t``."""
    months = start_month - 1 + t
    return start_year + months // 12, months % 12 + 1


def year_ends(start_year: int, start_month: int, horizon_months: int) -> list[int]:
    """The years whose 31 December falls within the first ``horizon_months`` months."""
    dates = (calendar(start_year, start_month, t) for t in range(horizon_months))
    return [year for year, month_of_year in dates if month_of_year == 12]


def scheduled(schedule: float | dict[int, float], year: int, off: float = 0.0) -> float:
    """The value in force in ``year`` of a number or a ``year = value`` step schedule.

    A number is in force every year. Each value of a schedule is in force from its year until
    the next year listed; before the first year the value is ``off``.
    """
    if not isinstance(schedule, dict):
        return schedule
    value = off
    for since, rate in sorted(schedule.items()):
        if since <= year:
            value = rate
    return value


def opened_by(per_year: float, years_elapsed: int) -> int:
    """Units (institutions, recruits) due after ``years_elapsed`` years at ``per_year``."""
    return int(per_year * years_elapsed + 1e-9)


def opened_over(rates: list[float]) -> int:
    """Units due after the years whose yearly rates are ``rates``, one a year in order.

    A rate held for ``n`` years counts ``rate * n``, so a rate that never changes gives the
    same count as ``opened_by``.
    """
    total, rate, held = 0.0, 0.0, 0
    for r in rates:
        if held and r != rate:
            total += rate * held
            held = 0
        rate = r
        held += 1
    return int(total + rate * held + 1e-9)
