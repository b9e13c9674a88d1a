"""The national log on its databases (SQLite and PostgreSQL), in-process: what is stored and proved.

* The stored tree agrees with an independent RFC 9162 reference for every size 1..64: roots, every
  inclusion proof, every consistency proof; appends in batches of any size store the same tree.
* An entry is appended with its transaction or not at all; concurrent writers get gapless indexes.
* Checkpoints are signed, deterministic, and served with the cosignatures that verify (and only those).
* A stored entry that no longer matches its hashes is DATA_LOSS when a proof is asked for it.

The same over real processes and gRPC, with witnesses, tampering and split views, is in
``tests/integration/test_transparency.py``.
"""

from __future__ import annotations

import json
import random
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import text

from common.clock import SystemClock
from common.db import Database, migrate
from common.errors import DataLoss, FailedPrecondition, InvalidArgument, NotFound
from common.transparency import (
    CosignatureSigner,
    Signer,
    cosign,
    verify_consistency,
    verify_inclusion,
    verify_proof,
)
from common.transparency.entry import ORIGIN, WITNESS_KEY_PREFIX, canonical
from national_node.server import MIGRATIONS
from national_node.tlog import Pending, TransparencyLog, WitnessKeys
from tests.unit.test_transparency_merkle import ref_mth, ref_path, ref_proof

pytestmark = pytest.mark.integration


@pytest.fixture
def database(national_database: Database) -> Database:
    return national_database


@pytest.fixture
def signer() -> Signer:
    return Signer.generate(ORIGIN)


def _log(db: Database, signer: Signer, **kwargs: object) -> TransparencyLog:
    return TransparencyLog(db, SystemClock(), signer, **kwargs)  # type: ignore[arg-type]


def _entry(i: int) -> Pending:
    data = canonical({"v": 1, "kind": "registration", "uid": f"u-{i}", "revision": 1, "n": i})
    return Pending(data)


def _append_in_batches(db: Database, log: TransparencyLog, count: int, rng: random.Random) -> list[bytes]:
    leaves: list[bytes] = []
    while len(leaves) < count:
        batch = [_entry(len(leaves) + i) for i in range(min(count - len(leaves), rng.randint(1, 9)))]
        with db.transaction() as session:
            for pending in batch:
                log.appender.add(session, pending)
        leaves.extend(p.data for p in batch)
    return leaves


def test_the_stored_tree_is_the_reference_tree_for_every_size_up_to_64(
    database: Database, signer: Signer
) -> None:
    log = _log(database, signer)
    rng = random.Random(7)
    leaves: list[bytes] = []
    roots: dict[int, bytes] = {}
    for size in range(1, 65):
        leaves += _append_in_batches(database, log, 1, rng) if size % 3 else []
        if len(leaves) < size:
            leaves += _append_in_batches(database, log, size - len(leaves), rng)
        checkpoint = log.checkpoints.checkpoint()
        assert checkpoint is not None and checkpoint.size == size
        assert checkpoint.root == ref_mth(leaves), size
        roots[size] = checkpoint.root
        for index in range(size):
            entry = log.proofs.find_entry(index=index)
            path, served, _ = log.proofs.inclusion(entry, size)
            assert served.size == size and entry.entry == leaves[index]
            assert path == ref_path(index, leaves), (index, size)
            verify_inclusion(leaves[index], index, size, path, checkpoint.root)
    for old in range(1, 65):
        for new in range(old, 65):
            proof = log.proofs.consistency(old, new)
            assert proof == ref_proof(old, leaves[:new]), (old, new)
            verify_consistency(old, new, roots[old], roots[new], proof)


def test_an_entry_is_appended_with_its_transaction_or_not_at_all(database: Database, signer: Signer) -> None:
    log = _log(database, signer)
    with pytest.raises(RuntimeError), database.transaction() as session:
        log.appender.add(session, _entry(0))
        raise RuntimeError("the ledger change failed")
    assert log.proofs.size() == 0
    with database.transaction() as session:
        log.appender.add(session, _entry(0))
        log.appender.add(session, _entry(1))
    assert log.proofs.size() == 2 and [e.index for e in log.proofs.entries(0, 10)[0]] == [0, 1]


