"""Synthesis of the year-0 firm population and of new firms, from the scenario's profiles.

Every attribute of firm ``i`` is drawn from its own counter-based streams, so the population
depends only on (scenario, seed) and a firm's attributes do not depend on how many firms come
before it in another sector.
"""

import math
from dataclasses import fields
from types import SimpleNamespace

import numpy as np
from numba import njit
from scipy import special

from sim import rng
from sim.agents.firms import HISTORY_YEARS, NEVER, PENDING_SLOTS
from sim.agents.rules import (
    INVENTION_PATENT_POINTS,
    OTHER_IP_MAX_ITEMS,
    OTHER_IP_POINTS,
    RD_POINTS,
    TECH_STAFF_POINTS,
    tier_points,
)

MIN_RD_PER_TECH_STAFF = 0.05  # M CNY/person/yr: floor so firms without R&D keep finite ratios
MAX_RD_PER_TECH_STAFF = 2.0  # M CNY/person/yr


# year-0 status groups, in id order within a sector; "latent": small technology firms not in
# the status tables, unaware of the registry
STATUSES = ("hitech", "tech_sme", "other", "latent")


def initial_population(scenario, seed: int) -> dict[str, np.ndarray]:
    """Columns of the year-0 firms: status groups of every sector, statuses as the scenario says.

    Ids run by sector, then status (``STATUSES``). Every firm is drawn in one pass with its
    group's profile values: a firm's draws depend on its id only, so this gives the same
    firms as drawing group by group.
    """
    sectors = scenario.population.sectors
    counts = np.array([[getattr(s, status) for status in STATUSES] for s in sectors])
    sector = np.repeat(np.arange(len(sectors), dtype=np.int16), counts.sum(axis=1))
    status = np.repeat(np.tile(np.arange(len(STATUSES)), len(sectors)), counts.ravel())
    ids = np.arange(len(sector), dtype=np.int64)
    profiles = scenario.population.profiles
    profile = per_firm_profile([getattr(profiles, s) for s in STATUSES], status)
    median = sector_values(scenario, "revenue_median")[sector]
    # registered and latent firms draw from the fields' shares: a registered firm in the
    # high-tech fields may still lack the three-year R&D ratio, the IP, the score or the age,
    # and certify in a later round (with only the latent firms in the fields, the city's
    # certifications lagged 13-18% in 2019-2020); the other firms make no high-tech products
    in_fields = np.isin(status, [STATUSES.index("latent"), STATUSES.index("tech_sme")])
    # the registry's firms stay within its revenue bar; the region's largest firms are not in
    # the table (population.largest_firm_revenue)
    largest = np.where(
        in_fields,
        min(scenario.population.largest_firm_revenue, scenario.certification.tech_sme_max_revenue),
        scenario.population.largest_firm_revenue,
    )
    columns = draw_firms(
        scenario, seed, ids, sector, profile, median, -1, in_fields=in_fields, largest=largest
    )
    recognised = status <= STATUSES.index("tech_sme")  # certified or registered
    # certified firms are registered too, once the registry exists
    registry = scenario.baseline_year >= scenario.certification.tech_sme_registry_from
    registered = recognised & registry
    columns["tech_sme"] = registered
    backcast_history(scenario, seed, ids, columns)
    certified = status == STATUSES.index("hitech")
    columns["high_growth"] = recognise_high_growth(scenario, seed, columns, registered | certified)
    hitech = np.flatnonzero(status == STATUSES.index("hitech"))
    until, since = certified_cohorts(scenario, seed, ids[hitech])
    columns["hitech_until"][hitech] = until
    columns["hitech_since"][hitech] = since
    report_rd_at_the_bar(scenario, columns, hitech)
    columns["invention_patents"] = allocate_patents(
        seed, profile.patent_weight, scenario.population.valid_invention_patents
    )
    scale_rd_to_region(scenario, columns, status == STATUSES.index("latent"))
    file_ip_to_stay_registered(scenario, columns, registered & (columns["hitech_until"] == NEVER))
    columns["rd_effort"] = columns["rd_intensity"].copy()
    z = rng.normals(seed, rng.INIT_MONTH, ids, rng.INIT_PRODUCTIVITY)
    columns["productivity"] = scenario.firms.productivity_dispersion * z
    columns["taxable_last_year"] = last_year_taxable(scenario, columns)
    columns["registry_aware"] = year0_awareness(scenario, seed, ids, registered | certified)
    return columns


