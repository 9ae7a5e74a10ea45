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
from sim.agents.firms import HISTORY_YEARS, LOSS_YEARS, NEVER, PENDING_SLOTS, FirmArrays
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
        # flags.num holds every flag Numba's array type reads (C/F contiguity, alignment,
        # writeable) in one int: twice as fast as reading two of them by name
        return (value.dtype, value.ndim, value.flags.num)
    if kind in ARRAY_TUPLES:
        return kind
    if issubclass(kind, tuple):
        return tuple_key(value)
    return kind


# id -> (tuple, its key). The rules are one tuple of ~70 scalars for a whole run: summing up
# their types anew took ~2 us a call, a tenth of the call's overhead.
TUPLE_KEYS: dict = {}


def tuple_key(value: tuple):
    """``type_key`` of a tuple, remembered per object (its items, so their types, cannot change)."""
    known = TUPLE_KEYS.get(id(value))
    if known is not None and known[0] is value:
        return known[1]
    key = (type(value), *map(type, value))
    if len(TUPLE_KEYS) >= 64:  # policies are new tuples each month: keep the memo small
        TUPLE_KEYS.clear()
    TUPLE_KEYS[id(value)] = (value, key)  # holding the tuple keeps its id from being reused
    return key


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
    cost_factors = month_cost_factors(
        policy, r.rd_reference_super_deduction, r.rd_user_cost_elasticity, r.loss_value
    )
    # the sector means' running sums: made here, so the compiled call allocates nothing
    scratch = np.empty((2, sectors.mean_productivity.shape[0]))
    if not on_threads(f.alive.shape[0]):
        MONTH_ON_THIS_THREAD(f, sectors, r, month, seed, policy, cost_factors, scratch)
    else:
        MONTHS_IN_PARALLEL(f, sectors, r, month, seed, policy, cost_factors, scratch)


@njit(cache=True, inline="always")
def sector_means(f, sectors, scratch):
    """Each sector's revenue-weighted mean log productivity: the bar firms compete against.

    ``scratch`` holds the running sums (2 x sectors), overwritten.
    """
    means = sectors.mean_productivity
    weights = scratch[0]
    sums = scratch[1]
    for k in range(means.shape[0]):
        weights[k] = 0.0
        sums[k] = 0.0
    for i in range(f.alive.shape[0]):
        if f.alive[i]:
            k = f.sector[i]
            weights[k] += f.revenue[i]
            sums[k] += f.revenue[i] * f.productivity[i]
    for k in range(means.shape[0]):
        if weights[k] > 0.0:
            means[k] = sums[k] / weights[k]


# The month's one compiled call from Python: sector_means and the month key are computed
# inside it, and it allocates nothing, so it runs without Numba's reference counting
# (_nrt=False). Unboxing the firm table's ~80 arrays then takes ~1 us instead of ~4 us, and a
# district run makes 60 such calls (docs/benchmarks.md).
@njit(cache=True, _nrt=False)
def month_on_this_thread(f, sectors, r, month, seed, policy, cost_factors, scratch):
    """``sector_means``, then ``month_chunk`` over all firms on the calling thread."""
    sector_means(f, sectors, scratch)
    key = rng.month_key(seed, month)
    month_chunk(f, sectors, r, month, key, policy, cost_factors, 0, f.alive.shape[0])


