import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import kstest, norm

from sim import rng

ints = st.integers(min_value=0, max_value=2**62)
# the months of a burn-in are negative
months = st.integers(min_value=-(2**31), max_value=2**62)


@settings(deadline=None)  # the first example pays the Numba compilation
@given(seed=ints, month=months, entity=ints, purpose=st.integers(0, 1000))
def test_numba_and_python_hash_agree_bit_for_bit(seed, month, entity, purpose):
    fast = rng.uniform(seed, month, entity, purpose)
    slow = rng.uniform_py(seed, month, entity, purpose)
    assert fast == slow
    assert 0.0 < fast < 1.0


@settings(deadline=None)
@given(seed=ints, month=ints, entity=ints, purpose=st.integers(0, 1000))
def test_the_hoisted_key_chain_is_the_same_hash(seed, month, entity, purpose):
    # keys are uint64; a Python int above 2**63 must say so to reach Numba
    key = rng.entity_key(np.uint64(rng.month_key(seed, month)), entity)
    assert rng.draw(np.uint64(key), purpose) == rng.uniform_py(seed, month, entity, purpose)


def test_vectorised_draws_equal_scalar_draws():
    ids = np.arange(1000, dtype=np.int64)
    draws = rng.uniforms(7, 3, ids, rng.EXIT)
    assert [rng.uniform_py(7, 3, int(i), rng.EXIT) for i in ids] == draws.tolist()


def test_streams_differ_by_every_key():
    base = rng.uniform_py(1, 2, 3, 4)
    assert (
        len(
            {
                base,
                rng.uniform_py(2, 2, 3, 4),
                rng.uniform_py(1, 3, 3, 4),
                rng.uniform_py(1, 2, 4, 4),
                rng.uniform_py(1, 2, 3, 5),
            }
        )
        == 5
    )


def test_uniforms_look_uniform():
    u = rng.uniforms(11, 0, np.arange(200_000, dtype=np.int64), rng.DEMAND)
    assert abs(u.mean() - 0.5) < 0.005
    counts, _ = np.histogram(u, bins=10, range=(0, 1))
    assert counts.min() > 0.95 * 20_000 and counts.max() < 1.05 * 20_000


def test_normals_have_unit_variance():
    z = rng.normals(5, 0, np.arange(200_000, dtype=np.int64), rng.DEMAND)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1.0) < 0.01
    assert z.tolist()[:500] == [rng.normal_py(5, 0, i, rng.DEMAND) for i in range(500)]


def test_normal_quantile_matches_scipy_in_the_centre_and_both_tails():
    # 0.5 * 2**-53 is the smallest uniform a draw can return
    p = np.concatenate(
        [[0.5 * 2.0**-53, 1e-300], np.logspace(-16, -1, 200), np.linspace(0.01, 0.99, 999)]
    )
    p = np.concatenate([p, 1.0 - p[2:]])
    expected = norm.ppf(p)
    got = np.array([rng.normal_quantile(x) for x in p])
    assert np.allclose(got, expected, rtol=1e-14, atol=1e-14)
    assert [rng.normal_quantile_py(x) for x in p] == got.tolist()


def test_ziggurat_twins_agree_on_every_path():
    ids = np.arange(100_000, dtype=np.int64)
    fast = rng.gaussians(3, 7, ids, rng.DEMAND).tolist()
    assert fast == [rng.gaussian_py(3, 7, int(i), rng.DEMAND) for i in ids]
    # the rare paths were taken: wedges and retries (~1%), the tail beyond the base layer
    edges = tails = 0
    for i in ids:
        z = rng._hash_py(3, 7, int(i), rng.DEMAND)
        layer = z & (rng.ZIGGURAT_LAYERS - 1)
        u = 2.0 * (((z >> 11) + 0.5) * 2.0**-53) - 1.0
        if abs(u) >= rng._ZIG_RATIO_PY[layer]:
            edges += 1
            tails += layer == 0
    assert edges > 500 and tails > 5


def test_ziggurat_draws_are_standard_normal():
    z = rng.gaussians(5, 0, np.arange(1_000_000, dtype=np.int64), rng.DEMAND)
    assert abs(z.mean()) < 0.005 and abs(z.std() - 1.0) < 0.005
    assert kstest(z, "norm").pvalue > 1e-3
    for bar in (1.0, 2.0, 3.0, rng._ZIG_R, 4.0):  # both tails, beyond the base layer too
        expected = 2.0 * norm.sf(bar)
        assert abs(np.mean(np.abs(z) > bar) - expected) < 5.0 * np.sqrt(expected / z.size)


def test_ziggurat_layers_close_at_the_top():
    # the recursion from the published edge and area ends at the mode: the layers tile f
    top = rng._ZIG_X_PY[rng.ZIGGURAT_LAYERS - 1]
    assert rng._ZIG_V / top + np.exp(-0.5 * top * top) == pytest.approx(1.0, abs=1e-9)


@settings(deadline=None)  # the first example pays the Numba compilation
@given(n=st.integers(0, 60), p=st.floats(0, 1), u=st.floats(1e-12, 1 - 1e-12))
def test_binomial_twins_agree_and_stay_in_range(n, p, u):
    k = rng.binomial(n, p, u)
    assert k == rng.binomial_py(n, p, u)
    assert 0 <= k <= n


def test_binomial_and_poisson_means():
    u = rng.uniforms(3, 0, np.arange(50_000, dtype=np.int64), rng.GRANT)
    assert abs(np.mean([rng.binomial(20, 0.3, x) for x in u]) - 6.0) < 0.06
    assert abs(np.mean([rng.poisson(2.5, x) for x in u]) - 2.5) < 0.03
    assert all(rng.poisson(2.5, x) == rng.poisson_py(2.5, x) for x in u[:2000])


def test_poisson_is_right_for_large_rates_where_exp_underflows():
    u = rng.uniforms(9, 0, np.arange(4000, dtype=np.int64), rng.BIRTHS)
    for lam in (800.0, 5000.0):
        draws = rng.poissons(lam, u)
        assert abs(draws.mean() - lam) < 4 * np.sqrt(lam / len(u)) + 1
        assert abs(draws.std() - np.sqrt(lam)) < 0.1 * np.sqrt(lam)
        assert all(rng.poisson_py(lam, x) == d for x, d in zip(u[:200], draws[:200], strict=True))
