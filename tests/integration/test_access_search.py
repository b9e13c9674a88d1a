"""The search index filters by how the data is obtained, on SQLite and PostgreSQL: the sharing and open
attributes (counted like the other filters) and the kinds of access channel (several per registration,
matched by tag); a change of the terms moves a registration between them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from common.db import Database
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import sync_pb2
from national_node.search import Search, SearchIndex, SearchQuery
from tests.factories import make_content, make_uscc

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 1, tzinfo=UTC)
T, C = r.AccessTerms, r.AccessChannel


def _record(
    data_name: str, terms: r.AccessTerms | None, hour: int, uid: str = "", revision: int = 1
) -> sync_pb2.RegistrationRecord:
    content = make_content(make_uscc("320106"), data_name=data_name)
    content.subject.region = "320000"
    if terms is not None:
        content.access_terms.CopyFrom(terms)
    reg = r.Registration(
        uid=uid or str(uuid.uuid4()),
        name=f"nodes/320000/registrations/r-{uuid.uuid4().hex[:8]}",
        object_type=r.PUBLIC_DATA_RESOURCE,
        state=r.Registration.ACTIVE,
        content=content,
        managing_node="nodes/320000",
    )
    reg.create_time.FromDatetime(T0 + timedelta(hours=hour))
    reg.update_time.FromDatetime(T0 + timedelta(hours=hour))
    return sync_pb2.RegistrationRecord(registration=reg, revision=revision)


def _put(db: Database, *records: sync_pb2.RegistrationRecord) -> None:
    with db.transaction() as session:
        for record in records:
            SearchIndex().put(session, record, now=T0)


def _names(search: Search, q: str = "", **filters: str) -> set[str]:
    return {row.data_name for row in search.search(SearchQuery(q=q, filters=filters, page_size=100)).items}


CORPUS = {
    "江苏省地面气象观测数据": T(
        sharing_attribute=T.UNCONDITIONALLY_SHARED,
        open_attribute=T.UNCONDITIONALLY_OPEN,
        channels=[C(kind=C.API, uri="https://a.cn/"), C(kind=C.FILE_DOWNLOAD, uri="https://b.cn/x.csv")],
    ),
    "南京市气象灾害预警信息": T(
        open_attribute=T.CONDITIONALLY_OPEN,
        open_conditions="实名注册",
        channels=[C(kind=C.FILE_DOWNLOAD, uri="https://c.cn/y.csv")],
    ),
    "南京市医保结算明细数据": T(
        sharing_attribute=T.NOT_SHARED,
        not_shared_basis="《医疗保障基金使用监督管理条例》",
        open_attribute=T.NOT_OPEN,
        not_open_reason="含个人信息",
        channels=[C(kind=C.ON_REQUEST)],
    ),
    "苏州市公共交通刷卡数据": None,  # registered before terms existed
}


def test_the_access_filters_narrow_count_and_follow_a_change_of_terms(national_database: Database) -> None:
    records = {name: _record(name, terms, i) for i, (name, terms) in enumerate(CORPUS.items())}
    _put(national_database, *records.values())
    search = Search(national_database, cached_results=0)

    assert _names(search, open_attribute="NOT_OPEN") == {"南京市医保结算明细数据"}
    assert _names(search, sharing_attribute="UNCONDITIONALLY_SHARED") == {"江苏省地面气象观测数据"}
    assert _names(search, channel_kind="FILE_DOWNLOAD") == {
        "江苏省地面气象观测数据",
        "南京市气象灾害预警信息",
    }
    assert _names(search, "气象", channel_kind="API") == {"江苏省地面气象观测数据"}
    assert _names(search, "南京", channel_kind="ON_REQUEST", open_attribute="NOT_OPEN") == {
        "南京市医保结算明细数据"
    }
    assert _names(search, channel_kind="DATA_SERVICE") == set()

    everything = search.search(SearchQuery())
    opened = {value: count for value, _, count in everything.facets["open_attribute"]}
    assert opened == {"UNCONDITIONALLY_OPEN": 1, "CONDITIONALLY_OPEN": 1, "NOT_OPEN": 1, "": 1}
    shared = {value: count for value, _, count in everything.facets["sharing_attribute"]}
    assert shared == {"UNCONDITIONALLY_SHARED": 1, "NOT_SHARED": 1, "": 2}
    narrowed = search.search(SearchQuery(filters={"channel_kind": "FILE_DOWNLOAD"}))
    assert narrowed.total == 2
    assert {v: n for v, _, n in narrowed.facets["open_attribute"]} == {
        "UNCONDITIONALLY_OPEN": 1,
        "CONDITIONALLY_OPEN": 1,
    }

    # The bus-card data states its terms in a change: the index follows the new revision.
    old = records["苏州市公共交通刷卡数据"]
    changed = _record(
        "苏州市公共交通刷卡数据",
        T(open_attribute=T.NOT_OPEN, not_open_reason="含个人行程", channels=[C(kind=C.ON_REQUEST)]),
        3,
        uid=old.registration.uid,
        revision=2,
    )
    _put(national_database, changed)
    assert _names(search, open_attribute="NOT_OPEN") == {"南京市医保结算明细数据", "苏州市公共交通刷卡数据"}
    assert _names(search, channel_kind="ON_REQUEST") == {"南京市医保结算明细数据", "苏州市公共交通刷卡数据"}
    # And a later change that drops the channel takes it out again.
    _put(national_database, _record("苏州市公共交通刷卡数据", None, 3, uid=old.registration.uid, revision=3))
    assert _names(search, channel_kind="ON_REQUEST") == {"南京市医保结算明细数据"}
    assert _names(search, open_attribute="NOT_OPEN") == {"南京市医保结算明细数据"}
