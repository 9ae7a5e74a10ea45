"""Counter-based random streams.

Every random number in a run is a pure function of (seed, month, entity id, purpose): a
splitmix64 hash of the four, turned into a uniform in (0, 1). No generator state is carried,
so results do not depend on the order agents are visited, on thread count or on chunking, and a
policy run and its no-policy twin with the same seed share their random numbers (common random
numbers).

Three implementations of the same hash exist on purpose and are tested to agree bit for bit:
``uniform`` (Numba, used in kernels), ``uniforms`` (Numba, vectorised over ids, used when a
population is synthesised) and ``uniform_py`` (plain Python, used by the readable reference).
The binomial and Poisson draws need no twin of their own: ``binomial_py`` and ``poisson_py``
are the same source run by the interpreter.
"""

import math

import numpy as np
from numba import njit

# Purposes: one stream per kind of decision. Never renumber: results would change.
DEMAND = 1
DEMAND_ANGLE = 2
INNOVATION = 3
JUMP = 4
PATENT_APPLICATION = 5
GRANT_LAG = 6
GRANT = 7
LAPSE = 8
EXIT = 9
BIRTHS = 10
HITECH_APPLICATION = 11
HITECH_REVIEW = 12
HITECH_AUDIT = 13
REGISTRATION = 14
INIT_REVENUE = 20
INIT_REVENUE_ANGLE = 21
INIT_RD = 22
INIT_TECH_STAFF = 23
INIT_PRODUCT_SHARE = 24
INIT_CASH = 25
INIT_OTHER_IP = 26
INIT_AGE = 27
INIT_GROWTH = 28
INIT_GROWTH_ANGLE = 29
INIT_CERT_COHORT = 30
INIT_PATENT_OWNER = 31
INIT_INNOVATIONS = 32
VOUCHER_APPLICATION = 50
CREDIT_APPLICATION = 51
FUND_DEAL = 52
INCUBATOR_ADMISSION = 53
MAJOR_PRODUCT = 54
ATTRACTION_SECTOR = 55
ATTRACTION_COUNT = 56
COMMISSIONER = 57

# Month key used for draws made while the initial population is synthesised: far from any
# simulated month so the streams never meet.
INIT_MONTH = 1 << 40
# Entity ids for regional draws (births per sector): far above any firm row.
REGION_ENTITY = 1 << 48

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_TWO_POW_M53 = 2.0**-53

_U_GOLDEN = np.uint64(_GOLDEN)
_U_M1 = np.uint64(_M1)
_U_M2 = np.uint64(_M2)
_U30 = np.uint64(30)
_U27 = np.uint64(27)
_U31 = np.uint64(31)
_U11 = np.uint64(11)


@njit(cache=True, inline="always")
def _mix(z):
    z = (z ^ (z >> _U30)) * _U_M1
    z = (z ^ (z >> _U27)) * _U_M2
    return z ^ (z >> _U31)


@njit(cache=True, inline="always")
def uniform(seed, month, entity, purpose):
    """A uniform draw in (0, 1) for (seed, month, entity, purpose); all non-negative ints."""
    z = _mix(np.uint64(seed) ^ _U_GOLDEN)
    z = _mix(z ^ np.uint64(month))
    z = _mix(z ^ np.uint64(entity))
    z = _mix(z ^ np.uint64(purpose))
    return (np.float64(z >> _U11) + 0.5) * _TWO_POW_M53


@njit(cache=True)
def uniforms(seed, month, entities, purpose):
    """Vectorised ``uniform`` over an int64 array of entity ids."""
    out = np.empty(entities.shape[0], dtype=np.float64)
    for k in range(entities.shape[0]):
        out[k] = uniform(seed, month, entities[k], purpose)
    return out


@njit(cache=True, inline="always")
def normal(seed, month, entity, purpose, angle_purpose):
    """A standard normal draw (Box-Muller on two streams)."""
    u1 = uniform(seed, month, entity, purpose)
    u2 = uniform(seed, month, entity, angle_purpose)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@njit(cache=True)
def normals(seed, month, entities, purpose, angle_purpose):
    """Vectorised ``normal`` over an int64 array of entity ids."""
    out = np.empty(entities.shape[0], dtype=np.float64)
    for k in range(entities.shape[0]):
        out[k] = normal(seed, month, entities[k], purpose, angle_purpose)
    return out


@njit(cache=True, inline="always")
def binomial(n, p, u):
    """Binomial(n, p) by inversion of one uniform ``u``; exact, O(result)."""
    if n <= 0 or p <= 0.0:
        return 0
    if p >= 1.0:
        return n
    q = 1.0 - p
    pmf = q**n
    cdf = pmf
    k = 0
    while u > cdf and k < n:
        pmf *= (n - k) / (k + 1.0) * p / q
        k += 1
        cdf += pmf
    return k


@njit(cache=True, inline="always")
def poisson(lam, u):
    """Poisson(lam) by inversion of one uniform ``u``.

    Large rates sum the probabilities in log space: exp(-lam) underflows above ~745.
    """
    if lam <= 0.0:
        return 0
    if lam >= LARGE_POISSON_RATE:
        return _poisson_large(lam, u)
    pmf = math.exp(-lam)
    cdf = pmf
    k = 0
    while u > cdf and k < 100000:
        k += 1
        pmf *= lam / k
        cdf += pmf
    return k


LARGE_POISSON_RATE = 500.0


@njit(cache=True)
def _poisson_large(lam, u):
    log_lam = math.log(lam)
    cdf = 0.0
    k = 0
    limit = int(lam + 50.0 * math.sqrt(lam) + 100.0)
    while k < limit:
        cdf += math.exp(k * log_lam - lam - math.lgamma(k + 1.0))
        if u <= cdf:
            return k
        k += 1
    return k


@njit(cache=True)
def poissons(lam, u):
    """Vectorised ``poisson`` with one rate over an array of uniforms."""
    out = np.empty(u.shape[0], dtype=np.int64)
    for k in range(u.shape[0]):
        out[k] = poisson(lam, u[k])
    return out


def _mix_py(z: int) -> int:
    z = ((z ^ (z >> 30)) * _M1) & _MASK
    z = ((z ^ (z >> 27)) * _M2) & _MASK
    return z ^ (z >> 31)


def uniform_py(seed: int, month: int, entity: int, purpose: int) -> float:
    """Plain-Python twin of ``uniform``: the same bits, for the reference model."""
    z = _mix_py((seed & _MASK) ^ _GOLDEN)
    z = _mix_py(z ^ month)
    z = _mix_py(z ^ entity)
    z = _mix_py(z ^ purpose)
    return ((z >> 11) + 0.5) * _TWO_POW_M53


def normal_py(seed: int, month: int, entity: int, purpose: int, angle_purpose: int) -> float:
    """Plain-Python twin of ``normal``."""
    u1 = uniform_py(seed, month, entity, purpose)
    u2 = uniform_py(seed, month, entity, angle_purpose)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


# The twins of the float-only draws are the same source, run by the interpreter.
binomial_py = binomial.py_func
poisson_py = poisson.py_func