@njit(cache=True, parallel=True)
def months_in_parallel(f, sectors, r, month, seed, policy, cost_factors, scratch):
    """``sector_means``, then ``month_chunk`` over all firms, chunk by chunk on Numba's threads."""
    sector_means(f, sectors, scratch)
    key = rng.month_key(seed, month)
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
    for row in range(start, stop):
        i = np.uint64(row)  # unsigned: no negative-index wraparound at each of ~40 column reads
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
    sales = f.revenue[i] / 12.0  # M CNY this month
    mean_k = sectors.mean_productivity[k]
    growth = market_growth(f, sectors, r, i, key)

    # R&D: a target from preference, user cost and thresholds; the effort moves toward it
    has_voucher = f.voucher_balance[i] > 0.0
    taxpaying = f.taxable_last_year[i] > 0.0
    cost_factor = cost_factors[
        np.int64(certified),
        np.int64(sectors.industrial[k]),
        np.int64(f.tech_sme[i]),
        np.int64(has_voucher),
        np.int64(taxpaying),
    ]
    target, bar = rd_target(f, sectors, r, i, t, policy, f.rd_intensity[i] * cost_factor)
    f.rd_effort[i] += r.rd_adjustment_per_month * (target - f.rd_effort[i])
    # R&D is a programme a firm runs or not: one that stops stops at once (x 1.0 or 0.0, no branch)
    f.rd_effort[i] *= target > 0.0
    relabelled = max(bar - f.rd_effort[i], 0.0)  # the books reach the bar before real R&D does
    deployed = equity_rd_of_month(f, i)
    rd = min(f.rd_effort[i] * sales + deployed, r.rd_cash_share * max(f.cash[i], 0.0))
    voucher = min(f.voucher_balance[i], voucher_rate_of(policy, has_voucher) * rd)  # M CNY

    # without R&D the chance is 1 - exp(0) = 0: most firms skip the draw and the exp
    if rd > 0.0 and sales > 0.0:
        effort = r.innovation_zeta * f.innovation_boost[i] * rd / sales
        u = rng.draw(key, rng.INNOVATION)
        # 1 - exp(-effort) <= effort (+ rounding): most draws fail without the exp
        if u < effort + 1e-12 and u < 1.0 - math.exp(-effort):
            innovate(f, r, i, t, key, policy, certified)
    decide_patents(f, r, i, t, key)
    f.productivity[i] += (
        r.imitation_rate / 12.0 * (sectors.mean_productivity[k] - f.productivity[i])
    )

    f.revenue[i] *= math.exp(growth)
    f.employees[i] = max(1.0, f.employees[i] * math.exp(r.employment_elasticity * growth))
    # no branch on rd > 0 (a third of firms, in no order): a mispredicted branch costs more
    wanted_staff = 12.0 * rd / f.rd_per_tech_staff[i]
    f.tech_staff[i] += r.staff_adjustment * (wanted_staff - f.tech_staff[i])
    f.tech_staff[i] = min(f.tech_staff[i], f.employees[i])

    interest = interest_of_month(f, i)
    margin = sectors.margin[k] + r.margin_productivity * (f.productivity[i] - mean_k)
    profit = sales * margin - rd - interest  # M CNY before tax (tax: 31 December)
    f.cash[i] += profit + voucher
    pay_out(f, r, i)
    f.profit_ytd[i] += profit
    f.rd_spend[i] = rd
    f.revenue_ytd[i] += sales
    if interest != 0.0 or deployed != 0.0:  # few firms hold a loan or a fund ticket
        f.interest_ytd[i] += interest
        f.equity_rd_left[i] -= deployed
    if rd > 0.0 or relabelled > 0.0:  # most firms do no R&D: their R&D books stay as they are
        f.voucher_balance[i] -= voucher
        f.voucher_used_ytd[i] += voucher
        f.services_bought_ytd[i] += policy.services_share * rd
        f.rd_ytd[i] += rd + relabelled * sales
        f.rd_relabelled_ytd[i] += relabelled * sales

    young = t - f.birth_month[i] < r.young_age_months
    hazard = r.young_exit_per_month if young else r.exit_per_month
    if f.cash[i] < 0.0:
        hazard += r.distress_exit_hazard
    if rng.draw(key, rng.EXIT) < hazard * f.exit_hazard_factor[i] * f.size_exit_factor[i]:
        f.alive[i] = False
        f.exit_month[i] = t


@njit(cache=True, inline="always")
def equity_rd_of_month(f, i):
    """Fund money spent on R&D this month (M CNY): the pace, until the ticket's R&D part is spent.

    Few firms hold a fund ticket: the others' pace is not read (a column less to stream).
    """
    if f.equity_rd_left[i] > 0.0:
        return min(f.equity_rd_per_month[i], f.equity_rd_left[i])
    return 0.0


@njit(cache=True, inline="always")
def interest_of_month(f, i):
    """Interest on the knowledge-value loan this month (M CNY); few firms hold one."""
    if f.loan_balance[i] != 0.0:
        return f.loan_balance[i] * f.loan_rate[i] / 12.0
    return 0.0


@njit(cache=True, inline="always")
def market_growth(f, sectors, r, i, key):
    """This month's log revenue growth: demand, competition, shocks, incubator support.

    Sector demand grows at ``growth``; a firm gains share in proportion to its productivity
    above the sector's revenue-weighted mean (replicator dynamics), so one firm's gain is its
    rivals' loss. Shocks shrink with size (``growth_volatility``, set each 31 December); part
    of them come as lumpy events. The drift's correction is the sector's, so a firm's expected
    growth rises as its size falls (small firms' shocks are larger).
    """
    k = f.sector[i]
    sigma, sigma_k = f.growth_volatility[i], sectors.volatility[k]
    omega = r.event_variance_share
    growth = (sectors.growth[k] - 0.5 * sigma_k * sigma_k) / 12.0
    growth += r.competition_chi / 12.0 * (f.productivity[i] - sectors.mean_productivity[k])
    growth += sigma * math.sqrt((1.0 - omega) / 12.0) * rng.draw_gaussian(key, rng.DEMAND)
    if rng.draw(key, rng.DEMAND_EVENT) < r.event_per_month:
        growth += sigma * math.sqrt(omega / r.event_rate) * rng.draw_gaussian(key, rng.EVENT_SIZE)
    return growth + f.growth_boost[i] / 12.0


