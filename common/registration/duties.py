"""What a node does by itself, on time: close announcements, expire, remind, and obtain codes.

:class:`Duties` runs two loops in threads of their own:

* the node's own duties (closing announcements, expiry, reminders) every ``interval`` seconds. They
  need nothing but the node's database, so they run on time whatever the national node does;
* coding: the registrations waiting for their code, in the order they began waiting, are sent to the
  national node ``coding_concurrency`` at a time, in a round that starts as soon as announcements
  close (and every ``interval`` seconds). When the national node cannot be reached, the round stops
  at the first failure (the rest wait for the next round, not for one timeout each) and the loop
  tries again after a short backoff (:data:`common.retry.DEFAULT_BACKOFF`, whatever ``interval``
  is), so codes arrive within seconds of the national node answering again. That it cannot be
  reached is logged once, and again when it answers, not at every round.

Each step is its own short transaction that re-checks the state under the registration's lock, so
several node processes on one database, or a crash half-way, never do a step twice. A code is asked
for outside any transaction, with a request id derived from the registration's uid: a retry after a
timeout or a crash gets the same code back, never a second one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

import grpc
from sqlmodel import Session

from common import names
from common.db import Database, log_failure
from common.errors import RegistryError
from common.registration import queries
from common.registration.models import ApplicationRow, RegistrationRow
from common.registration.procedure import Procedure
from common.registration.states import ApplicationState, RegistrationState
from common.retry import DEFAULT_BACKOFF

__all__ = ["CodeSource", "Duties", "describe_error"]

logger = logging.getLogger(__name__)


#: Seconds between looks while codes may not be asked for yet (:attr:`Duties.may_code`).
_GATE_PAUSE = 0.2
#: Registrations activated in one transaction at most, when their codes arrive together.
_ACTIVATION_BATCH = 50


class CodeSource(Protocol):
    """Obtains a unified registration code for a registration (the national node)."""

    def assign(self, *, registration: str, object_type: int, subject_uscc: str, request_id: str) -> str: ...


class OfflineCodes(Protocol):
    """Gives codes from the node's code leases while the national node cannot be reached
    (:class:`provincial_node.code_leases.OfflineCoding`)."""

    def take(
        self, session: Session, *, object_type: int, uid: str, offline_for: float
    ) -> tuple[str, str] | None: ...


#: What a code request fails with when the national node cannot be reached (rather than refusing).
_UNREACHABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


def describe_error(error: BaseException) -> str:
    """``CODE: details`` of a failed gRPC call, or the error's message."""
    if isinstance(error, grpc.RpcError) and isinstance(error, grpc.Call):
        return f"{error.code().name}: {error.details()}"
    return str(error)


