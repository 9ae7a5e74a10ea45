"""``InnovationEcosystem``: the Mesa model and its monthly schedule.

``step`` is the schedule, phase by phase: the lever groups act (January allocations, every
month's lending and incubation, quarterly fund deals), attracted firms arrive, the firm kernel
advances every firm, exited firms leave and new firms are born; on 31 December the firms book
their year and the status rounds run, the lever groups pay awards and close their books, and
Mesa's DataCollector collects the yearly indicators. Each phase calls the lever groups
(``sim/policies``) in the order of ``LEVER_GROUPS``.
"""

from collections.abc import Callable

import mesa
import numpy as np
import pandas as pd

from sim.agents import burn_in, ladder
from sim.agents.firms import FIRM_COLUMNS, Firm, FirmTable
from sim.agents.government import COST_INDICATORS, Government
from sim.agents.kernels import SET_SIZE_EFFECTS, close_year, step_month
from sim.agents.population import (
    births_this_month,
    entrants,
    high_growth_take_up,
    initial_population,
)
from sim.agents.rules import PolicyInForce, build_rules, build_sector_params, rules_in_year
from sim.calendar import DEAL_MONTHS, calendar
from sim.indicators import (
    COUNT_INDICATORS,
    INDICATORS,
    RegionClosure,
    firm_totals,
    sector_flags,
    status_flows,
)
from sim.policies import LEVER_GROUPS, update_innovation_boost
from sim.policies.certification import ladder_awards
from sim.schema import in_year, replace_validated

AGENT_MODES = ("full", "lean")
# Flows that are not known for year 0 (the population describes a stock, not its last year).
NOT_OBSERVED_IN_YEAR_0 = (
    "births",
    "exits",
    "hitech_new",
    "hitech_lapsed",
    "tech_smes_new",
    "tech_smes_left",
    "invention_applications",
    "invention_grants",
    "firm_tax",
    "business_rd_relabelled",
    "firm_payouts",
    "tax_expenditure_super_deduction",
    "tax_expenditure_hitech_tax_rate",
    "public_cost_total",
)
# Columns of the yearly frame whose type is not the one pandas infers: counts are nullable
# integers (no count in year 0 for flows).
INDICATOR_DTYPES = {"year": "int64"} | dict.fromkeys(COUNT_INDICATORS, "Int64")
# Yearly firm counters that the lever groups read on 31 December, then start again at zero.
YEARLY_FIRM_COUNTERS = (
    "voucher_used_ytd",
    "services_bought_ytd",
    "major_products_ytd",
    "interest_ytd",
    "public_receipts_ytd",
    "rd_relabelled_ytd",
    "payout_ytd",
)


