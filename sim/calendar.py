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


def scheduled(schedule: dict[int, float], year: int) -> float:
    """The value of a ``year = value`` step schedule in force in ``year`` (0 before the first)."""
    value = 0.0
    for since, rate in sorted(schedule.items()):
        if since <= year:
            value = rate
    return value


def opened_by(per_year: float, years_elapsed: int) -> int:
    """Units (institutions, recruits) due after ``years_elapsed`` years at ``per_year``."""
    return int(per_year * years_elapsed + 1e-9)
