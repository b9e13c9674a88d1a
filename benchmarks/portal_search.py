"""The public portal at scale: search over a national ledger of 10^6 registrations on PostgreSQL.

``python -m benchmarks.portal_search`` (``--smoke`` for a small run; ``--json`` for a report)::

1. **Ledger**: N registrations with synthetic but realistic Chinese names, subjects and summaries
   (cities x departments x topics, topics drawn Zipf-like so some words are common and some rare) are
   written to a fresh national database as ledger rows, in transactions of 5,000.
2. **Index build**: the search index is built from that ledger by the national node's own code
   (the indexer's first start, ``Indexer.cursor``: jieba segmentation, one row per registration),
   timed, then ANALYZE.
3. **Queries**: the real portal process (uvicorn) serves the database; 16 client threads send, for a
   fixed time each, one-word, two-word and filtered searches through the API, registration reads
   through the API, and search pages (HTML); latencies p50/p95/p99 per kind, and throughput.
4. **The labelled set** (tests/data/search_queries.toml): its registrations are in the ledger among
   the synthetic ones; each of its queries is sent through the API by one client, every page and count
   read afresh, ``--repeats`` times: latencies p50/p99 by what the answer was (a full match, a partial
   match, nothing but a suggestion, nothing), and recall per half of the set at this size: an expected
   registration is found when the query as a person follows it (its suggestion when nothing holds
   every word, the words a partial match kept), narrowed to the registration's subject, holds it.

The labelled set over 10^5 registrations, the size its figures in benchmarks/README.md are for::

    python -m benchmarks.portal_search --size 100000

The sync catch-up with indexing beside the figure without it is
``python -m benchmarks.sync_throughput --baseline DIR`` (DIR: a checkout from before the index).
Nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import insert, text

from benchmarks.harness import (
    Aborted,
    CpuMeter,
    ServerProcess,
    machine_facts,
    percentile,
    postgres_pids,
    print_machine,
    reach_postgres,
    stop_on_sigterm,
)
from common.db import Database, migrate
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import sync_pb2
from national_node.indexer import Indexer
from national_node.models import LedgerRow
from national_node.server import MIGRATIONS
from national_node.words import search_text
from tests.postgres import fresh_database

__all__ = ["main"]

DEFAULTS = {"size": 1_000_000, "clients": 16, "seconds": 20.0, "warmup": 5.0, "repeats": 5}
#: ``--smoke`` shows that every part runs: every client measures one request at least (see load()),
#: so a short window still gives every kind its figures.
SMOKE = {"size": 3_000, "clients": 4, "seconds": 0.3, "warmup": 0.2, "repeats": 1}
BATCH = 5000

CITIES = [
    ("南京", "320000"),
    ("苏州", "320000"),
    ("无锡", "320000"),
    ("徐州", "320000"),
    ("常州", "320000"),
    ("杭州", "330000"),
    ("宁波", "330000"),
    ("温州", "330000"),
    ("广州", "440000"),
    ("深圳", "440000"),
    ("佛山", "440000"),
    ("东莞", "440000"),
    ("成都", "510000"),
    ("绵阳", "510000"),
    ("武汉", "420000"),
    ("宜昌", "420000"),
    ("长沙", "430000"),
    ("郑州", "410000"),
    ("洛阳", "410000"),
    ("济南", "370000"),
    ("青岛", "370000"),
    ("烟台", "370000"),
    ("合肥", "340000"),
    ("芜湖", "340000"),
    ("福州", "350000"),
    ("厦门", "350000"),
    ("南昌", "360000"),
    ("西安", "610000"),
    ("兰州", "620000"),
    ("昆明", "530000"),
    ("贵阳", "520000"),
    ("南宁", "450000"),
    ("海口", "460000"),
    ("太原", "140000"),
    ("石家庄", "130000"),
    ("沈阳", "210000"),
    ("大连", "210000"),
    ("长春", "220000"),
    ("哈尔滨", "230000"),
    ("呼和浩特", "150000"),
]
DEPARTMENTS = [
    "气象局",
    "医疗保障局",
    "交通运输局",
    "公安局",
    "市场监督管理局",
    "自然资源和规划局",
    "卫生健康委员会",
    "教育局",
    "生态环境局",
    "住房和城乡建设局",
    "人力资源和社会保障局",
    "民政局",
    "农业农村局",
    "水利局",
    "文化和旅游局",
    "应急管理局",
    "税务局",
    "统计局",
    "商务局",
    "数据局",
]
TOPICS = [
    "气象观测",
    "降水预报",
    "医保结算",
    "医保定点机构",
    "公共交通刷卡",
    "道路交通流量",
    "出租车运营",
    "不动产登记",
    "企业登记",
    "个体工商户",
    "空气质量监测",
    "水质监测",
    "噪声监测",
    "学校名录",
    "招生计划",
    "医疗机构名录",
    "疫苗接种",
    "社保缴纳",
    "就业登记",
    "养老服务机构",
    "婚姻登记",
    "农产品价格",
    "耕地保护",
    "河湖水位",
    "旅游景区客流",
    "文物保护单位",
    "安全生产检查",
    "自然灾害预警",
    "纳税信用",
    "人口统计",
    "商品零售价格",
    "公共自行车站点",
    "停车场泊位",
    "充电桩分布",
    "建筑工地扬尘",
    "住房公积金",
    "保障性住房",
    "食品安全抽检",
    "药品不良反应",
    "网约车订单",
]
SUFFIXES = ["数据", "数据集", "信息", "明细", "目录", "统计数据"]
FREQUENCIES = ["实时", "每小时", "每日", "每周", "每月", "每季度", "每年"]
SCENARIOS = ["政务服务", "城市治理", "产业分析", "科学研究", "公共服务", "应急管理", "金融风控"]
FILTERS = [
    ("object_type", "OPEN_DATA_RESOURCE"),
    ("update_frequency", "每日"),
    ("region", "320000"),
    ("state", "ACTIVE"),
]


def _zipf(rng: random.Random, n: int) -> int:
    """An index 0..n-1, the first ones far more often (weights 1/(k+1))."""
    return min(n - 1, int(n ** rng.random()) - 1)


def synthetic_record(i: int, rng: random.Random, at: datetime) -> sync_pb2.RegistrationRecord:
    city, region = CITIES[rng.randrange(len(CITIES))]
    department = DEPARTMENTS[rng.randrange(len(DEPARTMENTS))]
    topic = TOPICS[_zipf(rng, len(TOPICS))]
    frequency = FREQUENCIES[rng.randrange(len(FREQUENCIES))]
    data_name = f"{city}市{topic}{SUFFIXES[rng.randrange(len(SUFFIXES))]}"
    subject = f"{city}市{department}"
    content = r.RegistrationContent(
        subject=r.Subject(name=subject, uscc=f"1{i % 10}{region}MB{i:08X}"[:18], region=region),
        data_name=data_name,
        data_type="结构化数据",
        data_format=rng.choice(["CSV", "JSON", "XLSX", "接口服务"]),
        storage=r.Storage(location="政务云", method="关系型数据库"),
        update_frequency=frequency,
        summary=(
            f"{subject}在履职过程中形成的{topic}数据，{frequency}更新，覆盖{city}市全域，"
            f"包含{rng.randint(5, 60)}个字段，可用于{rng.choice(SCENARIOS)}。"
        ),
        application_scenarios=[rng.choice(SCENARIOS), rng.choice(SCENARIOS)],
    )
    state = rng.choices(
        [r.Registration.ACTIVE, r.Registration.PENDING, r.Registration.EXPIRED, r.Registration.DEREGISTERED],
        weights=[80, 12, 5, 3],
    )[0]
    reg = r.Registration(
        uid=str(uuid.UUID(int=rng.getrandbits(128))),
        name=f"nodes/{region}/registrations/r-{i:012x}",
        code=f"1{region[:2]}0000{26:02d}{i:08d}X"[:19] if state != r.Registration.PENDING else "",
        object_type=rng.choices([1, 2, 3], weights=[70, 10, 20])[0],
        state=state,
        content=content,
        managing_node=f"nodes/{region}",
    )
    created = at - timedelta(seconds=rng.randrange(3 * 365 * 86400))
    reg.create_time.FromDatetime(created)
    reg.update_time.FromDatetime(created)
    if state == r.Registration.PENDING:
        reg.current_application.state = r.Application.ANNOUNCED
        reg.current_application.announcement_end.year = 2027
        reg.current_application.announcement_end.month = 1
        reg.current_application.announcement_end.day = 1 + i % 28
    return sync_pb2.RegistrationRecord(registration=reg, revision=1)


def load_ledger(db: Database, size: int, console: Console) -> dict[str, Any]:
    rng = random.Random(2026)
    now = datetime.now(UTC)
    table = LedgerRow.__table__  # type: ignore[attr-defined]
    started = time.perf_counter()
    for start in range(0, size, BATCH):
        stop = min(size, start + BATCH)
        rows = [_ledger_row(synthetic_record(i, rng, now), now) for i in range(start, stop)]
        with db.engine.begin() as conn:
            conn.execute(insert(table), rows)
        if (start // BATCH) % 20 == 0:
            console.print(f"  ledger: {start + len(rows):,} of {size:,}")
    seconds = time.perf_counter() - started
    return {"rows": size, "seconds": round(seconds, 1), "rows_per_second": round(size / seconds)}


def _ledger_row(rec: sync_pb2.RegistrationRecord, now: datetime) -> dict[str, Any]:
    reg = rec.registration
    return {
        "uid": reg.uid,
        "node": reg.managing_node.removeprefix("nodes/"),
        "name": reg.name,
        "code": reg.code or None,
        "state": r.Registration.State.Name(reg.state),
        "revision": 1,
        "digest": "0" * 64,
        "bucket": reg.uid[:2],
        "record": rec.SerializeToString(),
        "updated_at": now,
    }


def labelled_records() -> list[sync_pb2.RegistrationRecord]:
    """The labelled set's registrations, registered over the last three years like the synthetic ones
    (so they are neither all first nor all last), each with a subject of its own."""
    from tests.integration.test_search_quality import corpus_records, labelled

    rng = random.Random(7)
    records = corpus_records(labelled()["registration"])
    now = datetime.now(UTC)
    for rec in records:
        created = now - timedelta(seconds=rng.randrange(3 * 365 * 86400))
        rec.registration.create_time.FromDatetime(created)
        rec.registration.update_time.FromDatetime(created)
    return records


def load_labelled(db: Database) -> int:
    """Add the labelled set's registrations to the ledger (once: a reused database has them)."""
    records = labelled_records()
    table = LedgerRow.__table__  # type: ignore[attr-defined]
    with db.engine.begin() as conn:
        present = conn.execute(
            text("SELECT count(*) FROM ledger WHERE uid = :uid"), {"uid": records[0].registration.uid}
        ).scalar_one()
        if not present:
            now = datetime.now(UTC)
            conn.execute(insert(table), [_ledger_row(rec, now) for rec in records])
    return len(records)


