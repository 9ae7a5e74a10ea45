"""The model as a plain function, for the EMA Workbench, SALib and other outside tools.

``liangping_model(**levers_and_uncertainties) -> dict`` runs the Liangping 2021-2025 scenario
with some parameters changed and returns the final year's indicators (outcomes) plus, for each
plan target, ``met_<indicator>`` (1.0 if met, else 0.0). Parameter names are dotted scenario
keys; since tools such as the EMA Workbench need Python identifiers, a double underscore
stands for the dot: ``firms__rd_user_cost_elasticity`` is ``firms.rd_user_cost_elasticity``.
``seed`` selects the random streams (default: the scenario's).

    >>> from sim.batch.interop import liangping_model
    >>> out = liangping_model(firms__rd_user_cost_elasticity=0.8, seed=3)
    >>> out["hitech_firms"], out["met_hitech_firms"]

``make_model(scenario, ...)`` builds the same function for another scenario file. Usage with
EMA Workbench and SALib: docs/experiments.md, "Using the model from other tools".
"""

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
LIANGPING = ROOT / "scenarios" / "liangping_2021_2025.toml"


def scenario_key(name: str) -> str:
    """``firms__rd_user_cost_elasticity`` -> ``firms.rd_user_cost_elasticity`` (dots stay)."""
    return name.replace("__", ".")


def make_model(
    scenario: str | Path = LIANGPING,
    *,
    outcomes: list[str] | None = None,
) -> Callable[..., dict[str, float]]:
    """A function ``model(**parameters) -> {outcome: value}`` over ``scenario``.

    Args:
        scenario: the scenario file the parameters change.
        outcomes: indicator ids to return (default: all); ``met_<id>`` is added for each of
            them that has a plan target.
    """
    scenario = Path(scenario)

    def model(**parameters: Any) -> dict[str, float]:
        from sim.run import run_scenario
        from sim.scenario import load_scenario
        from sim.schema import plain

        seed = parameters.pop("seed", None)
        overrides = {scenario_key(k): plain(v) for k, v in parameters.items()}
        setup = load_scenario(scenario, overrides)
        result = run_scenario(setup, None if seed is None else int(seed))
        final = result.indicators.iloc[-1]
        keep = outcomes or [c for c in result.indicators.columns if c != "year"]
        out = {name: _number(final[name]) for name in keep}
        for entry in result.scorecard:
            if entry["id"] in keep:
                out[f"met_{entry['id']}"] = 1.0 if entry["met"] else 0.0
        return out

    model.__name__ = f"{scenario.stem}_model"
    model.__doc__ = f"Run {scenario.name} with parameters changed; return final-year outcomes."
    return model


def liangping_model(**levers_and_uncertainties: Any) -> dict[str, float]:
    """Run Liangping 2021-2025 with parameters changed; outcomes of 2025 (see module doc)."""
    return make_model(LIANGPING)(**levers_and_uncertainties)


def _number(value: Any) -> float:
    if value is None:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan
