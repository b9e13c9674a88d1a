"""The one list of public fields: a registration's public view holds exactly those, and nothing of the
materials that are never public."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

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
    assert list(view) == [field.key for field in PUBLIC_FIELDS]
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


def test_how_to_obtain_the_data_is_public_whole() -> None:
    """The access terms are public by nature (the contact point is organisational): all of them are
    in the view, the not-open reason included."""
    record = _record()
    terms = record.registration.content.access_terms
    terms.open_attribute = r.AccessTerms.NOT_OPEN
    terms.not_open_reason = "含有个人信息"
    terms.channels.add(kind=r.AccessChannel.ON_REQUEST, description="书面申请")
    terms.contact.department, terms.contact.email = "江苏省气象局数据处", "data@js.gov.cn"
    view = public_registration(record, region="320000")["access_terms"]
    assert view["open_attribute_label"] == "不予开放" and view["not_open_reason"] == "含有个人信息"
    assert view["channels"][0]["kind_label"] == "依申请获取"
    assert view["contact"] == {"department": "江苏省气象局数据处", "phone": "", "email": "data@js.gov.cn"}
    assert "access_terms" in [field.key for field in PUBLIC_FIELDS]


def test_the_history_is_by_day_in_china() -> None:
    # 2026-05-28 20:26:40 UTC is 2026-05-29 04:26:40 in China.
    view = public_registration(_record(), region="320000")
    assert {e["date"] for e in view["history"]} == {"2026-05-29"}


#: A portal whose list of public fields has one more (the data type), asked for that registration's
#: API answer, the API's description of it, and its page: run in a fresh interpreter, where the
#: list is extended before anything reads it, as an edit of national_node/public.py would.
_ADDED_FIELD = """
import asyncio, json, sys
from datetime import UTC, datetime

import httpx

import national_node.public as public

public.PUBLIC_FIELDS += (
    public.PublicField("data_type", "数据类型", lambda rec, _: rec.registration.content.data_type),
)

from common.clock import make_clock
from common.db import Database, migrate
from common.paging import PageTokens
from national_node.models import LedgerRow
from national_node.portal.app import create_app
from national_node.portal.service import Portal
from national_node.search import Search, SearchIndex
from national_node.server import MIGRATIONS
from national_node.settings import PortalSettings
from tests.unit.test_public_fields import _record

db = Database(f"sqlite:///{sys.argv[1]}")
migrate(db.engine, MIGRATIONS)
record = _record()
reg = record.registration
with db.transaction() as session:
    SearchIndex().put(session, record, now=datetime.now(UTC))
    session.add(LedgerRow(
        uid=reg.uid, node="320000", name=reg.name, code=reg.code, state="ACTIVE", revision=7,
        digest="-", bucket=reg.uid[:2], record=record.SerializeToString(), updated_at=datetime.now(UTC),
    ))
portal = Portal(
    settings=PortalSettings(), search=Search(db), tokens=PageTokens(db.secret("portal_page_tokens")),
    national=None, clock=make_clock(None, 1.0),
)

async def ask():
    transport = httpx.ASGITransport(app=create_app(portal))
    async with httpx.AsyncClient(transport=transport, base_url="http://portal") as client:
        answer = await client.get(f"/api/v1/registrations/{reg.uid}")
        spec = await client.get("/api/v1/openapi.json")
        page = await client.get(f"/registrations/{reg.uid}")
        return answer.json(), spec.json(), page.text

answer, spec, page = asyncio.run(ask())
described = spec["components"]["schemas"]["PublicRegistration"]["properties"].get("data_type")
print(json.dumps({"answer": answer, "described": described, "page": page}, ensure_ascii=False))
"""


@pytest.mark.slow
def test_a_field_added_to_the_one_list_is_in_the_api_its_description_and_the_page(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    ran = subprocess.run(
        [sys.executable, "-c", _ADDED_FIELD, str(tmp_path / "national.db")],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr
    seen = json.loads(ran.stdout.strip().splitlines()[-1])
    assert seen["answer"]["data_type"] == "结构化数据"
    keys = list(seen["answer"])
    assert keys.index("data_type") == keys.index("history") + 1  # where the list has it
    assert seen["described"] == {"type": "string", "title": "Data Type", "description": "数据类型"}
    assert '<div class="field" data-field="data_type">' in seen["page"] and "数据类型" in seen["page"]
    assert SECRET not in json.dumps(seen["answer"], ensure_ascii=False)


def test_the_apis_model_of_a_registration_is_the_list_of_public_fields() -> None:
    from national_node.portal.schemas import PublicRegistration

    fields = list(PublicRegistration.model_fields)
    assert fields[1 : len(PUBLIC_FIELDS) + 1] == [field.key for field in PUBLIC_FIELDS]
