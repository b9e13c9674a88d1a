"""What the public may see of a registration: the one list of public fields, and their Chinese labels.

The public window (the portal's pages and its JSON API) shows a registration only through
:func:`public_registration`, which reads the fields in :data:`PUBLIC_FIELDS` and nothing else; the
API's model of a registration is made from the same list, so a field added here is on the pages and
in the API at once. Never public: storage locations and methods, legal sources, evidence deposits,
risk (security) assessments, descriptions, commitments and every other document, agents, defects,
reasons and decisions, objectors, and who did what (operators' identities). The history shows the
public events alone (:data:`PUBLIC_EVENTS`), by day in China Standard Time, without actors or reasons.
How the data is obtained (the access terms: attributes, channels, an organisational contact point,
the licence, fees) is public by nature and shown whole (:func:`public_access`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from typing_extensions import TypedDict

from common import regions
from common.clock import china_date
from common.gen.registry.v1 import registration_pb2, sync_pb2
from common.registration.access import is_linkable

__all__ = [
    "CHANNEL_KINDS",
    "NOT_STATED",
    "OBJECT_TYPES",
    "OPEN_ATTRIBUTES",
    "PUBLIC_EVENTS",
    "PUBLIC_FIELDS",
    "REGISTRATION_TYPES",
    "SHARING_ATTRIBUTES",
    "STATES",
    "PublicAccess",
    "PublicChannel",
    "PublicContact",
    "PublicEvent",
    "PublicFee",
    "PublicField",
    "access_filters",
    "public_access",
    "public_registration",
    "region_label",
]

_R = registration_pb2.Registration

OBJECT_TYPES = {
    "PUBLIC_DATA_RESOURCE": "公共数据资源",
    "DATA_PRODUCT_OR_SERVICE": "公共数据产品和服务",
    "OPEN_DATA_RESOURCE": "开放数据资源",
}
REGISTRATION_TYPES = {
    "INITIAL": "首次登记",
    "CHANGE": "变更登记",
    "CORRECTION": "更正登记",
    "DEREGISTRATION": "注销登记",
}
STATES = {
    "PENDING": "登记中",
    "ACTIVE": "有效",
    "EXPIRED": "已到期",
    "DEREGISTERED": "已注销",
    "CLOSED": "未予登记",
}
#: The sharing attribute of 《政务数据共享条例》 (AccessTerms.SharingAttribute).
SHARING_ATTRIBUTES = {
    "UNCONDITIONALLY_SHARED": "无条件共享",
    "CONDITIONALLY_SHARED": "有条件共享",
    "NOT_SHARED": "不予共享",
}
#: The open attribute (AccessTerms.OpenAttribute).
OPEN_ATTRIBUTES = {
    "UNCONDITIONALLY_OPEN": "无条件开放",
    "CONDITIONALLY_OPEN": "有条件开放",
    "NOT_OPEN": "不予开放",
}
#: The kinds of access channel (AccessChannel.Kind).
CHANNEL_KINDS = {
    "API": "接口调用",
    "FILE_DOWNLOAD": "文件下载",
    "DATA_SERVICE": "数据服务",
    "ON_REQUEST": "依申请获取",
}
#: What an attribute the subject did not state is called.
NOT_STATED = "未说明"
#: The history actions the public sees, with what they are called.
PUBLIC_EVENTS = {
    "announce": "登记公示开始",
    "object": "收到异议",
    "dismiss_objection": "异议不成立",
    "uphold_objection": "异议成立",
    "close_announcement": "公示期满",
    "assign_code": "赋码，登记生效",
    "new_version_change": "变更登记生效",
    "new_version_correction": "更正登记生效",
    "renew": "登记续期",
    "deregister": "注销登记",
    "expire": "有效期届满",
}


class PublicEvent(TypedDict):
    """A public event of a registration's history: its day (China Standard Time), action and label."""

    date: str
    event: str
    label: str


class PublicChannel(TypedDict):
    """A way to obtain the data: its kind (an AccessChannel.Kind name) and what it is called, its
    address, and whether a page may link to it (web and file-transfer addresses only)."""

    kind: str
    kind_label: str
    uri: str
    description: str
    linkable: bool


class PublicContact(TypedDict):
    """An organisational contact point (empty strings: none stated)."""

    department: str
    phone: str
    email: str


class PublicFee(TypedDict):
    """One item of a product's or service's fee list: the price in yuan, as a decimal string."""

    name: str
    price_cny: str
    unit: str


class PublicAccess(TypedDict):
    """How the data is obtained (如何获取): each attribute as its enum name (empty: not stated) and in
    Chinese, the texts that go with it, the channels, the contact point, the licence and the fees.
    ``stated``: the registration states any of it."""

    stated: bool
    sharing_attribute: str
    sharing_attribute_label: str
    sharing_conditions: str
    not_shared_basis: str
    open_attribute: str
    open_attribute_label: str
    open_conditions: str
    not_open_reason: str
    channels: list[PublicChannel]
    contact: PublicContact
    license: str
    fees: list[PublicFee]


@dataclass(frozen=True, slots=True)
class PublicField:
    """A public field: its key (in the API), its label (on the pages), how it is read from a ledger
    record and the registration's region, and its type in the API."""

    key: str
    label: str
    read: Callable[[sync_pb2.RegistrationRecord, str], Any]
    type: Any = str


def region_label(code: str) -> str:
    if code == regions.NATIONAL:
        return "中央"
    return regions.get(code).name if regions.is_region(code) else code


