"""Counter-based random streams.

Every random number in a run is a pure function of (seed, month, entity id, purpose): a
splitmix64 hash of the four, turned into a uniform in (0, 1). No generator state is carried,
so results do not depend on the order agents are visited, on thread count or on chunking, and a
policy run and its no-policy twin with the same seed share their random numbers (common random
numbers).

The hash is a chain, seed and month first, then the entity, then the purpose, so the kernels
compute the ``month_key`` once per month and the ``entity_key`` once per firm-month, and pay one
splitmix64 round per draw instead of four; ``uniform`` is the same chain in one call.

Three implementations of the same hash exist on purpose and are tested to agree bit for bit:
``uniform`` (Numba, used in kernels), ``uniforms`` (Numba, vectorised over ids, used when a
population is synthesised) and ``uniform_py`` (plain Python, used by the readable reference).
The draws built on a uniform need no twin of their own: ``normal_quantile_py``,
``binomial_py`` and ``poisson_py`` are the same source run by the interpreter. The ziggurat
normal (``draw_gaussian``, the monthly demand shocks) works on the hash's bits, so it has a
twin, ``gaussian_py``, tested to agree bit for bit.
"""

import math

import numpy as np
from numba import njit

# Purposes: one stream per kind of decision. Never renumber: results would change.
# Retired, never to be reused: 2, 21, 29 (the second streams of Box-Muller normals).
DEMAND = 1
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
INIT_RD = 22
INIT_TECH_STAFF = 23
INIT_PRODUCT_SHARE = 24
INIT_CASH = 25
INIT_OTHER_IP = 26
INIT_AGE = 27
INIT_GROWTH = 28
INIT_CERT_COHORT = 30
INIT_PATENT_OWNER = 31
INIT_INNOVATIONS = 32
INIT_PRODUCTIVITY = 33
INIT_FIELD = 34
INIT_RD_PERFORMS = 35  # whether a year-0 firm or an entrant runs R&D
VOUCHER_APPLICATION = 50
CREDIT_APPLICATION = 51
FUND_DEAL = 52
INCUBATOR_ADMISSION = 53
MAJOR_PRODUCT = 54
ATTRACTION_SECTOR = 55
ATTRACTION_COUNT = 56
COMMISSIONER = 57
DEMAND_EVENT = 15
EVENT_SIZE = 16
RD_PREFERENCE = 17
RD_START = 18
AWARENESS = 19
REGISTRY_CAMPAIGN = 58
INCUBATION_SEEKER = 59  # a firm's trait: seeks an incubator place (drawn at INIT_MONTH)
KNOWLEDGE_PARTNER = 60
HIGH_GROWTH_TAKE_UP = 61  # a firm's trait: seeks high-growth recognition (key INIT_MONTH)
CREDIT_AWARENESS = 62  # a firm learns of the loan scheme (year 0: key INIT_MONTH)
CREDIT_RENEWAL = 63
# The upper rungs of the ladder (sim/agents/ladder.py), one id per status in STATUSES order:
LADDER_TRAIT = 70  # 70-74: a firm's trait, its cost of seeking the status (key INIT_MONTH)
LADDER_REVIEW = 75  # 75-79: the review of an application in a December
LADDER_COHORT = 80  # year-0 holders: the year their MIIT status was granted (key INIT_MONTH)
LADDER_POINTS = 81  # a firm's specialised-SME points on criteria not modelled (key INIT_MONTH)

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
def month_key(seed, month):
    """The part of the hash shared by every draw of a month: computed once, not per firm."""
    return _mix(_mix(np.uint64(seed) ^ _U_GOLDEN) ^ np.uint64(month))


@njit(cache=True, inline="always")
def entity_key(month_key, entity):
    """The part of the hash shared by all of one entity's draws in a month."""
    return _mix(np.uint64(month_key) ^ np.uint64(entity))


@njit(cache=True, inline="always")
def draw(entity_key, purpose):
    """The uniform of ``purpose`` for the entity and month behind ``entity_key``."""
    z = _mix(np.uint64(entity_key) ^ np.uint64(purpose))
    return (np.float64(z >> _U11) + 0.5) * _TWO_POW_M53


