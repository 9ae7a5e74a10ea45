"""The firm table (one NumPy array per firm variable) and ``Firm``, the Mesa agent that views a row.

Firm ids are row numbers: a row is never reused, so a firm's random streams (keyed on its id)
and its row stay the same for the whole run. Exited firms keep their row with ``alive = False``.
"""

from collections import namedtuple

import mesa
import numpy as np

HISTORY_YEARS = 3  # the HNTE rules look at three years of R&D and revenue
LOSS_YEARS = 10  # tax losses are carried forward at most 10 years (certified firms, tech SMEs)
PENDING_SLOTS = 24  # invention applications wait <= 23 months for a decision
NEVER = -(2**30)  # month index of an event that has not happened

# name: (dtype, per-firm shape, unit, meaning). The kernels, the reference and docs/model.md
# all use these names.
FIRM_COLUMNS = {
    "alive": (np.bool_, (), "flag", "firm is operating"),
    "sector": (np.int16, (), "index", "row of population.sectors"),
    "birth_month": (np.int32, (), "month index", "month founded (negative: before the start)"),
    "exit_month": (np.int32, (), "month index", "month of exit; -1 while alive"),
    "revenue": (np.float64, (), "M CNY/yr", "annualised revenue rate"),
    "employees": (np.float64, (), "persons (FTE)", "employment"),
    "tech_staff": (np.float64, (), "persons (FTE)", "science and technology (R&D) staff"),
    "rd_per_tech_staff": (np.float64, (), "M CNY/person/yr", "R&D spend that keeps one tech staff"),
    "rd_intensity": (
        np.float64,
        (),
        "share",
        "preferred R&D/revenue under the reference tax rules",
    ),
    "rd_intensity_long_run": (
        np.float64,
        (),
        "share",
        "long-run preferred R&D/revenue: the preference reverts to it, a restart resumes it",
    ),
    "rd_start_rate": (np.float64, (), "1/yr", "chance a year that it starts R&D while it has none"),
    "rd_effort": (np.float64, (), "share", "real R&D/revenue the firm runs now (adjusts slowly)"),
    "rd_spend": (np.float64, (), "M CNY/month", "real R&D spent in the latest month"),
    "productivity": (np.float64, (), "log", "competitiveness: log productivity of its products"),
    "growth_volatility": (
        np.float64,
        (),
        "1/sqrt(yr)",
        "sd of its log revenue growth this year (the sector's, scaled by its size)",
    ),
    "size_exit_factor": (
        np.float64,
        (),
        "x",
        "its exit hazard relative to its sector's median-sized firm this year",
    ),
    "cash": (np.float64, (), "M CNY", "cash and liquid assets"),
    "hitech_product_share": (np.float64, (), "share", "income from high-tech products"),
    "invention_patents": (np.int32, (), "patents", "valid invention patents held"),
    "other_ip": (np.int32, (), "items", "utility models, software copyrights and similar"),
    "pending_applications": (
        np.uint16,
        (PENDING_SLOTS,),
        "applications",
        "invention applications awaiting decision, by decision month mod 24",
    ),
    "hitech_until": (
        np.int32,
        (),
        "month index",
        "last month of the HNTE certificate; NEVER if none",
    ),
    "hitech_since": (np.int32, (), "month index", "month first certified; NEVER if never"),
    "tech_sme": (np.bool_, (), "flag", "in the technology-based SME registry"),
    "high_growth": (np.bool_, (), "flag", "high-growth technology firm"),
    # the upper rungs (sim/agents/ladder.py): last month each status is held; NEVER: none
    "specialised_until": (
        np.int32,
        (),
        "month index",
        "last month as a specialised-and-sophisticated SME; NEVER if none",
    ),
    "little_giant_until": (np.int32, (), "month index", "last month as a little giant"),
    "champion_until": (np.int32, (), "month index", "last month as a hidden champion"),
    "otc_until": (
        np.int32,
        (),
        "month index",
        "last month on the Chongqing OTC sci-tech board (2^30 while listed)",
    ),
    "star_until": (np.int32, (), "month index", "last month on the STAR market (2^30: listed)"),
    "profit_history": (np.float64, (2,), "M CNY/yr", "net profit, last 2 years"),
    "specialised_points": (
        np.float64,
        (),
        "points",
        "specialised-SME evaluation points on criteria not modelled (quality, brand, ...)",
    ),
    "revenue_ytd": (np.float64, (), "M CNY", "revenue so far this year"),
    "rd_ytd": (np.float64, (), "M CNY", "R&D reported so far this year (real + relabelled)"),
    "rd_relabelled_ytd": (np.float64, (), "M CNY", "expenses reported as R&D this year"),
    "profit_ytd": (np.float64, (), "M CNY", "profit before tax so far this year"),
    "tax_ytd": (np.float64, (), "M CNY", "income tax of the year (booked on 31 December)"),
    "innovations_ytd": (np.int32, (), "innovations", "successful innovations this year"),
    "applications_ytd": (np.int32, (), "applications", "invention applications filed this year"),
    "grants_ytd": (np.int32, (), "patents", "invention patents granted this year"),
    "applications_last_year": (np.int32, (), "applications", "filed in the last booked year"),
    "grants_last_year": (np.int32, (), "patents", "granted in the last booked year"),
    "tax_last_year": (np.float64, (), "M CNY", "income tax paid in the last booked year"),
    "taxable_last_year": (
        np.float64,
        (),
        "M CNY",
        "taxable income of the last booked year (after deductions, before losses carried)",
    ),
    "tax_losses": (
        np.float64,
        (LOSS_YEARS,),
        "M CNY",
        "tax losses carried forward, by years since they arose (0: last year)",
    ),
    "forgone_deduction_last_year": (
        np.float64,
        (),
        "M CNY",
        "tax forgone through the super-deduction, last booked year",
    ),
    "forgone_rate_last_year": (
        np.float64,
        (),
        "M CNY",
        "tax forgone through the reduced high-tech rate, last booked year",
    ),
    "payout_ytd": (np.float64, (), "M CNY", "cash paid out to owners this year"),
    "revenue_history": (np.float64, (HISTORY_YEARS,), "M CNY/yr", "revenue, last 3 years"),
    "rd_history": (np.float64, (HISTORY_YEARS,), "M CNY/yr", "R&D, last 3 years"),
    "innovation_history": (np.int32, (HISTORY_YEARS,), "innovations", "per year, last 3 years"),
    # what the policy levers give or ask of a firm
    "voucher_balance": (np.float64, (), "M CNY", "innovation voucher not yet used this year"),
    "voucher_used_ytd": (np.float64, (), "M CNY", "voucher money used this year"),
    "services_bought_ytd": (
        np.float64,
        (),
        "M CNY",
        "R&D bought as services this year (tech contracts); kept on 31 December if it has a "
        "knowledge partner",
    ),
    "major_products_ytd": (np.int32, (), "products", "major new products this year"),
    "loan_balance": (np.float64, (), "M CNY", "knowledge-value loan outstanding"),
    "loan_due_month": (np.int32, (), "month index", "month the loan falls due"),
    "loan_rate": (np.float64, (), "1/yr", "interest rate of the loan"),
    "interest_ytd": (np.float64, (), "M CNY", "loan interest paid this year"),
    "credit_blocked": (np.bool_, (), "flag", "defaulted on a knowledge-value loan"),
    "loan_aware": (np.bool_, (), "flag", "knows of the knowledge-value loan scheme"),
    "equity_received": (np.float64, (), "M CNY", "guidance-fund investment received, total"),
    "equity_rd_left": (np.float64, (), "M CNY", "part of fund tickets still to spend on R&D"),
    "equity_rd_per_month": (np.float64, (), "M CNY/month", "pace of that spending"),
    "registry_aware": (
        np.bool_,
        (),
        "flag",
        "knows the ladder: the tech-SME registry and the certification it leads to",
    ),
    "public_receipts_ytd": (np.float64, (), "M CNY", "grants and awards received this year"),
    "innovation_boost": (
        np.float64,
        (),
        "x",
        "multiplier of innovation_zeta (talent, platform, knowledge partner, commissioner)",
    ),
    "growth_boost": (np.float64, (), "1/yr", "extra revenue drift (incubation)"),
    "exit_hazard_factor": (np.float64, (), "x", "multiplier of the exit hazard (incubation)"),
    "incubated_until": (np.int32, (), "month index", "last month in an incubator; NEVER: none"),
    "incubator": (np.int32, (), "number", "incubator it is a tenant of (1, 2, ...); 0: none"),
    "cultivated": (np.bool_, (), "flag", "in this year's high-tech cultivation pool"),
    "talents": (np.int16, (), "persons", "high-end talents placed in the firm"),
    "commissioner_visits": (np.int16, (), "visits", "S&T commissioner dispatches this year"),
    "platform": (np.bool_, (), "flag", "hosts a recognised municipal R&D platform"),
    "knowledge_partner": (
        np.int32,
        (),
        "number",
        "knowledge source it collaborates with this year (1, 2, ...); 0: none",
    ),
    "partner_fit": (
        np.float64,
        (),
        "share",
        "fit of its partner's field to its own: 1 same field, cross_field_fit other; 0 none",
    ),
    "attracted": (np.bool_, (), "flag", "brought in by investment attraction"),
}