class InnovationEcosystem(mesa.Model):
    """The regional innovation ecosystem of one scenario.

    Args:
        setup: a validated ``Scenario``.
        seed: seed of every random stream; defaults to the scenario's.
        agents: ``"full"`` makes a ``Firm`` agent per firm; ``"lean"`` makes none (large runs)
            and gives identical indicators.
        collect_firms: also collect every firm's state each 31 December (agent-type reporters;
            needs ``agents="full"``).
    """

    FIRM_AGENTS: tuple[type, ...] = (Firm,)  # agents that are firms; the others serve levers

    def __init__(self, *, setup, seed: int | None = None, agents: str = "full",
                 collect_firms: bool = False):  # fmt: skip
        if agents not in AGENT_MODES:
            raise ValueError(f"agents must be one of {AGENT_MODES}, not {agents!r}")
        if collect_firms and agents != "full":
            raise ValueError("collect_firms needs agents='full'")
        self.seed = setup.scenario.seed if seed is None else int(seed)
        super().__init__(rng=self.seed)
        self.setup = setup
        self.agent_mode = agents
        self.month = -1  # the clock: month index of the month stepped last (-1: year 0's end)
        self.policy = setup.policy  # the levers as given (numbers or schedules); set_lever
        self._resolved: tuple = (None, {})  # (policy, {year: policy in force}) of policy_in
        self.declared_rules = build_rules(setup)
        self.rules = rules_in_year(self.declared_rules, self.current_year)  # rules in force
        self.sector_params = build_sector_params(setup)
        self.sector_flags = sector_flags(setup)
        self.firms = FirmTable(capacity=self._expected_firms())
        self.firm_agents: dict[int, Firm] = {}
        self.births_this_year = 0
        self.exits_this_year = 0
        self._entrants_due: dict[int, tuple[int, dict]] = {}  # month: (first id, columns)
        self.indicators: dict[str, float | None] = {}

        year0 = initial_population(setup, self.seed)
        # the upper rungs: year-0 holders and each status's cost, calibrated on the plan's counts
        # (before the high-growth take-up, which reads the histories a little giant may need)
        self.ladder_costs = ladder.recognise_year0(
            setup, self.seed, year0, self.ladder_worth(setup.baseline_year)
        )
        self.sector_params.high_growth_take_up[:] = high_growth_take_up(setup, self.seed, year0)
        self._add_firms(year0)
        self.recording = True  # False during a burn-in: its years are not collected
        self.burn_in(setup.scenario.burn_in_years)
        self._open_lever_groups()
        totals = self._firm_totals()
        self.closure = RegionClosure.calibrate(setup, totals)
        f = self.firms.arrays()
        self.datacollector = mesa.DataCollector(
            model_reporters={"year": "year"} | {name: _reporter(name) for name in INDICATORS},
            agenttype_reporters={Firm: _firm_reporters()} if collect_firms else None,
        )
        self._record_year(totals, self._year0_lever_indicators(f), observed=False)

    # ------------------------------------------------------------------------------ clock

    @property
    def current_year(self) -> int:
        """The calendar year of the current month."""
        return self.date(self.month)[0]

    @property
    def year(self) -> int:
        """The year of the latest 31 December reached."""
        year, month_of_year = self.date(self.month)
        return year if month_of_year == 12 else year - 1

    def date(self, t: int) -> tuple[int, int]:
        """(year, month of year 1-12) of month index ``t``."""
        info = self.setup.scenario
        return calendar(info.start_year, info.start_month, t)

    # --------------------------------------------------------------------------- schedule

    def step(self) -> None:
        """One month of the district."""
        self.month += 1
        t = self.month
        year, month_of_year = self.date(t)
        self.rules = rules_in_year(self.declared_rules, self.in_force_year(year))
        f = self.firms.arrays()
        if month_of_year == 1:
            self._lever_groups("on_january", f, t, year)
            update_innovation_boost(self.policy_in(year), f)
        self._lever_groups("every_month", f, t)
        if month_of_year in DEAL_MONTHS:
            self._lever_groups("on_deal_month", f, t, year)
        if month_of_year == 1:
            self._firms_arrive(f, t, year)  # entrants' ids are drawn in January, after these
        self.step_firms(t, self.policy_in_force(year))
        self._remove_exited(t)
        self._add_entrants(t)
        if month_of_year == 12:
            self._close_year(t, year)

    def burn_in(self, years: int) -> None:
        """``years`` of the district before year 0 (``sim/agents/burn_in.py``).

        The drawn population is the state ``years`` before the baseline year; the district lives
        those years under the baseline year's policies and rules (``in_force_year``), the lever
        groups included, and nothing is recorded. Then the lever groups close: their books,
        agents and placements go, and they open afresh at year 0 as without a burn-in; the
        firms' counts go back to the year-0 ones.
        """
        if years == 0:
            return
        counts = burn_in.anchored_counts(self.firms.arrays())
        start = -12 * years
        burn_in.shift_back(self.firms.arrays(), -start)
        self._open_lever_groups()
        self.recording = False
        self.month = start - 1
        for _ in range(-start):
            self.step()
        self.recording = True
        for agent in list(self.agents):
            if not isinstance(agent, self.FIRM_AGENTS):
                agent.remove()
        burn_in.clear_lever_placements(self.firms.arrays(), self.groups.values())
        self._unfound(burn_in.surplus_firms(self.firms.arrays(), counts["firms"], start))
        missing = burn_in.missing_firms(self, counts["firms"])
        if missing is not None:
            gap = self.setup.firms.entrant_productivity_gap
            self._add_firms(self._at_sector_productivity(missing, gap))
        burn_in.re_anchor_statuses(self, counts)
        self.births_this_year = self.exits_this_year = 0

    def _open_lever_groups(self) -> None:
        """The government and the lever groups, placing their year-0 state in the firms."""
        self.government = Government(self)
        self.groups = {group.name: group(self, self.firms.arrays()) for group in LEVER_GROUPS}

    def step_firms(self, t: int, policy: PolicyInForce) -> None:
        """The firm kernel: market, R&D, innovation, patents, staff, accounts, exit."""
        step_month(self.firms.arrays(), self.sector_params, self.rules, t, self.seed, policy)

    def close_firm_years(self, t: int) -> None:
        """The year-end kernel: firms book their year; certification and registry rounds."""
        year = self.date(t)[0]
        bonus = self.policy_in(year).certification_support.pass_bonus
        policy = self.policy_in_force(year)
        close_year(self.firms.arrays(), self.sector_params, self.rules, t, self.seed, policy, bonus)

    def ladder_worth(self, year: int) -> dict[str, float]:
        """What each upper rung is worth to a firm seeking it in ``year`` (M CNY)."""
        support = self.policy_in(year).certification_support
        return ladder.benefit(self.setup.ladder, ladder_awards(support))

    def ladder_rounds(self, t: int, year: int) -> dict:
        """31 December, after the kernels' rounds: the upper rungs of the ladder."""
        return ladder.year_end(
            self.firms.arrays(), self.setup.ladder, t, self.seed, self.ladder_costs,
            self.ladder_worth(year), self.sector_params.industrial,
        )  # fmt: skip

    def in_force_year(self, year: int) -> int:
        """The year whose policies and rules are in force in ``year``.

        Before year 0 (a burn-in) it is the baseline year.
        """
        return max(year, self.setup.baseline_year)

    def policy_in(self, year: int):
        """The levers in force in ``year``: ``policy`` with every schedule resolved (cached)."""
        year = self.in_force_year(year)
        policy, years = self._resolved
        if policy is not self.policy:
            policy, years = self._resolved = (self.policy, {})
        if year not in years:
            years[year] = in_year(policy, year)
        return years[year]

    def policy_in_force(self, year: int) -> PolicyInForce:
        """The policy the firm kernel reads this month, gathered from the lever groups."""
        fields = {}
        for group in self.groups.values():
            fields |= group.in_force(year)
        return PolicyInForce(**fields)

    def _close_year(self, t: int, year: int) -> None:
        """31 December: firms' year end and status rounds, lever groups, books, indicators."""
        f = self.firms.arrays()
        before = {"hitech_until": f.hitech_until.copy(), "tech_sme": f.tech_sme.copy()}
        profit = f.profit_ytd.copy()
        self.close_firm_years(t)
        flows = status_flows(f, t, before)
        ladder.update_profit_history(f, profit)
        before["ladder_granted"] = self.ladder_rounds(t, year)
        self._lever_groups("on_december", f, t, year, before)
        update_innovation_boost(self.policy_in(year), f)
        if not self.recording:
            self._close_books(f, year)
            return
        lever_indicators = self._lever_indicators(f, year)
        totals = self._firm_totals(t) | flows
        self._close_books(f, year)
        self._record_year(totals, lever_indicators, observed=True)

    def _lever_groups(self, hook: str, *args) -> None:
        for group in self.groups.values():
            getattr(group, hook)(*args)

    def _firms_arrive(self, f, t: int, year: int) -> None:
        for group in self.groups.values():
            columns = group.arriving_firms(f, t, year)
            if columns is not None:
                self._add_firms(self._at_sector_productivity(columns, gap=0.0))

    def _close_books(self, f, year: int) -> None:
        """The government records what recipients received; yearly counters start again."""
        credit, funds = self.groups["credit"], self.groups["guidance_funds"]
        self.government.close_accounts(f, year, credit.bank, list(funds.funds.values()))
        for name in YEARLY_FIRM_COUNTERS:
            getattr(f, name)[:] = 0

    def set_lever(self, key: str, value) -> None:
        """Change a lever from the next month on, validated like a scenario file.

        ``key`` is a dotted name under ``policy``, e.g. ``"vouchers.budget"``; ``value`` a number
        or a schedule ``{year: value}``.
        """
        self.policy = replace_validated(self.policy, key, value, f"policy.{key}")

    def run(self, months: int, on_month: Callable[[int, int], None] | None = None) -> None:
        """Run ``months`` months, calling ``on_month(done, months)`` after each."""
        for done in range(1, months + 1):
            self.step()
            if on_month is not None:
                on_month(done, months)

    # ---------------------------------------------------------------------------- results

    def yearly_indicators(self):
        """One row per 31 December: ``year`` and every indicator id.

        Built column by column from what the DataCollector collected: the same frame as
        ``get_model_vars_dataframe().astype(INDICATOR_DTYPES)`` without a float round trip
        of the counts.
        """
        collected = self.datacollector.model_vars
        return pd.DataFrame(
            {
                name: pd.array(values, dtype=INDICATOR_DTYPES[name])
                if name in INDICATOR_DTYPES
                else values
                for name, values in collected.items()
            }
        )

    # ------------------------------------------------------------------------- internals

    def _expected_firms(self) -> int:
        sectors = self.setup.population.sectors
        start = sum(s.year0_firms for s in sectors)
        info = self.setup.scenario
        years = info.horizon_months / 12 + info.burn_in_years
        births = sum(s.births_per_year for s in sectors) * years
        return int(start + 1.5 * births + 64)

    def _add_firms(self, columns: dict[str, np.ndarray]) -> None:
        count = len(columns["sector"])
        first = len(self.firms)
        defaults = ladder.new_firm_columns(self.setup.ladder, self.seed, first, count)
        rows = self.firms.append(defaults | columns)
        if len(rows):
            f, start, stop = self.firms.arrays(), int(rows[0]), int(rows[-1]) + 1
            SET_SIZE_EFFECTS(f, self.sector_params, self.rules, start, stop)
        if self.agent_mode == "full":
            for row in rows:
                self.firm_agents[int(row)] = Firm(self, row)

    def _at_sector_productivity(self, columns: dict, gap: float) -> dict:
        """New firms start ``gap`` below their sector's mean productivity of the month."""
        mean = self.sector_params.mean_productivity[columns["sector"]]
        return columns | {"productivity": mean - gap}

    def _remove_exited(self, t: int) -> None:
        # an operating firm's exit month is -1, a month of the burn-in: the month alone does
        # not tell, but outside month -1 it leaves a few rows to test
        exited = np.flatnonzero(self.firms.column("exit_month") == t)
        exited = exited[~self.firms.column("alive")[exited]]
        self.exits_this_year += len(exited)
        self._remove_agents(exited)

    def _unfound(self, rows: np.ndarray) -> None:
        """Firms that were never founded after all (the burn-in's surplus)."""
        f = self.firms.arrays()
        f.alive[rows] = False
        f.exit_month[rows] = f.birth_month[rows]  # before year 0: no year counts them
        self._remove_agents(rows)

    def _remove_agents(self, rows: np.ndarray) -> None:
        if not self.firm_agents:  # lean runs: no agents to remove
            return
        for row in rows:
            agent = self.firm_agents.pop(int(row), None)
            if agent is not None:
                agent.remove()

    def _add_entrants(self, t: int) -> None:
        """This month's new firms; those of the months to December are drawn together."""
        if t not in self._entrants_due:
            self._entrants_due = self._entrants_to_december(t)
        first_id, columns = self._entrants_due.pop(t)
        if first_id != len(self.firms):
            raise RuntimeError("firms were added after January: entrant ids drawn then are taken")
        count = len(columns["sector"])
        if count:
            gap = self.setup.firms.entrant_productivity_gap
            self._add_firms(self._at_sector_productivity(columns, gap))
            self.births_this_year += count

    def _entrants_to_december(self, t: int) -> dict[int, tuple[int, dict]]:
        """(first id, columns) of the new firms of each month from ``t`` to December.

        Firms join only in January (attraction) besides entrants, so the ids of the year's
        entrants are known in its first month, and a firm's draws depend on its id and the
        month only: the same firms as drawn month by month.
        """
        _, month_of_year = self.date(t)
        months = np.arange(t, t + 13 - month_of_year)
        births = np.array([births_this_month(self.setup, self.seed, m) for m in months])
        columns = entrants(self.setup, self.seed, months, len(self.firms), births)
        ends = np.cumsum(births.sum(axis=1))
        starts = ends - births.sum(axis=1)
        return {
            int(month): (len(self.firms) + start, {k: v[start:end] for k, v in columns.items()})
            for month, start, end in zip(months, starts, ends, strict=True)
        }

    def _firm_totals(self, month: int = -1) -> dict[str, float]:
        return firm_totals(
            self.firms.arrays(),
            self.sector_flags,
            self.setup.population.above_scale_revenue,
            month,
        )

    def _lever_indicators(self, f, year: int) -> dict[str, float]:
        values = self.government.cost_indicators(year)
        for group in self.groups.values():
            values |= group.indicators(f, year)
        return values

    def _year0_lever_indicators(self, f) -> dict[str, float | None]:
        values = dict.fromkeys(COST_INDICATORS)
        for group in self.groups.values():
            values |= group.year0_indicators(f)
        return values

    def _record_year(self, totals: dict, lever_indicators: dict, observed: bool) -> None:
        totals = totals | {"births": self.births_this_year, "exits": self.exits_this_year}
        values: dict[str, float | None] = self.closure.indicators(self.setup, self.year, totals)
        values |= lever_indicators
        if not observed:
            values |= dict.fromkeys(NOT_OBSERVED_IN_YEAR_0)
        self.indicators = values
        self.datacollector.collect(self)
        self.births_this_year = 0
        self.exits_this_year = 0


def _reporter(name: str) -> Callable[[InnovationEcosystem], float | None]:
    def report(model: InnovationEcosystem) -> float | None:
        return model.indicators[name]

    return report


def _firm_reporters() -> dict[str, str]:
    scalars = [name for name, (_, shape, _, _) in FIRM_COLUMNS.items() if shape == ()]
    return {name: name for name in scalars if name != "alive"}
