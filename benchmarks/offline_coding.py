"""Coding through a national outage: a province keeps giving codes from its leases, and after the heal
every one of them is checked, entered in the national log and confirmed.

``python -m benchmarks.offline_coding`` (``--outage`` seconds, 60 by default; ``--json`` for the figures
as JSON) runs the scenario of :mod:`tests.outage` (the integration test runs it for 15 s): a national
node and Jiangsu's node as real processes with mutual TLS on SQLite, the province registering about
five registrations a second throughout, a proxy that refuses the national node for the outage. It
prints the codes given from leases, the seconds from the heal until the national node had entered
every one, and until the last one's confirmation was full and cosigned; the run fails if a code is
missing from the log, a serial was used twice, or the province and the ledger disagree.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from rich.console import Console

from benchmarks.harness import machine_facts, print_machine, stop_on_sigterm
from tests.cluster import Cluster
from tests.outage import run_outage

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.offline_coding", description=__doc__)
    parser.add_argument("--outage", type=float, default=60.0, help="seconds the national node is away")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    options = parser.parse_args(argv)
    stop_on_sigterm()
    console = Console(stderr=options.json)
    with tempfile.TemporaryDirectory(prefix="offline-coding-") as tmp:
        facts = machine_facts(Path(tmp))
        cluster = Cluster(Path(tmp))
        try:
            outage = run_outage(cluster, options.outage)
        finally:
            cluster.kill()
    console.print(outage.summary())
    for (issuer, object_type, year), counts in sorted(outage.namespaces.items()):
        console.print(
            f"  {issuer} {object_type} {year:02d}: " + ", ".join(f"{k} {v}" for k, v in counts.items())
        )
    print_machine(console, facts, "SQLite files in a temporary folder")
    if options.json:
        figures = asdict(outage)
        figures["namespaces"] = {"/".join(map(str, k)): v for k, v in outage.namespaces.items()}
        sys.stdout.write(json.dumps({"machine": facts, "outage": figures}, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
