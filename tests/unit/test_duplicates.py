"""Duplicate detection before coding: the similarity of data names on a labelled set, the finder on a
national search index, and the duplicate check at acceptance (in-process, with a stand-in national
node)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from stdnum.cn import uscc as stdnum_uscc

from common.db import Database, migrate
from common.errors import FailedPrecondition, InvalidArgument, Unavailable
from common.gen.registry.v1 import national_service_pb2 as ns
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import registration_service_pb2 as rs
from national_node.duplicates import MAX_CANDIDATES, THRESHOLD, DuplicateFinder
from national_node.models import SearchRow
from national_node.server import MIGRATIONS as NATIONAL_MIGRATIONS
from national_node.words import name_key, name_similarity
from tests.factories import make_uscc
from tests.unit.procedure_support import Node, content, refused, rid

C = r.DuplicateCandidate

# -- the labelled set ---------------------------------------------------------------------------------

#: Pairs of names one subject might give the same data: each must score at least the threshold.
NEAR_DUPLICATES = [
    ("南京市公共交通刷卡数据", "南京市公交刷卡数据集"),
    ("南京市公共交通刷卡数据", "南京公共交通刷卡记录"),
    ("南京市公交刷卡数据集", "南京公共交通刷卡记录"),
    ("南京市公共交通刷卡数据", "南京公交刷卡记录"),
    ("南京市公共交通刷卡数据", "南京市公交卡刷卡数据"),
    ("全省企业登记信息", "全省企业登记数据集"),
    ("江苏省不动产登记数据", "江苏省不动产登记信息库"),
    ("南京市空气质量监测数据", "南京市空气质量实时监测数据"),
    ("全省道路交通流量数据", "全省道路交通流量统计数据"),
    ("苏州市居民医保结算明细", "苏州市城乡居民医保结算明细数据"),
    ("南京市出租车GPS轨迹数据", "南京市出租汽车GPS轨迹"),
    ("江苏省企业信用信息", "江苏省企业信用数据资源"),
    ("全省高速公路通行费数据", "江苏省高速公路通行费信息"),
    ("南京市户籍人口统计数据", "南京市户籍人口统计信息表"),
    ("全省医疗机构执业许可信息", "江苏省医疗机构执业许可数据"),
    ("南京市12345热线工单数据", "南京市12345政务热线工单"),
    ("全省社会保险参保数据", "全省社保参保信息"),
    ("南京市建设工程施工许可信息", "南京市建筑工程施工许可数据"),
    ("江苏省气象观测数据", "江苏省地面气象观测数据"),
    ("全省学校基本信息", "全省各级学校基本信息库"),
    ("南京市地铁客流数据", "南京地铁客流量统计"),
]
#: Pairs of names of different data (of one subject): each must score below the threshold.
DISTINCT = [
    ("南京市公共交通刷卡数据", "南京市公共自行车站点信息"),
    ("南京市公交刷卡数据集", "南京市公共自行车站点信息"),
    ("南京市公共交通刷卡数据", "南京市公共交通线路站点数据"),
    ("南京市公共交通刷卡数据", "南京市出租车刷卡数据"),
    ("南京市空气质量监测数据", "南京市水质监测数据"),
    ("全省企业登记信息", "全省企业纳税信息"),
    ("全省企业登记信息", "全省个体工商户登记信息"),
    ("全省道路交通流量数据", "全省道路交通事故数据"),
    ("全省道路交通流量数据", "全省道路运输车辆数据"),
    ("江苏省不动产登记数据", "江苏省市场主体登记数据"),
    ("苏州市居民医保结算明细", "苏州市居民养老保险缴费明细"),
    ("江苏省气象观测数据", "江苏省地震观测数据"),
    ("全省学校基本信息", "全省医院基本信息"),
    ("南京市户籍人口统计数据", "南京市流动人口登记数据"),
    ("南京市地铁客流数据", "南京市公交客流数据"),
    ("全省高速公路通行费数据", "全省高速公路路况信息"),
    ("南京市12345热线工单数据", "南京市110报警记录"),
    ("全省社会保险参保数据", "全省住房公积金缴存数据"),
    ("南京市建设工程施工许可信息", "南京市建设工程竣工验收信息"),
    ("全省医疗机构执业许可信息", "全省药品经营许可信息"),
    ("江苏省企业信用信息", "江苏省企业年报信息"),
    ("南京市出租车GPS轨迹数据", "南京市渣土车GPS轨迹数据"),
    # The same data about another place is other data.
    ("南京市公交刷卡数据", "南通市公交刷卡数据"),
    ("长江水位监测数据", "黄河水位监测数据"),
    ("江苏省不动产登记数据", "苏州市不动产登记数据"),
]


def test_the_labelled_set_is_what_the_module_docstring_reports() -> None:
    near = [name_similarity(a, b) for a, b in NEAR_DUPLICATES]
    distinct = [name_similarity(a, b) for a, b in DISTINCT]
    assert (len(near), len(distinct)) == (21, 25)
    assert round(min(near), 2) == 0.60 and round(max(distinct), 2) == 0.50
    assert max(distinct) < THRESHOLD <= min(near)


@pytest.mark.parametrize(("a", "b"), NEAR_DUPLICATES)
def test_near_duplicates_are_similar(a: str, b: str) -> None:
    assert name_similarity(a, b) >= THRESHOLD
    assert name_similarity(b, a) == name_similarity(a, b)


@pytest.mark.parametrize(("a", "b"), DISTINCT)
def test_distinct_data_is_not_similar(a: str, b: str) -> None:
    assert name_similarity(a, b) < THRESHOLD


def test_the_same_name_key_is_similarity_one() -> None:
    assert name_similarity("全省企业登记信息", "全省企业登记数据集") == 1.0
    assert name_similarity("ＧＰＳ轨迹数据", "gps轨迹") == 1.0
    assert name_key("南京市公共交通刷卡数据") == "南京市公共交通刷卡"  # unchanged behaviour


# -- the finder on a search index -----------------------------------------------------------------------

SUBJECT_NAME = "南京市交通运输局"


def related_uscc(uscc: str, division: str) -> str:
    """Another USCC with the same organisation code (characters 9-17): the unit under another authority."""
    body = uscc[:2] + division + uscc[8:17]
    return body + stdnum_uscc.calc_check_digit(body)


@dataclass
class Index:
    """A national node's search index (the real tables, migrated), filled by hand."""

    db: Database
    finder: DuplicateFinder
    serial: int = 0
    names: dict[str, str] = field(default_factory=dict)

    def add(
        self, data_name: str, uscc: str, *, subject: str = SUBJECT_NAME, state: str = "ACTIVE", code: str = ""
    ) -> SearchRow:
        self.serial += 1
        now = datetime.now(UTC)
        row = SearchRow(
            uid=str(uuid.uuid4()),
            name=f"nodes/320000/registrations/r-{self.serial:012d}",
            code=code or None,
            node="320000",
            region="320000",
            object_type="PUBLIC_DATA_RESOURCE",
            state=state,
            subject_uscc=uscc,
            subject_org=uscc[8:17],
            subject_name=subject,
            subject_key=name_key(subject),
            data_name=data_name,
            name_key=name_key(data_name),
            summary="",
            update_frequency="每日",
            data_format="CSV",
            created_at=now,
            updated_at=now,
            revision=1,
            text_digest="",
            fields_digest="",
            words=[],
        )
        with self.db.transaction() as session:
            session.add(row)
        self.names[data_name] = row.name
        return row

    def find(self, data_name: str, uscc: str, *, subject: str = SUBJECT_NAME, **kw: Any) -> list[C]:
        body = r.RegistrationContent(subject=r.Subject(name=subject, uscc=uscc), data_name=data_name)
        return self.finder.find(body, **kw)