def build_index(db: Database, console: Console) -> dict[str, Any]:
    """The indexer's first start: the ledger indexed as it stands, then the log followed from there."""
    started = time.perf_counter()
    Indexer(db, batch=BATCH).cursor()
    seconds = time.perf_counter() - started
    with db.engine.connect() as conn:
        indexed = conn.execute(text("SELECT count(*) FROM search_index")).scalar_one()
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE search_index"))
        size = conn.execute(text("SELECT pg_total_relation_size('search_index')")).scalar_one()
    console.print(f"  index: {indexed:,} registrations in {seconds:.0f} s")
    return {
        "rows": indexed,
        "seconds": round(seconds, 1),
        "rows_per_second": round(indexed / seconds),
        "table_and_indexes_mb": round(size / 2**20),
    }


def _requests(kind: str, rng: random.Random, uids: list[str]) -> tuple[str, dict[str, Any]]:
    topic = TOPICS[_zipf(rng, len(TOPICS))][:2]
    if kind == "one_word":
        return "/api/v1/registrations", {"q": topic}
    if kind == "two_words":
        city = CITIES[rng.randrange(len(CITIES))][0]
        return "/api/v1/registrations", {"q": f"{city} {topic}"}
    if kind == "filtered":
        key, value = FILTERS[rng.randrange(len(FILTERS))]
        return "/api/v1/registrations", {"q": topic, key: value}
    if kind == "registration":
        return f"/api/v1/registrations/{uids[rng.randrange(len(uids))]}", {}
    return "/", {"q": topic}  # a search page


