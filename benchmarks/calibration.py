"""``python -m benchmarks.calibration OUT.csv``: a synthetic observed history for calibration.

The district scenario is run at known parameter values (``--truth KEY=VALUE``, repeatable;
default: the values below) on five seeds that no calibration uses (101-105), and the median
over them of each indicator in each year is written as an observed CSV (``id, year, value``),
the file ``innosim calibrate`` and ``innosim validate`` read. A fit to it should find the truth
again: docs/calibration.md reports how close it came, and how long it took (docs/benchmarks.md).
"""

import argparse
import sys
from pathlib import Path

import numpy as np

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "liangping_2021_2025.toml"
TRUTH = {"firms.innovation_zeta": 1.0, "firms.rd_user_cost_elasticity": 1.0}
INDICATORS = (
    "tech_smes",
    "hitech_firms",
    "invention_patents_per_10k",
    "rd_gdp_ratio",
    "rd_revenue_ratio_above_scale",
    "high_growth_firms",
)
YEARS = (2021, 2022, 2023, 2024, 2025)
SEEDS = tuple(range(101, 106))


def synthetic_observed(truth: dict, indicators=INDICATORS, years=YEARS, seeds=SEEDS) -> str:
    """The observed CSV's text: medians over ``seeds`` of the district run at ``truth``."""
    from sim.effects import run_seeds, stacked
    from sim.scenario import load_scenario

    scenario = load_scenario(SCENARIO, truth)
    months = (max(years) - scenario.scenario.start_year + 1) * 12
    runs = stacked(run_seeds(scenario, seeds, months))
    lines = ["id,year,value,source"]
    for indicator in indicators:
        for year in years:
            median = float(np.median(runs.loc[runs["year"] == year, indicator]))
            lines.append(f"{indicator},{year},{median!r},synthetic")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.calibration", description=__doc__)
    parser.add_argument("out", type=Path, help="observed CSV to write")
    parser.add_argument(
        "--truth",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"a parameter value of the truth (default: {TRUTH})",
    )
    parser.add_argument(
        "--indicators",
        type=lambda text: tuple(text.split(",")),
        default=INDICATORS,
        help=f"indicator ids, comma-separated (default {','.join(INDICATORS)})",
    )
    parser.add_argument(
        "--years",
        type=lambda text: tuple(int(y) for y in text.split(",")),
        default=YEARS,
        help=f"years, comma-separated (default {','.join(map(str, YEARS))})",
    )
    args = parser.parse_args(argv)
    truth = dict(TRUTH)
    if args.truth:
        truth = {k: float(v) for k, _, v in (t.partition("=") for t in args.truth)}
    args.out.write_text(synthetic_observed(truth, args.indicators, args.years))
    size = f"{len(args.indicators)} indicators x {len(args.years)} years"
    print(f"wrote {args.out}: {size} at {truth}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
