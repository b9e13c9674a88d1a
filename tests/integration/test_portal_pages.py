"""What a citizen reads on the portal's pages, against a real federation (national node, Jiangsu's
node, the portal process): Chinese everywhere (errors included), times in China Standard Time, regions
by name, codes in either case, a deregistered code never presented as valid, dates past the published
working-day calendar marked provisional, and the headers a public site sends with every response."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from common.clock import CHINA
from common.gen.registry.v1 import registration_pb2 as r
from tests.nodes import NodeProcess, wait_until
from tests.portal_support import PortalFederation, Seed, portal_env, start_portal_federation

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: Announced on a day years ahead: its end falls in a year with no published schedule.
FAR = date(date.today().year + 3, 12, 20)
#: How the parking data is obtained: not open, and why.
PARKING_TERMS = r.AccessTerms(
    sharing_attribute=r.AccessTerms.NOT_SHARED,
    not_shared_basis="《南京市停车场管理条例》第二十条",
    open_attribute=r.AccessTerms.NOT_OPEN,
    not_open_reason="泊位数据含有车辆号牌信息",
    channels=[
        r.AccessChannel(kind=r.AccessChannel.ON_REQUEST, description="向数据资源处提交书面申请"),
        r.AccessChannel(kind=r.AccessChannel.API, uri="https://api.jtj.nanjing.example.cn/parking/v1"),
    ],
    contact=r.ContactPoint(department="南京市交通运输局数据资源处", email="data@jtj.nanjing.example.cn"),
    license="仅限政务用途",
)
SEEDS = [
    Seed("江苏省企业登记基础信息", subject_name="江苏省大数据管理中心"),
    Seed("南京市公共停车泊位数据", subject_name="南京市交通运输局", access_terms=PARKING_TERMS),
    Seed("全省公路路网监测数据", subject_name="江苏省交通运输厅", stage="announced", announce_on=FAR),
    Seed("苏州市公共交通刷卡数据", subject_name="苏州市交通运输局", stage="announced"),
]


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalFederation]:
    limits = {"REGISTRY_PORTAL__OBJECTION_BURST": "100", "REGISTRY_PORTAL__READ_BURST": "1000"}
    federation = start_portal_federation(tmp_path_factory.mktemp("pages"), SEEDS, portal=limits)
    yield federation
    federation.stop()


@pytest.fixture
def web(fed: PortalFederation) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fed.url, timeout=20) as client:
        yield client


def _visible(page: str) -> str:
    """The text a visitor sees in the page's main part (no tags, no attributes)."""
    main = page.split('<main id="main"', 1)[1].split("</main>", 1)[0]
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]*>", "", main.split(">", 1)[1]))).strip()


def _english(text: str) -> list[str]:
    """Latin words of three letters or more: developer text that has no place on a page."""
    return re.findall(r"[A-Za-z_]{3,}", text)


def _hit(web: httpx.Client, data_name: str) -> dict:
    found = web.get("api/v1/registrations", params={"q": data_name}).json()["registrations"]
    return next(h for h in found if h["data_name"] == data_name)


def test_errors_are_told_in_chinese_and_a_query_too_long_keeps_the_form(web: httpx.Client) -> None:
    nowhere = web.get("nowhere")
    assert nowhere.status_code == 404
    assert "未找到" in _visible(nowhere.text) and _english(_visible(nowhere.text)) == []
    for uid in (str(uuid.uuid4()), "not-an-id"):
        unknown = web.get(f"registrations/{uid}")
        assert unknown.status_code == 404
        text = _visible(unknown.text)
        assert "没有找到这条登记" in text and _english(text) == [], text
    # A mistyped code (a wrong check character): what is wrong, in Chinese.
    mistyped = web.get("check", params={"code": "132000026000000001Q"})
    text = _visible(mistyped.text)
    assert "校验不符" in text and _english(text) == [], text
    wrong_length = _visible(web.get("check", params={"code": "1320000260001"}).text)
    assert "有 19 位，您输入了 13 位" in wrong_length and _english(wrong_length) == []
    # A query too long: the search form again, with the query and what to change.
    long_query = "气象" * 60
    answer = web.get("", params={"q": long_query})
    assert answer.status_code == 200
    text = _visible(answer.text)
    assert "关键词最多 100 个字，您输入了 120 个字" in text and _english(text) == [], text
    assert f'value="{long_query}"' in answer.text and 'aria-invalid="true"' in answer.text
    assert '<form class="search" role="search"' in answer.text
    bad_filter = _visible(web.get("", params={"state": "active"}).text)
    assert "请从筛选项中选择登记状态" in bad_filter and _english(bad_filter) == []
    stale = _visible(web.get("", params={"page_token": "not-a-token"}).text)
    assert "翻页链接已失效" in stale and _english(stale) == []
    print_page = web.get("check/NOT-A-CODE/print")
    assert print_page.status_code == 400 and "编号格式不正确" in _visible(print_page.text)
    assert _english(_visible(print_page.text)) == []


