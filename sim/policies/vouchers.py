"""Innovation vouchers (科技创新券): the government pays part of a small firm's R&D services.

Each January the yearly budget is handed out as vouchers to applicant firms (small enough for
the tech-SME registry, R&D under way), in a lottery order, each up to the cap. A voucher pays
``cost_share`` of the R&D services the firm buys (the share of its R&D bought from universities
and institutes), which lowers the firm's after-tax price of R&D while the voucher lasts: the
firm's R&D response to that price is its additional R&D. Unused vouchers return to the budget
on 31 December.
"""

from dataclasses import dataclass

import numpy as np

from sim import rng
from sim.policies.lever_group import LeverGroup
from sim.schema import param
from sim.sources import ASSUMED, DOMAIN, OFF


@dataclass(frozen=True, kw_only=True)
class VoucherLevers:
    """Innovation-voucher scheme."""

    budget: float = param(0.0, unit="M CNY/yr", lo=0, source=OFF, doc="vouchers issued a year")
    cost_share: float = param(
        0.5, unit="share", lo=0, hi=1, source=DOMAIN + ": typical schemes pay 30-50% of cost"
    )
    cap_per_firm: float = param(
        0.2, unit="M CNY/yr", lo=0, source=DOMAIN + ": typical caps 0.1-0.3 M CNY a year"
    )
    application_rate: float = param(
        0.5, unit="prob/yr", lo=0, hi=1, source=ASSUMED, doc="eligible firms that apply"
    )
    max_revenue: float = param(
        200.0, unit="M CNY/yr", lo=0, source="tech-SME size limit", doc="eligibility"
    )


class Vouchers(LeverGroup):
    """Issues the year's vouchers in January, takes unused ones back on 31 December."""

    name = "vouchers"
    placements = {"voucher_balance": 0.0}

    def __init__(self, model, f):
        super().__init__(model, f)
        self.issued = 0.0  # M CNY issued this year

    def on_january(self, f, t: int, year: int) -> None:
        """Hand out the year's budget."""
        self.issued = allocate_vouchers(f, self.levers_in(year), self.model.seed, t)

    def in_force(self, year: int) -> dict:
        """Firms holding vouchers pay less for the R&D services they buy."""
        return {"voucher_cost_share": self.levers_in(year).cost_share}

    def on_december(self, f, t: int, year: int, before: dict) -> None:
        """Unused vouchers lapse; what firms used is the year's spend."""
        returned = return_unused_vouchers(f)
        self.government.record(self.name, self.issued - returned)
        self.government.received(self.name, float(f.voucher_used_ytd.sum()))


def allocate_vouchers(f, levers: VoucherLevers, seed: int, t: int) -> float:
    """Issue this year's vouchers; returns the amount issued (M CNY)."""
    if levers.budget <= 0 or levers.cap_per_firm <= 0:
        return 0.0
    ids = np.flatnonzero(
        f.alive & (f.revenue <= levers.max_revenue) & (f.rd_intensity > 0) & ~f.attracted
    )
    draws = rng.uniforms(seed, t, ids.astype(np.int64), rng.VOUCHER_APPLICATION)
    applying = draws < levers.application_rate
    applicants, draws = ids[applying], draws[applying]
    order, wanted, cumulative = lottery_head(f, applicants, draws, levers)
    granted = np.zeros(len(applicants))  # firms after the head: the budget is used up
    granted[: len(order)] = np.clip(levers.budget - (cumulative - wanted), 0.0, wanted)
    f.voucher_balance[applicants] = 0.0
    f.voucher_balance[order] = granted[: len(order)]
    return float(granted.sum())


def lottery_head(f, applicants: np.ndarray, draws: np.ndarray, levers: VoucherLevers):
    """The lottery's head: (rows, vouchers wanted, running total wanted) in lottery order.

    The order is by draw, ties by row; the head runs to the applicant who uses up the budget
    (or to the last).

    Only this head is sorted, as the firms after it get nothing: the budget does not grow with
    the region, and sorting every applicant took ~70 ms a January at 10^6 firms.
    """
    size = max(256, 2 * int(levers.budget / levers.cap_per_firm))  # 2x the firms served at the cap
    while True:
        if 4 * size >= len(draws):  # a head of most applicants: one sort of all is quicker
            head = np.argsort(draws, kind="stable")
        else:  # the draws below the (size + 1)-th smallest: a prefix of the full order
            head = np.flatnonzero(draws < np.partition(draws, size)[size])
            head = head[np.argsort(draws[head], kind="stable")]
        order = applicants[head]
        wanted = np.minimum(levers.cap_per_firm, f.revenue[order] * f.rd_intensity[order])
        cumulative = np.cumsum(wanted)
        if len(head) == len(draws) or (len(head) > 0 and cumulative[-1] >= levers.budget):
            return order, wanted, cumulative
        size *= 4


def return_unused_vouchers(f) -> float:
    """On 31 December unused vouchers lapse back to the budget; returns the amount."""
    unused = float(f.voucher_balance.sum())
    f.voucher_balance[:] = 0.0
    return unused
