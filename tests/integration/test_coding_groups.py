"""Concurrent AssignCode calls of one process share a transaction (group commit), and a request inside a
group is answered as if it were alone: bad ones get their own error and take no serial, repeats are
answered after what they repeat, and a group whose transaction fails is tried again request by request.

In-process, on SQLite and PostgreSQL: while another connection holds the database's write lock, the
first call waits on it and every other call queues behind it, so they are coded as one group when the
lock is released (the test counts the commits).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, text

from common import codes
from common.clock import SystemClock
from common.db import Database
from common.errors import RegistryError
from common.gen.registry.v1 import national_service_pb2 as ns
from common.transparency import Signer
from common.transparency.entry import ORIGIN, parse_entry
from national_node.coding import Assignment, CodeRequest, CodingAuthority
from national_node.directory import sync_directory
from national_node.settings import ProvincialNodeEntry
from national_node.tlog import TransparencyLog
from tests.factories import make_uscc
from tests.sync_support import waiting_for_code

pytestmark = pytest.mark.integration

Outcome = tuple[Assignment, bool] | Exception


def _authority(db: Database) -> tuple[CodingAuthority, TransparencyLog]:
    sync_directory(
        db,
        national_address="127.0.0.1:1",
        nodes=[ProvincialNodeEntry(region="320000"), ProvincialNodeEntry(region="440000")],
    )
    log = TransparencyLog(db, SystemClock(), Signer.generate(ORIGIN))
    return CodingAuthority(db, SystemClock(), log.appender), log


def _request(key: str, *, object_type: int = 1, subject: str = "", node: str = "320000") -> CodeRequest:
    return CodeRequest(
        node=node,
        issuer=node,
        object_type=codes.ObjectType(object_type),
        registration=f"nodes/{node}/registrations/{key}",
        subject_uscc=subject or make_uscc(f"{node[:2]}0106"),
        subject_province=node,
        request_id=f"req-{key}",
    )


def _in_ledger(db: Database, requests: list[CodeRequest]) -> None:
    waiting_for_code(
        db.url.render_as_string(hide_password=False),
        [
            ns.AssignCodeRequest(
                node=f"nodes/{r.node}",
                issuer=r.issuer,
                object_type=int(r.object_type),  # type: ignore[arg-type]
                registration=r.registration,
                subject_uscc=r.subject_uscc,
                request_id=r.request_id,
            )
            for r in requests
        ],
    )


@contextmanager
def _write_lock_held(db: Database) -> Iterator[None]:
    """Another connection holds what a code's transaction needs to write, until the block ends."""
    connection = db.engine.connect().execution_options(sqlite_begin="IMMEDIATE")  # SQLite: its write lock
    try:
        connection.begin()
        if not db.is_sqlite:
            connection.execute(text("LOCK TABLE code_counters IN EXCLUSIVE MODE"))
        yield
    finally:
        connection.rollback()
        connection.close()


def _commits(db: Database) -> Callable[[], int]:
    count = [0]

    def counted(_connection: Any) -> None:
        count[0] += 1

    event.listen(db.engine, "commit", counted)
    return lambda: count[0]


def _together(authority: CodingAuthority, db: Database, requests: list[CodeRequest]) -> list[Outcome]:
    """Submit ``requests`` at once from threads of their own, while the write lock is held, so that all
    but the first wait for one group; their outcomes, in order."""
    outcomes: list[Outcome | None] = [None] * len(requests)

    def call(i: int) -> None:
        try:
            outcomes[i] = authority.assign(requests[i])
        except Exception as error:  # the request's own error (an unexpected one answers INTERNAL)
            outcomes[i] = error

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(requests))]
    groups = authority._groups
    pause = threading.Event()  # never set: a bounded wait between looks
    with _write_lock_held(db):
        threads[0].start()
        for _ in range(1000):  # the first call leads a group of itself and waits on the lock
            if groups._leading and groups.waiting == 0:
                break
            pause.wait(0.01)
        for thread in threads[1:]:
            thread.start()
        for _ in range(1000):
            if groups.waiting == len(requests) - 1:
                break
            pause.wait(0.01)
        assert groups.waiting == len(requests) - 1, "the calls did not queue behind the first"
    for thread in threads:
        thread.join(60)
    assert all(o is not None for o in outcomes)
    return [o for o in outcomes if o is not None]


def _code(outcome: Outcome) -> str:
    assert isinstance(outcome, tuple), outcome
    return outcome[0].code


def _reason(outcome: Outcome) -> str:
    assert isinstance(outcome, RegistryError), outcome
    return outcome.reason