def year0_awareness(scenario, seed: int, ids: np.ndarray, on_ladder: np.ndarray) -> np.ndarray:
    """Which year-0 firms know the ladder (the registry and certification).

    The firms on it, and ``population.registry_aware_share`` of the others: a year 0 some years
    after the registry opened finds its diffusion (docs/model.md 7.8) under way, and the firms
    that learnt of it without qualifying or registering still know it. With the share 0 (the
    default) no draw decides anything.
    """
    share = scenario.population.registry_aware_share
    if share <= 0.0:
        return on_ladder.copy()
    u = rng.uniforms(seed, rng.INIT_MONTH, ids, rng.AWARENESS)
    return on_ladder | (u < share)


def file_ip_to_stay_registered(scenario, columns, which: np.ndarray) -> None:
    """Registered year-0 firms meet the registry's score: the rules would keep them.

    A registered firm short of 60 points holds the utility models / copyrights it needs (as
    firms file them, ``file_ip_to_qualify``), and if still short the tech staff it needs.
    """
    staff = tier_points(columns["tech_staff"] / columns["employees"], TECH_STAFF_POINTS)
    revenue = columns["revenue_history"][:, 0]
    ratio = np.divide(columns["rd_history"][:, 0], revenue, out=np.zeros_like(revenue),
                      where=revenue > 0)  # fmt: skip
    rd = tier_points(ratio, RD_POINTS)
    short = scenario.certification.tech_sme_min_score - staff - rd
    items = np.clip(np.ceil(short / OTHER_IP_POINTS), 0, OTHER_IP_MAX_ITEMS)
    needs = which & (columns["invention_patents"] == 0) & (columns["other_ip"] < items)
    columns["other_ip"][needs] = items[needs].astype(columns["other_ip"].dtype)
    # still short (little R&D and few tech staff): the staff the score needs, lowest tier first
    ip = np.where(
        columns["invention_patents"] > 0,
        INVENTION_PATENT_POINTS,
        OTHER_IP_POINTS * np.minimum(columns["other_ip"], OTHER_IP_MAX_ITEMS),
    )
    short = scenario.certification.tech_sme_min_score - staff - rd - ip
    lifted = np.zeros_like(which)
    for bar, points in reversed(TECH_STAFF_POINTS):
        lift = which & ~lifted & (short > 0) & (points >= staff + short)
        columns["tech_staff"][lift] = bar * columns["employees"][lift]
        lifted |= lift
    # R&D per tech staff as the staff now stand
    columns["rd_per_tech_staff"][lifted] = np.clip(
        columns["rd_history"][lifted, 0] / columns["tech_staff"][lifted],
        MIN_RD_PER_TECH_STAFF,
        MAX_RD_PER_TECH_STAFF,
    )


def last_year_taxable(scenario, columns) -> np.ndarray:
    """Taxable income of the baseline year: profit before R&D, less R&D and its deduction."""
    margin = sector_values(scenario, "operating_margin")[columns["sector"]]
    if "productivity" in columns:  # year-0 firms: productivity drawn, the sector mean ~0
        margin = margin + scenario.firms.margin_productivity * columns["productivity"]
    rd = columns["rd_history"][:, 0]
    deduction = scenario.firms.rd_reference_super_deduction
    return columns["revenue_history"][:, 0] * margin - (1.0 + deduction) * rd


