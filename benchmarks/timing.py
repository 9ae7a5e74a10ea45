"""Timers that attach to the model's schedule without changing it.

``PhaseTimer`` wraps the kernels and the bookkeeping methods ``sim.model`` calls each month,
so a run reports where its time went and how many firm-months its kernel stepped. The
wrappers add one ``perf_counter`` pair per call (a few hundred per run) and one
``count_nonzero`` of the ``alive`` column per month: negligible next to a run. Names that a
later version of ``sim.model`` no longer has are skipped, and the firm-months are then
estimated from the indicators instead (``firm_months_method`` says which).
"""

import time
from contextlib import contextmanager

import numpy as np

# Module-level functions of sim.model and methods of InnovationEcosystem timed as phases.
KERNELS = ("step_month", "close_year")
METHODS = ("_remove_exited", "_add_entrants", "_firm_totals", "_record_year")
# Phases of the schedule in which the lever groups (sim/policies) act.
LEVER_METHODS = ("_lever_groups", "_firms_arrive", "policy_in_force", "_close_books")


class PhaseTimer:
    """Seconds spent per phase, and firm-months stepped, while ``attached``."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.firm_months = 0
        self.counted = False
        self._in_init = False

    def _wrap(self, name, fn, count_alive: bool = False):
        init = name == "model_init"

        def timed(*args, **kwargs):
            if self._in_init and not init:  # counted in model_init
                return fn(*args, **kwargs)
            self._in_init = init
            if count_alive:
                self.firm_months += int(np.count_nonzero(args[0].alive))
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self._in_init = False
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start
                self.calls[name] = self.calls.get(name, 0) + 1

        return timed

    @contextmanager
    def attached(self):
        """Time the phases of every ``InnovationEcosystem`` run inside the block."""
        import sim.model as model

        saved = []
        for name in KERNELS:
            fn = getattr(model, name, None)
            if callable(fn):
                saved.append((model, name, fn))
                count = name == "step_month"
                setattr(model, name, self._wrap(name, fn, count_alive=count))
                self.counted = self.counted or count
        cls = model.InnovationEcosystem
        for name in ("__init__", *METHODS, *LEVER_METHODS):
            fn = cls.__dict__.get(name)
            if callable(fn):
                saved.append((cls, name, fn))
                setattr(cls, name, self._wrap("model_init" if name == "__init__" else name, fn))
        try:
            yield self
        finally:
            for owner, name, fn in reversed(saved):
                setattr(owner, name, fn)


def approximate_firm_months(indicators, months: int) -> float:
    """(firms at start + firms at end) / 2 x months, from the yearly ``firms`` indicator."""
    firms = indicators["firms"].astype(float)
    return (firms.iloc[0] + firms.iloc[-1]) / 2.0 * months


def best_and_median(samples: list[float]) -> dict:
    """Minimum and median of timing samples, in seconds."""
    ordered = sorted(samples)
    return {"min_s": ordered[0], "median_s": ordered[len(ordered) // 2], "repeats": len(samples)}