KINDS = ("one_word", "two_words", "filtered", "registration", "page")


def load(
    url: str,
    clients: int,
    seconds: float,
    uids: list[str],
    warmup: float,
    groups: Callable[[], dict[str, list[int]]],
) -> dict[str, Any]:
    """Each kind for ``warmup`` seconds unmeasured (the database's pages come into memory), then
    ``seconds`` measured, with the CPU time of ``groups`` of processes (and of this one, the load)
    per request."""
    results: dict[str, dict[str, Any]] = {}
    for kind in KINDS:
        latencies: list[list[float]] = [[] for _ in range(clients)]
        failures = [0] * clients
        measured_from = time.monotonic() + warmup
        deadline = measured_from + seconds
        barrier = threading.Barrier(clients)

        def client(
            n: int,
            kind: str = kind,
            deadline: float = deadline,
            measured_from: float = measured_from,
            barrier: threading.Barrier = barrier,
            latencies: list[list[float]] = latencies,
            failures: list[int] = failures,
        ) -> None:
            rng = random.Random(n * 7919 + len(kind))
            with httpx.Client(base_url=url, timeout=30) as http:
                barrier.wait()
                # Every client measures one request at least: on a loaded machine a single request can
                # outlast a short window (the smoke size), and a kind with no figure is no measurement.
                while time.monotonic() < deadline or not latencies[n]:
                    path, params = _requests(kind, rng, uids)
                    measuring = time.monotonic() >= measured_from
                    began = time.perf_counter()
                    answer = http.get(path, params=params)
                    if measuring:
                        latencies[n].append(time.perf_counter() - began)
                        if answer.status_code != 200:
                            failures[n] += 1

        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        for thread in threads:
            thread.start()
        time.sleep(max(0.0, measured_from - time.monotonic()))
        measured = {**groups(), "load": [os.getpid()]}  # after the warm-up: the pool's backends are up
        meter = CpuMeter(measured)
        for thread in threads:
            thread.join(warmup + seconds + 60)
        cpu = meter.stop(measured)
        elapsed = seconds
        ordered = sorted(v for per in latencies for v in per)
        results[kind] = {
            "requests": len(ordered),
            "failures": sum(failures),
            "per_second": round(len(ordered) / elapsed, 1),
            "p50_ms": round(percentile(ordered, 0.50) * 1000, 1),
            "p95_ms": round(percentile(ordered, 0.95) * 1000, 1),
            "p99_ms": round(percentile(ordered, 0.99) * 1000, 1),
            # CPU ms per request, by process group (the window: the measured seconds, about).
            "cpu_ms": {
                label: round(percent / 100 * cpu["window_seconds"] / max(1, len(ordered)) * 1000, 2)
                for label, percent in cpu["processes"].items()
            },
        }
    return results


