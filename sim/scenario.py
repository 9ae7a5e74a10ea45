"""Scenario files: TOML validated into typed, documented objects.

A scenario is plain data. Every parameter is declared once, here, with its unit, allowed range
and the source of its default; ``docs/model.md`` carries the table generated from these
declarations (``python -m sim.scenario --table``).
"""

import copy
import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path

from sim.agents.ladder import LadderRules
from sim.agents.population import STATUSES
from sim.agents.rules import Certification, FirmBehaviour
from sim.policies.attraction import AttractionLevers
from sim.policies.certification import CertificationSupportLevers
from sim.policies.credit import CreditLevers
from sim.policies.guidance_funds import GuidanceFundLevers
from sim.policies.incubation import IncubationLevers
from sim.policies.platforms import PlatformLevers
from sim.policies.rd_subsidies import RdSubsidyLevers
from sim.policies.talent import TalentLevers
from sim.policies.tax import TaxLevers
from sim.policies.vouchers import VoucherLevers
from sim.resources import check_memory
from sim.schema import (
    InputError,
    Loader,
    declared,
    loaded,
    markdown_table,
    param,
    parameter_rows,
    read_toml,
    schedulable,
)
from sim.sources import ASSUMED, DOMAIN
from sim.targets import PlanTargets, read_plan_targets

MAX_SECTOR_FIRMS = 10_000_000  # per sector and status; memory is checked as a whole on load


@dataclass(frozen=True, kw_only=True)
class ScenarioInfo:
    """What is simulated, from when, for how long, with which seed."""

    name: str = param(unit="text", doc="scenario name shown in outputs")
    region: str = param("Liangping", unit="text", doc="region the population describes")
    start_year: int = param(unit="year", lo=1990, hi=2100, doc="first simulated year")
    start_month: int = param(1, unit="month", lo=1, hi=12, doc="first simulated month")
    horizon_months: int = param(unit="months", lo=1, hi=1200, doc="months simulated")
    seed: int = param(0, unit="-", lo=0, hi=2**63 - 1, doc="seed of all random streams")
    burn_in_years: int = param(
        0,
        unit="years",
        lo=0,
        hi=20,
        source="a choice: the slowest year-0 state the model carries, the three-year R&D and "
        "revenue histories the statuses read, is its own after 3 years",
        doc="years the drawn population lives under the baseline year's policies before year 0 "
        "(then re-anchored on the baseline counts; 0: start from the drawn population)",
    )


@dataclass(frozen=True, kw_only=True)
class Region:
    """Year-0 macro values of the region; the part of the economy not modelled firm by firm."""

    population: float = param(
        unit="persons", lo=1, source=DOMAIN + ": 148 patents at 2.25 per 10,000", doc="residents"
    )
    population_growth: float = param(0.0, unit="1/yr", lo=-0.1, hi=0.1, source=ASSUMED)
    employed: float = param(
        unit="persons", lo=1, source=ASSUMED + " (~58% of residents)", doc="employed persons"
    )
    employment_growth: float = param(0.0, unit="1/yr", lo=-0.1, hi=0.1, source=ASSUMED)
    gdp: float = param(unit="M CNY/yr", lo=1, source=ASSUMED, doc="regional GDP in year 0")
    firm_rd_share: float = param(
        0.6,
        unit="share",
        lo=0.01,
        hi=1,
        source="below the 79.1% of Chongqing's gross R&D performed by all firms in 2020 "
        "(chongqing_series.csv); the rest is non-modelled industry and public R&D",
        doc="share of year-0 gross R&D performed by the modelled firms; their R&D "
        "intensities are scaled once at initialisation to match it",
    )
    rest_gdp_growth: float = param(
        0.06, unit="1/yr", lo=-0.2, hi=0.3, source=ASSUMED, doc="growth of GDP outside the firms"
    )
    rest_rd_growth: float = param(
        0.08, unit="1/yr", lo=-0.2, hi=0.5, source=ASSUMED, doc="growth of R&D outside the firms"
    )
    rest_rd_staff_growth: float = param(
        0.03, unit="1/yr", lo=-0.2, hi=0.5, source=ASSUMED, doc="growth of R&D staff elsewhere"
    )
    rest_industry_growth: float = param(
        0.06, unit="1/yr", lo=-0.2, hi=0.5, source=ASSUMED, doc="growth of other industry output"
    )
    other_invention_patents: float = param(
        0.0,
        unit="patents",
        lo=0,
        hi=100_000_000,
        source="0 in the district (its firms hold its 148 patents); a city's universities, "
        "institutes and large firms hold the rest of its stock",
        doc="valid invention patents held outside the modelled firms in year 0; they count in "
        "invention_patents_per_10k and grow at rest_rd_growth",
    )


