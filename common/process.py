"""What every process's ``main()`` shares: ``--config``, settings, logging, signals, a clean stop.

A node, the stand-alone sync daemon and the benchmarks' servers all start the same way::

    python -m national_node --config deploy/national.toml

:func:`run_process` parses ``--config``, loads the settings (a bad file is exit status 2 with the
reason), configures logging (:func:`configure_logging`, text or JSON lines; only here: library modules
just ``getLogger(__name__)``), builds the process with ``build(settings)`` (an ``OSError`` or
``ValueError`` there, such as a missing certificate or a key of the wrong name, is a bad configuration
too: status 2), starts it, prints one line on stdout that scripts and the tests read (``<prog>
<announcement>``, e.g. ``national_node listening on 127.0.0.1:50051``), and stops it on SIGINT or
SIGTERM. A stop that takes longer than the ``stop_timeout`` setting (a peer that never lets go, a
thread stuck in a call) ends the process anyway, with status 3: every acknowledgement the process gave
followed a commit, so exiting loses nothing acknowledged.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

from common import logs, regions
from common.settings import NodeSettings

__all__ = ["Process", "configure_logging", "run_process"]

logger = logging.getLogger(__name__)

S = TypeVar("S", bound=NodeSettings)


class Process(Protocol):
    """What :func:`run_process` runs."""

    #: Printed after ``prog`` once the process has started, e.g. ``listening on 127.0.0.1:50051``.
    announcement: str

    def start(self) -> None: ...

    def stop(self) -> None: ...


def run_process(
    prog: str,
    description: str,
    load_settings: Callable[[Path | None], S],
    build: Callable[[S], Process],
    argv: list[str] | None = None,
) -> int:
    """Parse ``--config``, load settings, run until SIGINT or SIGTERM, then stop gracefully."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--config", type=Path, help="TOML settings file (REGISTRY_* variables override it)")
    options = parser.parse_args(argv)
    try:
        settings = load_settings(options.config)
    except (OSError, ValueError) as error:
        sys.stderr.write(f"{prog}: bad configuration: {error}\n")
        return 2
    configure_logging(settings, role=prog.rsplit(".", 1)[-1].removesuffix("_node"))
    try:
        process = build(settings)
    except (OSError, ValueError) as error:
        # What a node reads when it is built (its certificate and key files, its log keys) is
        # configuration too: a bad one is the same clean exit as a bad settings file.
        logger.debug("building %s failed", prog, exc_info=True)
        sys.stderr.write(f"{prog}: bad configuration: {error}\n")
        return 2
    stopping = threading.Event()

    def _on_signal(signum: int, _frame: object) -> None:
        logger.info("received %s; stopping", signal.Signals(signum).name)
        stopping.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    process.start()
    sys.stdout.write(f"{prog} {process.announcement}\n")
    sys.stdout.flush()
    while not stopping.wait(0.5):
        pass
    watchdog = threading.Timer(settings.stop_timeout, _exit_now, args=(settings.stop_timeout,))
    watchdog.daemon = True
    watchdog.start()
    process.stop()
    logging.shutdown()
    return 0


def configure_logging(settings: NodeSettings, *, role: str) -> None:
    """The process's log as its settings say (``[log]``), naming its node and ``role`` in JSON lines."""
    logs.configure(
        settings.logging_level,
        settings.log.format,
        node=str(getattr(settings, "region", regions.NATIONAL)),
        role=role,
    )


def _exit_now(timeout: float) -> None:
    logger.error("did not stop within %.0f s (stop_timeout); exiting now", timeout)
    logging.shutdown()
    os._exit(3)
