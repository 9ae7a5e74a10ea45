"""The upper rungs of the ladder: specialised SMEs, little giants, hidden champions, listings.

Five statuses the district plan counts above the high-tech certificate, each with the criteria of
its rules as far as the firm table can check them (docs/model.md 7.8, criteria table):

- ``specialised``: specialised-and-sophisticated SME (专精特新中小企业), MIIT 2022 interim
  measures for the tiered cultivation of quality SMEs (工信部企业〔2022〕63号);
- ``little_giant``: specialised-and-sophisticated little giant (专精特新"小巨人"), same measures;
- ``champion``: hidden (single) champion (隐形冠军 / 制造业单项冠军), MIIT single-champion rules
  (2016 implementation plan; 2023 measures add the revenue floor);
- ``otc``: Chongqing OTC science-and-technology board (重庆OTC科创板);
- ``star``: Shanghai STAR market (科创板): CSRC sci-tech attribute guidelines (2020) and SSE STAR
  listing rules (2019), standard 1.

Every status is sought, not automatic. A firm that meets the criteria applies (or renews, or
lists) when the status is worth more than what seeking it costs the firm:
``benefit_s(year) > cost_s * u_i,s``, ``u_i,s`` a uniform trait drawn once per firm and status
(stream ``LADDER_TRAIT + s``, month key ``INIT_MONTH``), ``benefit_s = value_s * years_s +
award_s(year)`` (awards are levers of ``certification_support``). Where the plan table gives the
status's year-0 count, ``cost_s`` is calibrated on it: the year-0 holders are the qualifying firms
with the lowest traits and ``cost_s`` puts the bar halfway between the last holder's trait and the
next qualifying firm's, so the rule applied at year 0 keeps exactly them (as the high-growth
take-up does). Otherwise ``cost_s`` is the declared cost.

The MIIT statuses are granted after review (``review_pass_rate``, stream ``LADDER_REVIEW + s``
keyed on the month and firm) for ``validity_years``; on 31 December of the last year of validity
the holder is reviewed again and keeps the status only if it still meets the criteria (and still
seeks it). Listings last while the firm operates: an OTC-board firm leaves the board when it has
neither the tech-SME registration nor the high-tech certificate (the board's technology
attribute) or when it lists on the STAR market; STAR delisting is not modelled (its rules need
years of losses that the horizon of a plan does not reach).

Everything is numpy over the firm table (a sum by sector is compiled), run on 31 December after
the kernels' rounds.
"""

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
from numba import njit

from sim import rng
from sim.agents.firms import FIRM_COLUMNS, HISTORY_YEARS, NEVER
from sim.agents.population import history_growing_at
from sim.agents.rules import tier_points
from sim.schema import InputError, in_year, param
from sim.sources import ASSUMED

MIIT_2022 = (
    "MIIT 2022 interim measures for tiered cultivation of quality SMEs (工信部企业〔2022〕63号)"
)
CHAMPION = "MIIT manufacturing single-champion rules (2016 implementation plan; 2023 measures)"
STAR_RULES = "CSRC sci-tech attribute guidelines (2020) and SSE STAR listing rules (2019) 2.1.2(1)"

# status: the plan indicator that counts its holders
STATUS_INDICATORS = {
    "specialised": "specialized_firms",
    "little_giant": "little_giants",
    "champion": "hidden_champions",
    "otc": "otc_listed",
    "star": "star_listed",
}
STATUSES = tuple(STATUS_INDICATORS)
MIIT_STATUSES = ("specialised", "little_giant", "champion")
LISTINGS = ("otc", "star")

# The specialised-SME evaluation (MIIT 2022, annex: 100 points, >= 60 to qualify), in the part
# the firm table can score: (bar, points), highest bar first. The rest (digitalisation, quality
# management, brand, regional speciality, R&D institution, debt ratio) is
# ``specialised_other_points``.
MAIN_SHARE_POINTS = ((0.80, 5.0), (0.70, 3.0), (0.60, 1.0))
GROWTH_POINTS = ((0.10, 10.0), (0.08, 8.0), (0.06, 6.0), (0.04, 4.0), (0.0, 2.0))
RD_RATIO_POINTS = ((0.10, 10.0), (0.08, 8.0), (0.06, 6.0), (0.04, 4.0), (0.03, 2.0))
RD_STAFF_POINTS = ((0.20, 5.0), (0.10, 3.0), (0.05, 1.0))
MARGIN_POINTS = ((0.10, 10.0), (0.08, 8.0), (0.06, 6.0), (0.04, 4.0), (0.02, 2.0))
INVENTION_IP_POINTS = 12.0  # an own-developed class I item (invention patent)
OTHER_IP_ITEM_POINTS = 3.0  # class II items only (utility models, software copyrights)
NICHE_POINTS_PER_2_YEARS, NICHE_POINTS_MAX = 1.0, 5.0


