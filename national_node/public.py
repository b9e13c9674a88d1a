"""What the public may see of a registration: the one list of public fields, and their Chinese labels.

The public window (the portal's pages and its JSON API) shows a registration only through
:func:`public_registration`, which copies the fields in :data:`PUBLIC_FIELDS` and nothing else. Never
public: storage locations and methods, legal sources, evidence deposits, risk (security) assessments,
descriptions, commitments and every other document, agents, defects, reasons and decisions, objectors,
and who did what (operators' identities). The history shows the public events alone
(:data:`PUBLIC_EVENTS`), by day, without actors or reasons.
"""

from __future__ import annotations

from typing import Any

from common import regions
from common.gen.registry.v1 import registration_pb2, sync_pb2

__all__ = [
    "OBJECT_TYPES",
    "PUBLIC_EVENTS",
    "PUBLIC_FIELDS",
    "REGISTRATION_TYPES",
    "STATES",
    "public_registration",
    "region_label",
]

_R = registration_pb2.Registration

#: The public fields of a registration, in the order a page shows them: (key, label).
PUBLIC_FIELDS: tuple[tuple[str, str], ...] = (
    ("code", "登记编号"),
    ("data_name", "数据名称"),
    ("subject_name", "登记主体"),
    ("object_type", "登记对象"),
    ("registration_type", "登记类型"),
    ("state", "登记状态"),
    ("region", "所属地区"),
    ("valid_from", "有效期起"),
    ("valid_until", "有效期至"),
    ("update_frequency", "更新频率"),
    ("data_format", "数据格式"),
    ("summary", "数据简介"),
    ("application_scenarios", "应用场景"),
    ("history", "公开记录"),
)

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


def region_label(code: str) -> str:
    if code == regions.NATIONAL:
        return "中央"
    return regions.get(code).name if regions.is_region(code) else code


def _day(value: Any) -> str:
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}" if value.year else ""


def public_registration(record: sync_pb2.RegistrationRecord, *, region: str) -> dict[str, Any]:
    """The public fields of a ledger record (exactly the keys of :data:`PUBLIC_FIELDS`), as values
    for people: labels for codes, ISO days for dates."""
    reg = record.registration
    content = reg.content
    object_type = registration_pb2.ObjectType.Name(reg.object_type)
    state = _R.State.Name(reg.state)
    app_type = registration_pb2.RegistrationType.Name(reg.current_application.type)
    history = []
    for entry in record.history:
        label = PUBLIC_EVENTS.get(entry.action)
        if label is None:
            continue
        when = entry.time.ToDatetime()
        history.append({"date": when.date().isoformat(), "event": entry.action, "label": label})
    view: dict[str, Any] = {
        "code": reg.code,
        "data_name": content.data_name,
        "subject_name": content.subject.name,
        "object_type": OBJECT_TYPES.get(object_type, object_type),
        "registration_type": REGISTRATION_TYPES.get(app_type, ""),
        "state": STATES.get(state, state),
        "region": region_label(region),
        "valid_from": _day(reg.valid_from),
        "valid_until": _day(reg.valid_until),
        "update_frequency": content.update_frequency,
        "data_format": content.data_format,
        "summary": content.summary,
        "application_scenarios": list(content.application_scenarios),
        "history": history,
    }
    assert tuple(view) == tuple(key for key, _ in PUBLIC_FIELDS)
    return view
