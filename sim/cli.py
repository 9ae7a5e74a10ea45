"""``innosim``: the command line.

User errors (bad files, flags, values) are one line on stderr and exit status 2; anything else
is a bug and keeps its traceback.
"""

import argparse
import io
import json
import sys
from collections.abc import Callable
from pathlib import Path

from sim.atomic import write_atomic
from sim.batch.commands import add_batch_command, add_report_command
from sim.calibrate_commands import add_calibrate_command
from sim.effects_commands import add_compare_command, add_effects_command
from sim.flags import add_set_flag, months, non_negative_int, positive_int
from sim.indicators import PLAN_INDICATORS
from sim.progress import ProgressBar
from sim.schema import InputError
from sim.validate_commands import add_validate_command
from sim.words import LANGS, Words, ljust, rjust, width

FORMATS = ("table", "csv", "json", "parquet")


class CliError(InputError):
    """A bad flag value."""


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``innosim run: error: ...``), exit status 2."""

    def error(self, message: str):
        """Print one line and exit 2."""
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``innosim`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except InputError as err:
        print(f"innosim: error: {err}", file=sys.stderr)
        return getattr(err, "exit_status", 2)  # 1: a batch stopped and can be resumed
    except KeyboardInterrupt as err:
        print(err.args[0] if err.args else "innosim: interrupted", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    """The ``innosim`` parser with every subcommand."""
    parser = Parser(
        prog="innosim",
        description=(
            "Agent-based simulator of a regional innovation ecosystem (Chongqing, Liangping). "
            "Runs policy scenarios and scores them against the 14th Five-Year Plan targets."
        ),
        epilog="Example: innosim run scenarios/liangping_2021_2025.toml --seed 7 --format json",
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for add_command in COMMANDS:
        add_command(sub)
    return parser


def add_run_command(sub) -> None:
    """``innosim run``."""
    run = sub.add_parser(
        "run",
        help="run one scenario and print its yearly indicators and scorecard",
        description=(
            "Run one scenario file for its horizon (or --months) and report the yearly "
            "indicators (31 December of each year, year 0 first) and the scorecard: the final "
            "year against the plan targets. A progress bar shows on a terminal only."
        ),
        epilog=(
            "Formats: table (readable, default), csv (one row per year), json (one object: "
            "scenario, seed, months, indicators [{year, <indicator id>...}], scorecard "
            "[{id, kind, value, target, met}]; kind: outcome, or input for a count a lever "
            "schedule sets), parquet (needs --out). Same scenario and seed give "
            "byte-identical output. --lang zh writes the table in Chinese, with the plan "
            "table's indicator_zh names (en: indicator_en)."
        ),
    )
    run.add_argument("scenario", type=Path, help="scenario TOML file")
    run.add_argument("--seed", type=non_negative_int, help="seed (default: the scenario's)")
    add_set_flag(
        run,
        help="set a scenario value, checked like the file (repeatable), e.g. "
        "--set policy.vouchers.budget=8 --set policy.hitech_tax_rate=0.25",
    )
    run.add_argument(
        "--months", type=months, help="months to simulate, 1-1200 (default: the horizon)"
    )
    run.add_argument("--out", type=Path, help="write to this file instead of standard output")
    run.add_argument("--format", choices=FORMATS, default="table", help="output format")
    run.add_argument(
        "--agents",
        choices=("lean", "full"),
        default="lean",
        help="full: one Mesa Firm agent per firm; lean: none (same results, faster)",
    )
    run.add_argument(
        "--lang",
        choices=LANGS,
        default="en",
        help="language of the table format: headings and the plan table's indicator names",
    )
    run.set_defaults(handler=run_command)


def run_command(args) -> int:
    """Run a scenario and write its result."""
    from sim.run import run_scenario
    from sim.scenario import load_scenario

    if args.format == "parquet" and args.out is None:
        raise CliError("--format parquet: needs --out PATH (Parquet is binary)")
    if args.out is not None and not args.out.parent.is_dir():
        raise CliError(f"--out {args.out}: directory {args.out.parent} does not exist")
    scenario = load_scenario(args.scenario, dict(args.set))
    months = args.months or scenario.scenario.horizon_months
    with ProgressBar(scenario.scenario.name, months, "months") as bar:
        result = run_scenario(
            scenario, args.seed, months=args.months, agents=args.agents, on_month=bar.months
        )
    write_output(result, args.format, args.out, Words(args.lang, scenario.plan))
    return 0


def write_output(result, fmt: str, out: Path | None, words: Words | None = None) -> None:
    """Render ``result`` in ``fmt`` to ``out`` (atomically) or standard output.

    ``words`` gives the table format's language and indicator names (default: English).
    """
    if fmt == "parquet":
        buffer = io.BytesIO()
        result.indicators.to_parquet(buffer, index=False)
        write_atomic(out, buffer.getvalue())
        return
    if fmt == "table":
        text = render_table(result, words)
    else:
        text = {"csv": render_csv, "json": render_json}[fmt](result)
    if out is None:
        sys.stdout.write(text)
    else:
        write_atomic(out, text.encode("utf-8"))


def render_json(result) -> str:
    """The documented JSON object, keys in a fixed order."""
    return json.dumps(result.to_json_dict(), indent=2, allow_nan=False) + "\n"


def render_csv(result) -> str:
    """One row per year; floats in full precision."""
    return result.indicators.to_csv(index=False, float_format="%.17g", lineterminator="\n")


def render_table(result, words: Words | None = None) -> str:
    """Yearly plan indicators and the scorecard, for reading, in the language of ``words``.

    Rows are indicator ids with, last, the indicator's name from the plan table
    (``indicator_en`` or ``indicator_zh``).
    """
    import pandas as pd

    words = words or Words("en")
    t = words.t
    frame = result.indicators.set_index("year")[PLAN_INDICATORS + ["firms", "business_rd"]]
    table = frame.T
    table.columns.name = t["run_year"]
    with pd.option_context("display.unicode.east_asian_width", True):
        rows = table.to_string(float_format=lambda x: f"{x:,.2f}").splitlines()
    rows[0] += f"  {t['run_name']}"
    rows[1:] = [
        f"{row}  {words.indicator(i)}" for row, i in zip(rows[1:], table.index, strict=True)
    ]
    lines = [words("run_heading", name=result.scenario, seed=result.seed, months=result.months)]
    lines += ["", t["run_indicators"], *rows, "", t["run_scorecard"]]
    lines += scorecard_lines(result.scorecard, words)
    return "\n".join(lines) + "\n"


def scorecard_lines(card: list[dict], words: Words | None = None) -> list[str]:
    """Outcomes (what the model simulates), then inputs (counts a lever schedule sets).

    Only outcomes count in "N of M targets met": an input meets its target by construction
    when the schedule is the plan's. Each row ends with the indicator's name.
    """
    words = words or Words("en")
    t = words.t
    header = (
        f"  {ljust(t['run_indicator'], 30)} {rjust(t['run_value'], 10)} "
        f"{rjust(t['run_target'], 10)} {rjust(t['run_over'], 10)}  "
        f"{ljust(t['run_met'], 4)} {t['run_name']}"
    )
    met_width = max(width(t["run_met"]), width(t["yes"]), width(t["no"]))
    lines = []
    for kind, title in (("outcome", t["run_outcomes"]), ("input", t["run_inputs"])):
        rows = [row for row in card if row.get("kind", "outcome") == kind]
        if not rows:
            continue
        lines.append(f"  {title}:")
        lines.append(header)
        for row in rows:
            name = words.indicator(row["id"])
            if row["value"] is None:
                lines.append(
                    f"  {row['id']:<30} {rjust(t['na'], 10)} {row['target']:>10,.2f} {'':>10}  "
                    f"{ljust(t['no'], max(4, met_width))} {name}"
                )
                continue
            mark = ljust(words.yes_no(row["met"]), max(4, met_width))
            lines.append(
                f"  {row['id']:<30} {row['value']:>10,.2f} {row['target']:>10,.2f} "
                f"{row['value'] - row['target']:>+10,.2f}  {mark} {name}"
            )
    outcomes = [row for row in card if row.get("kind", "outcome") == "outcome"]
    met = sum(row["met"] for row in outcomes)
    inputs = [row for row in card if row.get("kind") == "input"]
    summary = "  " + words("run_summary", met=met, total=len(outcomes))
    if inputs:
        at_target = sum(row["met"] for row in inputs)
        summary += words("run_summary_inputs", met=at_target, total=len(inputs))
    lines.append(summary + t["run_end"])
    return lines


def add_dashboard_command(sub) -> None:
    """``innosim dashboard``."""
    from sim.dashboard.run import DEFAULT_COUNTERFACTUAL, DEFAULT_SCENARIO

    dashboard = sub.add_parser(
        "dashboard",
        help="serve the live dashboard: move levers while the district runs",
        description=(
            "Serve the Solara dashboard on a live run of SCENARIO: play, step and reset the "
            "model, change any lever (from the next month on), compare with the "
            "counterfactual. Serves on 127.0.0.1 unless --host says otherwise; nothing is "
            "fetched from outside the machine."
        ),
        epilog="Example: innosim dashboard scenarios/liangping_2021_2025.toml --port 8765",
    )
    dashboard.add_argument(
        "scenario", type=Path, nargs="?", default=DEFAULT_SCENARIO, help="scenario TOML file"
    )
    dashboard.add_argument(
        "--counterfactual",
        type=Path,
        default=DEFAULT_COUNTERFACTUAL,
        help="scenario whose [policy] levers make the counterfactual (default: no policy)",
    )
    dashboard.add_argument("--host", default="127.0.0.1", help="address to listen on")
    dashboard.add_argument("--port", type=port_number, default=8765, help="port to listen on")
    dashboard.set_defaults(handler=dashboard_command)


def port_number(text: str) -> int:
    """A TCP port, 1-65535."""
    port = positive_int(text)
    if port > 65535:
        raise argparse.ArgumentTypeError(f"{text!r}: a port is at most 65535")
    return port


def dashboard_command(args) -> int:
    """Check both scenarios, then serve the dashboard until interrupted."""
    from sim.dashboard import server
    from sim.dashboard.run import load_setups

    load_setups(str(args.scenario), str(args.counterfactual))  # one-line errors before serving
    print(f"innosim dashboard: http://{args.host}:{args.port}/", file=sys.stderr)
    process = server.start(args.scenario, args.counterfactual, args.host, args.port)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        process.wait()
        raise


COMMANDS: list[Callable] = [
    add_run_command,
    add_batch_command,
    add_report_command,
    add_compare_command,
    add_effects_command,
    add_validate_command,
    add_calibrate_command,
    add_dashboard_command,
]


if __name__ == "__main__":
    sys.exit(main())