@njit(cache=True, inline="always")
def draw_normal(entity_key, purpose):
    """A standard normal draw of ``purpose`` for the entity behind ``entity_key``."""
    return normal_quantile(draw(entity_key, purpose))


@njit(cache=True, inline="always")
def uniform(seed, month, entity, purpose):
    """A uniform draw in (0, 1) for (seed, month, entity, purpose); all non-negative ints."""
    return draw(entity_key(month_key(seed, month), entity), purpose)


@njit(cache=True)
def uniforms(seed, month, entities, purpose):
    """Vectorised ``uniform`` over an int64 array of entity ids."""
    key = month_key(seed, month)
    out = np.empty(entities.shape[0], dtype=np.float64)
    for k in range(entities.shape[0]):
        out[k] = draw(entity_key(key, entities[k]), purpose)
    return out


@njit(cache=True, inline="always")
def normal(seed, month, entity, purpose):
    """A standard normal draw for (seed, month, entity, purpose)."""
    return draw_normal(entity_key(month_key(seed, month), entity), purpose)


@njit(cache=True, inline="always")
def normal_quantile(p):
    """The standard normal quantile of ``p`` in (0, 1): Wichura's AS 241 (PPND16).

    Relative error ~1e-16. Inversion takes one uniform where Box-Muller takes two, and 85% of
    draws need no ``log``, ``sqrt`` or ``cos`` (faster: docs/benchmarks.md).
    """
    q = p - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        return q * _ratio(r, _CENTRAL_NUM, _CENTRAL_DEN)
    r = math.sqrt(-math.log(p if q < 0.0 else 1.0 - p))
    if r <= 5.0:
        value = _ratio(r - 1.6, _NEAR_TAIL_NUM, _NEAR_TAIL_DEN)
    else:
        value = _ratio(r - 5.0, _FAR_TAIL_NUM, _FAR_TAIL_DEN)
    return -value if q < 0.0 else value


@njit(cache=True, inline="always")
def _ratio(x, num, den):
    """num(x) / den(x), both degree-7 polynomials, coefficients from the constant term up."""
    a = num[7]
    b = den[7]
    for k in range(6, -1, -1):
        a = a * x + num[k]
        b = b * x + den[k]
    return a / b


# AS 241 coefficients (Wichura 1988, Applied Statistics 37:477-484), constant term first.
_CENTRAL_NUM = (
    3.387132872796366608,
    133.14166789178437745,
    1971.5909503065514427,
    13731.693765509461125,
    45921.953931549871457,
    67265.770927008700853,
    33430.575583588128105,
    2509.0809287301226727,
)
_CENTRAL_DEN = (
    1.0,
    42.313330701600911252,
    687.1870074920579083,
    5394.1960214247511077,
    21213.794301586595867,
    39307.89580009271061,
    28729.085735721942674,
    5226.495278852545925,
)
_NEAR_TAIL_NUM = (
    1.42343711074968357734,
    4.6303378461565452959,
    5.7694972214606914055,
    3.64784832476320460504,
    1.27045825245236838258,
    0.24178072517745061177,
    0.0227238449892691845833,
    7.7454501427834140764e-4,
)
_NEAR_TAIL_DEN = (
    1.0,
    2.05319162663775882187,
    1.6763848301838038494,
    0.68976733498510000455,
    0.14810397642748007459,
    0.0151986665636164571966,
    5.475938084995344946e-4,
    1.05075007164441684324e-9,
)
_FAR_TAIL_NUM = (
    6.6579046435011037772,
    5.4637849111641143699,
    1.7848265399172913358,
    0.29656057182850489123,
    0.026532189526576123093,
    0.0012426609473880784386,
    2.71155556874348757815e-5,
    2.01033439929228813265e-7,
)
_FAR_TAIL_DEN = (
    1.0,
    0.59983220655588793769,
    0.13692988092273580531,
    0.0148753612908506148525,
    7.868691311456132591e-4,
    1.8463183175100546818e-5,
    1.4215117583164458887e-7,
    2.04426310338993978564e-15,
)


