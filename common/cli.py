"""What every node's ``main()`` shares: argument parsing, logging set-up, signal handling."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

__all__ = ["run_node"]

logger = logging.getLogger(__name__)


class _Server(Protocol):
    address: str

    def start(self) -> None: ...
    def stop(self, grace: float | None = None) -> None: ...
    def wait(self, timeout: float | None = None) -> bool: ...


def run_node(
    prog: str,
    description: str,
    load_settings: Callable[[Path | None], Any],
    create_server: Callable[[Any], _Server],
    argv: list[str] | None = None,
) -> int:
    """Parse ``--config``, load settings, serve until SIGINT or SIGTERM, then stop gracefully."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--config", type=Path, help="TOML settings file (REGISTRY_* variables override it)")
    options = parser.parse_args(argv)
    try:
        settings = load_settings(options.config)
    except (OSError, ValueError) as error:
        sys.stderr.write(f"{prog}: bad configuration: {error}\n")
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    server = create_server(settings)
    stopping = threading.Event()

    def _on_signal(signum: int, _frame: object) -> None:
        logger.info("received %s; stopping", signal.Signals(signum).name)
        stopping.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    server.start()
    # One line on stdout that scripts (and the tests) can read the bound address from.
    sys.stdout.write(f"{prog} listening on {server.address}\n")
    sys.stdout.flush()
    while not stopping.wait(0.5):
        pass
    server.stop()
    return 0
