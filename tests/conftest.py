from pathlib import Path

import pytest

from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SCENARIO = ROOT / "scenarios" / "liangping_2021_2025.toml"
SMOKE_SCENARIO = ROOT / "scenarios" / "ci_smoke.toml"
REFERENCE_SCENARIO = ROOT / "tests" / "data" / "reference_300.toml"
# The ratio indicators the regional closure solves to equal their plan baselines at year 0.
CLOSURE_RATIOS = (
    "rd_gdp_ratio",
    "rd_revenue_ratio_above_scale",
    "rd_staff_per_10k_employed",
    "hitech_industry_share",
    "strategic_emerging_share",
    "industry_va_gdp_share",
)

# `make test` runs the suite on two pytest-xdist workers with --dist loadgroup: each group of
# tests runs in one worker. Tests that run a firm table above kernels.PARALLEL_MIN_ROWS on two
# Numba threads use the kernels' threaded variants, which take minutes of CPU to compile from a
# cold cache: in one group they are compiled once, in one worker, instead of in both at once.
THREADED_GROUP = "threaded_kernels"
THREADED_KERNELS = pytest.mark.xdist_group(THREADED_GROUP)


def pytest_sessionstart(session):
    """Under xdist, compile the single-thread kernels once, here, before the workers start.

    Numba's cache index is rewritten whole by each process that adds a compiled variant, so two
    workers compiling variants of one kernel at once can lose each other's entries (and compile
    them again later). Afterwards the workers only load these; the threaded group compiles the
    threaded variants alone.
    """
    if session.config.pluginmanager.hasplugin("dsession"):
        from sim.run import run_scenario

        run_scenario(load_scenario(SMOKE_SCENARIO), months=12)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Group each other test with its module; the threaded-kernel group runs first.

    A module's tests share its module-scoped fixtures (runs, batches, clusters, a browser),
    which split across workers would be built twice. The threaded group goes first so that its
    compilation overlaps the rest of the suite on the other worker, not its end.
    """
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
    items.sort(key=lambda item: item.get_closest_marker("xdist_group").args[0] != THREADED_GROUP)


@pytest.fixture(scope="session")
def liangping():
    return load_scenario(DEFAULT_SCENARIO)


@pytest.fixture(scope="session")
def small():
    return load_scenario(REFERENCE_SCENARIO)