@dataclass(frozen=True, kw_only=True)
class LadderRules:
    """Criteria of the upper rungs, and what seeking them is worth and costs a firm."""

    # --- SME size (MIIT 2011 classification, industry): medium firms have < 1000 staff or
    sme_max_employees: float = param(
        1000, unit="persons", lo=0, source="MIIT/NBS 2011 SME classification (industry)"
    )
    sme_max_revenue: float = param(
        400, unit="M CNY/yr", lo=0, source="MIIT/NBS 2011 SME classification (industry)"
    )
    # --- specialised-and-sophisticated SME
    specialised_min_years: float = param(
        2, unit="yr", lo=0, hi=50, source=MIIT_2022 + ": >= 2 years in a niche market"
    )
    specialised_min_rd: float = param(
        1.0, unit="M CNY/yr", lo=0, source=MIIT_2022 + ": last year's R&D >= 1 M CNY"
    )
    specialised_min_rd_ratio: float = param(
        0.03, unit="share", lo=0, hi=1, source=MIIT_2022 + ": R&D >= 3% of revenue"
    )
    specialised_min_revenue: float = param(
        10.0, unit="M CNY/yr", lo=0, source=MIIT_2022 + ": revenue >= 10 M CNY, or"
    )
    specialised_min_equity: float = param(
        20.0,
        unit="M CNY",
        lo=0,
        source=MIIT_2022 + ": new equity financing >= 20 M CNY in 2 years (here: guidance-fund "
        "investment received)",
    )
    specialised_min_score: float = param(
        60, unit="points", lo=0, hi=100, source=MIIT_2022 + ": evaluation score >= 60 of 100"
    )
    specialised_other_points: float = param(
        20.0,
        unit="points",
        lo=0,
        hi=50,
        source=ASSUMED + "; range 10-30 of the 48 points the firm table cannot score "
        "(digitalisation, quality, brand, speciality, R&D institution, debt ratio)",
        doc="mean points a firm scores on the criteria not modelled (uniform, 0 to twice this, "
        "at most 48)",
    )
    # --- little giant
    little_giant_min_years: float = param(
        3, unit="yr", lo=0, hi=50, source=MIIT_2022 + ": >= 3 years in the niche"
    )
    little_giant_min_main_share: float = param(
        0.70,
        unit="share",
        lo=0,
        hi=1,
        source=MIIT_2022 + ": main business >= 70% of revenue (here: high-tech product share)",
    )
    little_giant_min_growth: float = param(
        0.05, unit="1/yr", lo=-1, hi=10, source=MIIT_2022 + ": 2-year mean growth >= 5%"
    )
    little_giant_rd_ratio_large: float = param(
        0.03, unit="share", lo=0, hi=1, source=MIIT_2022 + ": revenue >= 100 M: R&D >= 3%"
    )
    little_giant_rd_ratio_medium: float = param(
        0.06, unit="share", lo=0, hi=1, source=MIIT_2022 + ": revenue 50-100 M: R&D >= 6%"
    )
    little_giant_large_revenue: float = param(100.0, unit="M CNY/yr", lo=0, source=MIIT_2022)
    little_giant_medium_revenue: float = param(50.0, unit="M CNY/yr", lo=0, source=MIIT_2022)
    little_giant_small_equity: float = param(
        80.0, unit="M CNY", lo=0, source=MIIT_2022 + ": revenue < 50 M: equity >= 80 M, and"
    )
    little_giant_small_rd: float = param(
        30.0, unit="M CNY", lo=0, source=MIIT_2022 + ": R&D of 2 years >= 30 M, and"
    )
    little_giant_small_rd_staff: float = param(
        0.5, unit="share", lo=0, hi=1, source=MIIT_2022 + ": R&D staff >= 50% of employees"
    )
    little_giant_min_inventions: int = param(
        2, unit="patents", lo=0, hi=1000, source=MIIT_2022 + ": >= 2 class I IP items"
    )
    # --- hidden (single) champion
    champion_min_years: float = param(
        10, unit="yr", lo=0, hi=100, source=CHAMPION + ": >= 10 years in the field"
    )
    champion_min_main_share: float = param(
        0.70,
        unit="share",
        lo=0,
        hi=1,
        source=CHAMPION + ": the product >= 70% of revenue (here: high-tech product share)",
    )
    champion_min_rd_ratio: float = param(
        0.03, unit="share", lo=0, hi=1, source=CHAMPION + ": R&D >= 3% each of 3 years"
    )
    champion_min_revenue: float = param(
        400.0, unit="M CNY/yr", lo=0, source=CHAMPION + ": revenue >= 400 M, or a little giant"
    )
    champion_min_sector_share: float = param(
        0.10,
        unit="share",
        lo=0,
        hi=1,
        source=ASSUMED + "; range 0.05-0.3: stand-in for 'top-3 world market share', the "
        "firm's share of its sector's revenue in the region",
    )
    # --- Chongqing OTC sci-tech board (conditions not confirmed: assumptions)
    otc_min_years: float = param(
        2, unit="yr", lo=0, hi=50, source=ASSUMED + "; range 1-3 years of operation"
    )
    otc_min_revenue: float = param(
        5.0, unit="M CNY/yr", lo=0, source=ASSUMED + "; range 0-20 (going-concern business)"
    )
    # --- STAR market
    star_min_years: float = param(
        3, unit="yr", lo=0, hi=50, source="IPO rules: 3 years of continuous operation"
    )
    star_min_rd_ratio: float = param(
        0.05, unit="share", lo=0, hi=1, source=STAR_RULES + ": 3-year R&D >= 5% of revenue, or"
    )
    star_min_rd_total: float = param(
        60.0, unit="M CNY", lo=0, source=STAR_RULES + ": 3-year R&D >= 60 M CNY"
    )
    star_min_inventions: int = param(
        5, unit="patents", lo=0, hi=10000, source=STAR_RULES + ": >= 5 invention patents"
    )
    star_min_growth: float = param(
        0.20, unit="1/yr", lo=-1, hi=10, source=STAR_RULES + ": 3-year revenue CAGR >= 20%, or"
    )
    star_min_revenue_attribute: float = param(
        300.0, unit="M CNY/yr", lo=0, source=STAR_RULES + ": last year's revenue >= 300 M"
    )
    star_min_market_value: float = param(
        1000.0, unit="M CNY", lo=0, source=STAR_RULES + ": expected market value >= 1 bn"
    )
    star_price_earnings: float = param(
        40.0,
        unit="x",
        lo=1,
        hi=500,
        source=ASSUMED + "; range 20-80 (STAR issue P/E ratios)",
        doc="market value = this x last year's net profit",
    )
    star_min_profit_two_years: float = param(
        50.0, unit="M CNY", lo=0, source=STAR_RULES + ": net profit of 2 years >= 50 M, or"
    )
    star_min_revenue: float = param(
        100.0, unit="M CNY/yr", lo=0, source=STAR_RULES + ": profit > 0 and revenue >= 100 M"
    )
    # --- what seeking a status is worth and costs (assumptions)
    validity_years: int = param(3, unit="yr", lo=1, hi=10, source=MIIT_2022 + ": valid 3 years")
    review_pass_rate: float = param(
        0.8, unit="prob", lo=0, hi=1, source=ASSUMED + "; range 0.5-1", doc="MIIT and STAR review"
    )
    specialised_value: float = param(
        0.1,
        unit="M CNY/yr",
        lo=0.001,
        source=ASSUMED + "; range 0.05-0.5 (loans, procurement, investor attention)",
    )
    little_giant_value: float = param(0.5, unit="M CNY/yr", lo=0.001, source=ASSUMED + "; 0.2-2")
    champion_value: float = param(0.5, unit="M CNY/yr", lo=0.001, source=ASSUMED + "; 0.2-2")
    otc_value: float = param(
        0.1, unit="M CNY/yr", lo=0.001, source=ASSUMED + "; 0.05-0.5 (equity and credit access)"
    )
    star_value: float = param(10.0, unit="M CNY/yr", lo=0.001, source=ASSUMED + "; 5-50")
    specialised_cost: float = param(
        0.7,
        unit="M CNY",
        lo=0.001,
        source="about the cost calibrated on Liangping's 2020 count (0.3-1.7, seeds 0-24); "
        "calibrated on the year-0 count where the plan gives one",
        doc="highest cost of seeking it (a firm's cost is this x its trait)",
    )
    little_giant_cost: float = param(
        2.5, unit="M CNY", lo=0.001, source="ditto (Liangping 2020: 1.7-8.6)"
    )
    champion_cost: float = param(2.5, unit="M CNY", lo=0.001, source=ASSUMED + "; as little giants")
    otc_cost: float = param(3.0, unit="M CNY", lo=0.001, source="ditto (Liangping 2020: 2.5-5.0)")
    star_cost: float = param(30.0, unit="M CNY", lo=0.001, source=ASSUMED + "; ditto (IPO fees)")


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.zeros(len(a)), where=b > 0)


