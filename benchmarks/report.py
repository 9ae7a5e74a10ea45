"""The readable table of a benchmark run, the goals check and the scaling plot."""

from pathlib import Path

# The goals of the performance issue.
GOAL_FIRM_MONTHS_PER_THREAD = 10e6
GOAL_MILLION_FIRMS_S = 10.0
GOAL_MILLION_FIRMS_MB = 1536.0
GOAL_SPEEDUP = 200.0
GOAL_DISTRICT_S = 0.050
LINEAR_TOLERANCE = 1.5  # time per firm-month at 10^6 within 1.5x of that at 10^4


def _si(value: float | None, unit: str = "") -> str:
    if value is None:
        return "n/a"
    for factor, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.2f} {prefix}{unit}".rstrip()
    return f"{value:.3g} {unit}".rstrip()


def _s(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    if seconds < 1.0:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    """A Markdown table (readable as plain text too)."""
    widths = [max(len(h), *(len(r[k]) for r in rows)) for k, h in enumerate(headers)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows
    ]
    return "\n".join([line, rule, *body])


def goals(results: dict) -> list[dict]:
    """Each goal of the issue with the measured value and whether it is met."""
    k = results["kernel_vs_reference"]
    rate = k["firm_months_per_second"]
    speedup = k["speedup_vs_reference"]
    out = [
        _goal("monthly firm step, 1 thread, district: firm-months/s", ">= 10 M", _si(rate),
              rate >= GOAL_FIRM_MONTHS_PER_THREAD),
        _goal("monthly firm step, district: speed-up over the reference", ">= 200x",
              f"{speedup:.0f}x", speedup >= GOAL_SPEEDUP),
    ]  # fmt: skip
    runs = {r["firms"]: r for r in results.get("scaling", {}).get("runs", []) if "error" not in r}
    big = runs.get(1_000_000)
    if big:
        kernel = big.get("kernel_firm_months_per_second") or 0.0
        wall, rss = big["wall_s"], big["peak_rss_mb"]
        out += [
            _goal("firm-months/s, 1 thread, step_month kernel alone, 10^6 firms", ">= 10 M",
                  _si(kernel), kernel >= GOAL_FIRM_MONTHS_PER_THREAD),
            _goal("10^6 firms x 60 months once compiled, 1 thread", "<= 10 s", _s(wall),
                  wall <= GOAL_MILLION_FIRMS_S),
        ]  # fmt: skip
        two = results.get("threads", {}).get("wall_s", {}).get("2")
        if two is not None:
            out.append(_goal("10^6 firms x 60 months once compiled, 2 threads", "<= 10 s",
                             _s(two), two <= GOAL_MILLION_FIRMS_S))  # fmt: skip
        out.append(_goal("peak memory of the 10^6-firm run", "<= 1.5 GB", f"{rss:.0f} MB",
                         rss <= GOAL_MILLION_FIRMS_MB))  # fmt: skip
    ratio = results.get("scaling", {}).get("time_per_firm_month_ratio_1e6_vs_1e4")
    if ratio is not None:
        bound = LINEAR_TOLERANCE
        out.append(_goal("linear 10^4..10^6: time per firm-month 10^6 / 10^4", f"<= {bound}",
                         f"{ratio:.2f}", ratio <= bound))  # fmt: skip
    if "district" in results:
        d = results["district"]["median_s"]
        out.append(_goal("district run (~1,100 firms, 60 months), warm", "<= 50 ms", _s(d),
                         d <= GOAL_DISTRICT_S))  # fmt: skip
    return out


def _goal(what: str, goal: str, measured: str, met: bool) -> dict:
    return {"goal": what, "target": goal, "measured": measured, "met": bool(met)}


def render_table(results: dict) -> str:
    """The whole run as readable text: machine, one table per item, then the goals."""
    m = results["machine"]
    sim_state = f"{m['commit']}{' + uncommitted sim/ changes' if m['sim_modified'] else ''}"
    parts = [
        f"Machine: {m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable), "
        f"{m['memory_gb']} GB; Python {m['python']}, Numba {m['numba']}, NumPy {m['numpy']}, "
        f"Mesa {m['mesa']}; sim at {sim_state}",
        "",
    ]
    parts += _reference_tables(results["kernel_vs_reference"])
    if "scaling" in results:
        parts += _scaling_table(results["scaling"])
    if "threads" in results:
        parts += _threads_table(results["threads"])
    if "compile" in results:
        parts += _compile_table(results["compile"])
    if "district" in results:
        parts += _district_table(results["district"], results.get("batch"))
    parts += ["Goals", "", _table(
        ["goal", "target", "measured", "met"],
        [[g["goal"], g["target"], g["measured"], "yes" if g["met"] else "NO"]
         for g in goals(results)],
    ), ""]  # fmt: skip
    load = results.get("load_average_end")
    parts.append(
        f"Total benchmark time: {results['total_s']:.0f} s; load average (1, 5, 15 min) at "
        f"start {m['load_average_1_5_15']}, at end {load}"
    )
    return "\n".join(parts) + "\n"


def _scaling_table(s: dict) -> list[str]:
    rows = []
    for r in s["runs"]:
        if "error" in r:
            rows.append([f"{r['firms']:,}", "error", r["error"][:60], *[""] * 6])
            continue
        phases = r["phases_s"]
        rows.append([
            f"{r['firms']:,}",
            f"{r['firm_months']:,}",
            _s(r["wall_s"]),
            _s(r.get("cpu_s")),
            _si(r["firm_months_per_second"]),
            f"{r['ns_per_firm_month']:.0f}",
            _si(r.get("kernel_firm_months_per_second")),
            _s(phases.get("model_init")),
            f"{r['peak_rss_mb']:.0f}",
        ])  # fmt: skip
    ratio = s.get("time_per_firm_month_ratio_1e6_vs_1e4")
    return [
        f"2. Scaling: district scenario scaled to N year-0 firms, {s['months']} months, lean, "
        "1 thread, one fresh process per size",
        "",
        _table(
            [
                "firms",
                "firm-months",
                "wall",
                "CPU",
                "firm-months/s",
                "ns/firm-month",
                "kernel firm-months/s",
                "of which init",
                "peak RSS MB",
            ],
            rows,
        ),  # fmt: skip
        "",
        "Time per firm-month at 10^6 / at 10^4: "
        + (f"{ratio:.2f}" if ratio is not None else "n/a"),
        "",
        "Where the time of each run went (s):",
        "",
        _phase_table(s["runs"]),
        "",
    ]


def _phase_table(runs: list[dict]) -> str:
    names = ["model_init", "step_month", "close_year", "_add_entrants", "_remove_exited",
             "_firm_totals", "_record_year", "mix.start_month", "mix.month_levers",
             "mix.end_year"]  # fmt: skip
    seen = {name for r in runs if "error" not in r for name in r["phases_s"]}
    names = [n for n in names if n in seen] + sorted(seen - set(names))
    rows = []
    for r in runs:
        if "error" in r:
            continue
        phases = r["phases_s"]
        other = r["wall_s"] - sum(phases.values())
        rows.append(
            [f"{r['firms']:,}"] + [_s(phases.get(n)) for n in names] + [_s(other), _s(r["wall_s"])]
        )
    return _table(["firms", *names, "other", "total"], rows)


def _threads_table(t: dict) -> list[str]:
    if t.get("identical") is None:
        return ["3. Threads: failed: " + str(t.get("runs")), ""]
    return [
        f"3. Numba threads on {t['firms']:,} firms x {t['months']} months",
        "",
        _table(
            ["threads", "wall", "step_month", "result sha256"],
            [
                [n, _s(t["wall_s"][n]), _s(t["step_month_s"][n]), t["sha256"][n][:16]]
                for n in ("1", "2")
            ],
        ),
        "",
        f"Speed-up with 2 threads: {t['speedup_2_threads']:.2f}x overall, "
        f"{t['kernel_speedup_2_threads']:.2f}x in step_month; results identical: "
        f"{'yes' if t['identical'] else 'NO'}",
        "",
    ]


def _compile_table(c: dict) -> list[str]:
    if "compile_s" not in c:
        return ["4. Compile: failed: " + str(c), ""]
    cold, cached = c["empty_cache"], c["cached"]
    return [
        "4. Compile time (reference_300, fresh processes sharing one new NUMBA_CACHE_DIR)",
        "",
        _table(
            ["process", "import", "first run_scenario", "second run_scenario (warm)"],
            [
                [
                    "empty cache (compile)",
                    _s(cold["import_s"]),
                    _s(cold["first_run_s"]),
                    _s(cold["warm_run_s"]),
                ],
                [
                    "cache written above",
                    _s(cached["import_s"]),
                    _s(cached["first_run_s"]),
                    _s(cached["warm_run_s"]),
                ],
            ],
        ),  # fmt: skip
        "",
        f"Compile ~{_s(c['compile_s'])}, cache load ~{_s(c['cache_load_s'])} "
        "(first run minus warm run).",
        "",
    ]


def _district_table(d: dict, b: dict | None) -> list[str]:
    out = [
        f"5. District run: {d['scenario']} ({d['firms_year0']} firms, {d['months']} months), "
        f"warm, 1 thread: median {_s(d['median_s'])}, best {_s(d['min_s'])} "
        f"of {d['repeats']}",
        "",
    ]
    if b:
        rows = [
            [n, _s(v["startup_s"]), _s(v["wall_s"]), f"{v['runs_per_second']:.1f}",
             f"{v['runs_per_second_with_startup']:.1f}"]
            for n, v in b["by_workers"].items()
        ]  # fmt: skip
        out += [
            f"Batch: {b['runs']} district runs over seeds; engine: {b['engine']}",
            "",
            _table(
                [
                    "workers",
                    "pool start-up",
                    "wall incl. start-up",
                    "runs/s (steady)",
                    "runs/s incl. start-up",
                ],
                rows,
            ),  # fmt: skip
            "",
        ]
    return out


def plot_scaling(results: dict, path: str | Path) -> None:
    """Wall time and kernel time against firms, log-log, with a linear guide."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = [r for r in results["scaling"]["runs"] if "error" not in r]
    firms = [r["year0_firms"] for r in runs]
    wall = [r["wall_s"] for r in runs]
    kernel = [r["phases_s"].get("step_month") for r in runs]
    init = [r["phases_s"].get("model_init") for r in runs]
    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=120)
    ax.loglog(firms, wall, "o-", label="wall time, run_scenario (60 months)")
    if all(v is not None for v in kernel):
        ax.loglog(firms, kernel, "s--", label="of which step_month kernel")
    if all(v is not None for v in init):
        ax.loglog(firms, init, "^:", label="of which model set-up")
    ref = runs[min(1, len(runs) - 1)]
    guide = [ref["wall_s"] * f / ref["year0_firms"] for f in firms]
    ax.loglog(firms, guide, color="grey", lw=0.8, label="linear in firms (through 10^4)")
    ax.axhline(GOAL_MILLION_FIRMS_S, color="red", lw=0.8, ls="-.", label="goal: 10 s at 10^6")
    ax.set_xlabel("year-0 firms")
    ax.set_ylabel("seconds")
    m = results["machine"]
    ax.set_title(f"Lean run, 1 Numba thread ({m['cpu']}, sim {m['commit']})", fontsize=9)
    ax.grid(True, which="both", lw=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


PART_NAMES = {
    "month": "monthly firm step: step_month | ReferenceFirm.month",
    "year_end": "31 December rounds: close_year | ReferenceFirm.close_year",
    "run": "whole run: run_scenario(lean) | ReferenceEcosystem",
}


def _reference_tables(k: dict) -> list[str]:
    """Item 1: per scenario, each part's time and firm-months/s on both paths, and the ratio."""
    out = []
    for c in k["scenarios"]:
        rows = [
            [
                PART_NAMES[part],
                _s(p["numba_s"]),
                _si(p["firm_months_per_second"]),
                _s(p["reference_s"]),
                _si(p["reference_firm_months_per_second"]),
                f"{p['speedup']:.1f}x",
            ]
            for part, p in c["parts"].items()
        ]
        out += [
            f"1. Numba path ({k['threads']} thread) vs plain-Python reference: {c['scenario']} "
            f"({c['firms_year0']:,} firms, {c['months']} months, {c['firm_months']:,} "
            "firm-months; Numba: median of warm runs, reference: one run)",
            "",
            _table(
                [
                    "part (Numba | reference)",
                    "Numba",
                    "firm-months/s",
                    "reference",
                    "firm-months/s",
                    "speed-up",
                ],
                rows,
            ),  # fmt: skip
            "",
        ]
    return out
