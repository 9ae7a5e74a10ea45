"""The dashboard's charts, drawn by Matplotlib on the server as PNG images.

PNG leaves the browser nothing to fetch. The charts are drawn from plain data: yearly
indicator frames, the plan table and the firm table.

Each function returns PNG bytes; the components in ``sim.dashboard.components`` decide when
to redraw (yearly charts once a year, firm charts every month).
"""

import io
import math
import re

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.dashboard.labels import LANGUAGES, word, words_in
from sim.targets import PlanTargets
from sim.words import width

# Chinese glyphs fall back to Noto Sans CJK (fonts-noto-cjk, installed by the set-up).
matplotlib.rcParams["font.family"] = ["DejaVu Sans", "Noto Sans CJK SC", "Noto Sans CJK JP"]
matplotlib.rcParams["axes.unicode_minus"] = False

POLICY_COLOUR = "#1f5fa8"
COUNTERFACTUAL_COLOUR = "#888888"
TARGET_COLOUR = "#c0392b"
STATUS_COLOURS = {
    "firms": POLICY_COLOUR,
    "other": "#b0b0b0",
    "tech_smes": "#4c9be8",
    "hitech_firms": "#e67e22",
    "high_growth_firms": "#27ae60",
    "specialized_firms": "#16a085",
    "little_giants": "#2c3e50",
    "hidden_champions": "#d35400",
    "otc_listed": "#8e44ad",
    "star_listed": "#c0392b",
}
# A colour a spend column (eleven today; Matplotlib's default cycle repeats after ten): the ten
# of "tab10", then their lighter tints.
SPEND_COLOURS = (
    matplotlib.colormaps["tab20"].colors[0::2] + matplotlib.colormaps["tab20"].colors[1::2]
)
# At most this many firms are drawn as points: enough to see the cloud, fast at 20,000 firms.
MAX_POINTS = 2000
# A small multiple's title: lines of at most this many columns (a Chinese character takes two).
TITLE_COLUMNS = 30
TITLE_LINES = 3
# Pixels per inch of every chart. The charts are drawn at about the size they are shown at in a
# 1600 px window (a full-width card is ~1150 px, a half-width one ~560 px), so a font's size in
# pixels here is its size on screen: no text below MIN_TEXT_PX.
DPI = 100
MIN_TEXT_PX = 12
TITLE_PT = 11  # 15 px
TICK_PT = 9.5  # 13 px
LEGEND_PT = 10.5  # 15 px
# The plan indicators' small multiples: panels a row, and the layout in inches (fixed: a
# constrained layout takes seconds for a dozen panels on a busy machine).
PLAN_COLUMNS = 4
PLAN_WIDTH = 11.1
PLAN_LEFT, PLAN_RIGHT, PLAN_WSPACE = 0.6, 0.15, 0.6  # y tick labels left of each panel
PLAN_LEGEND, PLAN_TITLE, PLAN_BOTTOM = 0.45, 0.7, 0.4  # legend on top, titles, year ticks
PLAN_AXES, PLAN_GAP = 1.55, 1.05  # a panel's height; between rows: its ticks, the next titles


def png(figure: Figure, dpi: int = DPI) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def plan_indicators(
    ids: list[str],
    policy: pd.DataFrame,
    counterfactual: pd.DataFrame | None,
    plan: PlanTargets,
    names: dict[str, tuple[str, str]],
    language: str,
) -> Figure:
    """Small multiples: each indicator by year, the counterfactual dashed, the target marked.

    ``PLAN_COLUMNS`` panels a row, the legend above them. The figure grows by a row's height
    per row, so every panel keeps its size and the card showing the image grows with it.
    """
    rows = max(1, math.ceil(len(ids) / PLAN_COLUMNS))
    height = PLAN_LEGEND + PLAN_TITLE + rows * PLAN_AXES + (rows - 1) * PLAN_GAP + PLAN_BOTTOM
    panel = (PLAN_WIDTH - PLAN_LEFT - PLAN_RIGHT - (PLAN_COLUMNS - 1) * PLAN_WSPACE) / PLAN_COLUMNS
    figure = Figure(figsize=(PLAN_WIDTH, height), dpi=DPI)
    figure.subplots_adjust(
        left=PLAN_LEFT / PLAN_WIDTH,
        right=1 - PLAN_RIGHT / PLAN_WIDTH,
        top=1 - (PLAN_LEGEND + PLAN_TITLE) / height,
        bottom=PLAN_BOTTOM / height,
        hspace=PLAN_GAP / PLAN_AXES,
        wspace=PLAN_WSPACE / panel,
    )
    axes = figure.subplots(rows, PLAN_COLUMNS, squeeze=False).ravel()
    for ax, indicator in zip(axes, ids, strict=False):
        _indicator_panel(ax, indicator, policy, counterfactual, plan, names, language)
    for ax in axes[len(ids) :]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    # above the panels, clear of every one: read before the charts, never cut by the card
    figure.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 1), ncols=3,
                  fontsize=LEGEND_PT, frameon=False)  # fmt: skip
    return figure