@pytest.fixture
def index(tmp_path: Path) -> Iterator[Index]:
    db = Database(f"sqlite:///{tmp_path / 'national.db'}")
    migrate(db.engine, NATIONAL_MIGRATIONS)
    yield Index(db, DuplicateFinder(db))
    db.dispose()


def test_near_duplicates_of_the_same_subject_are_found_and_distinct_names_are_not(index: Index) -> None:
    subject = make_uscc("320106")
    index.add("南京市公共交通刷卡数据", subject, code="11320000202600000019")
    index.add("南京市公共自行车站点信息", subject)
    index.add("南京市公交刷卡数据集", make_uscc("320106"), subject="南京公交集团")  # unrelated
    found = index.find("南京公共交通刷卡记录", subject)
    assert [(c.data_name, c.reason) for c in found] == [
        ("南京市公共交通刷卡数据", C.SAME_SUBJECT_SIMILAR_NAME)
    ]
    assert found[0].similarity == 1.0 and found[0].code == "11320000202600000019"
    assert found[0].subject.uscc == subject and found[0].state == "ACTIVE"
    near = index.find("南京市公交刷卡数据集", subject)
    assert [c.data_name for c in near] == ["南京市公共交通刷卡数据"]
    assert near[0].similarity == pytest.approx(0.6667, abs=1e-4)
    assert index.find("南京市公共交通线路站点数据", subject) == []


