"""Old against new firm step on a shared host: ``python -m benchmarks.interleave BASE_KERNELS``.

``BASE_KERNELS`` is a copy of ``sim/agents/kernels.py`` as an earlier commit had it; it is
loaded as a second module next to the working tree's (it imports the working tree's other
modules, so both must agree on the firm table and the rules). Both step the same snapshot of the
firm table (the model run ``--month`` months), restored before each call, alternately; the
results must be equal byte for byte. Printed: thread CPU time of whole ``step_month`` calls,
minimum and median. On a busy host the minima compare the code, the medians the load
(docs/benchmarks.md, "Measured load-robustly"). Set ``NUMBA_NUM_THREADS=1``.
"""

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np

from sim.flags import months, positive_int


def kernels_file(text: str) -> Path:
    """An existing file: a copy of ``sim/agents/kernels.py`` from an earlier commit."""
    if not Path(text).is_file():
        raise argparse.ArgumentTypeError(
            f"{text!r}: no such file (a copy of sim/agents/kernels.py)"
        )
    return Path(text)


def firm_count(text: str) -> int:
    """A whole number of firms from 1 to 10^8, written ``1000000`` or ``1e6``."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not (1 <= value <= 1e8 and value == int(value)):
        raise argparse.ArgumentTypeError(f"{text!r}: must be a whole number of firms, 1 to 1e8")
    return int(value)


def load_kernels(path: Path):
    """The kernels module at ``path``, as ``base_kernels`` (compiled into its own cache)."""
    spec = importlib.util.spec_from_file_location("base_kernels", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["base_kernels"] = module
    spec.loader.exec_module(module)
    return module


def model_at(firms: int | None, month: int):
    """The district (or the district scaled to ``firms``) after ``month`` months, lean."""
    from benchmarks.scenarios import district, scaled_district
    from sim.model import InnovationEcosystem

    setup = district() if firms is None else scaled_district(firms)
    model = InnovationEcosystem(setup=setup, agents="lean")
    for _ in range(month):
        model.step()
    return model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.interleave", description=__doc__)
    parser.add_argument("base_kernels", type=kernels_file)
    parser.add_argument(
        "--firms", type=firm_count, help="1 to 1e8, e.g. 1e6 (default: the district)"
    )
    parser.add_argument("--month", type=months, default=30, help="the snapshot's month, 1-1200")
    parser.add_argument("--calls", type=positive_int, default=100, help="calls of each")
    args = parser.parse_args(argv)

    from sim.agents import kernels

    base = load_kernels(args.base_kernels)
    model = model_at(args.firms, args.month)
    t = model.month + 1
    f = model.firms.arrays()
    policy = model.policy_in_force(model.date(t)[0])
    step = (f, model.sector_params, model.rules, t, model.seed, policy)
    snapshot = {name: column.copy() for name, column in f._asdict().items()}
    means = model.sector_params.mean_productivity.copy()

    def restore():
        for name, column in snapshot.items():
            getattr(f, name)[...] = column
        model.sector_params.mean_productivity[:] = means

    after = []
    for module in (base, kernels):
        restore()
        module.step_month(*step)
        after.append([column.tobytes() for column in f])
    if after[0] != after[1]:
        print("the two kernels' results differ", file=sys.stderr)
        return 1
    seconds = {base: [], kernels: []}
    for call in range(args.calls):
        for module in (base, kernels) if call % 2 == 0 else (kernels, base):
            restore()
            start = time.thread_time()
            module.step_month(*step)
            seconds[module].append(time.thread_time() - start)
    operating = int(np.count_nonzero(snapshot["alive"]))
    print(f"{operating:,} operating firms, month {t}, {args.calls} calls each; results equal")
    for name, module in (("base", base), ("this tree", kernels)):
        best, median = min(seconds[module]), float(np.median(seconds[module]))
        print(
            f"  {name:9s} min {best * 1e3:8.3f} ms  median {median * 1e3:8.3f} ms  "
            f"({best / operating * 1e9:.1f} ns a firm-month at the min)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
