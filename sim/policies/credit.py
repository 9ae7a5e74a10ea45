"""Knowledge-value credit loans (知识价值信用贷款) with a risk-compensation fund.

Registered tech SMEs and certified firms short of cash apply; the bank grades them A-E by a
knowledge-value score (IP, R&D, talent, products, status) and lends the grade's credit line,
capped by ``loan_cap`` and by a share of revenue, unsecured, for ``term_months``. A loan not
repaid when due (or left by a firm that exits) is overdue: the risk-compensation fund pays
``compensation_share`` of the overdue principal while it has money, the bank bears the rest.
When the bank's loss ratio (overdue / lent, cumulative) passes ``warning_loss_ratio`` new credit
lines are halved; past ``breaker_loss_ratio``, or when the fund is empty, new lending stops.
"""

from dataclasses import dataclass

import numpy as np
from numba import njit

from sim.schema import param
from sim.sources import ASSUMED, BASELINE, DOMAIN, OFF


@dataclass(frozen=True, kw_only=True)
class CreditLevers:
    """Knowledge-value credit scheme."""

    loan_cap: float = param(
        0.0, unit="M CNY", lo=0, source=OFF, doc="largest credit line per firm (0: no scheme)"
    )
    line_a: float = param(5.0, unit="M CNY", lo=0, source=DOMAIN + ": grades A-E 5/4/3/1.6/0.8")
    line_b: float = param(4.0, unit="M CNY", lo=0, source=DOMAIN)
    line_c: float = param(3.0, unit="M CNY", lo=0, source=DOMAIN)
    line_d: float = param(1.6, unit="M CNY", lo=0, source=DOMAIN)
    line_e: float = param(0.8, unit="M CNY", lo=0, source=DOMAIN)
    grade_a_score: float = param(80, unit="points", lo=0, hi=100, source=ASSUMED)
    grade_b_score: float = param(65, unit="points", lo=0, hi=100, source=ASSUMED)
    grade_c_score: float = param(50, unit="points", lo=0, hi=100, source=ASSUMED)
    grade_d_score: float = param(35, unit="points", lo=0, hi=100, source=ASSUMED)
    grade_e_score: float = param(20, unit="points", lo=0, hi=100, source=ASSUMED)
    max_share_of_revenue: float = param(
        0.5, unit="x revenue/yr", lo=0, source=ASSUMED, doc="line at most this x revenue"
    )
    interest_rate: float = param(0.05, unit="1/yr", lo=0, hi=1, source=ASSUMED + " (LPR+spread)")
    term_months: int = param(12, unit="months", lo=1, hi=120, source=ASSUMED)
    application_rate: float = param(
        0.2, unit="prob/month", lo=0, hi=1, source=ASSUMED, doc="eligible firms short of cash"
    )
    need_cash_months: float = param(
        3.0, unit="months of revenue", lo=0, source=ASSUMED, doc="a firm applies below this cash"
    )
    compensation_share: float = param(
        0.8, unit="share", lo=0, hi=1, source=DOMAIN + ": fund pays 80% of overdue principal"
    )
    compensation_fund: float = param(
        0.0, unit="M CNY", lo=0, source=OFF + "; Liangping: 100 (" + BASELINE + ")"
    )
    fund_topup_per_year: float = param(0.0, unit="M CNY/yr", lo=0, source=OFF)
    warning_loss_ratio: float = param(
        0.03, unit="share", lo=0, hi=1, source=DOMAIN + ": thresholds unconfirmed"
    )
    breaker_loss_ratio: float = param(
        0.05, unit="share", lo=0, hi=1, source=DOMAIN + ": thresholds unconfirmed"
    )


def knowledge_value_score(f, rows: np.ndarray, t: int) -> np.ndarray:
    """Knowledge-value score out of 100: IP 30, R&D 30, talent 20, products 10, status 10."""
    return _scores(
        rows, t, f.invention_patents, f.other_ip, f.rd_history, f.revenue_history, f.tech_staff,
        f.employees, f.hitech_product_share, f.hitech_until, f.tech_sme,
    )  # fmt: skip


# One compiled pass over the rows: the array version made ~20 temporaries a call, and the
# bank and the funds score a few dozen firms a month. Same operations in the same order.
@njit(cache=True, error_model="numpy")
def _scores(rows, t, patents, other_ip, rd_history, revenue_history, tech_staff, employees,
            product_share, hitech_until, tech_sme):  # fmt: skip
    score = np.empty(rows.shape[0])
    for k in range(rows.shape[0]):
        i = rows[k]
        ip = np.minimum(30.0, 10.0 * patents[i] + 3.0 * other_ip[i])
        revenue = revenue_history[i, 0]
        ratio = rd_history[i, 0] / revenue if revenue > 0 else 0.0
        rd = np.minimum(30.0, 500.0 * ratio)
        talent = np.minimum(20.0, 100.0 * tech_staff[i] / employees[i])
        products = 10.0 * product_share[i]
        status = 10.0 if hitech_until[i] >= t else (5.0 if tech_sme[i] else 0.0)
        score[k] = ip + rd + talent + products + status
    return score


def credit_line(levers: CreditLevers, score: np.ndarray) -> np.ndarray:
    """Credit line (M CNY) of each score's grade; 0 below grade E."""
    bars = np.array([levers.grade_a_score, levers.grade_b_score, levers.grade_c_score,
                     levers.grade_d_score, levers.grade_e_score], dtype=np.float64)  # fmt: skip
    lines = np.array(
        [levers.line_a, levers.line_b, levers.line_c, levers.line_d, levers.line_e],
        dtype=np.float64,
    )
    return _graded_lines(score, bars, lines)


@njit(cache=True)
def _graded_lines(score, bars, lines):
    """The line of the first grade (A first) whose bar each score reaches; 0 if none."""
    out = np.zeros(score.shape[0])
    for k in range(score.shape[0]):
        for g in range(bars.shape[0]):
            if score[k] >= bars[g]:
                out[k] = lines[g]
                break
    return out
