"""The dashboard's own Solara components, shown by Mesa's ``SolaraViz`` beside its controls.

Each chart component takes the session's ``DistrictRun`` and its ``View`` (language and the
counterfactual switch). Yearly charts are redrawn when a year closes, firm charts every month:
the memo keys say so.

Every component that shows the run's state calls ``follows_steps()``: the run is one object
changed in place, so its arguments are the same after a step, and reacton (under Solara) does
not render a child again whose arguments compare equal to the last render's, even when Mesa's
wrapper around it is rendered again. Only a component subscribed to Mesa's step counter itself
is rendered after Step, Play or Reset.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import solara
from mesa.visualization.utils import force_update, update_counter

from sim.dashboard import charts
from sim.dashboard.labels import (
    LANGUAGES,
    bilingual,
    group_title,
    indicator_names,
    lever_error,
    lever_label,
    word,
)
from sim.dashboard.levers import LeverSpec, lever_specs, lever_value, parse_value, show_value
from sim.dashboard.run import DistrictRun, firm_status
from sim.scenario import Policy
from sim.schema import InputError
from sim.targets import scorecard

# Plan indicators whose values are set by a lever's schedule (recruits, platforms, institutions
# a year): inputs of the plan, drawn apart from the outcomes firms produce. One list, here,
# until the plan tables say which is which (a ``kind`` of "input" on a row wins).
INPUT_INDICATORS = (
    "high_end_talent",
    "top_talent_ab",
    "tech_commissioners",
    "rd_platforms",
    "rd_platforms_national",
    "new_rd_institutes",
    "industry_research_institutes",
    "rd_branches",
    "service_institutions",
    "service_institutions_national",
)


def follows_steps() -> int:
    """Subscribe the calling component to Mesa's step counter (see the module's docstring)."""
    return update_counter.get()


@dataclass(frozen=True)
class View:
    """What one browser session chose to see."""

    language: solara.Reactive[str]
    compare: solara.Reactive[bool]
    names: dict[str, tuple[str, str]]


class SharedImages:
    """Chart images by the content they are drawn from, shared by the sessions of one server.

    Every analyst opens on the same baseline year and Reset returns to it: its yearly charts,
    seconds of Matplotlib each, are drawn once. The key is the data itself (see ``frame_key``),
    so a run whose levers changed gets images of its own; only PNG bytes are shared, never a
    model.
    """

    def __init__(self, size: int = 64):
        self.size = size
        self._images: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, draw: Callable[[], bytes]) -> bytes:
        """The image stored under ``key``, drawn by ``draw`` the first time (outside the lock)."""
        with self._lock:
            if key in self._images:
                self._images.move_to_end(key)
                return self._images[key]
        image = draw()
        with self._lock:
            self._images[key] = image
            while len(self._images) > self.size:
                self._images.popitem(last=False)
        return image


SHARED_IMAGES = SharedImages()


def frame_key(frame: pd.DataFrame | None) -> tuple | None:
    """A frame's columns and a hash of its rows: equal for frames of equal content."""
    if frame is None:
        return None
    rows = pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes()
    return (tuple(frame.columns), rows)


def plan_rows(run: DistrictRun, kind: str) -> list[str]:
    """Ids of the plan indicators the model computes, either the inputs or the outcomes."""
    computed = set(run.district.indicators)
    ids = []
    for row in run.setups.scenario.plan.rows:
        if row.id not in computed:
            continue
        declared = getattr(row, "kind", None)
        is_input = declared == "input" if declared in ("input", "outcome") else (
            row.id in INPUT_INDICATORS
        )  # fmt: skip
        if is_input == (kind == "inputs"):
            ids.append(row.id)
    return ids


def years_key(run: DistrictRun) -> tuple:
    """Changes when a year closes in either run: what the yearly charts depend on."""
    twin = run.counterfactual
    return (id(run.district), run.district.year, None if twin is None else twin.year)