def _outcome(answer: dict[str, Any]) -> str:
    if answer["partial_match"]:
        return "partial"
    if answer["registrations"]:
        return "full"
    return "suggestion" if answer["suggestion"] else "nothing"


def labelled_queries(url: str, repeats: int) -> dict[str, Any]:
    """The labelled set's queries through the API, one client, ``repeats`` rounds: latencies by
    outcome, and recall per half at this size."""
    from tests.integration.test_search_quality import half, labelled

    data = labelled()
    contents = [rec.registration.content for rec in labelled_records()]
    subjects = {content.data_name: content.subject.uscc for content in contents}
    latencies: dict[str, list[float]] = {}
    failures = 0
    with httpx.Client(base_url=url, timeout=30) as http:
        for _ in range(repeats):
            for query in data["query"]:
                began = time.perf_counter()
                answer = http.get("/api/v1/registrations", params={"q": query["q"]})
                elapsed = time.perf_counter() - began
                if answer.status_code != 200:
                    failures += 1
                    continue
                latencies.setdefault(_outcome(answer.json()), []).append(elapsed)
                latencies.setdefault("all", []).append(elapsed)
        # Recall (not timed): the query as a person follows it (its suggestion when nothing holds every
        # word; the words a partial match kept), then narrowed to each expected registration's subject,
        # must hold it with every one of those words.
        found = {"tuning": 0, "held_out": 0}
        expected = {"tuning": 0, "held_out": 0}
        for query in data["query"]:
            q = query["q"]
            answer = http.get("/api/v1/registrations", params={"q": q}).json()
            if (answer["partial_match"] or not answer["registrations"]) and answer["suggestion"]:
                q = answer["suggestion"]
                answer = http.get("/api/v1/registrations", params={"q": q}).json()
            if answer["partial_match"]:
                q = search_text(q)
                for word in answer["omitted_words"]:
                    q = q.replace(word, " ")
            for name in query["expect"]:
                expected[half(query["q"])] += 1
                params = {"q": q, "subject": subjects[name], "page_size": 100}
                narrowed = http.get("/api/v1/registrations", params=params).json()
                held = not narrowed["partial_match"] and name in [
                    h["data_name"] for h in narrowed["registrations"]
                ]
                found[half(query["q"])] += held
    by_outcome = {
        outcome: {
            "requests": len(values),
            "p50_ms": round(percentile(sorted(values), 0.50) * 1000, 1),
            "p99_ms": round(percentile(sorted(values), 0.99) * 1000, 1),
        }
        for outcome, values in sorted(latencies.items())
    }
    return {
        "queries": len(data["query"]),
        "repeats": repeats,
        "failures": failures,
        "latency": by_outcome,
        "recall": {name: round(found[name] / expected[name], 3) for name in found if expected[name]},
        "found": found,
        "expected": expected,
    }