def per_firm_profile(profiles, which: np.ndarray) -> SimpleNamespace:
    """Each firm's values of ``profiles[which[i]]``: arrays, ranges as (low, high) arrays."""
    values = {}
    for field in fields(profiles[0]):
        table = np.array([getattr(p, field.name) for p in profiles], dtype=np.float64)
        if table.ndim == 2:
            values[field.name] = (table[:, 0][which], table[:, 1][which])
        else:
            values[field.name] = table[which]
    return SimpleNamespace(**values)


def scale_rd_to_region(scenario, columns, latent: np.ndarray) -> None:
    """Scale the R&D of unrecognised firms once to match the region's year-0 R&D.

    All firms then perform ``region.firm_rd_share`` of the year-0 gross R&D (rd_gdp_ratio
    baseline x GDP), whatever the seed. Registered and certified firms keep the R&D their
    status requires; the latent firms, the registry's pool, keep theirs next, and the other
    firms' R&D fills what is left. Where the recognised and latent firms alone exceed the
    share, the others do no R&D and the latent firms' R&D is scaled down to fit.
    """
    row = scenario.plan.get("rd_gdp_ratio")
    if row is None:
        return
    target = scenario.region.firm_rd_share * row.baseline / 100.0 * scenario.region.gdp
    recognised = columns["tech_sme"] | (columns["hitech_until"] >= 0)
    latent = latent & ~recognised
    others = ~recognised & ~latent
    rd = columns["rd_history"][:, 0]
    room = max(0.0, target - rd[recognised].sum())
    latent_rd, other_rd = rd[latent].sum(), rd[others].sum()
    if latent_rd + other_rd <= 0:
        return
    latent_factor = min(1.0, room / latent_rd) if latent_rd > 0 else 1.0
    room -= latent_factor * latent_rd
    other_factor = room / other_rd if other_rd > 0 else 1.0
    factor = np.select([latent, others], [latent_factor, other_factor], 1.0)
    columns["rd_intensity"] = columns["rd_intensity"] * factor
    columns["rd_intensity_long_run"] = columns["rd_intensity_long_run"] * factor
    columns["rd_history"] = columns["rd_history"] * factor[:, None]
    columns["rd_per_tech_staff"] = np.clip(
        columns["rd_per_tech_staff"] * factor, MIN_RD_PER_TECH_STAFF, MAX_RD_PER_TECH_STAFF
    )


def entrants(scenario, seed: int, months, first_id: int, births: np.ndarray) -> dict:
    """Columns of the firms founded in ``months``: ``births[j, k]`` in ``months[j]``, sector ``k``.

    Ids run from ``first_id`` by month, then sector. Columns a new firm starts at zero
    (status, history, patents, pipeline) are left out: the firm table fills them with zeros.
    """
    sectors = np.arange(births.shape[1], dtype=np.int16)
    sector = np.repeat(np.tile(sectors, len(months)), births.ravel())
    founded = np.repeat(np.asarray(months, dtype=np.int32), births.sum(axis=1))
    ids = np.arange(first_id, first_id + len(sector), dtype=np.int64)
    median = sector_values(scenario, "entrant_revenue_median")[sector]
    profile = scenario.population.profiles.entrant
    columns = draw_firms(scenario, seed, ids, sector, profile, median, founded, entrant=True)
    columns["rd_effort"] = columns["rd_intensity"].copy()
    return columns


