"""Leases: a duty done by one process at a time, whichever of a node's processes and hosts are alive.

A node that runs as several processes (the national node's workers, on one host or several) has work
that must be done once: sign the log's checkpoints, close announcements, keep the search index. Each
such duty has a lease, a row of the ``leases`` table: who holds it and until when, by the database's
own clock (every process and host reads the same one, so the hosts' clocks need not agree). A
:class:`Leases` keeper, one per process, renews the leases it holds every ``ttl / 3`` seconds and
takes any that has run out; a duty's loop asks :meth:`Leases.held` before each round.

A holder that dies (kill -9, a host gone) stops renewing: another process takes the lease when it runs
out, ``ttl`` seconds at most. A holder cut off from the database cannot renew either, and thinks
itself the holder only until ``ttl`` seconds after it last *asked* to renew, which is before the
database's expiry: two processes never both believe they hold a lease (their clocks' rates aside).
A lease is a row like any other, so it works through PgBouncer in transaction mode, where session-level
advisory locks would not.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.engine import Connection

from common.db import Database

__all__ = ["Leases", "process_identity"]

logger = logging.getLogger(__name__)

#: The database's clock, in seconds since the epoch.
_NOW = {
    "postgresql": "extract(epoch from clock_timestamp())",
    "sqlite": "(julianday('now') - 2440587.5) * 86400.0",
}


def process_identity() -> str:
    """This process, as leases and stream owners name it: host, pid and a random part (a pid is reused)."""
    return f"{socket.gethostname()[:48]}/{os.getpid()}/{uuid.uuid4().hex[:8]}"


class Leases:
    """The leases of one process: renewed by a thread of its own while the process serves."""

    def __init__(self, db: Database, names: Iterable[str], *, ttl: float = 5.0, holder: str = "") -> None:
        self.db, self.names, self.ttl = db, tuple(names), ttl
        self.holder = holder or process_identity()
        self._until: dict[str, float] = {}  # lease → monotonic time this process may act on it until
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        now = _NOW["sqlite" if db.is_sqlite else "postgresql"]
        # Take a lease that is free or has run out, or renew our own: one statement, one row.
        self._claim = text(
            f"INSERT INTO leases (name, holder, expires) VALUES (:name, :holder, {now} + :ttl) "
            f"ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires = excluded.expires "
            f"WHERE leases.holder = excluded.holder OR leases.expires < {now}"
        )
        self._release = text("DELETE FROM leases WHERE name = :name AND holder = :holder")

    def held(self, name: str) -> bool:
        """Whether this process holds ``name`` now (and may do its duty)."""
        with self._lock:
            return time.monotonic() < self._until.get(name, 0.0)

    def renew(self) -> dict[str, bool]:
        """One round: renew or take every lease; returns which are held."""
        asked = time.monotonic()
        held: dict[str, bool] = {}
        try:
            with self.db.engine.begin() as conn:
                for name in self.names:
                    held[name] = self._claim_one(conn, name)
        except Exception as error:  # the database away: hold nothing past what was renewed before
            logger.warning("leases not renewed: %s", error)
            return {name: self.held(name) for name in self.names}
        with self._lock:
            for name, ok in held.items():
                before = time.monotonic() < self._until.get(name, 0.0)
                if ok:
                    self._until[name] = asked + self.ttl
                    if not before:
                        logger.info("took the lease %r (%s)", name, self.holder)
                elif before:
                    self._until.pop(name, None)
                    logger.warning("lost the lease %r to another process", name)
        return held

    def _claim_one(self, conn: Connection, name: str) -> bool:
        result = conn.execute(self._claim, {"name": name, "holder": self.holder, "ttl": self.ttl})
        return result.rowcount == 1

    def start(self) -> None:
        self.renew()
        self._thread = threading.Thread(target=self._run, name="leases", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            self.renew()

    def stop(self) -> None:
        """Stop renewing and give the leases back, so another process takes them at once."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            mine = [name for name in self.names if time.monotonic() < self._until.get(name, 0.0)]
            self._until.clear()
        if not mine:
            return
        try:
            with self.db.engine.begin() as conn:
                conn.execute(self._release, [{"name": name, "holder": self.holder} for name in mine])
        except Exception as error:  # they run out by themselves
            logger.warning("leases not given back (they run out in %.0f s): %s", self.ttl, error)
