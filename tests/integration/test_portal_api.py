"""The portal's JSON API against a real federation (national node, Jiangsu's node, the portal process):
every endpoint, bad input answered with the field named, paging while the ledger changes, ETag and
Cache-Control, the rate limit, and objections reaching the province that decides them."""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from xml.etree import ElementTree

import ckanapi
import grpc
import httpx
import pyshacl
import pytest
import rdflib
import schemathesis
from google.type import date_pb2
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.config import SchemathesisConfig

from common.gen.registry.v1 import disclosure_pb2 as ds
from common.gen.registry.v1 import disclosure_service_pb2 as dss
from common.gen.registry.v1 import disclosure_service_pb2_grpc as dss_grpc
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import registration_service_pb2 as rs
from common.transparency.entry import verify_confirmation
from tests.factories import make_uscc
from tests.nodes import NodeProcess, registryctl, wait_until
from tests.portal_support import PortalFederation, Seed, portal_env, start_portal_federation
from tests.trust import metadata, node_env, token, trust

pytestmark = [pytest.mark.integration, pytest.mark.slow]

_T, _C = r.AccessTerms, r.AccessChannel
SEEDS = [
    Seed(
        "江苏省逐小时地面气象观测数据",
        subject_name="江苏省气象局",
        update_frequency="实时",
        access_terms=_T(
            sharing_attribute=_T.UNCONDITIONALLY_SHARED,
            open_attribute=_T.UNCONDITIONALLY_OPEN,
            channels=[
                _C(kind=_C.API, uri="https://api.weather.js.example.cn/v1"),
                _C(kind=_C.FILE_DOWNLOAD, uri="https://data.weather.js.example.cn/hourly.csv"),
            ],
            contact=r.ContactPoint(department="江苏省气象局数据处", phone="025-83287000"),
        ),
    ),
    Seed(
        "南京市气象灾害预警信息",
        subject_name="南京市气象局",
        update_frequency="实时",
        object_type=3,
        access_terms=_T(
            open_attribute=_T.CONDITIONALLY_OPEN,
            open_conditions="注册并承诺不改变预警内容",
            channels=[_C(kind=_C.FILE_DOWNLOAD, uri="https://data.weather.nj.example.cn/alerts.csv")],
        ),
    ),
    Seed(
        "南京市医保结算明细数据",
        subject_name="南京市医疗保障局",
        access_terms=_T(
            sharing_attribute=_T.NOT_SHARED,
            not_shared_basis="《医疗保障基金使用监督管理条例》第十九条",
            open_attribute=_T.NOT_OPEN,
            not_open_reason="含有参保人员个人信息",
            channels=[_C(kind=_C.ON_REQUEST, description="向市医保局提交书面申请")],
        ),
    ),
    Seed(
        "全省医保定点医药机构目录",
        subject_name="江苏省医疗保障局",
        update_frequency="每月",
        stage="announced",
    ),
    Seed(
        "全省中医保健服务机构名录",
        subject_name="江苏省卫生健康委员会",
        update_frequency="每月",
        stage="announced",
    ),
    Seed("苏州市公共交通刷卡数据", subject_name="苏州市交通运输局", stage="announced"),
    Seed("无锡市不动产登记簿数据", subject_name="无锡市自然资源和规划局", stage="submitted"),
]


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalFederation]:
    # Limits high enough for the tests of other things (the rate limit's own test starts a portal).
    limits = {"REGISTRY_PORTAL__OBJECTION_BURST": "100", "REGISTRY_PORTAL__READ_BURST": "1000"}
    federation = start_portal_federation(tmp_path_factory.mktemp("portal"), SEEDS, portal=limits)
    yield federation
    federation.stop()


@pytest.fixture
def api(fed: PortalFederation) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fed.url + "api/v1", timeout=20) as client:
        yield client


def _find(api: httpx.Client, data_name: str) -> dict:
    hits = api.get("/registrations", params={"q": data_name, "page_size": 100}).json()["registrations"]
    return next(h for h in hits if h["data_name"] == data_name)


def _error(response: httpx.Response, status: int, field: str = "") -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == status
    assert {"status", "reason", "message", "field", "violations"} <= set(body["error"])
    if field:
        assert body["error"]["field"] == field, body
        if status == 400:
            assert field in [v["field"] for v in body["error"]["violations"]], body
    return body["error"]


# -- search ----------------------------------------------------------------------------------------


def test_search_by_a_two_character_word_with_filters_counts_and_order(api: httpx.Client) -> None:
    found = api.get("/registrations", params={"q": "医保"}).json()
    assert {h["data_name"] for h in found["registrations"]} == {
        "南京市医保结算明细数据",
        "全省医保定点医药机构目录",
    }
    assert found["total_size"] == 2
    assert sum(v["count"] for v in found["facets"]["state"]) == 2
    monthly = api.get("/registrations", params={"q": "医保", "update_frequency": "每月"}).json()
    assert [h["data_name"] for h in monthly["registrations"]] == ["全省医保定点医药机构目录"]
    weather = api.get("/registrations", params={"q": "气象", "object_type": "OPEN_DATA_RESOURCE"}).json()
    assert [h["data_name"] for h in weather["registrations"]] == ["南京市气象灾害预警信息"]
    everything = api.get("/registrations", params={"sort": "newest", "page_size": 100}).json()
    assert everything["total_size"] == len(SEEDS)
    labels = {v["value"]: v["label"] for v in everything["facets"]["region"]}
    assert labels == {"320000": "江苏省"}
    states = {v["value"]: v["count"] for v in everything["facets"]["state"]}
    assert states == {"ACTIVE": 3, "PENDING": 4}


