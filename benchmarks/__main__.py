"""``python -m benchmarks [--quick] [--format json] [--plot docs/scaling.png]``.

Measures, in one run on this machine: firm-months per second of the Numba path on one thread
against the plain-Python reference (``--quick`` runs only this), scaling from 10^3 to 10^6
firms, one against two Numba threads, compile and cache-load time, the district run and batch
throughput. The report goes to standard output; progress to standard error.
"""

import argparse
import json
import sys
from pathlib import Path

from benchmarks import report, suite


def parse_sizes(text: str) -> tuple[int, ...]:
    """'1e3,1e4' -> (1000, 10000)."""
    return tuple(int(float(part)) for part in text.split(",") if part)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="only the reference comparison")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--plot", type=Path, help="write the scaling plot (PNG) here")
    parser.add_argument("--save", type=Path, help="also write the JSON results here")
    parser.add_argument(
        "--load", type=Path, help="report (and plot) saved JSON results instead of measuring"
    )
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=suite.SIZES,
        help="year-0 firm counts of the scaling runs (default 1e3,1e4,1e5,1e6)",
    )
    args = parser.parse_args(argv)

    if args.load:
        results = json.loads(args.load.read_text())
    else:
        results = suite.run_all(quick=args.quick, sizes=args.sizes)
        results["command"] = "python -m benchmarks " + " ".join(
            sys.argv[1:] if argv is None else argv
        )
    results["goals"] = report.goals(results)
    if args.save:
        args.save.write_text(json.dumps(results, indent=2) + "\n")
    if args.plot:
        if "scaling" not in results:
            parser.error("--plot needs the scaling runs (not --quick)")
        report.plot_scaling(results, args.plot)
    if args.format == "json":
        sys.stdout.write(json.dumps(results, indent=2) + "\n")
    else:
        sys.stdout.write(report.render_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