def test_concurrent_writers_get_gapless_indexes_in_commit_order(database: Database, signer: Signer) -> None:
    log = _log(database, signer)
    errors: list[BaseException] = []

    def writer(w: int) -> None:
        try:
            for k in range(15):
                with database.transaction() as session:
                    for j in range(1 + (w + k) % 3):
                        log.appender.add(session, _entry(1000 * w + 10 * k + j))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors and not any(t.is_alive() for t in threads)
    rows, _ = log.proofs.entries(0, 1000)
    assert [r.index for r in rows] == list(range(log.proofs.size()))
    assert log.proofs.size() == sum(1 + (w + k) % 3 for w in range(6) for k in range(15))
    checkpoint = log.checkpoints.checkpoint()
    assert checkpoint is not None and checkpoint.root == ref_mth([r.entry for r in rows])


def test_two_processes_signing_the_same_size_write_the_same_checkpoint(
    database: Database, signer: Signer
) -> None:
    first, second = _log(database, signer), _log(database, signer)
    with database.transaction() as session:
        first.appender.add(session, _entry(0))
    a, b = first.checkpoints.checkpoint(), second.checkpoints.checkpoint()
    assert a is not None and b is not None and a.note == b.note
    proof_text = first.proofs.tlog_proof(
        first.proofs.find_entry(index=0), *first.proofs.inclusion(first.proofs.find_entry(index=0))
    )
    verify_proof(proof_text, [signer.verifier().verifier_key()], origin=ORIGIN)


def test_only_cosignatures_that_verify_by_a_known_witness_are_kept(
    database: Database, signer: Signer, tmp_path: Path
) -> None:
    folder = tmp_path
    jiangsu = CosignatureSigner.generate(WITNESS_KEY_PREFIX + "320000")
    stranger = CosignatureSigner.generate(WITNESS_KEY_PREFIX + "440000")
    keys = folder / "witnesses.vkeys"
    keys.write_text(f"# the witnesses\n{jiangsu.verifier_key()}\nnot a key\n")
    log = _log(database, signer, witnesses=WitnessKeys(keys))
    with database.transaction() as session:
        log.appender.add(session, _entry(0))
    checkpoint = log.checkpoints.checkpoint()
    assert checkpoint is not None
    body = checkpoint.note.split("\n\n")[0] + "\n"
    stamp = int(datetime.now(UTC).timestamp())
    with pytest.raises(FailedPrecondition):  # no key of Guangdong's
        log.cosignatures.add("440000", 1, cosign(body, stranger, stamp))
    with pytest.raises(InvalidArgument):  # Guangdong's signature offered as Jiangsu's
        log.cosignatures.add("320000", 1, cosign(body, stranger, stamp).replace("440000", "320000"))
    with pytest.raises(InvalidArgument):  # a size never checkpointed
        log.cosignatures.add("320000", 5, cosign(body, jiangsu, stamp))
    row, cosignatures = log.cosignatures.add("320000", 1, cosign(body, jiangsu, stamp))
    again = log.cosignatures.add("320000", 1, cosign(body, jiangsu, stamp))[1]
    assert [c.witness for c in cosignatures] == [c.witness for c in again] == ["320000"]
    entry = log.proofs.find_entry(index=0)
    proof = log.proofs.tlog_proof(entry, *log.proofs.inclusion(entry))
    verified = verify_proof(
        proof,
        [signer.verifier().verifier_key()],
        witness_keys=[jiangsu.verifier_key()],
        witnesses_needed=1,
    )
    assert verified.witnesses == ((jiangsu.name, stamp),)


def test_a_stored_entry_that_no_longer_matches_its_hashes_is_data_loss(
    database: Database, signer: Signer
) -> None:
    log = _log(database, signer)
    _append_in_batches(database, log, 10, random.Random(1))
    log.checkpoints.checkpoint()
    with database.transaction() as session:
        session.execute(
            text('UPDATE log_entries SET entry = :forged WHERE "index" = 4'), {"forged": b'{"forged":true}'}
        )
    with pytest.raises(DataLoss) as damaged:
        log.proofs.inclusion(log.proofs.find_entry(index=4))
    assert damaged.value.reason == "LOG_DAMAGED"
    log.proofs.inclusion(log.proofs.find_entry(index=5))  # the others still prove