def test_search_answers_with_the_synonyms_searched_a_suggestion_and_a_partial_match_marked(
    api: httpx.Client,
) -> None:
    full = api.get("/registrations", params={"q": "医疗保障"}).json()
    assert full["total_size"] == 2 and "医保" in full["synonyms"]
    assert not full["partial_match"] and full["omitted_words"] == [] and full["suggestion"] == ""
    typo = api.get("/registrations", params={"q": "气像"}).json()
    assert typo["total_size"] == 0 and typo["registrations"] == [] and typo["suggestion"] == "气象"
    followed = api.get("/registrations", params={"q": typo["suggestion"]}).json()
    assert followed["total_size"] == 2
    # No registration holds 治理: those with 气象, marked, page after page.
    first = api.get("/registrations", params={"q": "气象治理", "page_size": 1}).json()
    assert first["partial_match"] and first["omitted_words"] == ["治理"] and first["total_size"] == 2
    second = api.get(
        "/registrations", params={"q": "气象治理", "page_size": 1, "page_token": first["next_page_token"]}
    ).json()
    assert second["partial_match"] and second["next_page_token"] == ""
    assert {h["data_name"] for h in first["registrations"] + second["registrations"]} == {
        "江苏省逐小时地面气象观测数据",
        "南京市气象灾害预警信息",
    }


def test_search_filters_by_how_the_data_is_obtained_with_counts_in_chinese(api: httpx.Client) -> None:
    def found(**params: str) -> list[str]:
        answer = api.get("/registrations", params={"page_size": 100, **params})
        assert answer.status_code == 200, answer.text
        return sorted(h["data_name"] for h in answer.json()["registrations"])

    assert found(open_attribute="NOT_OPEN") == ["南京市医保结算明细数据"]
    assert found(sharing_attribute="UNCONDITIONALLY_SHARED") == ["江苏省逐小时地面气象观测数据"]
    assert found(channel_kind="FILE_DOWNLOAD") == ["南京市气象灾害预警信息", "江苏省逐小时地面气象观测数据"]
    assert found(q="气象", channel_kind="API") == ["江苏省逐小时地面气象观测数据"]
    assert found(channel_kind="FILE_DOWNLOAD", object_type="OPEN_DATA_RESOURCE") == ["南京市气象灾害预警信息"]
    assert found(channel_kind="ON_REQUEST", sharing_attribute="NOT_SHARED") == ["南京市医保结算明细数据"]
    assert found(channel_kind="DATA_SERVICE") == []
    # The counts: the attributes stated, in Chinese; what no registration states is no value to pick.
    everything = api.get("/registrations", params={"page_size": 100}).json()
    opened = {v["value"]: (v["label"], v["count"]) for v in everything["facets"]["open_attribute"]}
    assert opened == {
        "UNCONDITIONALLY_OPEN": ("无条件开放", 1),
        "CONDITIONALLY_OPEN": ("有条件开放", 1),
        "NOT_OPEN": ("不予开放", 1),
    }
    shared = {v["value"]: v["label"] for v in everything["facets"]["sharing_attribute"]}
    assert shared == {"UNCONDITIONALLY_SHARED": "无条件共享", "NOT_SHARED": "不予共享"}
    # Each hit says how open it is and which channels it has.
    hit = _find(api, "南京市医保结算明细数据")
    assert (hit["open_attribute"], hit["open_attribute_label"]) == ("NOT_OPEN", "不予开放")
    assert (hit["sharing_attribute_label"], hit["channel_kinds"]) == ("不予共享", ["ON_REQUEST"])
    assert _find(api, "苏州市公共交通刷卡数据")["open_attribute_label"] == "未说明"
    # The page token is bound to the filters too.
    issued = api.get("/registrations", params={"page_size": 1, "channel_kind": "FILE_DOWNLOAD"}).json()
    assert issued["next_page_token"]
    stale = api.get(
        "/registrations",
        params={"page_size": 1, "channel_kind": "API", "page_token": issued["next_page_token"]},
    )
    assert _error(stale, 400)["reason"] == "PAGE_TOKEN_MISMATCH"
    # Bad values: the field named.
    _error(api.get("/registrations", params={"open_attribute": "not_open"}), 400, "open_attribute")
    _error(api.get("/registrations", params={"sharing_attribute": "SHARED"}), 400, "sharing_attribute")
    _error(api.get("/registrations", params={"channel_kind": "EMAIL"}), 400, "channel_kind")


def test_paging_through_results_while_registrations_are_added_sees_each_one_once(
    fed: PortalFederation, api: httpx.Client
) -> None:
    before = {h["id"] for h in api.get("/registrations", params={"page_size": 100}).json()["registrations"]}
    channel, stub = fed.registration_stub()
    seen: list[str] = []
    token_ = ""
    try:
        for i in range(30):  # bounded
            page = api.get(
                "/registrations", params={"page_size": 2, "sort": "newest", "page_token": token_}
            ).json()
            seen += [h["id"] for h in page["registrations"]]
            # Meanwhile the province registers more; they reach the ledger (and the index) at once.
            stub.CreateRegistration(
                rs.CreateRegistrationRequest(
                    parent="nodes/320000",
                    registration=r.Registration(
                        object_type=1, content=_content(f"徐州市公共交通客流数据{i}")
                    ),
                    request_id=str(uuid.uuid4()),
                ),
                metadata=metadata(token()),
                timeout=10,
            )
            token_ = page["next_page_token"]
            if not token_:
                break
    finally:
        channel.close()
    assert len(seen) == len(set(seen))
    assert before <= set(seen)


def test_a_new_registration_is_findable_once_synced_and_the_health_check_shows_the_index_caught_up(
    fed: PortalFederation, api: httpx.Client
) -> None:
    channel, stub = fed.registration_stub()
    try:
        stub.CreateRegistration(
            rs.CreateRegistrationRequest(
                parent="nodes/320000",
                registration=r.Registration(object_type=1, content=_content("连云港市港口吞吐量数据")),
                request_id=str(uuid.uuid4()),
            ),
            metadata=metadata(token()),
            timeout=10,
        )
    finally:
        channel.close()
    # The province syncs it up, the ledger takes it, the indexer follows the log: seconds at most.
    found = wait_until(
        lambda: api.get("/registrations", params={"q": "吞吐量"}).json()["registrations"],
        timeout=30,
        message="the new registration in the search",
    )
    assert [hit["data_name"] for hit in found] == ["连云港市港口吞吐量数据"]
    health = wait_until(
        lambda: (h := httpx.get(fed.url + "healthz", timeout=5).json())["index_behind"] == 0 and h,
        timeout=10,
        message="the index caught up",
    )
    assert health["status"] == "serving"


