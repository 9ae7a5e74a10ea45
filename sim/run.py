"""``run_scenario``: the one unit of work every front end (CLI, batches, tools) calls."""

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from sim.model import InnovationEcosystem
from sim.scenario import Scenario, with_overrides
from sim.targets import scorecard


@dataclass(frozen=True)
class RunResult:
    """What a run returns: yearly indicators and the scorecard against the plan."""

    scenario: str
    seed: int
    months: int
    indicators: pd.DataFrame  # one row per 31 December: year + indicator ids
    scorecard: list[dict]

    def to_json_dict(self) -> dict:
        """The documented JSON shape: scenario, seed, months, indicators, scorecard."""
        rows = [
            {key: _json_value(value) for key, value in row.items()}
            for row in self.indicators.to_dict(orient="records")
        ]
        card = [
            {key: _json_value(entry[key]) for key in ("id", "kind", "value", "target", "met")}
            for entry in self.scorecard
        ]
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "months": self.months,
            "indicators": rows,
            "scorecard": card,
        }


def run_scenario(
    scenario: Scenario,
    seed: int | None = None,
    *,
    months: int | None = None,
    agents: str = "lean",
    on_month: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Run ``scenario`` with ``seed`` for ``months``; both default to the scenario's."""
    changes = {}
    if seed is not None:
        changes["seed"] = int(seed)
    if months is not None:
        changes["horizon_months"] = int(months)
    if changes:
        scenario = with_overrides(scenario, **changes)
    model = InnovationEcosystem(setup=scenario, agents=agents)
    model.run(scenario.scenario.horizon_months, on_month)
    indicators = model.yearly_indicators()
    final = indicators.iloc[-1].to_dict()
    card = scorecard(scenario.plan, final, int(final["year"]))
    return RunResult(
        scenario=scenario.scenario.name,
        seed=model.seed,
        months=scenario.scenario.horizon_months,
        indicators=indicators,
        scorecard=card,
    )


def _json_value(value):
    """A JSON-ready Python value: ints stay ints, NaN/None become None."""
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value
