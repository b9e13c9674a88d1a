"""Authorised-operation disclosure at the national node's desk (DisclosureService), on SQLite and
PostgreSQL with a clock the test sets: versions, each entered in the national log; every code checked
against the ledger and a product against its owner; acting for another organisation or in another
role refused with nothing written; who has not disclosed after 31 March, per region."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest
from google.protobuf import json_format
from sqlmodel import select

from common.clock import SystemClock
from common.db import Database
from common.errors import AlreadyExists, InvalidArgument, NotFound, PermissionDenied
from common.gen.registry.v1 import disclosure_pb2 as ds
from common.gen.registry.v1 import disclosure_service_pb2 as dss
from common.gen.registry.v1 import registration_pb2 as r
from common.paging import PageTokens
from common.registration.content import to_date
from common.rpc.call import Call
from common.security.policy import Grant, Scope
from common.security.tokens import Principal
from common.transparency import Signer
from common.transparency.entry import ORIGIN, canonical, parse_entry
from national_node.directory import sync_directory
from national_node.disclosures import DisclosureDesk
from national_node.models import DisclosureRow, DownwardRow, LedgerRow, LogEntryRow
from national_node.search import SearchIndex
from national_node.settings import ProvincialNodeEntry
from national_node.tlog import TransparencyLog
from tests.factories import make_uscc
from tests.integration.test_objection_desk import Clock
from tests.integration.test_search import record

pytestmark = pytest.mark.integration

ENTITY = make_uscc("320106")  # an operating entity in Jiangsu
BODY = make_uscc("320102")  # an implementing body in Jiangsu
OTHER = make_uscc("330106")  # an operating entity in Zhejiang


def _call(uscc: str, role: str) -> Call:
    principal = Principal(
        subject="zhou.shi",
        name="zhou.shi",
        roles=frozenset({role}),
        subjects=frozenset({uscc}),
        issuer="https://id.registry.data.gov.cn",
        expires=datetime.now(UTC) + timedelta(hours=1),
    )
    return Call(
        method="DisclosureService.FileDisclosure", principal=principal, grant=Grant(role, Scope.OWN_SUBJECTS)
    )


def _registered(db: Database, code: str, uscc: str, object_type: int, node: str = "320000") -> None:
    rec = record(f"数据{code[-6:]}", uscc=uscc, object_type=object_type, node=node)
    reg = rec.registration
    reg.code = code
    reg.valid_from.CopyFrom(to_date(date(2026, 1, 1)))
    reg.valid_until.CopyFrom(to_date(date(2028, 12, 31)))
    with db.transaction() as session:
        session.add(
            LedgerRow(
                uid=reg.uid,
                node=node,
                name=reg.name,
                code=code,
                state="ACTIVE",
                revision=1,
                digest="0" * 64,
                bucket=reg.uid[:2],
                record=rec.SerializeToString(),
                updated_at=datetime.now(UTC),
            )
        )
        SearchIndex().put(session, rec, now=datetime.now(UTC))


PRODUCT = "232000026000000001X"
RESOURCE = "132000026000000002X"
ZHEJIANG = "233000026000000003X"


@pytest.fixture
def db(national_database: Database) -> Database:
    _registered(national_database, PRODUCT, ENTITY, r.DATA_PRODUCT_OR_SERVICE)
    _registered(national_database, RESOURCE, BODY, r.PUBLIC_DATA_RESOURCE)
    _registered(national_database, ZHEJIANG, OTHER, r.DATA_PRODUCT_OR_SERVICE, node="330000")
    return national_database


def _desk(db: Database, day: date) -> tuple[DisclosureDesk, TransparencyLog]:
    log = TransparencyLog(db, SystemClock(), Signer.generate(ORIGIN))
    return DisclosureDesk(db, Clock(day), PageTokens(b"k" * 32), log.appender), log


def _entity(request_id: str = "f-1", **changes: object) -> dss.FileDisclosureRequest:
    disclosure = ds.Disclosure(
        year=2026,
        role=ds.Disclosure.OPERATING_ENTITY,
        party=ds.DisclosingParty(uscc=ENTITY, name="江苏数据运营有限公司"),
        profile="经省数据局授权运营公共数据的国有企业",
        resources=[RESOURCE],
        products=[
            ds.DisclosedProduct(code=PRODUCT, fees=[r.Fee(name="接口调用", price_cny="0.05", unit="次")])
        ],
    )
    for field, value in changes.items():
        if isinstance(value, list):
            del getattr(disclosure, field)[:]
            getattr(disclosure, field).extend(value)
        else:
            setattr(disclosure, field, value)
    return dss.FileDisclosureRequest(disclosure=disclosure, request_id=request_id)


def _body(year: int = 2026, request_id: str = "b-1") -> dss.FileDisclosureRequest:
    grant = ds.Authorisation(
        codes=[RESOURCE],
        grantee=ds.DisclosingParty(uscc=ENTITY, name="江苏数据运营有限公司"),
        start=to_date(date(2026, 1, 1)),
        end=to_date(date(2028, 12, 31)),
    )
    return dss.FileDisclosureRequest(
        disclosure=ds.Disclosure(
            year=year,
            role=ds.Disclosure.IMPLEMENTING_BODY,
            party=ds.DisclosingParty(uscc=BODY, name="江苏省数据局"),
            profile="省级公共数据授权运营实施机构",
            authorisations=[grant],
            fee_cap="运营服务费不超过成本加合理利润（苏发改价格〔2026〕1号）",
        ),
        request_id=request_id,
    )


def test_each_version_is_kept_entered_in_the_log_and_findable_by_the_codes_it_names(db: Database) -> None:
    desk, _ = _desk(db, date(2027, 2, 10))
    first = desk.file(_entity(), _call(ENTITY, "operating_entity"))
    assert (first.name, first.version, first.region, first.late) == (
        f"disclosures/2026/operating-entity/{ENTITY}",
        1,
        "320000",
        False,
    )
    assert desk.file(_entity(), _call(ENTITY, "operating_entity")) == first  # a retry files once
    with pytest.raises(AlreadyExists):
        desk.file(_entity(profile="另一份"), _call(ENTITY, "operating_entity"))
    second = desk.file(_entity("f-2", profile="更正后的基本信息"), _call(ENTITY, "operating_entity"))
    assert second.version == 2 and second.profile == "更正后的基本信息"
    assert desk.get(dss.GetDisclosureRequest(name=first.name)).version == 2
    assert desk.get(dss.GetDisclosureRequest(name=first.name, version=1)).profile == first.profile
    # Each version's log entry names the SHA-256 of its canonical content.
    with db.transaction(write=False) as session:
        entries = [parse_entry(row.entry) for row in session.exec(select(LogEntryRow)).all()]
    logged = [(e["version"], e["content_sha256"]) for e in entries if e["kind"] == "disclosure"]
    content = json_format.MessageToDict(
        _entity("f-2", profile="更正后的基本信息").disclosure, preserving_proto_field_name=True
    )
    assert logged == [(1, first.content_sha256), (2, hashlib.sha256(canonical(content)).hexdigest())]
    assert second.log_index > first.log_index
    # A registration's page finds the disclosures that name it; the list holds latest versions only.
    named = desk.list_disclosures(dss.ListDisclosuresRequest(code=PRODUCT)).disclosures
    assert [(d.name, d.version) for d in named] == [(first.name, 2)]
    assert desk.list_disclosures(dss.ListDisclosuresRequest(region="330000")).disclosures == []
    with pytest.raises(NotFound):
        desk.get(dss.GetDisclosureRequest(name=first.name, version=3))


def test_acting_for_another_organisation_in_another_role_or_on_anothers_product_writes_nothing(
    db: Database,
) -> None:
    desk, _ = _desk(db, date(2027, 2, 10))
    attempts = [
        (_entity(), _call(OTHER, "operating_entity"), PermissionDenied),  # another organisation's name
        (_entity(), _call(ENTITY, "implementing_body"), PermissionDenied),  # the wrong role
        (
            _entity(products=[ds.DisclosedProduct(code=ZHEJIANG)]),  # a product it does not run
            _call(ENTITY, "operating_entity"),
            PermissionDenied,
        ),
        (_entity(resources=["132000026999999999X"]), _call(ENTITY, "operating_entity"), InvalidArgument),
        (_entity(year=2027), _call(ENTITY, "operating_entity"), InvalidArgument),  # not a past year
        (_entity(fee_cap="上限"), _call(ENTITY, "operating_entity"), InvalidArgument),  # not its field
        (  # a product both registered and named as not registered yet
            _entity(products=[ds.DisclosedProduct(code=PRODUCT, name="数据产品")]),
            _call(ENTITY, "operating_entity"),
            InvalidArgument,
        ),
    ]
    for request, call, error in attempts:
        with pytest.raises(error):
            desk.file(request, call)
    with db.transaction(write=False) as session:
        assert session.exec(select(DisclosureRow)).all() == []
        assert session.exec(select(LogEntryRow)).all() == []


def test_after_31_march_the_coordinators_see_who_has_not_disclosed_per_region(db: Database) -> None:
    desk, _ = _desk(db, date(2026, 3, 1))
    desk.file(_body(2025, "b-2025"), _call(BODY, "implementing_body"))  # it disclosed for 2025
    before = _desk(db, date(2027, 3, 31))[0].overdue(dss.ListOverdueDisclosuresRequest(year=2026))
    assert not before.deadline_passed and list(before.overdue) == []
    after, _ = _desk(db, date(2027, 4, 1))
    overdue = after.overdue(dss.ListOverdueDisclosuresRequest(year=2026))
    assert overdue.deadline_passed
    assert sorted((o.party.uscc, o.role, o.region) for o in overdue.overdue) == sorted(
        [
            (ENTITY, ds.Disclosure.OPERATING_ENTITY, "320000"),
            (BODY, ds.Disclosure.IMPLEMENTING_BODY, "320000"),
            (OTHER, ds.Disclosure.OPERATING_ENTITY, "330000"),
        ]
    )
    jiangsu = after.overdue(dss.ListOverdueDisclosuresRequest(year=2026, region="320000")).overdue
    assert {o.party.uscc for o in jiangsu} == {ENTITY, BODY}
    # Filed late: marked so, and no longer chased.
    late = after.file(_entity(), _call(ENTITY, "operating_entity"))
    assert late.late
    after.file(_body(), _call(BODY, "implementing_body"))
    remaining = after.overdue(dss.ListOverdueDisclosuresRequest(year=2026)).overdue
    assert [o.party.uscc for o in remaining] == [OTHER]


def test_a_product_not_registered_yet_is_disclosed_by_name_and_sent_to_its_regions_node(db: Database) -> None:
    sync_directory(db, national_address="127.0.0.1:1", nodes=[ProvincialNodeEntry(region="320000")])
    desk, _ = _desk(db, date(2027, 2, 10))
    unregistered = ds.DisclosedProduct(name="企业用电分析报告")
    filed = desk.file(
        _entity(products=[ds.DisclosedProduct(code=PRODUCT), unregistered]), _call(ENTITY, "operating_entity")
    )
    assert [(p.code, p.name) for p in filed.products] == [(PRODUCT, ""), ("", "企业用电分析报告")]
    with db.transaction(write=False) as session:
        [sent] = session.exec(select(DownwardRow).where(DownwardRow.kind == "DISCLOSURE")).all()
    assert sent.node == "320000" and sent.notice is not None
    told = ds.Disclosure.FromString(sent.notice)
    assert (told.name, told.version, told.products[1].name) == (filed.name, 1, "企业用电分析报告")