def _content(data_name: str) -> r.RegistrationContent:
    from tests.factories import make_content, make_uscc

    return make_content(make_uscc("320106"), data_name=data_name)


# -- registration pages ------------------------------------------------------------------------------


def test_a_registration_shows_its_public_fields_and_nothing_else(
    api: httpx.Client, fed: PortalFederation
) -> None:
    hit = _find(api, "江苏省逐小时地面气象观测数据")
    page = api.get(f"/registrations/{hit['id']}")
    assert page.status_code == 200
    body = page.json()
    assert body["code"] and body["state"] == "有效" and body["subject_name"] == "江苏省气象局"
    assert [e["event"] for e in body["history"]][-1] == "assign_code"
    assert Seed.secret not in page.text
    html = httpx.get(fed.url + f"registrations/{hit['id']}")
    assert html.status_code == 200 and "江苏省气象局" in html.text and Seed.secret not in html.text
    assert "seed" not in json.dumps(body)  # the operator who did each step is not public
    terms = body["access_terms"]
    assert [c["uri"] for c in terms["channels"]] == [
        "https://api.weather.js.example.cn/v1",
        "https://data.weather.js.example.cn/hourly.csv",
    ]
    assert terms["contact"] == {"department": "江苏省气象局数据处", "phone": "025-83287000", "email": ""}


def test_bad_input_is_a_4xx_naming_the_field(api: httpx.Client) -> None:
    _error(api.get("/registrations", params={"q": "气" * 101}), 400, "q")
    _error(api.get("/registrations", params={"object_type": "SOMETHING"}), 400, "object_type")
    _error(api.get("/registrations", params={"state": "active"}), 400, "state")
    _error(api.get("/registrations", params={"region": "999999"}), 400, "region")
    _error(api.get("/registrations", params={"subject": "12345"}), 400, "subject")
    _error(api.get("/registrations", params={"page_size": 0}), 400, "page_size")
    _error(api.get("/registrations", params={"page_size": "many"}), 400, "page_size")
    _error(api.get("/registrations", params={"sort": "oldest"}), 400, "sort")
    _error(api.get("/registrations", params={"page_token": "not-a-token"}), 400, "page_token")
    issued = api.get("/registrations", params={"page_size": 1}).json()["next_page_token"]
    mismatch = _error(
        api.get("/registrations", params={"page_size": 1, "q": "医保", "page_token": issued}), 400
    )
    assert mismatch["reason"] == "PAGE_TOKEN_MISMATCH"
    _error(api.get("/registrations/not-an-id"), 404, "id")
    _error(api.get(f"/registrations/{uuid.uuid4()}"), 404, "id")
    _error(api.get("/codes/NOT-A-CODE"), 400, "code")
    _error(api.get("/nowhere"), 404)
    _error(api.post("/registrations"), 405)


