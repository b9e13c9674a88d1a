"""The search index of the national ledger, on SQLite and PostgreSQL: what a word finds, filters and
their counts, order, paging while the ledger changes (how the index follows the ledger: test_indexer)."""

from __future__ import annotations

import random
import threading
import time
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


@pytest.fixture
def database(national_database: Database) -> Database:
    return national_database


def record(
    data_name: str,
    *,
    subject: str = "江苏省大数据管理中心",
    uscc: str = "",
    state: int = r.Registration.ACTIVE,
    object_type: int = r.PUBLIC_DATA_RESOURCE,
    node: str = "320000",
    frequency: str = "每日",
    summary: str = "按日汇总的统计数据",
    created: datetime = T0,
    revision: int = 1,
    uid: str = "",
) -> sync_pb2.RegistrationRecord:
    content = make_content(uscc or make_uscc(node[:2] + "0106"), data_name=data_name)
    content.subject.name, content.subject.region = subject, node
    content.update_frequency, content.summary = frequency, summary
    reg = r.Registration(
        uid=uid or str(uuid.uuid4()),
        name=f"nodes/{node}/registrations/r-{uuid.uuid4().hex[:8]}",
        object_type=object_type,
        state=state,
        content=content,
        managing_node=f"nodes/{node}",
    )
    reg.create_time.FromDatetime(created)
    reg.update_time.FromDatetime(created)
    return sync_pb2.RegistrationRecord(registration=reg, revision=revision)


def put(db: Database, *records: sync_pb2.RegistrationRecord) -> None:
    index = SearchIndex()
    with db.transaction() as session:
        for rec in records:
            index.put(session, rec, now=T0)


CORPUS = [
    ("江苏省逐小时地面气象观测数据", "江苏省气象局", "实时"),
    ("南京市气象灾害预警信息", "南京市气象局", "实时"),
    ("南京市医保结算明细数据", "南京市医疗保障局", "每日"),
    ("全省医保定点医药机构目录", "江苏省医疗保障局", "每月"),
    ("全省中医保健服务机构名录", "江苏省卫生健康委员会", "每月"),
    ("苏州市公共交通刷卡数据", "苏州市交通运输局", "每日"),
]


def seed_corpus(db: Database) -> dict[str, sync_pb2.RegistrationRecord]:
    records = {}
    for i, (name, subject, frequency) in enumerate(CORPUS):
        records[name] = record(
            name,
            subject=subject,
            frequency=frequency,
            object_type=r.OPEN_DATA_RESOURCE if i % 3 == 2 else r.PUBLIC_DATA_RESOURCE,
            created=T0 + timedelta(hours=i),
        )
    put(db, *records.values())
    return records


def names(result: object) -> list[str]:
    return [row.data_name for row in result.items]  # type: ignore[attr-defined]


def test_a_two_character_word_finds_the_registrations_that_have_it_and_no_others(database: Database) -> None:
    seed_corpus(database)
    search = Search(database)
    assert set(names(search.search(SearchQuery(q="气象")))) == {
        "江苏省逐小时地面气象观测数据",
        "南京市气象灾害预警信息",
    }
    # 医保 is in 医保结算 and 医保定点, not in 中医保健 (中医 + 保健).
    assert set(names(search.search(SearchQuery(q="医保")))) == {
        "南京市医保结算明细数据",
        "全省医保定点医药机构目录",
    }
    assert names(search.search(SearchQuery(q="南京 气象"))) == ["南京市气象灾害预警信息"]
    assert names(search.search(SearchQuery(q="不存在的词"))) == []
    # Every registration lists 交通规划 among its application scenarios; the one with 交通 in its
    # data name comes first.
    ranked = names(search.search(SearchQuery(q="交通")))
    assert len(ranked) == len(CORPUS) and ranked[0] == "苏州市公共交通刷卡数据"


def test_filters_narrow_and_the_counts_of_each_facet_add_up_to_the_total(database: Database) -> None:
    seed_corpus(database)
    search = Search(database, facet_cache_seconds=0)
    everything = search.search(SearchQuery())
    assert everything.total == len(CORPUS)
    for facet, values in everything.facets.items():
        if facet not in ("subject", "update_frequency"):
            assert sum(count for _, _, count in values) == everything.total, facet
    frequency = dict((v, n) for v, _, n in everything.facets["update_frequency"])
    assert frequency == {"实时": 2, "每日": 2, "每月": 2}
    daily = search.search(SearchQuery(filters={"update_frequency": "每日"}))
    assert daily.total == 2 and set(names(daily)) == {"南京市医保结算明细数据", "苏州市公共交通刷卡数据"}
    both = search.search(SearchQuery(q="医保", filters={"update_frequency": "每月"}))
    assert names(both) == ["全省医保定点医药机构目录"]
    assert [(v, n) for v, _, n in both.facets["update_frequency"]] == [("每月", 1)]
    # Open data: the 3rd and the 6th of the corpus.
    open_data = search.search(SearchQuery(q="医保", filters={"object_type": "OPEN_DATA_RESOURCE"}))
    assert names(open_data) == ["南京市医保结算明细数据"]
    assert search.search(SearchQuery(q="气象", filters={"object_type": "OPEN_DATA_RESOURCE"})).total == 0