def test_a_group_answers_every_request_as_if_it_were_alone(national_database: Database) -> None:
    db = national_database
    authority, log = _authority(db)
    good = [_request(f"g{i}", object_type=1 + i % 3) for i in range(12)]
    twin = _request("twin")  # asked twice under two request ids: one code
    twin_again = CodeRequest(**{**_field_values(twin), "request_id": "req-twin-2"})
    mismatched = _request("mismatch", object_type=2)
    _in_ledger(db, [*good, twin, _request("mismatch", object_type=1, subject=mismatched.subject_uscc)])
    absent = _request("absent")  # never reached the ledger
    foreign = CodeRequest(**{**_field_values(_request("foreign")), "issuer": "440000"})
    retried = good[3]  # the same request twice in one group: one code, answered twice
    reused = CodeRequest(**{**_field_values(absent), "request_id": good[5].request_id})
    commits = _commits(db)

    requests = [
        good[0],
        absent,
        *good[1:6],
        retried,
        foreign,
        twin,
        mismatched,
        reused,
        *good[6:],
        twin_again,
    ]
    outcomes = _together(authority, db, requests)
    by_request = dict(zip((id(r) for r in requests), outcomes, strict=True))

    assert commits() <= 3, f"{commits()} commits for one group of {len(requests)}"
    assert _reason(by_request[id(absent)]) == "REGISTRATION_NOT_IN_LEDGER"
    assert _reason(by_request[id(foreign)]) == "FOREIGN_NAMESPACE"
    assert _reason(by_request[id(mismatched)]) == "LEDGER_MISMATCH"
    assert _reason(by_request[id(reused)]) == "REQUEST_ID_REUSED"
    assert _reason(by_request[id(twin_again)]) == "REGISTRATION_ALREADY_CODED"
    assert by_request[id(twin_again)].metadata["code"] == _code(by_request[id(twin)])  # type: ignore[union-attr]
    # good[3] appears twice: the second is a replay of the first, with the same code.
    first, second = (o for r, o in zip(requests, outcomes, strict=True) if r is retried)
    assert _code(first) == _code(second) and isinstance(second, tuple) and second[1] is True

    coded = {r.registration: _code(by_request[id(r)]) for r in [*good, twin]}
    assert len(set(coded.values())) == len(coded) == 13
    # Serials are gapless per namespace: the bad requests took none.
    year = next(iter(o[0].year for o in outcomes if isinstance(o, tuple)))
    for object_type in (1, 2, 3):
        serials = sorted(codes.parse(c).serial for c in coded.values() if c.startswith(str(object_type)))
        assert serials == list(range(1, len(serials) + 1)), (object_type, year, serials)
    # The log holds each code once.
    with log.storage.transaction(write=False) as session:
        logged = [parse_entry(bytes(e.entry))["code"] for e in log.storage.entries(session, 0, 100)]
    assert sorted(logged) == sorted(coded.values())
    # Asked again, each request gets its first answer.
    for request in good:
        assert authority.assign(request) == (by_request[id(request)][0], True)  # type: ignore[index]


def test_a_group_whose_transaction_fails_is_tried_request_by_request(national_database: Database) -> None:
    db = national_database
    authority, _ = _authority(db)
    nearly_full = [_request(f"full{i}", object_type=3) for i in range(3)]
    others = [_request(f"other{i}", object_type=1) for i in range(4)]
    _in_ledger(db, [*nearly_full, *others])
    year = authority.assign(others[0])[0].year
    with db.transaction() as session:  # namespace 320000/3 has one serial left
        session.connection().execute(
            text("INSERT INTO code_counters (issuer, object_type, year, last_serial) VALUES (:i, 3, :y, :s)"),
            {"i": "320000", "y": year, "s": codes.MAX_SERIAL - 1},
        )
    commits = _commits(db)

    outcomes = _together(authority, db, [others[1], *nearly_full, *others[2:]])

    assert commits() >= 4  # the group failed as one; its requests were then coded one by one
    exhausted = [o for o in outcomes[1:4] if isinstance(o, Exception)]
    assert len(exhausted) == 2 and all("exhausted" in str(e) for e in exhausted)
    last = [o for o in outcomes[1:4] if isinstance(o, tuple)]
    assert len(last) == 1 and codes.parse(last[0][0].code).serial == codes.MAX_SERIAL
    assert [codes.parse(_code(o)).serial for o in (outcomes[0], *outcomes[4:])] == [2, 3, 4]


def _field_values(request: CodeRequest) -> dict[str, Any]:
    return {name: getattr(request, name) for name in CodeRequest.__slots__}
