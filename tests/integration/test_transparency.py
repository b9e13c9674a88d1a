"""The national log over real processes and gRPC: confirmations anyone can check, provinces as witnesses.

* A confirmation issued today verifies offline with ``registryctl confirmation verify`` (the log's key,
  the witnesses' keys); flipping any byte of it makes verification fail, with a reason.
* Tampering: the national database rewritten (an entry forged and the tree rebuilt around it) or
  truncated. Every province's next consistency check fails loudly: an alarm with both checkpoints as
  evidence, the downward feed stopped, registration going on. An earlier confirmation still verifies
  against its own checkpoint; its entry no longer proves against the rewritten log.
* A split view: a national node (a test double over real gRPC) shows two provinces two different trees
  of the same size; the provinces, comparing notes, catch it.
* Key rollover: a new log key, the old one kept for verification; old confirmations still verify and
  the witnesses go on.

Each on SQLite; the tampering also with the national node on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from concurrent import futures
from pathlib import Path

import grpc
import pytest
from google.protobuf import message_factory
from sqlalchemy import create_engine, text

from common.gen.registry.v1 import log_service_pb2 as ls
from common.gen.registry.v1 import log_service_pb2_grpc as ls_grpc
from common.gen.registry.v1 import national_service_pb2 as ns
from common.gen.registry.v1 import node_pb2
from common.gen.registry.v1 import provincial_service_pb2 as ps
from common.gen.registry.v1 import provincial_service_pb2_grpc as ps_grpc
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import registration_service_pb2 as rs
from common.gen.registry.v1 import registration_service_pb2_grpc as rs_grpc
from common.gen.registry.v1 import sync_service_pb2 as ss
from common.security.local import LocalTrust, read_key_lines
from common.settings import normalise_database_url
from common.transparency import (
    Checkpoint,
    CosignatureSigner,
    Signer,
    VerificationError,
    consistency_proof,
    root_hash,
    subtrees_completed_by_batch,
    verify_proof,
)
from common.transparency.entry import (
    ORIGIN,
    WITNESS_KEY_PREFIX,
    canonical,
    parse_entry,
    verify_confirmation,
)
from common.transparency.note import sign_note
from common.transparency.proof import Proof
from tests.cluster import Cluster
from tests.factories import make_content, make_uscc
from tests.nodes import ROOT, NodeProcess, free_port, registryctl, wait_until
from tests.trust import node_env, trust

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def cluster(cluster: Cluster) -> Cluster:
    """The shared fixture's cluster, its nodes announcing for one working day instead of ten: what
    these tests look at begins once a registration is coded, so the announcement's length is only a
    wait (a second or two at two days a second, not eight)."""
    cluster.node_env["REGISTRY_TIME_LIMITS__ANNOUNCEMENT_DAYS"] = "1"
    return cluster


def _active(province: NodeProcess, region: str = "320000") -> r.Registration:
    """A registration taken through to ACTIVE (the clock runs two days a second; the announcement
    lasts one working day)."""
    stub = rs_grpc.RegistrationServiceStub(province.channel())
    reg = stub.CreateRegistration(
        rs.CreateRegistrationRequest(
            parent=f"nodes/{region}",
            request_id=str(uuid.uuid4()),
            registration=r.Registration(object_type=1, content=make_content(make_uscc(f"{region[:2]}0106"))),
        ),
        timeout=10,
    )
    for method in ("AcceptApplication", "ApproveApplication", "AnnounceApplication"):
        request = getattr(rs, f"{method}Request")(name=reg.name, request_id=str(uuid.uuid4()))
        if method == "AcceptApplication":
            request.acknowledge_duplicates = True  # the same data under every province, on purpose
        getattr(stub, method)(request, timeout=10)
    return wait_until(
        lambda: (
            (got := stub.GetRegistration(rs.GetRegistrationRequest(name=reg.name), timeout=5)).state
            == r.Registration.ACTIVE
            and got
        ),
        timeout=60,
        message="the registration to be coded",
    )


def _confirmation(province: NodeProcess, code: str, *, cosigned_by: int = 0) -> str:
    """The confirmation file, once the national log holds it (cosigned by that many witnesses)."""
    stub = rs_grpc.RegistrationServiceStub(province.channel())

    def ready() -> str | None:
        proof = stub.GetConfirmation(rs.GetConfirmationRequest(code=code), timeout=5).tlog_proof
        return proof if proof and proof.count("\n— ") >= 1 + cosigned_by else None

    return wait_until(ready, timeout=60, message=f"a confirmation file cosigned by {cosigned_by}")


def _status(province: NodeProcess) -> ps.SyncStatus:
    return ps_grpc.ProvincialServiceStub(province.channel()).GetSyncStatus(
        ps.GetSyncStatusRequest(), timeout=5
    )


def _witness_keys() -> list[str]:
    return read_key_lines(trust().witness_keys_file)


def _log_keys() -> list[str]:
    return read_key_lines(trust().log_verifier_keys_file)


# -- confirmations ----------------------------------------------------------------------------------


def test_a_confirmation_verifies_offline_and_flipping_any_byte_fails_it(
    cluster: Cluster, tmp_path: Path
) -> None:
    cluster.own_nodes = ("320000",)
    cluster.national().start()
    province = cluster.province("320000").start()
    reg = _active(province)
    proof = _confirmation(province, reg.code, cosigned_by=1)
    # As a third party: the registryctl command, with the public keys only (no network).
    file = tmp_path / "confirmation.tlog"
    file.write_text(proof)
    witness_file = tmp_path / "witnesses.vkeys"
    witness_file.write_text("".join(k + "\n" for k in _witness_keys() if "/320000+" in k))
    command = [
        str(Path(sys.executable).parent / "registryctl"),
        "--json",
        "confirmation",
        "verify",
        str(file),
        "--log-keys",
        str(trust().log_verifier_keys_file),
        "--witness-keys",
        str(witness_file),
        "--witnesses",
        "1",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert f'"code": "{reg.code}"' in done.stdout and '"state": "ACTIVE"' in done.stdout
    entry = parse_entry(verify_confirmation(proof, _log_keys()).proof.extra)
    assert (entry["registration"], entry["data_name"]) == (reg.name, reg.content.data_name)

    # Every byte matters: the entry, the index, the path, the checkpoint, its signature, the cosignature.
    original = proof.encode()
    witnesses = [k for k in _witness_keys() if "/320000+" in k]
    reasons: dict[str, int] = {}
    for position in range(len(original)):
        for mask in (0x01, 0x20):
            forged = bytearray(original)
            forged[position] ^= mask
            with pytest.raises(VerificationError) as failed:
                verify_confirmation(bytes(forged), _log_keys(), witness_keys=witnesses, witnesses_needed=1)
            reasons[failed.value.reason] = reasons.get(failed.value.reason, 0) + 1
    assert {"FORMAT", "INCLUSION", "SIGNATURE", "WITNESSES"} <= set(reasons), reasons
    # The content it confirms: the canonical content hashes to the confirmed content_sha256.
    command[-4:] = ["--content", str(tmp_path / "content.json")]
    (tmp_path / "content.json").write_text('{"data_name":"not what was registered"}')
    wrong = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert wrong.returncode == 1 and '"reason": "CONTENT"' in wrong.stdout


def _first_file(province: NodeProcess, code: str) -> r.Confirmation:
    """The first answer of GetConfirmation that carries a file, asked for as soon as the code is there."""
    stub = rs_grpc.RegistrationServiceStub(province.channel())
    return wait_until(
        lambda: (
            (c := stub.GetConfirmation(rs.GetConfirmationRequest(code=code), timeout=15)).tlog_proof and c
        ),
        timeout=30,
        interval=0.05,
        message="a confirmation file",
    )


def _verify_with_registryctl(
    province: NodeProcess, proof: str, tmp_path: Path, witnesses: int
) -> tuple[int, dict]:
    file = tmp_path / f"confirmation-{uuid.uuid4().hex[:8]}.tlog"
    file.write_text(proof)
    keys = tmp_path / "witnesses.vkeys"
    keys.write_text("".join(k + "\n" for k in _witness_keys() if "/320000+" in k or "/440000+" in k))
    done = registryctl(
        province.address,
        "confirmation",
        "verify",
        str(file),
        "--log-keys",
        str(trust().log_verifier_keys_file),
        "--witness-keys",
        str(keys),
        "--witnesses",
        str(witnesses),
    )
    return done.returncode, json.loads(done.stdout)


def test_the_first_confirmation_carries_every_witness_or_says_whose_cosignature_is_pending(
    cluster: Cluster, tmp_path: Path
) -> None:
    cluster.own_nodes = ("320000", "440000")
    cluster.national().start()
    jiangsu, guangdong = cluster.province("320000").start(), cluster.province("440000").start()
    _confirmation(jiangsu, _active(jiangsu).code, cosigned_by=2)  # both witnesses keep up with the log

    # The first answer with a file, asked for the moment the registration is active, is cosigned by both.
    for _ in range(3):
        first = _first_file(jiangsu, _active(jiangsu).code)
        assert (list(first.cosigned_by), list(first.witnesses_pending)) == (
            ["nodes/320000", "nodes/440000"],
            [],
        )
        code, report = _verify_with_registryctl(jiangsu, first.tlog_proof, tmp_path, witnesses=2)
        assert code == 0 and report["verified"] is True, report

    # A witness away: the answer comes after a bounded wait, says whose cosignature is pending, and the
    # verifier says so (exit status 3), apart from a confirmation that does not verify.
    assert guangdong.stop() == 0
    reg = _active(jiangsu)
    pending = _first_file(jiangsu, reg.code)
    assert (list(pending.cosigned_by), list(pending.witnesses_pending)) == (
        ["nodes/320000"],
        ["nodes/440000"],
    )
    code, report = _verify_with_registryctl(jiangsu, pending.tlog_proof, tmp_path, witnesses=2)
    assert code == 3 and report["reason"] == "COSIGNATURES_PENDING", report
    assert [name.rsplit("/", 1)[1] for name in report["pending"]] == ["440000"], report

    # Back: the same confirmation, fetched again, carries both.
    guangdong.start()
    stub = rs_grpc.RegistrationServiceStub(jiangsu.channel())
    complete = wait_until(
        lambda: (
            not (
                c := stub.GetConfirmation(rs.GetConfirmationRequest(code=reg.code), timeout=15)
            ).witnesses_pending
            and c
        ),
        timeout=60,
        message="the returning witness's cosignature",
    )
    assert list(complete.cosigned_by) == ["nodes/320000", "nodes/440000"]
    assert _verify_with_registryctl(jiangsu, complete.tlog_proof, tmp_path, witnesses=2)[0] == 0


# -- tampering --------------------------------------------------------------------------------------


def _rebuild(
    engine_url: str, forge: Callable[[dict[int, bytes]], None], *, truncate_to: int | None = None
) -> None:
    """What an attacker with the national database does: change the log's entries (``forge``) or cut
    it (``truncate_to``), then make the stored tree agree again, so that fresh proofs verify."""
    engine = create_engine(normalise_database_url(engine_url))
    with engine.begin() as conn:
        entries = {i: bytes(e) for i, e in conn.execute(text('SELECT "index", entry FROM log_entries'))}
        if truncate_to is not None:
            entries = {i: e for i, e in entries.items() if i < truncate_to}
            conn.execute(text('DELETE FROM log_entries WHERE "index" >= :n'), {"n": truncate_to})
            conn.execute(text("DELETE FROM log_checkpoints WHERE size > :n"), {"n": truncate_to})
            conn.execute(text("DELETE FROM log_cosignatures WHERE size > :n"), {"n": truncate_to})
            conn.execute(
                text("UPDATE sequence_counters SET last = :n WHERE name = 'log'"), {"n": truncate_to}
            )
        forge(entries)
        hashes = subtrees_completed_by_batch(0, [entries[i] for i in range(len(entries))], lambda keys: {})
        conn.execute(text("DELETE FROM log_hashes"))
        for level, index, value in hashes:
            if level == 0:
                conn.execute(
                    text('UPDATE log_entries SET entry = :e, hash = :h WHERE "index" = :i'),
                    {"e": entries[index], "h": value, "i": index},
                )
            else:
                conn.execute(
                    text('INSERT INTO log_hashes (level, "index", hash) VALUES (:l, :i, :h)'),
                    {"l": level, "i": index, "h": value},
                )
    engine.dispose()


def _forge_entry_of(code: str) -> Callable[[dict[int, bytes]], None]:
    def forge(entries: dict[int, bytes]) -> None:
        index = max(
            i
            for i, e in entries.items()
            if f'"code":"{code}"'.encode() in e and b'"kind":"registration"' in e
        )
        entry = parse_entry(entries[index])
        entry["data_name"] = "FORGED"
        entries[index] = canonical(entry)

    return forge


@pytest.fixture
def national_db(request: pytest.FixtureRequest, cluster: Cluster) -> str:
    """The national database an attacker rewrites: each attack below on one backend, the two attacks
    on both (what the witnesses see does not depend on it; the rewriting does)."""
    if request.param == "sqlite":
        return cluster.db_url("national")
    return str(request.getfixturevalue("postgres_url"))


def _two_witnesses(cluster: Cluster, national_db: str) -> tuple[NodeProcess, NodeProcess, NodeProcess]:
    cluster.own_nodes = ("320000", "440000")
    national = cluster.national()
    national.env["REGISTRY_DATABASE_URL"] = national_db
    national.start()
    return national, cluster.province("320000").start(), cluster.province("440000").start()


def _alarm(province: NodeProcess) -> ps.LogAlarm:
    return wait_until(
        lambda: (s := _status(province).witness).HasField("alarm") and s.alarm,
        timeout=30,
        message="the witness to raise an alarm",
    )


@pytest.mark.parametrize("national_db", ["postgresql"], indirect=True)
def test_a_rewritten_history_is_caught_by_every_witness_and_old_confirmations_still_verify(
    cluster: Cluster, national_db: str
) -> None:
    national, jiangsu, guangdong = _two_witnesses(cluster, national_db)
    reg = _active(jiangsu)
    earlier = _confirmation(jiangsu, reg.code, cosigned_by=1)
    # Both witnesses must have verified a checkpoint that holds the entry about to be forged: one that
    # verified only an earlier size sees a consistent extension of what it verified (and, with no
    # address of the other witness in this federation's directory, no gossip to tell it otherwise).
    entry_index = Proof.parse(earlier).index
    for province in (jiangsu, guangdong):
        wait_until(
            lambda p=province: _status(p).witness.verified_size > entry_index,
            message="both witnesses to verify the entry",
        )
    national.kill()
    _rebuild(national_db, _forge_entry_of(reg.code))
    national.start()
    _active(guangdong, "440000")  # new entries: the national node signs a checkpoint of the forged tree
    for province in (jiangsu, guangdong):
        alarm = _alarm(province)
        assert alarm.kind == ps.LogAlarm.INCONSISTENT and alarm.source == "national"
        verified = Checkpoint.parse(alarm.verified_checkpoint.split("\n\n")[0] + "\n")
        conflicting = Checkpoint.parse(alarm.conflicting_checkpoint.split("\n\n")[0] + "\n")
        assert conflicting.size > verified.size  # both signed by the log: the evidence
        status = _status(province)
        applied = status.downward_applied
    # The earlier confirmation still verifies against its own checkpoint...
    confirmed = verify_confirmation(earlier, _log_keys())
    assert confirmed.entry["data_name"] == reg.content.data_name
    # ...but its entry does not prove against the rewritten log: a fresh proof shows the forgery.
    log = ls_grpc.LogServiceStub(jiangsu_channel_to_national(cluster))
    newest = log.GetCheckpoint(ls.GetCheckpointRequest(), timeout=5).tree_size
    index = confirmed.proof.index
    fresh = log.GetInclusionProof(ls.GetInclusionProofRequest(index=index, tree_size=newest), timeout=5)
    assert b"FORGED" in fresh.entry
    with pytest.raises(VerificationError) as failed:
        verify_proof(fresh.tlog_proof, _log_keys(), leaf_data=confirmed.proof.extra)
    assert failed.value.reason == "INCLUSION"
    # Against the checkpoint it signed before, the national node itself sees its data no longer fits.
    old = confirmed.proof.checkpoint.size
    with pytest.raises(grpc.RpcError) as damaged:
        log.GetInclusionProof(ls.GetInclusionProofRequest(index=index, tree_size=old), timeout=5)
    assert damaged.value.code() == grpc.StatusCode.DATA_LOSS
    # Registration goes on; the downward feed does not.
    _active(jiangsu)
    assert _status(guangdong).downward_applied == applied


def jiangsu_channel_to_national(cluster: Cluster) -> grpc.Channel:
    from tests.trust import channel

    return channel(cluster.national_address, national=True)


@pytest.mark.parametrize("national_db", ["sqlite"], indirect=True)
def test_a_truncated_log_is_caught(cluster: Cluster, national_db: str) -> None:
    national, jiangsu, guangdong = _two_witnesses(cluster, national_db)
    _active(jiangsu)
    _active(guangdong, "440000")
    for province in (jiangsu, guangdong):
        wait_until(
            lambda p=province: _status(p).witness.verified_size >= 8, message="both witnesses to verify"
        )
    size = _status(jiangsu).witness.verified_size
    national.kill()
    _rebuild(national_db, lambda entries: None, truncate_to=size // 2)
    national.start()
    for province in (jiangsu, guangdong):
        alarm = _alarm(province)
        assert alarm.kind in (ps.LogAlarm.TRUNCATED, ps.LogAlarm.INCONSISTENT), alarm
    # The operator, having investigated with the coordinators, resolves it; the record stays.
    status = ps_grpc.ProvincialServiceStub(jiangsu.channel()).ResolveLogAlarm(
        ps.ResolveLogAlarmRequest(reason="restored from backup by the coordinators; ticket 42"), timeout=5
    )
    assert not status.witness.HasField("alarm")


# -- a split view -----------------------------------------------------------------------------------


class SplitView:
    """A national node that shows Jiangsu one log and Guangdong another, both signed with the log's
    key, of the same size; it serves the directory so that the provinces know each other."""

    def __init__(self, signer: Signer, provinces: dict[str, str]) -> None:
        self.signer, self.provinces = signer, provinces
        self.trees = {
            region: [canonical({"v": 1, "kind": "demo", "who": region, "n": n}) for n in range(5)]
            for region in provinces
        }
        self.cosigned: dict[str, int] = {}

    def _tree(self, context: grpc.ServicerContext) -> list[bytes]:
        from cryptography import x509

        from common.security.identity import certificate_region

        pem = context.auth_context()["x509_pem_cert"][0]
        return self.trees[certificate_region(x509.load_pem_x509_certificate(pem))]

    @staticmethod
    def _reader(leaves: list[bytes]) -> Callable[..., dict[tuple[int, int], bytes]]:
        stored = {
            (level, index): h for level, index, h in subtrees_completed_by_batch(0, leaves, lambda k: {})
        }
        return lambda keys: {k: stored[k] for k in keys}

    def GetCheckpoint(self, request: ls.GetCheckpointRequest, context: grpc.ServicerContext) -> ls.Checkpoint:
        leaves = self._tree(context)
        root = root_hash(len(leaves), self._reader(leaves))
        note = sign_note(Checkpoint(ORIGIN, len(leaves), root).body(), [self.signer])
        return ls.Checkpoint(tree_size=len(leaves), root_hash=root, note=note)

    def GetConsistencyProof(
        self, request: ls.GetConsistencyProofRequest, context: grpc.ServicerContext
    ) -> ls.ConsistencyProof:
        leaves = self._tree(context)
        hashes = consistency_proof(request.first_size, request.second_size, self._reader(leaves))
        return ls.ConsistencyProof(hashes=hashes)

    def AddCosignature(
        self, request: ls.AddCosignatureRequest, context: grpc.ServicerContext
    ) -> ls.Checkpoint:
        self.cosigned[request.node] = request.tree_size
        return ls.Checkpoint(tree_size=request.tree_size)

    def PullChanges(self, request: object, context: grpc.ServicerContext) -> Iterator[object]:
        return iter(())  # nothing to send down

    def ListNodes(self, request: ns.ListNodesRequest, context: grpc.ServicerContext) -> ns.ListNodesResponse:
        return ns.ListNodesResponse(
            nodes=[
                node_pb2.Node(
                    name=f"nodes/{region}", region=region, mode=node_pb2.Node.OWN_NODE, address=address
                )
                for region, address in self.provinces.items()
            ]
        )


def _serve(double: SplitView, port: int) -> grpc.Server:
    local = trust()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    for module, service in ((ls, "LogService"), (ns, "NationalService"), (ss, "SyncService")):
        descriptor = module.DESCRIPTOR.services_by_name[service]
        handlers = {}
        for method in descriptor.methods:
            if not hasattr(double, method.name):
                continue
            request_class = message_factory.GetMessageClass(method.input_type)
            make = (
                grpc.unary_stream_rpc_method_handler
                if method.server_streaming
                else grpc.unary_unary_rpc_method_handler
            )
            handlers[method.name] = make(
                getattr(double, method.name),
                request_deserializer=request_class.FromString,
                response_serializer=lambda m: m.SerializeToString(),
            )
        server.add_generic_rpc_handlers(
            [grpc.method_handlers_generic_handler(descriptor.full_name, handlers)]
        )
    creds = grpc.ssl_server_credentials(
        [(local.key_file("100000").read_bytes(), local.cert_file("100000").read_bytes())],
        root_certificates=local.ca_file.read_bytes(),
        require_client_auth=True,
    )
    server.add_secure_port(f"127.0.0.1:{port}", creds)
    server.start()
    return server


def test_a_national_node_showing_two_provinces_two_histories_is_caught(cluster: Cluster) -> None:
    cluster.own_nodes = ("320000", "440000")
    jiangsu, guangdong = cluster.province("320000"), cluster.province("440000")
    ports = {"320000": free_port(), "440000": free_port()}
    for region, node in (("320000", jiangsu), ("440000", guangdong)):
        node.env["REGISTRY_LISTEN"] = f"127.0.0.1:{ports[region]}"
    double = SplitView(
        Signer.from_key(trust().log_key_file.read_text().strip()),
        {region: f"127.0.0.1:{port}" for region, port in ports.items()},
    )
    server = _serve(double, cluster.national_port)
    try:
        jiangsu.start()
        guangdong.start()
        for province, other in ((jiangsu, "nodes/440000"), (guangdong, "nodes/320000")):
            alarm = _alarm(province)
            assert alarm.kind == ps.LogAlarm.SPLIT_VIEW and alarm.source == other, alarm
            # Both checkpoints are the log's, of one size, with two roots: the proof of the lie.
            mine = Checkpoint.parse(alarm.verified_checkpoint.split("\n\n")[0] + "\n")
            theirs = Checkpoint.parse(alarm.conflicting_checkpoint.split("\n\n")[0] + "\n")
            assert mine.size == theirs.size and mine.root_hash != theirs.root_hash
    finally:
        server.stop(0)


# -- key rollover -------------------------------------------------------------------------------------


def test_the_log_key_rolls_over_and_old_confirmations_still_verify(cluster: Cluster, tmp_path: Path) -> None:
    keys = LocalTrust(tmp_path / "keys")
    keys.ensure_log_keys(["320000"])
    cluster.own_nodes = ("320000",)
    national, province = cluster.national(), cluster.province("320000")
    national.env |= {
        "REGISTRY_TRANSPARENCY__LOG_KEY_FILE": str(keys.log_key_file),
        "REGISTRY_TRANSPARENCY__WITNESS_KEYS_FILE": str(keys.witness_keys_file),
    }
    province.env |= {
        "REGISTRY_TRANSPARENCY__LOG_VERIFIER_KEYS_FILE": str(keys.log_verifier_keys_file),
        "REGISTRY_TRANSPARENCY__WITNESS_KEY_FILE": str(keys.witness_key_file("320000")),
    }
    national.start()
    province.start()
    first = _active(province)
    before = _confirmation(province, first.code, cosigned_by=1)
    [old_key] = keys.log_verifier_keys()

    national.kill()
    new_key = keys.rotate_log_key()  # log.vkeys: the new key first, the old one kept
    national.env["REGISTRY_TRANSPARENCY__OLD_VERIFIER_KEYS"] = f'["{old_key}"]'
    national.start()
    second = _active(province)
    after = _confirmation(province, second.code, cosigned_by=1)  # the witness went on, no restart

    both = keys.log_verifier_keys()
    assert both == [new_key, old_key]
    assert verify_confirmation(before, both).proof.log_key == ORIGIN
    assert verify_confirmation(after, both).entry["code"] == second.code
    with pytest.raises(VerificationError):  # the new checkpoints are the new key's alone
        verify_confirmation(after, [old_key])
    info = ls_grpc.LogServiceStub(jiangsu_channel_to_national(cluster)).GetLogInfo(
        ls.GetLogInfoRequest(), timeout=5
    )
    assert list(info.verifier_keys) == [new_key, old_key]
    assert not _status(province).witness.HasField("alarm")


# -- a witness's key ----------------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["provincial_node", "provincial_node.sync"])
def test_a_province_whose_witness_key_is_named_for_another_region_does_not_start(
    module: str, tmp_path: Path
) -> None:
    """The national node verifies Jiangsu's cosignatures with the key named for Jiangsu; a key named
    otherwise would have every cosignature refused. The node (or its stand-alone sync daemon) says so
    at once and does not start, rather than serving and witnessing nothing."""
    misnamed = tmp_path / "witness.key"
    misnamed.write_text(CosignatureSigner.generate(WITNESS_KEY_PREFIX + "440000").private_key_text() + "\n")
    env = {
        **os.environ,
        **node_env("320000"),
        "REGISTRY_REGION": "320000",
        "REGISTRY_LISTEN": "127.0.0.1:0",
        "REGISTRY_NATIONAL_ADDRESS": f"127.0.0.1:{free_port()}",
        "REGISTRY_DATABASE_URL": f"sqlite:///{tmp_path / 'province.db'}",
        "REGISTRY_TRANSPARENCY__WITNESS_KEY_FILE": str(misnamed),
    }
    result = subprocess.run(
        [sys.executable, "-m", module], env=env, capture_output=True, text=True, timeout=30, cwd=tmp_path
    )
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""  # it never announced itself as running
    assert f"'{WITNESS_KEY_PREFIX}320000'" in result.stderr and str(misnamed) in result.stderr
    assert "Traceback" not in result.stderr, result.stderr
