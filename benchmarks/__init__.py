"""Performance benchmarks of the simulator: ``python -m benchmarks [--quick] [--format json]``.

Measured on the machine that runs them; see docs/benchmarks.md for figures and method.
"""