def test_a_registration_page_says_how_to_obtain_the_data_and_why_it_is_not_open(web: httpx.Client) -> None:
    parking = _hit(web, "南京市公共停车泊位数据")
    page = web.get(f"registrations/{parking['id']}").text
    text = _visible(page)
    # Plainly, at the top: not open, and why.
    assert "本数据不予开放：泊位数据含有车辆号牌信息" in text.split("登记编号", 1)[0], text
    how = text.split("如何获取", 1)[1].split("公开记录", 1)[0]
    assert "开放属性 不予开放 不予开放的理由：泊位数据含有车辆号牌信息" in how, how
    assert "共享属性 不予共享 不予共享的依据：《南京市停车场管理条例》第二十条" in how, how
    channels = re.findall(r'<li data-kind="([A-Z_]+)"><span class="kind">([^<]+)</span>', page)
    assert channels == [("ON_REQUEST", "依申请获取"), ("API", "接口调用")]
    assert "向数据资源处提交书面申请" in how and "使用许可 仅限政务用途" in how, how
    assert "南京市交通运输局数据资源处" in how and "电子邮箱：data@jtj.nanjing.example.cn" in how, how
    link = '<a href="https://api.jtj.nanjing.example.cn/parking/v1" rel="nofollow noopener noreferrer">'
    assert link in page and 'href="mailto:data@jtj.nanjing.example.cn"' in page
    # A registration that states no terms says so, in Chinese.
    other = _visible(web.get(f"registrations/{_hit(web, '苏州市公共交通刷卡数据')['id']}").text)
    assert "如何获取 登记主体未说明如何获取本数据。" in other and "不予开放" not in other
    # The search page: the hit says it is not open; the filter by it, named in Chinese, finds it alone.
    hits = web.get("", params={"q": "停车"}).text
    assert '<span class="open open-not_open">不予开放</span>' in hits
    filtered = web.get("", params={"open_attribute": "NOT_OPEN", "channel_kind": "ON_REQUEST"})
    chosen = _visible(filtered.text)
    assert "开放属性：不予开放 ✕" in chosen and "获取方式：依申请获取 ✕" in chosen, chosen
    assert re.findall(r'<h3><a href="/registrations/[^"]+">([^<]+)</a></h3>', filtered.text) == [
        "南京市公共停车泊位数据"
    ]
    wrong = _visible(web.get("", params={"channel_kind": "EMAIL"}).text)
    assert "请从筛选项中选择获取方式" in wrong and _english(wrong) == [], wrong


def test_codes_are_read_in_either_case_and_answered_in_upper_case(web: httpx.Client) -> None:
    code = _hit(web, "南京市公共停车泊位数据")["code"]
    assert code
    page = web.get("check", params={"code": f" {code.lower()} "})
    text = _visible(page.text)
    assert code in text and "有效期" in text and "已验证" in text, text
    assert f'value="{code}"' in page.text
    checked = web.get(f"api/v1/codes/{code.lower()}")
    assert checked.status_code == 200 and checked.json()["code"] == code and checked.json()["valid"]
    assert web.get(f"check/{code.lower()}/print").status_code == 200
    assert web.get(f"check/{code.lower()}/confirmation.tlog").status_code == 200


def test_a_deregistered_code_says_when_and_is_not_presented_as_valid(
    fed: PortalFederation, web: httpx.Client
) -> None:
    code = _hit(web, "江苏省企业登记基础信息")["code"]
    fed.deregister(fed.names["江苏省企业登记基础信息"])
    checked = wait_until(
        lambda: (c := web.get(f"api/v1/codes/{code}").json())["state"] == "DEREGISTERED" and c,
        timeout=30,
        message="the deregistration in the ledger",
    )
    today = datetime.now(CHINA).date().isoformat()
    assert checked["valid"] is False and checked["deregistered_on"] == today
    text = _visible(web.get("check", params={"code": code}).text)
    assert f"该登记已于 {today} 注销，登记编号不再有效" in text, text
    assert "已注销" in text and "原有效期" in text
    assert "有效期" not in text.replace("原有效期", "")  # never presented as in force
    printed = _visible(web.get(f"check/{code}/print").text)
    assert f"{today} 注销，登记编号不再有效" in printed, printed


def test_an_objection_receipt_gives_the_time_in_china_and_the_region_by_name(web: httpx.Client) -> None:
    target = _hit(web, "苏州市公共交通刷卡数据")
    form = {
        "request_id": str(uuid.uuid4()),
        "name": "李四",
        "contact": "lisi@example.cn",
        "reason": "刷卡数据包含未脱敏的卡号",
    }
    receipt = web.post(f"announcements/{target['id']}/objection", data=form)
    assert receipt.status_code == 200, receipt.text
    text = _visible(receipt.text)
    assert "异议已提交" in text and "（北京时间）" in text, text
    assert "UTC" not in text and "nodes/" not in receipt.text and "江苏省登记机构" in text
    instant = re.search(r'<time datetime="([^"]+)">([^<]+)</time>', receipt.text)
    assert instant is not None
    filed = datetime.fromisoformat(instant.group(1).replace("Z", "+00:00"))
    assert instant.group(2) == filed.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
    assert abs(datetime.now(CHINA) - filed) < timedelta(minutes=5)


