"""CART scenario discovery: a classification tree of the runs that miss a target.

Beside PRIM (``sim.batch.analysis.prim``): a decision tree (scikit-learn's
``DecisionTreeClassifier``, Breiman et al. 1984; the tree EMA Workbench's ``CART`` wraps) splits
the runs on lever and uncertainty values until the leaves are mostly failing or mostly meeting
runs. The leaf where the target fails most often (highest density; the larger leaf on ties) is
reported as a box: its path of splits, coverage (share of failing runs in the leaf), density
(share of the leaf's runs that fail) and mass (share of all runs in the leaf). Trees are kept
shallow (depth 3) and leaves large (at least 5% of the runs, at least 5 runs) so that a box
names a few factors and holds enough runs to mean something.
"""

import numpy as np
import pandas as pd

from sim.batch.analysis import boxes_where_targets_fail

MAX_DEPTH = 3
MIN_LEAF_SHARE = 0.05
MIN_LEAF_RUNS = 5
NOTHING = "no leaf of the tree concentrates the failures"
NO_SKLEARN = "n/a: needs scikit-learn (pip install innosim[ema])"


def cart_box(x: pd.DataFrame, fails: np.ndarray) -> dict | None:
    """The failing-most leaf of a tree over ``x`` (one column per factor); None if no tree.

    Returns ``{"box", "coverage", "density", "mass"}``; ``box`` reads like PRIM's
    (``a in [0.2, 0.55] and b >= 3``).
    """
    from sklearn.tree import DecisionTreeClassifier

    fails = np.asarray(fails, dtype=bool)
    leaf_runs = max(MIN_LEAF_RUNS, int(np.ceil(MIN_LEAF_SHARE * len(fails))))
    if len(fails) < 2 * leaf_runs or fails.all() or not fails.any():
        return None
    tree = DecisionTreeClassifier(max_depth=MAX_DEPTH, min_samples_leaf=leaf_runs, random_state=0)
    tree.fit(x.to_numpy(dtype=float), fails)
    leaves = tree.apply(x.to_numpy(dtype=float))
    best = max(
        np.unique(leaves),
        key=lambda leaf: (fails[leaves == leaf].mean(), (leaves == leaf).sum()),
    )
    inside = leaves == best
    if fails[inside].mean() <= fails.mean():
        return None  # no leaf concentrates the failures
    return {
        "box": _describe(tree, best, list(x.columns)),
        "coverage": float(fails[inside].sum() / fails.sum()),
        "density": float(fails[inside].mean()),
        "mass": float(inside.mean()),
    }


def _describe(tree, leaf: int, names: list[str]) -> str:
    """The splits on the path to ``leaf`` as ranges per factor."""
    t = tree.tree_
    parent = {}
    for node in range(t.node_count):
        for child, side in ((t.children_left[node], "le"), (t.children_right[node], "gt")):
            if child >= 0:
                parent[child] = (node, side)
    bounds: dict[str, list[float]] = {}
    node = leaf
    while node in parent:
        node, side = parent[node]
        name = names[t.feature[node]]
        low, high = bounds.setdefault(name, [-np.inf, np.inf])
        if side == "le":
            bounds[name][1] = min(high, t.threshold[node])
        else:
            bounds[name][0] = max(low, t.threshold[node])
    parts = []
    for name in names:
        if name not in bounds:
            continue
        low, high = bounds[name]
        if np.isinf(low):
            parts.append(f"{name} <= {high:.4g}")
        elif np.isinf(high):
            parts.append(f"{name} > {low:.4g}")
        else:
            parts.append(f"{name} in ({low:.4g}, {high:.4g}]")
    return " and ".join(parts)


def cart_discovery(final: pd.DataFrame, factors: list[str], targets: list[dict]) -> pd.DataFrame:
    """One row per target: the CART box where it fails (``final``: one row per run)."""
    try:
        import sklearn  # noqa: F401
    except ImportError:
        return pd.DataFrame([{"indicator": t["id"], "box": NO_SKLEARN} for t in targets])
    rows = boxes_where_targets_fail(
        final,
        factors,
        [(t["id"], t["target"]) for t in targets],
        cart_box,
        NOTHING,
    )
    for row in rows:
        del row["fail_rate"]  # the PRIM table gives it
    return pd.DataFrame(rows)