@njit(cache=True, inline="always")
def growth_volatility(sectors, r, k, revenue):
    """A firm's growth volatility for the year: its sector's, scaled down with its size."""
    size = max(revenue, 1e-6) / sectors.median_revenue[k]
    return sectors.volatility[k] * min(3.0, size ** (-r.size_volatility_exponent))


@njit(cache=True, inline="always")
def size_exit_factor(sectors, r, k, revenue):
    """A firm's exit hazard relative to a firm of its sector's median size, for the year."""
    size = max(revenue, 1e-6) / sectors.median_revenue[k]
    return min(r.size_exit_cap, size ** (-r.size_exit_exponent))


@njit(cache=True, inline="always")
def size_effects(sectors, r, k, revenue):
    """What a firm's size sets for the year: (growth volatility, exit hazard factor).

    Takes the firm's values, not the firm table: a per-firm helper handed the whole table made
    the loop below 40x slower.
    """
    return growth_volatility(sectors, r, k, revenue), size_exit_factor(sectors, r, k, revenue)


@njit(cache=True)
def set_size_effects_of(f, sectors, r, start, stop):
    """``size_effects`` of firms ``start`` to ``stop`` (new firms, at entry)."""
    for i in range(start, stop):
        f.growth_volatility[i], f.size_exit_factor[i] = size_effects(
            sectors, r, f.sector[i], f.revenue[i]
        )


@njit(cache=True, inline="always")
def innovate(f, r, i, t, key, policy, certified):
    """A success: productivity jumps; a major new product, high-tech income, IP may follow."""
    jump = r.jump_max * kumaraswamy(rng.draw(key, rng.JUMP), r.jump_a, r.jump_b)
    f.productivity[i] += math.log1p(jump)
    f.innovations_ytd[i] += 1
    if jump >= policy.major_product_jump and (f.tech_sme[i] or certified):
        f.major_products_ytd[i] += 1
    f.hitech_product_share[i] += r.hitech_product_step * (1.0 - f.hitech_product_share[i])
    protect_innovation(f, r, i, t, key)


@njit(cache=True, inline="always")
def pay_out(f, r, i):
    """Cash above the firm's target holding is paid out to its owners, a share a month.

    Borrowed cash is not: it is held to repay the loan.
    """
    excess = f.cash[i] - f.loan_balance[i] - r.cash_target_years * f.revenue[i]
    # without a branch (firms above and below their target come in no order); x - 0.0 == x
    payout = r.payout_rate * max(excess, 0.0)
    f.cash[i] -= payout
    f.payout_ytd[i] += payout


@njit(cache=True, inline="always")
def rd_target(f, sectors, r, i, t, policy, preferred):
    """(real R&D/revenue the firm aims at, reported R&D/revenue it books at least) this month.

    ``preferred`` is its preference at today's user cost. A firm below the R&D bar of a
    status it can otherwise reach (high-tech certification first, else the tech-SME
    registry's score) reaches for the bar when the yearly benefit of the status exceeds the
    yearly cost of the extra R&D, of which a share is relabelled rather than real (Chen et
    al. 2021): its real R&D moves toward the rest, and its books report the bar meanwhile.
    """
    target, bar = reach_for_hitech(f, sectors, r, i, t, policy, preferred)
    if bar > 0.0:
        return target, bar
    return reach_for_registry(f, sectors, r, i, t, policy, preferred)


@njit(cache=True, inline="always")
def reach_for_hitech(f, sectors, r, i, t, policy, preferred):
    """(target, bar) toward the HNTE R&D bar if worth it, else (``preferred``, 0)."""
    if not aims_at_hitech(f, r, i, t):
        return preferred, 0.0
    bar = hitech_rd_threshold(r, f.revenue[i]) + r.threshold_margin
    if preferred >= bar:
        return preferred, 0.0
    cost = extra_rd_cost(f, sectors, r, i, policy, bar - preferred)
    cost += r.hitech_application_cost / r.hitech_validity_years
    if not has_core_ip(f, i):
        cost += r.ip_item_cost / r.hitech_validity_years
    benefit = hitech_benefit(f, r, i, policy) + policy.award_new_hitech / r.hitech_validity_years
    if benefit < cost:
        return preferred, 0.0
    return preferred + (1.0 - r.relabel_share) * (bar - preferred), bar


