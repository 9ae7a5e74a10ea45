"""The dashboard's charts, drawn by Matplotlib on the server as PNG images.

PNG leaves the browser nothing to fetch. The charts are drawn from plain data: yearly
indicator frames, the plan table and the firm table.

Each function returns PNG bytes; the components in ``sim.dashboard.components`` decide when
to redraw (yearly charts once a year, firm charts every month).
"""

import io
import math
import textwrap

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.dashboard.labels import bilingual, word
from sim.targets import PlanTargets

# Chinese glyphs fall back to Noto Sans CJK (fonts-noto-cjk, installed by the set-up).
matplotlib.rcParams["font.family"] = ["DejaVu Sans", "Noto Sans CJK SC", "Noto Sans CJK JP"]
matplotlib.rcParams["axes.unicode_minus"] = False

POLICY_COLOUR = "#1f5fa8"
COUNTERFACTUAL_COLOUR = "#888888"
TARGET_COLOUR = "#c0392b"
STATUS_COLOURS = {
    "other": "#b0b0b0",
    "tech_smes": "#4c9be8",
    "hitech_firms": "#e67e22",
    "high_growth_firms": "#27ae60",
    "listed_firms": "#8e44ad",
}
# At most this many firms are drawn as points: enough to see the cloud, fast at 20,000 firms.
MAX_POINTS = 4000


def png(figure: Figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    return buffer.getvalue()


def plan_indicators(
    ids: list[str],
    policy: pd.DataFrame,
    counterfactual: pd.DataFrame | None,
    plan: PlanTargets,
    names: dict[str, tuple[str, str]],
    language: str,
) -> bytes:
    """Small multiples: each indicator by year, the counterfactual dashed, the target marked."""
    columns = 4
    rows = max(1, math.ceil(len(ids) / columns))
    figure = Figure(figsize=(12, 2.6 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for ax, indicator in zip(axes, ids, strict=False):
        _indicator_panel(ax, indicator, policy, counterfactual, plan, names, language)
    for ax in axes[len(ids) :]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=3, fontsize=9)
    return png(figure)


def _indicator_panel(ax, indicator, policy, counterfactual, plan, names, language):
    row = plan.get(indicator)
    ax.set_title(
        _wrap(bilingual(names.get(indicator, (indicator, indicator)), language)), fontsize=8
    )
    ax.plot(policy["year"], _values(policy, indicator), "o-", color=POLICY_COLOUR, ms=3,
            label=word("policy", language))  # fmt: skip
    if counterfactual is not None:
        ax.plot(counterfactual["year"], _values(counterfactual, indicator), "s--", ms=3,
                color=COUNTERFACTUAL_COLOUR, label=word("counterfactual", language))  # fmt: skip
    if row is not None:
        ax.axhline(row.target, color=TARGET_COLOUR, lw=1, ls=":", label=word("target", language))
        ax.plot([plan.target_year], [row.target], "*", color=TARGET_COLOUR, ms=9)
        ax.set_xlim(plan.baseline_year - 0.3, max(plan.target_year, policy["year"].max()) + 0.3)
    ax.tick_params(labelsize=7)
    ax.xaxis.get_major_locator().set_params(integer=True)


def _values(frame: pd.DataFrame, indicator: str) -> np.ndarray:
    return pd.to_numeric(frame[indicator], errors="coerce").astype(float).to_numpy()


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=40, max_lines=2, placeholder="…")


def status_ladder(
    counts: dict[str, int | None], counterfactual: dict[str, int | None] | None, language: str
) -> bytes:
    """Firms on each rung of the ladder, bottom rung at the bottom; a rung not modelled says so."""
    rungs = list(counts)
    figure = Figure(figsize=(6, 3.2), layout="constrained")
    ax = figure.subplots()
    y = np.arange(len(rungs))
    values = [counts[r] or 0 for r in rungs]
    height = 0.4 if counterfactual is not None else 0.7
    ax.barh(y + (height / 2 if counterfactual is not None else 0), values, height=height,
            color=[STATUS_COLOURS.get(r, POLICY_COLOUR) for r in rungs],
            label=word("policy", language))  # fmt: skip
    if counterfactual is not None:
        ax.barh(y - height / 2, [counterfactual[r] or 0 for r in rungs], height=height,
                color=COUNTERFACTUAL_COLOUR, label=word("counterfactual", language))  # fmt: skip
        ax.legend(fontsize=8, loc="lower right")
    for i, rung in enumerate(rungs):
        text = word("not_modelled", language) if counts[rung] is None else f"{counts[rung]:,}"
        ax.text(values[i], y[i], f" {text}", va="center", fontsize=8)
    ax.set_yticks(y, [word(r, language) for r in rungs], fontsize=9)
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlim(0, max(values + [10]) * 4)
    return png(figure)


def public_spend(policy: pd.DataFrame, counterfactual: pd.DataFrame | None, language: str) -> bytes:
    """Stacked bars of public spend by lever per year (tax expenditure too once booked)."""
    levers = spend_columns(policy)
    figure = Figure(figsize=(6, 3.2), layout="constrained")
    ax = figure.subplots()
    years = policy["year"].to_numpy()
    bottom = np.zeros(len(years))
    for lever in levers:
        values = np.nan_to_num(_values(policy, lever))
        if values.any():
            ax.bar(years, values, bottom=bottom, label=_lever_name(lever), width=0.6)
            bottom += values
    if counterfactual is not None and levers:
        total = sum(np.nan_to_num(_values(counterfactual, lever)) for lever in levers)
        ax.plot(counterfactual["year"], total, "s--", color=COUNTERFACTUAL_COLOUR,
                label=word("counterfactual", language))  # fmt: skip
    if not bottom.any():
        ax.text(0.5, 0.5, word("no_spend", language), transform=ax.transAxes, ha="center")
    else:
        ax.legend(fontsize=7, ncols=2)
    ax.tick_params(labelsize=8)
    ax.xaxis.get_major_locator().set_params(integer=True)
    return png(figure)


def spend_columns(frame: pd.DataFrame) -> list[str]:
    """Spend columns, one a lever: every ``spend_*`` and ``tax_expenditure*`` but the total.

    Picked by name, so tax expenditure appears once the model books it.
    """
    return [
        c
        for c in frame.columns
        if (c.startswith("spend_") or c.startswith("tax_expenditure")) and c != "spend_total"
    ]


def _lever_name(column: str) -> str:
    return column.removeprefix("spend_").replace("_", " ")


def firm_points(
    revenue: np.ndarray, rd_intensity: np.ndarray, status: np.ndarray, language: str
) -> bytes:
    """Operating firms as points, revenue (log) against R&D intensity, coloured by status.

    ``status`` names each firm's highest rung. Above ``MAX_POINTS`` firms an evenly spaced
    subset is drawn (the same firms month after month, so the cloud moves, not the sample).
    """
    step = max(1, math.ceil(len(revenue) / MAX_POINTS))
    revenue, rd_intensity, status = revenue[::step], rd_intensity[::step], status[::step]
    figure = Figure(figsize=(6, 3.2), layout="constrained")
    ax = figure.subplots()
    for rung, colour in STATUS_COLOURS.items():
        mask = status == rung
        if mask.any():
            ax.scatter(np.maximum(revenue[mask], 1e-3), rd_intensity[mask], s=6, color=colour,
                       alpha=0.6, label=word(rung, language), linewidths=0)  # fmt: skip
    ax.set_xscale("log")
    ax.set_xlabel(word("revenue", language), fontsize=8)
    ax.set_ylabel(word("rd_intensity", language), fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, markerscale=2)
    return png(figure)