def test_the_same_name_under_a_related_subject_is_found(index: Index) -> None:
    subject = make_uscc("320106")
    moved = related_uscc(subject, "320115")  # the same organisation code under another authority
    renamed = make_uscc("320106")  # another USCC with the same subject name
    stranger = make_uscc("320106")
    index.add("南京市公共交通刷卡数据", moved, subject="南京市交通局")
    index.add("南京市公共交通刷卡信息", renamed)
    index.add("南京市公共交通刷卡数据", stranger, subject="南京公交集团")  # unrelated: not flagged
    index.add("南京市公交刷卡数据集", moved, subject="南京市交通局")  # related, but not the same name
    found = index.find("南京市公共交通刷卡数据集", subject)
    assert sorted((c.subject.uscc, c.reason, c.similarity) for c in found) == sorted(
        [
            (moved, C.RELATED_SUBJECT_SAME_NAME, 1.0),
            (renamed, C.RELATED_SUBJECT_SAME_NAME, 1.0),
        ]
    )


def test_deregistered_and_closed_registrations_and_the_application_itself_are_left_out(
    index: Index,
) -> None:
    subject = make_uscc("320106")
    index.add("南京市公共交通刷卡数据", subject, state="DEREGISTERED")
    index.add("南京市公共交通刷卡数据集", subject, state="CLOSED")
    own = index.add("南京市公共交通刷卡信息", subject, state="PENDING")
    pending = index.add("南京公共交通刷卡记录", subject, state="PENDING")
    found = index.find("南京市公共交通刷卡数据", subject, registration=own.name)
    assert [c.registration for c in found] == [pending.name]
    assert index.find("南京市公共交通刷卡数据", subject, uid=own.uid)[0].registration == pending.name
    both = index.find("南京市公共交通刷卡数据", subject)
    assert {c.registration for c in both} == {own.name, pending.name}


def test_candidates_come_best_first_and_at_most_the_limit(index: Index) -> None:
    subject = make_uscc("320106")
    related = related_uscc(subject, "320102")
    index.add("南京市公交刷卡数据集", subject)  # 0.67
    index.add("南京市公共交通刷卡数据", related)  # 1.0, related subject
    index.add("南京市公共交通刷卡数据", subject)  # 1.0, same subject
    found = index.find("南京市公共交通刷卡信息", subject)
    assert [(c.reason, round(c.similarity, 2)) for c in found] == [
        (C.SAME_SUBJECT_SIMILAR_NAME, 1.0),
        (C.RELATED_SUBJECT_SAME_NAME, 1.0),
        (C.SAME_SUBJECT_SIMILAR_NAME, 0.67),
    ]
    for i in range(MAX_CANDIDATES + 5):
        index.add(f"南京市公共交通刷卡数据（{i}）", subject)
    assert len(index.find("南京市公共交通刷卡数据", subject)) == MAX_CANDIDATES
    request = ns.FindDuplicatesRequest(
        content=r.RegistrationContent(
            subject=r.Subject(name=SUBJECT_NAME, uscc=subject), data_name="南京市公共交通刷卡数据"
        ),
        max_candidates=2,
    )
    assert len(index.finder.find_request(request).candidates) == 2


def test_the_finder_on_postgresql(postgres_url: str) -> None:
    db = Database(postgres_url)
    try:
        migrate(db.engine, NATIONAL_MIGRATIONS)  # 0008 adds the duplicate check's columns there too
        index = Index(db, DuplicateFinder(db))
        subject = make_uscc("320106")
        index.add("南京市公共交通刷卡数据", subject)
        index.add("南京市公共交通刷卡数据", related_uscc(subject, "320102"), subject="南京市交通局")
        index.add("南京市公共交通刷卡数据集", subject, state="DEREGISTERED")
        found = index.find("南京市公交刷卡数据集", subject)
        assert [c.reason for c in found] == [C.SAME_SUBJECT_SIMILAR_NAME]
        related = index.find("南京市公共交通刷卡信息", subject)
        assert [c.reason for c in related] == [C.SAME_SUBJECT_SIMILAR_NAME, C.RELATED_SUBJECT_SAME_NAME]
    finally:
        db.dispose()


