"""Prometheus metrics: the gRPC ecosystem's server metrics and the registry's own (``registry_*``).

* :mod:`common.metrics.endpoint`: a ``/metrics`` endpoint; what a supervisor serves for its workers;
* :mod:`common.metrics.grpc`: ``grpc_server_*`` from a server interceptor, refusals by reason;
* :mod:`common.metrics.telemetry`: one process's metrics, and the sampler of gauges read from the
  database and from files.

The README's "Metrics and alerts" lists every family. Nothing is imported here, so that a process
that only serves (a supervisor) loads only what serving needs.
"""

__all__: list[str] = []