def test_dates_past_the_published_calendar_are_marked_provisional_wherever_shown(
    web: httpx.Client,
) -> None:
    far = _hit(web, "全省公路路网监测数据")
    near = _hit(web, "苏州市公共交通刷卡数据")
    assert far["announcement_end_provisional"] is True and far["announcement_end"] > str(FAR)
    assert near["announcement_end_provisional"] is False
    listed = {a["data_name"]: a for a in web.get("api/v1/announcements").json()["announcements"]}
    assert listed["全省公路路网监测数据"]["announcement_end_provisional"] is True
    assert listed["苏州市公共交通刷卡数据"]["announcement_end_provisional"] is False
    assert web.get(f"api/v1/registrations/{far['id']}").json()["announcement_end_provisional"] is True
    rows = {
        re.sub(r"<[^>]*>", "", row.split("</td>", 1)[0]).strip(): row
        for row in web.get("announcements").text.split("<tr>")[2:]
    }
    assert f"{far['announcement_end']}（暂定）" in re.sub(r"<[^>]*>", "", rows["全省公路路网监测数据"])
    assert "暂定" not in rows["苏州市公共交通刷卡数据"]
    for path in (f"registrations/{far['id']}", f"announcements/{far['id']}/objection", "?q=路网"):
        text = _visible(web.get(path).text)
        assert f"{far['announcement_end']}（暂定）" in text and "还没有该年度的节假日安排" in text, (
            path,
            text,
        )
    near_page = _visible(web.get(f"registrations/{near['id']}").text)
    assert near["announcement_end"] in near_page and "暂定" not in near_page


def test_a_date_counted_on_weekends_alone_stays_marked_whatever_calendar_the_portal_has(
    fed: PortalFederation, web: httpx.Client, tmp_path: Path
) -> None:
    """The portal counts no working days: it shows the day the managing node counted, with that node's
    mark. A portal whose node has the year's schedule still marks a day its province counted on
    weekends alone (that day may not be the schedule's)."""
    end = date.fromisoformat(_hit(web, "全省公路路网监测数据")["announcement_end"])
    schedule = tmp_path / "working-days.toml"
    schedule.write_text(f'[{end.year}]\nholidays = ["{end.year}-01-01"]\n')
    portal = NodeProcess(
        "national_node.portal",
        env=portal_env(fed.national.address, fed.national_db, REGISTRY_WORKING_DAYS_FILE=str(schedule)),
        cwd=tmp_path,
        ready="serving on",
    ).start()
    try:
        with httpx.Client(base_url=portal.address, timeout=10) as client:
            hit = _hit(client, "全省公路路网监测数据")
            assert hit["announcement_end"] == end.isoformat() and hit["announcement_end_provisional"]
            assert f"{end.isoformat()}（暂定）" in _visible(client.get("announcements").text)
    finally:
        portal.kill()


SECURITY = {
    "content-security-policy": "default-src 'none'; style-src 'self'; img-src 'self' data:;"
    " form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


def test_every_response_carries_the_security_headers_and_a_405_says_what_is_allowed(
    web: httpx.Client,
) -> None:
    first = web.get("")
    answers = [
        first,
        web.get("", headers={"If-None-Match": first.headers["etag"]}),
        web.get("static/portal.css"),
        web.get("api/v1/registrations"),
        web.get("api/v1/openapi.json"),
        web.get("nowhere"),
        web.get("api/v1/nowhere"),
        web.get("check", params={"code": "x"}),
        web.post("api/v1/announcements/x/objections", content=b"{" * 40_000),
        web.get("healthz"),
    ]
    assert answers[1].status_code == 304 and answers[8].status_code == 413
    for answer in answers:
        for name, value in SECURITY.items():
            assert answer.headers.get(name) == value, (answer.request.url, name)
    for method, path, allowed in (
        ("POST", "api/v1/registrations", "GET"),
        ("DELETE", "api/v1/codes/132000026000000001D", "GET"),
        ("PUT", "api/v1/announcements/x/objections", "POST"),
        ("PUT", f"announcements/{uuid.uuid4()}/objection", "GET, POST"),
        ("POST", "check", "GET"),
        ("DELETE", "static/portal.css", "GET, HEAD"),
    ):
        refused = web.request(method, path, content=b"")
        assert refused.status_code == 405, (method, path)
        assert refused.headers.get("allow") == allowed, (method, path, refused.headers)
        assert refused.headers.get("content-security-policy") == SECURITY["content-security-policy"]