@dataclass
class Quantities:
    """What the criteria read, per firm, as of 31 December of month ``t``."""

    years: np.ndarray  # years since founding (stand-in for years in the niche)
    revenue: np.ndarray  # last year's revenue, M CNY
    rd: np.ndarray  # last year's reported R&D, M CNY
    rd_ratio: np.ndarray  # last year's R&D / revenue
    rd_ratio_2: np.ndarray  # R&D / revenue over 2 years
    rd_2: np.ndarray  # R&D of 2 years, M CNY
    rd_ratio_3: np.ndarray  # R&D / revenue over 3 years
    rd_3: np.ndarray  # R&D of 3 years
    min_rd_ratio_3: np.ndarray  # lowest yearly R&D ratio of 3 years
    growth_2: np.ndarray  # compound revenue growth over 2 years, 1/yr (-1 if unknown)
    growth_3: np.ndarray  # compound growth over 3 years (last year's revenue on 3 years ago's)
    main_share: np.ndarray  # high-tech product share (stand-in for main-business share)
    rd_staff: np.ndarray  # tech staff / employees
    margin: np.ndarray  # net profit / revenue, last year
    profit: np.ndarray  # net profit, last year
    profit_2: np.ndarray  # net profit, the year before
    sector_share: np.ndarray  # share of its sector's revenue among operating firms


def sector_revenues(f) -> np.ndarray:
    """Each sector's revenue of the last booked year, over its operating firms (M CNY)."""
    return operating_sums(f.alive, f.sector, f.revenue_history[:, 0])


@njit(cache=True)
def operating_sums(alive, group, values):
    """Sums of ``values`` by ``group`` (0, 1, ...) over the operating firms.

    Added in row order, as ``np.bincount`` adds them, in one pass without gathering the
    operating firms' rows (half the time of the gather alone at 10^6 firms).
    """
    groups = 1
    for i in range(group.shape[0]):
        groups = max(groups, group[i] + 1)
    sums = np.zeros(groups)
    for i in range(alive.shape[0]):
        if alive[i]:
            sums[group[i]] += values[i]
    return sums


def _years_sum(history: np.ndarray, years: int) -> np.ndarray:
    """Each firm's sum over the last ``years`` booked years, the latest first.

    The same sums as ``history[:, :years].sum(axis=1)``, added in the same order, without
    numpy's slow reduction over a short axis (a tenth of the time).
    """
    total = history[:, 0]
    for y in range(1, years):
        total = total + history[:, y]
    return total


