"""Universities and research institutes: the district's partners selling R&D services."""

import mesa


class University(mesa.Agent):
    """A university or institute in industry-academia cooperation with district firms."""

    def __init__(self, model: mesa.Model, index: int):
        super().__init__(model)
        self.index = index
        self.contracts: dict[int, float] = {}  # year -> technology contracts sold, M CNY
