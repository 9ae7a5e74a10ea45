"""Kernels called without Numba's per-call dispatch still get the machine code for their types."""

import numpy as np
from numba import njit

from sim.agents.kernels import DirectCall, type_key


@njit(cache=False)
def total(values, scale):
    out = 0.0
    for k in range(values.shape[0]):
        out += values[k] * scale
    return out


def test_each_kind_of_argument_gets_its_own_compiled_code():
    call = DirectCall(total)
    ints = np.arange(5, dtype=np.int64)
    floats = np.arange(5, dtype=np.float64) + 0.5
    strided = (np.arange(10, dtype=np.float64) + 0.25)[::2]
    assert call(ints, 2) == 20.0
    assert call(floats, 2) == 25.0
    assert call(strided, 2.0) == total(strided, 2.0)
    assert call(ints, 0.5) == 5.0  # a float where an int was: new code, not a cast
    assert len(call.compiled) == 4


def test_type_keys_tell_apart_what_numba_types_apart():
    a = np.zeros(3)
    assert type_key(a) == type_key(np.ones(3))
    assert type_key(a) != type_key(np.zeros(3, dtype=np.float32))
    assert type_key(a) != type_key(np.zeros((3, 1)))
    assert type_key(np.zeros(6)[::2]) != type_key(a)
    assert type_key((1, 2.0)) != type_key((1.0, 2.0))


def test_a_tuples_key_is_remembered_and_never_confused():
    rules = tuple([1, 2.0])
    assert type_key(rules) is type_key(rules)  # remembered for the same object
    for k in range(200):  # new tuples, freed at once, so ids come back: keys stay right
        assert type_key(tuple([k, 2.0])) == (tuple, int, float)
        assert type_key(tuple([float(k), 2.0])) == (tuple, float, float)
