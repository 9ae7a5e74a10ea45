"""``innosim batch`` and ``innosim report``: subcommands added to ``sim.cli.COMMANDS``.

This module is imported by ``sim.cli`` at start-up, so it imports nothing heavy at module
level (engines, pandas and matplotlib load inside the handlers).
"""

import sys
from pathlib import Path

from sim.flags import non_negative_int, positive_int


def add_batch_command(sub) -> None:
    """``innosim batch``."""
    batch = sub.add_parser(
        "batch",
        help="run an experiment (levers x uncertainties x seeds) into a results directory",
        description=(
            "Run every run of an experiment file on a local process pool or a Dask cluster. "
            "Each finished run is written atomically to OUT/runs/run-NNNNNN.parquet (one row "
            "per year); a failed run leaves OUT/errors/run-NNNNNN.error.json and the batch "
            "goes on. Results do not depend on the engine or the number of workers. A progress "
            "bar shows on a terminal only."
        ),
        epilog=(
            "Exit status: 0 all runs finished, 1 some runs failed (see OUT/errors) or the "
            "batch stopped with runs saved (the message gives the --resume command), 2 bad "
            "input, 130 interrupted. Example: innosim batch "
            "experiments/liangping_lever_sweep.toml --workers 4; "
            "Dask: innosim batch EXP --engine dask --scheduler tcp://127.0.0.1:8786. "
            "Guide: docs/experiments.md."
        ),
    )
    batch.add_argument("experiment", type=Path, help="experiment TOML file")
    batch.add_argument(
        "--engine",
        choices=("local", "dask"),
        default="local",
        help="local: a process pool on this machine (default); dask: a Dask cluster",
    )
    batch.add_argument(
        "--workers",
        type=positive_int,
        help="worker processes (local pool or local Dask cluster; default: CPU count)",
    )
    batch.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="address of a running Dask scheduler (tcp://host:8786); without it --engine dask "
        "starts a local cluster on 127.0.0.1",
    )
    batch.add_argument(
        "--out", type=Path, help="results directory (default: results/<experiment name>)"
    )
    batch.add_argument(
        "--resume",
        action="store_true",
        help="continue a batch in --out: skip runs whose file is sound, retry failed runs; "
        "refused if an input file or the model changed since the batch started",
    )
    batch.add_argument(
        "--force",
        action="store_true",
        help="start over: delete the batch already in --out (only files a batch writes)",
    )
    batch.add_argument(
        "--agents",
        choices=("lean", "full"),
        default="lean",
        help="agent mode of every run (same results; full makes one Mesa agent per firm)",
    )
    batch.set_defaults(handler=batch_command)


def batch_command(args) -> int:
    """Run a batch; exit status 1 if some runs failed."""
    from sim.batch.batch import run_batch

    summary = run_batch(
        args.experiment,
        engine=args.engine,
        workers=args.workers,
        scheduler=args.scheduler,
        out=args.out,
        resume=args.resume,
        force=args.force,
        agents=args.agents,
        progress=sys.stderr.isatty(),
    )
    for path in summary.damaged:
        print(
            f"innosim batch: damaged run file moved to {path}; its run was made again",
            file=sys.stderr,
        )
    finished = summary.skipped + summary.done
    line = (
        f"innosim batch: {finished} of {summary.total} runs finished"
        + (f" ({summary.skipped} before this session)" if summary.skipped else "")
        + f", {summary.failed} failed, {summary.seconds:.1f} s; results in {summary.out}"
    )
    if summary.failed:
        line += f" (errors in {summary.out / 'errors'}; --resume retries them)"
    print(line, file=sys.stderr)
    return 1 if summary.failed else 0


def add_report_command(sub) -> None:
    """``innosim report``."""
    report = sub.add_parser(
        "report",
        help="which policy mix most likely meets the targets, and what each lever buys per yuan",
        description=(
            "Summarise a batch. First the answer: policy mixes ranked by the expected number of "
            "outcome targets met in the target year, the probability of meeting each target "
            "with a 90% Wilson interval, and plain findings (targets no mix meets, targets the "
            "mixes do not change); inputs (counts a lever schedule sets) apart. Then what each "
            "lever group buys per 10 M CNY (paired effects, as innosim effects), fan charts, "
            "the mixes, Sobol or Morris indices (sobol or morris samplers) and a PRIM box per "
            "target. Writes report.html (self-contained), report.xlsx, CSV tables and a PNG. "
            "A progress bar shows on a terminal only."
        ),
        epilog="Example: innosim report results/liangping_lever_sweep --lang zh",
    )
    report.add_argument("results", type=Path, help="results directory of innosim batch")
    report.add_argument(
        "--baseline",
        type=non_negative_int,
        default=0,
        metavar="POLICY_MIX_ID",
        help="policy mix the paired effects are measured against (default: 0, the first mix)",
    )
    report.add_argument("--out", type=Path, help="report directory (default: RESULTS/report)")
    report.add_argument(
        "--year",
        type=positive_int,
        help="year to judge the targets in (default: the plan's target year)",
    )
    report.add_argument(
        "--lang", choices=("en", "zh"), default="en", help="language of the page and charts"
    )
    report.add_argument(
        "--effect-seeds",
        type=non_negative_int,
        metavar="N",
        help="seeds for the lever effects (default: the experiment's, at most 10; 0: skip)",
    )
    report.set_defaults(handler=report_command)


def report_command(args) -> int:
    """Write the report."""
    from sim.batch.report import make_report

    report = make_report(
        args.results,
        baseline=args.baseline,
        out=args.out,
        year=args.year,
        lang=args.lang,
        effect_seeds=args.effect_seeds,
        progress=sys.stderr.isatty(),
    )
    print(f"innosim report: wrote {report.html}", file=sys.stderr)
    return 0
