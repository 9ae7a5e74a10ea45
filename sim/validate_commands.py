"""``innosim validate``: a scenario's runs against observed values.

Imported by ``sim.cli`` at start-up, so nothing heavy is imported at module level.
"""

import json
import sys
from pathlib import Path

from sim.effects_commands import _n
from sim.flags import add_set_flag, months, non_negative_int, positive_int
from sim.words import LANGS, Words, ljust, rjust

FORMATS = ("table", "json")
DEFAULT_SEEDS = 5


def add_validate_command(sub) -> None:
    """``innosim validate``."""
    validate = sub.add_parser(
        "validate",
        help="compare a scenario's runs over many seeds with observed values",
        description=(
            "Run SCENARIO on --seeds seeds and, for each indicator id and year of OBSERVED "
            "(a CSV with columns id, year, value and optionally month, 1-12, for a value at "
            "the end of a month within the year; other columns are ignored), print the "
            "observed value, the simulated median and 5-95% band across seeds, the relative "
            "error of the median and whether the observation lies in the band; then the mean "
            "absolute percentage error (MAPE) and the band coverage, overall and per "
            "indicator. Held-out rows (--hold-out) are reported but summarised apart; so are "
            "the rows of the baseline year (year 0), which the runs start from. Rows dated "
            "before the baseline year's 31 December are left out and listed. "
            "A progress bar shows on a terminal only."
        ),
        epilog=(
            "Example: innosim validate scenarios/liangping_2021_2025.toml "
            "scenarios/targets/liangping_observed_2020.csv --seeds 10. JSON: {scenario, "
            "observed_file, seeds, months, band, rows: [{id, year, month, observed, median, lo, "
            "hi, error_percent, in_band, held_out}], summary: {rows, mape_percent, band_coverage, "
            "by_id: {<id>: {rows, mape_percent, band_coverage}}}, held_out: {same as summary}, "
            "baseline_year, baseline: {same as summary, over the rows of the baseline year}, "
            "left_out: [{line, id, year, month, value}]}. "
            "error_percent = 100 (median - observed) / |observed|; null when observed is 0 and "
            "the median is not. band_coverage is a share (0 to 1)."
        ),
    )
    validate.add_argument("scenario", type=Path, help="scenario TOML file")
    validate.add_argument("observed", type=Path, help="observed CSV: id, year, value")
    validate.add_argument(
        "--seeds",
        type=positive_int,
        default=DEFAULT_SEEDS,
        help=f"seeds to run (default {DEFAULT_SEEDS})",
    )
    validate.add_argument(
        "--base-seed", type=non_negative_int, help="first seed (default: the scenario's seed)"
    )
    validate.add_argument(
        "--months", type=months, help="months to simulate, 1-1200 (default: the horizon)"
    )
    add_set_flag(validate, help="set a scenario value (repeatable), checked like the file")
    validate.add_argument(
        "--hold-out",
        action="append",
        default=[],
        metavar="YEAR|ID",
        help="report rows of this year or indicator id but summarise them apart (repeatable)",
    )
    validate.add_argument("--format", choices=FORMATS, default="table", help="output format")
    validate.add_argument(
        "--lang",
        choices=LANGS,
        default="en",
        help="language of the table format: headings, summaries and indicator names",
    )
    validate.set_defaults(handler=validate_command)


def validate_command(args) -> int:
    """Check everything, run the seeds, print rows and summaries."""
    from sim.effects import seeds_from
    from sim.progress import ProgressBar
    from sim.scenario import load_scenario
    from sim.validate import hold_outs, read_observed, simulated_years, validate

    scenario = load_scenario(args.scenario, dict(args.set))
    years = simulated_years(scenario, args.months)
    where = str(args.observed)
    left_out = []
    observations = read_observed(args.observed, years, scenario.scenario.name, left_out)
    held_years, held_ids = hold_outs(args.hold_out, observations, where)
    seeds = seeds_from(scenario, args.seeds, args.base_seed)
    with ProgressBar(f"{scenario.scenario.name}: validate", len(seeds)) as bar:
        done = iter(range(1, len(seeds) + 1))
        result = validate(
            scenario,
            observations,
            where,
            seeds,
            args.months,
            held_years,
            held_ids,
            lambda: bar.update(next(done)),
            left_out,
        )
    if args.format == "json":
        sys.stdout.write(json.dumps(result.to_json_dict(), indent=2, allow_nan=False) + "\n")
    else:
        sys.stdout.write(render_validation(result, Words(args.lang, scenario.plan)))
    return 0


