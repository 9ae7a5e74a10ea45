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
from sim.dashboard.labels import LANGUAGES, word
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


@solara.component
def Charts(run: DashboardRun, view: View):
    """The cards, each as tall as what it shows: the plan charts full width, the rest in pairs.

    Laid out here rather than in Mesa's draggable grid, whose cells have a fixed height that
    cut the plan charts (and their legend) once they grew past it, and whose half-width cells
    shrank a dozen panels to unreadable text. Each card follows the steps itself
    (``sim.dashboard.components``).
    """
    pair = {"default": 12, "large": 6}  # side by side in a window >= 1264 px wide
    with solara.Column(classes=["innosim-charts"], style="width: 100%; padding: 8px"):
        PlanIndicators(run, view, "outcomes")
        with solara.ColumnsResponsive(**pair):
            Scorecard(run, view)
            StatusLadder(run, view)
        PlanIndicators(run, view, "inputs")
        with solara.ColumnsResponsive(**pair):
            PublicSpend(run, view)
            FirmPoints(run, view)


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

    def keep_comparing():
        # Reset makes a new run from the model parameters; it keeps the session's switch.
        run.value.set_compare(compare.value)

    solara.use_effect(keep_comparing, [run.value])
    with solara.Sidebar():
        LeverPanel(run, view)
    SolaraViz(
        run,
        components=[],  # the cards are laid out by ``Charts``
        model_params={
            "setups": setups,
            "seed": {
                "type": "InputText",
                "value": str(setups.scenario.scenario.seed),
                # ours, so in the page's language; Mesa's own controls have fixed English
                # labels (docs/dashboard.md)
                "label": word("seed", language.value),
            },  # fmt: skip
        },
        name=f"innosim · {setups.scenario.scenario.name}",
        play_interval=50,
    )
    Charts(run.value, view)