def _indicator_panel(ax, indicator, policy, counterfactual, plan, names, language):
    row = plan.get(indicator)
    ax.set_title(panel_title(names.get(indicator, (indicator, indicator)), language),
                 fontsize=TITLE_PT)  # fmt: skip
    ax.plot(policy["year"], _values(policy, indicator), "o-", color=POLICY_COLOUR, ms=4,
            label=word("policy", language))  # fmt: skip
    if counterfactual is not None:
        ax.plot(counterfactual["year"], _values(counterfactual, indicator), "s--", ms=4,
                color=COUNTERFACTUAL_COLOUR, label=word("counterfactual", language))  # fmt: skip
    if row is not None:
        ax.axhline(row.target, color=TARGET_COLOUR, lw=1, ls=":", label=word("target", language))
        ax.plot([plan.target_year], [row.target], "*", color=TARGET_COLOUR, ms=10)
        ax.set_xlim(plan.baseline_year - 0.3, max(plan.target_year, policy["year"].max()) + 0.3)
    ax.tick_params(labelsize=TICK_PT)
    ax.yaxis.get_offset_text().set_fontsize(TICK_PT)
    ax.xaxis.get_major_locator().set_params(integer=True)


def _values(frame: pd.DataFrame, indicator: str) -> np.ndarray:
    return pd.to_numeric(frame[indicator], errors="coerce").astype(float).to_numpy()


def panel_title(names: tuple[str, str], language: str) -> str:
    """A small multiple's title: the indicator's name in ``language`` alone, wrapped.

    Both names side by side crowd a panel a quarter of the chart wide; the scorecard beside
    the chart gives both.
    """
    english, chinese = names
    return wrap(chinese if language == LANGUAGES[1] else english)


def wrap(text: str, columns: int = TITLE_COLUMNS, lines: int = TITLE_LINES) -> str:
    """``text`` in lines of at most ``columns`` (a Chinese character takes two), cut with "…".

    English breaks between words and after "/", Chinese between any two characters.
    Lines are kept about even: no line of one word or character under a full one.
    """
    tokens = re.findall(r"[^\s\u2e80-\uffff/]+/?\s*|\S\s*", text)
    rows = _fill(tokens, columns)
    if len(rows) > lines:
        last = rows[lines - 1]
        while last and width(last + "…") > columns:
            last = last[:-1]
        return "\n".join(rows[: lines - 1] + [last.rstrip() + "…"])
    narrowest = columns
    while narrowest > 1 and len(_fill(tokens, narrowest - 1)) == len(rows):
        narrowest -= 1
    return "\n".join(_fill(tokens, narrowest))


def _fill(tokens: list[str], columns: int) -> list[str]:
    rows = [""]
    for token in tokens:
        if rows[-1] and width((rows[-1] + token).rstrip()) > columns:
            rows.append("")
        rows[-1] += token
    return [row.rstrip() for row in rows]


def status_ladder(
    counts: dict[str, int | None], counterfactual: dict[str, int | None] | None, language: str
) -> str:
    """The ladder as HTML bars, top rung first, on a log scale (counts span 1 to 20,000).

    HTML rather than an image: it costs nothing to redraw every month and its numbers are text.
    """
    widest = math.log10(max([c or 0 for c in counts.values()] + [10]) + 1)
    rows = []
    for rung in reversed(list(counts)):
        count = counts[rung]
        width = 0 if count is None else 100 * math.log10(count + 1) / widest
        shown = word("not_modelled", language) if count is None else f"{count:,}"
        if counterfactual is not None and count is not None:
            shown += f" ({word('counterfactual', language)}: {counterfactual.get(rung) or 0:,})"
        colour = STATUS_COLOURS.get(rung, POLICY_COLOUR)
        rows.append(
            f'<div class="innosim-rung" data-rung="{rung}" style="display:flex;'
            f'align-items:center;margin:4px 0"><span style="width:9em">{word(rung, language)}'
            f'</span><span style="background:{colour};height:18px;width:{width * 0.6:.1f}%">'
            f'</span><span class="innosim-rung-count" style="margin-left:6px">{shown}</span></div>'
        )
    return "".join(rows)


