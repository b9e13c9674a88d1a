"""The search index of the national ledger, on SQLite and PostgreSQL: what a word finds, filters and
their counts, order, paging while the ledger changes (how the index follows the ledger: test_indexer)."""

from __future__ import annotations

import random
import re
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest

from common.db import Database
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import sync_pb2
from common.registryctl.files import load_application
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


def test_the_walkthroughs_search_finds_the_example_application(database: Database) -> None:
    """The README's walkthrough registers deploy/examples/application.toml and says which query of
    the portal's search finds it: that query finds it."""
    root = Path(__file__).resolve().parents[2]
    walkthrough = (root / "README.md").read_text(encoding="utf-8").split("## Walkthrough", 1)[1]
    said = re.search(r"/\?q=(\S+) finds it", walkthrough)
    assert said is not None, "the walkthrough no longer says what the search finds"
    example = record("", node="320000")
    example.registration.content.CopyFrom(load_application(root / "deploy" / "examples" / "application.toml"))
    seed_corpus(database)  # other registrations, which mention 交通 (traffic) among their scenarios
    put(database, example)
    found = Search(database).search(SearchQuery(q=unquote(said.group(1))))
    assert example.registration.uid in [row.uid for row in found.items], said.group(1)


# -- as people write ----------------------------------------------------------------------------------


def test_an_abbreviation_finds_its_full_form_and_traditional_characters_find_simplified_ones(
    database: Database,
) -> None:
    put(
        database,
        record("无锡市社会保险费缴纳明细", subject="无锡市人力资源和社会保障局"),
        record("苏州市公共交通刷卡数据", subject="苏州市交通运输局"),
        record("廣州市公共交通客流數據", subject="廣州市交通運輸局", node="440000"),
        record("全省中医保健服务机构名录", subject="江苏省卫生健康委员会"),
    )
    search = Search(database)
    assert names(search.search(SearchQuery(q="社保"))) == ["无锡市社会保险费缴纳明细"]
    buses = {"苏州市公共交通刷卡数据", "廣州市公共交通客流數據"}
    assert set(names(search.search(SearchQuery(q="公交")))) == buses
    assert names(search.search(SearchQuery(q="廣州 公交"))) == ["廣州市公共交通客流數據"]
    assert names(search.search(SearchQuery(q="广州 客流"))) == ["廣州市公共交通客流數據"]
    result = search.search(SearchQuery(q="社保"))
    assert "社会保险" in result.synonyms and not result.partial and result.suggestion == ""
    # Only whole words take synonyms: nothing of 医保 (医疗保障) in 中医保健.
    assert search.search(SearchQuery(q="医保")).total == 0


def test_an_operators_synonyms_take_effect_without_reindexing(database: Database, tmp_path: Path) -> None:
    from national_node.synonyms import Synonyms

    put(database, record("江苏健康码申领记录", subject="江苏省大数据管理中心"))
    assert Search(database).search(SearchQuery(q="苏康码")).total == 0
    mine = tmp_path / "synonyms.txt"
    mine.write_text("苏康码, 江苏健康码\n", encoding="utf-8")
    assert names(Search(database, synonyms=Synonyms.load(mine)).search(SearchQuery(q="苏康码"))) == [
        "江苏健康码申领记录"
    ]


def test_a_match_on_the_data_name_comes_before_a_match_on_the_subject_alone(database: Database) -> None:
    put(
        database,
        record("南京市气象灾害预警信息", subject="南京市气象局", created=T0),
        record("江苏省逐小时地面气象观测数据", subject="江苏省气象局", created=T0 + timedelta(hours=1)),
        # Newer, but 气象 only in its subject's name, then only in its summary.
        record("全省降水量短期预报数据", subject="江苏省气象局", created=T0 + timedelta(hours=2)),
        record("农业服务产品", summary="农业气象旬报", created=T0 + timedelta(hours=3)),
    )
    assert names(Search(database).search(SearchQuery(q="气象"))) == [
        "江苏省逐小时地面气象观测数据",
        "南京市气象灾害预警信息",
        "全省降水量短期预报数据",
        "农业服务产品",
    ]


def test_a_mistyped_word_gets_a_suggestion_from_the_words_of_names_that_finds_something(
    database: Database,
) -> None:
    seed_corpus(database)
    search = Search(database)
    result = search.search(SearchQuery(q="气像"))
    assert result.total == 0 and result.items == [] and result.suggestion == "气象"
    assert search.search(SearchQuery(q="气像观测")).suggestion == "气象观测"
    # A query that finds something is not corrected; one with no near word gets no suggestion.
    assert search.search(SearchQuery(q="气象")).suggestion == ""
    assert search.search(SearchQuery(q="不存在的词")).suggestion == ""
    # A correction that would find nothing with the filters chosen is not offered.
    filtered = search.search(SearchQuery(q="气像", filters={"update_frequency": "每年"}))
    assert filtered.suggestion == ""
    # Words of names indexed after the first suggestion are suggested too.
    put(database, record("全省降水量预报数据"))
    assert search.search(SearchQuery(q="降水亮")).suggestion == "降水量"


def test_when_nothing_holds_every_word_a_partial_match_is_marked_and_pages_as_one_result(
    database: Database,
) -> None:
    put(
        database,
        *[
            record(f"空气质量监测站点{i:02d}", summary="小时浓度", created=T0 + timedelta(minutes=i))
            for i in range(7)
        ],
        # 治理 is more common (in these names) than 空气: 空气 is what a partial match keeps.
        *[
            record(f"城市治理事件{i:02d}", summary="网格事件", created=T0 + timedelta(hours=1, minutes=i))
            for i in range(9)
        ],
    )
    search = Search(database)
    first = search.search(SearchQuery(q="空气治理", page_size=5))
    assert first.partial and first.omitted == ["治理"] and first.total == 7
    seen = names(first)
    after = first.next_position
    for _ in range(5):  # bounded
        if after is None:
            break
        page = search.search(SearchQuery(q="空气治理", page_size=5), after)
        assert page.partial and page.omitted == ["治理"]
        seen += names(page)
        after = page.next_position
    assert sorted(seen) == [f"空气质量监测站点{i:02d}" for i in range(7)]
    # A query whose words are all held by some registration is no partial match.
    assert not search.search(SearchQuery(q="空气质量")).partial


def test_the_indexer_keeps_the_words_of_names_for_suggestions(database: Database) -> None:
    from sqlmodel import select

    from national_node.models import SearchWordRow

    put(database, record("南京市气象灾害预警信息", subject="南京市气象局"))
    put(database, record("南京市气象灾害预警信息", subject="南京市气象局"))  # the same words: no new rows
    with database.transaction(write=False) as session:
        words = list(session.exec(select(SearchWordRow.word)))
    assert {"南京", "气象", "灾害", "预警", "气象局"} <= set(words)
    assert len(words) == len(set(words))
    assert "summary" not in words and all(":" not in w for w in words)