def quantities(f, t: int, sector_revenue: np.ndarray | None = None) -> Quantities:
    """The firm table's values the criteria read.

    ``f`` may hold some rows of the table only, with the whole table's ``sector_revenue``.
    """
    rev, rd = f.revenue_history, f.rd_history
    years = (t - f.birth_month.astype(np.float64)) / 12.0
    full2 = (rev[:, 2] > 0) & (rev[:, 0] > 0) & (years >= 2.999)
    growth_2 = np.where(full2, np.sqrt(_ratio(rev[:, 0], rev[:, 2])) - 1.0, -1.0)
    # "compound growth of the last three years": the first year's revenue to the third's
    growth_3 = growth_2
    yearly = np.where(rev > 0, np.divide(rd, rev, out=np.zeros_like(rd), where=rev > 0), 0.0)
    lowest = yearly[:, 0]
    for y in range(1, HISTORY_YEARS):
        lowest = np.minimum(lowest, yearly[:, y])
    if sector_revenue is None:
        sector_revenue = sector_revenues(f)
    rd_2 = _years_sum(rd, 2)
    rd_3 = _years_sum(rd, 3)
    return Quantities(
        years=years,
        revenue=rev[:, 0],
        rd=rd[:, 0],
        rd_ratio=_ratio(rd[:, 0], rev[:, 0]),
        rd_ratio_2=_ratio(rd_2, _years_sum(rev, 2)),
        rd_2=rd_2,
        rd_ratio_3=_ratio(rd_3, _years_sum(rev, 3)),
        rd_3=rd_3,
        min_rd_ratio_3=np.where(years >= HISTORY_YEARS, lowest, 0.0),
        growth_2=growth_2,
        growth_3=growth_3,
        main_share=f.hitech_product_share,
        rd_staff=_ratio(f.tech_staff, f.employees),
        margin=_ratio(f.profit_history[:, 0], rev[:, 0]),
        profit=f.profit_history[:, 0],
        profit_2=f.profit_history[:, 1],
        sector_share=_ratio(rev[:, 0], sector_revenue[f.sector]),
    )


def specialised_score(f, q: Quantities, rules: LadderRules) -> np.ndarray:
    """The specialised-SME evaluation score (MIIT 2022), as far as the table can score it."""
    niche = np.minimum(
        NICHE_POINTS_MAX, NICHE_POINTS_PER_2_YEARS * np.floor(np.maximum(q.years, 0) / 2)
    )
    ip = np.where(
        f.invention_patents > 0,
        INVENTION_IP_POINTS,
        np.where(f.other_ip > 0, OTHER_IP_ITEM_POINTS, 0.0),
    )
    growth = np.where(q.growth_2 > -1.0, tier_points(q.growth_2, GROWTH_POINTS), 0.0)
    return (
        tier_points(q.main_share, MAIN_SHARE_POINTS)
        + growth
        + niche
        + ip
        + tier_points(q.rd_ratio, RD_RATIO_POINTS)
        + tier_points(q.rd_staff, RD_STAFF_POINTS)
        + tier_points(q.margin, MARGIN_POINTS)
        + f.specialised_points
    )


# The columns the criteria read.
CRITERIA_COLUMNS = (
    "alive", "sector", "birth_month", "revenue_history", "rd_history", "profit_history",
    "employees", "tech_staff", "hitech_product_share", "invention_patents", "other_ip",
    "specialised_points", "equity_received", "little_giant_until", "tech_sme", "hitech_until",
)  # fmt: skip


def criteria(f, rules: LadderRules, t: int, industrial: np.ndarray) -> dict[str, np.ndarray]:
    """Firms that meet each status's criteria on 31 December of month ``t`` (operating ones).

    ``industrial``: per sector, whether it is manufacturing (single champions are). Masks over
    the whole table (``criteria_rows`` gives the rows).
    """
    whole = {}
    for status, rows in criteria_rows(f, rules, t, industrial).items():
        whole[status] = np.zeros(len(f.alive), dtype=bool)
        whole[status][rows] = True
    return whole


def criteria_rows(f, rules: LadderRules, t: int, industrial: np.ndarray) -> dict[str, np.ndarray]:
    """The rows of the firms that meet each status's criteria (``criteria``), in order.

    Only the firms that could meet one are examined (``candidates``): most firms have none of
    the R&D, patents or IP every status asks for.
    """
    rows = candidates(f, rules, t, industrial)
    met = criteria_of(rows_of(f, rows, CRITERIA_COLUMNS), rules, t, industrial, sector_revenues(f))
    return {status: rows[mask] for status, mask in met.items()}


def rows_of(f, rows: np.ndarray, names) -> SimpleNamespace:
    """The columns ``names`` of the firms ``rows``, as attributes."""
    return SimpleNamespace(**{name: getattr(f, name)[rows] for name in names})


def candidates(f, rules: LadderRules, t: int, industrial: np.ndarray) -> np.ndarray:
    """Operating firms with what some status asks for.

    The specialised R&D; an invention patent in a manufacturing firm whose main business is
    large enough (champions); the STAR market's patents; or IP, a tech status and the OTC
    board's revenue.
    """
    return np.flatnonzero(
        candidate_mask(
            f.alive, f.sector, f.invention_patents, f.other_ip, f.tech_sme, f.hitech_until,
            f.hitech_product_share, f.revenue_history, f.rd_history, industrial, t,
            rules.champion_min_main_share, rules.otc_min_revenue, rules.specialised_min_rd,
            rules.star_min_inventions,
        )
    )  # fmt: skip


@njit(cache=True)
def candidate_mask(
    alive, sector, inventions, other_ip, tech_sme, hitech_until, main_share, revenue_history,
    rd_history, industrial, t, champion_min_main_share, otc_min_revenue, specialised_min_rd,
    star_min_inventions,
):  # fmt: skip
    """``candidates`` as a mask, in one pass (a dozen numpy passes over the table before)."""
    mask = np.zeros(alive.shape[0], dtype=np.bool_)
    for i in range(alive.shape[0]):
        # & and | rather than and / or: no branches to mispredict, firms come in no order
        ip = inventions[i] > 0
        tech = bool(tech_sme[i]) | (hitech_until[i] > t)
        champion = ip & industrial[sector[i]] & (main_share[i] >= champion_min_main_share)
        otc = tech & (ip | (other_ip[i] > 0)) & (revenue_history[i, 0] >= otc_min_revenue)
        mask[i] = bool(alive[i]) & (
            (rd_history[i, 0] >= specialised_min_rd)
            | champion
            | (inventions[i] >= star_min_inventions)
            | otc
        )
    return mask


