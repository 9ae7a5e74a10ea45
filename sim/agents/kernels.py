"""Numba kernels of the firm step: monthly firm dynamics and the 31 December status rounds.

Small scalar helpers are inlined (``inline="always"``): a call that is not inlined, made from a
function that holds the firm table, costs far more than the work it does.

Each kernel loops over firms, in chunks shared out to Numba's threads (``prange``) when the
table is large, on the calling thread when it is small; a firm's update reads and writes only
its own row and draws only from its own counter-based streams, so results do not depend on the
number of threads. The equations are those of docs/model.md (section 7, submodels), one a line; the
plain-Python twin in ``reference.py`` is the readable specification they are tested against.
"""

import functools
import math

import numba
import numpy as np
from numba import njit, prange

from sim import rng
from sim.agents.firms import HISTORY_YEARS, NEVER, PENDING_SLOTS, FirmArrays
from sim.agents.rules import (
    INVENTION_PATENT_POINTS,
    OTHER_IP_MAX_ITEMS,
    OTHER_IP_POINTS,
    RD_POINTS,
    TECH_STAFF_POINTS,
    SectorParams,
)

# ------------------------------------------------------------------------- calling kernels


class DirectCall:
    """A compiled kernel, called without Numba's type dispatch at every call.

    Numba works out the type of every argument at every call; for the firm table, a namedtuple
    of ~50 arrays, that takes longer than a district month's firm step itself (measured in
    docs/benchmarks.md). Here the
    types are summed up cheaply (``type_key``) and the machine code compiled for them is looked
    up once, then called directly (``Dispatcher.compile`` returns it).
    """

    def __init__(self, kernel):
        self.kernel = kernel
        self.compiled = {}

    def __call__(self, *args):
        """Run the kernel on ``args``; the first call with new types compiles or loads it."""
        key = tuple(map(type_key, args))
        compiled = self.compiled.get(key)
        if compiled is None:
            compiled = self.kernel.compile(tuple(map(self.kernel.typeof_pyval, args)))
            self.compiled[key] = compiled
        return compiled(*args)


def type_key(value):
    """What decides the Numba type of an argument, found far faster than Numba's own typing."""
    kind = type(value)
    if kind is np.ndarray:
        return (value.dtype.str, value.ndim, value.flags.c_contiguous, value.flags.writeable)
    if kind in ARRAY_TUPLES:
        return kind
    if issubclass(kind, tuple):
        return (kind, *map(type, value))
    return kind


# ----------------------------------------------------------------------------- monthly step


CHUNK = 512  # firms per task of the parallel loops: a call per chunk, not per firm
# Below this many rows a kernel runs on the calling thread: starting the thread pool costs
# more than the work it would share out (district runs, batch workers; docs/benchmarks.md).
PARALLEL_MIN_ROWS = 8 * CHUNK


def on_threads(rows: int) -> bool:
    """Whether a kernel over ``rows`` firms is shared out to Numba's threads."""
    return rows >= PARALLEL_MIN_ROWS and numba.get_num_threads() > 1


def step_month(f, sectors, r, month, seed, policy):
    """Advance every operating firm by one month under the ``PolicyInForce`` of the month."""
    key = np.uint64(rng.month_key(seed, month))
    cost_factors = month_cost_factors(
        policy, r.rd_reference_super_deduction, r.rd_user_cost_elasticity
    )
    n = f.alive.shape[0]
    if not on_threads(n):
        MONTH_CHUNK(f, sectors, r, month, key, policy, cost_factors, 0, n)
    else:
        MONTHS_IN_PARALLEL(f, sectors, r, month, key, policy, cost_factors)