def run(admin_url: str, options: argparse.Namespace, console: Console, tmp: Path) -> dict[str, Any]:
    from tests.portal_support import portal_env

    report: dict[str, Any] = {"size": options.size, "clients": options.clients}
    with _database(admin_url, options) as url:
        db = Database(url, pool_size=2)
        migrate(db.engine, MIGRATIONS)
        with db.engine.connect() as conn:
            present = conn.execute(text("SELECT count(*) FROM ledger")).scalar_one()
            indexed = conn.execute(text("SELECT count(*) FROM search_cursor")).scalar_one()
        if options.database and present:
            console.print(f"  reusing the {present:,} registrations of the given database's ledger")
            report["size"] = present
            report["ledger"] = {"reused": present}
        else:
            report["ledger"] = load_ledger(db, options.size, console)
        report["ledger"]["labelled"] = load_labelled(db)
        if options.database and present and indexed:
            report["index"] = {"reused": present}
        else:  # a new ledger, or an index emptied (by a migration that changed its rows)
            report["index"] = build_index(db, console)
        with db.engine.connect() as conn:
            uids = [
                row[0]
                for row in conn.execute(
                    text("SELECT uid FROM search_index TABLESAMPLE SYSTEM (1) LIMIT 5000")
                )
            ]
            if not uids:
                uids = [row[0] for row in conn.execute(text("SELECT uid FROM search_index LIMIT 1000"))]
        db.dispose()
        # As deployed (pages remembered while the index stands still, counts for 10 s), and with
        # everything read afresh, which is what a query nobody asked since the index moved costs, at
        # 16 clients and at one.
        runs = (
            ("queries", "10", "1000", options.clients),
            ("queries_uncounted_cache_off", "0", "0", options.clients),
            ("one_client_cache_off", "0", "0", 1),
        )
        for label, cache, results, clients in runs:
            env = portal_env(
                "127.0.0.1:9",
                url,
                REGISTRY_PORTAL__READ_BURST="1000000",
                REGISTRY_PORTAL__READS_PER_SECOND="1000000",
                REGISTRY_PORTAL__COUNT_CACHE_SECONDS=cache,
                REGISTRY_PORTAL__CACHED_RESULTS=results,
            )
            portal = ServerProcess(
                "the portal", "national_node.portal", env=env, workdir=tmp, ready="serving on"
            ).start()
            try:
                console.print(
                    f"  {label}: {clients} clients, {options.seconds:g} s per kind, counts"
                    f" remembered {cache} s, pages {'remembered' if results != '0' else 'read afresh'}"
                )
                pid = portal.pid

                def groups(pid: int = pid) -> dict[str, list[int]]:
                    return {"portal": [pid], "postgres": postgres_pids(url)}

                report[label] = load(portal.address, clients, options.seconds, uids, options.warmup, groups)
                if label == "one_client_cache_off":
                    console.print(f"  the labelled set: {options.repeats} round(s), one client, read afresh")
                    report["labelled"] = labelled_queries(portal.address, options.repeats)
                report.setdefault("portal_problems", []).extend(portal.log_problems()[:5])
            finally:
                portal.stop()
    return report


@contextlib.contextmanager
def _database(admin_url: str, options: argparse.Namespace) -> Iterator[str]:
    """The run's database: ``--database`` as given (kept), else a fresh one, dropped after."""
    if options.database:
        yield options.database
        return
    with fresh_database(admin_url) as url:
        yield url


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.portal_search", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--size", type=int, help="registrations in the ledger (default 1,000,000)")
    parser.add_argument("--clients", type=int, help="concurrent clients (default 16)")
    parser.add_argument("--seconds", type=float, help="seconds of load per kind of request (default 20)")
    parser.add_argument("--warmup", type=float, help="unmeasured seconds before each kind (default 5)")
    parser.add_argument("--repeats", type=int, help="rounds of the labelled set's queries (default 5)")
    parser.add_argument("--postgres-url", help="server for the run's database (default $TEST_DATABASE_URL)")
    parser.add_argument(
        "--database",
        metavar="URL",
        help="use (and keep) this database; one already indexed is reused, so repeated query runs skip"
        " the build (create it empty first: CREATE DATABASE ...)",
    )
    parser.add_argument("--smoke", action="store_true", help="a small run (3,000 registrations)")
    parser.add_argument("--json", action="store_true", help="print one JSON object (progress goes to stderr)")
    options = parser.parse_args(argv)
    for key, value in (SMOKE if options.smoke else DEFAULTS).items():
        if getattr(options, key) is None:
            setattr(options, key, value)
    return options