class Duties:
    """The node's own work on its registrations."""

    def __init__(
        self,
        db: Database,
        procedure: Procedure,
        codes: CodeSource,
        *,
        interval: float = 5.0,
        coding_concurrency: int = 8,
        coding_batch: int = 200,
    ) -> None:
        self.db, self.procedure, self.codes, self.interval = db, procedure, codes, interval
        self.node = procedure.node
        self.coding_concurrency, self.coding_batch = coding_concurrency, coding_batch
        self._stop = threading.Event()
        self._wake_coding = threading.Event()  # announcements closed, or the stop: a round at once
        self._threads: list[threading.Thread] = []
        self.last_error = ""
        self._coding_failures = 0
        self._coding_trouble = ""  # how the last failed round failed, as logged
        self._coding_error: BaseException | None = None  # what the national node answered it
        #: Whether this process is the one to do the duties now (a node of several processes sets it
        #: to its lease, :class:`common.leases.Leases`; alone, a process always is).
        self.on_duty: Callable[[], bool] = lambda: True
        #: Whether codes may be asked for now; told when codes were activated (after the commit). A
        #: province asks only once the national ledger holds every code it activated before
        #: (:class:`provincial_node.sync.CodingGate`), so that a national node restored from a backup
        #: learns the codes it lost back before it gives another serial of their namespace.
        self.may_code: Callable[[], bool] = lambda: True
        self.on_activated: Callable[[], None] = lambda: None
        #: Codes from the node's leases while the national node cannot be reached (a province sets
        #: it): used once code requests have failed as unreachable, and ``silent_for()`` (seconds the
        #: node has heard nothing from the national node by other means, its sync daemon) says the same,
        #: for as long as a lease asks.
        self.offline: OfflineCodes | None = None
        self.silent_for: Callable[[], float] = lambda: float("inf")
        self._unreachable_since: float | None = None  # monotonic: the first of a run of failed rounds
        self._no_lease_told = False

    # -- the loops ------------------------------------------------------------------------------

    def start(self) -> None:
        for target, name in ((self._own_loop, "duties"), (self._coding_loop, "coding")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        """Ask both loops to stop, and wait for them at most ``timeout`` seconds in all."""
        self._stop.set()
        self._wake_coding.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _own_loop(self) -> None:
        while not self._stop.is_set():
            if not self.on_duty():
                self._stop.wait(self.interval)
                continue
            try:
                self.run_own()
            except Exception as error:
                log_failure(logger, f"scheduled work failed; retrying in {self.interval:.0f}s", error)
            self._stop.wait(self.interval)

    def _coding_loop(self) -> None:
        while not self._stop.is_set():
            if not self.on_duty():
                self._wake_coding.wait(self.interval)
                self._wake_coding.clear()
                continue
            try:
                self.assign_codes()
            except Exception as error:
                log_failure(logger, "coding failed; retrying", error)
                self._coding_failures += 1
            wait = (
                DEFAULT_BACKOFF.delay(self._coding_failures, self._coding_error)
                if self._coding_failures
                else self.interval
            )
            self._wake_coding.wait(wait)
            self._wake_coding.clear()

    def run_own(self) -> dict[str, int]:
        """One round of the duties that need only this node: announcements, expiry, reminders."""
        return {
            "announcements_closed": self.close_announcements(),
            "expired": self.expire(),
            "reminded": self.remind(),
        }

    def run_once(self) -> dict[str, int]:
        """One round of every duty (announcements first, so that what closes is coded in the round)."""
        done = self.run_own()
        done["codes_assigned"] = self.assign_codes()
        return done

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

        closed = self._each(due, close)
        if closed:
            self._wake_coding.set()  # what closed waits for its code: ask for it now
        return closed

    def assign_codes(self) -> int:
        """Codes for the registrations waiting for one, oldest first; returns how many were coded."""
        with self.db.transaction(write=False) as session:
            waiting = queries.awaiting_code(session, self.node)[: self.coding_batch]
        if not waiting:
            self._coding_failures = 0
            return 0
        if not self.may_code():
            self._wake_coding.set()  # asked again after a short pause, not a whole interval
            self._stop.wait(_GATE_PAUSE)
            return 0
        unreachable = threading.Event()
        trouble: list[grpc.RpcError | RegistryError] = []

        def obtain(reg: RegistrationRow) -> str | None:
            if unreachable.is_set() or self._stop.is_set():
                return None
            name = names.registration_name(reg.node, reg.id)
            try:
                return self.codes.assign(
                    registration=name,
                    object_type=reg.object_type,
                    subject_uscc=reg.subject_uscc,
                    request_id=f"code-{reg.uid}",
                )
            except (grpc.RpcError, RegistryError) as error:
                if not unreachable.is_set():
                    unreachable.set()
                    trouble.append(error)
                self.last_error = f"{name}: {describe_error(error)}"
                logger.debug("no code yet for %s: %s", name, describe_error(error))
                return None

        assigned = 0
        coded: list[tuple[RegistrationRow, str]] = []
        with ThreadPoolExecutor(max_workers=self.coding_concurrency, thread_name_prefix="code") as pool:
            futures = [pool.submit(obtain, reg) for reg in waiting]
            for i, (reg, future) in enumerate(zip(waiting, futures, strict=True)):
                code = future.result()
                if code is not None:
                    coded.append((reg, code))
                # Activate what has arrived whenever the next code is not there yet: after an outage,
                # codes come faster than one transaction each could take them.
                following = futures[i + 1] if i + 1 < len(futures) else None
                if coded and (following is None or not following.done() or len(coded) >= _ACTIVATION_BATCH):
                    assigned += self._activate(coded)
                    coded = []
        if unreachable.is_set():
            self._coding_failures += 1
            self._coding_error = trouble[0] if trouble else None
            self._coding_failed(self._coding_error, len(waiting) - assigned)
            error = self._coding_error
            if isinstance(error, grpc.Call) and error.code() in _UNREACHABLE:
                if self._unreachable_since is None:
                    self._unreachable_since = time.monotonic()
                if self.offline is not None and not self._stop.is_set():
                    assigned += self._code_offline(waiting)
            else:
                self._unreachable_since = None
        else:
            self._unreachable_since = None
            if self._coding_trouble:
                logger.info("the national node answers again: %d registrations coded", assigned)
            self._coding_failures, self.last_error, self._coding_trouble = 0, "", ""
        return assigned

    def _code_offline(self, waiting: Sequence[RegistrationRow]) -> int:
        """Codes from the node's leases for the registrations still waiting, each in its own
        transaction with its activation, when the national node has been unreachable long enough
        (each lease says how long: :meth:`OfflineCodes.take`); returns how many were coded."""
        assert self.offline is not None and self._unreachable_since is not None
        offline_for = min(time.monotonic() - self._unreachable_since, self.silent_for())
        coded = 0
        for reg in waiting:
            if self._stop.is_set():
                break
            with self.db.transaction() as session:
                locked = queries.load(session, self.node, reg.id, for_update=True)
                app = self._current(session, locked, ApplicationState.AWAITING_CODE)
                if app is None:
                    continue
                taken = self.offline.take(
                    session, object_type=locked.object_type, uid=locked.uid, offline_for=offline_for
                )
                if taken is None:
                    if not self._no_lease_told and offline_for >= 60:
                        logger.warning(
                            "the national node has been unreachable for %.0f s and no code lease of"
                            " object type %d may be used: registrations wait for their codes",
                            offline_for,
                            locked.object_type,
                        )
                        self._no_lease_told = True
                    break
                code, lease = taken
                self.procedure.activate(session, locked, app, code, code_lease=lease)
            coded += 1
            logger.info(
                "%s is active with code %s from %s, pending the national log",
                names.registration_name(reg.node, reg.id),
                code,
                lease,
            )
        if coded:
            self._no_lease_told = False
            self.on_activated()
        return coded

    def _activate(self, coded: list[tuple[RegistrationRow, str]]) -> int:
        """Activate registrations with their codes in one transaction, each under its lock and only if
        it still waits for a code; returns how many were activated."""
        activated: list[tuple[RegistrationRow, str]] = []
        with self.db.transaction() as session:
            for reg, code in coded:
                locked = queries.load(session, self.node, reg.id, for_update=True)
                app = self._current(session, locked, ApplicationState.AWAITING_CODE)
                if app is None:
                    continue
                self.procedure.activate(session, locked, app, code)
                activated.append((reg, code))
        if activated:
            self.on_activated()
        for reg, code in activated:
            logger.info("%s is active with code %s", names.registration_name(reg.node, reg.id), code)
        return len(activated)

    def _coding_failed(self, error: grpc.RpcError | RegistryError | None, waiting: int) -> None:
        """A round stopped at a failure: logged as a warning when the failure is not the one logged
        last (the national node became unreachable, or refuses otherwise), not at every round."""
        if error is None or self._stop.is_set():  # a stop cancels the calls in flight
            return
        if isinstance(error, RegistryError):
            kind = error.reason
        else:
            kind = error.code().name if isinstance(error, grpc.Call) else "UNKNOWN"
        if kind != self._coding_trouble:
            logger.warning(
                "no code from the national node (%s); %d registrations wait for one; retrying until it"
                " answers",
                describe_error(error),
                waiting,
            )
        self._coding_trouble = kind

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
            self.procedure.remind(session, reg, left)
            logger.info("reminder: %s expires on %s", reg.code, reg.valid_until)
            return True

        return self._each(candidates, remind)
