"""``InnovationEcosystem``: the Mesa model and its monthly schedule.

Each month: the policy in force is read (live levers), the firm kernel advances every firm,
exited firms leave, new firms are born. Each 31 December: the year is booked, the high-tech
certification round, the tech-SME registry and the high-growth review run, and the yearly
indicators are collected by Mesa's DataCollector.
"""

from collections.abc import Callable

import mesa
import numpy as np
import pandas as pd

from sim.agents.firms import FIRM_COLUMNS, Firm, FirmTable
from sim.agents.kernels import build_rules, build_sector_params, close_year, step_month
from sim.agents.population import births_this_month, entrants, initial_population
from sim.indicators import COUNT_INDICATORS, INDICATORS, RegionClosure, firm_totals, sector_flags
from sim.policies.mix import PolicyMix
from sim.schema import replace_validated

AGENT_MODES = ("full", "lean")
# Flows that are not known for year 0 (the population describes a stock, not its last year).
NOT_OBSERVED_IN_YEAR_0 = (
    "births",
    "exits",
    "invention_applications",
    "invention_grants",
    "firm_tax",
)
# Columns of the yearly frame whose type is not the one pandas infers: counts are nullable
# integers (no count in year 0 for flows).
INDICATOR_DTYPES = {"year": "int64"} | dict.fromkeys(COUNT_INDICATORS, "Int64")


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
        self.month = -1  # last completed month; -1 is 31 December of the baseline year
        self.current_year = setup.baseline_year
        self.policy = setup.policy  # the levers in force; change with set_lever
        self.rules = build_rules(setup)
        self.sector_params = build_sector_params(setup)
        self.sector_flags = sector_flags(setup)
        self.firms = FirmTable(capacity=self._expected_firms())
        self.firm_agents: dict[int, Firm] = {}
        self.births_this_year = 0
        self.exits_this_year = 0
        self._entrants_due: dict[int, tuple[int, dict]] = {}  # month: (first id, columns)
        self.indicators: dict[str, float | None] = {}
        self.year = setup.baseline_year

        self._add_firms(initial_population(setup, self.seed))
        totals = self._firm_totals()
        self.closure = RegionClosure.calibrate(setup, totals)
        self.mix = PolicyMix(self, self.firms.arrays())
        self.datacollector = mesa.DataCollector(
            model_reporters={"year": "year"} | {name: _reporter(name) for name in INDICATORS},
            agenttype_reporters={Firm: _firm_reporters()} if collect_firms else None,
        )
        self._record_year(totals, self.mix.year0_indicators(self.firms.arrays()), observed=False)

    # --------------------------------------------------------------------------- schedule

    def step(self) -> None:
        """One month."""
        t = self.month + 1
        year, month_of_year = self.calendar(t)
        self.current_year = year
        attracted = self.mix.start_month(self.firms.arrays(), t, year, month_of_year)
        if attracted is not None:
            self._add_firms(attracted)
        levers = self.mix.month_levers(year)
        step_month(self.firms.arrays(), self.sector_params, self.rules, t, self.seed, levers)
        self._remove_exited(t)
        self._add_entrants(t)
        if month_of_year == 12:
            self._close_year(t, year)
        self.month = t

    def _close_year(self, t: int, year: int) -> None:
        f = self.firms.arrays()
        before = {"hitech_until": f.hitech_until.copy(), "tech_sme": f.tech_sme.copy()}
        bonus = self.policy.certification_support.pass_bonus
        close_year(f, self.rules, t, self.seed, bonus)
        lever_indicators = self.mix.end_year(f, t, year, before)
        self.year = year
        self._record_year(self._firm_totals(t), lever_indicators, observed=True)

    def set_lever(self, key: str, value) -> None:
        """Change a lever from the next month on, validated like a scenario file.

        ``key`` is a dotted name under ``policy``, e.g. ``"vouchers.budget"``.
        """
        self.policy = replace_validated(self.policy, key, value, f"policy.{key}")

    def run(self, months: int, on_month: Callable[[int, int], None] | None = None) -> None:
        """Run ``months`` months, calling ``on_month(done, months)`` after each."""
        for done in range(1, months + 1):
            self.step()
            if on_month is not None:
                on_month(done, months)

    def calendar(self, t: int) -> tuple[int, int]:
        """(year, month of year 1-12) of month index ``t``."""
        months = self.setup.scenario.start_month - 1 + t
        return self.setup.scenario.start_year + months // 12, months % 12 + 1

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
        start = sum(s.hitech + s.tech_sme + s.other for s in sectors)
        births = sum(s.births_per_year for s in sectors) * self.setup.scenario.horizon_months / 12
        return int(start + 1.5 * births + 64)

    def _add_firms(self, columns: dict[str, np.ndarray]) -> None:
        rows = self.firms.append(columns)
        if self.agent_mode == "full":
            for row in rows:
                self.firm_agents[int(row)] = Firm(self, row)

    def _remove_exited(self, t: int) -> None:
        exited = np.flatnonzero(self.firms.column("exit_month") == t)
        self.exits_this_year += len(exited)
        for row in exited:
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
            self._add_firms(columns)
            self.births_this_year += count

    def _entrants_to_december(self, t: int) -> dict[int, tuple[int, dict]]:
        """(first id, columns) of the new firms of each month from ``t`` to December.

        Firms join only in January (attraction) besides entrants, so the ids of the year's
        entrants are known in its first month, and a firm's draws depend on its id and the
        month only: the same firms as drawn month by month.
        """
        _, month_of_year = self.calendar(t)
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