def criteria_of(f, rules, t, industrial, sector_revenue) -> dict[str, np.ndarray]:
    """``criteria`` for the rows ``f`` holds."""
    q = quantities(f, t, sector_revenue)
    alive = f.alive.astype(bool)
    sme = (f.employees < rules.sme_max_employees) & (q.revenue < rules.sme_max_revenue)
    specialised = (
        alive
        & sme
        & (q.years >= rules.specialised_min_years)
        & (q.rd >= rules.specialised_min_rd)
        & (q.rd_ratio >= rules.specialised_min_rd_ratio)
        & (
            (q.revenue >= rules.specialised_min_revenue)
            | (f.equity_received >= rules.specialised_min_equity)
        )
        & (specialised_score(f, q, rules) >= rules.specialised_min_score)
    )
    rd_class = np.where(
        q.revenue >= rules.little_giant_large_revenue,
        q.rd_ratio_2 >= rules.little_giant_rd_ratio_large,
        np.where(
            q.revenue >= rules.little_giant_medium_revenue,
            q.rd_ratio_2 >= rules.little_giant_rd_ratio_medium,
            (f.equity_received >= rules.little_giant_small_equity)
            & (q.rd_2 >= rules.little_giant_small_rd)
            & (q.rd_staff >= rules.little_giant_small_rd_staff),
        ),
    )
    little_giant = (
        specialised
        & (q.years >= rules.little_giant_min_years)
        & (q.main_share >= rules.little_giant_min_main_share)
        & (q.growth_2 >= rules.little_giant_min_growth)
        & rd_class
        & (f.invention_patents >= rules.little_giant_min_inventions)
    )
    champion_base = (
        alive
        & industrial[f.sector]
        & (q.years >= rules.champion_min_years)
        & (q.main_share >= rules.champion_min_main_share)
        & (q.min_rd_ratio_3 >= rules.champion_min_rd_ratio)
        & (f.invention_patents > 0)
        & (q.profit > 0)
        & (q.sector_share >= rules.champion_min_sector_share)
    )
    champion = champion_base & champion_size(f, rules, t)
    tech = f.tech_sme.astype(bool) | (f.hitech_until > t)
    otc = (
        alive
        & tech
        & ((f.invention_patents > 0) | (f.other_ip > 0))
        & (q.years >= rules.otc_min_years)
        & (q.revenue >= rules.otc_min_revenue)
    )
    attribute = (
        (
            (q.rd_ratio_3 >= rules.star_min_rd_ratio)
            | (q.rd_3 >= rules.star_min_rd_total)
        )
        & (f.invention_patents >= rules.star_min_inventions)
        & (
            (q.growth_3 >= rules.star_min_growth)
            | (q.revenue >= rules.star_min_revenue_attribute)
        )
    )  # fmt: skip
    standard_1 = (rules.star_price_earnings * q.profit >= rules.star_min_market_value) & (
        (
            (q.profit > 0)
            & (q.profit_2 > 0)
            & (q.profit + q.profit_2 >= rules.star_min_profit_two_years)
        )
        | ((q.profit > 0) & (q.revenue >= rules.star_min_revenue))
    )
    star = alive & (q.years >= rules.star_min_years) & attribute & standard_1
    return {
        "specialised": specialised,
        "little_giant": little_giant,
        "champion": champion,
        "otc": otc,
        "star": star,
        "champion_base": champion_base,  # all a champion needs but its size (or little giant)
    }


CHAMPION_SIZE_COLUMNS = ("revenue_history", "little_giant_until")


def champion_size(f, rules: LadderRules, t: int) -> np.ndarray:
    """A champion's size: revenue of at least ``champion_min_revenue``, or a little giant."""
    return (f.revenue_history[:, 0] >= rules.champion_min_revenue) | (f.little_giant_until > t)


# A listing has no end date: its "until" month is far beyond any run.
LISTED = 2**30
# Columns holding each status: the last month it is held (NEVER: never held).
UNTIL_COLUMNS = {status: f"{status}_until" for status in STATUSES}


def holders(f, t: int) -> dict[str, np.ndarray]:
    """Operating firms that hold each status after 31 December of month ``t`` (or ``t = -1``)."""
    alive = f.alive.astype(bool)
    held = {s: alive & (getattr(f, UNTIL_COLUMNS[s]) > t) for s in STATUSES}
    # a little giant is a specialised firm (the top tier of the same measures)
    held["specialised"] = held["specialised"] | held["little_giant"]
    return held


def counts(f, t: int) -> dict[str, int]:
    """The plan indicators of the ladder: holders of each status."""
    return {STATUS_INDICATORS[s]: int(np.count_nonzero(m)) for s, m in holders(f, t).items()}


def benefit(rules: LadderRules, awards: dict[str, float]) -> dict[str, float]:
    """What each status is worth to a firm over the years it plans ahead (M CNY)."""
    return {
        s: getattr(rules, f"{s}_value") * rules.validity_years + awards.get(s, 0.0)
        for s in STATUSES
    }


