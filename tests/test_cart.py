"""CART scenario discovery beside PRIM."""

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("sklearn")

from sim.batch.cart import cart_box, cart_discovery  # noqa: E402


def test_cart_finds_the_leaf_where_a_target_fails():
    rng = np.random.default_rng(1)
    x = pd.DataFrame({"a": rng.uniform(0, 1, 2000), "b": rng.uniform(0, 10, 2000)})
    fails = ((x["a"] < 0.3) & (x["b"] > 5)).to_numpy()
    box = cart_box(x, fails)
    assert box is not None
    assert box["box"].startswith("a <= 0.3") and " and b > 5" in box["box"]
    assert box["density"] > 0.95 and box["coverage"] > 0.95
    assert box["mass"] == pytest.approx(fails.mean(), abs=0.02)
    assert cart_box(x, np.zeros(2000, dtype=bool)) is None  # nothing to find


def test_cart_table_says_when_there_is_nothing_to_discover():
    final = pd.DataFrame({"a": [0.1, 0.2, 0.3], "hitech_firms": [10.0, 20.0, 30.0]})
    met = cart_discovery(final, ["a"], [{"id": "hitech_firms", "target": 5.0}])
    missed = cart_discovery(final, ["a"], [{"id": "hitech_firms", "target": 50.0}])
    assert met["box"].tolist() == ["target met in every run"]
    assert missed["box"].tolist() == ["target missed in every run"]