def render_validation(v, words: Words | None = None) -> str:
    """Rows in the file's order, then the summaries (fitted rows, then held out).

    In Chinese (``words``) each row ends with the indicator's name; the ids stay.
    """
    words = words or Words("en")
    t = words.t
    seeds = v.seeds
    span = (
        words("validate_seed", first=seeds[0])
        if len(seeds) == 1
        else words("validate_seeds", first=seeds[0], last=seeds[-1])
    )
    lines = [
        words(
            "validate_heading", scenario=v.scenario, file=v.observed_file, count=len(seeds),
            span=span, months=v.months,
        ),
        t["validate_how"],
        "",
        f"{ljust(t['validate_id'], 30)}{rjust(t['validate_year'], 8)}"
        f"{rjust(t['validate_observed'], 12)}{rjust(t['validate_median'], 12)}   "
        f"{ljust(t['validate_band'], 24)}{rjust(t['validate_error'], 9)}  {t['validate_in_band']}",
    ]  # fmt: skip
    for r in v.rows:
        mark = words.yes_no(r.in_band) + (t["validate_held"] if r.held_out else "")
        mark += t["validate_year_0"] if r.baseline else ""
        row = (
            f"{r.id:<30}{r.when:>8}{_v(r.observed):>12}{_v(r.median):>12}   "
            f"{'[' + _v(r.lo) + ', ' + _v(r.hi) + ']':<24}{_error(r.error_percent):>9}  {mark}"
        )
        lines.append(f"{row}  {words.indicator(r.id)}" if words.lang == "zh" else row)
    lines.append("")
    lines += _summary_lines(t["validate_summary"], v.summary, words)
    held = v.held_out
    if held.overall.rows:
        lines.append("")
        lines += _summary_lines(t["validate_held_title"], held, words)
    baseline = v.baseline
    if baseline.overall.rows:
        lines.append("")
        title = words("validate_baseline_title", year=v.baseline_year)
        lines += _summary_lines(title, baseline, words)
    if v.left_out:
        lines.append("")
        lines.append(
            words(
                "validate_left_out", count=len(v.left_out), year=v.baseline_year,
                lines=", ".join(str(o.line) for o in v.left_out),
            )
        )  # fmt: skip
    lines.append("")
    lines.append(t["validate_mape_note"])
    lines.append(t["validate_band_note"])
    return "\n".join(lines) + "\n"


def _summary_lines(title: str, summary, words: Words) -> list[str]:
    overall = summary.overall
    if not overall.rows:
        return [words("validate_no_rows", title=title)]
    lines = [f"{title}: {_score(overall, words)}"]
    if all(score.rows == 1 for score in summary.by_id.values()):
        if overall.rows > 1:
            lines.append(words.t["validate_one_row"])
        return lines
    for key, score in summary.by_id.items():
        lines.append(f"  {key:<30}{_score(score, words)}")
    return lines


def _score(score, words: Words) -> str:
    return words(
        "validate_score", mape=_percent(score.mape_percent), inside=score.in_band,
        rows=score.rows, share=_percent(100 * score.band_coverage),
    )  # fmt: skip


def _percent(x) -> str:
    return "n/a" if x is None else _n(x) + "%"


def _error(x) -> str:
    """A signed percentage to three significant figures: -0.0342% stays visible."""
    return "n/a" if x is None else _n(x, True) + "%"


def _v(x: float) -> str:
    """A whole number as one (counts), anything else to three significant figures."""
    return f"{int(x):,}" if float(x).is_integer() else _n(x)
