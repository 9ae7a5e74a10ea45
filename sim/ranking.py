"""The first few firms of a ranking, without sorting every firm.

Lotteries and rankings (incubator admission, commissioners, fund deals) use only their first
``k`` firms, out of up to ~10^6 candidates a month. ``first_k`` gives exactly the first ``k`` of
a stable sort (ties keep their order) in O(n): a partition finds the ``k``-th key, and only the
keys up to it are sorted.
"""

import numpy as np


def first_k(keys: np.ndarray, k: int) -> np.ndarray:
    """``np.argsort(keys, kind="stable")[:k]``, in O(n + k log k)."""
    k = max(0, min(k, len(keys)))
    if k == 0 or k == len(keys):
        return np.argsort(keys, kind="stable")[:k]
    kth = np.partition(keys, k - 1)[k - 1]
    if np.isnan(kth):  # fewer than k numbers: NaNs sort last, among themselves by position
        return np.argsort(keys, kind="stable")[:k]
    near = np.flatnonzero(keys <= kth)  # every key of the first k, and ties of the k-th
    return near[np.argsort(keys[near], kind="stable")][:k]
