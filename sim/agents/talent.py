"""High-end talents, as agents placed in firms."""

import mesa


class Talent(mesa.Agent):
    """A recruited high-end talent working in a firm (``firm`` is its id; -1: not placed)."""

    def __init__(self, model: mesa.Model, top_class: bool, recruited_year: int):
        super().__init__(model)
        self.top_class = top_class
        self.recruited_year = recruited_year
        self.firm = -1

    @property
    def placed(self) -> bool:
        """Whether the talent works in a firm."""
        return self.firm >= 0

    def step(self, f) -> None:
        """A talent whose firm closed looks for a new host."""
        if self.placed and not f.alive[self.firm]:
            self.firm = -1
