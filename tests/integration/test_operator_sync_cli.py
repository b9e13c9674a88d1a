"""``registryctl sync ...`` and ``registryctl ledger`` against REAL node processes.

A national node and provincial nodes run as processes on SQLite files (``tests.integration.test_sync``'s
:class:`Cluster`); every call goes through the CLI, in-process via typer's runner, over real sockets.
The disagreement is made the way it happens in practice: the province is stopped (kill -9) and its
database is changed behind its back, as a restore from an old backup would.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from google.protobuf.message import Message
from typer.testing import CliRunner

from common import codes
from common.gen.registry.v1 import provincial_service_pb2 as ps
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import sync_pb2
from common.gen.registry.v1 import sync_service_pb2 as ss
from common.registryctl import EXIT_DIFFERS, app
from tests.factories import make_uscc
from tests.integration.test_sync import Cluster
from tests.nodes import wait_until
from tests.trust import token, trust

pytestmark = [pytest.mark.integration, pytest.mark.slow]

APPLICATION = Path(__file__).resolve().parents[2] / "deploy" / "examples" / "application.toml"
#: registryctl's mutual TLS: the tests' CA and the tool certificate "tester".
TRUST_OPTIONS = (
    "--ca",
    str(trust().ca_file),
    "--cert",
    str(trust().client_cert_file("tester")),
    "--key",
    str(trust().client_key_file("tester")),
)
# Long enough for a proof of agreement (the node allows itself 3 x REGISTRY_NATIONAL_TIMEOUT = 9 s).
TIMEOUT = "30"


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    # Announced for one working day, not ten: what is tested begins once a registration is coded.
    c = Cluster(tmp_path, node_env={"REGISTRY_TIME_LIMITS__ANNOUNCEMENT_DAYS": "1"})
    try:
        yield c
    finally:
        for process in c.processes:
            process.kill()


@pytest.fixture
def runner() -> CliRunner:
    # No REGISTRY_* settings leak in from the environment running the tests.
    return CliRunner(
        env={
            "REGISTRY_NODE": None,
            "REGISTRY_NATIONAL": None,
            "REGISTRY_TOKEN": None,
            "REGISTRY_REGION": None,
            "COLUMNS": "200",
        }
    )


class Cli:
    """``registryctl`` with --node / --national pointing at the cluster."""

    def __init__(self, runner: CliRunner, cluster: Cluster, node: str) -> None:
        self.runner, self.cluster, self.node = runner, cluster, node

    def __call__(self, *args: str, node: str | None = None) -> Any:
        return self.runner.invoke(
            app,
            [
                "--node",
                node or self.node,
                "--national",
                self.cluster.national_address,
                *TRUST_OPTIONS,
                "--token",
                token("operator-li"),
                "--timeout",
                TIMEOUT,
                *args,
            ],
        )

    def json(self, message: Message, *args: str, node: str | None = None) -> Any:
        """Run ``--json ARGS``, expect exit 0, and parse stdout into ``message``."""
        result = self("--json", *args, node=node)
        assert result.exit_code == 0, result.output
        return json_format.ParseDict(json.loads(result.stdout), message)

    def states(self) -> dict[str, sync_pb2.SyncState]:
        response = self.json(ss.ListSyncStatesResponse(), "sync", "status")
        return {state.node: state for state in response.states}


def _sql(db_file: Path, statement: str, *parameters: object) -> Any:
    """One statement on a node's SQLite file, committed; the connection is closed."""
    with closing(sqlite3.connect(db_file)) as conn, conn:
        return conn.execute(statement, parameters).fetchone()


def _head(db_file: Path) -> int:
    return _sql(db_file, "SELECT coalesce(max(sequence), 0) FROM changes")[0]


def _row(db_file: Path, uid: str) -> tuple[int, str]:
    return _sql(db_file, "SELECT revision, digest FROM registrations WHERE uid = ?", uid)


def _caught_up(cli: Cli, region: str, head: int) -> sync_pb2.SyncState | None:
    state = cli.states().get(f"nodes/{region}")
    if state is not None and state.acknowledged_sequence == state.head_sequence == head:
        return state
    return None


# -- status, check, and a repair -------------------------------------------------------------------


