"""How the data is obtained, through a real federation (the national node with its indexer, Jiangsu's
node, the portal process): a product registered on the province with its access terms reaches the
national ledger, the national log (by its content hash) and the public API and page; a change of the
terms is a change application whose new version flows up the same way; bad terms are refused with the
field named, never INTERNAL.

The nodes run a simulated clock (two days per real second) so that announcements close in seconds.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import grpc
import httpx
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import registration_service_pb2 as rs
from common.gen.registry.v1 import registration_service_pb2_grpc as rs_grpc
from common.registration.content import canonical_json
from common.transparency.entry import verify_confirmation
from tests.factories import make_content, make_uscc
from tests.nodes import NodeProcess, free_port, wait_until
from tests.portal_support import portal_env
from tests.trust import token, trust

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FAST_CLOCK = {"REGISTRY_CLOCK_SPEED": "172800", "REGISTRY_DUTIES_INTERVAL": "0.2"}
OPERATOR = token("operator-zhang")
T, C = r.AccessTerms, r.AccessChannel


@dataclass
class Federation:
    national: NodeProcess
    province: NodeProcess
    portal: NodeProcess
    registrations: rs_grpc.RegistrationServiceStub
    web: httpx.Client


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    root = tmp_path_factory.mktemp("access")
    national_dir, province_dir = root / "national", root / "jiangsu"
    national_dir.mkdir()
    province_dir.mkdir()
    national_url = f"sqlite:///{national_dir / 'national.db'}"
    national = NodeProcess(
        "national_node",
        env={
            **FAST_CLOCK,
            "REGISTRY_LISTEN": f"127.0.0.1:{free_port()}",
            "REGISTRY_DATABASE_URL": national_url,
            "REGISTRY_PROVINCIAL_NODES": '[{"region": "320000"}]',
        },
        cwd=national_dir,
    ).start()
    province = NodeProcess(
        "provincial_node",
        env={
            **FAST_CLOCK,
            "REGISTRY_REGION": "320000",
            "REGISTRY_NATIONAL_ADDRESS": national.address,
            "REGISTRY_NATIONAL_TIMEOUT": "2",
            "REGISTRY_DATABASE_URL": f"sqlite:///{province_dir / 'jiangsu.db'}",
            # Announced for one working day, not ten: what is tested begins once a version is in force.
            "REGISTRY_TIME_LIMITS__ANNOUNCEMENT_DAYS": "1",
        },
        cwd=province_dir,
    ).start()
    portal = NodeProcess(
        "national_node.portal",
        env=portal_env(national.address, national_url, REGISTRY_PORTAL__READ_BURST="1000"),
        cwd=national_dir,
        ready="serving on",
    ).start()
    channel = province.channel(bearer=OPERATOR)
    with httpx.Client(base_url=portal.address, timeout=20) as web:
        yield Federation(national, province, portal, rs_grpc.RegistrationServiceStub(channel), web)
    channel.close()
    for process in (portal, province, national):
        process.kill()


def _rid() -> str:
    return str(uuid.uuid4())


def _product(data_name: str) -> r.RegistrationContent:
    """A data product with its terms: conditionally open, an API and a download, a fee list."""
    today = date.today()
    content = make_content(
        make_uscc("320106"), data_name=data_name, operation_term=(today, today + timedelta(days=5 * 365))
    )
    terms = content.access_terms
    terms.sharing_attribute = T.CONDITIONALLY_SHARED
    terms.sharing_conditions = "仅限履行市场监管职责的部门使用"
    terms.open_attribute = T.CONDITIONALLY_OPEN
    terms.open_conditions = "经实名注册并签署数据使用协议的单位"
    terms.channels.add(
        kind=C.API, uri="https://api.jsdata.example.cn/risk/v1", description="按统一社会信用代码查询"
    )
    terms.channels.add(kind=C.FILE_DOWNLOAD, uri="https://data.jsdata.example.cn/risk/monthly.csv")
    terms.contact.department = "江苏省数据集团有限公司客户服务部"
    terms.contact.phone = "025-83661234"
    terms.contact.email = "service@jsdata.example.cn"
    terms.license = "《企业经营风险画像服务数据使用协议》（2025 版）"
    terms.fees.add(name="接口调用", price_cny="0.05", unit="次")
    terms.fees.add(name="月度数据包", price_cny="12000", unit="年")
    return content


def _to_version(fed: Federation, name: str, version: int) -> r.Registration:
    """Accept, approve and announce the current application; wait until ``version`` is in force."""
    for step, request in (
        (fed.registrations.AcceptApplication, rs.AcceptApplicationRequest(name=name, request_id=_rid())),
        (fed.registrations.ApproveApplication, rs.ApproveApplicationRequest(name=name, request_id=_rid())),
        (fed.registrations.AnnounceApplication, rs.AnnounceApplicationRequest(name=name, request_id=_rid())),
    ):
        step(request, timeout=10)  # type: ignore[operator]

    def in_force() -> r.Registration | None:
        reg = fed.registrations.GetRegistration(rs.GetRegistrationRequest(name=name), timeout=10)
        return reg if reg.state == r.Registration.ACTIVE and reg.version == version else None

    return wait_until(in_force, timeout=60, message=f"version {version} in force")


def _public(fed: Federation, data_name: str, ready: Any, code: str = "") -> dict[str, Any]:
    """The registration's public record once ``ready(access_terms)`` holds (and, given ``code``, once
    the record carries it: the activation with the code may reach the ledger after the terms)."""

    def seen() -> dict[str, Any] | None:
        hits = fed.web.get("api/v1/registrations", params={"q": data_name}).json()["registrations"]
        hit = next((h for h in hits if h["data_name"] == data_name), None)
        if hit is None:
            return None
        record = fed.web.get(f"api/v1/registrations/{hit['id']}").json()
        if code and record.get("code") != code:
            return None
        return record if ready(record["access_terms"]) else None

    return wait_until(seen, timeout=60, message="the public record")


def _found(fed: Federation, **filters: str) -> set[str]:
    answer = fed.web.get("api/v1/registrations", params={"page_size": 100, **filters})
    assert answer.status_code == 200, answer.text
    return {h["data_name"] for h in answer.json()["registrations"]}


def _visible(page: str) -> str:
    main = page.split('<main id="main"', 1)[1].split("</main>", 1)[0]
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]*>", "", main.split(">", 1)[1]))).strip()


def _verified(fed: Federation, code: str, content: r.RegistrationContent) -> dict[str, Any]:
    """The national log's entry of ``code``, checked against the canonical form of ``content``."""
    # The search index follows the national log: the code is found there a moment after the ledger.
    file = wait_until(
        lambda: (f := fed.web.get(f"api/v1/codes/{code}/confirmation")).status_code == 200 and f,
        timeout=30,
        message=f"the confirmation of {code}",
    )
    keys = trust().log_verifier_keys_file.read_text().split()
    return verify_confirmation(file.text, keys, content=canonical_json(content).encode()).entry


