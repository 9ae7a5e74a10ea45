"""Scenario batches: experiment files, samplers, engines, a resumable results store, reports.

An experiment (``experiments/*.toml``) names a base scenario, the levers a policy controls,
the uncertainties it does not, the replications (seeds) and a sampler. ``build_design`` turns
it into runs (policy mix x uncertainty sample x seed); ``run_batch`` runs them on a local
process pool or a Dask cluster and stores one Parquet file per finished run; ``make_report``
turns a results directory into attainment probabilities, paired effects, fan charts and
sensitivity tables. docs/experiments.md is the user guide.

Names are imported lazily so that ``innosim --help`` does not load pandas, SciPy or Dask.
"""

import importlib

_EXPORTS = {
    "Design": "sim.batch.design",
    "build_design": "sim.batch.design",
    "Experiment": "sim.batch.experiment",
    "load_experiment": "sim.batch.experiment",
    "run_batch": "sim.batch.batch",
    "read_results": "sim.batch.store",
    "make_report": "sim.batch.report",
    "liangping_model": "sim.batch.interop",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    """Import an exported name on first use."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'sim.batch' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
