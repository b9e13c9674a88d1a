"""The golden copy of the national ledger, built on SQLite and PostgreSQL from a ledger and its log as the
national node keeps them, and verified offline: every coded registration at its latest revision
(deregistered ones with their state), none that has no code; each record proved against the log; a
record altered, added or missing reported by its code; a manifest under another key, or leaves that
are not the log's, refused."""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from common.clock import SystemClock
from common.db import Database
from common.gen.registry.v1 import registration_pb2 as r
from common.golden import CSV_COLUMNS, verify_copy
from common.transparency import Signer
from common.transparency.entry import ORIGIN, canonical
from national_node.golden import GoldenCopies
from national_node.models import LedgerRow
from national_node.tlog import Pending, TransparencyLog
from tests.integration.test_search import record

pytestmark = pytest.mark.integration

COUNT = 30


def _code(i: int) -> str:
    return f"13200002600000{i:04d}X"


def _ledger(db: Database, log: TransparencyLog) -> dict[str, str]:
    """COUNT coded registrations (every fifth changed again: deregistered), one without a code, and a
    code assignment entry before each; code -> its state at the end."""
    states: dict[str, str] = {}
    rows: dict[str, LedgerRow] = {}
    for i in range(COUNT + 1):
        rec = record(f"全省数据资源{i:03d}")
        reg = rec.registration
        coded = i < COUNT
        if coded:
            reg.code = _code(i)
        with db.transaction() as session:
            if coded:
                assignment = {"v": 1, "kind": "code_assignment", "code": reg.code, "n": i}
                log.appender.add(session, Pending(canonical(assignment)))
            row = LedgerRow(
                uid=reg.uid,
                node="320000",
                name=reg.name,
                code=reg.code or None,
                state="ACTIVE",
                revision=1,
                digest="0" * 64,
                bucket=reg.uid[:2],
                record=rec.SerializeToString(),
                updated_at=datetime.now(UTC),
            )
            session.add(row)
            log.appender.add_registration(session, rec, "a" * 64, "b" * 64, at=datetime.now(UTC), row=row)
        if coded:
            rows[reg.code], states[reg.code] = row, "ACTIVE"
            if i % 5 == 0:
                reg.state, rec.revision = r.Registration.DEREGISTERED, 2
                with db.transaction() as session:
                    again = session.get(LedgerRow, reg.uid)
                    assert again is not None
                    again.revision, again.state, again.record = 2, "DEREGISTERED", rec.SerializeToString()
                    session.add(again)
                    log.appender.add_registration(
                        session, rec, "c" * 64, "b" * 64, at=datetime.now(UTC), row=again
                    )
                states[reg.code] = "DEREGISTERED"
    assert log.checkpoints.checkpoint() is not None
    return states


@pytest.fixture
def built(national_database: Database, tmp_path: Path) -> tuple[Path, Signer, dict[str, str]]:
    signer = Signer.generate(ORIGIN)
    log = TransparencyLog(national_database, SystemClock(), signer)
    states = _ledger(national_database, log)
    copy = GoldenCopies(national_database, signer, tmp_path / "golden").build()
    return copy, signer, states


def _lines(path: Path) -> list[bytes]:
    with gzip.open(path, "rb") as handle:
        return handle.read().splitlines(keepends=True)


def _rewrite(path: Path, lines: list[bytes]) -> None:
    with gzip.open(path, "wb") as handle:
        handle.writelines(lines)


