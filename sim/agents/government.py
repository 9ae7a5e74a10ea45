"""The district government: the public purse every lever group pays from, with its ledger."""

from collections import defaultdict

import mesa
import numpy as np

# Lever groups that spend public money, in the order of the ledger's columns.
SPENDING_GROUPS = (
    "vouchers",
    "credit",
    "guidance_funds",
    "rd_subsidies",
    "certification_support",
    "talent",
    "incubation",
    "platforms",
    "attraction",
)
SPEND_INDICATORS = tuple(f"spend_{group}" for group in SPENDING_GROUPS) + ("spend_total",)


class Government(mesa.Agent):
    """Pays for the levers and keeps the books.

    ``spent[year][group]``: public money spent (M CNY). ``accounts[year]``: what recipients
    received, kept apart so that a test can check every yuan paid arrived somewhere.
    """

    def __init__(self, model: mesa.Model):
        super().__init__(model)
        self.spent: dict[int, dict[str, float]] = defaultdict(
            lambda: dict.fromkeys(SPENDING_GROUPS, 0.0)
        )
        self.accounts: dict[int, dict[str, float]] = {}

    def record(self, group: str, amount: float) -> None:
        """Book ``amount`` of public money spent on ``group`` this year."""
        if amount < -1e-9:
            raise ValueError(f"negative spend on {group}: {amount}")
        amount = max(amount, 0.0)  # rounding of sums that cancel
        self.spent[self.model.current_year][group] += float(amount)

    def pay_firms(self, f, rows: np.ndarray, amounts: np.ndarray, group: str) -> None:
        """Pay grants or awards to firms: their cash and their public receipts rise."""
        if len(rows) == 0:
            return
        np.add.at(f.cash, rows, amounts)
        np.add.at(f.public_receipts_ytd, rows, amounts)
        self.record(group, float(np.sum(amounts)))

    def received(self, group: str, amount: float) -> None:
        """Book money institutions (not firms) received from ``group`` this year."""
        accounts = self.accounts.setdefault(self.model.current_year, defaultdict(float))
        accounts[f"institutions_{group}"] += amount

    def spend_indicators(self, year: int) -> dict[str, float]:
        """Public spend of the year by lever group, and in total."""
        spent = self.spent[year]
        values = [spent[group] for group in SPENDING_GROUPS]
        return dict(zip(SPEND_INDICATORS, [*values, sum(values)], strict=True))

    def close_accounts(self, f, year: int, bank, funds) -> None:
        """Record what recipients received this year (firms, the bank, the funds)."""
        accounts = self.accounts.setdefault(year, defaultdict(float))
        accounts["firms_public_receipts"] += float(f.public_receipts_ytd.sum())
        accounts["firms_voucher_used"] += float(f.voucher_used_ytd.sum())
        accounts["bank_compensation"] = bank.compensation_received
        accounts["bank_interest"] = float(f.interest_ytd.sum())
        accounts["funds_invested"] = sum(fund.invested for fund in funds)
        accounts["firms_equity_received"] = float(f.equity_received.sum())
        accounts["funds_public_invested"] = sum(fund.public_share * fund.invested for fund in funds)
        bank.interest_received += accounts["bank_interest"]