@njit(cache=True)
def normals(seed, month, entities, purpose):
    """Vectorised ``normal`` over an int64 array of entity ids."""
    key = month_key(seed, month)
    out = np.empty(entities.shape[0], dtype=np.float64)
    for k in range(entities.shape[0]):
        out[k] = draw_normal(entity_key(key, entities[k]), purpose)
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


@njit(cache=True, inline="always")
def poisson_known_zero(lam, zero, u):
    """``poisson(lam, u)`` given ``zero`` = exp(-lam), its chance of 0, worked out beforehand.

    A draw at or below it is 0 without a further ``exp``: draws of many firms at one rate.
    """
    if u <= zero:
        return 0
    return poisson(lam, u)


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


def _hash_py(seed: int, month: int, entity: int, purpose: int) -> int:
    """The 64-bit hash behind a draw (``_mix`` of seed, month, entity, purpose in turn)."""
    z = _mix_py((seed & _MASK) ^ _GOLDEN)
    z = _mix_py(z ^ (month & _MASK))  # a burn-in month is negative: its 64-bit pattern
    z = _mix_py(z ^ entity)
    return _mix_py(z ^ purpose)


def uniform_py(seed: int, month: int, entity: int, purpose: int) -> float:
    """Plain-Python twin of ``uniform``: the same bits, for the reference model."""
    return ((_hash_py(seed, month, entity, purpose) >> 11) + 0.5) * _TWO_POW_M53


def normal_py(seed: int, month: int, entity: int, purpose: int) -> float:
    """Plain-Python twin of ``normal``."""
    return normal_quantile_py(uniform_py(seed, month, entity, purpose))


# The twins of the float-only draws are the same source, run by the interpreter.
normal_quantile_py = normal_quantile.py_func
binomial_py = binomial.py_func
poisson_py = poisson.py_func

# ---------------------------------------------------------------------------------- ziggurat
# The monthly demand shocks, one a firm-month, are the kernel's most frequent normals. The
# ziggurat (Marsaglia & Tsang 2000, Doornik's 2005 form) turns one hash into a normal with a
# table look-up 99% of the time, where inversion (``normal_quantile``) evaluates a ratio of
# polynomials, and a ``log`` in 15% of draws: ~8 against ~21 ns a draw (docs/benchmarks.md).
# The layer comes from the hash's low 8 bits, the uniform from its top 53. The rare draws
# outside a layer's rectangle take further words from a splitmix64 sequence started at the
# hash. Exact in distribution (a test checks it against SciPy's normal).

ZIGGURAT_LAYERS = 256
_ZIG_R = 3.6541528853610088  # right edge of the base layer (Marsaglia & Tsang 2000, 256 layers)
_ZIG_V = 0.00492867323399  # the area of each layer


def _ziggurat_tables() -> tuple[list[float], list[float]]:
    """The layers' edges x[0..256] and the ratios x[i + 1] / x[i].

    x[0] is the width the base layer would have with its tail folded in; x[256] = 0. The
    ratio is the share of layer i that lies under the layer above (no further test needed).
    """
    n, edge, area = ZIGGURAT_LAYERS, _ZIG_R, _ZIG_V
    x = [0.0] * (n + 1)
    f = math.exp(-0.5 * edge * edge)
    x[0] = area / f
    x[1] = edge
    for i in range(2, n):
        x[i] = math.sqrt(-2.0 * math.log(area / x[i - 1] + f))
        f = math.exp(-0.5 * x[i] * x[i])
    return x, [x[i + 1] / x[i] for i in range(n)]


_ZIG_X_PY, _ZIG_RATIO_PY = _ziggurat_tables()
_ZIG_X = np.array(_ZIG_X_PY)  # Numba freezes global arrays into the compiled code
_ZIG_RATIO = np.array(_ZIG_RATIO_PY)
_U_LAYER = np.uint64(ZIGGURAT_LAYERS - 1)
_U0 = np.uint64(0)
_U1 = np.uint64(1)


@njit(cache=True, inline="always")
def draw_gaussian(entity_key, purpose):
    """A standard normal of ``purpose`` for the entity behind ``entity_key``, by the ziggurat."""
    z = _mix(np.uint64(entity_key) ^ np.uint64(purpose))
    layer = z & _U_LAYER
    u = 2.0 * ((np.float64(z >> _U11) + 0.5) * _TWO_POW_M53) - 1.0  # in (-1, 1)
    if abs(u) < _ZIG_RATIO[layer]:
        return u * _ZIG_X[layer]
    return _ziggurat_edge(z, layer, u)