def traits(seed: int, rows: np.ndarray, status: str) -> np.ndarray:
    """Each firm's trait for ``status``: its cost of seeking it, as a share of the highest."""
    purpose = rng.LADDER_TRAIT + STATUSES.index(status)
    return rng.uniforms(seed, rng.INIT_MONTH, rows.astype(np.int64), purpose)


def seeks(seed: int, rows: np.ndarray, status: str, cost: float, worth: float) -> np.ndarray:
    """Which of ``rows`` find ``status`` worth seeking: benefit > cost x trait."""
    return worth > cost * traits(seed, rows, status)


def passes_review(seed: int, t: int, rows: np.ndarray, status: str, rate: float) -> np.ndarray:
    """Applicants of month ``t`` that pass the review (MIIT statuses, STAR)."""
    purpose = rng.LADDER_REVIEW + STATUSES.index(status)
    return rng.uniforms(seed, t, rows.astype(np.int64), purpose) < rate


def year_end(f, rules, t, seed, costs, worth, industrial) -> dict[str, np.ndarray]:
    """The 31 December rounds of the upper rungs, after the kernels' rounds.

    MIIT statuses: holders whose validity ends this month are reviewed and renewed if they still
    qualify and seek the status; qualifying firms that do not hold it and seek it apply and are
    granted it for ``validity_years`` if they pass review. Listings: OTC-board firms without a
    tech status leave the board; qualifying firms that seek a listing list (STAR after review)
    and a STAR-listed firm leaves the OTC board. Returns the firms granted or listed, by status.
    """
    alive = f.alive.astype(bool)
    granted = {}
    met_before = criteria_rows(f, rules, t, industrial)
    for status in STATUSES:
        met = met_before[status]
        if status == "champion":  # champions read the little giants granted just above
            base = met_before["champion_base"]
            met = base[champion_size(rows_of(f, base, CHAMPION_SIZE_COLUMNS), rules, t)]
        until = getattr(f, UNTIL_COLUMNS[status])
        # only firms that meet the criteria and seek the status renew, apply or list
        rows = met[seeks(seed, met, status, costs[status], worth[status])]
        if status in MIIT_STATUSES:
            renew = rows[until[rows] == t]
            until[renew] = t + 12 * rules.validity_years
            applying = rows[alive[rows] & (until[rows] < t)]
            new = applying[passes_review(seed, t, applying, status, rules.review_pass_rate)]
            until[new] = t + 12 * rules.validity_years
        else:
            applying = rows[alive[rows] & (until[rows] <= t)]
            if status == "otc":
                tech = f.tech_sme.astype(bool) | (f.hitech_until > t)
                until[alive & (until > t) & ~tech] = t  # leaves the board
                applying = applying[f.star_until[applying] <= t]  # STAR-listed: no coming back
            if status == "star":
                applying = applying[
                    passes_review(seed, t, applying, status, rules.review_pass_rate)
                ]
            new = applying
            until[new] = LISTED
            if status == "star":
                otc = f.otc_until
                moving = new[otc[new] > t]
                otc[moving] = t  # moves up from the OTC board
        granted[status] = new
    return granted


def update_profit_history(f, profit_before_tax: np.ndarray) -> None:
    """Book the year's net profit (profit before tax less the tax just paid)."""
    f.profit_history[:, 1] = f.profit_history[:, 0]
    f.profit_history[:, 0] = profit_before_tax - f.tax_last_year


OTHER_POINTS_MAX = 48.0  # the evaluation's points the firm table cannot score


def specialised_points(seed: int, rules: LadderRules, rows: np.ndarray) -> np.ndarray:
    """Each firm's points on the criteria not modelled: uniform, 0 to twice the mean, <= 48."""
    u = rng.uniforms(seed, rng.INIT_MONTH, rows.astype(np.int64), rng.LADDER_POINTS)
    return np.minimum(OTHER_POINTS_MAX, 2.0 * rules.specialised_other_points * u)


def lift_specialised(scenario, f, rows: np.ndarray) -> None:
    """Year-0 specialised firms short of the R&D or the years: they have them.

    ``rows`` (SMEs of revenue >= 10 M) have been in the niche 3 years and reported R&D of at
    least 1 M CNY and 3% of revenue (0.1 point above).
    """
    rules = scenario.ladder
    f.birth_month[rows] = np.minimum(f.birth_month[rows], -1 - 12 * HISTORY_YEARS)
    revenue = f.revenue_history[rows, 0]
    ratio = np.maximum(
        rules.specialised_min_rd_ratio + 0.001, 1.001 * rules.specialised_min_rd / revenue
    )
    f.rd_history[rows] = np.maximum(f.rd_history[rows], f.revenue_history[rows] * ratio[:, None])
    f.rd_intensity[rows] = np.maximum(f.rd_intensity[rows], ratio)
    f.rd_intensity_long_run[rows] = np.maximum(f.rd_intensity_long_run[rows], ratio)
    restate_profits(scenario, f, rows)


def lift_specialised_points(scenario, f, rows: np.ndarray, industrial) -> None:
    """``rows`` (short of the specialised score only) hold the points not modelled they need."""
    rules = scenario.ladder
    score = specialised_score(f, quantities(f, -1), rules)
    # a hair above the bar: points + (bar - score) can round to just below it
    needed = f.specialised_points + (rules.specialised_min_score - score) + 1e-9
    f.specialised_points[rows] = np.maximum(f.specialised_points[rows], needed[rows])