@njit(cache=True, inline="always")
def reach_for_registry(f, sectors, r, i, t, policy, preferred):
    """(target, bar) toward the R&D tier the tech-SME score needs if worth it, else (preferred, 0).

    A small, uncertified R&D performer that knows the registry and has tech staff needs the
    R&D points its staff and IP (all the items it may file) leave short of the score.
    """
    if not (preferred > 0.0 and f.registry_aware[i] and f.hitech_until[i] <= t):
        return preferred, 0.0
    if f.employees[i] > r.tech_sme_max_employees or f.revenue[i] > r.tech_sme_max_revenue:
        return preferred, 0.0
    staff = tech_staff_points(tech_staff_share(f, i))
    ip = (
        INVENTION_PATENT_POINTS
        if f.invention_patents[i] > 0
        else OTHER_IP_POINTS * OTHER_IP_MAX_ITEMS
    )
    bar = registry_rd_bar(r.tech_sme_min_score - staff - ip)
    if staff == 0.0 or bar <= 0.0:
        return preferred, 0.0
    bar += r.threshold_margin
    if preferred >= bar:
        return preferred, 0.0
    cost = extra_rd_cost(f, sectors, r, i, policy, bar - preferred) + r.tech_sme_compliance_cost
    if registration_benefit(f, sectors, r, i, policy) < cost:
        return preferred, 0.0
    return preferred + (1.0 - r.relabel_share) * (bar - preferred), bar


@njit(cache=True, inline="always")
def registry_rd_bar(points):
    """The lowest R&D/revenue tier worth ``points`` of the score; 0 if none needed, -1 if none."""
    if points <= 0.0:
        return 0.0
    bar = -1.0
    for tier, tier_points in RD_POINTS:  # highest first: the last that suffices is the lowest
        if tier_points >= points:
            bar = tier
    return bar


@njit(cache=True, inline="always")
def extra_rd_cost(f, sectors, r, i, policy, gap):
    """Yearly after-tax cost of raising reported R&D by ``gap`` x revenue, part relabelled."""
    rate = policy.tax_standard if f.taxable_last_year[i] > 0.0 else 0.0
    deduction = deduction_of(policy, sectors.industrial[f.sector[i]], f.tech_sme[i])
    real_gap = (1.0 - r.relabel_share) * gap
    return real_gap * f.revenue[i] * (1.0 - rate * (1.0 + deduction))


@njit(cache=True, inline="always")
def hitech_benefit(f, r, i, policy):
    """What the high-tech status is worth to a firm a year (M CNY/yr).

    The tax saving on its profit at the reduced rate, and the programmes and reputation the
    status opens.
    """
    saving = (policy.tax_standard - policy.tax_hitech) * max(f.taxable_last_year[i], 0.0)
    return saving + r.hitech_status_value


@njit(cache=True, inline="always")
def aims_at_hitech(f, r, i, t):
    """Whether a firm expects to pass the high-tech review once its R&D is at the bar.

    What it cannot change within a year must hold: its products lie in the high-tech fields,
    it knows the ladder (``registry_aware``) and it is old enough by the next round. Its
    innovation score must pass with R&D at the bar, counting the results that R&D would bring
    over three years. Tech staff come with the R&D; a missing core IP item is filed or bought
    (``file_core_ip``).
    """
    if not (
        f.hitech_product_share[i] >= r.hitech_min_product_share  # the rarest first
        and f.registry_aware[i]
        and t - f.birth_month[i] >= r.hitech_min_age_months - 12
    ):
        return False
    bar = hitech_rd_threshold(r, f.revenue[i]) + r.threshold_margin
    per_month = 1.0 - math.exp(-r.innovation_zeta * f.innovation_boost[i] * bar)
    results = max(innovations_in_three_years(f, i), 36.0 * per_month)
    score = score_besides_rd(f, i, t, ip_items_at_round(f, i), results) + 10.0
    return score >= r.hitech_min_score


@njit(cache=True, inline="always")
def has_core_ip(f, i):
    """An invention patent, or a utility model / software copyright (HNTE core IP)."""
    return f.invention_patents[i] > 0 or f.other_ip[i] > 0


@njit(cache=True, inline="always")
def ip_items_at_round(f, i):
    """Utility models / copyrights the firm will hold at the round: one filed if it has no IP."""
    return f.other_ip[i] if has_core_ip(f, i) else 1


@njit(cache=True, inline="always")
def tax_rate_of(policy, certified):
    """Income-tax rate: the reduced rate while high-tech certified."""
    return policy.tax_hitech if certified else policy.tax_standard


@njit(cache=True, inline="always")
def deduction_of(policy, industrial, tech_sme):
    """Extra deduction, share of R&D: by sector kind; a tech SME takes the larger rate."""
    rate = policy.super_deduction_industrial if industrial else policy.super_deduction_other
    if tech_sme:
        rate = max(rate, policy.super_deduction_tech_sme)
    return rate