def test_terms_registered_on_a_province_reach_the_ledger_the_log_and_the_public_and_a_change_follows(
    fed: Federation,
) -> None:
    data_name = "企业经营风险画像服务"
    created = fed.registrations.CreateRegistration(
        rs.CreateRegistrationRequest(
            parent="nodes/320000",
            registration=r.Registration(object_type=r.DATA_PRODUCT_OR_SERVICE, content=_product(data_name)),
            request_id=_rid(),
        ),
        timeout=10,
    )
    first = _to_version(fed, created.name, 1)
    assert first.content.access_terms.fees[1].price_cny == "12000"

    # The national ledger's record, as the public API reads it.
    record = _public(fed, data_name, lambda terms: terms["stated"], first.code)
    terms = record["access_terms"]
    assert (terms["sharing_attribute"], terms["sharing_attribute_label"]) == (
        "CONDITIONALLY_SHARED",
        "有条件共享",
    )
    assert terms["sharing_conditions"] == "仅限履行市场监管职责的部门使用"
    assert (terms["open_attribute"], terms["open_attribute_label"]) == ("CONDITIONALLY_OPEN", "有条件开放")
    assert [(c["kind"], c["kind_label"], c["linkable"]) for c in terms["channels"]] == [
        ("API", "接口调用", True),
        ("FILE_DOWNLOAD", "文件下载", True),
    ]
    assert terms["contact"] == {
        "department": "江苏省数据集团有限公司客户服务部",
        "phone": "025-83661234",
        "email": "service@jsdata.example.cn",
    }
    assert terms["fees"] == [
        {"name": "接口调用", "price_cny": "0.05", "unit": "次"},
        {"name": "月度数据包", "price_cny": "12000", "unit": "年"},
    ]
    # The national log holds the content with its terms: the confirmation checks against it.
    assert _verified(fed, first.code, first.content)["version"] == 1
    # The page: 如何获取, the channels as links, the fee list.
    page = fed.web.get(f"registrations/{record['id']}").text
    text = _visible(page)
    assert (
        "如何获取" in text and "有条件开放" in text and "开放条件：经实名注册并签署数据使用协议的单位" in text
    )
    assert '<a href="https://api.jsdata.example.cn/risk/v1" rel="nofollow noopener noreferrer">' in page
    fees = re.findall(r"<tr><td>([^<]*)</td><td class=\"price\">([^<]*)</td><td>([^<]*)</td></tr>", page)
    assert fees == [("接口调用", "0.05", "次"), ("月度数据包", "12000", "年")]
    assert "不予开放" not in text
    assert data_name in _found(fed, open_attribute="CONDITIONALLY_OPEN", channel_kind="API")

    # A change of the terms: no longer open, on request only, a new fee.
    changed = r.RegistrationContent()
    changed.CopyFrom(first.content)
    terms_pb = changed.access_terms
    terms_pb.open_attribute = T.NOT_OPEN
    terms_pb.open_conditions = ""
    terms_pb.not_open_reason = "含有企业商业秘密，仅依申请向金融机构提供"
    del terms_pb.channels[:]
    terms_pb.channels.add(kind=C.ON_REQUEST, description="向客户服务部提交书面申请")
    terms_pb.fees[0].price_cny = "0.08"
    fed.registrations.SubmitApplication(
        rs.SubmitApplicationRequest(
            name=created.name, type=r.CHANGE, content=changed, reason="调整开放方式", request_id=_rid()
        ),
        timeout=10,
    )
    # While the change is under way, the public sees the terms in force.
    assert (
        _public(fed, data_name, lambda t: t["stated"])["access_terms"]["open_attribute"]
        == "CONDITIONALLY_OPEN"
    )
    second = _to_version(fed, created.name, 2)
    assert second.code == first.code

    record = _public(fed, data_name, lambda t: t["open_attribute"] == "NOT_OPEN")
    terms = record["access_terms"]
    assert terms["not_open_reason"] == "含有企业商业秘密，仅依申请向金融机构提供"
    assert [c["kind"] for c in terms["channels"]] == ["ON_REQUEST"]
    assert terms["fees"][0]["price_cny"] == "0.08"
    assert "变更登记生效" in [event["label"] for event in record["history"]]
    entry = _verified(fed, second.code, second.content)
    assert entry["version"] == 2
    text = _visible(fed.web.get(f"registrations/{record['id']}").text)
    assert "本数据不予开放：含有企业商业秘密，仅依申请向金融机构提供" in text
    assert "依申请获取" in text and "https://api.jsdata.example.cn" not in text
    # The index follows the change: the filters find it by its new terms only.
    wait_until(
        lambda: data_name in _found(fed, open_attribute="NOT_OPEN", channel_kind="ON_REQUEST"),
        timeout=30,
        message="the index's new terms",
    )
    assert data_name not in _found(fed, open_attribute="CONDITIONALLY_OPEN")
    assert data_name not in _found(fed, channel_kind="API")


