"""The bank lending knowledge-value credit loans and the risk-compensation fund behind it."""

import mesa
import numpy as np
from numba import njit

from sim import rng
from sim.agents.firms import NEVER


class RiskCompensationFund(mesa.Agent):
    """Public fund (city:district 4:6) that pays a share of overdue principal to the bank."""

    def __init__(self, model: mesa.Model, capital: float):
        super().__init__(model)
        self.balance = capital  # M CNY
        self.paid_out = 0.0  # M CNY, cumulative
        self.topped_up = 0.0

    def top_up(self, amount: float) -> None:
        """Add the year's public contribution."""
        self.balance += amount
        self.topped_up += amount

    def compensate(self, overdue: float, share: float) -> float:
        """Pay ``share`` of ``overdue`` principal while money lasts; returns what was paid."""
        paid = min(share * overdue, self.balance)
        self.balance -= paid
        self.paid_out += paid
        return paid


class Bank(mesa.Agent):
    """Lends unsecured credit lines by knowledge-value grade; obeys the loss-ratio rules."""

    def __init__(self, model: mesa.Model, fund: RiskCompensationFund):
        super().__init__(model)
        self.fund = fund
        self.lent = 0.0  # M CNY, cumulative principal lent
        self.repaid = 0.0
        self.overdue = 0.0  # principal not repaid when due or left by exiting firms
        self.compensation_received = 0.0
        self.interest_received = 0.0
        self.loans_made = 0
        self.lent_this_year = 0.0
        self.borrowers = np.empty(0, dtype=np.int64)  # firms owing a loan, by id
        self.renewing = np.empty(0, dtype=np.int64)  # firms renewing their line this month
        self.firms_served = np.empty(0, dtype=np.int64)  # firms ever lent to, by id

    @property
    def loss_ratio(self) -> float:
        """Overdue principal / principal lent, since the scheme began."""
        return self.overdue / self.lent if self.lent > 0 else 0.0

    def lending_factor(self, levers) -> float:
        """1 normally, 0.5 past the warning threshold, 0 past the breaker or with the fund empty."""
        if self.loss_ratio >= levers.breaker_loss_ratio or self.fund.balance <= 0:
            return 0.0
        if self.loss_ratio >= levers.warning_loss_ratio:
            return 0.5
        return 1.0

    def settle(self, f, t: int, seed: int, levers) -> None:
        """Collect loans due this month and write off those of exited firms.

        A firm that repays in full and is still eligible renews its credit line with
        probability ``renewal_rate``: it borrows again this month, short of cash or not.
        """
        owing = self.borrowers
        is_due = (f.loan_due_month[owing] <= t) | ~f.alive[owing]
        self.renewing = owing[:0]
        if not is_due.any():
            return
        due, self.borrowers = owing[is_due], owing[~is_due]
        principal = f.loan_balance[due]
        paid = np.where(f.alive[due], np.minimum(np.maximum(f.cash[due], 0.0), principal), 0.0)
        f.cash[due] -= paid
        f.loan_balance[due] = 0.0
        f.loan_due_month[due] = NEVER
        overdue = principal - paid
        f.credit_blocked[due[overdue > 0]] = True
        repaid = due[f.alive[due] & (overdue == 0) & eligible(f, due, t)]
        draws = rng.uniforms(seed, t, repaid, rng.CREDIT_RENEWAL)
        self.renewing = repaid[draws < levers.renewal_rate]
        self.repaid += float(paid.sum())
        total_overdue = float(overdue.sum())
        self.overdue += total_overdue
        if total_overdue > 0:
            compensation = self.fund.compensate(total_overdue, levers.compensation_share)
            self.compensation_received += compensation
            self.model.government.record("credit", compensation)

    def lend(self, f, t: int, seed: int, levers) -> None:
        """Lend to renewing firms and to applicants short of cash, graded by knowledge value."""
        factor = self.lending_factor(levers)
        if levers.loan_cap <= 0 or factor == 0.0:
            return
        rows = may_apply(
            t, levers.need_cash_months, f.alive, f.tech_sme, f.hitech_until, f.cash, f.revenue,
            f.loan_balance, f.credit_blocked, f.loan_aware,
        )  # fmt: skip
        draws = rng.uniforms(seed, t, rows, rng.CREDIT_APPLICATION)
        rows = np.union1d(self.renewing, rows[draws < levers.application_rate])
        if len(rows) == 0:
            return
        line = credit_line(levers, knowledge_value_score(f, rows, t))
        amount = factor * np.minimum(
            np.minimum(line, levers.loan_cap), levers.max_share_of_revenue * f.revenue[rows]
        )
        rows, amount = rows[amount > 0], amount[amount > 0]
        f.cash[rows] += amount
        f.loan_balance[rows] = amount
        f.loan_due_month[rows] = t + levers.term_months
        f.loan_rate[rows] = levers.interest_rate
        self.borrowers = np.sort(np.concatenate((self.borrowers, rows)))  # new: none owed before
        self.lent += float(amount.sum())
        self.lent_this_year += float(amount.sum())
        self.loans_made += len(rows)
        self.firms_served = np.union1d(self.firms_served, rows)


def eligible(f, rows: np.ndarray, t: int) -> np.ndarray:
    """Whether each firm of ``rows`` may borrow: registered or certified."""
    return f.tech_sme[rows] | (f.hitech_until[rows] >= t)


# One compiled pass over the table instead of nine whole-table masks a month.
@njit(cache=True)
def may_apply(t, need_cash_months, alive, tech_sme, hitech_until, cash, revenue, loan_balance,
              credit_blocked, loan_aware):  # fmt: skip
    """Ids of the firms that may apply for a loan in month ``t``.

    Operating, registered or certified, aware of the scheme, short of cash, owing nothing and
    never defaulted.
    """
    rows = np.empty(alive.shape[0], dtype=np.int64)
    count = 0
    for i in range(alive.shape[0]):
        if (
            alive[i]
            and (tech_sme[i] or hitech_until[i] >= t)
            and cash[i] < need_cash_months * revenue[i] / 12.0
            and loan_balance[i] == 0
            and not credit_blocked[i]
            and loan_aware[i]
        ):
            rows[count] = i
            count += 1
    return rows[:count]


# ----------------------------------------------------------------- knowledge-value grading


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


def credit_line(levers, score: np.ndarray) -> np.ndarray:
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
