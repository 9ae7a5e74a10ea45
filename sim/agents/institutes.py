"""Universities and research institutes: the district's partners selling R&D services."""

import mesa
import numpy as np


class University(mesa.Agent):
    """A university or institute in industry-academia cooperation with district firms."""

    def __init__(self, model: mesa.Model, index: int):
        super().__init__(model)
        self.index = index
        self.contracts: dict[int, float] = {}  # year -> technology contracts sold, M CNY

    def book_contracts(self, f, year: int, partners: int) -> None:
        """The year's technology contracts: firm ``i`` buys from partner ``i mod partners``."""
        # the copy sums as a mask would, bit for bit
        mine = f.services_bought_ytd[self.index :: partners]
        self.contracts[year] = float(np.ascontiguousarray(mine).sum())