@njit(cache=True, inline="always")
def voucher_rate_of(policy, has_voucher):
    """Share of its R&D a firm holding unspent vouchers has paid by them."""
    return policy.voucher_cost_share * policy.services_share if has_voucher else 0.0


@functools.lru_cache(maxsize=64)
def month_cost_factors(policy, reference_super_deduction, elasticity, loss_value):
    """``user_cost_factors``, computed once per policy in force (it changes once a year)."""
    factors = user_cost_factors(policy, reference_super_deduction, elasticity, loss_value)
    factors.flags.writeable = False  # shared by every month under this policy
    return factors


@njit(cache=True)
def user_cost_factors(policy, reference_super_deduction, elasticity, loss_value):
    """The month's R&D user-cost factor of each kind of firm.

    Indexed [certified, industrial, tech SME, holds vouchers, paid tax last year]: a firm's
    factor depends on these only, so 32 ``pow`` a month replace one a firm. A firm that made a
    loss values a deduction at ``loss_value`` of a taxpayer's (it is carried forward).
    (Three rules, not all of ``Rules``, are passed: unboxing costs time per item of a tuple.)
    """
    factors = np.empty((2, 2, 2, 2, 2))
    for certified in range(2):
        for industrial in range(2):
            for tech_sme in range(2):
                deduction = deduction_of(policy, industrial == 1, tech_sme == 1)
                for voucher in range(2):
                    voucher_rate = voucher_rate_of(policy, voucher == 1)
                    price = (1.0 - voucher_rate) * (1.0 - policy.rd_subsidy_rate)
                    for taxpaying in range(2):
                        rate = tax_rate_of(policy, certified == 1)
                        rate *= 1.0 if taxpaying == 1 else loss_value
                        factors[certified, industrial, tech_sme, voucher, taxpaying] = (
                            user_cost_factor(
                                rate, deduction, price, reference_super_deduction, elasticity
                            )
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

    ``price`` is the share of R&D cost the firm pays itself after vouchers and subsidies;
    ``tax_rate`` the firm's effective rate. Preferences were formed under the reference
    deduction at the firm's own rate, so only changes of deduction, price or tax position move
    R&D here; the reduced high-tech rate acts through the threshold (``rd_target``).
    """
    user_cost = max(price - tax_rate * (1.0 + super_deduction), 0.05)
    reference = max(1.0 - tax_rate * (1.0 + reference_super_deduction), 0.05)
    return (user_cost / reference) ** (-elasticity)


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
    """Applications due this month are granted or refused.

    A firm with nothing due draws nothing: a binomial of zero trials is zero whatever the
    uniform.
    """
    slot = t % PENDING_SLOTS
    due = np.int64(f.pending_applications[i, slot])
    if due > 0:
        f.pending_applications[i, slot] = 0
        grants = rng.binomial(due, r.grant_probability, rng.draw(key, rng.GRANT))
        f.invention_patents[i] += grants
        f.grants_ytd[i] += grants


@njit(cache=True, inline="always")
def lapse_patents(f, r, i, key):
    """Patents whose yearly fee is not paid lapse (decided once a year, on 31 December)."""
    held = np.int64(f.invention_patents[i])
    if held > 0:
        f.invention_patents[i] -= rng.binomial(held, r.patent_lapse_rate, rng.draw(key, rng.LAPSE))


# ----------------------------------------------------------------------- 31 December rounds


def close_year(f, sectors, r, month, seed, policy, cultivation_pass_bonus):
    """Year end for every operating firm: book the year and its tax; status rounds."""
    key = np.uint64(rng.month_key(seed, month))
    traits = np.uint64(rng.month_key(seed, rng.INIT_MONTH))  # a firm's draws fixed for life
    REGISTERED_SHARES(f, sectors)
    n = f.alive.shape[0]
    if not on_threads(n):
        YEAR_END_CHUNK(f, sectors, r, month, key, traits, policy, cultivation_pass_bonus, 0, n)
    else:
        YEAR_ENDS_IN_PARALLEL(f, sectors, r, month, key, traits, policy, cultivation_pass_bonus)


@njit(cache=True)
def registered_shares(f, sectors):
    """Each sector's share of operating firms in the tech-SME registry (word of mouth)."""
    shares = sectors.registered_share
    firms = np.zeros(shares.shape[0])
    registered = np.zeros(shares.shape[0])
    for i in range(f.alive.shape[0]):
        if f.alive[i]:
            firms[f.sector[i]] += 1.0
            registered[f.sector[i]] += f.tech_sme[i]
    for k in range(shares.shape[0]):
        shares[k] = registered[k] / firms[k] if firms[k] > 0.0 else 0.0


@njit(cache=True, parallel=True)
def year_ends_in_parallel(f, sectors, r, month, key, traits, policy, cultivation_pass_bonus):
    """``year_end_chunk`` over all firms, chunk by chunk on Numba's threads."""
    n = f.alive.shape[0]
    for chunk in prange((n + CHUNK - 1) // CHUNK):
        start, stop = chunk * CHUNK, min(n, (chunk + 1) * CHUNK)
        year_end_chunk(
            f, sectors, r, month, key, traits, policy, cultivation_pass_bonus, start, stop
        )


@njit(cache=True, _nrt=False)
def year_end_chunk(
    f, sectors, r, month, month_key, traits, policy, cultivation_pass_bonus, start, stop
):
    """Firms ``start`` to ``stop`` on 31 December."""
    for row in range(start, stop):
        i = np.uint64(row)  # unsigned, as in ``month_chunk``
        if f.alive[i]:
            key = rng.entity_key(month_key, i)
            trait_key = rng.entity_key(traits, i)
            firm_year_end(f, sectors, r, i, month, key, trait_key, policy, cultivation_pass_bonus)


@njit(cache=True, inline="always")
def firm_year_end(f, sectors, r, i, t, key, trait_key, policy, cultivation_pass_bonus):
    """One firm on 31 December (its steps are inlined here, not into the parallel loop)."""
    pay_income_tax(f, sectors, r, i, t, policy)
    book_year(f, i)
    lapse_patents(f, r, i, key)
    f.growth_volatility[i], f.size_exit_factor[i] = size_effects(
        sectors, r, f.sector[i], f.revenue[i]
    )
    revise_rd_preference(f, r, i, key)
    certification_round(f, r, i, t, key, policy, cultivation_pass_bonus)
    registry_round(f, sectors, r, i, t, key, policy)
    high_growth_round(f, sectors, r, i, t, trait_key)


@njit(cache=True, inline="always")
def pay_income_tax(f, sectors, r, i, t, policy):
    """The year's corporate income tax, with the super-deduction and losses carried forward.

    Taxable income is profit less the extra deduction of reported R&D; losses of up to
    ``loss_carry_years`` back (more for certified firms and tech SMEs) are set off, oldest
    first. Also books the tax forgone through the deduction and through the reduced rate.
    """
    certified = f.hitech_until[i] >= t
    recognised = certified or f.tech_sme[i]
    deduction = deduction_of(policy, sectors.industrial[f.sector[i]], f.tech_sme[i])
    rate = tax_rate_of(policy, certified)
    carry = policy.loss_carry_years_recognised if recognised else policy.loss_carry_years
    carried = 0.0
    for age in range(LOSS_YEARS):
        if age < carry:
            carried += f.tax_losses[i, age]
    taxable = f.profit_ytd[i] - deduction * f.rd_ytd[i]
    tax = rate * max(taxable - carried, 0.0)
    used = min(max(taxable, 0.0), carried)
    for age in range(LOSS_YEARS - 1, -1, -1):  # oldest usable first
        if age < carry:
            take = min(used, f.tax_losses[i, age])
            f.tax_losses[i, age] -= take
            used -= take
    for age in range(LOSS_YEARS - 1, 0, -1):
        f.tax_losses[i, age] = f.tax_losses[i, age - 1]
    f.tax_losses[i, 0] = max(-taxable, 0.0)
    without_deduction = rate * max(f.profit_ytd[i] - carried, 0.0)
    f.forgone_deduction_last_year[i] = without_deduction - tax
    at_standard_rate = policy.tax_standard * max(taxable - carried, 0.0)
    f.forgone_rate_last_year[i] = at_standard_rate - tax
    f.taxable_last_year[i] = taxable
    f.tax_ytd[i] = tax
    f.cash[i] -= tax


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
    f.profit_ytd[i] = 0.0
    f.tax_ytd[i] = 0.0
    f.innovations_ytd[i] = 0
    f.applications_ytd[i] = 0
    f.grants_ytd[i] = 0


@njit(cache=True, inline="always")
def revise_rd_preference(f, r, i, key):
    """A yearly shock to the preferred R&D intensity; some firms stop R&D, some start again.

    The log preference reverts toward the firm's long-run level (an AR(1) around it), so the
    distribution of intensities is stationary while firms change rank. A firm that stops
    resumes at its long-run level, at a rate that keeps its group's share of R&D performers
    stationary (``population.rd_start_rate``).
    """
    u = rng.draw(key, rng.RD_START)
    if f.rd_intensity[i] > 0.0 and u < r.rd_stop_rate:
        f.rd_intensity[i] = 0.0
    elif f.rd_intensity[i] > 0.0:
        z = rng.draw_normal(key, rng.RD_PREFERENCE)
        gap = math.log(f.rd_intensity_long_run[i] / f.rd_intensity[i])
        shock = r.rd_preference_reversion * gap + r.rd_preference_volatility * z
        f.rd_intensity[i] = min(f.rd_intensity[i] * math.exp(shock), 1.0)
    elif u < f.rd_start_rate[i]:
        f.rd_intensity[i] = f.rd_intensity_long_run[i]


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
    threshold = hitech_rd_threshold(r, f.revenue_history[i, 0])
    management = 10.0 + 10.0 * min(1.0, max(0.0, rd_ratio(f, i, 3) - threshold) / threshold)
    return score_besides_rd(f, i, t, f.other_ip[i], innovations_in_three_years(f, i)) + management


@njit(cache=True, inline="always")
def hitech_ip_points(invention_patents, other_ip):
    """IP points of the HNTE score (2016 guideline); 0 without IP.

    16 for an own-developed core item's advancement, support and acquisition, plus the
    quantity grade: an invention patent 7.5, or 5.5 / 3.5 / 1.5 for 5+ / 3-4 / 1-2 utility
    models or copyrights.
    """
    if invention_patents > 0:
        return 23.5
    if other_ip >= 5:
        return 21.5
    if other_ip >= 3:
        return 19.5
    if other_ip >= 1:
        return 17.5
    return 0.0


@njit(cache=True, inline="always")
def innovations_in_three_years(f, i):
    """Results transferred over the last three booked years (the score's transfer count)."""
    return float(
        f.innovation_history[i, 0] + f.innovation_history[i, 1] + f.innovation_history[i, 2]
    )


@njit(cache=True, inline="always")
def score_besides_rd(f, i, t, other_ip, results):
    """The HNTE score's IP, transfer and growth points (``other_ip`` utility models held)."""
    ip = hitech_ip_points(f.invention_patents[i], other_ip)
    transfer = min(30.0, 10.0 + 6.0 * results)
    growth = min(20.0, max(0.0, 10.0 + 40.0 * yearly_growth(f, i, t)))
    return ip + transfer + growth


@njit(cache=True, inline="always")
def meets_hitech_criteria(f, r, i, t):
    """The 2016 HNTE criteria, as far as the firm table records them."""
    age = t - f.birth_month[i]
    threshold = hitech_rd_threshold(r, f.revenue_history[i, 0])
    return (
        age >= r.hitech_min_age_months
        and has_core_ip(f, i)
        and tech_staff_share(f, i) >= r.hitech_min_tech_staff_share
        and rd_ratio(f, i, 3) >= threshold
        and f.hitech_product_share[i] >= r.hitech_min_product_share
        and hitech_score(f, r, i, t) >= r.hitech_min_score
    )


@njit(cache=True, inline="always")
def certification_round(f, r, i, t, key, policy, cultivation_pass_bonus):
    """Audit of certified firms, then applications and renewals, decided on 31 December.

    A firm that meets the criteria applies (or renews) when the status is worth more over its
    validity than the application costs: the tax saving on its profit and the award.
    Firms in the cultivation pool are coached (their application is paid) and pass review
    more often.
    """
    if f.hitech_until[i] > t:
        below = rd_ratio(f, i, 1) < hitech_rd_threshold(r, f.revenue_history[i, 0])
        if below and rng.draw(key, rng.HITECH_AUDIT) < r.hitech_audit_rate:
            f.hitech_until[i] = t  # status withdrawn at this round
        return
    if not f.registry_aware[i]:
        return  # a firm that does not know the ladder does not apply
    file_core_ip(f, r, i, t)
    if not meets_hitech_criteria(f, r, i, t):
        return
    first = f.hitech_since[i] == NEVER
    worth = hitech_benefit(f, r, i, policy) * r.hitech_validity_years
    worth += policy.award_new_hitech if first else policy.award_renewed_hitech
    # firms differ in what applying costs them: uniform around the mean cost
    cost = 2.0 * r.hitech_application_cost * rng.draw(key, rng.HITECH_APPLICATION)
    if not (f.cultivated[i] or worth > cost):
        return
    pass_rate = r.hitech_review_pass_rate
    if f.cultivated[i]:
        pass_rate = min(1.0, pass_rate + cultivation_pass_bonus)
    if rng.draw(key, rng.HITECH_REVIEW) < pass_rate:
        f.hitech_until[i] = t + r.hitech_validity_months
        if first:
            f.hitech_since[i] = t


@njit(cache=True, inline="always")
def file_core_ip(f, r, i, t):
    """A firm at the R&D bar without core IP files (or buys) one item before the round."""
    if has_core_ip(f, i) or not aims_at_hitech(f, r, i, t):
        return
    if rd_ratio(f, i, 3) >= hitech_rd_threshold(r, f.revenue_history[i, 0]):
        f.other_ip[i] += 1


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
def registry_round(f, sectors, r, i, t, key, policy):
    """Technology-based SME registry: size limits, then certified firms or a score >= 60.

    Registered firms that no longer qualify leave. A firm that qualifies registers once it
    knows the registry and its benefits exceed the compliance cost: the extra deduction on
    its R&D, the award for a new registration, and access to credit and funds.
    """
    # outside sources (p) and registered peers (q x their share): Bass diffusion
    awareness = r.registry_awareness_rate
    awareness += r.registry_word_of_mouth * sectors.registered_share[f.sector[i]]
    if not f.registry_aware[i] and rng.draw(key, rng.AWARENESS) < awareness:
        f.registry_aware[i] = True
    assets = f.revenue_history[i, 0] * r.assets_to_revenue + max(f.cash[i], 0.0)
    small = (
        f.employees[i] <= r.tech_sme_max_employees
        and f.revenue_history[i, 0] <= r.tech_sme_max_revenue
        and assets <= r.tech_sme_max_assets
    )
    certified = f.hitech_until[i] > t
    if small and not certified and not f.tech_sme[i] and f.registry_aware[i]:
        file_ip_to_qualify(f, sectors, r, i, policy)
    scored = (
        tech_sme_score(f, i) >= r.tech_sme_min_score
        and tech_staff_points(tech_staff_share(f, i)) > 0.0
    )
    if not (small and (certified or scored)):
        f.tech_sme[i] = False
    elif not f.tech_sme[i] and f.registry_aware[i]:
        benefit = registration_benefit(f, sectors, r, i, policy)
        # firms differ in what compliance costs them: uniform around the mean cost
        cost = 2.0 * r.tech_sme_compliance_cost * rng.draw(key, rng.REGISTRATION)
        f.tech_sme[i] = benefit > cost


@njit(cache=True, inline="always")
def file_ip_to_qualify(f, sectors, r, i, policy):
    """Software copyrights or utility models filed to reach the registry score.

    A firm short of the score only by IP points files the few items it needs when
    registering is worth more than they cost.
    """
    if f.invention_patents[i] > 0 or tech_staff_points(tech_staff_share(f, i)) == 0.0:
        return
    shortfall = r.tech_sme_min_score - tech_sme_score(f, i)
    room = OTHER_IP_MAX_ITEMS - min(f.other_ip[i], OTHER_IP_MAX_ITEMS)
    items = math.ceil(shortfall / OTHER_IP_POINTS)
    if shortfall <= 0.0 or items > room:
        return
    cost = items * r.ip_item_cost + r.tech_sme_compliance_cost
    if registration_benefit(f, sectors, r, i, policy) > cost:
        f.other_ip[i] += items


@njit(cache=True, inline="always")
def registration_benefit(f, sectors, r, i, policy):
    """What registering is worth to a firm this year (M CNY)."""
    industrial = sectors.industrial[f.sector[i]]
    extra_deduction = deduction_of(policy, industrial, True) - deduction_of(
        policy, industrial, False
    )
    paying = f.taxable_last_year[i] > 0.0
    saving = policy.tax_standard * extra_deduction * f.rd_history[i, 0] if paying else 0.0
    return saving + policy.award_new_tech_sme + policy.credit_access_value + r.tech_sme_status_value


@njit(cache=True, inline="always")
def high_growth_round(f, sectors, r, i, t, trait_key):
    """High-growth technology firm: a recognised firm with sustained growth that applies.

    Of the firms that qualify, only those that seek the recognition hold it: a trait of the
    firm (a draw fixed for its life), taken up at its sector's calibrated rate.
    """
    recognised = f.tech_sme[i] or f.hitech_until[i] > t
    seeks = rng.draw(trait_key, rng.HIGH_GROWTH_TAKE_UP) < sectors.high_growth_take_up[f.sector[i]]
    f.high_growth[i] = (
        recognised
        and seeks
        and f.revenue_history[i, 0] >= r.high_growth_min_revenue
        and yearly_growth(f, i, t) >= r.high_growth_min_growth
    )


# The kernels as step_month and close_year call them from Python.
SET_SIZE_EFFECTS = DirectCall(set_size_effects_of)
REGISTERED_SHARES = DirectCall(registered_shares)
MONTH_ON_THIS_THREAD = DirectCall(month_on_this_thread)
MONTHS_IN_PARALLEL = DirectCall(months_in_parallel)
YEAR_END_CHUNK = DirectCall(year_end_chunk)
YEAR_ENDS_IN_PARALLEL = DirectCall(year_ends_in_parallel)
# Namedtuples of arrays whose builders fix every array's dtype, shape and layout: FirmTable
# and build_sector_params.
ARRAY_TUPLES = (FirmArrays, SectorParams)
