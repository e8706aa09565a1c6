"""Per-request cost of the kit against bare apps and peer libraries.

``python -m benchmarks`` runs every suite, each in its own process, and writes
``benchmarks/RESULTS.md``; ``python -m benchmarks --quick`` is a short smoke run.
Benchmarks are not part of the test suite.
"""