def _tampered(copy: Path, tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(copy, target)
    return target


def test_a_copy_holds_every_coded_registration_at_its_latest_revision_and_verifies(
    built: tuple[Path, Signer, dict[str, str]],
) -> None:
    copy, signer, states = built
    records = [json.loads(line) for line in _lines(copy / "ledger.jsonl.gz")]
    assert {rec["entry"]["code"]: rec["entry"]["state"] for rec in records} == states
    indexes = [rec["log_index"] for rec in records]
    assert indexes == sorted(indexes) and len(set(indexes)) == COUNT
    with gzip.open(copy / "ledger.csv.gz", "rt", encoding="utf-8") as handle:
        rows = handle.read().splitlines()
    assert rows[0].split(",") == list(CSV_COLUMNS) and len(rows) == COUNT + 1
    # Everything was just registered: every delta holds every record.
    for delta in ("delta-8h", "delta-24h", "delta-7d", "delta-31d"):
        assert len(_lines(copy / f"{delta}.jsonl.gz")) == COUNT
    result = verify_copy(copy, [signer.verifier().verifier_key()])
    assert result.ok, result.problems
    assert result.records == COUNT


def test_each_altered_added_or_missing_record_is_named_by_its_code(
    built: tuple[Path, Signer, dict[str, str]], tmp_path: Path
) -> None:
    copy, signer, _ = built
    keys = [signer.verifier().verifier_key()]
    lines = _lines(copy / "ledger.jsonl.gz")
    victim = json.loads(lines[7])["entry"]["code"]

    altered = _tampered(copy, tmp_path, "altered")
    changed = json.loads(lines[7])
    changed["entry"]["data_name"] = "改过的名称"
    _rewrite(altered / "ledger.jsonl.gz", [*lines[:7], json.dumps(changed).encode() + b"\n", *lines[8:]])
    problems = verify_copy(altered, keys).problems
    assert ("altered", victim) in {(p.kind, p.code) for p in problems}
    assert any(p.kind == "file" and "ledger.jsonl.gz" in p.detail for p in problems)

    missing = _tampered(copy, tmp_path, "missing")
    _rewrite(missing / "ledger.jsonl.gz", [*lines[:7], *lines[8:]])
    assert ("missing", victim) in {(p.kind, p.code) for p in verify_copy(missing, keys).problems}

    added = _tampered(copy, tmp_path, "added")
    forged = json.loads(lines[7])
    forged["entry"]["code"] = "132000026999999999X"
    _rewrite(added / "ledger.jsonl.gz", [*lines[:8], json.dumps(forged).encode() + b"\n", *lines[8:]])
    assert ("added", "132000026999999999X") in {(p.kind, p.code) for p in verify_copy(added, keys).problems}

    # Under another key the manifest is not the log's; leaves that are not the log's do not add up.
    other = Signer.generate(ORIGIN).verifier().verifier_key()
    assert [p.kind for p in verify_copy(copy, [other]).problems] == ["manifest"]
    short = _tampered(copy, tmp_path, "short")
    with (short / "leaves.bin").open("r+b") as handle:
        handle.truncate((short / "leaves.bin").stat().st_size - 32)
    assert "log" in {p.kind for p in verify_copy(short, keys).problems}
    # The untouched copy still verifies.
    assert verify_copy(copy, keys).ok


def test_a_copy_is_built_whole_or_not_at_all_and_the_oldest_are_pruned(
    national_database: Database, tmp_path: Path
) -> None:
    signer = Signer.generate(ORIGIN)
    log = TransparencyLog(national_database, SystemClock(), signer)
    _ledger(national_database, log)
    copies = GoldenCopies(national_database, signer, tmp_path / "golden", keep=1, checkpoint_wait=0.5)
    first = copies.build()
    assert copies.latest() == first
    # No checkpoint holds the newest entry (nothing signs one here): the build fails and leaves nothing.
    with national_database.transaction() as session:
        log.appender.add(session, Pending(canonical({"v": 1, "kind": "code_assignment", "n": -1})))
    rec = record("新登记的数据")
    rec.registration.code = _code(9999)
    with national_database.transaction() as session:
        row = LedgerRow(
            uid=rec.registration.uid,
            node="320000",
            name=rec.registration.name,
            code=rec.registration.code,
            state="ACTIVE",
            revision=1,
            digest="0" * 64,
            bucket=rec.registration.uid[:2],
            record=rec.SerializeToString(),
            updated_at=datetime.now(UTC),
        )
        session.add(row)
        log.appender.add_registration(session, rec, "a" * 64, "b" * 64, at=datetime.now(UTC), row=row)
    with pytest.raises(RuntimeError, match="no checkpoint holds"):
        copies.build()
    assert sorted(p.name for p in (tmp_path / "golden").iterdir()) == sorted([first.name, "LATEST"])
