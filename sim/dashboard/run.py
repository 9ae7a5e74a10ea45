"""One analyst's live run of the district, with its counterfactual alongside when asked.

The district runs under the scenario's levers; the counterfactual, the same district under the
counterfactual's levers, steps month by month with it.

``DistrictRun`` is the ``mesa.Model`` that Mesa's ``SolaraViz`` drives (play, step, reset);
each browser session makes its own (``sim.dashboard.app``). The counterfactual shares the
seed, so both runs draw the same random numbers and their difference is the policy effect.
"""

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import mesa
import numpy as np

from sim.agents import ladder
from sim.model import InnovationEcosystem
from sim.scenario import Scenario, layered, load_scenario, scenario_from_dict
from sim.schema import InputError, read_toml

PROJECT = Path(__file__).resolve().parents[2]
DEFAULT_SCENARIO = PROJECT / "scenarios" / "liangping_2021_2025.toml"
DEFAULT_COUNTERFACTUAL = PROJECT / "scenarios" / "liangping_no_policy.toml"


@dataclass(frozen=True)
class Setups:
    """The scenario analysed and its counterfactual: the same district, other levers."""

    scenario: Scenario
    counterfactual: Scenario


@cache
def load_setups(scenario_path: str, counterfactual_path: str) -> Setups:
    """Both validated scenarios (immutable, so sessions may share them; never their models).

    The counterfactual is the analysed scenario's district with the counterfactual file's
    ``[policy]`` table: for the plan scenario that is ``liangping_no_policy.toml`` itself, and
    any other district gets a counterfactual of its own population.
    """
    scenario = load_scenario(scenario_path)
    data = read_toml(Path(scenario_path), scenario_path)
    data["policy"] = read_toml(Path(counterfactual_path), counterfactual_path).get("policy", {})
    data = layered(data, {}, Path(scenario_path))  # the same fitted behaviour as the scenario
    counterfactual = scenario_from_dict(
        data,
        f"{scenario_path} with the levers of {counterfactual_path}",
        Path(scenario_path).parent,
    )
    return Setups(scenario, counterfactual)


def parse_seed(seed) -> int:
    """A seed typed in the dashboard (text) or given by code (int); ``InputError`` if neither."""
    text = str(seed).strip()
    if not text.isdigit() or int(text) >= 2**63:
        raise InputError(f"seed = {text!r}: must be a whole number between 0 and 2^63 - 1")
    return int(text)


class DistrictRun(mesa.Model):
    """The analysed district and, while comparing, its counterfactual, one month a step.

    Args:
        setups: the scenario and its counterfactual.
        seed: seed of both runs (the scenario's when None).
        agents: the model's agent mode; "lean" (no Firm objects) gives the same indicators
            faster, which keeps 20,000 firms responsive.
        compare: run the counterfactual alongside from the start.
    """

    def __init__(self, *, setups: Setups, seed=None, agents: str = "lean", compare=False):
        seed = setups.scenario.scenario.seed if seed in (None, "") else parse_seed(seed)
        super().__init__(rng=seed)
        self.setups = setups
        self.seed = seed
        self.agent_mode = agents
        self.district = InnovationEcosystem(setup=setups.scenario, seed=seed, agents=agents)
        self.counterfactual: InnovationEcosystem | None = None
        self.horizon = setups.scenario.scenario.horizon_months
        self.set_compare(bool(compare))

    def step(self) -> None:
        """One month of both runs; the run stops at the scenario's horizon."""
        self.district.step()
        if self.counterfactual is not None:
            self.counterfactual.step()
        self.running = self.months_done < self.horizon

    @property
    def months_done(self) -> int:
        """Months simulated so far."""
        return self.district.month + 1

    def set_compare(self, on: bool) -> None:
        """Start or stop the counterfactual; started mid-run, it catches up to this month.

        Its levers never change during a run, so catching up gives the same state as
        stepping alongside from the start.
        """
        if not on:
            self.counterfactual = None
            return
        if self.counterfactual is None:
            twin = InnovationEcosystem(
                setup=self.setups.counterfactual, seed=self.seed, agents=self.agent_mode
            )
            for _ in range(self.months_done):
                twin.step()
            self.counterfactual = twin

    def set_lever(self, key: str, value) -> None:
        """Change a lever of the analysed district from the next month on (validated)."""
        self.district.set_lever(key, value)

    def date(self) -> str:
        """The last simulated month as ``YYYY-MM`` (the baseline's December before any)."""
        if self.district.month < 0:
            return f"{self.setups.scenario.baseline_year}-12"
        year, month = self.district.date(self.district.month)
        return f"{year}-{month:02d}"


class DashboardRun(DistrictRun):
    """The run as the dashboard's Reset makes it, from the seed typed under Model Parameters.

    A seed that is not a whole number is refused with a one-line ``notice`` that the dashboard
    shows, and the run starts on the scenario's seed: raised, the error would surface inside
    Mesa's Reset handler as a traceback. Code gets the error: ``DistrictRun`` raises it.
    """

    # Mesa's Reset passes ``scenario=`` to a constructor taking ``**kwargs``: name each one.
    def __init__(self, *, setups: Setups, seed=None, agents: str = "lean", compare=False):
        notice = ""
        try:
            seed = None if seed in (None, "") else parse_seed(seed)
        except InputError as err:
            scenario_seed = setups.scenario.scenario.seed
            notice = f"{err}; the run starts on the scenario's seed, {scenario_seed}"
            seed = None
        super().__init__(setups=setups, seed=seed, agents=agents, compare=compare)
        self.notice = notice


def firm_status(model: InnovationEcosystem) -> dict[str, np.ndarray]:
    """Boolean masks of operating firms by rung of the status ladder, bottom to top.

    The upper rungs (specialised SMEs to STAR listings, ``sim.agents.ladder``) are keyed by
    their indicator ids.
    """
    f = model.firms.arrays()
    alive = f.alive.astype(bool)
    rungs = {"firms": alive, "tech_smes": alive & f.tech_sme.astype(bool)}
    rungs["hitech_firms"] = alive & (f.hitech_until > model.month)
    rungs["high_growth_firms"] = alive & f.high_growth.astype(bool)
    upper = ladder.holders(f, model.month)  # the upper rungs, by their indicator ids
    for status, indicator in ladder.STATUS_INDICATORS.items():
        rungs[indicator] = upper[status]
    return rungs