@dataclass(frozen=True, kw_only=True)
class Sector:
    """One industry of the firm population, with its year-0 firm counts by status."""

    name: str = param(unit="text", doc="sector name")
    industrial: bool = param(unit="flag", doc="counts in above-scale industrial indicators")
    hitech_industry: bool = param(unit="flag", doc="a high-tech industry (NBS classification)")
    strategic_emerging: bool = param(
        False, unit="flag", doc="a strategic emerging industry (NBS classification, 2018)"
    )
    hitech: int = param(
        unit="firms", lo=0, hi=MAX_SECTOR_FIRMS, doc="certified high-tech firms in year 0"
    )
    tech_sme: int = param(
        unit="firms", lo=0, hi=MAX_SECTOR_FIRMS, doc="registered tech SMEs (not certified), year 0"
    )
    other: int = param(unit="firms", lo=0, hi=MAX_SECTOR_FIRMS, doc="other firms in year 0")
    latent: int = param(
        0,
        unit="firms",
        lo=0,
        hi=MAX_SECTOR_FIRMS,
        doc="small technology firms not in the status tables in year 0 (not registered and, "
        "but for population.registry_aware_share, not aware of the registry) from which the "
        "registry and certification can grow",
    )
    high_growth: int = param(
        0, unit="firms", lo=0, hi=MAX_SECTOR_FIRMS, doc="of the registered, high-growth in year 0"
    )
    revenue_median: float = param(unit="M CNY/yr", lo=0.01, doc="median firm revenue")
    revenue_dispersion: float = param(unit="log", lo=0, hi=4, doc="sd of log revenue")
    revenue_growth: float = param(unit="1/yr", lo=-0.5, hi=1, doc="drift of log revenue")
    revenue_volatility: float = param(unit="1/sqrt(yr)", lo=0, hi=2, doc="sd of log revenue")
    operating_margin: float = param(unit="share", lo=-1, hi=1, doc="profit before R&D / revenue")
    value_added_share: float = param(unit="share", lo=0, hi=1, doc="value added / revenue")
    revenue_per_employee: float = param(unit="M CNY/person/yr", lo=0.001, doc="labour prod.")
    births_per_year: float = param(
        unit="firms/yr", lo=0, hi=1_000_000, doc="Poisson rate of new firms"
    )
    entrant_revenue_median: float = param(unit="M CNY/yr", lo=0.01, doc="median entrant revenue")

    @property
    def year0_firms(self) -> int:
        """Firms of the sector in year 0, every status group."""
        return self.hitech + self.tech_sme + self.other + self.latent

    hitech_field_share: float = param(
        0.0,
        unit="share",
        lo=0,
        hi=1,
        doc="share of its firms whose main products lie in the state-supported high-tech fields "
        "(HNTE 2016 annex); such a firm earns at least the HNTE share of its income from them",
    )


@dataclass(frozen=True, kw_only=True)
class StatusProfile:
    """How year-0 firms of one status (or entrants) are drawn."""

    revenue_multiplier: float = param(1.0, unit="x median", lo=0.01, hi=100)
    age_years: tuple[float, float] = param((1.0, 15.0), unit="yr", lo=0, hi=100)
    rd_intensity: tuple[float, float] = param((0.0, 0.01), unit="share of revenue", lo=0, hi=1)
    rd_performing_share: float = param(
        1.0, unit="share", lo=0, hi=1, doc="firms that run R&D (the others may start later)"
    )
    tech_staff_share: tuple[float, float] = param((0.01, 0.04), unit="share", lo=0, hi=1)
    hitech_product_share: tuple[float, float] = param((0.0, 0.5), unit="share", lo=0, hi=1)
    cash_months: tuple[float, float] = param((1.0, 6.0), unit="months of revenue", lo=0, hi=120)
    other_ip: tuple[float, float] = param((0.0, 1.0), unit="items", lo=0, hi=1000)
    innovations_per_year: float = param(0.05, unit="1/yr", lo=0, hi=100)
    patent_weight: float = param(0.0, unit="-", lo=0, doc="share of year-0 invention patents")