@pytest.mark.parametrize(
    ("change", "field_name"),
    [
        ({"uscc": ""}, "content.subject.uscc"),
        ({"uscc": "91320106MA1XXXXXX0"}, "content.subject.uscc"),
        ({"data_name": ""}, "content.data_name"),
        ({"data_name": "数" * 201}, "content.data_name"),
        ({"subject": "局" * 201}, "content.subject.name"),
        ({"registration": "registrations/r-1"}, "registration"),
        ({"max_candidates": -1}, "max_candidates"),
    ],
)
def test_a_bad_request_is_invalid_argument_naming_the_field(
    index: Index, change: dict[str, Any], field_name: str
) -> None:
    values: dict[str, Any] = {
        "uscc": make_uscc("320106"),
        "data_name": "南京市公共交通刷卡数据",
        "subject": SUBJECT_NAME,
        "registration": "",
        "max_candidates": 0,
    } | change
    request = ns.FindDuplicatesRequest(
        content=r.RegistrationContent(
            subject=r.Subject(name=values["subject"], uscc=values["uscc"]), data_name=values["data_name"]
        ),
        registration=values["registration"],
        max_candidates=values["max_candidates"],
    )
    with pytest.raises(InvalidArgument) as caught:
        index.finder.find_request(request)
    assert [v.field for v in caught.value.violations] == [field_name]


# -- the check at acceptance ----------------------------------------------------------------------------


@dataclass
class FakeNational:
    """A stand-in for the national node's FindDuplicates."""

    answer: list[C] = field(default_factory=list)
    failing: bool = False
    calls: list[tuple[str, str]] = field(default_factory=list)

    def find_duplicates(self, body: r.RegistrationContent, *, registration: str, uid: str) -> list[C]:
        self.calls.append((body.data_name, registration))
        if self.failing:
            raise Unavailable("NATIONAL_NODE_UNREACHABLE", "the national node cannot be reached")
        return list(self.answer)


CANDIDATE_SUBJECT = make_uscc("320106")


def _candidate(code: str = "11320000202600000019") -> C:
    return C(
        registration="nodes/320000/registrations/r-000000000001",
        code=code,
        data_name="南京市公共交通刷卡数据",
        subject=r.Subject(name=SUBJECT_NAME, uscc=CANDIDATE_SUBJECT),
        state="ACTIVE",
        reason=C.SAME_SUBJECT_SIMILAR_NAME,
        similarity=0.6667,
    )


@pytest.fixture
def node(tmp_path: Path) -> Iterator[tuple[Node, FakeNational]]:
    n = Node(tmp_path)
    national = FakeNational()
    n.service.duplicates = national
    yield n, national
    n.close()


def _accept(n: Node, name: str, *, acknowledge: bool = False, request_id: str = "", etag: str = "") -> Any:
    request = rs.AcceptApplicationRequest(
        name=name, request_id=request_id or rid(), acknowledge_duplicates=acknowledge, etag=etag
    )
    return n.send(request, actor="clerk")


def test_possible_duplicates_refuse_the_acceptance_and_are_kept_for_the_clerk(
    node: tuple[Node, FakeNational],
) -> None:
    n, national = node
    national.answer = [_candidate()]
    name = n.create(content(data_name="南京市公交刷卡数据集")).name
    before = n.get(name)
    error = refused(
        lambda: _accept(n, name, request_id="first", etag=before.etag),
        FailedPrecondition,
        "POSSIBLE_DUPLICATES",
    )
    assert error.metadata["count"] == "1" and error.metadata["codes"] == "11320000202600000019"
    assert "11320000202600000019" in error.message
    kept = n.get(name)
    app = kept.current_application
    assert app.state == r.Application.SUBMITTED and app.duplicates_checked
    assert list(app.possible_duplicates) == [_candidate()]
    assert n.actions(name)[-1] == "clerk:find_duplicates"
    # A retry of the same request gets the same answer and asks nobody again; nothing else is written.
    again = refused(
        lambda: _accept(n, name, request_id="first", etag=before.etag),
        FailedPrecondition,
        "POSSIBLE_DUPLICATES",
    )
    assert again.metadata == error.metadata and len(national.calls) == 1
    assert n.snapshot(name) == (kept, len(n.history(name)))
    refused(lambda: _accept(n, name), FailedPrecondition, "POSSIBLE_DUPLICATES")
    # Acknowledged: accepted, and the history says what was acknowledged.
    accepted = _accept(n, name, acknowledge=True, request_id="second")
    assert accepted.current_application.state == r.Application.UNDER_REVIEW
    assert list(accepted.current_application.possible_duplicates) == [_candidate()]
    entry = n.history(name)[-1]
    assert entry.action == "accept" and "acknowledged 1 possible duplicate" in entry.reason
    assert "11320000202600000019" in entry.reason
    assert len(national.calls) == 1
    assert _accept(n, name, acknowledge=True, request_id="second") == accepted  # replay


