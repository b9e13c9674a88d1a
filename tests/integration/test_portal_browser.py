"""The portal in a real browser (Debian's Chromium, driven by Playwright): search, filters, the
objection form, the code check, public pages, keyboard-only use, and no console errors anywhere."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import date, timedelta

import httpx
import pytest

from common.gen.registry.v1 import registration_service_pb2 as rs
from tests.factories import make_uscc
from tests.nodes import wait_until
from tests.portal_support import PortalFederation, Seed, start_portal_federation
from tests.trust import metadata, token

playwright = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHROMIUM = os.environ.get("REGISTRY_TEST_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")

SEEDS = [
    Seed("江苏省逐小时地面气象观测数据", subject_name="江苏省气象局", update_frequency="实时"),
    Seed("南京市气象灾害预警信息", subject_name="南京市气象局", update_frequency="实时", object_type=3),
    Seed("南京市医保结算明细数据", subject_name="南京市医疗保障局"),
    Seed("全省中医保健服务机构名录", subject_name="江苏省卫生健康委员会", update_frequency="每月"),
    Seed("苏州市公共交通刷卡数据", subject_name="苏州市交通运输局", stage="announced"),
    Seed("常州市公共自行车站点信息", subject_name="常州市交通运输局", stage="announced"),
]


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalFederation]:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM} (.ci/run installs Debian's chromium)")
    federation = start_portal_federation(tmp_path_factory.mktemp("browser"), SEEDS)
    yield federation
    federation.stop()


@pytest.fixture(scope="module")
def browser(fed: PortalFederation) -> Iterator[object]:
    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: object, fed: PortalFederation) -> Iterator[object]:
    context = browser.new_context(locale="zh-CN", java_script_enabled=False)  # type: ignore[attr-defined]
    opened = context.new_page()
    problems: list[str] = []
    opened.on(
        "console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None
    )
    opened.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    opened.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 500 else None,
    )
    opened.set_default_timeout(15_000)
    opened.goto(fed.url)
    yield opened
    context.close()
    assert problems == [], problems


def _follow(page: object, selector: str) -> None:
    """Click a link (or a form's button) and wait for the page it leads to."""
    with page.expect_navigation():  # type: ignore[attr-defined]
        page.click(selector)  # type: ignore[attr-defined]


def _submit(page: object, field: str) -> None:
    with page.expect_navigation():  # type: ignore[attr-defined]
        page.press(field, "Enter")  # type: ignore[attr-defined]


def _hits(page: object) -> list[str]:
    return page.locator("ol.hits h3 a").all_inner_texts()  # type: ignore[attr-defined, no-any-return]


def test_searching_a_two_character_word_finds_the_right_registrations_and_not_others(page: object) -> None:
    page.fill("#q", "气象")  # type: ignore[attr-defined]
    _submit(page, "#q")
    assert sorted(_hits(page)) == sorted(["江苏省逐小时地面气象观测数据", "南京市气象灾害预警信息"])
    assert page.inner_text("#total") == "2"  # type: ignore[attr-defined]
    page.fill("#q", "医保")  # type: ignore[attr-defined]
    _submit(page, "#q")
    assert _hits(page) == ["南京市医保结算明细数据"]  # and not 中医保健
    assert page.locator("ol.hits mark").first.inner_text() == "医保"  # type: ignore[attr-defined]


def test_a_mistyped_word_shows_did_you_mean_and_a_partial_match_says_so(page: object) -> None:
    page.fill("#q", "气像")  # type: ignore[attr-defined]
    _submit(page, "#q")
    assert _hits(page) == []
    assert page.inner_text("#suggestion") == "您是不是要找：气象"  # type: ignore[attr-defined]
    assert not page.locator("#partial-match").count()  # type: ignore[attr-defined]
    _follow(page, "#suggestion a")
    assert page.input_value("#q") == "气象"  # type: ignore[attr-defined]
    assert sorted(_hits(page)) == sorted(["江苏省逐小时地面气象观测数据", "南京市气象灾害预警信息"])
    page.fill("#q", "气象治理")  # type: ignore[attr-defined]
    _submit(page, "#q")
    assert page.inner_text("#partial-match") == "没有完全匹配的结果，以下为部分匹配（未包含：治理）。"  # type: ignore[attr-defined]
    assert sorted(_hits(page)) == sorted(["江苏省逐小时地面气象观测数据", "南京市气象灾害预警信息"])
    # An abbreviation finds its full form, and the page says what else was searched.
    page.fill("#q", "医疗保障")  # type: ignore[attr-defined]
    _submit(page, "#q")
    assert _hits(page) == ["南京市医保结算明细数据"]
    assert "医保" in page.inner_text("#synonyms")  # type: ignore[attr-defined]


def _facet_counts(page: object, facet: str) -> dict[str, int]:
    items = page.locator(f'ul[data-facet="{facet}"] a')  # type: ignore[attr-defined]
    return {
        items.nth(i).locator(".label").inner_text(): int(items.nth(i).locator(".count").inner_text())
        for i in range(items.count())
    }


def test_filters_narrow_the_results_and_their_counts_add_up(page: object) -> None:
    total = int(page.inner_text("#total"))  # type: ignore[attr-defined]
    assert total == len(SEEDS)
    for facet in ("object_type", "region", "state"):
        assert sum(_facet_counts(page, facet).values()) == total, facet
    frequencies = _facet_counts(page, "update_frequency")
    assert frequencies == {"每日": 3, "实时": 2, "每月": 1}
    _follow(page, 'ul[data-facet="update_frequency"] a:has-text("实时")')
    assert int(page.inner_text("#total")) == 2  # type: ignore[attr-defined]
    assert sorted(_hits(page)) == sorted(["江苏省逐小时地面气象观测数据", "南京市气象灾害预警信息"])
    _follow(page, 'ul[data-facet="object_type"] a:has-text("开放数据资源")')
    assert _hits(page) == ["南京市气象灾害预警信息"]
    # Taking a filter off widens again.
    _follow(page, 'ul.chosen a:has-text("更新频率")')
    assert int(page.inner_text("#total")) == sum(  # type: ignore[attr-defined]
        _facet_counts(page, "object_type").values()
    )


def test_a_registration_page_shows_only_public_fields(page: object, fed: PortalFederation) -> None:
    from national_node.public import PUBLIC_FIELDS

    page.fill("#q", "医保结算")  # type: ignore[attr-defined]
    _submit(page, "#q")
    _follow(page, "ol.hits h3 a")
    assert page.inner_text("h1") == "南京市医保结算明细数据"  # type: ignore[attr-defined]
    shown = page.locator("#public-fields .field").evaluate_all(  # type: ignore[attr-defined]
        "nodes => nodes.map(n => n.dataset.field)"
    )
    assert set(shown) <= {field.key for field in PUBLIC_FIELDS} and "summary" in shown
    text = page.inner_text("body")  # type: ignore[attr-defined]
    assert Seed.secret not in text and "江苏省政务云" not in text
    assert "seed" not in text  # who did each step is not shown
    assert "赋码，登记生效" in text


def test_an_objection_filed_through_the_form_appears_in_the_provinces_history(
    page: object, fed: PortalFederation
) -> None:
    _follow(page, "text=登记公示")
    _follow(page, 'a[aria-label="对“苏州市公共交通刷卡数据”提出异议"]')
    page.fill("#name", "李四")  # type: ignore[attr-defined]
    page.fill("#contact", "lisi@example.cn")  # type: ignore[attr-defined]
    page.fill("#reason", "刷卡数据包含未脱敏的卡号")  # type: ignore[attr-defined]
    page.fill("#evidence_uri", "https://evidence.example.cn/sample.csv")  # type: ignore[attr-defined]
    _follow(page, "button[type=submit]")
    assert page.inner_text("h1") == "异议已提交"  # type: ignore[attr-defined]
    assert "江苏省" in page.inner_text("[role=status]")  # type: ignore[attr-defined]
    name = fed.names["苏州市公共交通刷卡数据"]
    channel, stub = fed.registration_stub()
    try:
        entries = wait_until(
            lambda: [
                e
                for e in stub.ListHistory(
                    rs.ListHistoryRequest(parent=name), metadata=metadata(token()), timeout=10
                ).entries
                if e.action == "object"
            ],
            timeout=30,
            message="the objection in the province's history",
        )
    finally:
        channel.close()
    assert [e.reason for e in entries] == ["刷卡数据包含未脱敏的卡号"]


def test_a_form_with_mistakes_says_what_to_fix_and_keeps_what_was_typed(page: object) -> None:
    page.goto(page.url + "announcements")  # type: ignore[attr-defined]
    _follow(page, 'a[aria-label="对“常州市公共自行车站点信息”提出异议"]')
    page.fill("#name", "王五")  # type: ignore[attr-defined]
    page.fill("#contact", "13800000000")  # type: ignore[attr-defined]
    page.fill("#reason", "理由")  # type: ignore[attr-defined]
    page.fill("#evidence_sha256", "not-a-hash")  # type: ignore[attr-defined]
    _follow(page, "button[type=submit]")
    assert page.inner_text("#errors-title") == "请修改以下内容"  # type: ignore[attr-defined]
    assert page.get_attribute("#evidence_sha256", "aria-invalid") == "true"  # type: ignore[attr-defined]
    assert page.input_value("#name") == "王五"  # type: ignore[attr-defined]


def test_the_form_of_an_announcement_that_ended_meanwhile_says_so(
    page: object, fed: PortalFederation
) -> None:
    page.goto(page.url + "announcements")  # type: ignore[attr-defined]
    _follow(page, 'a[aria-label="对“常州市公共自行车站点信息”提出异议"]')
    page.fill("#name", "赵六")  # type: ignore[attr-defined]
    page.fill("#contact", "zhao@example.cn")  # type: ignore[attr-defined]
    page.fill("#reason", "站点位置有误")  # type: ignore[attr-defined]
    # Meanwhile the applicant withdraws the application: the announcement ends.
    channel, stub = fed.registration_stub()
    try:
        stub.WithdrawApplication(
            rs.WithdrawApplicationRequest(
                name=fed.names["常州市公共自行车站点信息"], reason="撤回", request_id=str(uuid.uuid4())
            ),
            metadata=metadata(token()),
            timeout=10,
        )
    finally:
        channel.close()
    wait_until(
        lambda: "常州市公共自行车站点信息" not in _announced(fed), timeout=30, message="the ledger to have it"
    )
    _follow(page, "button[type=submit]")
    assert page.inner_text("h1") == "公示已结束"  # type: ignore[attr-defined]


def _announced(fed: PortalFederation) -> set[str]:
    import httpx

    listed = httpx.get(fed.url + "api/v1/announcements", timeout=10).json()["announcements"]
    return {a["data_name"] for a in listed}


def test_a_code_check_shows_the_verified_confirmation(page: object) -> None:
    page.fill("#q", "气象观测")  # type: ignore[attr-defined]
    _submit(page, "#q")
    code = page.locator("ol.hits .code").first.inner_text()  # type: ignore[attr-defined]
    _follow(page, "text=登记结果查询")
    page.fill("#code", code)  # type: ignore[attr-defined]
    _submit(page, "#code")
    verification = page.locator("#verification")  # type: ignore[attr-defined]
    assert verification.get_attribute("data-verified") == "true"
    assert "已验证" in verification.inner_text() and "树大小" in verification.inner_text()
    with page.expect_download() as download:  # type: ignore[attr-defined]
        page.click("text=下载登记确认单")  # type: ignore[attr-defined]
    assert download.value.suggested_filename == f"{code}.tlog"
    _follow(page, "text=打印确认单")
    assert page.inner_text("h1") == "公共数据资源登记结果确认单"  # type: ignore[attr-defined]
    assert code in page.inner_text("table.certificate")  # type: ignore[attr-defined]
    # A wrong code is explained on the page.
    page.goto(page.url.split("/check")[0] + "/check?code=NOT-A-CODE")  # type: ignore[attr-defined]
    assert "编号格式不正确" in page.inner_text("#code-error")  # type: ignore[attr-defined]


def test_the_portal_works_with_the_keyboard_alone(page: object) -> None:
    page.keyboard.press("Tab")  # type: ignore[attr-defined]
    assert page.evaluate("document.activeElement.textContent") == "跳到正文"  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    # From the skip link to the query box, then type and submit.
    for _ in range(10):  # bounded
        page.keyboard.press("Tab")  # type: ignore[attr-defined]
        if page.evaluate("document.activeElement.id") == "q":  # type: ignore[attr-defined]
            break
    assert page.evaluate("document.activeElement.id") == "q"  # type: ignore[attr-defined]
    page.keyboard.type("医保")  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    page.wait_for_url("**q=*")  # type: ignore[attr-defined]
    for _ in range(40):  # bounded: Tab until the first result's link
        page.keyboard.press("Tab")  # type: ignore[attr-defined]
        if page.evaluate("document.activeElement.closest('ol.hits') !== null"):  # type: ignore[attr-defined]
            break
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    page.wait_for_url("**/registrations/*")  # type: ignore[attr-defined]
    assert page.inner_text("h1") == "南京市医保结算明细数据"  # type: ignore[attr-defined]
    # Every focusable element shows where the focus is.
    outline = page.evaluate(  # type: ignore[attr-defined]
        "(() => { const a = document.querySelector('nav a'); a.focus();"
        " return getComputedStyle(a).outlineStyle; })()"
    )
    assert outline != "none"


def test_on_a_phone_the_first_result_is_on_the_first_screen_and_the_filters_follow(
    browser: object, fed: PortalFederation
) -> None:
    phone = browser.new_context(  # type: ignore[attr-defined]
        locale="zh-CN", java_script_enabled=False, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    try:
        page = phone.new_page()
        page.goto(fed.url + "?q=气象")
        first = page.locator("ol.hits li").first.bounding_box()
        filters = page.locator("aside.facets").bounding_box()
        assert first["y"] + first["height"] <= 844, first  # all of it, without scrolling
        assert filters["y"] > first["y"]
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing off the side
        # The filters are a link away.
        page.click("text=按登记对象、地区、状态等筛选")
        assert page.evaluate("location.hash") == "#facets-title"
    finally:
        phone.close()
    wide = browser.new_context(
        locale="zh-CN", java_script_enabled=False, viewport={"width": 1200, "height": 860}
    )  # type: ignore[attr-defined]
    try:
        page = wide.new_page()
        page.goto(fed.url + "?q=气象")
        results = page.locator("section.results").bounding_box()
        filters = page.locator("aside.facets").bounding_box()
        # On a wide screen the filters stand in a column left of the results.
        assert filters["x"] + filters["width"] <= results["x"] and abs(filters["y"] - results["y"]) < 5
        assert not page.locator(".to-facets").is_visible()
    finally:
        wide.close()


def test_a_demand_posted_through_the_api_is_found_on_the_portal_with_its_matching_registrations(
    page: object, fed: PortalFederation
) -> None:
    organisation = make_uscc("110105")
    body = {
        "title": "医保结算数据",
        "purpose": "商业健康险快速理赔，核验参保人的医保结算记录",
        "fields": ["结算日期", "医疗机构", "结算金额"],
        "frequency": "每日",
        "deadline": (date.today() + timedelta(days=60)).isoformat(),
        "organisation_uscc": organisation,
        "organisation_name": "某某健康保险股份有限公司",
        "request_id": str(uuid.uuid4()),
    }
    url = f"{fed.url.rstrip('/')}/api/v1/demands"
    # Without a data user's token nothing is posted; with one naming the organisation it is.
    assert httpx.post(url, json=body, timeout=20).status_code == 401
    stranger = token("zhao.liu", ("data_user",), (make_uscc("440300"),))
    refused = httpx.post(url, json=body, headers={"Authorization": f"Bearer {stranger}"}, timeout=20)
    assert refused.status_code == 403 and refused.json()["error"]["reason"] == "NOT_YOUR_SUBJECT"
    user = token("li.si", ("data_user",), (organisation,))
    posted = httpx.post(url, json=body, headers={"Authorization": f"Bearer {user}"}, timeout=20)
    assert posted.status_code == 201, posted.text
    assert [m["data_name"] for m in posted.json()["matches"]] == ["南京市医保结算明细数据"]

    _follow(page, "text=数据需求")
    page.fill("#q", "医保结算")  # type: ignore[attr-defined]
    _submit(page, "#q")
    _follow(page, "table.demands a:text('医保结算数据')")
    assert page.inner_text("h1") == "医保结算数据"  # type: ignore[attr-defined]
    text = page.inner_text("main")  # type: ignore[attr-defined]
    assert "某某健康保险股份有限公司" in text and "待响应" in text and "li.si" not in text
    _follow(page, "ul.matches a")
    assert page.inner_text("h1") == "南京市医保结算明细数据"  # type: ignore[attr-defined]


def test_the_statistics_downloads_and_disclosures_pages_load_whole_in_a_browser(page: object) -> None:
    """The charts are images the page's own policy lets the browser draw (a blocked one is a console
    error, which fails the test), each with its table; the other new pages answer from the menu."""
    seen: list[tuple[str, int, str]] = []
    page.on(  # type: ignore[attr-defined]
        "response", lambda r: seen.append((r.url, r.status, r.headers.get("content-type", "")))
    )
    _follow(page, "nav >> text=统计")
    assert page.inner_text("h1") == "统计"  # type: ignore[attr-defined]
    images = page.locator("main figure img")  # type: ignore[attr-defined]
    assert images.count() == 8 and page.locator("main table").count() == 8  # type: ignore[attr-defined]
    charts = [(url, status, kind) for url, status, kind in seen if url.endswith(".svg")]
    assert len(charts) == 8 and all(s == 200 and k.startswith("image/svg+xml") for _, s, k in charts), charts
    _follow(page, "nav >> text=全量下载")
    assert page.inner_text("h1") == "全量下载"  # type: ignore[attr-defined]
    _follow(page, "nav >> text=信息披露")
    assert page.inner_text("h1") == "授权运营信息披露"  # type: ignore[attr-defined]
