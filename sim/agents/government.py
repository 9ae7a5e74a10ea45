"""The district government: the public purse every lever pays from, with its ledger."""

from collections import defaultdict

import mesa
import numpy as np

LEVERS = (
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


class Government(mesa.Agent):
    """Pays for the levers and keeps the books: public money spent per lever per year (M CNY)."""

    def __init__(self, model: mesa.Model):
        super().__init__(model)
        self.spent: dict[int, dict[str, float]] = defaultdict(lambda: dict.fromkeys(LEVERS, 0.0))

    def record(self, lever: str, amount: float) -> None:
        """Book ``amount`` of public money spent on ``lever`` this year."""
        if amount < -1e-9:
            raise ValueError(f"negative spend on {lever}: {amount}")
        amount = max(amount, 0.0)  # rounding of sums that cancel
        self.spent[self.model.current_year][lever] += float(amount)

    def pay_firms(self, f, rows: np.ndarray, amounts: np.ndarray, lever: str) -> None:
        """Pay grants or awards to firms: their cash and their public receipts rise."""
        if len(rows) == 0:
            return
        np.add.at(f.cash, rows, amounts)
        np.add.at(f.public_receipts_ytd, rows, amounts)
        self.record(lever, float(np.sum(amounts)))