def little_giant_candidates(scenario, f, met, u, industrial, needed: int) -> np.ndarray:
    """The year-0 firms lifted to little giants when too few qualify.

    Specialised firms with revenue >= 50 M first, then any SME that large, lowest traits
    first; then the largest SMEs, whose revenue (and staff, R&D) is scaled up to 50 M.
    """
    rules = scenario.ladder
    revenue = f.revenue_history[:, 0]
    sme = (f.employees < rules.sme_max_employees) & (revenue < rules.sme_max_revenue)
    big = sme & ~met & (revenue >= rules.little_giant_medium_revenue)
    specialised = criteria(f, rules, -1, industrial)["specialised"]
    chosen = []
    for pool in (big & specialised, big & ~specialised):
        rows = np.flatnonzero(pool)
        chosen += list(rows[np.argsort(u[rows], kind="stable")])
    rows = np.flatnonzero(sme & ~met & ~big)
    small = rows[np.argsort(-revenue[rows], kind="stable")][: max(0, needed - len(chosen))]
    scale_up_to(f, small, rules.little_giant_medium_revenue * 1.01)
    return np.array((chosen + list(small))[:needed], dtype=np.int64)


def scale_up_to(f, rows: np.ndarray, revenue: float) -> None:
    """``rows`` are as large as ``revenue`` (M CNY/yr), staff and R&D in proportion."""
    for i in rows:
        factor = revenue / max(f.revenue_history[i, 0], 1e-9)
        for name in ("revenue", "employees", "tech_staff"):
            getattr(f, name)[i] *= factor
        f.revenue_history[i] *= factor
        f.rd_history[i] *= factor


def lift_little_giants(scenario, f, rows: np.ndarray, industrial) -> None:
    """``rows`` (specialised firms of revenue >= 50 M) get what a little giant needs at year 0.

    As the registry's and high-growth's year-0 firms do: they are in the niche 3 years, their
    main business (high-tech product share) is 70%, their revenue grew 1 point above the bar
    over two years, they reported the R&D ratio of their revenue class, and they hold two
    invention patents, moved from the firms holding the most (the district's total stays).
    """
    rules = scenario.ladder
    f.birth_month[rows] = np.minimum(f.birth_month[rows], -1 - 12 * HISTORY_YEARS)
    f.hitech_product_share[rows] = np.maximum(
        f.hitech_product_share[rows], rules.little_giant_min_main_share
    )
    for i in rows:
        rev, rd = f.revenue_history[i], f.rd_history[i]
        ratio = rd / np.where(rev > 0, rev, 1.0)
        growth = rules.little_giant_min_growth + 0.01
        if not (rev[2] > 0 and np.sqrt(rev[0] / rev[2]) - 1 >= growth):
            rev[1:] = history_growing_at(rev[:1], np.array([growth]))[0, 1:]
        large = rev[0] >= rules.little_giant_large_revenue
        bar = rules.little_giant_rd_ratio_large if large else rules.little_giant_rd_ratio_medium
        rd[:] = rev * np.maximum(ratio, bar + 0.001)
        f.rd_intensity[i] = max(f.rd_intensity[i], bar + 0.001)
        f.rd_intensity_long_run[i] = max(f.rd_intensity_long_run[i], bar + 0.001)
        short = rules.little_giant_min_inventions - int(f.invention_patents[i])
        while short > 0:
            donors = np.argsort(-f.invention_patents, kind="stable")
            donor = next(d for d in donors if d not in rows and f.alive[d])
            f.invention_patents[donor] -= 1
            f.invention_patents[i] += 1
            short -= 1
    restate_profits(scenario, f, rows)


def _near_specialised(scenario, f, rows, industrial) -> np.ndarray:
    """Which of ``rows`` meet every specialised criterion but the score, and can reach it."""
    rules = scenario.ladder
    q = quantities(f, -1)
    needed = f.specialised_points + (rules.specialised_min_score - specialised_score(f, q, rules))
    relaxed = dict(vars(rules))
    relaxed["specialised_min_score"] = 0.0
    near = criteria(f, LadderRules(**relaxed), -1, industrial)["specialised"]
    return (near & (needed <= OTHER_POINTS_MAX))[rows]


def new_firm_columns(rules: LadderRules, seed: int, first: int, count: int) -> dict:
    """The ladder's columns of new firms (ids ``first``...): no status, their own points."""
    ids = np.arange(first, first + count, dtype=np.int64)
    columns = {name: np.full(count, NEVER, dtype=np.int32) for name in UNTIL_COLUMNS.values()}
    return columns | {"specialised_points": specialised_points(seed, rules, ids)}


def restate_profits(scenario, f, rows: np.ndarray) -> None:
    """The profit history of ``rows``, lifted to a rung, from their restated revenue and R&D."""
    used = ("sector", "productivity", "revenue_history", "rd_history")
    f.profit_history[rows] = year0_profit_history(
        scenario, {name: getattr(f, name)[rows] for name in used}
    )


def year0_profit_history(scenario, cols) -> np.ndarray:
    """Net profit of the two years to year 0: sector margin (and productivity) less R&D and tax."""
    sectors = scenario.population.sectors
    margin = np.array([s.operating_margin for s in sectors])[cols["sector"]]
    margin = margin + scenario.firms.margin_productivity * cols["productivity"]
    before_tax = cols["revenue_history"][:, :2] * margin[:, None] - cols["rd_history"][:, :2]
    rate = in_year(scenario.policy, scenario.baseline_year).standard_tax_rate
    return np.where(before_tax > 0, before_tax * (1.0 - rate), before_tax)