def attracted_firms(scenario, seed: int, month: int, first_id: int, count: int, levers) -> dict:
    """Columns of ``count`` certified firms relocating into the district in ``month``.

    Each goes to a high-tech-industry sector chosen by lottery (any industrial sector if there
    is none), is drawn from the high-tech profile, and keeps its certificate for three years.
    """
    sectors = scenario.population.sectors
    pool = (
        [k for k, s in enumerate(sectors) if s.hitech_industry]
        or [k for k, s in enumerate(sectors) if s.industrial]
        or list(range(len(sectors)))
    )
    ids = np.arange(first_id, first_id + count, dtype=np.int64)
    draws = rng.uniforms(seed, month, ids, rng.ATTRACTION_SECTOR)
    sector = np.array([pool[int(u * len(pool))] for u in draws], dtype=np.int16)
    median = sector_values(scenario, "revenue_median")[sector] * levers.revenue_multiplier
    profile = scenario.population.profiles.hitech
    largest = scenario.population.largest_firm_revenue
    cols = draw_firms(scenario, seed, ids, sector, profile, median, month - 1, largest=largest)
    cols["birth_month"] = np.minimum(cols["birth_month"], month - 13).astype(np.int32)
    backcast_history(scenario, seed, ids, cols, as_of=month - 1)
    cols["hitech_until"] = np.full(count, month - 1 + 36, dtype=np.int32)
    report_rd_at_the_bar(scenario, cols, np.arange(count))
    cols["hitech_since"] = np.full(count, month, dtype=np.int32)
    cols["attracted"] = np.ones(count, dtype=np.bool_)
    cols["rd_effort"] = cols["rd_intensity"].copy()
    cols["taxable_last_year"] = last_year_taxable(scenario, cols)
    cols["registry_aware"] = np.ones(count, dtype=np.bool_)
    return cols


def births_this_month(scenario, seed: int, month: int) -> np.ndarray:
    """New firms of each sector this month: Poisson(births_per_year / 12)."""
    sectors = scenario.population.sectors
    region = rng.REGION_ENTITY + np.arange(len(sectors), dtype=np.int64)
    u = rng.uniforms(seed, month, region, rng.BIRTHS)
    return np.array(
        [rng.poisson_py(s.births_per_year / 12.0, u[k]) for k, s in enumerate(sectors)],
        dtype=np.int64,
    )


def sector_values(scenario, name: str) -> np.ndarray:
    """Attribute ``name`` of every sector, indexed by sector."""
    return np.array([getattr(s, name) for s in scenario.population.sectors])


def size_with_pareto_tail(population, z, dispersion, median, largest):
    """Year-0 revenue over the group median: log-normal, with a truncated Pareto top.

    The top ``size_tail_share`` of each group (by its normal draw ``z``) follows a Pareto law
    of index ``size_tail_index`` from the log-normal's quantile there, truncated at about
    ``largest`` (M CNY/yr, one value or one per firm). Each firm's expected revenue is the
    log-normal's, so the year-0 aggregates (revenue, R&D, value added) stay what the group's
    median and dispersion give.
    """
    lognormal = np.exp(dispersion * z)
    share, alpha = population.size_tail_share, population.size_tail_index
    if share <= 0.0:
        return lognormal
    z_q = special.ndtri(1.0 - share)
    x_q = np.exp(dispersion * z_q)
    cap = np.maximum(largest / np.maximum(median, 1e-12), x_q)
    ratio = x_q / cap  # in (0, 1]
    truncation = 1.0 - ratio**alpha
    shape = lognormal.copy()
    top = np.flatnonzero(z >= z_q)
    v = special.ndtr(-z[top]) / share  # the firm's survival quantile within the tail, in (0, 1]
    shape[top] = x_q[top] * (1.0 - (1.0 - v) * truncation[top]) ** (-1.0 / alpha)
    tail_mean = np.where(
        truncation > 1e-12,
        x_q * tail_mean_factor(alpha, ratio) / np.maximum(truncation, 1e-12),
        x_q,
    )
    mean = np.exp(dispersion**2 / 2.0) * special.ndtr(z_q - dispersion) + share * tail_mean
    return shape * np.exp(dispersion**2 / 2.0) / mean


def tail_mean_factor(alpha, ratio):
    """E[X / x_q] times (1 - ratio^alpha) for a Pareto(alpha) above x_q truncated at x_q / ratio."""
    if abs(alpha - 1.0) < 1e-9:
        return -np.log(ratio)
    return alpha / (alpha - 1.0) * (1.0 - ratio ** (alpha - 1.0))