def test_status_check_and_repair_of_a_province_that_went_back_in_time(
    runner: CliRunner, cluster: Cluster
) -> None:
    cluster.national().start()
    province = cluster.province("320000").start()
    cli = Cli(runner, cluster, province.address)
    province_db = cluster.root / "320000.db"

    # A registration made on the province, through the CLI.
    created = cli.json(r.Registration(), "apply", str(APPLICATION), "--region", "320000")
    assert created.name.startswith("nodes/320000/registrations/") and created.uid
    head = _head(province_db)
    assert head >= 1
    state = wait_until(
        lambda: _caught_up(cli, "320000", head), timeout=30, message="the national node to acknowledge"
    )
    assert (state.lag_changes, state.lag_seconds, state.last_error, state.refused_changes) == (0, 0, "", 0)
    assert state.last_contact_time.seconds > 0

    # The table the coordinator reads: the province, caught up.
    table = cli("sync", "status")
    assert table.exit_code == 0, table.output
    [row] = [line for line in table.stdout.splitlines() if "nodes/320000" in line]
    assert re.search(rf"nodes/320000\s+{head}\s+{head}\s+0\s+0 s\s", row), row
    assert "1 node: all caught up" in table.stdout
    one = cli("sync", "status", "320000")
    assert one.exit_code == 0 and "nodes/320000" in one.stdout, one.output

    # The province's own view of its link.
    local = cli.json(ps.SyncStatus(), "sync", "status", "--node-status")
    assert (local.node, local.head_sequence, local.daemon_in_process) == ("nodes/320000", head, True)
    local_text = cli("sync", "status", "--node-status")
    assert local_text.exit_code == 0 and "in the node's process" in local_text.stdout, local_text.output

    # In agreement.
    check = cli("sync", "check")
    assert check.exit_code == 0, check.output
    assert re.fullmatch(r"in agreement \(\d+ ranges? compared\)\n", check.stdout), check.stdout
    report = cli.json(ps.AgreementReport(), "sync", "check")
    assert report.in_agreement and report.ranges_compared >= 1

    # The province goes back in time behind its own back: one registration one revision older, with
    # another digest (what a restore from an old backup looks like to the proof of agreement).
    revision, digest = _row(province_db, created.uid)
    province.kill()
    _sql(
        province_db,
        "UPDATE registrations SET digest = 'x', revision = revision - 1 WHERE uid = ?",
        created.uid,
    )
    # Restarted with the sync daemon NOT running: nothing but the operator's check touches the link.
    province = cluster.province("320000", in_process=False).start()
    cli.node = province.address

    differs = cli("sync", "check")
    assert differs.exit_code == EXIT_DIFFERS, differs.output
    assert "differs from the national ledger in 1 range (of 1 compared)" in differs.stdout
    assert created.uid in differs.stdout
    listed = f"the national ledger holds newer (or this node lacks): 1 registration (uid)\n  {created.uid}\n"
    assert listed in differs.stdout
    assert "registryctl sync check --repair" in differs.stdout
    assert differs.stderr == ""
    as_json = cli("--json", "sync", "check")
    assert as_json.exit_code == EXIT_DIFFERS, as_json.output
    found = json_format.ParseDict(json.loads(as_json.stdout), ps.AgreementReport())
    assert not found.in_agreement and not found.repaired
    assert (list(found.ledger_newer), list(found.node_newer)) == ([created.uid], [])
    assert [d.prefix for d in found.differing_ranges] == [created.uid[:2]]

    repaired = cli("sync", "check", "--repair")
    assert repaired.exit_code == 0, repaired.output
    assert created.uid in repaired.stdout
    assert "repaired: 1 taken from the national ledger, 0 queued to be sent up" in repaired.stdout
    assert "run `registryctl sync check` again" in repaired.stdout
    assert _row(province_db, created.uid) == (revision, digest)

    again = cli("sync", "check")
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith("in agreement (")


def test_check_against_the_national_node_says_it_does_not_serve_the_call(
    runner: CliRunner, cluster: Cluster
) -> None:
    cluster.national().start()
    cli = Cli(runner, cluster, cluster.national_address)

    result = cli("sync", "check")

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: UNIMPLEMENTED")
    assert f"the server at {cluster.national_address} does not serve this call" in result.stderr


# -- onboarding ------------------------------------------------------------------------------------