FirmArrays = namedtuple("FirmArrays", list(FIRM_COLUMNS))


class FirmTable:
    """Structure-of-arrays storage of all firms that ever existed in a run."""

    def __init__(self, capacity: int = 1024):
        self.n = 0
        self._data = {
            name: staggered_zeros((capacity, *shape), dtype, column)
            for column, (name, (dtype, shape, _, _)) in enumerate(FIRM_COLUMNS.items())
        }
        self._arrays: FirmArrays | None = None  # the views of the used rows, made on demand

    def __len__(self) -> int:
        return self.n

    def append(self, columns: dict[str, np.ndarray]) -> np.ndarray:
        """Add firms; returns their ids (rows). Columns left out are zero."""
        count = len(columns["sector"])
        self._reserve(self.n + count)
        rows = np.arange(self.n, self.n + count)
        for name, values in columns.items():
            self._data[name][self.n : self.n + count] = values
        self.n += count
        self._arrays = None
        return rows

    def arrays(self) -> FirmArrays:
        """Views of the used rows, to hand to the kernels (valid until the next append)."""
        if self._arrays is None:
            self._arrays = FirmArrays(*(self._data[name][: self.n] for name in FIRM_COLUMNS))
        return self._arrays

    def column(self, name: str) -> np.ndarray:
        """One variable for all firms (a view)."""
        return self._data[name][: self.n]

    def _reserve(self, size: int) -> None:
        capacity = len(self._data["sector"])
        if size <= capacity:
            return
        new_capacity = max(size, 2 * capacity)
        for column, (name, old) in enumerate(self._data.items()):
            grown = staggered_zeros((new_capacity, *old.shape[1:]), old.dtype, column)
            grown[: self.n] = old[: self.n]
            self._data[name] = grown