def draw_firms(
    scenario,
    seed,
    ids,
    sector,
    profile,
    revenue_median,
    as_of,
    entrant=False,
    in_fields=True,
    largest=None,
):
    """Draw the attributes every firm has, for one profile; ``sector`` is each firm's sector.

    An entrant is founded in month ``as_of``; other firms are ``age_years`` old at ``as_of``.
    ``revenue_median`` and an entrant's ``as_of`` are one value or one per firm. Firms where
    ``in_fields`` (one flag, or one per firm) may make their products in the high-tech fields
    (``product_share``). Revenue is log-normal; with ``largest`` (M CNY/yr, one value or one
    per firm) its top follows a Pareto law truncated there (``size_with_pareto_tail``).
    """
    n = len(ids)

    def between(bounds, purpose):
        low, high = bounds
        return low + (high - low) * rng.uniforms(seed, rng.INIT_MONTH, ids, purpose)

    z = rng.normals(seed, rng.INIT_MONTH, ids, rng.INIT_REVENUE)
    dispersion = sector_values(scenario, "revenue_dispersion")[sector]
    median = revenue_median * profile.revenue_multiplier
    if largest is None:
        revenue = median * np.exp(dispersion * z)
    else:
        shape = size_with_pareto_tail(scenario.population, z, dispersion, median, largest)
        revenue = median * shape
    employees = np.maximum(1.0, revenue / sector_values(scenario, "revenue_per_employee")[sector])
    preferred = between(profile.rd_intensity, rng.INIT_RD)
    tech_staff = employees * between(profile.tech_staff_share, rng.INIT_TECH_STAFF)
    rd_per_staff = np.divide(preferred * revenue, tech_staff, out=np.zeros(n), where=tech_staff > 0)
    # a firm without R&D has the preference it would run R&D at (revise_rd_preference)
    performs = rng.uniforms(seed, rng.INIT_MONTH, ids, rng.INIT_RD_PERFORMS)
    performs = performs < profile.rd_performing_share
    low, high = profile.other_ip
    other_ip = np.minimum(
        np.floor(
            low + (high - low + 1) * rng.uniforms(seed, rng.INIT_MONTH, ids, rng.INIT_OTHER_IP)
        ),
        high,
    )
    if entrant:
        birth_month = np.full(n, as_of, dtype=np.int32)
        past = {}  # a new firm has no history and nothing under examination
    else:
        age_months = np.floor(12.0 * between(profile.age_years, rng.INIT_AGE)).astype(np.int32)
        birth_month = (as_of - age_months).astype(np.int32)
        innovations = np.broadcast_to(profile.innovations_per_year, (n,)).astype(np.float64)
        past = {
            "pending_applications": initial_pipeline(scenario, seed, ids, innovations),
            "innovation_history": initial_innovations(seed, ids, innovations),
        }
    return past | {
        "alive": np.ones(n, dtype=np.bool_),
        "sector": sector.astype(np.int16),
        "birth_month": birth_month,
        "exit_month": np.full(n, -1, dtype=np.int32),
        "revenue": revenue,
        "employees": employees,
        "tech_staff": tech_staff,
        "rd_per_tech_staff": np.clip(rd_per_staff, MIN_RD_PER_TECH_STAFF, MAX_RD_PER_TECH_STAFF),
        "rd_intensity": np.where(performs, preferred, 0.0),
        "rd_intensity_long_run": preferred,
        "rd_start_rate": rd_start_rate(profile.rd_performing_share, scenario.firms.rd_stop_rate)
        * np.ones(n),
        "cash": revenue / 12.0 * between(profile.cash_months, rng.INIT_CASH),
        "hitech_product_share": product_share(scenario, seed, ids, sector, profile, in_fields),
        "other_ip": other_ip.astype(np.int32),
        "hitech_until": np.full(n, NEVER, dtype=np.int32),
        "hitech_since": np.full(n, NEVER, dtype=np.int32),
        "innovation_boost": np.ones(n),
        "exit_hazard_factor": np.ones(n),
        "incubated_until": np.full(n, NEVER, dtype=np.int32),
        "loan_due_month": np.full(n, NEVER, dtype=np.int32),
    }