@dataclass(frozen=True, kw_only=True)
class Profiles:
    """Year-0 profiles by status and the profile of new firms."""

    hitech: StatusProfile = param(
        StatusProfile(
            revenue_multiplier=4.0,
            age_years=(3.0, 20.0),
            rd_intensity=(0.02, 0.09),
            tech_staff_share=(0.10, 0.25),
            hitech_product_share=(0.6, 0.9),
            cash_months=(2.0, 8.0),
            other_ip=(1.0, 8.0),
            innovations_per_year=1.0,
            patent_weight=3.0,
        ),
        source=ASSUMED + "; consistent with the 2016 HNTE criteria (rd_intensity is the "
        "preferred R&D; firms below their bar report it, Chen et al. 2021)",
    )
    tech_sme: StatusProfile = param(
        StatusProfile(
            revenue_multiplier=1.0,
            age_years=(1.0, 12.0),
            rd_intensity=(0.03, 0.08),
            tech_staff_share=(0.12, 0.35),
            hitech_product_share=(0.2, 0.7),
            cash_months=(1.0, 6.0),
            other_ip=(2.0, 6.0),
            innovations_per_year=0.5,
            patent_weight=1.0,
        ),
        source=ASSUMED + "; consistent with the tech-SME score >= 60",
    )
    other: StatusProfile = param(
        StatusProfile(rd_performing_share=0.4),
        source=ASSUMED + "; rd_performing_share: a third to two fifths of China's above-scale "
        "industrial enterprises had R&D activities in 2018-2021 (NBS science and technology "
        "yearbooks, recalled; range 0.25-0.5)",
    )
    latent: StatusProfile = param(
        StatusProfile(
            revenue_multiplier=0.3,
            age_years=(1.0, 10.0),
            rd_intensity=(0.02, 0.07),
            tech_staff_share=(0.10, 0.30),
            cash_months=(1.0, 6.0),
            other_ip=(1.0, 4.0),
            innovations_per_year=0.2,
        ),
        source=ASSUMED + "; small technology firms, like those that filled Chongqing's registry "
        "(11,026 to 42,989 registered in 2018-2022)",
    )
    entrant: StatusProfile = param(
        StatusProfile(
            age_years=(0.0, 0.0),
            rd_intensity=(0.0, 0.08),
            tech_staff_share=(0.02, 0.3),
            cash_months=(3.0, 12.0),
            other_ip=(0.0, 2.0),
            innovations_per_year=0.0,
        ),
        source=ASSUMED,
    )


@dataclass(frozen=True, kw_only=True)
class Population:
    """The firm population in year 0 and the rules that shape it."""

    sectors: tuple[Sector, ...] = param(
        doc="one table per sector",
        source="scenario file: Liangping values in scenarios/liangping_2021_2025.toml (2020), "
        "Chongqing city in scenarios/chongqing_2018_2022.toml (2018), set so the year-0 "
        "population gives the baseline (counts by status exactly)",
    )
    valid_invention_patents: int = param(
        unit="patents",
        lo=0,
        hi=100_000_000,
        source="liangping_baseline_2020.csv: 148",
        doc="held in year 0",
    )
    above_scale_revenue: float = param(
        20.0, unit="M CNY/yr", lo=0, source="NBS threshold for above-scale industry (2011)"
    )
    size_tail_index: float = param(
        1.05,
        unit="-",
        lo=0.5,
        hi=10,
        source="Axtell 2001, Science 293: 1.06 for US firms' employment; Gabaix 2009 (Zipf); "
        "what Gibrat growth over exponentially distributed ages gives (Reed 2001, Econ. Lett. "
        "74, recalled: check)",
        doc="Pareto index of the largest year-0 firms of each status group",
    )
    size_tail_share: float = param(
        0.1,
        unit="share",
        lo=0,
        hi=0.5,
        source=ASSUMED + ": the top decile, where the Hill estimate of the tail is read",
        doc="share of each year-0 group drawn from the Pareto tail (0: log-normal only)",
    )
    largest_firm_revenue: float = param(
        2000.0,
        unit="M CNY/yr",
        lo=0,
        source=ASSUMED + ": the region's largest firms are part of the economy not modelled "
        "firm by firm (region.firm_rd_share), so the table's tail is truncated",
        doc="about the largest revenue a year-0 firm is drawn with (the tail's truncation)",
    )
    registry_aware_share: float = param(
        0.0,
        unit="share",
        lo=0,
        hi=1,
        source="0: year 0 soon after the registry opened (the shipped 2018 city and 2020 "
        "district baselines); a later year 0 takes the share the registry's diffusion has "
        "reached (scenarios/chongqing_2020_2025.toml: 0.28, the 2018 city start's at the end "
        "of 2020)",
        doc="share of the year-0 firms neither registered nor certified that know the ladder "
        "(registry and certification) already; 0: only the firms on it know it",
    )
    profiles: Profiles = param(Profiles())