@njit(cache=True, inline="always")
def _next_uniform(state):
    """splitmix64: the next state and its uniform in (0, 1)."""
    state = state + _U_GOLDEN
    return state, (np.float64(_mix(state) >> _U11) + 0.5) * _TWO_POW_M53


@njit(cache=True, inline="always")
def _next_word(state):
    """splitmix64: the next state and its 64-bit output."""
    state = state + _U_GOLDEN
    return state, _mix(state)


@njit(cache=True)
def _ziggurat_edge(z, layer, u):
    """A draw outside its layer's rectangle: the tail, a wedge, or a new try (~1% of draws)."""
    state = z
    while True:
        if layer == _U0:  # beyond the base layer's edge: Marsaglia's tail method
            while True:
                state, a = _next_uniform(state)
                state, b = _next_uniform(state)
                x = math.log(a) / _ZIG_R
                if -2.0 * math.log(b) >= x * x:
                    return x - _ZIG_R if u < 0.0 else _ZIG_R - x
        x = u * _ZIG_X[layer]
        f0 = math.exp(-0.5 * (_ZIG_X[layer] * _ZIG_X[layer] - x * x))
        upper = _ZIG_X[layer + _U1]
        f1 = math.exp(-0.5 * (upper * upper - x * x))
        state, v = _next_uniform(state)
        if f1 + v * (f0 - f1) < 1.0:
            return x
        state, w = _next_word(state)
        layer = w & _U_LAYER
        u = 2.0 * ((np.float64(w >> _U11) + 0.5) * _TWO_POW_M53) - 1.0
        if abs(u) < _ZIG_RATIO[layer]:
            return u * _ZIG_X[layer]


@njit(cache=True)
def gaussians(seed, month, entities, purpose):
    """Vectorised ``draw_gaussian`` over an int64 array of entity ids."""
    key = month_key(seed, month)
    out = np.empty(entities.shape[0], dtype=np.float64)
    for k in range(entities.shape[0]):
        out[k] = draw_gaussian(entity_key(key, entities[k]), purpose)
    return out


def gaussian_py(seed: int, month: int, entity: int, purpose: int) -> float:
    """Plain-Python twin of ``draw_gaussian`` (keyed like ``uniform_py``)."""
    z = _hash_py(seed, month, entity, purpose)
    layer = z & (ZIGGURAT_LAYERS - 1)
    u = 2.0 * (((z >> 11) + 0.5) * _TWO_POW_M53) - 1.0
    if abs(u) < _ZIG_RATIO_PY[layer]:
        return u * _ZIG_X_PY[layer]
    state = z
    while True:
        if layer == 0:
            while True:
                state = (state + _GOLDEN) & _MASK
                a = ((_mix_py(state) >> 11) + 0.5) * _TWO_POW_M53
                state = (state + _GOLDEN) & _MASK
                b = ((_mix_py(state) >> 11) + 0.5) * _TWO_POW_M53
                x = math.log(a) / _ZIG_R
                if -2.0 * math.log(b) >= x * x:
                    return x - _ZIG_R if u < 0.0 else _ZIG_R - x
        x = u * _ZIG_X_PY[layer]
        f0 = math.exp(-0.5 * (_ZIG_X_PY[layer] * _ZIG_X_PY[layer] - x * x))
        f1 = math.exp(-0.5 * (_ZIG_X_PY[layer + 1] * _ZIG_X_PY[layer + 1] - x * x))
        state = (state + _GOLDEN) & _MASK
        v = ((_mix_py(state) >> 11) + 0.5) * _TWO_POW_M53
        if f1 + v * (f0 - f1) < 1.0:
            return x
        state = (state + _GOLDEN) & _MASK
        w = _mix_py(state)
        layer = w & (ZIGGURAT_LAYERS - 1)
        u = 2.0 * (((w >> 11) + 0.5) * _TWO_POW_M53) - 1.0
        if abs(u) < _ZIG_RATIO_PY[layer]:
            return u * _ZIG_X_PY[layer]