def date_text(value: Any) -> str:
    """A google.type.Date as YYYY-MM-DD; empty when unset."""
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}" if value.year else ""


def _content(record: sync_pb2.RegistrationRecord) -> registration_pb2.RegistrationContent:
    return record.registration.content


def _object_type(record: sync_pb2.RegistrationRecord, _: str) -> str:
    name = registration_pb2.ObjectType.Name(record.registration.object_type)
    return OBJECT_TYPES.get(name, name)


def _registration_type(record: sync_pb2.RegistrationRecord, _: str) -> str:
    name = registration_pb2.RegistrationType.Name(record.registration.current_application.type)
    return REGISTRATION_TYPES.get(name, "")


def _state(record: sync_pb2.RegistrationRecord, _: str) -> str:
    name = _R.State.Name(record.registration.state)
    return STATES.get(name, name)


def _history(record: sync_pb2.RegistrationRecord, _: str) -> list[PublicEvent]:
    history: list[PublicEvent] = []
    for entry in record.history:
        label = PUBLIC_EVENTS.get(entry.action)
        if label is not None:
            day = china_date(entry.time.ToDatetime(tzinfo=UTC))
            history.append(PublicEvent(date=day.isoformat(), event=entry.action, label=label))
    return history


def _enum(enum: Any, number: int) -> str:
    """An enum value's name; empty for the zero value (not stated) or a number the contract lacks."""
    return str(enum.Name(number)) if number and number in enum.values() else ""


def public_access(terms: registration_pb2.AccessTerms) -> PublicAccess:
    """The public view of a registration's access terms (every part of them is public)."""
    sharing = _enum(registration_pb2.AccessTerms.SharingAttribute, terms.sharing_attribute)
    opened = _enum(registration_pb2.AccessTerms.OpenAttribute, terms.open_attribute)
    channels = [
        PublicChannel(
            kind=(kind := _enum(registration_pb2.AccessChannel.Kind, c.kind)),
            kind_label=CHANNEL_KINDS.get(kind, NOT_STATED),
            uri=c.uri.strip(),
            description=c.description.strip(),
            linkable=is_linkable(c.uri),
        )
        for c in terms.channels
    ]
    return PublicAccess(
        stated=terms.ByteSize() > 0,
        sharing_attribute=sharing,
        sharing_attribute_label=SHARING_ATTRIBUTES.get(sharing, NOT_STATED),
        sharing_conditions=terms.sharing_conditions.strip(),
        not_shared_basis=terms.not_shared_basis.strip(),
        open_attribute=opened,
        open_attribute_label=OPEN_ATTRIBUTES.get(opened, NOT_STATED),
        open_conditions=terms.open_conditions.strip(),
        not_open_reason=terms.not_open_reason.strip(),
        channels=channels,
        contact=PublicContact(
            department=terms.contact.department.strip(),
            phone=terms.contact.phone.strip(),
            email=terms.contact.email.strip(),
        ),
        license=terms.license.strip(),
        fees=[
            PublicFee(name=f.name.strip(), price_cny=f.price_cny.strip(), unit=f.unit.strip())
            for f in terms.fees
        ],
    )


def access_filters(terms: registration_pb2.AccessTerms) -> dict[str, str]:
    """What the search index filters by: the attributes' enum names (empty: not stated) and the
    kinds of the channels (names, sorted, space-separated)."""
    kinds = {_enum(registration_pb2.AccessChannel.Kind, c.kind) for c in terms.channels} - {""}
    return {
        "sharing_attribute": _enum(registration_pb2.AccessTerms.SharingAttribute, terms.sharing_attribute),
        "open_attribute": _enum(registration_pb2.AccessTerms.OpenAttribute, terms.open_attribute),
        "channel_kinds": " ".join(sorted(kinds)),
    }


#: The public fields of a registration, in the order a page shows them.
PUBLIC_FIELDS: tuple[PublicField, ...] = (
    PublicField("code", "登记编号", lambda rec, _: rec.registration.code),
    PublicField("data_name", "数据名称", lambda rec, _: _content(rec).data_name),
    PublicField("subject_name", "登记主体", lambda rec, _: _content(rec).subject.name),
    PublicField("object_type", "登记对象", _object_type),
    PublicField("registration_type", "登记类型", _registration_type),
    PublicField("state", "登记状态", _state),
    PublicField("region", "所属地区", lambda _, region: region_label(region)),
    PublicField("valid_from", "有效期起", lambda rec, _: date_text(rec.registration.valid_from)),
    PublicField("valid_until", "有效期至", lambda rec, _: date_text(rec.registration.valid_until)),
    PublicField("update_frequency", "更新频率", lambda rec, _: _content(rec).update_frequency),
    PublicField("data_format", "数据格式", lambda rec, _: _content(rec).data_format),
    PublicField("summary", "数据简介", lambda rec, _: _content(rec).summary),
    PublicField(
        "application_scenarios",
        "应用场景",
        lambda rec, _: list(_content(rec).application_scenarios),
        list[str],
    ),
    PublicField(
        "access_terms", "如何获取", lambda rec, _: public_access(_content(rec).access_terms), PublicAccess
    ),
    PublicField("history", "公开记录", _history, list[PublicEvent]),
)


def public_registration(record: sync_pb2.RegistrationRecord, *, region: str) -> dict[str, Any]:
    """The public fields of a ledger record (exactly the keys of :data:`PUBLIC_FIELDS`, in order), as
    values for people: labels for codes, ISO days for dates."""
    return {field.key: field.read(record, region) for field in PUBLIC_FIELDS}
