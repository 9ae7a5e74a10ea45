"""The innosim dashboard: Mesa's ``SolaraViz`` on a live run of the district.

Serve it with ``innosim dashboard [SCENARIO]`` (offline settings included) or
``solara run sim/dashboard/app.py``. The scenario and its counterfactual come from the
environment (``INNOSIM_SCENARIO``, ``INNOSIM_COUNTERFACTUAL``), defaulting to the plan scenario
and ``liangping_no_policy.toml``.

Every browser session builds its own run inside ``Page``: a model made at module level would be
shared by every analyst on the server.
"""

import os

import solara
from mesa.visualization import SolaraViz

from sim.dashboard.components import (
    FirmPoints,
    LeverPanel,
    PlanIndicators,
    PublicSpend,
    Scorecard,
    StatusLadder,
    View,
    view_names,
)
from sim.dashboard.labels import LANGUAGES
from sim.dashboard.run import (
    DEFAULT_COUNTERFACTUAL,
    DEFAULT_SCENARIO,
    DashboardRun,
    load_setups,
)


def session_setups():
    """The scenario and counterfactual this server was started with (shared, immutable)."""
    return load_setups(
        os.environ.get("INNOSIM_SCENARIO", str(DEFAULT_SCENARIO)),
        os.environ.get("INNOSIM_COUNTERFACTUAL", str(DEFAULT_COUNTERFACTUAL)),
    )


def chart_components(view: View) -> list:
    """The components SolaraViz lays out on its first page, each given the current run.

    Each is a component of its own, made once per session: a plain function would be wrapped
    by Mesa in a component type made anew whenever its page renders again, and a new type
    mounts afresh, dropping every chart's memo (all of them redrawn for nothing). The charts
    follow the steps themselves (``sim.dashboard.components``).
    """

    def card(component, *args):
        @solara.component
        def Card(run):
            return component(run, view, *args)

        return (Card, 0)

    return [
        card(PlanIndicators, "outcomes"),
        card(Scorecard),
        card(PlanIndicators, "inputs"),
        card(StatusLadder),
        card(PublicSpend),
        card(FirmPoints),
    ]


@solara.component
def Page():
    """One analyst's dashboard: a run of their own, the charts and the levers."""
    setups = session_setups()
    run = solara.use_memo(lambda: solara.reactive(DashboardRun(setups=setups)), [])
    language = solara.use_reactive(LANGUAGES[0])
    compare = solara.use_reactive(False)
    view = solara.use_memo(
        lambda: View(language=language, compare=compare, names=view_names(run.value)), []
    )
    components = solara.use_memo(lambda: chart_components(view), [])

    def keep_comparing():
        # Reset makes a new run from the model parameters; it keeps the session's switch.
        run.value.set_compare(compare.value)

    solara.use_effect(keep_comparing, [run.value])
    with solara.Sidebar():
        LeverPanel(run, view)
    SolaraViz(
        run,
        components=components,
        model_params={
            "setups": setups,
            "seed": {
                "type": "InputText",
                "value": str(setups.scenario.scenario.seed),
                "label": "Seed",
            },  # fmt: skip
        },
        name=f"innosim · {setups.scenario.scenario.name}",
        play_interval=50,
    )
