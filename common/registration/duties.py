"""What a node does by itself, on time: close announcements, obtain codes, expire, remind.

:class:`Duties` runs these in a background thread every few seconds (and once at start). Each step
is its own short transaction that re-checks the state under the registration's lock, so several node
processes on one database, or a crash half-way, never do a step twice. Obtaining a code calls the
national node outside any transaction, with a request id derived from the registration's uid: a
retry after a timeout or a crash gets the same code back, never a second one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Protocol

import grpc
from sqlmodel import Session

from common import names
from common.db import Database
from common.errors import RegistryError
from common.registration import queries
from common.registration.models import ApplicationRow, RegistrationRow
from common.registration.procedure import Procedure
from common.registration.states import ApplicationState, RegistrationState

__all__ = ["CodeSource", "Duties", "describe_error"]

logger = logging.getLogger(__name__)


class CodeSource(Protocol):
    """Obtains a unified registration code for a registration (the national node)."""

    def assign(self, *, registration: str, object_type: int, subject_uscc: str, request_id: str) -> str: ...


def describe_error(error: BaseException) -> str:
    """``CODE: details`` of a failed gRPC call, or the error's message."""
    if isinstance(error, grpc.RpcError) and isinstance(error, grpc.Call):
        return f"{error.code().name}: {error.details()}"
    return str(error)


class Duties:
    """The node's own work on its registrations."""

    def __init__(
        self, db: Database, procedure: Procedure, codes: CodeSource, *, interval: float = 5.0
    ) -> None:
        self.db, self.procedure, self.codes, self.interval = db, procedure, codes, interval
        self.node = procedure.node
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error = ""

    # -- the loop -------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="duties", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:
                logger.exception("scheduled work failed; retrying in %.0fs", self.interval)
            self._stop.wait(self.interval)

    def run_once(self) -> dict[str, int]:
        """One round of every duty; returns how many registrations each step moved."""
        return {
            "announcements_closed": self.close_announcements(),
            "codes_assigned": self.assign_codes(),
            "expired": self.expire(),
            "reminded": self.remind(),
        }

    # -- the duties -----------------------------------------------------------------------------

    def _each(self, ids: Sequence[str], step: Callable[[Session, RegistrationRow], bool]) -> int:
        """Run ``step`` on each registration in a transaction of its own, under its lock."""
        done = 0
        for reg_id in ids:
            with self.db.transaction() as session:
                reg = queries.load(session, self.node, reg_id, for_update=True)
                done += bool(step(session, reg))
        return done

    def _current(
        self, session: Session, reg: RegistrationRow, state: ApplicationState
    ) -> ApplicationRow | None:
        app = queries.current_application(session, reg)
        return app if app is not None and app.state == state else None

    def close_announcements(self) -> int:
        today = self.procedure.clock.today()
        with self.db.transaction(write=False) as session:
            due = queries.announcements_to_close(session, self.node, today)

        def close(session: Session, reg: RegistrationRow) -> bool:
            app = self._current(session, reg, ApplicationState.ANNOUNCED)
            if app is None or app.announcement_end is None or not app.announcement_end < today:
                return False
            self.procedure.close_announcement(session, reg, app)
            return True

        return self._each(due, close)

    def assign_codes(self) -> int:
        with self.db.transaction(write=False) as session:
            waiting = queries.awaiting_code(session, self.node)
        assigned = 0
        for reg in waiting:
            name = names.registration_name(reg.node, reg.id)
            try:
                code = self.codes.assign(
                    registration=name,
                    object_type=reg.object_type,
                    subject_uscc=reg.subject_uscc,
                    request_id=f"code-{reg.uid}",
                )
            except (grpc.RpcError, RegistryError) as error:
                self.last_error = f"{name}: {describe_error(error)}"
                logger.warning("no code yet for %s: %s; will retry", name, describe_error(error))
                continue

            def activate(session: Session, locked: RegistrationRow, code: str = code) -> bool:
                app = self._current(session, locked, ApplicationState.AWAITING_CODE)
                if app is None:
                    return False
                self.procedure.activate(session, locked, app, code)
                return True

            if self._each([reg.id], activate):
                logger.info("%s is active with code %s", name, code)
                assigned += 1
        self.last_error = "" if assigned == len(waiting) else self.last_error
        return assigned

    def expire(self) -> int:
        today = self.procedure.clock.today()
        with self.db.transaction(write=False) as session:
            due = queries.expiry_due(session, self.node, today)

        def expire(session: Session, reg: RegistrationRow) -> bool:
            if (
                reg.state != RegistrationState.ACTIVE
                or reg.valid_until is None
                or not reg.valid_until < today
            ):
                return False
            self.procedure.expire(session, reg)
            return True

        return self._each(due, expire)

    def remind(self) -> int:
        today = self.procedure.clock.today()
        window = self.procedure.limits.expiry_reminder_days
        with self.db.transaction(write=False) as session:
            candidates = queries.reminder_candidates(session, self.node, today, window)

        def remind(session: Session, reg: RegistrationRow) -> bool:
            if reg.state != RegistrationState.ACTIVE or reg.valid_until is None:
                return False
            if reg.reminded_for == reg.valid_until:
                return False
            left = self.procedure.calendar.working_days_between(today, reg.valid_until)
            if left.days > window:
                return False
            self.procedure.remind(session, reg, left.days)
            logger.info("reminder: %s expires on %s", reg.code, reg.valid_until)
            return True

        return self._each(candidates, remind)