@solara.component
def PlanIndicators(run: DistrictRun, view: View, kind: str):
    """Plan indicators by year with their targets: ``kind`` is "outcomes" or "inputs"."""
    follows_steps()
    language = view.language.value

    def draw():
        twin = run.counterfactual
        rows, plan = plan_rows(run, kind), run.setups.scenario.plan
        policy = run.district.yearly_indicators()
        counterfactual = None if twin is None else twin.yearly_indicators()
        # the plan and the names come with the scenario, which the server loads once
        key = ("plan", tuple(rows), frame_key(policy), frame_key(counterfactual), id(plan))
        return SHARED_IMAGES.get(
            key + (language,),
            lambda: charts.png(
                charts.plan_indicators(rows, policy, counterfactual, plan, view.names, language)
            ),
        )

    image = solara.use_memo(draw, [years_key(run), language, kind])
    with solara.Card(word(kind, language), classes=[f"innosim-{kind}"]):
        solara.Image(image, width="100%", classes=["innosim-chart"])


def ladder_counts(model) -> dict[str, int | None]:
    """Firms on each rung now; ``None`` for a rung the model does not record."""
    counts: dict[str, int | None] = {
        rung: int(np.count_nonzero(mask)) for rung, mask in firm_status(model).items()
    }
    return counts


@solara.component
def StatusLadder(run: DistrictRun, view: View):
    """Firms -> tech SMEs -> high-tech -> high-growth -> specialised ... STAR-listed, now."""
    follows_steps()
    language = view.language.value
    twin = run.counterfactual
    key = [id(run.district), run.district.month, twin is None, language]

    def draw():
        return charts.status_ladder(
            ladder_counts(run.district), None if twin is None else ladder_counts(twin), language
        )

    html = solara.use_memo(draw, key)
    with solara.Card(f"{word('ladder', language)} · {run.date()}", classes=["innosim-ladder"]):
        solara.HTML(tag="div", unsafe_innerHTML=html, style="font-size: 13px")


@solara.component
def PublicSpend(run: DistrictRun, view: View):
    """Public spend by lever and year."""
    follows_steps()
    language = view.language.value

    def draw():
        twin = run.counterfactual
        policy = run.district.yearly_indicators()
        counterfactual = None if twin is None else twin.yearly_indicators()
        key = ("spend", frame_key(policy), frame_key(counterfactual), language)
        return SHARED_IMAGES.get(
            key, lambda: charts.png(charts.public_spend(policy, counterfactual, language))
        )

    image = solara.use_memo(draw, [years_key(run), language])
    with solara.Card(word("spend", language), classes=["innosim-spend"]):
        solara.Image(image, width="100%", classes=["innosim-chart"])


def highest_rung(model) -> np.ndarray:
    """Each operating firm's highest status, in firm-table order."""
    rungs = firm_status(model)
    alive = rungs.pop("firms")
    status = np.full(len(alive), "other", dtype=object)
    for rung, mask in rungs.items():  # bottom to top: a higher rung overwrites
        status[mask] = rung
    return status[alive]


@solara.component
def FirmPoints(run: DistrictRun, view: View):
    """Operating firms as points: revenue against R&D intensity, coloured by status."""
    follows_steps()
    language = view.language.value

    def draw():
        f = run.district.firms.arrays()
        alive = f.alive.astype(bool)
        return charts.firm_points(
            f.revenue[alive], f.rd_intensity[alive], highest_rung(run.district), language
        )

    image = solara.use_memo(draw, [id(run.district), run.district.month, language])
    with solara.Card(word("firms_chart", language), classes=["innosim-firms"]):
        solara.Image(image, width="100%", classes=["innosim-chart"])


def scorecard_frame(run: DistrictRun, names: dict, language: str) -> pd.DataFrame:
    """The last closed year against the plan, with the counterfactual's value when comparing."""
    plan = run.setups.scenario.plan
    card = scorecard(plan, run.district.indicators, run.district.year)
    rows = []
    twin = run.counterfactual
    for entry in card:
        row = {
            word("indicator", language): bilingual(
                names.get(entry["id"], (entry["name"],) * 2), language, sep=" / "
            ),  # fmt: skip
            word("value", language): _fmt(entry["value"]),
        }
        if twin is not None:
            row[word("counterfactual", language)] = _fmt(twin.indicators.get(entry["id"]))
        row[word("target", language)] = _fmt(entry["target"])
        row[word("met", language)] = word("yes" if entry["met"] else "no", language)
        rows.append(row)
    return pd.DataFrame(rows)