def rd_start_rate(performing_share, stop_rate: float):
    """Yearly chance that a firm without R&D starts, set by the firm's group.

    The group's share of R&D performers (``performing_share``) is then stationary: starts
    balance stops (``stop_rate``).

    A group that all performs gets 1: a firm that stops resumes at its next year end.
    """
    share = np.asarray(performing_share, dtype=np.float64)
    balanced = stop_rate * share / np.maximum(1.0 - share, 1e-12)
    return np.minimum(balanced, 1.0)


def product_share(scenario, seed, ids, sector, profile, in_fields) -> np.ndarray:
    """Share of income from high-tech products: the profile's, or more for in-field firms.

    A firm whose main products lie in the high-tech fields (``hitech_field_share`` of its
    sector; only where ``in_fields``) earns from the HNTE minimum share up to all its income
    from them.
    """
    low, high = profile.hitech_product_share
    share = low + (high - low) * rng.uniforms(seed, rng.INIT_MONTH, ids, rng.INIT_PRODUCT_SHARE)
    in_field = sector_values(scenario, "hitech_field_share")[sector]
    u = rng.uniforms(seed, rng.INIT_MONTH, ids, rng.INIT_FIELD)
    bar = scenario.certification.hitech_min_product_share
    field = bar + (1.0 - bar) * np.divide(u, in_field, out=np.zeros_like(u), where=in_field > 0)
    return np.where(in_fields & (u < in_field), np.maximum(share, field), share)


def backcast_history(scenario, seed, ids, cols, as_of=-1):
    """Revenue and R&D of the three years to month ``as_of`` (a December).

    Growth is drawn from the sector's process: its mean demand growth and volatility.
    """
    sector = cols["sector"]
    z = rng.normals(seed, rng.INIT_MONTH, ids, rng.INIT_GROWTH)
    volatility = sector_values(scenario, "revenue_volatility")[sector]
    growth = sector_values(scenario, "revenue_growth")[sector] + volatility * z
    cols["revenue_history"] = history_growing_at(cols["revenue"], growth)
    # a firm younger than three years has only part of the early years
    age_months = as_of - cols["birth_month"].astype(np.float64)
    for y in range(HISTORY_YEARS):
        cols["revenue_history"][:, y] *= np.clip((age_months + 1 - 12 * y) / 12.0, 0.0, 1.0)
    cols["rd_history"] = cols["revenue_history"] * cols["rd_intensity"][:, None]


def history_growing_at(revenue: np.ndarray, growth: np.ndarray) -> np.ndarray:
    """Three years of revenue ending at ``revenue``, growing at ``growth`` a year."""
    return np.stack([revenue, revenue / (1 + growth), revenue / (1 + growth) ** 2], axis=1)


def qualifies_high_growth(scenario, cols, recognised: np.ndarray, t: int = -1) -> np.ndarray:
    """Recognised firms that meet the high-growth criteria on 31 December of month ``t``.

    As the year-end round (``kernels.high_growth_round``) sees them, before take-up.
    """
    rules = scenario.certification
    history = cols["revenue_history"]
    full = cols["birth_month"] <= t - 12 * HISTORY_YEARS
    growth = np.sqrt(np.divide(history[:, 0], history[:, 2], out=np.zeros(len(history)),
                               where=history[:, 2] > 0)) - 1.0  # fmt: skip
    return (
        recognised
        & full
        & (history[:, 0] >= rules.high_growth_min_revenue)
        & (history[:, 2] > 0)
        & (growth >= rules.high_growth_min_growth)
    )


def seeks_high_growth(seed: int, n: int) -> np.ndarray:
    """Each firm's trait draw: it seeks the recognition if the draw is below the take-up."""
    return rng.uniforms(seed, rng.INIT_MONTH, np.arange(n, dtype=np.int64), rng.HIGH_GROWTH_TAKE_UP)