@njit(cache=True, parallel=True)
def months_in_parallel(f, sectors, r, month, key, policy, cost_factors):
    """``month_chunk`` over all firms, chunk by chunk on Numba's threads."""
    n = f.alive.shape[0]
    for chunk in prange((n + CHUNK - 1) // CHUNK):
        start, stop = chunk * CHUNK, min(n, (chunk + 1) * CHUNK)
        month_chunk(f, sectors, r, month, key, policy, cost_factors, start, stop)


# The chunk loops run without Numba's reference counting (_nrt=False): they allocate nothing,
# and counting the ~50 arrays of the firm table at every inlined helper cost more than the firm
# step itself (docs/benchmarks.md). Results are bit-identical.
@njit(cache=True, _nrt=False)
def month_chunk(f, sectors, r, month, month_key, policy, cost_factors, start, stop):
    """Firms ``start`` to ``stop`` (the firm step is inlined into this loop)."""
    for i in range(start, stop):
        if f.alive[i]:
            key = rng.entity_key(month_key, i)
            firm_month(f, sectors, r, i, month, key, policy, cost_factors)


@njit(cache=True, inline="always")
def firm_month(f, sectors, r, i, t, key, policy, cost_factors):
    """One firm, one month: market, R&D, innovation, patents, staff, accounts, exit.

    ``key`` is the firm's random-stream key of the month (``rng.entity_key``).
    """
    k = f.sector[i]
    certified = f.hitech_until[i] >= t
    industrial = sectors.industrial[k]
    has_voucher = f.voucher_balance[i] > 0.0
    tax_rate = tax_rate_of(policy, certified)
    super_deduction = super_deduction_of(policy, industrial)
    sales = f.revenue[i] / 12.0  # M CNY this month

    z = rng.draw_normal(key, rng.DEMAND)
    sigma = sectors.volatility[k]
    growth = (sectors.growth[k] - 0.5 * sigma * sigma) / 12.0 + sigma * math.sqrt(1.0 / 12.0) * z
    growth += f.growth_boost[i] / 12.0

    cost_factor = cost_factors[np.int64(certified), np.int64(industrial), np.int64(has_voucher)]
    intensity = planned_rd_intensity(r, f.rd_intensity[i], f.revenue[i], cost_factor)
    rd = min(intensity * sales, r.rd_cash_share * max(f.cash[i], 0.0))  # M CNY
    voucher = min(f.voucher_balance[i], voucher_rate_of(policy, has_voucher) * rd)  # M CNY

    zeta = r.innovation_zeta * f.innovation_boost[i]
    # without R&D the chance is 1 - exp(0) = 0: most firms skip the draw and the exp
    if rd > 0.0 and rng.draw(key, rng.INNOVATION) < 1.0 - math.exp(-zeta * rd):
        jump = r.jump_max * kumaraswamy(rng.draw(key, rng.JUMP), r.jump_a, r.jump_b)
        growth += math.log1p(jump)
        f.innovations_ytd[i] += 1
        if jump >= policy.major_product_jump and (f.tech_sme[i] or certified):
            f.major_products_ytd[i] += 1
        f.hitech_product_share[i] += r.hitech_product_step * (1.0 - f.hitech_product_share[i])
        protect_innovation(f, r, i, t, key)
    decide_patents(f, r, i, t, key)

    f.revenue[i] *= math.exp(growth)
    f.employees[i] = max(1.0, f.employees[i] * math.exp(r.employment_elasticity * growth))
    wanted_staff = 12.0 * rd / f.rd_per_tech_staff[i] if rd > 0.0 else 0.0
    f.tech_staff[i] += r.staff_adjustment * (wanted_staff - f.tech_staff[i])
    f.tech_staff[i] = min(f.tech_staff[i], f.employees[i])

    interest = f.loan_balance[i] * f.loan_rate[i] / 12.0
    profit = sales * sectors.margin[k] - rd - interest  # M CNY before tax
    tax = tax_rate * max(profit - super_deduction * rd, 0.0)
    f.cash[i] += profit - tax + voucher
    f.interest_ytd[i] += interest
    f.rd_spend[i] = rd
    f.revenue_ytd[i] += sales
    f.tax_ytd[i] += tax
    if rd > 0.0:  # most firms do no R&D: their R&D books stay as they are
        f.voucher_balance[i] -= voucher
        f.voucher_used_ytd[i] += voucher
        f.services_bought_ytd[i] += policy.services_share * rd
        f.rd_ytd[i] += rd

    young = t - f.birth_month[i] < r.young_age_months
    hazard = r.young_exit_per_month if young else r.exit_per_month
    if f.cash[i] < 0.0:
        hazard += r.distress_exit_hazard
    if rng.draw(key, rng.EXIT) < hazard * f.exit_hazard_factor[i]:
        f.alive[i] = False
        f.exit_month[i] = t


@njit(cache=True, inline="always")
def tax_rate_of(policy, certified):
    """Income-tax rate: the reduced rate while high-tech certified."""
    return policy.tax_hitech if certified else policy.tax_standard


@njit(cache=True, inline="always")
def super_deduction_of(policy, industrial):
    """Extra deduction, share of R&D: industrial firms have a rate of their own."""
    return policy.super_deduction_industrial if industrial else policy.super_deduction_other


@njit(cache=True, inline="always")
def voucher_rate_of(policy, has_voucher):
    """Share of its R&D a firm holding unspent vouchers has paid by them."""
    return policy.voucher_cost_share * policy.services_share if has_voucher else 0.0


@functools.lru_cache(maxsize=64)
def month_cost_factors(policy, reference_super_deduction, elasticity):
    """``user_cost_factors``, computed once per policy in force (it changes once a year)."""
    factors = user_cost_factors(policy, reference_super_deduction, elasticity)
    factors.flags.writeable = False  # shared by every month under this policy
    return factors


@njit(cache=True)
def user_cost_factors(policy, reference_super_deduction, elasticity):
    """This month's R&D user-cost factor of each kind of firm, [certified, industrial, voucher].

    A firm's factor depends on these three only, so eight ``pow`` a month replace one a firm.
    (Two rules, not all of ``Rules``, are passed: unboxing costs time per item of a tuple.)
    """
    factors = np.empty((2, 2, 2))
    for certified in range(2):
        tax_rate = tax_rate_of(policy, certified == 1)
        for industrial in range(2):
            super_deduction = super_deduction_of(policy, industrial == 1)
            for voucher in range(2):
                voucher_rate = voucher_rate_of(policy, voucher == 1)
                price = (1.0 - voucher_rate) * (1.0 - policy.rd_subsidy_rate)
                factors[certified, industrial, voucher] = user_cost_factor(
                    tax_rate, super_deduction, price, reference_super_deduction, elasticity
                )
    return factors


@njit(cache=True, inline="always")
def hitech_rd_threshold(r, revenue):
    """The HNTE minimum R&D/revenue ratio for a firm of this revenue (M CNY/yr)."""
    if revenue <= r.hitech_small_revenue:
        return r.hitech_rd_ratio_small
    if revenue <= r.hitech_large_revenue:
        return r.hitech_rd_ratio_medium
    return r.hitech_rd_ratio_large


@njit(cache=True, inline="always")
def user_cost_factor(tax_rate, super_deduction, price, reference_super_deduction, elasticity):
    """How the user cost of R&D scales a firm's preferred R&D intensity.

    ``price`` is the share of R&D cost the firm pays itself after vouchers and subsidies.
    """
    user_cost = max(price - tax_rate * (1.0 + super_deduction), 0.05)
    # preferences were observed under the reference deduction at the firm's own tax rate
    reference = max(1.0 - tax_rate * (1.0 + reference_super_deduction), 0.05)
    return (user_cost / reference) ** (-elasticity)


@njit(cache=True, inline="always")
def planned_rd_intensity(r, preferred, revenue, cost_factor):
    """R&D/revenue planned: preference scaled by the user cost, bunched at the HNTE bar."""
    intensity = preferred * cost_factor
    threshold = hitech_rd_threshold(r, revenue)
    if threshold - r.threshold_band <= intensity < threshold:
        intensity = threshold + r.threshold_margin
    return intensity


@njit(cache=True, inline="always")
def kumaraswamy(u, a, b):
    """Inverse CDF of the Kumaraswamy(a, b) distribution on [0, 1] (a Beta look-alike)."""
    return (1.0 - (1.0 - u) ** (1.0 / b)) ** (1.0 / a)


@njit(cache=True, inline="always")
def protect_innovation(f, r, i, t, key):
    """File an invention application, or register a utility model / software copyright."""
    u = rng.draw(key, rng.PATENT_APPLICATION)
    p_invention = r.invention_application_probability
    if u < p_invention:
        span = r.grant_lag_max - r.grant_lag_min + 1
        lag = r.grant_lag_min + int(rng.draw(key, rng.GRANT_LAG) * span)
        f.pending_applications[i, (t + lag) % PENDING_SLOTS] += 1
        f.applications_ytd[i] += 1
    elif u < p_invention + (1.0 - p_invention) * r.other_ip_probability:
        f.other_ip[i] += 1


@njit(cache=True, inline="always")
def decide_patents(f, r, i, t, key):
    """Applications due this month are granted or refused; valid patents may lapse.

    A firm with nothing due, or no patent held, draws nothing for it: a binomial of zero
    trials is zero whatever the uniform.
    """
    slot = t % PENDING_SLOTS
    due = np.int64(f.pending_applications[i, slot])
    held = np.int64(f.invention_patents[i])  # a patent granted this month cannot lapse yet
    if due > 0:
        f.pending_applications[i, slot] = 0
        grants = rng.binomial(due, r.grant_probability, rng.draw(key, rng.GRANT))
        f.invention_patents[i] += grants
        f.grants_ytd[i] += grants
    if held > 0:
        f.invention_patents[i] -= rng.binomial(held, r.lapse_per_month, rng.draw(key, rng.LAPSE))


# ----------------------------------------------------------------------- 31 December rounds


def close_year(f, r, month, seed, cultivation_pass_bonus):
    """Year end for every operating firm: book the year, then certification and registry."""
    key = np.uint64(rng.month_key(seed, month))
    n = f.alive.shape[0]
    if not on_threads(n):
        YEAR_END_CHUNK(f, r, month, key, cultivation_pass_bonus, 0, n)
    else:
        YEAR_ENDS_IN_PARALLEL(f, r, month, key, cultivation_pass_bonus)


@njit(cache=True, parallel=True)
def year_ends_in_parallel(f, r, month, key, cultivation_pass_bonus):
    """``year_end_chunk`` over all firms, chunk by chunk on Numba's threads."""
    n = f.alive.shape[0]
    for chunk in prange((n + CHUNK - 1) // CHUNK):
        start, stop = chunk * CHUNK, min(n, (chunk + 1) * CHUNK)
        year_end_chunk(f, r, month, key, cultivation_pass_bonus, start, stop)


@njit(cache=True, _nrt=False)
def year_end_chunk(f, r, month, month_key, cultivation_pass_bonus, start, stop):
    """Firms ``start`` to ``stop`` on 31 December."""
    for i in range(start, stop):
        if f.alive[i]:
            key = rng.entity_key(month_key, i)
            firm_year_end(f, r, i, month, key, cultivation_pass_bonus)


@njit(cache=True, inline="always")
def firm_year_end(f, r, i, t, key, cultivation_pass_bonus):
    """One firm on 31 December (its steps are inlined here, not into the parallel loop)."""
    book_year(f, i)
    certification_round(f, r, i, t, key, cultivation_pass_bonus)
    registry_round(f, r, i, t, key)
    high_growth_round(f, r, i, t)


@njit(cache=True, inline="always")
def book_year(f, i):
    """Shift the three-year histories and start a new year."""
    for y in range(HISTORY_YEARS - 1, 0, -1):
        f.revenue_history[i, y] = f.revenue_history[i, y - 1]
        f.rd_history[i, y] = f.rd_history[i, y - 1]
        f.innovation_history[i, y] = f.innovation_history[i, y - 1]
    f.revenue_history[i, 0] = f.revenue_ytd[i]
    f.rd_history[i, 0] = f.rd_ytd[i]
    f.innovation_history[i, 0] = f.innovations_ytd[i]
    f.applications_last_year[i] = f.applications_ytd[i]
    f.grants_last_year[i] = f.grants_ytd[i]
    f.tax_last_year[i] = f.tax_ytd[i]
    f.revenue_ytd[i] = 0.0
    f.rd_ytd[i] = 0.0
    f.tax_ytd[i] = 0.0
    f.innovations_ytd[i] = 0
    f.applications_ytd[i] = 0
    f.grants_ytd[i] = 0


@njit(cache=True, inline="always")
def rd_ratio(f, i, years):
    """R&D / revenue over the last ``years`` booked years (those the firm existed in)."""
    rd = 0.0
    revenue = 0.0
    for y in range(years):
        if f.revenue_history[i, y] > 0.0:
            rd += f.rd_history[i, y]
            revenue += f.revenue_history[i, y]
    return rd / revenue if revenue > 0.0 else 0.0


@njit(cache=True, inline="always")
def yearly_growth(f, i, t):
    """Compound yearly revenue growth over the last two booked years; 0 without 3 full years."""
    full_history = f.birth_month[i] <= t - 12 * HISTORY_YEARS
    if not full_history or f.revenue_history[i, 2] <= 0.0 or f.revenue_history[i, 0] <= 0.0:
        return 0.0
    return math.sqrt(f.revenue_history[i, 0] / f.revenue_history[i, 2]) - 1.0


@njit(cache=True, inline="always")
def tech_staff_share(f, i):
    """Tech staff as a share of employment."""
    return f.tech_staff[i] / f.employees[i]


@njit(cache=True, inline="always")
def hitech_score(f, r, i, t):
    """HNTE innovation score out of 100.

    IP 30, transfer of results 30, R&D management 20, growth 20: a documented simplification
    of the 2016 expert scoring (docs/model.md).
    """
    ip = min(30.0, 6.0 + 8.0 * f.invention_patents[i] + 4.0 * f.other_ip[i])
    innovations = (
        f.innovation_history[i, 0] + f.innovation_history[i, 1] + f.innovation_history[i, 2]
    )
    transfer = min(30.0, 10.0 + 6.0 * innovations)
    threshold = hitech_rd_threshold(r, f.revenue_history[i, 0])
    management = 10.0 + 10.0 * min(1.0, max(0.0, rd_ratio(f, i, 3) - threshold) / threshold)
    growth = min(20.0, max(0.0, 10.0 + 40.0 * yearly_growth(f, i, t)))
    return ip + transfer + management + growth


@njit(cache=True, inline="always")
def meets_hitech_criteria(f, r, i, t):
    """The 2016 HNTE criteria, as far as the firm table records them."""
    age = t - f.birth_month[i]
    has_core_ip = f.invention_patents[i] > 0 or f.other_ip[i] > 0
    threshold = hitech_rd_threshold(r, f.revenue_history[i, 0])
    return (
        age >= r.hitech_min_age_months
        and has_core_ip
        and tech_staff_share(f, i) >= r.hitech_min_tech_staff_share
        and rd_ratio(f, i, 3) >= threshold
        and f.hitech_product_share[i] >= r.hitech_min_product_share
        and hitech_score(f, r, i, t) >= r.hitech_min_score
    )


@njit(cache=True, inline="always")
def certification_round(f, r, i, t, key, cultivation_pass_bonus):
    """Audit of certified firms, then applications and renewals, decided on 31 December.

    Firms in the cultivation pool always apply and pass review more often.
    """
    if f.hitech_until[i] > t:
        below = rd_ratio(f, i, 1) < hitech_rd_threshold(r, f.revenue_history[i, 0])
        if below and rng.draw(key, rng.HITECH_AUDIT) < r.hitech_audit_rate:
            f.hitech_until[i] = t  # status withdrawn at this round
        return
    renewing = f.hitech_until[i] == t
    u_apply = rng.draw(key, rng.HITECH_APPLICATION)
    applies = renewing or f.cultivated[i] or u_apply < r.hitech_application_rate
    pass_rate = r.hitech_review_pass_rate
    if f.cultivated[i]:
        pass_rate = min(1.0, pass_rate + cultivation_pass_bonus)
    if applies and meets_hitech_criteria(f, r, i, t):
        if rng.draw(key, rng.HITECH_REVIEW) < pass_rate:
            f.hitech_until[i] = t + r.hitech_validity_months
            if f.hitech_since[i] == NEVER:
                f.hitech_since[i] = t


@njit(cache=True, inline="always")
def tech_sme_score(f, i):
    """Technology-based SME score out of 100 (tech staff 20, R&D 50, IP 30), 2017 rules."""
    return (
        tech_staff_points(tech_staff_share(f, i))
        + rd_points(rd_ratio(f, i, 1))
        + ip_points(f.invention_patents[i], f.other_ip[i])
    )


@njit(cache=True, inline="always")
def tier_points(value, tiers):
    """Points of the first tier whose bar ``value`` reaches (tiers highest first); 0 below all."""
    for bar, points in tiers:
        if value >= bar:
            return points
    return 0.0


@njit(cache=True, inline="always")
def tech_staff_points(share):
    """Tech-staff points of the tech-SME score (``TECH_STAFF_POINTS``)."""
    return tier_points(share, TECH_STAFF_POINTS)


@njit(cache=True, inline="always")
def rd_points(ratio):
    """R&D/sales points of the tech-SME score (``RD_POINTS``)."""
    return tier_points(ratio, RD_POINTS)


@njit(cache=True, inline="always")
def ip_points(invention_patents, other_ip):
    """IP points: full marks for an invention patent, else points per other item, capped."""
    if invention_patents > 0:
        return INVENTION_PATENT_POINTS
    return OTHER_IP_POINTS * min(other_ip, OTHER_IP_MAX_ITEMS)


@njit(cache=True, inline="always")
def registry_round(f, r, i, t, key):
    """Technology-based SME registry: size limits, then certified firms or a score >= 60."""
    assets = f.revenue_history[i, 0] * r.assets_to_revenue + max(f.cash[i], 0.0)
    small = (
        f.employees[i] <= r.tech_sme_max_employees
        and f.revenue_history[i, 0] <= r.tech_sme_max_revenue
        and assets <= r.tech_sme_max_assets
    )
    certified = f.hitech_until[i] > t
    scored = (
        tech_sme_score(f, i) >= r.tech_sme_min_score
        and tech_staff_points(tech_staff_share(f, i)) > 0.0
    )
    if not (small and (certified or scored)):
        f.tech_sme[i] = False
    elif not f.tech_sme[i]:
        u = rng.draw(key, rng.REGISTRATION)
        f.tech_sme[i] = u < r.tech_sme_registration_rate


@njit(cache=True, inline="always")
def high_growth_round(f, r, i, t):
    """High-growth technology firm: registered or certified, with sustained revenue growth."""
    recognised = f.tech_sme[i] or f.hitech_until[i] > t
    f.high_growth[i] = (
        recognised
        and f.revenue_history[i, 0] >= r.high_growth_min_revenue
        and yearly_growth(f, i, t) >= r.high_growth_min_growth
    )


# The kernels as step_month and close_year call them from Python.
MONTH_CHUNK = DirectCall(month_chunk)
MONTHS_IN_PARALLEL = DirectCall(months_in_parallel)
YEAR_END_CHUNK = DirectCall(year_end_chunk)
YEAR_ENDS_IN_PARALLEL = DirectCall(year_ends_in_parallel)
# Namedtuples of arrays whose builders fix every array's dtype, shape and layout: FirmTable
# and build_sector_params.
ARRAY_TUPLES = (FirmArrays, SectorParams)
