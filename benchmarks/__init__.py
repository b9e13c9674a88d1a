"""Benchmarks: throughput and latency of the nodes, next to this machine's raw limits.

Run from the project folder, each as a module::

    .venv/bin/python -m benchmarks.assign_codes     # codes per second vs. an empty gRPC method
    .venv/bin/python -m benchmarks.sync_throughput  # province -> national sync vs. raw stream and insert
    .venv/bin/python -m benchmarks.country          # 31 provinces at once vs. empty calls and raw stream

``--smoke`` runs either at a size that takes seconds (``tests/integration/test_benchmarks.py`` does,
so that they keep running); ``--json`` prints the figures as one JSON object. The servers they measure
against are modules here too (``benchmarks.empty_server``, ``benchmarks.sink_server``), and what they
share is in :mod:`benchmarks.harness`. See ``benchmarks/README.md`` for what each measures and the
latest numbers. These are measurements, not tests: nothing here asserts a speed.
"""

__all__ = ["assign_codes", "country", "empty_server", "harness", "sink_server", "sync_throughput"]