# Large blocks are mapped fresh from the OS, so every column would start at the same offset in
# its page: the kernels, which read and write row i of ~30 columns together, would then hit
# the same few L1 cache sets (and falsely alias loads with stores 4 KiB apart), a 1.6x
# slowdown of the monthly firm step at 10^6 firms (docs/benchmarks.md).
PAGE = 4096
CACHE_LINE = 64


def staggered_zeros(shape: tuple, dtype, column: int) -> np.ndarray:
    """``np.zeros(shape, dtype)`` that starts ``column`` cache lines past a page boundary."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    block = np.zeros(nbytes + 2 * PAGE, dtype=np.uint8)
    start = -block.ctypes.data % PAGE + column * CACHE_LINE % PAGE  # < 2 pages
    return block[start : start + nbytes].view(dtype).reshape(shape)


class Firm(mesa.Agent):
    """A firm as a Mesa agent: a view onto its row of the model's firm table.

    Every column of ``FIRM_COLUMNS`` is a read-only attribute, so ``AgentSet.select``,
    ``agg``, ``groupby`` and DataCollector agent-type reporters see the table's values.
    """

    def __init__(self, model: mesa.Model, row: int):
        super().__init__(model)
        self.row = int(row)

    @property
    def firm_id(self) -> int:
        """The firm's id (its row in the table)."""
        return self.row

    @property
    def hitech(self) -> bool:
        """Holds a valid high-tech certificate this month."""
        return bool(self.model.firms.column("hitech_until")[self.row] >= self.model.month)


def _view(name: str):
    def get(self):
        value = self.model.firms.column(name)[self.row]
        return value.copy() if isinstance(value, np.ndarray) else value.item()

    return property(get, doc=f"{FIRM_COLUMNS[name][3]} [{FIRM_COLUMNS[name][2]}]")


for _name in FIRM_COLUMNS:
    setattr(Firm, _name, _view(_name))