def _fmt(value) -> str:
    if value is None or value != value:
        return "n/a"
    return f"{value:,.2f}"


@solara.component
def Scorecard(run: DistrictRun, view: View):
    """The scorecard table for the last closed year."""
    follows_steps()
    language = view.language.value
    key = [years_key(run), language]
    html = solara.use_memo(
        lambda: scorecard_frame(run, view.names, language).to_html(
            index=False, classes="innosim-scorecard", border=0
        ),
        key,
    )
    title = f"{word('scorecard', language)} · {word('as_of', language)} {run.district.year}"
    with solara.Card(title, classes=["innosim-scorecard-card"]):
        # the plan's 33 rows scroll inside the card, which stays about as tall as the ladder
        # beside it
        solara.HTML(
            tag="div",
            unsafe_innerHTML=html,
            style="font-size: 12px; overflow: auto; max-height: 290px",
        )


@solara.component
def LeverInput(run: DistrictRun, spec: LeverSpec, language: str):
    """One lever as text; a value the scenario schema refuses leaves the model untouched.

    Labelled with the lever's name, unit and range in ``language``; under the field, its key
    as ``--set policy.<key>`` takes it, so the field maps to the command line in either language.
    """
    # the schema's message and the value kept, worded when shown: a switch of language
    # rewords a refusal already on screen
    refused, set_refused = solara.use_state(("", ""))
    shown = show_value(spec, lever_value(run.district.policy, spec.key))

    def apply(text: str) -> None:
        try:
            run.set_lever(spec.key, parse_value(spec, text))
        except InputError as err:
            set_refused((str(err), show_value(spec, lever_value(run.district.policy, spec.key))))
            return
        set_refused(("", ""))

    error = lever_error(spec, *refused, language) if refused[0] else ""
    solara.InputText(
        lever_label(spec, language),
        value=shown,
        on_value=apply,
        error=error or False,
        message=f"policy.{spec.key}",
        classes=["innosim-lever", f"lever-{spec.key.replace('.', '-')}"],
        # a dense field keeps no room above it for its label, which floats up over the field
        # before it: without the padding each label is struck through by that field's line
        style="padding-top: 14px",
        dense=True,
    )
    if error:  # the field's own message can be cut; a line of its own is always readable
        solara.Error(error, dense=True, classes=["innosim-lever-error"])


LEVERS = lever_specs(Policy)
# the key under each lever reads as what it is, the name ``--set`` takes (not while refused)
LEVER_CSS = """
.innosim-lever:not(.error--text) .v-messages__message {
    font-family: monospace; font-size: 11px;
}
"""


@solara.component
def MonthShown(run: DistrictRun, language: str):
    """The last simulated month; only this line follows every step, not the lever inputs."""
    follows_steps()
    solara.Text(f"{word('month', language)}: {run.date()}", classes=["innosim-month"])


@solara.component
def LeverPanel(run: solara.Reactive[DistrictRun], view: View):
    """Every lever, grouped as in the scenario file, with the language and comparison switches."""
    language = view.language.value
    current = run.value

    def toggle_compare(on: bool) -> None:
        current.set_compare(on)
        view.compare.set(on)
        force_update()

    solara.Style(LEVER_CSS)
    solara.ToggleButtonsSingle(value=view.language, values=list(LANGUAGES))
    MonthShown(current, language)
    notice = getattr(current, "notice", "")  # a seed refused at Reset (``DashboardRun``)
    if notice:
        solara.Error(notice, dense=True, classes=["innosim-seed-error"])
    solara.Checkbox(
        label=word("compare", language), value=view.compare.value, on_value=toggle_compare
    )
    solara.Text(word("levers", language))
    groups: dict[str, list[LeverSpec]] = {}
    for spec in LEVERS:
        groups.setdefault(spec.group, []).append(spec)
    for group, specs in groups.items():
        with solara.Details(summary=group_title(group, language)):
            for spec in specs:
                LeverInput(current, spec, language).key(f"{id(current)}-{spec.key}")


def view_names(run: DistrictRun) -> dict[str, tuple[str, str]]:
    """Indicator id -> (English, Chinese) names for this run's plan table."""
    return indicator_names(run.setups.scenario)