def test_acknowledged_on_the_first_acceptance_the_candidates_are_kept_with_it(
    node: tuple[Node, FakeNational],
) -> None:
    n, national = node
    national.answer = [_candidate(), _candidate(code="")]
    name = n.create().name
    accepted = _accept(n, name, acknowledge=True)
    assert accepted.current_application.state == r.Application.UNDER_REVIEW
    assert len(accepted.current_application.possible_duplicates) == 2
    assert [a.split(":")[1] for a in n.actions(name)] == ["submit", "accept"]
    assert "acknowledged 2 possible duplicates" in n.history(name)[-1].reason


def test_no_candidates_accepts_as_before_and_the_check_is_recorded(node: tuple[Node, FakeNational]) -> None:
    n, national = node
    name = n.create().name
    accepted = n.accept(name)
    app = accepted.current_application
    assert app.state == r.Application.UNDER_REVIEW and app.duplicates_checked
    assert not app.possible_duplicates and not app.duplicate_check_error
    assert n.history(name)[-1].reason == ""
    assert national.calls == [(content().data_name, name)]


def test_an_unreachable_national_node_does_not_block_acceptance(node: tuple[Node, FakeNational]) -> None:
    n, national = node
    national.failing = True
    name = n.create().name
    app = n.accept(name).current_application
    assert app.state == r.Application.UNDER_REVIEW and app.duplicates_checked
    assert app.duplicate_check_error.startswith("UNAVAILABLE: the national node cannot be reached")
    assert "duplicate check not done" in n.history(name)[-1].reason


def test_resubmitted_content_is_checked_again(node: tuple[Node, FakeNational]) -> None:
    n, national = node
    national.answer = [_candidate()]
    body = content(data_name="南京市公交刷卡数据集")
    name = n.create(body).name
    refused(lambda: n.accept(name), FailedPrecondition, "POSSIBLE_DUPLICATES")
    n.return_(name, ("data_name", "与已登记的重复"))
    national.answer = []
    n.resubmit(name, content(uscc=body.subject.uscc, data_name="南京市公共自行车站点信息"))
    assert not n.get(name).current_application.duplicates_checked
    app = n.accept(name).current_application
    assert app.state == r.Application.UNDER_REVIEW and not app.possible_duplicates
    assert [call[0] for call in national.calls] == ["南京市公交刷卡数据集", "南京市公共自行车站点信息"]


def test_deregistrations_and_nodes_without_a_source_are_not_checked(tmp_path: Path) -> None:
    n = Node(tmp_path)
    try:
        name = n.create().name
        app = n.accept(name).current_application  # no source (as in the tests' in-process nodes)
        assert app.state == r.Application.UNDER_REVIEW and not app.duplicates_checked
        national = FakeNational()
        n.service.duplicates = national
        active = n.active()
        assert len(national.calls) == 1
        national.answer = [_candidate()]
        n.submit(active.name, r.DEREGISTRATION)
        assert n.accept(active.name).current_application.state == r.Application.UNDER_REVIEW
        assert len(national.calls) == 1  # a deregistration registers nothing new
    finally:
        n.close()


def test_the_check_travels_with_the_record_to_another_node(
    node: tuple[Node, FakeNational], tmp_path: Path
) -> None:
    """A transfer or a restore imports the record: the candidates and the check come along, and the
    record exported there is the same (so the two nodes' digests agree)."""
    from sqlmodel import select

    from common.registration.models import RegistrationRow
    from common.sync.records import export_record, import_record

    n, national = node
    national.answer = [_candidate()]
    name = n.create().name
    _accept(n, name, acknowledge=True)
    with n.db.transaction(write=False) as session:
        reg = session.exec(select(RegistrationRow)).one()
        record = export_record(session, reg)
    assert list(record.registration.current_application.possible_duplicates) == [_candidate()]
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    other = Node(other_dir)
    try:
        with other.db.transaction() as session:
            imported = import_record(session, record, node="320000")
            session.flush()
            again = export_record(session, imported)
        assert again == record
    finally:
        other.close()