def test_reads_carry_an_etag_and_cache_control(api: httpx.Client) -> None:
    first = api.get("/registrations", params={"q": "气象"})
    etag = first.headers["etag"]
    assert first.headers["cache-control"].startswith("public, max-age=")
    again = api.get("/registrations", params={"q": "气象"}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag and not again.content
    other = api.get("/registrations", params={"q": "医保"})
    assert other.headers["etag"] != etag


def test_the_openapi_description_documents_every_endpoint_and_the_error_shape(api: httpx.Client) -> None:
    spec = api.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    paths = set(spec["paths"])
    assert {
        "/api/v1/registrations",
        "/api/v1/registrations/{uid}",
        "/api/v1/announcements",
        "/api/v1/announcements/{uid}/objections",
        "/api/v1/codes/{code}",
        "/api/v1/codes/{code}/confirmation",
    } <= paths
    assert "ErrorBody" in spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert any(code.startswith("4") for code in operation["responses"]), (method, path)


# -- announcements and objections --------------------------------------------------------------------


def _history(fed: PortalFederation, name: str) -> list[r.HistoryEntry]:
    channel, stub = fed.registration_stub()
    try:
        return list(
            stub.ListHistory(
                rs.ListHistoryRequest(parent=name), metadata=metadata(token()), timeout=10
            ).entries
        )
    finally:
        channel.close()


def test_an_objection_reaches_the_managing_province_once_in_its_history_and_due_items(
    fed: PortalFederation, api: httpx.Client
) -> None:
    listed = api.get("/announcements").json()["announcements"]
    assert {a["data_name"] for a in listed} == {
        "全省医保定点医药机构目录",
        "全省中医保健服务机构名录",
        "苏州市公共交通刷卡数据",
    }
    target = next(a for a in listed if a["data_name"] == "全省医保定点医药机构目录")
    body = {
        "name": "李四",
        "contact": "lisi@example.cn",
        "reason": "目录遗漏了部分定点药店",
        "evidence": [{"title": "药店名单", "uri": "https://evidence.example.cn/list.pdf"}],
        "request_id": str(uuid.uuid4()),
    }
    filed = api.post(f"/announcements/{target['id']}/objections", json=body)
    assert filed.status_code == 201, filed.text
    assert filed.json()["managing_node"] == "nodes/320000"
    again = api.post(f"/announcements/{target['id']}/objections", json=body)  # a retry
    assert again.status_code == 201 and again.json()["file_time"] == filed.json()["file_time"]
    name = fed.names["全省医保定点医药机构目录"]
    objections = wait_until(
        lambda: [e for e in _history(fed, name) if e.action == "object"], timeout=30, message="the objection"
    )
    assert len(objections) == 1 and objections[0].reason == "目录遗漏了部分定点药店"
    assert objections[0].actor.endswith("via nodes/100000")
    due = _registryctl(fed, "due", "--region", "320000")
    assert any(item["kind"] == "OBJECTION" and item["registration"] == name for item in due["items"]), due
    reused = api.post(f"/announcements/{target['id']}/objections", json={**body, "reason": "另一条理由"})
    assert _error(reused, 409)["reason"] == "REQUEST_ID_REUSED"


def _registryctl(fed: PortalFederation, *args: str) -> dict:
    result = registryctl(fed.province.address, *args, bearer=token("zhao.liu", ("registrar",)))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_bad_objections_are_refused_with_the_field_named(fed: PortalFederation, api: httpx.Client) -> None:
    target = _find(api, "苏州市公共交通刷卡数据")
    url = f"/announcements/{target['id']}/objections"
    good = {"name": "王五", "contact": "13800000000", "reason": "理由", "request_id": str(uuid.uuid4())}
    _error(api.post(url, json={**good, "reason": ""}), 400, "reason")
    _error(api.post(url, json={**good, "name": "王" * 51}), 400, "name")
    _error(api.post(url, json={k: v for k, v in good.items() if k != "contact"}), 400, "contact")
    _error(
        api.post(url, json={**good, "evidence": [{"title": "x", "uri": "not a uri"}]}), 400, "evidence[0].uri"
    )
    _error(
        api.post(url, json={**good, "evidence": [{"title": "x", "uri": "https://e.cn/x", "sha256": "abc"}]}),
        400,
        "evidence[0].sha256",
    )
    _error(api.post(url, content=b"\xff\xfe not json", headers={"content-type": "application/json"}), 400)
    _error(api.post(url, content=b"{" * 40_000, headers={"content-type": "application/json"}), 413)
    coded = _find(api, "南京市医保结算明细数据")
    assert (
        _error(api.post(f"/announcements/{coded['id']}/objections", json=good), 409)["reason"]
        == "NOT_ANNOUNCED"
    )
    # None of these reached the province.
    assert not [e for e in _history(fed, fed.names["苏州市公共交通刷卡数据"]) if e.action == "object"]


# -- result check ------------------------------------------------------------------------------------


def test_a_code_check_shows_the_confirmation_verified_against_the_log_and_who_cosigned_it(
    fed: PortalFederation, api: httpx.Client
) -> None:
    hit = _find(api, "南京市医保结算明细数据")
    checked = api.get(f"/codes/{hit['code']}").json()
    assert checked["state"] == "ACTIVE" and checked["valid_until"]
    assert checked["confirmation"]["verified"] is True and checked["confirmation"]["tree_size"] > 0
    # Who cosigned it, verified with the witness's key, on the API and on the page.
    assert (checked["confirmation"]["witnesses"], checked["confirmation"]["witnesses_pending"]) == (
        ["nodes/320000"],
        [],
    )
    page = httpx.get(f"{fed.url}check", params={"code": hit["code"]}, timeout=20).text
    assert '<dd id="witnesses">江苏省（nodes/320000）</dd>' in page
    file = api.get(f"/codes/{hit['code']}/confirmation")
    assert file.status_code == 200 and file.text.startswith("c2sp.org/tlog-proof@v1")
    keys = trust().log_verifier_keys_file.read_text().split()
    verified = verify_confirmation(file.text, keys)
    assert verified.entry["code"] == hit["code"] and verified.entry["state"] == "ACTIVE"
    lower = api.get(f"/codes/{hit['code'].lower()}")
    assert lower.status_code == 200 and lower.json()["code"] == hit["code"]
    missing = hit["code"][:-3] + "999"
    assert api.get(f"/codes/{missing}").status_code in (400, 404)


# -- the rate limit ----------------------------------------------------------------------------------


def test_a_client_over_its_rate_is_told_to_wait(fed: PortalFederation, tmp_path: Path) -> None:
    limited = NodeProcess(
        "national_node.portal",
        env=portal_env(
            fed.national.address,
            fed.national_db,
            REGISTRY_PORTAL__READS_PER_SECOND="1",
            REGISTRY_PORTAL__READ_BURST="5",
        ),
        cwd=tmp_path,
        ready="serving on",
    ).start()
    try:
        with httpx.Client(base_url=limited.address, timeout=10) as client:
            answers = [client.get("api/v1/registrations", params={"q": "气象"}) for _ in range(8)]
            codes = [a.status_code for a in answers]
            assert codes[:5] == [200] * 5 and 429 in codes[5:]
            refused = next(a for a in answers if a.status_code == 429)
            assert int(refused.headers["retry-after"]) >= 1
            assert refused.json()["error"]["reason"] == "RATE_LIMITED"
            page = client.get("")
            assert page.status_code == 429 and "请求过于频繁" in page.text
    finally:
        limited.kill()
    # Objections have their own, far lower limit (a burst of 3 here), pages or API alike.
    limited = NodeProcess(
        "national_node.portal",
        env=portal_env(fed.national.address, fed.national_db, REGISTRY_PORTAL__OBJECTION_BURST="3"),
        cwd=tmp_path,
        ready="serving on",
    ).start()
    try:
        with httpx.Client(base_url=limited.address, timeout=10) as client:
            url = f"api/v1/announcements/{uuid.uuid4()}/objections"
            body = {"name": "王五", "contact": "13800000000", "reason": "理由", "request_id": "x"}
            codes = [client.post(url, json=body).status_code for _ in range(5)]
            assert codes == [404, 404, 404, 429, 429]
    finally:
        limited.kill()


def _portal(fed: PortalFederation, tmp_path: Path, **settings: str) -> NodeProcess:
    """Another portal process on the federation's ledger, with its own settings."""
    env = portal_env(fed.national.address, fed.national_db, **settings)
    return NodeProcess("national_node.portal", env=env, cwd=tmp_path, ready="serving on").start()


def test_a_client_cannot_escape_its_rate_limit_by_naming_other_addresses(
    fed: PortalFederation, tmp_path: Path
) -> None:
    limit = {"REGISTRY_PORTAL__READS_PER_SECOND": "1", "REGISTRY_PORTAL__READ_BURST": "5"}

    def codes(portal: NodeProcess, forwarded: Callable[[int], str]) -> list[int]:
        with httpx.Client(base_url=portal.address, timeout=10) as client:
            return [
                client.get("api/v1/announcements", headers={"X-Forwarded-For": forwarded(i)}).status_code
                for i in range(10)
            ]

    # The attacker's attempt: a fresh address in X-Forwarded-For on every request. With trust off
    # (the default) the header is nobody's word: the client is the socket's peer.
    portal = _portal(fed, tmp_path, **limit)
    try:
        answered = codes(portal, lambda i: f"198.51.100.{i}")
        assert answered[:5] == [200] * 5 and 429 in answered[5:], answered
    finally:
        portal.kill()
    # Trust on, but the request does not come from a configured proxy: the header is ignored.
    portal = _portal(
        fed,
        tmp_path,
        REGISTRY_PORTAL__TRUST_FORWARDED_FOR="true",
        REGISTRY_PORTAL__TRUSTED_PROXIES='["192.0.2.1"]',
        **limit,
    )
    try:
        answered = codes(portal, lambda i: f"198.51.100.{i}")
        assert answered[:5] == [200] * 5 and 429 in answered[5:], answered
    finally:
        portal.kill()
    # Trust on, from the proxy (here: this host): the client is the address the proxy appended, not
    # what the client wrote before it; another client behind the proxy keeps its own allowance.
    portal = _portal(fed, tmp_path, REGISTRY_PORTAL__TRUST_FORWARDED_FOR="true", **limit)
    try:
        answered = codes(portal, lambda i: f"198.51.100.{i}, 203.0.113.7")
        assert answered[:5] == [200] * 5 and 429 in answered[5:], answered
        assert codes(portal, lambda i: "203.0.113.8")[:5] == [200] * 5
    finally:
        portal.kill()


# -- the OpenAPI description -------------------------------------------------------------------------


def test_the_openapi_description_declares_what_the_server_enforces(api: httpx.Client) -> None:
    spec = api.get("/openapi.json").json()
    paths = spec["paths"]

    def parameters(path: str) -> dict[str, dict]:
        return {p["name"]: p["schema"] for p in paths[path]["get"]["parameters"]}

    search = parameters("/api/v1/registrations")
    assert (search["page_size"]["minimum"], search["page_size"]["maximum"]) == (1, 100)
    assert search["q"]["maxLength"] == 100 and search["update_frequency"]["maxLength"] == 100
    assert "320000" in search["region"]["pattern"] and search["sort"]["enum"] == ["relevance", "newest"]
    assert re.fullmatch(search["open_attribute"]["pattern"], "NOT_OPEN")
    assert re.fullmatch(search["channel_kind"]["pattern"], "ON_REQUEST")
    assert not re.fullmatch(search["sharing_attribute"]["pattern"], "NOT_OPEN")
    access = spec["components"]["schemas"]["PublicRegistration"]["properties"]["access_terms"]
    assert access["description"] == "如何获取"
    announcements = parameters("/api/v1/announcements")
    assert (announcements["page_size"]["minimum"], announcements["page_size"]["maximum"]) == (1, 100)
    for path in ("/api/v1/codes/{code}", "/api/v1/codes/{code}/confirmation"):
        assert re.fullmatch(parameters(path)["code"]["pattern"], "132000026000000001D")
        assert not re.fullmatch(parameters(path)["code"]["pattern"], "13200002600000000ID")
    objection = spec["components"]["schemas"]["ObjectionIn"]
    assert objection["additionalProperties"] is False
    assert objection["properties"]["request_id"]["pattern"] == "^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
    assert spec["components"]["schemas"]["EvidenceIn"]["additionalProperties"] is False
    statuses = {path: set(paths[path][method]["responses"]) for path in paths for method in paths[path]}
    assert statuses["/api/v1/announcements/{uid}/objections"] >= {
        "201", "400", "404", "409", "413", "429", "502", "503"
    }  # fmt: skip
    assert statuses["/api/v1/registrations"] >= {"200", "304", "400", "429"}
    # And the server enforces what is declared.
    target = _find(api, "苏州市公共交通刷卡数据")
    url = f"/announcements/{target['id']}/objections"
    good = {"name": "王五", "contact": "13800000000", "reason": "理由", "request_id": str(uuid.uuid4())}
    unknown = _error(api.post(url, json={**good, "objector_ip": "10.0.0.1"}), 400, "objector_ip")
    assert unknown["reason"] == "FIELD_NOT_ALLOWED"
    _error(api.post(url, json={**good, "request_id": "not an id"}), 400, "request_id")
    _error(api.get("/announcements", params={"page_size": 101}), 400, "page_size")
    assert _error(api.get("/codes/" + "1" * 20), 400, "code")["reason"] == "FIELD_MALFORMED"


@pytest.fixture(scope="module")
def open_portal(fed: PortalFederation, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    """A portal whose limits let a property-based test ask as much as it likes."""
    portal = _portal(
        fed,
        tmp_path_factory.mktemp("openapi"),
        REGISTRY_PORTAL__READ_BURST="1000000",
        REGISTRY_PORTAL__OBJECTION_BURST="1000000",
    )
    yield portal
    portal.kill()


def test_the_api_answers_as_its_openapi_description_says(open_portal: NodeProcess) -> None:
    """Property-based (schemathesis): requests made from the description, valid and invalid, are
    answered with a documented status, the declared content type and a body of the declared shape;
    invalid ones are refused, valid ones are not; none is a server error. Bounded: a fixed number of
    examples per kind, each answered in milliseconds."""
    # Invalid input is refused with 400, 404 (an id that names nothing) or 413 (a body over 32 KiB).
    refusals = [400, 404, 405, 409, 413, 429]
    config = SchemathesisConfig.from_dict(
        {"checks": {"negative_data_rejection": {"expected-statuses": refusals}}}
    )
    schema = schemathesis.openapi.from_url(open_portal.address + "api/v1/openapi.json", config=config)
    started = time.monotonic()
    for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):

        @given(case=schema.as_strategy(mode))
        @settings(
            max_examples=150,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
        )
        def answered_as_described(case: schemathesis.Case) -> None:
            # What no pattern can say (a code's or a USCC's check character; a page token is one the
            # portal issued) is refused with 400: such a value made from the description alone may
            # be refused though it fits it.
            query = case.query or {}
            unsayable = "code" in (case.path_parameters or {}) or bool(
                query.get("subject") or query.get("page_token")
            )
            excluded = [schemathesis.checks.positive_data_acceptance] if unsayable else []
            case.call_and_validate(excluded_checks=excluded)

        answered_as_described()
    assert time.monotonic() - started < 60


def test_a_stranger_downloads_the_golden_copy_and_verifies_every_record_offline(
    fed: PortalFederation, tmp_path: Path
) -> None:
    """The national node builds a copy on demand (as its daily duty does); the portal lists and serves
    it; a download broken off resumes with Range; registryctl verifies every record offline, and names
    the one record a tamperer changed."""
    national = fed.national
    built = subprocess.run(
        [sys.executable, "-m", "national_node.golden"],
        cwd=national.cwd,
        env={**os.environ, **node_env(national.region), **national.env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert built.returncode == 0, built.stderr
    listing = httpx.get(f"{fed.url}api/v1/downloads", timeout=10).json()
    coded = sum(1 for seed in SEEDS if seed.stage == "coded")
    assert listing["records"] == coded
    page = httpx.get(f"{fed.url}downloads", timeout=10)
    assert (
        page.status_code == 200
        and "ledger.jsonl.gz" in page.text
        and "registryctl golden verify" in page.text
    )
    copy = tmp_path / listing["copy"]
    copy.mkdir()
    for described in listing["files"]:
        url = fed.url + described["url"].lstrip("/")
        whole = httpx.get(url, timeout=30)
        assert whole.status_code == 200 and whole.headers["etag"] == f'"{described["sha256"]}"'
        half = described["size"] // 2
        # A download that broke off half-way resumes where it stopped.
        rest = httpx.get(url, headers={"Range": f"bytes={half}-"}, timeout=30)
        assert rest.status_code == 206 and rest.headers["content-range"].startswith(f"bytes {half}-")
        (copy / described["name"]).write_bytes(whole.content[:half] + rest.content)
    (copy / "manifest.txt").write_bytes(
        httpx.get(fed.url + listing["manifest_url"].lstrip("/"), timeout=10).content
    )
    assert httpx.get(f"{fed.url}downloads/{listing['copy']}/..%2Fnational.db", timeout=10).status_code == 404

    keys = str(trust().log_verifier_keys_file)
    verified = registryctl(national.address, "golden", "verify", str(copy), "--log-keys", keys)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout) == {"verified": True, "records": coded, "problems": []}
    # One record changed by a tamperer: named by its code.
    with gzip.open(copy / "ledger.jsonl.gz", "rb") as handle:
        lines = handle.read().splitlines(keepends=True)
    record = json.loads(lines[0])
    record["entry"]["state"] = "ACTIVE" if record["entry"]["state"] != "ACTIVE" else "EXPIRED"
    with gzip.open(copy / "ledger.jsonl.gz", "wb") as handle:
        handle.writelines([json.dumps(record).encode() + b"\n", *lines[1:]])
    refused = registryctl(national.address, "golden", "verify", str(copy), "--log-keys", keys)
    assert refused.returncode == 1
    problems = json.loads(refused.stdout)["problems"]
    assert {"kind": "altered", "code": record["entry"]["code"]} in [
        {"kind": p["kind"], "code": p["code"]} for p in problems
    ]


def test_ckan_clients_list_and_search_the_registry_like_any_ckan_portal(fed: PortalFederation) -> None:
    """ckanapi, CKAN's own client, unchanged: it posts every action as JSON (or GETs with get_only)."""
    site = fed.url.rstrip("/")
    ckan = ckanapi.RemoteCKAN(site, user_agent="registry-tests")
    assert ckan.action.status_show()["ckan_version"].startswith("2.")
    coded = [seed for seed in SEEDS if seed.stage == "coded"]
    names = ckan.action.package_list()
    assert len(names) == len(coded) and all(re.fullmatch(r"[0-9a-z]{19}", name) for name in names)
    packages = [ckan.action.package_show(id=name) for name in names]
    assert sorted(p["title"] for p in packages) == sorted(seed.data_name for seed in coded)
    weather = next(p for p in packages if p["title"] == "江苏省逐小时地面气象观测数据")
    assert [(r["format"], r["url"]) for r in weather["resources"]] == [
        ("API", "https://api.weather.js.example.cn/v1"),
        ("FILE_DOWNLOAD", "https://data.weather.js.example.cn/hourly.csv"),
    ]
    assert (
        weather["maintainer"] == "江苏省气象局数据处" and weather["organization"]["title"] == "江苏省气象局"
    )
    extras = {e["key"]: e["value"] for e in weather["extras"]}
    assert extras["registration_code"].lower() == weather["name"] and extras["registration_state"] == "ACTIVE"
    # The same package by its id, and the portal's search behind package_search.
    assert ckan.action.package_show(id=weather["id"])["name"] == weather["name"]
    found = ckan.action.package_search(q="气象", rows=10)
    assert found["count"] == 2 and {p["title"] for p in found["results"]} == {
        "江苏省逐小时地面气象观测数据",
        "南京市气象灾害预警信息",
    }
    assert len(ckan.action.package_search(q="气象", rows=1, start=1)["results"]) == 1
    assert [p["name"] for p in ckan.action.package_search(fq="tags:API")["results"]] == [weather["name"]]
    # Organizations are the subjects; filtering by one finds its registrations only.
    organizations = ckan.action.organization_list(all_fields=True)
    assert sorted(o["title"] for o in organizations) == sorted(seed.subject_name for seed in coded)
    nanjing = next(o for o in organizations if o["title"] == "南京市气象局")
    assert ckan.action.organization_show(id=nanjing["name"])["package_count"] == 1
    by_org = ckan.action.package_search(fq=f"organization:{nanjing['name']}")
    assert [p["title"] for p in by_org["results"]] == ["南京市气象灾害预警信息"]
    # GET, as a harvester that only reads may ask; and CKAN's errors, as ckanapi raises them.
    reader = ckanapi.RemoteCKAN(site, user_agent="registry-tests", get_only=True)
    assert reader.action.package_search(q="气象")["count"] == 2
    with pytest.raises(ckanapi.NotFound):
        ckan.action.package_show(id="no-such-dataset")
    with pytest.raises(ckanapi.NotFound):
        ckan.action.organization_show(id="91320000mb0000000x")
    with pytest.raises(ckanapi.ValidationError):
        ckan.action.package_search(fq="secret:1")
    with pytest.raises(ckanapi.ValidationError):
        ckan.action.package_search(rows=5000)


SHAPES = Path(__file__).resolve().parents[1] / "data" / "dcat-ap-3.0.0" / "dcat-ap-SHACL.ttl"


def test_the_catalogue_is_dcat_ap_3_that_pyshacl_finds_no_violation_in_and_pages_like_a_harvester(
    fed: PortalFederation,
) -> None:
    """The official DCAT-AP 3.0.0 shapes (SEMIC, CC-BY 4.0, tests/data/dcat-ap-3.0.0) over a populated
    catalogue: no violation; the same graph in Turtle, RDF/XML and JSON-LD; hydra:next pages it."""
    turtle = httpx.get(f"{fed.url}api/v1/catalog", timeout=20)
    assert turtle.status_code == 200 and turtle.headers["content-type"].startswith("text/turtle")
    graph = rdflib.Graph().parse(data=turtle.text, format="turtle")
    conforms, report, text = pyshacl.validate(
        graph, shacl_graph=rdflib.Graph().parse(SHAPES, format="turtle"), inference="none", advanced=True
    )
    violations = list(report.subjects(rdflib.SH.resultSeverity, rdflib.SH.Violation))
    assert conforms and not violations, text
    coded = {seed.data_name for seed in SEEDS if seed.stage == "coded"}
    titles = {str(o) for s, o in graph.subject_objects(rdflib.DCTERMS.title) if "#it" in str(s)}
    assert titles == coded
    # The subject is the publisher, with its USCC; the code is the identifier.
    weather = next(
        s for s, o in graph.subject_objects(rdflib.DCTERMS.title) if str(o) == "江苏省逐小时地面气象观测数据"
    )
    publisher = graph.value(weather, rdflib.DCTERMS.publisher)
    assert str(graph.value(publisher, rdflib.FOAF.name)) == "江苏省气象局"
    notation = graph.value(
        graph.value(publisher, rdflib.URIRef("http://www.w3.org/ns/adms#identifier")), rdflib.SKOS.notation
    )
    assert len(str(notation)) == 18
    assert len(list(graph.objects(weather, rdflib.DCAT.distribution))) == 2
    assert str(graph.value(weather, rdflib.DCTERMS.accrualPeriodicity)).endswith("/frequency/UPDATE_CONT")
    # Other serialisations of the same graph.
    for fmt, media in (("json-ld", "application/ld+json"), ("xml", "application/rdf+xml")):
        answer = httpx.get(f"{fed.url}api/v1/catalog", headers={"Accept": media}, timeout=20)
        assert answer.headers["content-type"].startswith(media)
        assert len(rdflib.Graph().parse(data=answer.text, format=fmt)) == len(graph)
    # A harvester follows hydra:next, one registration a page, and sees every one once.
    seen: list[str] = []
    url: str | None = f"{fed.url}api/v1/catalog?page_size=1"
    hydra = rdflib.Namespace("http://www.w3.org/ns/hydra/core#")
    while url is not None and len(seen) <= len(coded):
        page = rdflib.Graph().parse(data=httpx.get(url, timeout=20).text, format="turtle")
        seen += [str(s) for s in page.subjects(rdflib.RDF.type, rdflib.DCAT.Dataset)]
        seen += [str(s) for s in page.subjects(rdflib.RDF.type, rdflib.DCAT.DataService)]
        following = next(iter(page.objects(None, hydra.next)), None)
        url = str(following) if following is not None else None
    assert len(seen) == len(set(seen)) == len(coded)
    assert httpx.get(f"{fed.url}api/v1/catalog?format=n3", timeout=10).status_code == 400


def test_atom_feeds_carry_new_registrations_and_announcements_per_region(fed: PortalFederation) -> None:
    atom = "{http://www.w3.org/2005/Atom}"

    def titles(path: str) -> list[str]:
        answer = httpx.get(f"{fed.url}{path}", timeout=20)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/atom+xml")
        root = ElementTree.fromstring(answer.content)
        assert root.tag == f"{atom}feed" and root.find(f"{atom}updated") is not None
        entries = root.findall(f"{atom}entry")
        # Each entry is a registration's page: the id a reader remembers it by.
        assert all((e.findtext(f"{atom}id") or "").startswith(f"{fed.url}registrations/") for e in entries)
        return sorted(e.findtext(f"{atom}title") or "" for e in entries)

    coded = sorted(seed.data_name for seed in SEEDS if seed.stage == "coded")
    announced = sorted(seed.data_name for seed in SEEDS if seed.stage == "announced")
    assert titles("feeds/registrations.atom") == titles("feeds/registrations.atom?region=320000") == coded
    assert titles("feeds/announcements.atom") == titles("feeds/announcements.atom?region=320000") == announced
    assert titles("feeds/registrations.atom?region=110000") == []
    assert httpx.get(f"{fed.url}feeds/announcements.atom?region=999999", timeout=10).status_code == 400


def test_statistics_are_drawn_by_the_server_with_their_numbers_as_tables_and_csv(
    fed: PortalFederation,
) -> None:
    page = httpx.get(f"{fed.url}stats", timeout=20)
    assert page.status_code == 200 and "<script" not in page.text
    charts = ("regions", "object_types", "states", "months", "time_to_code", "announcements", "objections")
    for key in (*charts, "disclosures"):
        assert f'src="/stats/{key}.svg"' in page.text and f'href="/stats/{key}.csv"' in page.text
        svg = httpx.get(f"{fed.url}stats/{key}.svg", timeout=20)
        assert svg.headers["content-type"].startswith("image/svg+xml")
        assert ElementTree.fromstring(svg.content).tag == "{http://www.w3.org/2000/svg}svg"

    def csv_rows(key: str) -> dict[str, int]:
        text = httpx.get(f"{fed.url}stats/{key}.csv", timeout=20).text
        return {label: int(count) for label, count in (line.split(",") for line in text.splitlines()[1:])}

    # (Other tests of this module register more: the ledger's own counts are the reference.)
    total = httpx.get(f"{fed.url}api/v1/registrations", timeout=20).json()["total_size"]
    coded = httpx.get(f"{fed.url}api/v1/registrations", params={"state": "ACTIVE"}, timeout=20).json()
    assert csv_rows("regions") == {"江苏省": total} and total >= len(SEEDS)
    assert sum(csv_rows("states").values()) == total
    assert csv_rows("states")["有效"] == coded["total_size"]
    assert sum(csv_rows("time_to_code").values()) >= sum(1 for seed in SEEDS if seed.stage == "coded")
    announced = httpx.get(f"{fed.url}api/v1/announcements", timeout=20).json()
    assert sum(csv_rows("announcements").values()) == len(announced["announcements"])
    # The table on the page carries the same numbers (for screen readers).
    assert f'<th scope="row">江苏省</th><td>{total}</td>' in page.text
    assert httpx.get(f"{fed.url}stats/nothing.svg", timeout=10).status_code == 404


def test_a_disclosure_filed_through_the_registry_is_public_and_linked_from_each_registration_it_names(
    fed: PortalFederation,
) -> None:
    listing = httpx.get(f"{fed.url}api/v1/registrations", params={"q": "气象观测"}, timeout=20).json()
    weather = next(r for r in listing["registrations"] if r["data_name"] == "江苏省逐小时地面气象观测数据")
    body = make_uscc("320102")
    grant = ds.Authorisation(
        codes=[weather["code"]],
        grantee=ds.DisclosingParty(uscc=make_uscc("320106"), name="江苏数据运营有限公司"),
        start=date_pb2.Date(year=2026, month=1, day=1),
        end=date_pb2.Date(year=2028, month=12, day=31),
    )
    request = dss.FileDisclosureRequest(
        disclosure=ds.Disclosure(
            year=date.today().year - 1,
            role=ds.Disclosure.IMPLEMENTING_BODY,
            party=ds.DisclosingParty(uscc=body, name="江苏省数据局"),
            profile="省级公共数据授权运营实施机构",
            authorisations=[grant],
            fee_cap="运营服务费不超过成本加合理利润",
        ),
        request_id=str(uuid.uuid4()),
    )
    # Not in another role's name, nor for another organisation.
    for bearer in (
        token("wu.shi", ("operating_entity",), (body,)),
        token("wu.shi", ("implementing_body",), (make_uscc("110105"),)),
    ):
        channel = fed.national.channel(bearer=bearer)
        with pytest.raises(grpc.RpcError) as refused:
            dss_grpc.DisclosureServiceStub(channel).FileDisclosure(request, timeout=10)
        channel.close()
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    channel = fed.national.channel(bearer=token("wu.shi", ("implementing_body",), (body,)))
    try:
        filed = dss_grpc.DisclosureServiceStub(channel).FileDisclosure(request, timeout=10)
    finally:
        channel.close()
    assert filed.version == 1 and filed.log_index > 0
    page = httpx.get(f"{fed.url}registrations/{weather['id']}", timeout=20).text
    assert f'href="/{filed.name}"' in page and "授权运营信息披露" in page
    listed = httpx.get(f"{fed.url}disclosures", params={"region": "320000"}, timeout=20).text
    assert f'href="/{filed.name}"' in listed and "江苏省数据局" in listed
    shown = httpx.get(f"{fed.url}{filed.name}", timeout=20).text
    assert f'href="/registrations/{weather["id"]}"' in shown and filed.content_sha256 in shown
    assert httpx.get(f"{fed.url}disclosures/2026/operating-entity/{body}", timeout=10).status_code == 404


def test_every_nodes_business_rules_are_public_in_one_place(fed: PortalFederation) -> None:
    answer = httpx.get(f"{fed.url}api/v1/rules", timeout=30)
    assert answer.status_code == 200, answer.text
    nodes = {n["node"]: n for n in answer.json()["nodes"]}
    assert set(nodes) == {"nodes/100000", "nodes/320000"}  # the national node and the one province
    jiangsu = nodes["nodes/320000"]
    assert jiangsu["reachable"] and jiangsu["display_name"] == "江苏省"
    assert jiangsu["time_limits"]["acceptance_days"] == 3 and jiangsu["time_limits"]["review_days"] == 20
    assert {v["id"] for v in jiangsu["variants"]} == {
        "fujian-initial-registration",
        "hainan-full-registration",
    }
    assert any(year["source"] == "official" for year in jiangsu["calendar_years"])
    page = httpx.get(f"{fed.url}rules", timeout=30)
    assert page.status_code == 200 and "江苏省" in page.text and "受理" in page.text
