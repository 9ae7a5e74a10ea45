"""``LeverGroup``: what every lever group (one module of ``sim/policies``) offers the schedule.

A lever group owns its parameters (a frozen dataclass at ``model.policy.<name>``), its mechanism
(the module docstring, which generates docs/levers.md) and its behaviour, written as calendar
hooks. ``InnovationEcosystem.step`` calls each hook of every group, in the order of
``sim.policies.LEVER_GROUPS``; a group overrides the hooks it needs. Hooks read the levers in
force in the year they act through one accessor, ``self.levers_in(year)``: the group's dataclass
with every schedule (``{ year = value }``) resolved to its value that year, so a hook sees plain
numbers, and a lever changed during a run acts from the next month. Yearly rates of the plan
(institutions opened, talents recruited a year) are summed year by year (``self.opened_by``).
Hooks act on the firm table's arrays (``f``) and on the institution agents the group owns; a
group declares the firm columns it places its state in (``placements``).
"""

from collections.abc import Callable
from operator import attrgetter

from sim.calendar import opened_over


class LeverGroup:
    """Base of the lever groups; every hook does nothing unless a group overrides it."""

    name = ""  # the group's key under ``policy`` and in the public ledger
    flows: tuple[str, ...] = ()  # its indicators that are flows of a year (none at year 0)
    # the firm columns it places its state in, each with its value when the group is closed
    # (the burn-in clears them: ``burn_in.clear_lever_placements``)
    placements: dict[str, object] = {}

    def __init__(self, model, f):
        self.model = model
        self.government = model.government

    def levers_in(self, year: int):
        """This group's levers in force in ``year``, every schedule resolved (cached)."""
        return self.levers_of(self.model.policy_in(year))

    @property
    def levers(self):
        """This group's levers in force in the current month's year (``levers_in``)."""
        return self.levers_in(self.model.current_year)

    def levers_of(self, policy):
        """This group's part of ``policy``."""
        return getattr(policy, self.name)

    def years_elapsed(self, year: int) -> int:
        """Full years since the baseline year (schedules of the plan count from it)."""
        return year - self.model.setup.baseline_year

    def opened_by(self, year: int, per_year: str | Callable[..., float]) -> int:
        """Units (institutions, recruits, firms) due by ``year`` at a yearly rate of the levers.

        ``per_year`` names the rate's lever, or computes it from the levers in force in a year;
        each year since the baseline year adds its own rate, so a rate that starts in a later
        year counts from that year only.
        """
        rate = attrgetter(per_year) if isinstance(per_year, str) else per_year
        years = range(self.model.setup.baseline_year + 1, year + 1)
        return opened_over([rate(self.levers_in(y)) for y in years])

    # --------------------------------------------------------------------- calendar hooks

    def on_january(self, f, t: int, year: int) -> None:
        """Before the firm step of a January: the year's allocations and recruitments."""

    def every_month(self, f, t: int) -> None:
        """Before the firm step of every month."""

    def on_deal_month(self, f, t: int, year: int) -> None:
        """Before the firm step of the first month of each quarter (``DEAL_MONTHS``)."""

    def arriving_firms(self, f, t: int, year: int) -> dict | None:
        """Columns of firms that join the district in January (before the firm step), if any."""
        return None

    def in_force(self, year: int) -> dict:
        """This group's fields of the ``PolicyInForce`` the firm kernel reads this month."""
        return {}

    def on_december(self, f, t: int, year: int, before: dict) -> None:
        """31 December, after the status rounds (``before``: statuses before them)."""

    # ------------------------------------------------------------------------ indicators

    def indicators(self, f, year: int) -> dict:
        """The group's indicators on 31 December."""
        return self.stock_indicators(f) | self.flow_indicators(f, year)

    def year0_indicators(self, f) -> dict:
        """The group's indicators at year 0: stocks; flows are not observed."""
        return self.stock_indicators(f) | dict.fromkeys(self.flows)

    def stock_indicators(self, f) -> dict:
        """Indicators that are stocks, known at year 0 too."""
        return {}

    def flow_indicators(self, f, year: int) -> dict:
        """Indicators of the year's flows (not observed at year 0)."""
        return {}