def public_spend(
    policy: pd.DataFrame, counterfactual: pd.DataFrame | None, language: str
) -> Figure:
    """Stacked bars of public spend by lever per year (tax expenditure too once booked).

    The legend sits below the bars, outside the plotting area.

    The figure is taller by a line of legend per two levers with spend, so the bars keep
    their height.
    """
    levers = spend_columns(policy)
    drawn = [lever for lever in levers if np.nan_to_num(_values(policy, lever)).any()]
    entries = len(drawn) + (counterfactual is not None and bool(levers))
    figure = Figure(figsize=(5.5, 3.4 + 0.24 * math.ceil(entries / 2)), dpi=DPI,
                    layout="constrained")  # fmt: skip
    ax = figure.subplots()
    years = policy["year"].to_numpy()
    bottom = np.zeros(len(years))
    for lever in drawn:
        values = np.nan_to_num(_values(policy, lever))
        ax.bar(years, values, bottom=bottom, label=spend_label(lever, language), width=0.6,
               color=SPEND_COLOURS[levers.index(lever) % len(SPEND_COLOURS)])  # fmt: skip
        bottom += values
    if counterfactual is not None and levers:
        total = sum(np.nan_to_num(_values(counterfactual, lever)) for lever in levers)
        ax.plot(counterfactual["year"], total, "s--", color=COUNTERFACTUAL_COLOUR,
                label=word("counterfactual", language))  # fmt: skip
    if not bottom.any():
        ax.text(0.5, 0.5, word("no_spend", language), transform=ax.transAxes, ha="center",
                fontsize=LEGEND_PT)  # fmt: skip
    else:
        # "outside": the constrained layout keeps room for it under the axes
        figure.legend(loc="outside lower center", ncols=2, fontsize=TICK_PT, frameon=False)
    ax.tick_params(labelsize=TICK_PT)
    ax.yaxis.get_offset_text().set_fontsize(TICK_PT)
    ax.xaxis.get_major_locator().set_params(integer=True)
    return figure


def spend_columns(frame: pd.DataFrame) -> list[str]:
    """Spend columns, one a lever: every ``spend_*`` and ``tax_expenditure*`` but the total.

    Picked by name, so tax expenditure appears once the model books it.
    """
    return [
        c
        for c in frame.columns
        if (c.startswith("spend_") or c.startswith("tax_expenditure")) and c != "spend_total"
    ]


def spend_label(column: str, language: str) -> str:
    """A spend column's legend: its lever group's name in Chinese, the column's words in English.

    ``spend_credit`` is 知识价值信用贷款; ``tax_expenditure_super_deduction`` is
    研发费用加计扣除(税式支出).
    """
    if language != LANGUAGES[1]:
        return column.removeprefix("spend_").replace("_", " ")
    group = column.removeprefix("spend_").removeprefix("tax_expenditure_")
    name = words_in(language).lever(group)
    if column.startswith("tax_expenditure"):
        return f"{name}({word('tax_expenditure', language)})"
    return name


def firm_points(
    revenue: np.ndarray, rd_intensity: np.ndarray, status: np.ndarray, language: str
) -> bytes:
    """Operating firms as points, revenue (log) against R&D intensity, coloured by status.

    ``status`` names each firm's highest rung. Above ``MAX_POINTS`` firms an evenly spaced
    subset is drawn (the same firms month after month, so the cloud moves, not the sample).
    """
    step = max(1, math.ceil(len(revenue) / MAX_POINTS))
    revenue, rd_intensity, status = revenue[::step], rd_intensity[::step], status[::step]
    figure = Figure(figsize=(6, 3.2))
    figure.subplots_adjust(left=0.12, right=0.98, top=0.97, bottom=0.15)  # redrawn monthly:
    ax = figure.subplots()  # a fixed layout costs a third less than a constrained one
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
    return png(figure, dpi=80)  # redrawn every month: fewer pixels to encode