def test_newest_first_is_by_registration_time(database: Database) -> None:
    seed_corpus(database)
    result = Search(database).search(SearchQuery(sort="newest"))
    assert names(result) == [name for name, _, _ in reversed(CORPUS)]


def test_paging_while_the_ledger_changes_loses_and_repeats_nothing(database: Database) -> None:
    """Pages of 7 through 60 registrations while other registrations are added and existing ones
    change state: every registration there from start to end is seen exactly once."""
    rng = random.Random(7)
    base = [
        record(f"气象观测站点数据{i:03d}", created=T0 + timedelta(minutes=rng.randrange(10_000)))
        for i in range(60)
    ]
    put(database, *base)
    search = Search(database)
    stop = threading.Event()
    errors: list[BaseException] = []

    def churn() -> None:
        n = 0
        try:
            while not stop.is_set() and n < 400:
                n += 1
                changed = base[rng.randrange(len(base))]
                changed.registration.state = rng.choice([r.Registration.ACTIVE, r.Registration.EXPIRED])
                changed.revision += 1
                added = record(f"气象新增数据{n:03d}", created=T0 + timedelta(minutes=rng.randrange(20_000)))
                put(database, changed, added)
        except BaseException as error:  # reported by the test
            errors.append(error)

    for sort in ("newest", "relevance"):
        worker = threading.Thread(target=churn)
        stop.clear()
        worker.start()
        seen: list[str] = []
        after = None
        query = SearchQuery(q="气象", sort=sort, page_size=7)
        for _ in range(500):  # bounded: far more pages than there can be
            page = search.search(query, after)
            seen += [row.uid for row in page.items]
            after = page.next_position
            if after is None:
                break
        stop.set()
        worker.join(30)
        assert not errors
        assert len(seen) == len(set(seen)), f"{sort}: a registration was repeated"
        assert {rec.registration.uid for rec in base} <= set(seen), f"{sort}: a registration was lost"


def test_past_the_cap_postgresql_estimates_the_counts_and_sqlite_counts_them(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    import national_node.search as search_module

    monkeypatch.setattr(search_module, "COUNT_CAP", 10)
    put(database, *[record(f"气象站点观测数据{i}", frequency="每日" if i % 3 else "实时") for i in range(40)])
    with database.engine.connect() as conn:
        if database.engine.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE search_index")
    result = Search(database, facet_cache_seconds=0).search(SearchQuery(q="气象", page_size=5))
    if database.engine.dialect.name == "postgresql":
        assert result.approximate and result.total > 10
        assert sum(n for _, _, n in result.facets["update_frequency"]) == pytest.approx(result.total, rel=0.1)
    else:
        assert not result.approximate and result.total == 40
    assert len(result.items) == 5 and result.next_position is not None  # the page itself is exact


def test_counts_are_remembered_for_their_period_and_then_counted_again(database: Database) -> None:
    seed_corpus(database)
    search = Search(database, facet_cache_seconds=0.5)
    assert search.search(SearchQuery(q="气象")).total == 2
    put(database, record("徐州市气象观测站名录"))
    remembered = search.search(SearchQuery(q="气象"))
    assert remembered.total == 2 and len(remembered.items) == 3  # the page is fresh, the count not yet
    time.sleep(0.6)
    assert search.search(SearchQuery(q="气象")).total == 3


def test_the_portals_postgresql_sessions_plan_each_search_for_its_own_words(postgres_url: str) -> None:
    """The portal's sessions never fall back to PostgreSQL's generic plan of a prepared search, which
    reads every match of a broad word (seconds at 10^6 registrations: benchmarks/README.md)."""
    from sqlalchemy import text

    from national_node.portal.server import portal_database
    from national_node.settings import NationalSettings

    settings = NationalSettings(database_url=postgres_url + "?options=-c%20statement_timeout%3D5000")
    db = portal_database(settings)
    try:
        with db.engine.connect() as conn:
            assert conn.execute(text("SHOW plan_cache_mode")).scalar_one() == "force_custom_plan"
            assert conn.execute(text("SHOW statement_timeout")).scalar_one() == "5s"  # the URL's kept
    finally:
        db.dispose()