def recognise_year0(scenario, seed: int, cols: dict, worth: dict[str, float]) -> dict[str, float]:
    """Year-0 holders of the upper rungs, and each status's cost of seeking it.

    For a status whose year-0 count the plan table gives (``STATUS_INDICATORS``), the holders
    are that many of the qualifying firms, those with the lowest traits, and the cost puts the
    bar between the last holder's trait and the next qualifying firm's: the rule applied at
    year 0 keeps exactly them. Little giants are chosen before the other specialised firms
    (they count among them); champions after the little giants (they may qualify by being
    one). A status without a year-0 count takes its declared cost and the firms the rule picks.
    MIIT holders were granted in one of the last ``validity_years`` rounds, in equal odds.
    Sets the status columns of ``cols`` and returns {status: cost}.
    """
    rules = scenario.ladder
    n = len(cols["sector"])
    ids = np.arange(n, dtype=np.int64)
    cols["profit_history"] = year0_profit_history(scenario, cols)
    cols["specialised_points"] = specialised_points(seed, rules, ids)
    for status in STATUSES:
        cols[UNTIL_COLUMNS[status]] = np.full(n, NEVER, dtype=np.int32)
    f = _Table(cols)
    industrial = np.array([s.industrial for s in scenario.population.sectors], dtype=bool)
    cohort = 1 + np.floor(
        rng.uniforms(seed, rng.INIT_MONTH, ids, rng.LADDER_COHORT) * rules.validity_years
    )
    until = {s: (-1 + 12 * cohort).astype(np.int32) for s in MIIT_STATUSES}
    until |= {s: np.full(n, LISTED, dtype=np.int32) for s in LISTINGS}
    costs = {}
    for status in ("little_giant", "specialised", "champion", "otc", "star"):
        met = criteria(f, rules, -1, industrial)[status]
        if status == "specialised":
            met &= f.little_giant_until == NEVER  # little giants are counted already
        u = traits(seed, ids, status)
        count = baseline_count(scenario, status)
        if count is not None and status == "specialised":
            count = max(0, count - int(np.count_nonzero(f.little_giant_until != NEVER)))
        qualifying = ids[met]
        if status == "little_giant" and count is not None and count > len(qualifying):
            lifted = little_giant_candidates(
                scenario, f, met, u, industrial, count - len(qualifying)
            )
            lift_little_giants(scenario, f, lifted, industrial)
            lift_specialised_points(scenario, f, lifted, industrial)
            qualifying = ids[criteria(f, rules, -1, industrial)[status]]
            if count > len(qualifying):
                raise InputError(
                    f"{scenario.source}: population: only {len(qualifying)} year-0 firms can be "
                    f"little giants, the plan's baseline (little_giants) is {count}"
                )
        if status == "specialised" and count is not None and count > len(qualifying):
            # like the registry (file_ip_to_stay_registered): the year-0 holders meet the
            # score; those short of it by the points not modelled have them, lowest traits first
            # (or, failing those, SMEs of revenue >= 10 M have the R&D and years they need,
            # and failing those the largest SMEs are 10 M large, as for little giants)
            others = ids[~met & (f.little_giant_until == NEVER)]
            others = others[np.argsort(u[others], kind="stable")]
            near = others[_near_specialised(scenario, f, others, industrial)]
            revenue = f.revenue_history[others, 0]
            sme = (f.employees[others] < rules.sme_max_employees) & (
                revenue < rules.sme_max_revenue
            )
            large = others[sme & (revenue >= rules.specialised_min_revenue)]
            large = large[~np.isin(large, near)]
            short = count - len(qualifying) - len(near) - len(large)
            if short > 0:
                small = others[sme & (revenue < rules.specialised_min_revenue)]
                small = small[~np.isin(small, near)]
                small = small[np.argsort(-f.revenue_history[small, 0], kind="stable")][:short]
                scale_up_to(f, small, rules.specialised_min_revenue * 1.01)
                large = np.concatenate([large, small])
            lifted = np.concatenate([near, large])[: count - len(qualifying)]
            lift_specialised(scenario, f, lifted[np.isin(lifted, large)])
            lift_specialised_points(scenario, f, lifted, industrial)
            qualifying = ids[
                criteria(f, rules, -1, industrial)[status] & (f.little_giant_until == NEVER)
            ]
        if count is None or len(qualifying) == 0:
            costs[status] = getattr(rules, f"{status}_cost")
            held = qualifying[seeks(seed, qualifying, status, costs[status], worth[status])]
        else:
            if count > len(qualifying):
                raise InputError(
                    f"{scenario.source}: population: only {len(qualifying)} year-0 firms meet "
                    f"the criteria of {status} ({STATUS_INDICATORS[status]}), the plan's "
                    f"baseline is {count}"
                )
            order = qualifying[np.argsort(u[qualifying], kind="stable")]
            held = order[:count]
            low = u[held].max() if count else 0.0
            high = u[order[count]] if count < len(order) else 1.0
            costs[status] = worth[status] / ((low + high) / 2.0)
        column = cols[UNTIL_COLUMNS[status]]
        column[held] = until[status][held]
    return costs


def baseline_count(scenario, status: str) -> int | None:
    """The year-0 count of ``status`` in the scenario's plan table, if it has one."""
    plan = scenario.plan
    row = None if plan is None else plan.get(STATUS_INDICATORS[status])
    return None if row is None else int(round(row.baseline))


class _Table:
    """Columns of a dict as attributes, for the criteria (year-0 firms all operate).

    A column the dict leaves out is zero, as ``FirmTable.append`` makes it.
    """

    def __init__(self, cols: dict):
        self.__dict__.update(cols)
        self.alive = np.ones(len(cols["sector"]), dtype=bool)

    def __getattr__(self, name: str) -> np.ndarray:
        dtype, shape, _, _ = FIRM_COLUMNS[name]
        return np.zeros((len(self.alive), *shape), dtype=dtype)
