"""The one list of public fields: a registration's public view holds exactly those, and nothing of the
materials that are never public."""

from __future__ import annotations

from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import sync_pb2
from national_node.public import PUBLIC_EVENTS, PUBLIC_FIELDS, public_registration
from tests.factories import make_content

SECRET = "机房甲-机柜07"


def _record() -> sync_pb2.RegistrationRecord:
    content = make_content(data_name="江苏省逐小时地面气象观测数据")
    content.storage.location = SECRET
    content.storage.method = SECRET
    content.legal_source = SECRET
    content.evidence_deposit = SECRET
    for document in (content.security_assessment, content.description, content.commitment):
        document.title, document.uri = SECRET, f"https://docs.example.cn/{SECRET}"
    content.agent.name, content.agent.uscc = SECRET, "91320106MA1XXXXX0X"
    reg = r.Registration(
        uid="0d0ffc88-40e7-44b8-8706-759e4143a01f",
        name="nodes/320000/registrations/r-1",
        code="132000026000000001D",
        object_type=r.PUBLIC_DATA_RESOURCE,
        state=r.Registration.ACTIVE,
        content=content,
        managing_node="nodes/320000",
    )
    reg.current_application.type = r.INITIAL
    reg.current_application.decision_reason = SECRET
    reg.current_application.defects.add(field="storage.location", description=SECRET)
    reg.current_application.objections.add(objector=SECRET, reason=SECRET)
    record = sync_pb2.RegistrationRecord(registration=reg, revision=7)
    for action in ("submit", "accept", "approve", "announce", "object", "assign_code"):
        entry = record.history.add(action=action, actor=SECRET, reason=SECRET)
        entry.time.FromSeconds(1_780_000_000)
    return record


def test_the_public_view_has_exactly_the_public_fields() -> None:
    view = public_registration(_record(), region="320000")
    assert list(view) == [key for key, _ in PUBLIC_FIELDS]
    assert view["code"] == "132000026000000001D" and view["region"] == "江苏省"
    assert view["object_type"] == "公共数据资源" and view["state"] == "有效"
    assert view["registration_type"] == "首次登记"


def test_nothing_that_is_not_public_reaches_the_view() -> None:
    view = public_registration(_record(), region="320000")
    assert SECRET not in repr(view)
    # The history: public events only, by day, without who or why.
    assert [e["event"] for e in view["history"]] == ["announce", "object", "assign_code"]
    assert all(set(e) == {"date", "event", "label"} for e in view["history"])
    assert set(PUBLIC_EVENTS).isdisjoint({"submit", "accept", "approve", "return", "refuse"})
