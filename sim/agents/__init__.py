"""Agents: firms (table, Numba kernels, plain-Python reference) and institutions."""