@schedulable
@dataclass(frozen=True, kw_only=True)
class Policy(TaxLevers):
    """The policy levers (docs/levers.md); the model reads them every month.

    Every number here, in every lever group, is a number or a step schedule ``{ year = value }``
    (``sim.schema.in_year``): ``compensation_fund = { 2017 = 100.0 }`` starts the fund in 2017.
    """

    vouchers: VoucherLevers = param(VoucherLevers())
    credit: CreditLevers = param(CreditLevers())
    guidance_funds: GuidanceFundLevers = param(GuidanceFundLevers())
    rd_subsidies: RdSubsidyLevers = param(RdSubsidyLevers())
    certification_support: CertificationSupportLevers = param(CertificationSupportLevers())
    talent: TalentLevers = param(TalentLevers())
    incubation: IncubationLevers = param(IncubationLevers())
    platforms: PlatformLevers = param(PlatformLevers())
    attraction: AttractionLevers = param(AttractionLevers())


@dataclass(frozen=True, kw_only=True)
class TargetsRef:
    """Which plan table the run is scored against."""

    file: str = param(unit="path", doc="plan targets CSV, relative to the scenario file")
    target_year: int = param(2025, unit="year", lo=1990, hi=2200)


@dataclass(frozen=True, kw_only=True)
class CalibrationRef:
    """Fitted parameter values to run with (a file ``innosim calibrate`` wrote)."""

    file: str = param(
        "",
        unit="path",
        doc="calibration file (TOML or JSON), relative to the scenario file; its fitted values "
        "replace the declared defaults and the values this file sets; --set, levers and "
        "uncertainties still override them",
    )


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """A validated scenario."""

    scenario: ScenarioInfo = param(source="run setting, chosen by the user")
    region: Region = param()
    population: Population = param()
    targets: TargetsRef = param(source="run setting, chosen by the user")
    firms: FirmBehaviour = param(FirmBehaviour())
    certification: Certification = param(Certification())
    ladder: LadderRules = param(LadderRules())
    policy: Policy = param(Policy())
    calibration: CalibrationRef = param(CalibrationRef(), source="run setting, chosen by the user")
    plan: PlanTargets | None = loaded(None)  # the plan table of ``targets.file``
    source: str = loaded("")  # the file it was loaded from

    @property
    def baseline_year(self) -> int:
        """The year whose 31 December state the population describes."""
        return self.scenario.start_year - 1


def load_scenario(path: str | Path, overrides: dict | None = None) -> Scenario:
    """Read and validate a scenario file; ``overrides`` maps dotted keys to new values."""
    path = Path(path)
    data = layered(read_toml(path, str(path)), overrides or {}, path)
    return scenario_from_dict(data, str(path), path.parent)


def layered(data: dict, overrides: dict, path: Path) -> dict:
    """A scenario file's ``data`` with its calibration's values set, then ``overrides``.

    What a run takes, lowest first: the declared defaults, the scenario file, the fitted values
    of the calibration file it names (``[calibration] file``, which ``overrides`` may change),
    then ``overrides`` (``--set``, an experiment's base, levers and uncertainties).
    """
    out = copy.deepcopy(data)
    for key, value in overrides.items():
        set_dotted(out, key, value)
    table = out.get("calibration")
    name = table.get("file") if isinstance(table, dict) else None
    if not isinstance(name, str) or not name:
        return out  # no calibration (a wrong type is reported by the loader)
    values = calibration_values(Path(path).parent / name, f"{path}: calibration.file")
    out = copy.deepcopy(data)
    for key, value in values.items():
        set_dotted(out, key, value)
    for key, value in overrides.items():
        set_dotted(out, key, value)
    return out