def _violations(error: grpc.RpcError) -> dict[str, str]:
    assert isinstance(error, grpc.Call)
    status = rpc_status.from_call(error)
    assert status is not None
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            request = error_details_pb2.BadRequest()
            detail.Unpack(request)
            return {v.field: v.reason for v in request.field_violations}
    raise AssertionError("no BadRequest in the status")


def test_bad_terms_are_refused_with_every_field_named_and_nothing_is_registered(fed: Federation) -> None:
    content = make_content(make_uscc("320106"), data_name="南京市公共停车泊位实时数据")
    terms = content.access_terms
    terms.sharing_attribute = T.NOT_SHARED  # and no legal basis
    terms.open_attribute = T.UNCONDITIONALLY_OPEN
    terms.channels.add(kind=C.API, uri="api.example.cn/parking")  # no scheme
    terms.contact.department = "南京市交通运输局"  # neither telephone nor e-mail
    terms.fees.add(name="接口调用", price_cny="-1", unit="次")  # negative, and a resource has no fees
    terms.license = "许" * 2001
    before = fed.registrations.ListRegistrations(
        rs.ListRegistrationsRequest(parent="nodes/320000", page_size=100), timeout=10
    )
    with pytest.raises(grpc.RpcError) as caught:
        fed.registrations.CreateRegistration(
            rs.CreateRegistrationRequest(
                parent="nodes/320000",
                registration=r.Registration(object_type=r.PUBLIC_DATA_RESOURCE, content=content),
                request_id=_rid(),
            ),
            timeout=10,
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    p = "registration.content.access_terms."
    assert _violations(caught.value) == {
        p + "not_shared_basis": "FIELD_REQUIRED",
        p + "channels[0].uri": "FIELD_MALFORMED",
        p + "contact": "FIELD_REQUIRED",
        p + "license": "FIELD_TOO_LONG",
        p + "fees[0].price_cny": "FIELD_OUT_OF_RANGE",
        p + "fees": "FIELD_NOT_ALLOWED",
    }
    after = fed.registrations.ListRegistrations(
        rs.ListRegistrationsRequest(parent="nodes/320000", page_size=100), timeout=10
    )
    assert len(after.registrations) == len(before.registrations)