def recognise_high_growth(scenario, seed, cols, recognised) -> np.ndarray:
    """The year-0 high-growth firms: in each sector, its count of qualifying firms that seek it.

    The back-cast histories come from the sector's growth process, so more recognised firms
    qualify than the status table counts; those that hold the recognition are the qualifying
    firms with the lowest trait draws (``seeks_high_growth``), so a take-up rate between their
    draws and the next one's reproduces the table (``high_growth_take_up``). A sector with
    fewer qualifying firms than its count has its recognised firms with the lowest draws grow
    above the bar over the three years (and be that old) until it has them.
    """
    counts = sector_values(scenario, "high_growth")
    draws = seeks_high_growth(seed, len(recognised))
    qualifying = qualifies_high_growth(scenario, cols, recognised)
    bar = scenario.certification.high_growth_min_growth
    big = recognised & (cols["revenue"] >= scenario.certification.high_growth_min_revenue)
    flagged = np.zeros_like(recognised)
    for k, count in enumerate(counts):
        mine = np.flatnonzero(qualifying & (cols["sector"] == k))
        short = count - len(mine)
        if short > 0:
            others = np.flatnonzero(big & ~qualifying & (cols["sector"] == k))
            lifted = others[np.argsort(draws[others], kind="stable")[:short]]
            lift_above(cols, lifted, bar + 0.02)
            mine = np.concatenate([mine, lifted])
        flagged[mine[np.argsort(draws[mine], kind="stable")[:count]]] = True
    return flagged


def lift_above(cols, rows: np.ndarray, growth: float) -> None:
    """Give ``rows`` three years of history growing at ``growth`` a year."""
    cols["birth_month"][rows] = np.minimum(cols["birth_month"][rows], -1 - 12 * HISTORY_YEARS)
    cols["revenue_history"][rows] = history_growing_at(
        cols["revenue"][rows], np.full(len(rows), growth)
    )
    cols["rd_history"][rows] = cols["revenue_history"][rows] * cols["rd_intensity"][rows, None]


def high_growth_take_up(scenario, seed, cols) -> np.ndarray:
    """Each sector's take-up of the high-growth recognition, calibrated on the year-0 stock.

    Between the highest trait draw of the sector's high-growth firms and the lowest draw of
    its other qualifying firms (1 if none), so the year-0 firms hold it as the table says; a
    sector with none takes the share of the qualifying firms that hold it in the region.
    """
    recognised = cols["tech_sme"] | (cols["hitech_until"] != NEVER)
    qualifying = qualifies_high_growth(scenario, cols, recognised)
    draws = seeks_high_growth(seed, len(recognised))
    flagged = cols["high_growth"].astype(bool)
    pooled = flagged.sum() / max(qualifying.sum(), 1)
    take_up = np.full(len(scenario.population.sectors), pooled)
    for k in range(len(take_up)):
        held = draws[flagged & (cols["sector"] == k)]
        others = draws[qualifying & ~flagged & (cols["sector"] == k)]
        if len(held) or len(others):
            low = held.max() if len(held) else 0.0
            high = others.min() if len(others) else 1.0
            take_up[k] = (low + high) / 2.0
    return take_up


def report_rd_at_the_bar(scenario, columns, rows) -> None:
    """Certified firms have reported at least the HNTE R&D ratio of their revenue class.

    A certified firm whose preferred intensity is below its bar booked R&D at the bar (part of
    it relabelled, ``rd_target``): so its history passes the renewal it faces, and the
    bunching at the thresholds is in the year-0 stock.
    """
    rules = scenario.certification
    revenue = columns["revenue_history"][rows]
    bar = np.select(
        [revenue <= rules.hitech_small_revenue, revenue <= rules.hitech_large_revenue],
        [rules.hitech_rd_ratio_small, rules.hitech_rd_ratio_medium],
        rules.hitech_rd_ratio_large,
    )
    ratio = np.maximum(columns["rd_intensity"][rows, None], bar + scenario.firms.threshold_margin)
    columns["rd_history"][rows] = revenue * ratio


