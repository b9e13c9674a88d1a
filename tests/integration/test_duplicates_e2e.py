"""Duplicate detection before coding, across real node processes over real gRPC: a province asks the
national node (NationalService.FindDuplicates) when a clerk first accepts an application; the clerk
sees the candidates with `registryctl show` and accepts with `--acknowledge-duplicates`. Only nodes
may ask; a national node that cannot be reached does not stop a province accepting."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from stdnum.cn import uscc as stdnum_uscc

from common.gen.registry.v1 import national_service_pb2 as ns
from common.gen.registry.v1 import national_service_pb2_grpc as ns_grpc
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import registration_service_pb2 as rs
from common.gen.registry.v1 import registration_service_pb2_grpc as rs_grpc
from tests.factories import make_content, make_uscc
from tests.integration.test_registration_e2e import FAST_CLOCK, Federation, _error, start_federation
from tests.nodes import NodeProcess, free_port, registryctl, wait_until
from tests.proxy import Proxy
from tests.trust import channel, token

pytestmark = [pytest.mark.integration, pytest.mark.slow]

C = r.DuplicateCandidate
SUBJECT = make_uscc("320106")


def _related(uscc: str, division: str) -> str:
    """The same organisation code (USCC characters 9-17) under another registration authority."""
    body = uscc[:2] + division + uscc[8:17]
    return body + stdnum_uscc.calc_check_digit(body)


MOVED = _related(SUBJECT, "320115")
APPLICANT = token("wang.wu", ("applicant",), (SUBJECT, MOVED))
CLERK = token("张三", ("clerk",))
REVIEWER = token("李四", ("reviewer",))
REGISTRAR = token("zhao.liu", ("registrar",))


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    """Jiangsu's node and the national node with the built-in policy, as deployed."""
    started = start_federation(tmp_path_factory.mktemp("duplicates"), strict=True)
    yield started
    started.province.kill()
    started.national.kill()


def _stub(node: NodeProcess, bearer: str) -> rs_grpc.RegistrationServiceStub:
    return rs_grpc.RegistrationServiceStub(node.channel(bearer=bearer))


def _apply(fed: Federation, uscc: str, data_name: str) -> r.Registration:
    return _stub(fed.province, APPLICANT).CreateRegistration(
        rs.CreateRegistrationRequest(
            parent="nodes/320000",
            registration=r.Registration(object_type=1, content=make_content(uscc, data_name=data_name)),
            request_id=str(uuid.uuid4()),
        ),
        timeout=10,
    )


def _accept(node: NodeProcess, name: str, *, acknowledge: bool = False) -> r.Registration:
    return _stub(node, CLERK).AcceptApplication(
        rs.AcceptApplicationRequest(
            name=name, request_id=str(uuid.uuid4()), acknowledge_duplicates=acknowledge
        ),
        timeout=10,
    )


def _ctl(
    node: NodeProcess, bearer: str, *args: str, json_output: bool = True
) -> subprocess.CompletedProcess[str]:
    return registryctl(node.address, *args, bearer=bearer, json_output=json_output)


def _find(address: str, uscc: str, data_name: str, **channel_as: str) -> ns.FindDuplicatesResponse:
    stub = ns_grpc.NationalServiceStub(channel(address, **channel_as))
    body = make_content(uscc, data_name=data_name)
    return stub.FindDuplicates(ns.FindDuplicatesRequest(content=body), timeout=10)


