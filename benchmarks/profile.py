"""Where a large run spends its time: ``python -m benchmarks.profile [--firms N]``.

Runs the scaled district scenario once with the phase timers attached, then once more under
cProfile (Python side; a Numba kernel shows as one opaque call), and prints both. Set
``NUMBA_NUM_THREADS=1`` for per-thread figures.
"""

import argparse
import cProfile
import io
import pstats
import sys
import time

from benchmarks.scenarios import reference, scaled_district
from benchmarks.timing import PhaseTimer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__)
    parser.add_argument("--firms", type=lambda s: int(float(s)), default=100_000)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--top", type=int, default=20, help="functions listed by own time")
    args = parser.parse_args(argv)

    import numba

    from sim.run import run_scenario

    run_scenario(reference(), months=13, agents="lean")  # compile or load the kernels
    scenario = scaled_district(args.firms, args.months)
    timer = PhaseTimer()
    with timer.attached():
        start = time.perf_counter()
        run_scenario(scenario, agents="lean")
        wall = time.perf_counter() - start
    print(
        f"{args.firms:,} firms x {args.months} months, {numba.get_num_threads()} Numba "
        f"thread(s): {wall:.2f} s, {timer.firm_months:,} firm-months"
    )
    for name, seconds in sorted(timer.seconds.items(), key=lambda kv: -kv[1]):
        calls = timer.calls[name]
        print(f"  {name:16s} {seconds:8.3f} s  {100 * seconds / wall:5.1f}%  {calls} calls")
    other = wall - sum(timer.seconds.values())
    print(f"  {'other':16s} {other:8.3f} s  {100 * other / wall:5.1f}%")

    profiler = cProfile.Profile()
    profiler.enable()
    run_scenario(scenario, agents="lean")
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(args.top)
    print("\ncProfile, sorted by own time (Numba kernels appear inside their Python caller):")
    print(text.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
