"""Screenshots of the public portal for the README: ``python scripts/portal_screenshots.py``.

Starts a local federation with a few registrations (tests/portal_support.py), opens the search page
and a registration page in Debian's Chromium, and writes docs/screenshots/search.png and
registration.png, and search-phone.png: the search page's first screen on a phone.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.portal_support import Seed, start_portal_federation  # noqa: E402

SEEDS = [
    Seed(
        "江苏省逐小时地面气象观测数据",
        subject_name="江苏省气象局",
        update_frequency="实时",
        summary="全省 70 个国家级地面气象观测站逐小时的气温、降水、风向风速和能见度观测值",
    ),
    Seed(
        "南京市气象灾害预警信息",
        subject_name="南京市气象局",
        update_frequency="实时",
        object_type=3,
        summary="暴雨、大风、高温、寒潮等气象灾害预警信号的发布、变更和解除记录",
    ),
    Seed(
        "南京市医保结算明细数据",
        subject_name="南京市医疗保障局",
        summary="定点医药机构医保基金结算明细，按日汇总，已去标识化",
        scenarios=("医保基金监管", "商业保险"),
    ),
    Seed(
        "全省医保定点医药机构目录",
        subject_name="江苏省医疗保障局",
        update_frequency="每月",
        stage="announced",
        summary="全省医保定点医院、诊所和药店的名称、地址、等级和服务范围",
    ),
    Seed(
        "全省中医保健服务机构名录",
        subject_name="江苏省卫生健康委员会",
        update_frequency="每月",
        summary="全省中医养生保健服务机构的名称、地址和服务项目",
    ),
    Seed(
        "苏州市公共交通刷卡数据",
        subject_name="苏州市交通运输局",
        stage="announced",
        summary="公交、地铁刷卡记录，按线路和时段汇总",
        scenarios=("线网优化", "客流预测"),
    ),
]


def main() -> int:
    out = ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        fed = start_portal_federation(Path(tmp), SEEDS)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1200, "height": 860}, locale="zh-CN")
                page.goto(fed.url + "?q=医保")
                page.screenshot(path=str(out / "search.png"), full_page=True)
                page.click("ol.hits h3 a >> nth=0")
                page.wait_for_load_state()
                page.screenshot(path=str(out / "registration.png"), full_page=True)
                phone = browser.new_page(
                    viewport={"width": 390, "height": 844}, is_mobile=True, locale="zh-CN"
                )
                phone.goto(fed.url + "?q=医保")
                phone.screenshot(path=str(out / "search-phone.png"))
                browser.close()
        finally:
            fed.stop()
    sys.stdout.write(f"wrote search.png, registration.png and search-phone.png in {out}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