def calibration_values(path: Path, source: str) -> dict[str, float]:
    """The fitted values of a calibration file, each a scenario parameter within its bounds."""
    from sim.calibration import read_calibration

    calibration = read_calibration(path, source)
    loader = Loader(f"{source} ({path})")
    for key, value in calibration.values.items():
        found = declared(Scenario, key)
        if found is None:
            loader.fail(f'values."{key}"', value, "not a scenario parameter")
        loader.value(found[0], value, f'values."{key}"', found[1])
    return calibration.values


def scenario_from_dict(data: dict, source: str, base_dir: Path) -> Scenario:
    """Validate parsed scenario data; ``source`` names it in errors."""
    loader = Loader(source)
    scenario = loader.build(Scenario, copy.deepcopy(data), "")
    _check_consistency(scenario, loader)
    check_memory(scenario, source)
    targets_path = base_dir / scenario.targets.file
    if not targets_path.is_file():
        loader.fail("targets.file", scenario.targets.file, f"file not found ({targets_path})")
    plan = read_plan_targets(
        targets_path, scenario.baseline_year, scenario.targets.target_year, source
    )
    return dataclasses.replace(scenario, plan=plan, source=source)


def set_dotted(data: dict, key: str, value) -> None:
    """Set ``data['a']['b'][0]['c'] = value`` for key ``'a.b[0].c'``, creating tables as needed."""
    node = data
    parts = key.split(".")
    for depth, part in enumerate(parts):
        name, _, index = part.partition("[")
        last = depth == len(parts) - 1
        if index:
            position = int(index.rstrip("]"))
            items = node.get(name)
            if not isinstance(items, list) or not -len(items) <= position < len(items):
                raise InputError(f"override {key}: {name} has no element [{position}]")
            if last:
                items[position] = value
            else:
                node = items[position]
        elif last:
            node[name] = value
        else:
            node = node.setdefault(name, {})
            if not isinstance(node, dict):
                raise InputError(f"override {key}: {name} is not a table")


def with_overrides(scenario: Scenario, **changes) -> Scenario:
    """A copy of ``scenario`` with some ``ScenarioInfo`` fields replaced (seed, horizon)."""
    info = dataclasses.replace(scenario.scenario, **changes)
    return dataclasses.replace(scenario, scenario=info)


def _check_consistency(s: Scenario, loader: Loader) -> None:
    names = [sector.name for sector in s.population.sectors]
    if not names:
        loader.fail("population.sectors", [], "at least one sector is needed")
    for i, sector in enumerate(s.population.sectors):
        if names.count(sector.name) > 1:
            loader.fail(f"population.sectors[{i}].name", sector.name, "sector names must differ")
        if sector.high_growth > sector.hitech + sector.tech_sme:
            loader.fail(
                f"population.sectors[{i}].high_growth",
                sector.high_growth,
                f"must be <= hitech + tech_sme = {sector.hitech + sector.tech_sme}",
            )
    opens = s.certification.tech_sme_registry_from
    for i, sector in enumerate(s.population.sectors):
        if s.baseline_year < opens and sector.tech_sme > 0:
            loader.fail(
                f"population.sectors[{i}].tech_sme",
                sector.tech_sme,
                f"must be 0: year 0 ({s.baseline_year}) is before the tech-SME registry opens "
                f"in {opens} (certification.tech_sme_registry_from)",
            )
    if sum(x.year0_firms for x in s.population.sectors) == 0:
        loader.fail("population.sectors", "...", "the population needs at least one firm")
    if s.firms.grant_lag_min > s.firms.grant_lag_max:
        loader.fail("firms.grant_lag_min", s.firms.grant_lag_min, "must be <= firms.grant_lag_max")
    weights = s.population.profiles
    if s.population.valid_invention_patents > 0 and (
        sum(getattr(weights, status).patent_weight for status in STATUSES) <= 0
    ):
        loader.fail(
            "population.profiles.hitech.patent_weight", 0.0, "some status must hold the patents"
        )


def main(argv: list[str] | None = None) -> int:
    """Print the generated parameter table (``python -m sim.scenario --table``)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv != ["--table"]:
        print("usage: python -m sim.scenario --table", file=sys.stderr)
        return 2
    print(markdown_table(parameter_rows(Scenario)), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