def main(argv: list[str] | None = None) -> int:
    options = _parse(argv)
    # Wide enough for the tables when the output goes to a file (rich would wrap them at 80 columns).
    console = Console(stderr=options.json, highlight=False, width=None if sys.stdout.isatty() else 120)
    stop_on_sigterm()
    admin_url, facts, skipped = reach_postgres(options.postgres_url, skip=False)
    if admin_url is None:
        console.print(f"[red]this benchmark needs PostgreSQL:[/] {skipped}")
        return 1
    try:
        with tempfile.TemporaryDirectory(prefix="registry-bench-portal-", ignore_cleanup_errors=True) as name:
            tmp = Path(name)
            machine = machine_facts(tmp)
            machine["postgresql"] = facts
            print_machine(console, machine, "PostgreSQL")
            console.print(f"[bold]Portal search benchmark[/]: {options.size:,} registrations")
            report = run(admin_url, options, console, tmp)
            report["machine"] = machine
    except KeyboardInterrupt:
        console.print("[red]interrupted[/]")
        return 130
    except Aborted as error:
        console.print(f"[red]aborted:[/] {error}")
        return 1
    _summary(console, report)
    if options.json:
        sys.stdout.write(json.dumps(report, indent=2, default=str) + "\n")
    return 0


def _summary(console: Console, report: dict[str, Any]) -> None:
    ledger, index = report["ledger"], report["index"]
    written = (
        f"ledger of {ledger['reused']:,} reused"
        if "reused" in ledger
        else f"ledger of {ledger['rows']:,} written in {ledger['seconds']:.0f} s"
    )
    if "reused" in index:
        console.print(f"  {written}; index reused")
    else:
        console.print(
            f"  {written}; search index built in {index['seconds']:.0f} s ({index['rows_per_second']:,}/s,"
            f" {index['table_and_indexes_mb']:,} MB with its indexes)"
        )
    for label, title in (
        (
            "queries",
            f"{report['clients']} concurrent clients, as deployed: pages remembered while the index"
            " stands still, counts for 10 s",
        ),
        (
            "queries_uncounted_cache_off",
            f"{report['clients']} concurrent clients, every page and count read afresh",
        ),
        ("one_client_cache_off", "1 client, every page and count read afresh: the latency floor"),
    ):
        _print_queries(console, f"  {title}", report[label])
    labelled = report["labelled"]
    table = Table(
        title=f"  the labelled set: {labelled['queries']} queries x {labelled['repeats']}, one client, every"
        f" page and count read afresh; recall {labelled['recall']}",
        title_justify="left",
    )
    for column in ("answer", "requests", "p50 ms", "p99 ms"):
        table.add_column(column, justify="right")
    for outcome, figures in labelled["latency"].items():
        p50, p99 = figures["p50_ms"], figures["p99_ms"]
        table.add_row(outcome, str(figures["requests"]), f"{p50:.1f}", f"{p99:.1f}")
    console.print(table)


def _print_queries(console: Console, title: str, queries: dict[str, Any]) -> None:
    table = Table(title=title, title_justify="left")
    columns = (
        "request",
        "requests",
        "per s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "failed",
        "CPU ms: portal/pg/load",
    )
    for column in columns:
        table.add_column(column, justify="right")
    for kind, run in queries.items():
        cpu = run["cpu_ms"]
        table.add_row(
            kind,
            f"{run['requests']:,}",
            f"{run['per_second']:,.0f}",
            f"{run['p50_ms']:.1f}",
            f"{run['p95_ms']:.1f}",
            f"{run['p99_ms']:.1f}",
            str(run["failures"]),
            f"{cpu['portal']:.1f} / {cpu['postgres']:.1f} / {cpu['load']:.1f}",
        )
    console.print(table)


if __name__ == "__main__":
    sys.exit(main())
