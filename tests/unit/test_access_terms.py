"""How the data is obtained (the access terms): every bad field refused with its path and reason, never
INTERNAL; registrations without terms valid as before; terms part of the versioned, hashed content;
their public view."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from common.errors import InvalidArgument
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import sync_pb2
from common.registration import queries
from common.registration.content import canonical_json, validate_content
from common.sync.records import export_record
from common.validation import Checker
from national_node.public import access_filters, public_access, public_registration
from tests.unit.procedure_support import Node, content, product, refused, sha256_of, with_region

T, C = r.AccessTerms, r.AccessChannel
P = "registration.content.access_terms."


def terms() -> r.AccessTerms:
    """Complete terms, valid for any object type (no fees)."""
    return r.AccessTerms(
        sharing_attribute=T.CONDITIONALLY_SHARED,
        sharing_conditions="仅限履行交通管理职责的部门使用",
        open_attribute=T.NOT_OPEN,
        not_open_reason="含有车辆号牌等个人信息",
        channels=[
            C(kind=C.API, uri="https://api.example.gov.cn/traffic/v1", description="按路段查询"),
            C(kind=C.DATA_SERVICE, uri="sftp://data.example.gov.cn/traffic"),
            C(kind=C.ON_REQUEST, description="向数据资源处提交书面申请"),
        ],
        contact=r.ContactPoint(
            department="南京市交通运输局数据资源处", phone="025-8366 1234转8", email="data@nj.gov.cn"
        ),
        license="仅限政务用途，不得向第三方提供",
    )


def violations(body: r.RegistrationContent, object_type: int = 1) -> dict[str, str]:
    check = Checker()
    validate_content(check, body, object_type, "registration.content")
    return {v.field: v.reason for v in check.violations}


def with_terms(
    change: Callable[[r.AccessTerms], object], base: r.AccessTerms | None = None
) -> r.RegistrationContent:
    body = content()
    body.access_terms.CopyFrom(base if base is not None else terms())
    change(body.access_terms)
    return body


# -- validation ---------------------------------------------------------------------------------


def test_complete_terms_and_no_terms_at_all_are_both_valid() -> None:
    assert violations(with_terms(lambda t: None)) == {}
    assert violations(content()) == {}  # a registration from before terms existed, or stating none
    fees = product(access_terms=terms())
    fees.access_terms.fees.add(name="接口调用", price_cny="0.05", unit="次")
    fees.access_terms.fees.add(name="年度订阅", price_cny="12000", unit="年")
    fees.access_terms.fees.add(name="样例数据", price_cny="0", unit="份")
    assert violations(fees, object_type=2) == {}


def _set(**values: object) -> Callable[[r.AccessTerms], None]:
    def change(t: r.AccessTerms) -> None:
        for key, value in values.items():
            setattr(t, key, value)

    return change


def _contact(**values: str) -> Callable[[r.AccessTerms], None]:
    def change(t: r.AccessTerms) -> None:
        for key, value in values.items():
            setattr(t.contact, key, value)

    return change


def _channel(**values: object) -> Callable[[r.AccessTerms], None]:
    return lambda t: t.channels.add(**values)  # type: ignore[arg-type]


BAD_TERMS = [
    pytest.param(
        _set(sharing_conditions=""), {"sharing_conditions": "FIELD_REQUIRED"}, id="conditions-missing"
    ),
    pytest.param(
        _set(sharing_attribute=T.NOT_SHARED, sharing_conditions="", not_shared_basis="  "),
        {"not_shared_basis": "FIELD_REQUIRED"},
        id="not-shared-without-legal-basis",
    ),
    pytest.param(
        _set(sharing_attribute=T.UNCONDITIONALLY_SHARED),
        {"sharing_conditions": "FIELD_NOT_ALLOWED"},
        id="conditions-with-unconditional",
    ),
    pytest.param(
        _set(sharing_attribute=9, sharing_conditions=""),
        {"sharing_attribute": "FIELD_OUT_OF_RANGE"},
        id="unknown-attribute",
    ),
    pytest.param(
        _set(not_open_reason=""), {"not_open_reason": "FIELD_REQUIRED"}, id="not-open-without-reason"
    ),
    pytest.param(
        _set(open_attribute=T.CONDITIONALLY_OPEN),
        {"open_conditions": "FIELD_REQUIRED", "not_open_reason": "FIELD_NOT_ALLOWED"},
        id="conditionally-open-without-conditions",
    ),
    pytest.param(
        _set(not_open_reason="理" * 2001), {"not_open_reason": "FIELD_TOO_LONG"}, id="reason-too-long"
    ),
    pytest.param(_set(license="许" * 2001), {"license": "FIELD_TOO_LONG"}, id="license-too-long"),
    pytest.param(
        _channel(kind=C.KIND_UNSPECIFIED, uri="https://x.cn/"),
        {"channels[3].kind": "FIELD_REQUIRED"},
        id="no-kind",
    ),
    pytest.param(_channel(kind=C.FILE_DOWNLOAD), {"channels[3].uri": "FIELD_REQUIRED"}, id="no-address"),
    pytest.param(
        _channel(kind=C.API, uri="api.example.cn/v1"), {"channels[3].uri": "FIELD_MALFORMED"}, id="no-scheme"
    ),
    pytest.param(
        _channel(kind=C.API, uri="https://example.cn/a b"),
        {"channels[3].uri": "FIELD_MALFORMED"},
        id="a-space",
    ),
    pytest.param(
        _channel(kind=C.API, uri=" JavaScript:alert(1)"),
        {"channels[3].uri": "FIELD_MALFORMED"},
        id="a-script",
    ),
    pytest.param(
        _channel(kind=C.API, uri="https://example.cn/" + "a" * 2000),
        {"channels[3].uri": "FIELD_TOO_LONG"},
        id="address-too-long",
    ),
    pytest.param(
        _channel(kind=C.API, uri="https://x.cn/", description="说" * 501),
        {"channels[3].description": "FIELD_TOO_LONG"},
        id="description-too-long",
    ),
    pytest.param(
        lambda t: t.channels.extend([C(kind=C.ON_REQUEST)] * 18),
        {"channels": "FIELD_TOO_LONG"},
        id="21-channels",
    ),
    pytest.param(_contact(phone="", email=""), {"contact": "FIELD_REQUIRED"}, id="no-phone-or-email"),
    pytest.param(_contact(department=""), {"contact.department": "FIELD_REQUIRED"}, id="no-department"),
    pytest.param(_contact(phone="call me"), {"contact.phone": "FIELD_MALFORMED"}, id="bad-phone"),
    pytest.param(_contact(phone="1-2-3-4"), {"contact.phone": "FIELD_MALFORMED"}, id="too-few-digits"),
    pytest.param(_contact(email="data at nj.gov.cn"), {"contact.email": "FIELD_MALFORMED"}, id="bad-email"),
    pytest.param(
        _contact(email="a" * 250 + "@nj.gov.cn"), {"contact.email": "FIELD_TOO_LONG"}, id="email-too-long"
    ),
]


@pytest.mark.parametrize(("change", "expected"), BAD_TERMS)
def test_each_bad_term_is_refused_with_its_field_and_reason(
    change: Callable[[r.AccessTerms], object], expected: dict[str, str]
) -> None:
    assert violations(with_terms(change)) == {P + field: reason for field, reason in expected.items()}


@pytest.mark.parametrize("price", ["0", "0.05", "12000", "1.2345", "999999999999.99"])
def test_a_price_is_a_decimal_number_of_yuan(price: str) -> None:
    body = product(access_terms=r.AccessTerms(fees=[r.Fee(name="接口调用", price_cny=price, unit="次")]))
    assert violations(body, object_type=2) == {}


@pytest.mark.parametrize(
    ("price", "reason"),
    [
        ("-1", "FIELD_OUT_OF_RANGE"),
        ("-0.5", "FIELD_OUT_OF_RANGE"),
        ("", "FIELD_REQUIRED"),
        ("  ", "FIELD_REQUIRED"),
        ("1e3", "FIELD_MALFORMED"),
        ("¥12", "FIELD_MALFORMED"),
        ("１２", "FIELD_MALFORMED"),  # full-width digits
        ("1,000", "FIELD_MALFORMED"),
        ("012", "FIELD_MALFORMED"),
        ("+5", "FIELD_MALFORMED"),
        ("1.23456", "FIELD_MALFORMED"),
        ("NaN", "FIELD_MALFORMED"),
        ("五元", "FIELD_MALFORMED"),
        ("1" * 40, "FIELD_TOO_LONG"),
    ],
)
def test_a_negative_or_non_decimal_price_is_refused(price: str, reason: str) -> None:
    body = product(access_terms=r.AccessTerms(fees=[r.Fee(name="接口调用", price_cny=price, unit="次")]))
    assert violations(body, object_type=2) == {P + "fees[0].price_cny": reason}


def test_a_fee_needs_its_name_and_unit_and_a_list_has_at_most_fifty() -> None:
    body = product(access_terms=r.AccessTerms(fees=[r.Fee(price_cny="1")]))
    assert violations(body, object_type=2) == {
        P + "fees[0].name": "FIELD_REQUIRED",
        P + "fees[0].unit": "FIELD_REQUIRED",
    }
    body = product(access_terms=r.AccessTerms(fees=[r.Fee(name="项", price_cny="1", unit="次")] * 51))
    assert violations(body, object_type=2) == {P + "fees": "FIELD_TOO_LONG"}


@pytest.mark.parametrize("object_type", [1, 3])
def test_only_a_product_or_service_has_a_fee_list(object_type: int) -> None:
    body = content(access_terms=r.AccessTerms(fees=[r.Fee(name="接口调用", price_cny="1", unit="次")]))
    assert violations(body, object_type) == {P + "fees": "FIELD_NOT_ALLOWED"}


# -- through the registration service -----------------------------------------------------------


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    made = Node(tmp_path)
    yield made
    made.close()


def test_the_service_refuses_bad_terms_as_invalid_argument_naming_every_field(node: Node) -> None:
    body = with_terms(_set(sharing_attribute=T.NOT_SHARED, sharing_conditions="", not_shared_basis=""))
    body.access_terms.channels.add(kind=C.API, uri="not a uri")
    error = refused(lambda: node.create(body), InvalidArgument, "INVALID_FIELDS")
    fields = {v.field for v in error.violations}  # type: ignore[attr-defined]
    assert fields == {P + "not_shared_basis", P + "channels[3].uri"}
    assert node.list().registrations == []


def test_a_change_of_terms_is_a_new_version_with_its_own_confirmation(node: Node) -> None:
    first = node.active(product(access_terms=terms()), object_type=2)
    assert first.version == 1 and first.content.access_terms.open_attribute == T.NOT_OPEN
    new = r.RegistrationContent()
    new.CopyFrom(first.content)
    new.access_terms.open_attribute = T.UNCONDITIONALLY_OPEN
    new.access_terms.not_open_reason = ""
    new.access_terms.fees.add(name="接口调用", price_cny="0.05", unit="次")
    second = node.through_change(first.name, r.CHANGE, new)
    assert second.version == 2 and second.code == first.code
    assert second.content.access_terms == new.access_terms
    # The confirmation of the version in force covers the new terms, not the old.
    confirmation = node.confirmation(second.code)
    assert confirmation.version == 2 and confirmation.content_sha256 == sha256_of(with_region(new))
    assert confirmation.content_sha256 != sha256_of(with_region(first.content))
    # What goes up to the national ledger carries the terms in force.
    with node.db.transaction(write=False) as session:
        record = export_record(session, queries.load(session, "320000", second.name.rsplit("/", 1)[1]))
    assert record.registration.content.access_terms == new.access_terms


def test_a_change_that_gives_a_resource_fees_is_refused_in_the_write(node: Node) -> None:
    first = node.active(content(access_terms=terms()))
    new = r.RegistrationContent()
    new.CopyFrom(first.content)
    new.access_terms.fees.add(name="接口调用", price_cny="1", unit="次")
    error = refused(lambda: node.submit(first.name, r.CHANGE, new), InvalidArgument, "FIELD_NOT_ALLOWED")
    assert [v.field for v in error.violations] == ["content.access_terms.fees"]  # type: ignore[attr-defined]
    assert node.get(first.name).current_application.type != r.CHANGE


def test_content_without_terms_keeps_its_canonical_form() -> None:
    """A registration coded before terms existed hashes as it did (no key for what is not set)."""
    assert "access_terms" not in canonical_json(content())
    stated = canonical_json(with_terms(lambda t: None))
    assert '"access_terms":{"channels":[{"description":"按路段查询","kind":"API"' in stated


# -- the public view ----------------------------------------------------------------------------


def test_the_public_view_says_everything_in_chinese_and_links_only_web_addresses() -> None:
    view = public_access(terms())
    assert view["stated"] is True
    assert (view["sharing_attribute"], view["sharing_attribute_label"]) == (
        "CONDITIONALLY_SHARED",
        "有条件共享",
    )
    assert (view["open_attribute_label"], view["not_open_reason"]) == ("不予开放", "含有车辆号牌等个人信息")
    assert [(c["kind_label"], c["linkable"]) for c in view["channels"]] == [
        ("接口调用", True),
        ("数据服务", True),
        ("依申请获取", False),
    ]
    assert view["contact"]["department"] == "南京市交通运输局数据资源处"
    mail = public_access(r.AccessTerms(channels=[C(kind=C.ON_REQUEST, uri="mailto:data@nj.gov.cn")]))
    assert mail["channels"][0]["linkable"] is False  # shown as text
    none = public_access(r.AccessTerms())
    assert (
        none["stated"] is False
        and none["open_attribute_label"] == none["sharing_attribute_label"] == "未说明"
    )
    assert access_filters(terms()) == {
        "sharing_attribute": "CONDITIONALLY_SHARED",
        "open_attribute": "NOT_OPEN",
        "channel_kinds": "API DATA_SERVICE ON_REQUEST",
    }


def test_a_registration_record_shows_its_terms_among_the_public_fields() -> None:
    reg = r.Registration(object_type=1, content=content(access_terms=terms()), managing_node="nodes/320000")
    view = public_registration(sync_pb2.RegistrationRecord(registration=reg), region="320000")
    assert view["access_terms"]["channels"][0]["uri"] == "https://api.example.gov.cn/traffic/v1"
