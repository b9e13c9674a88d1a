"""``registry-federation``: the main job on one machine: a national node and provincial nodes.

Starts ``python -m national_node --config deploy/national.toml`` and one
``python -m provincial_node --config deploy/provincial-*.toml`` per provincial configuration, on the
embedded SQLite default (files under ``data/``), prints where each serves, and stops them all on
Ctrl-C or SIGTERM. A node that dies is reported and the others are stopped.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

__all__ = ["main"]


def _start(module: str, config: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", module, "--config", str(config)], env=env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="registry-federation", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--deploy",
        type=Path,
        default=Path("deploy"),
        help="folder with national.toml and provincial-*.toml (default: deploy)",
    )
    parser.add_argument(
        "--clock-speed",
        type=float,
        default=None,
        metavar="N",
        help="SIMULATION: run every node's clock N times faster than real time (43200 = a day every two"
        " seconds), so a walkthrough sees announcements close; never for real registrations",
    )
    options = parser.parse_args(argv)
    env = dict(os.environ)
    if options.clock_speed:
        env |= {"REGISTRY_CLOCK_SPEED": str(options.clock_speed), "REGISTRY_DUTIES_INTERVAL": "1"}
    national = options.deploy / "national.toml"
    provincial = sorted(options.deploy.glob("provincial-*.toml"))
    if not national.is_file():
        sys.stderr.write(f"registry-federation: {national} not found (run from the project folder)\n")
        return 2
    stopping = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    processes = [("national_node", national, _start("national_node", national, env))]
    time.sleep(0.5)  # let the national node bind first; provincial nodes retry it anyway
    processes += [(f"provincial_node {c.stem}", c, _start("provincial_node", c, env)) for c in provincial]
    status = 0
    while not stopping.wait(0.5):
        dead = [(name, p.returncode) for name, _, p in processes if p.poll() is not None]
        if dead:
            for name, code in dead:
                sys.stderr.write(f"registry-federation: {name} exited with status {code}; stopping all\n")
            status = 1
            break
    for _, _, process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for _, _, process in processes:
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
    return status


if __name__ == "__main__":
    sys.exit(main())