def test_onboarding_hands_over_what_the_national_node_registered_by_proxy(
    runner: CliRunner, cluster: Cluster, tmp_path: Path
) -> None:
    national = cluster.national().start()
    cli = Cli(runner, cluster, national.address)
    assert "nodes/440000" not in cli.states()
    # Guangdong has no node yet: the national node registers a Guangdong subject by proxy.
    application = tmp_path / "guangdong.toml"
    application.write_text(
        APPLICATION.read_text(encoding="utf-8").replace("12320106MB1C584759", make_uscc("440305")),
        encoding="utf-8",
    )
    proxied = cli.json(r.Registration(), "apply", str(application), "--region", "100000")
    assert proxied.name.startswith("nodes/100000/")

    guangdong = cluster.province("440000").start()
    onboarded = cli("sync", "onboard", "440000", "--address", guangdong.address)
    assert onboarded.exit_code == 0, onboarded.output
    assert f"nodes/440000 onboarded at {guangdong.address}: 1 registration handed over" in onboarded.stdout
    # Safe to repeat: nothing is left to hand over.
    repeated = cli.json(ss.OnboardNodeResponse(), "sync", "onboard", "440000", "--address", guangdong.address)
    assert repeated.handed_over == 0 and repeated.downward_head == 1

    # The handover reaches Guangdong, under its own name, and the coordinator sees the new node.
    moved = proxied.name.replace("nodes/100000", "nodes/440000")
    wait_until(
        lambda: (
            cli("show", moved, "--no-history", node=guangdong.address).exit_code == 0
            and cli.states()["nodes/440000"].downward_acknowledged == 1
        ),
        timeout=30,
        message="the handover to reach Guangdong",
    )
    table = cli("sync", "status")
    assert table.exit_code == 0, table.output
    assert "nodes/440000" in table.stdout and "nodes/320000" in table.stdout


def test_onboarding_a_region_with_nothing_registered_by_proxy_hands_over_nothing(
    runner: CliRunner, cluster: Cluster
) -> None:
    cluster.national().start()
    cli = Cli(runner, cluster, cluster.national_address)

    response = cli.json(ss.OnboardNodeResponse(), "sync", "onboard", "440000", "--address", "127.0.0.1:50444")

    assert (response.handed_over, response.downward_head) == (0, 0)
    assert "nodes/440000" in cli.states()


# -- the ledger and a transfer ---------------------------------------------------------------------


def test_ledger_lookup_and_a_transfer_of_a_coded_registration(runner: CliRunner, cluster: Cluster) -> None:
    cluster.own_nodes = ("320000", "440000")
    cluster.national().start()
    province = cluster.province("320000").start()
    cli = Cli(runner, cluster, province.address)
    created = cli.json(r.Registration(), "apply", str(APPLICATION), "--region", "320000")
    for step in ("accept", "approve", "announce"):
        result = cli(step, created.name)
        assert result.exit_code == 0, result.output

    def coded() -> str:
        shown = cli("--json", "show", created.name, "--no-history")
        assert shown.exit_code == 0, shown.output
        registration = json_format.ParseDict(json.loads(shown.stdout)["registration"], r.Registration())
        return registration.code if registration.state == r.Registration.ACTIVE else ""

    code = wait_until(coded, timeout=60, message="the registration to be coded")
    record = wait_until(
        lambda: (
            (found := cli("--json", "ledger", code)).exit_code == 0
            and json_format.ParseDict(json.loads(found.stdout), sync_pb2.RegistrationRecord())
        ),
        timeout=30,
        message="the coded registration to reach the ledger",
    )
    assert record.registration.managing_node == "nodes/320000" and record.revision >= 1

    shown = cli("ledger", code, "--history")
    assert shown.exit_code == 0, shown.output
    for text in (code, created.uid, "nodes/320000", "revision", "History", "登记结果确认单"):
        assert text in shown.stdout, text

    # Guangdong runs no node in this cluster yet: the transfer waits for its confirmation.
    transfer = cli("sync", "transfer", code, "--to", "440000", "--request-id", "move-1")
    assert transfer.exit_code == 0, transfer.output
    for text in ("PENDING", "nodes/320000", "nodes/440000", code, "until nodes/440000 confirms it"):
        assert text in transfer.stdout, text
    first = cli.json(ss.Transfer(), "sync", "transfer", code, "--to", "440000", "--request-id", "move-1")
    assert (first.code, first.from_node, first.to_node, first.state) == (
        code,
        "nodes/320000",
        "nodes/440000",
        ss.Transfer.PENDING,
    )
    assert first.id in transfer.stdout  # the retry with the same request id is the same transfer
    # A fresh request id is a second transfer, which the national node refuses while one is pending.
    refused = cli("sync", "transfer", code, "--to", "440000")
    assert refused.exit_code == 1 and refused.stdout == ""
    assert refused.stderr.startswith("error: FAILED_PRECONDITION (TRANSFER_PENDING)"), refused.stderr

    # A well-formed code the ledger does not hold, and a malformed one: the registry's reasons, exit 1.
    unknown = cli("ledger", codes.generate(1, "320000", 2026, 999))
    assert unknown.exit_code == 1 and unknown.stdout == ""
    assert unknown.stderr.startswith("error: NOT_FOUND (LEDGER_ENTRY_NOT_FOUND)"), unknown.stderr
    malformed = cli("ledger", code[:-1] + ("0" if code[-1] != "0" else "1"))
    assert malformed.exit_code == 1
    assert malformed.stderr.startswith("error: INVALID_ARGUMENT"), malformed.stderr