def test_a_near_duplicate_of_a_coded_registration_waits_for_the_clerk_to_acknowledge_it(
    federation: Federation,
) -> None:
    fed = federation
    province = fed.province
    # The first of its kind in the country: nothing to flag.
    first = _apply(fed, SUBJECT, "南京市公共交通刷卡数据").name
    accepted = _accept(province, first).current_application
    assert accepted.duplicates_checked and not accepted.possible_duplicates
    assert not accepted.duplicate_check_error
    _stub(province, REVIEWER).ApproveApplication(
        rs.ApproveApplicationRequest(name=first, request_id=str(uuid.uuid4())), timeout=10
    )
    _stub(province, REGISTRAR).AnnounceApplication(
        rs.AnnounceApplicationRequest(name=first, request_id=str(uuid.uuid4())), timeout=10
    )
    code = wait_until(
        lambda: (
            _stub(province, CLERK).GetRegistration(rs.GetRegistrationRequest(name=first), timeout=10).code
        ),
        timeout=90,
        message="the first registration to be coded",
    )
    # The national ledger has it, coded, once the province has synced.
    wait_until(
        lambda: (
            [
                c.code
                for c in _find(fed.national.address, SUBJECT, "南京公交刷卡记录", node="320000").candidates
            ]
            == [code]
        ),
        timeout=30,
        message="the national ledger to hold the coded registration",
    )

    # The same data again, by the unit under its new USCC (same organisation code): refused until
    # acknowledged, and the candidates stay on the application.
    second = _apply(fed, MOVED, "南京市公共交通刷卡数据集").name
    with pytest.raises(grpc.RpcError) as caught:
        _accept(province, second)
    status, reason, metadata, _ = _error(caught.value)
    assert (status, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "POSSIBLE_DUPLICATES")
    assert metadata["count"] == "1" and metadata["codes"] == code and metadata["registrations"] == first

    shown = _ctl(province, CLERK, "show", second)
    assert shown.returncode == 0, shown.stderr
    application = json.loads(shown.stdout)["registration"]["current_application"]
    assert application["state"] == "SUBMITTED" and application["duplicates_checked"]
    [candidate] = application["possible_duplicates"]
    assert (candidate["code"], candidate["registration"], candidate["reason"]) == (
        code,
        first,
        "RELATED_SUBJECT_SAME_NAME",
    )
    assert candidate["similarity"] == 1.0 and candidate["subject"]["uscc"] == SUBJECT
    table = _ctl(province, CLERK, "show", second, json_output=False)
    assert table.returncode == 0, table.stderr
    assert "Possible duplicates" in table.stdout and code in table.stdout
    assert "related subject" in table.stdout and "--acknowledge-duplicates" in table.stdout

    again = _ctl(province, CLERK, "accept", second, json_output=False)
    assert again.returncode == 1 and "POSSIBLE_DUPLICATES" in again.stderr and code in again.stderr
    done = _ctl(province, CLERK, "accept", second, "--acknowledge-duplicates")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["current_application"]["state"] == "UNDER_REVIEW"
    history = json.loads(_ctl(province, CLERK, "show", second).stdout)["history"]
    assert [e["action"] for e in history] == ["submit", "find_duplicates", "accept"]
    assert history[-1]["actor"] == "张三"
    assert "acknowledged 1 possible duplicate" in history[-1]["reason"] and code in history[-1]["reason"]

    # The same subject with a similar name is flagged too.
    third = _apply(fed, SUBJECT, "南京市公交刷卡数据集").name
    with pytest.raises(grpc.RpcError) as similar:
        _accept(province, third)
    assert _error(similar.value)[1] == "POSSIBLE_DUPLICATES"
    [flagged] = (
        _stub(province, CLERK)
        .GetRegistration(rs.GetRegistrationRequest(name=third), timeout=10)
        .current_application.possible_duplicates
    )
    assert (flagged.code, flagged.reason) == (code, C.SAME_SUBJECT_SIMILAR_NAME)
    assert 0.55 <= flagged.similarity < 1.0


def test_only_nodes_may_ask_for_duplicates(federation: Federation) -> None:
    address = federation.national.address
    for caller, expected in (
        ({}, grpc.StatusCode.UNAUTHENTICATED),
        ({"bearer": CLERK}, grpc.StatusCode.PERMISSION_DENIED),
        ({"bearer": APPLICANT}, grpc.StatusCode.PERMISSION_DENIED),
        ({"bearer": token("auditor", ("auditor",))}, grpc.StatusCode.PERMISSION_DENIED),
    ):
        with pytest.raises(grpc.RpcError) as caught:
            _find(address, SUBJECT, "南京市公共交通刷卡数据", **caller)
        assert caught.value.code() == expected, caller
    assert isinstance(
        _find(address, SUBJECT, "南京市公共交通刷卡数据", node="440000"), ns.FindDuplicatesResponse
    )
    # A malformed request from a node is INVALID_ARGUMENT naming the field, never INTERNAL.
    stub = ns_grpc.NationalServiceStub(channel(address, node="320000"))
    with pytest.raises(grpc.RpcError) as bad:
        stub.FindDuplicates(
            ns.FindDuplicatesRequest(content=r.RegistrationContent(data_name="x")), timeout=10
        )
    status, reason, _, fields = _error(bad.value)
    assert status == grpc.StatusCode.INVALID_ARGUMENT and fields == ["content.subject.uscc"]


