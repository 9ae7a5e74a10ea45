"""Knowledge sources: universities and research institutes that district firms collaborate with."""

import mesa

# The kinds of knowledge source, in the order they are numbered at year 0.
KINDS = ("university", "new_rd_institute", "industry_research_institute", "rd_branch")


class KnowledgeSource(mesa.Agent):
    """A university, new-type R&D institute, industry research institute or R&D branch.

    It works in one knowledge ``field`` (a row of ``population.sectors``) and takes up to its
    kind's capacity of partner firms a year. Its partners are the firms whose
    ``knowledge_partner`` column holds its ``number``; each buys R&D services from it (its
    technology contracts) and learns from it.
    """

    def __init__(self, model: mesa.Model, number: int, kind: str, field: int, opened_year: int):
        super().__init__(model)
        if kind not in KINDS:
            raise ValueError(f"unknown kind of knowledge source {kind!r}; kinds: {KINDS}")
        self.number = number  # its place in the list of sources + 1; 0 in the table: none
        self.kind = kind
        self.field = field
        self.opened_year = opened_year
        self.funding_received = 0.0  # M CNY of public running costs, cumulative
        self.contracts: dict[int, float] = {}  # year -> technology contracts sold, M CNY
        self.partners: dict[int, int] = {}  # year -> partner firms

    def book_year(self, year: int, contracts: float, partners: int) -> None:
        """The year's technology contracts sold (M CNY) and partner firms served."""
        self.contracts[year] = float(contracts)
        self.partners[year] = int(partners)
