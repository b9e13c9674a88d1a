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
from datetime import timedelta
from typing import Protocol

import grpc
from sqlmodel import or_, select

from common.errors import RegistryError
from common.registration import store
from common.registration.models import ApplicationRow, RegistrationRow
from common.registration.procedure import Registry

__all__ = ["CodeSource", "Duties"]

logger = logging.getLogger(__name__)


class CodeSource(Protocol):
    """Obtains a unified registration code for a registration (the national node)."""

    def assign(self, *, registration: str, object_type: int, subject_uscc: str, request_id: str) -> str: ...


class Duties:
    """The node's own work on its registrations."""

    def __init__(self, registry: Registry, codes: CodeSource, *, interval: float = 5.0) -> None:
        self.registry, self.codes, self.interval = registry, codes, interval
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
            except Exception:  # noqa: BLE001 - keep the node's own work going; the next round retries
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

    def _ids(self, statement) -> list[str]:  # noqa: ANN001 - a select of registration ids
        with self.registry.db.transaction(write=False) as session:
            return list(session.exec(statement))

    def close_announcements(self) -> int:
        today = self.registry.clock.today()
        due = self._ids(
            select(ApplicationRow.registration_id)
            .join(
                RegistrationRow,
                (RegistrationRow.id == ApplicationRow.registration_id)
                & (RegistrationRow.current_application == ApplicationRow.id),
            )
            .where(
                RegistrationRow.node == self.registry.node,
                ApplicationRow.state == "ANNOUNCED",
                ApplicationRow.announcement_end < today,
            )
        )
        closed = 0
        for reg_id in due:
            with self.registry.db.transaction() as session:
                reg = store.load(session, self.registry.node, reg_id, for_update=True)
                app = store.current_application(session, reg)
                if app is None or app.state != "ANNOUNCED" or not app.announcement_end < today:
                    continue
                if self.registry._pending(session, reg, app):
                    app.state = "OBJECTIONS_PENDING"
                    self.registry._touch(
                        session,
                        reg,
                        app,
                        actor="system",
                        action="close_announcement",
                        reason="objections to resolve",
                    )
                else:
                    self.registry._touch(session, reg, app, actor="system", action="close_announcement")
                    self.registry.finish_announcement(session, reg, app)
                closed += 1
        return closed

    def assign_codes(self) -> int:
        waiting = self._ids(
            select(RegistrationRow.id)
            .join(
                ApplicationRow,
                (RegistrationRow.id == ApplicationRow.registration_id)
                & (RegistrationRow.current_application == ApplicationRow.id),
            )
            .where(RegistrationRow.node == self.registry.node, ApplicationRow.state == "AWAITING_CODE")
        )
        assigned = 0
        for reg_id in waiting:
            with self.registry.db.transaction(write=False) as session:
                reg = store.load(session, self.registry.node, reg_id)
            name = f"nodes/{reg.node}/registrations/{reg.id}"
            try:
                code = self.codes.assign(
                    registration=name,
                    object_type=reg.object_type,
                    subject_uscc=reg.subject_uscc,
                    request_id=f"code-{reg.uid}",
                )
            except (grpc.RpcError, RegistryError) as error:
                self.last_error = f"{name}: {_describe(error)}"
                logger.warning("no code yet for %s: %s; will retry", name, _describe(error))
                continue
            with self.registry.db.transaction() as session:
                reg = store.load(session, self.registry.node, reg_id, for_update=True)
                app = store.current_application(session, reg)
                if app is None or app.state != "AWAITING_CODE":
                    continue
                self.registry.activate(session, reg, app, code)
            logger.info("%s is active with code %s", name, code)
            assigned += 1
        self.last_error = "" if assigned == len(waiting) else self.last_error
        return assigned

    def expire(self) -> int:
        today = self.registry.clock.today()
        due = self._ids(
            select(RegistrationRow.id).where(
                RegistrationRow.node == self.registry.node,
                RegistrationRow.state == "ACTIVE",
                RegistrationRow.valid_until < today,
            )
        )
        expired = 0
        for reg_id in due:
            with self.registry.db.transaction() as session:
                reg = store.load(session, self.registry.node, reg_id, for_update=True)
                if reg.state != "ACTIVE" or reg.valid_until is None or not reg.valid_until < today:
                    continue
                reg.state = "EXPIRED"
                expired += 1
                self.registry._touch(
                    session,
                    reg,
                    store.current_application(session, reg),
                    actor="system",
                    action="expire",
                    reason=f"validity ended {reg.valid_until}",
                )
        return expired

    def remind(self) -> int:
        today = self.registry.clock.today()
        window = self.registry.limits.expiry_reminder_days
        candidates = self._ids(
            select(RegistrationRow.id).where(
                RegistrationRow.node == self.registry.node,
                RegistrationRow.state == "ACTIVE",
                RegistrationRow.valid_until >= today,
                # N working days never span more than 2N + 30 calendar days (the longest holiday runs
                # are eight days), so this bounds the scan to the registrations that may be due.
                RegistrationRow.valid_until <= today + timedelta(days=2 * window + 30),
                or_(
                    RegistrationRow.reminded_for.is_(None),
                    RegistrationRow.reminded_for != RegistrationRow.valid_until,
                ),
            )
        )
        reminded = 0
        for reg_id in candidates:
            with self.registry.db.transaction() as session:
                reg = store.load(session, self.registry.node, reg_id, for_update=True)
                if reg.state != "ACTIVE" or reg.valid_until is None or reg.reminded_for == reg.valid_until:
                    continue
                left = self.registry.calendar.working_days_between(today, reg.valid_until)
                if left.days > window:
                    continue
                reg.reminded_for = reg.valid_until
                self.registry._touch(
                    session,
                    reg,
                    store.current_application(session, reg),
                    actor="system",
                    action="remind",
                    reason=f"validity ends {reg.valid_until} ({left.days} working days left); renew before",
                )
                logger.info("reminder: %s expires on %s", reg.code, reg.valid_until)
                reminded += 1
        return reminded


def _describe(error: BaseException) -> str:
    if isinstance(error, grpc.RpcError) and hasattr(error, "code"):
        return f"{error.code().name}: {error.details()}"
    return str(error)