def certified_cohorts(scenario, seed, ids):
    """(hitech_until, hitech_since) of year-0 certified firms, in the last rounds alike.

    A firm belongs to each of the last ``validity`` yearly rounds in equal odds.
    """
    validity = scenario.certification.hitech_validity_years
    u = rng.uniforms(seed, rng.INIT_MONTH, ids, rng.INIT_CERT_COHORT)
    years_left = 1 + np.floor(u * validity).astype(np.int32)  # 1..validity
    until = (-1 + 12 * years_left).astype(np.int32)
    return until, (until - 12 * validity).astype(np.int32)


@njit(cache=True)
def initial_innovations(seed, ids, rates):
    """Innovations in each of the three years to year 0: Poisson(``rates[i]``) for firm i."""
    out = np.zeros((ids.shape[0], HISTORY_YEARS), dtype=np.int32)
    month_key = rng.month_key(seed, rng.INIT_MONTH)
    rate, none = np.nan, 1.0  # a group's firms share a rate: its exp is taken once
    for i in range(ids.shape[0]):
        if rates[i] != rate:
            rate, none = rates[i], math.exp(-rates[i])
        key = rng.entity_key(month_key, ids[i])
        for y in range(HISTORY_YEARS):
            u = rng.draw(key, rng.INIT_INNOVATIONS + 100 * (y + 1))
            out[i, y] = rng.poisson_known_zero(rate, none, u)
    return out


def initial_pipeline(scenario, seed, ids, innovations_per_year):
    """Invention applications filed before year 0 and still under examination.

    A firm files at rate innovations_per_year * invention_application_probability / 12;
    an application filed in month -m with lag L is decided in month L - m when that is >= 0.
    """
    firms = scenario.firms
    rate = innovations_per_year * firms.invention_application_probability / 12.0
    lags = np.arange(firms.grant_lag_min, firms.grant_lag_max + 1)
    # share of past filing months whose decision falls on month `due`, for each `due`
    weights = np.mean(lags > np.arange(firms.grant_lag_max)[:, None], axis=1)
    return applications_by_decision_month(seed, ids, rate, weights)


@njit(cache=True)
def applications_by_decision_month(seed, ids, rates, weights):
    """Poisson(rates[i] * weights[due]) applications of firm i decided in month ``due``.

    Slot ``due mod 24``. One compiled loop instead of two array calls per decision month.
    """
    pending = np.zeros((ids.shape[0], PENDING_SLOTS), dtype=np.uint16)
    month_key = rng.month_key(seed, rng.INIT_MONTH)
    # a group's firms share a rate: the chance of no application due in each month, which
    # most draws fall under, is worked out once per run of equal rates, not per firm
    none = np.empty(weights.shape[0])
    rate = np.nan
    for i in range(ids.shape[0]):
        if rates[i] <= 0.0:
            continue  # Poisson(0) is 0 whatever the draw
        if rates[i] != rate:
            rate = rates[i]
            for due in range(weights.shape[0]):
                none[due] = math.exp(-(rate * weights[due]))
        key = rng.entity_key(month_key, ids[i])
        for due in range(weights.shape[0]):  # in order: a later month overwrites its slot
            u = rng.draw(key, 200 + due)
            applications = rng.poisson_known_zero(rate * weights[due], none[due], u)
            pending[i, due % PENDING_SLOTS] = applications
    return pending


def allocate_patents(seed, weights, total):
    """Hand out ``total`` year-0 invention patents to firms in proportion to ``weights``."""
    held = np.zeros(len(weights), dtype=np.int32)
    if total == 0 or weights.sum() <= 0:
        return held
    cumulative = np.cumsum(weights) / weights.sum()
    patents = rng.REGION_ENTITY + np.arange(total, dtype=np.int64)
    u = rng.uniforms(seed, rng.INIT_MONTH, patents, rng.INIT_PATENT_OWNER)
    owners = np.minimum(np.searchsorted(cumulative, u, side="right"), len(weights) - 1)
    return np.bincount(owners, minlength=len(weights)).astype(np.int32)