def test_a_national_node_that_cannot_be_reached_does_not_block_acceptance(tmp_path: Path) -> None:
    national = NodeProcess(
        "national_node",
        env={
            **FAST_CLOCK,
            "REGISTRY_LISTEN": f"127.0.0.1:{free_port()}",
            "REGISTRY_DATABASE_URL": f"sqlite:///{tmp_path / 'national.db'}",
            "REGISTRY_PROVINCIAL_NODES": '[{"region": "320000"}]',
        },
        cwd=tmp_path,
    ).start()
    proxy = Proxy(national.address)
    province = NodeProcess(
        "provincial_node",
        env={
            **FAST_CLOCK,
            "REGISTRY_REGION": "320000",
            "REGISTRY_NATIONAL_ADDRESS": proxy.address,
            "REGISTRY_NATIONAL_TIMEOUT": "2",
            "REGISTRY_DATABASE_URL": f"sqlite:///{tmp_path / 'jiangsu.db'}",
        },
        cwd=tmp_path,
    ).start()
    try:
        stub = rs_grpc.RegistrationServiceStub(province.channel())
        names = [
            stub.CreateRegistration(
                rs.CreateRegistrationRequest(
                    parent="nodes/320000",
                    registration=r.Registration(object_type=1, content=make_content(SUBJECT)),
                    request_id=str(uuid.uuid4()),
                ),
                timeout=10,
            ).name
            for _ in range(2)
        ]
        proxy.set("drop")  # a partition: packets lost, nothing answers
        for name, within in zip(names, (5.0, 1.0), strict=True):
            started = time.monotonic()
            accepted = stub.AcceptApplication(
                rs.AcceptApplicationRequest(name=name, request_id=str(uuid.uuid4())), timeout=10
            )
            took = time.monotonic() - started
            application = accepted.current_application
            assert application.state == r.Application.UNDER_REVIEW
            assert application.duplicates_checked and not application.possible_duplicates
            error = application.duplicate_check_error
            assert error.split(":")[0] in ("DEADLINE_EXCEEDED", "UNAVAILABLE", "CANCELLED"), error
            # The first waits for the check's deadline; the next is not held up again for a while.
            assert took < within, (name, took, error)
            history = stub.ListHistory(rs.ListHistoryRequest(parent=name), timeout=10).entries
            assert history[-1].action == "accept" and "duplicate check not done" in history[-1].reason
            shown = _ctl(province, token(), "show", name, json_output=False)
            assert shown.returncode == 0 and "duplicate check" in shown.stdout, shown.stderr
            assert "not done: " in shown.stdout, shown.stdout
        assert "not asked" in error
    finally:
        province.kill()
        proxy.close()
        national.kill()


def test_the_national_node_checks_its_own_registrations_in_process(federation: Federation) -> None:
    central = make_uscc("110000", department="1", category="1")
    applicant = token("li.si", ("applicant",), (central,))
    national = _stub(federation.national, applicant)

    def apply(data_name: str) -> str:
        body = make_content(central, central=True, data_name=data_name)
        return national.CreateRegistration(
            rs.CreateRegistrationRequest(
                parent="nodes/100000",
                registration=r.Registration(object_type=1, content=body),
                request_id=str(uuid.uuid4()),
            ),
            timeout=10,
        ).name

    first = apply("全国企业登记数据")
    assert _accept(federation.national, first).current_application.duplicates_checked
    second = apply("全国企业登记信息库")
    with pytest.raises(grpc.RpcError) as caught:
        _accept(federation.national, second)
    status, reason, metadata, _ = _error(caught.value)
    assert (status, reason, metadata["registrations"]) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "POSSIBLE_DUPLICATES",
        first,
    )
    accepted = _accept(federation.national, second, acknowledge=True).current_application
    assert accepted.state == r.Application.UNDER_REVIEW
    assert [c.registration for c in accepted.possible_duplicates] == [first]
