"""The search indexer as a child process of the national node (or of its workers' supervisor).

Apart from :mod:`national_node.indexer` so that a process that only starts it (the supervisor of the
national node's workers) need not load what indexing needs.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading

from national_node.settings import NationalSettings

__all__ = ["IndexerChild"]

logger = logging.getLogger("national_node.indexer")


class IndexerChild:
    """The indexer as a child process of the national node, started and stopped with it.

    Its settings go to it on its standard input, which it keeps reading: when the node ends, however
    it ends (kill -9 included), the pipe closes and the child stops. A child that dies is started
    again, up to a minute apart."""

    def __init__(self, settings: NationalSettings) -> None:
        self.settings = {
            "database_url": settings.database_url,
            "log_level": settings.logging_level,
            "log_format": settings.log.format,
            "indexer": settings.indexer.model_dump(mode="json"),
            "database": settings.database.model_dump(mode="json"),
        }
        self.stopping = threading.Event()
        self.process: subprocess.Popen[bytes] | None = None
        self.lock = threading.Lock()
        self.watcher = threading.Thread(target=self._watch, name="indexer-child", daemon=True)

    def start(self) -> None:
        self._spawn()
        self.watcher.start()

    def _spawn(self) -> None:
        with self.lock:
            if self.stopping.is_set():
                return
            process = subprocess.Popen(
                [sys.executable, "-m", "national_node.indexer", "--child"], stdin=subprocess.PIPE
            )
            assert process.stdin is not None
            process.stdin.write(json.dumps(self.settings).encode() + b"\n")
            process.stdin.flush()
            self.process = process

    def _watch(self) -> None:
        restarts = 0
        while not self.stopping.is_set():
            process = self.process
            if process is None:
                return
            code = process.wait()
            if self.stopping.is_set():
                return
            restarts += 1
            wait = min(60.0, 2.0**restarts)
            logger.error("the search indexer exited with status %s; starting it again in %.0f s", code, wait)
            if self.stopping.wait(wait):
                return
            self._spawn()

    def stop(self) -> None:
        with self.lock:
            self.stopping.set()
            process = self.process
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()  # the child's signal to stop
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