def test_entries_and_proofs_that_do_not_exist_are_refused_clearly(database: Database, signer: Signer) -> None:
    # An entry in no checkpoint is refused once the wait for one is over: a short wait, the same answer.
    log = _log(database, signer, cosignature_wait=0.2)
    with pytest.raises(NotFound):
        log.proofs.get_checkpoint()
    with database.transaction() as session:
        log.appender.add(session, _entry(0))
    with pytest.raises(FailedPrecondition):  # in the log, but in no checkpoint yet
        log.proofs.inclusion(log.proofs.find_entry(index=0))
    log.checkpoints.checkpoint()
    with pytest.raises(NotFound):
        log.proofs.find_entry(index=1)
    with pytest.raises(NotFound):
        log.proofs.find_entry(code="132000026000000001D")
    with pytest.raises(InvalidArgument):
        log.proofs.consistency(1, 2)


def test_a_ledger_from_before_the_log_is_logged_once_in_the_order_it_was_made(
    database: Database, signer: Signer
) -> None:
    from common.gen.registry.v1 import registration_pb2, sync_pb2
    from national_node.models import CodeAssignmentRow, LedgerRow

    code, at = "132000026000000001D", datetime(2026, 11, 2, 8, tzinfo=UTC)
    record = sync_pb2.RegistrationRecord(
        registration=registration_pb2.Registration(
            name="nodes/320000/registrations/r-old",
            uid="00000000-0000-0000-0000-000000000001",
            code=code,
            state=registration_pb2.Registration.ACTIVE,
            managing_node="nodes/320000",
            content=registration_pb2.RegistrationContent(data_name="旧数据"),
        ),
        revision=3,
    )
    with database.transaction() as session:
        session.add(
            LedgerRow(
                uid=record.registration.uid,
                node="320000",
                name=record.registration.name,
                code=code,
                state="ACTIVE",
                revision=3,
                digest="d",
                bucket="00",
                record=record.SerializeToString(),
                updated_at=at.replace(hour=9),
            )
        )
        session.add(
            CodeAssignmentRow(
                code=code,
                issuer="320000",
                object_type=1,
                year=2026,
                serial=1,
                registration=record.registration.name,
                subject_uscc="12320106MB1C584759",
                requested_by="320000",
                request_id="r-1",
                assigned_at=at,
            )
        )
    log = _log(database, signer)
    assert log.appender.backfill() == 2 and log.appender.backfill() == 0
    rows, _ = log.proofs.entries(0, 10)
    assert [json.loads(r.entry)["kind"] for r in rows] == ["code_assignment", "registration"]
    # The ledger row points at its entry: a confirmation of the code proves that one.
    assert (
        log.proofs.find_entry(code=code).index == 1
        and log.proofs.find_entry(code=code, revision=3).index == 1
    )
    with pytest.raises(NotFound):
        log.proofs.find_entry(code=code, revision=2)
    assert b'"data_name":"\xe6\x97\xa7\xe6\x95\xb0\xe6\x8d\xae"' in rows[1].entry
    checkpoint = log.checkpoints.checkpoint()
    assert checkpoint is not None and checkpoint.root == ref_mth([r.entry for r in rows])
    # A ledger kept by the version whose rows did not point at their entries: the node links them
    # at start, from the entries themselves, and logs nothing twice.
    with database.transaction() as session:
        row = session.get(LedgerRow, record.registration.uid)
        assert row is not None
        row.log_index = None
        session.add(row)
    with pytest.raises(NotFound):
        log.proofs.find_entry(code=code)
    assert log.appender.backfill() == 0 and log.proofs.size() == 2
    assert log.proofs.find_entry(code=code, revision=3).index == 1


def test_the_schema_of_the_first_log_upgrades_in_place(tmp_path: Path) -> None:
    """A national database at revision 0005 (entries with their kind, code, uid and revision
    columns) upgrades to the newest schema with its entries intact."""
    db = Database(f"sqlite:///{tmp_path / 'national.db'}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0005")
        connection.exec_driver_sql(
            'INSERT INTO log_entries ("index", kind, code, uid, revision, entry, hash)'
            " VALUES (0, 'registration', NULL, 'u', 1, x'7b7d', x'00')"
        )
    migrate(db.engine, MIGRATIONS)
    with db.engine.connect() as connection:
        columns = [c["name"] for c in sa.inspect(connection).get_columns("log_entries")]
        assert columns == ["index", "entry", "hash"]
        assert connection.exec_driver_sql("SELECT entry FROM log_entries").scalar_one() == b"{}"
        assert "log_index" in [c["name"] for c in sa.inspect(connection).get_columns("ledger")]
    db.dispose()
