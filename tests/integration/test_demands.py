"""Data demands and share requests through a real federation (the national node with its indexer,
Jiangsu's node, mutual TLS, bearer tokens): a verified organisation posts a demand, the national node
matches it against the registrations its ledger holds (as people write: an abbreviation finds the
full name), the managing province lists it as due for the subject until it answers, the organisation
follows and closes it; a department's share request runs at the province from reply to delivery;
every attempt to act for another organisation, department or subject is refused and writes nothing;
every write is idempotent.

The nodes run a simulated clock (two days per real second) so that announcements close in seconds
and a deadline passes while the test watches.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, timedelta
from pathlib import Path

import grpc
import httpx
import pytest

from common.clock import china_date
from common.gen.registry.v1 import demand_pb2 as d
from common.gen.registry.v1 import demand_service_pb2 as ds
from common.gen.registry.v1 import demand_service_pb2_grpc as ds_grpc
from common.gen.registry.v1 import disclosure_pb2 as dis
from common.gen.registry.v1 import disclosure_service_pb2 as dss
from common.gen.registry.v1 import disclosure_service_pb2_grpc as dss_grpc
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import registration_service_pb2 as rs
from common.gen.registry.v1 import registration_service_pb2_grpc as rs_grpc
from common.gen.registry.v1 import share_pb2 as sh
from common.gen.registry.v1 import share_service_pb2 as ss
from common.gen.registry.v1 import share_service_pb2_grpc as ss_grpc
from common.registration.content import to_date
from tests.factories import make_content, make_uscc
from tests.nodes import NodeProcess, free_port, registryctl, wait_until
from tests.rpc_support import reason_of
from tests.trust import token

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FAST_CLOCK = {"REGISTRY_CLOCK_SPEED": "172800", "REGISTRY_DUTIES_INTERVAL": "0.2"}
SUPPLIER = make_uscc("320106")  # the subject of the registrations (a Jiangsu unit)
OTHER_SUBJECT = make_uscc("320106")
DEMANDER = make_uscc("110105")  # a verified organisation in Beijing that uses data
STRANGER = make_uscc("440300")
ELECTRICITY = "全省企业用电量月度统计数据"
INSURANCE = "医疗保障定点医药机构目录"
SCHOOLS = "全省中小学校基本信息"


@dataclass
class Federation:
    national: NodeProcess
    province: NodeProcess
    national_db: Path
    metrics: str  # the national node's /metrics
    names: dict[str, str]  # data name -> registration name
    codes: dict[str, str]  # data name -> code
    channels: dict[tuple[str, str], grpc.Channel]

    def demands(self, bearer: str = "", *, node: str | None = None) -> ds_grpc.DemandServiceStub:
        """DemandService as a person with ``bearer`` (none: anonymous), or as the node ``node``."""
        key = (bearer, node or "")
        if key not in self.channels:
            self.channels[key] = self.national.channel(bearer=bearer, node=node)
        return ds_grpc.DemandServiceStub(self.channels[key])

    def rows(self, table: str) -> int:
        return self.rows_where(table, "1 = 1")

    def rows_where(self, table: str, condition: str) -> int:
        with sqlite3.connect(self.national_db) as db:
            query = f"SELECT count(*) FROM {table} WHERE {condition}"  # noqa: S608 (the tests' own text)
            return int(db.execute(query).fetchone()[0])


def _rid() -> str:
    return str(uuid.uuid4())


def _user(uscc: str = DEMANDER, subject: str = "li.si") -> str:
    return token(subject, roles=("data_user",), subjects=(uscc,))


def _supplier(uscc: str = SUPPLIER, subject: str = "wang.wu") -> str:
    return token(subject, roles=("applicant",), subjects=(uscc,))


def _register(registrations: rs_grpc.RegistrationServiceStub, data_name: str, uscc: str) -> r.Registration:
    content = make_content(uscc, data_name=data_name)
    created = registrations.CreateRegistration(
        rs.CreateRegistrationRequest(
            parent="nodes/320000",
            registration=r.Registration(object_type=r.PUBLIC_DATA_RESOURCE, content=content),
            request_id=_rid(),
        ),
        timeout=10,
    )
    for step, request in (
        (registrations.AcceptApplication, rs.AcceptApplicationRequest(name=created.name, request_id=_rid())),
        (
            registrations.ApproveApplication,
            rs.ApproveApplicationRequest(name=created.name, request_id=_rid()),
        ),
        (
            registrations.AnnounceApplication,
            rs.AnnounceApplicationRequest(name=created.name, request_id=_rid()),
        ),
    ):
        step(request, timeout=10)  # type: ignore[operator]
    return created


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    root = tmp_path_factory.mktemp("demands")
    national_dir, province_dir = root / "national", root / "jiangsu"
    national_dir.mkdir()
    province_dir.mkdir()
    national_db = national_dir / "national.db"
    metrics_port = free_port()
    national = NodeProcess(
        "national_node",
        env={
            **FAST_CLOCK,
            "REGISTRY_LISTEN": f"127.0.0.1:{free_port()}",
            "REGISTRY_DATABASE_URL": f"sqlite:///{national_db}",
            "REGISTRY_PROVINCIAL_NODES": '[{"region": "320000"}]',
            "REGISTRY_METRICS__LISTEN": f"127.0.0.1:{metrics_port}",
            "REGISTRY_METRICS__INTERVAL": "0.5",
        },
        cwd=national_dir,
    ).start()
    # Every process started is stopped, also when the set-up fails half-way.
    started: list[NodeProcess] = [national]
    channels: dict[tuple[str, str], grpc.Channel] = {}
    try:
        province = NodeProcess(
            "provincial_node",
            env={
                **FAST_CLOCK,
                "REGISTRY_REGION": "320000",
                "REGISTRY_NATIONAL_ADDRESS": national.address,
                "REGISTRY_NATIONAL_TIMEOUT": "2",
                "REGISTRY_DATABASE_URL": f"sqlite:///{province_dir / 'jiangsu.db'}",
                # Jiangsu applies Hainan's rule here: every product made from authorised data registered.
                "REGISTRY_TIME_LIMITS__PRODUCT_REGISTRATION_DAYS": "15",
            },
            cwd=province_dir,
        ).start()
        started.append(province)
        registrations = rs_grpc.RegistrationServiceStub(province.channel())
        subjects = {ELECTRICITY: SUPPLIER, INSURANCE: SUPPLIER, SCHOOLS: OTHER_SUBJECT}
        created = {name: _register(registrations, name, uscc) for name, uscc in subjects.items()}

        def indexed() -> dict[str, str] | None:
            # Active in the national search index (what matching reads), with their codes.
            with sqlite3.connect(national_db) as db:
                rows = db.execute(
                    "SELECT data_name, code FROM search_index WHERE state = 'ACTIVE'"
                ).fetchall()
            found = {name: code for name, code in rows if name in created}
            return found if len(found) == len(created) else None

        codes = wait_until(indexed, timeout=90, message="the registrations active in the national index")
        metrics = f"http://127.0.0.1:{metrics_port}/metrics"
        names = {n: c.name for n, c in created.items()}
        federation = Federation(national, province, national_db, metrics, names, codes, channels)
        yield federation
    finally:
        for channel in channels.values():
            channel.close()
        for process in started:
            process.kill()


def _demand(title: str = "医保定点机构名单", **changes: object) -> d.Demand:
    demand = d.Demand(
        title=title,
        purpose="商业健康保险理赔时核验就诊机构是否为医保定点",
        fields=["机构名称", "统一社会信用代码", "定点类型"],
        frequency="每月",
        organisation=d.DemandOrganisation(uscc=DEMANDER, name="某某健康保险股份有限公司"),
    )
    demand.deadline.CopyFrom(to_date(date.today() + timedelta(days=2 * 365)))
    for field, value in changes.items():
        if isinstance(value, str):
            setattr(demand, field, value)
        else:
            getattr(demand, field).CopyFrom(value)
    return demand


def _refused(call: object, code: grpc.StatusCode, reason: str) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        call()  # type: ignore[operator]
    error = caught.value
    assert error.code() == code, error.details()
    assert reason_of(error) == reason, error.details()


def test_a_demand_is_matched_as_people_write_answered_followed_and_closed(fed: Federation) -> None:
    user = fed.demands(_user())
    request = ds.CreateDemandRequest(demand=_demand(), request_id=_rid())
    posted = user.CreateDemand(request, timeout=15)
    assert posted.name.startswith("demands/") and posted.state == d.Demand.OPEN
    # 医保 is how people write 医疗保障: the registration whose name holds it is matched, and only it.
    assert [m.data_name for m in posted.matches] == [INSURANCE]
    match = posted.matches[0]
    assert (match.registration, match.code, match.subject_uscc) == (
        fed.names[INSURANCE],
        fed.codes[INSURANCE],
        SUPPLIER,
    )
    assert [e.action for e in posted.history] == ["POSTED", "MATCHED"]
    # A retry (a lost answer) gets the same demand and posts nothing twice.
    demands_before = fed.rows("demands")
    again = user.CreateDemand(request, timeout=15)
    assert again.name == posted.name and fed.rows("demands") == demands_before

    # The supplier answers for its registration: it can supply, and the code is the ledger's.
    supplier = fed.demands(_supplier())
    answer = ds.AnswerDemandRequest(
        name=posted.name,
        answer=d.DemandAnswer(
            registration=fed.names[INSURANCE], kind=d.DemandAnswer.CAN_SUPPLY, reason="经数据共享平台接口提供"
        ),
        request_id=_rid(),
    )
    answered = supplier.AnswerDemand(answer, timeout=15)
    assert answered.state == d.Demand.MATCHED
    assert [(a.kind, a.code, a.subject_name != "") for a in answered.answers] == [
        (d.DemandAnswer.CAN_SUPPLY, fed.codes[INSURANCE], True)
    ]
    assert supplier.AnswerDemand(answer, timeout=15).answers == answered.answers  # a retry, once
    # Another answer for the same registration, under a new request id, is refused.
    answer.request_id = _rid()
    _refused(
        lambda: supplier.AnswerDemand(answer, timeout=15), grpc.StatusCode.ALREADY_EXISTS, "DEMAND_ANSWERED"
    )
    # It could also register another data set by a date: a second answer, for its other registration.
    could = supplier.AnswerDemand(
        ds.AnswerDemandRequest(
            name=posted.name,
            answer=d.DemandAnswer(
                registration=fed.names[ELECTRICITY],
                kind=d.DemandAnswer.COULD_REGISTER,
                register_by=to_date(date.today() + timedelta(days=3 * 365)),
            ),
            request_id=_rid(),
        ),
        timeout=15,
    )
    assert [a.kind for a in could.answers] == [d.DemandAnswer.CAN_SUPPLY, d.DemandAnswer.COULD_REGISTER]

    # The public follows it: the organisation, the answers, the history, but not who acted.
    public = fed.demands().GetDemand(ds.GetDemandRequest(name=posted.name), timeout=15)
    assert public.organisation.uscc == DEMANDER and len(public.answers) == 2
    assert [e.action for e in public.history] == ["POSTED", "MATCHED", "ANSWERED", "ANSWERED"]
    assert {e.actor for e in public.history} == {""}
    # The organisation's own people see who acted.
    own = user.GetDemand(ds.GetDemandRequest(name=posted.name), timeout=15)
    assert [e.actor for e in own.history] == ["li.si", "", "wang.wu", "wang.wu"]
    listed = fed.demands().ListDemands(
        ds.ListDemandsRequest(query="定点机构", state=d.Demand.MATCHED), timeout=15
    )
    assert posted.name in [x.name for x in listed.demands]

    # The organisation closes it; it takes no answer after.
    closed = user.CloseDemand(
        ds.CloseDemandRequest(name=posted.name, note="已对接", request_id=_rid()), timeout=15
    )
    assert closed.state == d.Demand.CLOSED and closed.history[-1].action == "CLOSED"
    _refused(
        lambda: supplier.AnswerDemand(
            ds.AnswerDemandRequest(
                name=posted.name,
                answer=d.DemandAnswer(
                    registration=fed.names[ELECTRICITY], kind=d.DemandAnswer.CANNOT, reason="无"
                ),
                request_id=_rid(),
            ),
            timeout=15,
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
        "DEMAND_ENDED",
    )


def test_acting_for_another_organisation_or_subject_is_refused_and_writes_nothing(fed: Federation) -> None:
    posted = fed.demands(_user()).CreateDemand(
        ds.CreateDemandRequest(demand=_demand(), request_id=_rid()), timeout=15
    )
    tables = ("demands", "demand_events", "demand_answers", "demand_requests")
    before = {table: fed.rows(table) for table in tables}
    someone_elses = ds.CreateDemandRequest(demand=_demand(), request_id=_rid())
    attempts = [
        # A data user posting in another organisation's name.
        (lambda: fed.demands(_user(STRANGER)).CreateDemand(someone_elses, timeout=15), "NOT_YOUR_SUBJECT"),
        # A data user token that names no organisation.
        (
            lambda: fed.demands(token("x", roles=("data_user",))).CreateDemand(someone_elses, timeout=15),
            "NOT_YOUR_SUBJECT",
        ),
        # An applicant (a supplier's person) is no data user.
        (
            lambda: fed.demands(_supplier(DEMANDER)).CreateDemand(someone_elses, timeout=15),
            "ROLE_NOT_ALLOWED",
        ),
        # A node's certificate posts nothing.
        (lambda: fed.demands(node="320000").CreateDemand(someone_elses, timeout=15), "ROLE_NOT_ALLOWED"),
        # Another organisation closes or withdraws the demand.
        (
            lambda: fed.demands(_user(STRANGER)).CloseDemand(
                ds.CloseDemandRequest(name=posted.name, request_id=_rid()), timeout=15
            ),
            "NOT_YOUR_SUBJECT",
        ),
        (
            lambda: fed.demands(_user(STRANGER)).WithdrawDemand(
                ds.WithdrawDemandRequest(name=posted.name, request_id=_rid()), timeout=15
            ),
            "NOT_YOUR_SUBJECT",
        ),
        # A supplier answers for a registration of a subject it does not act for (the request names it;
        # the ledger says whose it is).
        (
            lambda: fed.demands(_supplier()).AnswerDemand(
                ds.AnswerDemandRequest(
                    name=posted.name,
                    answer=d.DemandAnswer(registration=fed.names[SCHOOLS], kind=d.DemandAnswer.CAN_SUPPLY),
                    request_id=_rid(),
                ),
                timeout=15,
            ),
            "NOT_YOUR_SUBJECT",
        ),
    ]
    for attempt, reason in attempts:
        _refused(attempt, grpc.StatusCode.PERMISSION_DENIED, reason)
    # Anonymous: who it is is unknown.
    _refused(
        lambda: fed.demands().CreateDemand(someone_elses, timeout=15),
        grpc.StatusCode.UNAUTHENTICATED,
        "CREDENTIALS_REQUIRED",
    )
    assert {table: fed.rows(table) for table in tables} == before
    assert fed.demands().GetDemand(ds.GetDemandRequest(name=posted.name), timeout=15).state == d.Demand.OPEN


def test_bad_demands_name_each_field_and_a_reused_request_id_is_refused(fed: Federation) -> None:
    user = fed.demands(_user())
    before = fed.rows("demands")
    bad = _demand(title=" ", purpose="")
    bad.deadline.CopyFrom(to_date(date(2020, 1, 1)))
    bad.period_start.CopyFrom(to_date(date(2025, 6, 1)))
    bad.period_end.CopyFrom(to_date(date(2025, 1, 1)))
    bad.region = "320100"  # a city, not a province-level region
    bad.fields.append("x" * 101)
    with pytest.raises(grpc.RpcError) as caught:
        user.CreateDemand(ds.CreateDemandRequest(demand=bad, request_id="no spaces"), timeout=15)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = caught.value.details() or ""
    for field in (
        "demand.title",
        "demand.purpose",
        "demand.deadline",
        "demand.period_end",
        "demand.region",
        "demand.fields[3]",
        "request_id",
    ):
        assert field in details, (field, details)
    request_id = _rid()
    user.CreateDemand(
        ds.CreateDemandRequest(demand=_demand("全省用电数据"), request_id=request_id), timeout=15
    )
    _refused(
        lambda: user.CreateDemand(
            ds.CreateDemandRequest(demand=_demand("别的数据"), request_id=request_id), timeout=15
        ),
        grpc.StatusCode.ALREADY_EXISTS,
        "REQUEST_ID_REUSED",
    )
    assert fed.rows("demands") == before + 1


def test_a_demand_past_its_deadline_is_closed_to_every_reader_and_takes_no_answer(fed: Federation) -> None:
    user = fed.demands(_user())
    probe = user.CreateDemand(
        ds.CreateDemandRequest(demand=_demand("全省用电量"), request_id=_rid()), timeout=15
    )
    # The national node's today (its clock runs two days a second): from when it took the demand.
    today = china_date(probe.create_time.ToDatetime(tzinfo=UTC))
    soon = _demand("企业用电量", deadline=to_date(today + timedelta(days=6)))
    posted = user.CreateDemand(ds.CreateDemandRequest(demand=soon, request_id=_rid()), timeout=15)
    assert posted.state == d.Demand.OPEN and [m.data_name for m in posted.matches] == [ELECTRICITY]

    def closed() -> d.Demand | None:
        seen = fed.demands().GetDemand(ds.GetDemandRequest(name=posted.name), timeout=15)
        return seen if seen.state == d.Demand.CLOSED else None

    ended = wait_until(closed, timeout=30, message="the demand closed at its deadline")
    assert ended.history[-1].action == "EXPIRED"
    listed = fed.demands().ListDemands(
        ds.ListDemandsRequest(state=d.Demand.CLOSED, page_size=100), timeout=15
    )
    assert posted.name in [x.name for x in listed.demands]
    _refused(
        lambda: fed.demands(_supplier()).AnswerDemand(
            ds.AnswerDemandRequest(
                name=posted.name,
                answer=d.DemandAnswer(registration=fed.names[ELECTRICITY], kind=d.DemandAnswer.CAN_SUPPLY),
                request_id=_rid(),
            ),
            timeout=15,
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
        "DEMAND_ENDED",
    )


def test_registryctl_posts_follows_answers_and_withdraws_a_demand(fed: Federation, tmp_path: Path) -> None:
    """What a data user and a supplier's person type: the demand from a TOML file, the answer with a
    flag; a file with a mistake is refused before anything is sent."""
    deadline = date.today() + timedelta(days=2 * 365)
    file = tmp_path / "demand.toml"
    file.write_text(
        f'title = "全省企业用电量"\npurpose = "研判区域产业景气度"\nregion = "320000"\n'
        f'fields = ["企业名称", "月用电量"]\nfrequency = "每月"\ndeadline = {deadline.isoformat()}\n'
        f'[organisation]\nuscc = "{DEMANDER}"\nname = "某某研究院"\n',
        encoding="utf-8",
    )
    node, national = fed.province.address, fed.national.address
    posted = registryctl(node, "demands", "post", str(file), bearer=_user(), national=national)
    assert posted.returncode == 0, posted.stderr
    demand = json.loads(posted.stdout)
    assert [m["data_name"] for m in demand["matches"]] == [ELECTRICITY]
    answered = registryctl(
        node,
        "demands",
        "answer",
        demand["name"],
        "--registration",
        fed.names[ELECTRICITY],
        "--can-supply",
        bearer=_supplier(),
        national=national,
    )
    assert answered.returncode == 0, answered.stderr
    assert json.loads(answered.stdout)["state"] == "MATCHED"
    shown = registryctl(node, "demands", "show", demand["name"], national=national, json_output=False)
    assert shown.returncode == 0 and "可以提供" not in shown.stdout and "CAN_SUPPLY" in shown.stdout
    withdrawn = registryctl(node, "demands", "withdraw", demand["name"], bearer=_user(), national=national)
    assert json.loads(withdrawn.stdout)["state"] == "WITHDRAWN"
    listed = registryctl(node, "demands", "list", "--state", "withdrawn", national=national)
    assert demand["name"] in [d["name"] for d in json.loads(listed.stdout)["demands"]]

    file.write_text('title = "x"\nbudget = 5\n', encoding="utf-8")
    before = fed.rows("demands")
    bad = registryctl(node, "demands", "post", str(file), bearer=_user(), national=national)
    assert bad.returncode == 2 and "unknown keys budget" in bad.stderr
    assert fed.rows("demands") == before


def test_the_national_node_counts_demands_by_state_for_prometheus(fed: Federation) -> None:
    user = fed.demands(_user())
    posted = user.CreateDemand(
        ds.CreateDemandRequest(demand=_demand("全省学校名录"), request_id=_rid()), timeout=15
    )
    user.WithdrawDemand(ds.WithdrawDemandRequest(name=posted.name, request_id=_rid()), timeout=15)
    withdrawn = fed.rows_where("demands", "state = 'WITHDRAWN'")

    def sampled() -> dict[str, float] | None:
        text = httpx.get(fed.metrics, timeout=5).text
        found = {
            m[0]: float(m[1]) for m in re.findall(r'^registry_demands\{state="(\w+)"\} (\S+)$', text, re.M)
        }
        return found if found.get("WITHDRAWN") == withdrawn else None

    counts = wait_until(sampled, timeout=20, message="the demands' gauge")
    assert set(counts) == {"OPEN", "ANSWERED", "MATCHED", "CLOSED", "WITHDRAWN"}
    assert sum(counts.values()) == fed.rows("demands")


# -- what the managing province is told, and what its subjects then owe ---------------------------

DEPARTMENT = make_uscc("320102")  # a Jiangsu department that asks for another department's data


def _due_at_province(fed: Federation, bearer: str) -> list[rs.DueItem]:
    key = (bearer, "320000")
    if key not in fed.channels:
        fed.channels[key] = fed.province.channel(bearer=bearer)
    registrations = rs_grpc.RegistrationServiceStub(fed.channels[key])
    return list(registrations.ListDueItems(rs.ListDueItemsRequest(parent="nodes/320000"), timeout=15).items)


def _owed(fed: Federation, bearer: str, kind: int, concerns: str) -> list[rs.DueItem]:
    return [
        item
        for item in _due_at_province(fed, bearer)
        if item.kind == kind and concerns in (item.demand, item.share_request)
    ]


def test_a_demand_reaches_the_managing_province_as_due_for_the_subject_until_it_answers(
    fed: Federation,
) -> None:
    posted = fed.demands(_user()).CreateDemand(
        ds.CreateDemandRequest(demand=_demand("中小学校信息"), request_id=_rid()), timeout=15
    )
    assert [m.registration for m in posted.matches] == [fed.names[SCHOOLS]]
    owner = _supplier(OTHER_SUBJECT, "sun.ba")
    item = wait_until(
        lambda: next(iter(_owed(fed, owner, rs.DueItem.DEMAND, posted.name)), None),
        timeout=20,
        message="the demand in the province's due items",
    )
    assert item.registration == fed.names[SCHOOLS] and item.data_name == SCHOOLS
    # Due by the node's answer limit or the demand's deadline, whichever is sooner.
    assert (item.due.year, item.due.month, item.due.day) <= (
        posted.deadline.year,
        posted.deadline.month,
        posted.deadline.day,
    )
    # The registry's staff see it among the node's items; another subject's applicant does not.
    assert _owed(fed, token("zhou.jiu", roles=("registrar",)), rs.DueItem.DEMAND, posted.name)
    assert _owed(fed, _supplier(), rs.DueItem.DEMAND, posted.name) == []
    # Another subject cannot answer for the registration; the subject can, and the item goes.
    cannot = ds.AnswerDemandRequest(
        name=posted.name,
        answer=d.DemandAnswer(
            registration=fed.names[SCHOOLS], kind=d.DemandAnswer.CANNOT, reason="数据含未成年人个人信息"
        ),
        request_id=_rid(),
    )
    _refused(
        lambda: fed.demands(_supplier()).AnswerDemand(cannot, timeout=15),
        grpc.StatusCode.PERMISSION_DENIED,
        "NOT_YOUR_SUBJECT",
    )
    fed.demands(owner).AnswerDemand(cannot, timeout=15)
    wait_until(
        lambda: _owed(fed, owner, rs.DueItem.DEMAND, posted.name) == [],
        timeout=20,
        message="the answered demand gone from the province's due items",
    )


def test_a_share_request_runs_at_the_managing_province_from_reply_to_delivery(
    fed: Federation, report: Callable[[str], None]
) -> None:
    def shares(bearer: str) -> ss_grpc.ShareServiceStub:
        key = (bearer, "shares")
        if key not in fed.channels:
            fed.channels[key] = fed.national.channel(bearer=bearer)
        return ss_grpc.ShareServiceStub(fed.channels[key])

    department = token("qian.shi", roles=("department",), subjects=(DEPARTMENT,))
    owner = _supplier(OTHER_SUBJECT, "sun.ba")
    asked = sh.ShareRequest(
        registration=fed.names[SCHOOLS],
        requester=sh.Department(uscc=DEPARTMENT, name="江苏省教育考试院"),
        basis="《中华人民共和国教育法》第二十九条",
        scenario="考点学校资格核验",
        scope="本院考务处",
        method=sh.ShareRequest.BATCH_EXCHANGE,
        use_until=to_date(date.today() + timedelta(days=3 * 365)),
    )
    # A department asking in another's name is refused, and so is a data user or an applicant.
    for bearer in (token("qian.shi", roles=("department",), subjects=(STRANGER,)), _user(), owner):
        with pytest.raises(grpc.RpcError) as refused:
            shares(bearer).CreateShareRequest(
                ss.CreateShareRequestRequest(share_request=asked, request_id=_rid()), timeout=15
            )
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert fed.rows("share_requests") == 0
    made = shares(department).CreateShareRequest(
        ss.CreateShareRequestRequest(share_request=asked, request_id=_rid()), timeout=15
    )
    made_at = time.monotonic()
    # No sharing attribute stated: the supplier decides, within the conditional limit.
    assert made.conditional and made.supplier.uscc == OTHER_SUBJECT and made.code == fed.codes[SCHOOLS]
    reply = wait_until(
        lambda: next(iter(_owed(fed, owner, rs.DueItem.SHARE_REPLY, made.name)), None),
        timeout=20,
        message="the share request in the province's due items",
    )
    report(
        f"share request: due at the managing province {time.monotonic() - made_at:.2f} s after the national"
        " node took it (its downward feed, polled by ListDueItems)"
    )
    assert reply.registration == fed.names[SCHOOLS]
    assert _owed(fed, _supplier(), rs.DueItem.SHARE_REPLY, made.name) == []
    agree = ss.ReplyShareRequestRequest(
        name=made.name, decision=ss.ReplyShareRequestRequest.AGREE, request_id=_rid()
    )
    _refused(
        lambda: shares(_supplier()).ReplyShareRequest(agree, timeout=15),
        grpc.StatusCode.PERMISSION_DENIED,
        "NOT_YOUR_SUBJECT",
    )
    agreed = shares(owner).ReplyShareRequest(agree, timeout=15)
    assert agreed.state == sh.ShareRequest.AGREED
    wait_until(
        lambda: (
            _owed(fed, owner, rs.DueItem.SHARE_DELIVERY, made.name)
            and not _owed(fed, owner, rs.DueItem.SHARE_REPLY, made.name)
        ),
        timeout=20,
        message="the delivery due at the province once agreed",
    )
    shares(owner).DeliverShareRequest(
        ss.DeliverShareRequestRequest(name=made.name, note="已通过省共享交换平台批量交换", request_id=_rid()),
        timeout=15,
    )
    wait_until(
        lambda: not _owed(fed, owner, rs.DueItem.SHARE_DELIVERY, made.name),
        timeout=20,
        message="nothing due once delivered",
    )
    used = shares(department).RecordUsage(
        ss.RecordUsageRequest(
            name=made.name,
            record=sh.UsageRecord(kind=sh.UsageRecord.SCENARIO, note="2027年高考考点核验"),
            request_id=_rid(),
        ),
        timeout=15,
    )
    assert [e.action for e in used.history] == ["SUBMITTED", "AGREED", "DELIVERED", "USAGE_RECORDED"]
    # The national statistics: the node's gauge by managing region and state.
    wait_until(
        lambda: re.search(
            r'^registry_share_requests\{region="320000",state="DELIVERED"\} 1\.0$',
            httpx.get(fed.metrics, timeout=5).text,
            re.M,
        ),
        timeout=20,
        message="the share requests' gauge",
    )


def test_a_node_publishes_its_rules_and_lists_the_products_an_operating_entity_disclosed_unregistered(
    fed: Federation, tmp_path: Path
) -> None:
    # The node's business rules, public: no token.
    public = rs_grpc.RegistrationServiceStub(fed.province.channel())
    rules = public.GetBusinessRules(rs.GetBusinessRulesRequest(name="nodes/320000/businessRules"), timeout=10)
    assert rules.display_name == "江苏省" and rules.time_limits.product_registration_days == 15
    assert {v.id: v.applied for v in rules.variants} == {
        "fujian-initial-registration": False,
        "hainan-full-registration": True,
    }
    assert (2026, "official") in {(y.year, y.source) for y in rules.calendar_years}
    _refused(
        lambda: public.GetBusinessRules(
            rs.GetBusinessRulesRequest(name="nodes/460000/businessRules"), timeout=10
        ),
        grpc.StatusCode.NOT_FOUND,
        "NODE_NOT_FOUND",
    )
    shown = registryctl(fed.province.address, "rules", "--region", "320000", json_output=False)
    assert shown.returncode == 0 and "hainan-full-registration" in shown.stdout, shown.stderr
    national = registryctl(
        fed.province.address, "rules", "--national-node", national=fed.national.address, json_output=False
    )
    assert national.returncode == 0 and "全国" in national.stdout or "100000" in national.stdout, (
        national.stderr
    )

    # An operating entity of Jiangsu discloses a product it has not registered: due at Jiangsu.
    product = "全省企业用电分析报告"
    entity = token("zheng.shi", roles=("operating_entity", "applicant"), subjects=(SUPPLIER,))
    disclosure = dis.Disclosure(
        year=2026,
        role=dis.Disclosure.OPERATING_ENTITY,
        party=dis.DisclosingParty(uscc=SUPPLIER, name="江苏数据运营有限公司"),
        profile="经授权运营公共数据的企业",
        resources=[fed.codes[ELECTRICITY]],
        products=[dis.DisclosedProduct(name=product)],
    )
    desk = dss_grpc.DisclosureServiceStub(fed.national.channel(bearer=entity))
    request = dss.FileDisclosureRequest(disclosure=disclosure, request_id=_rid())

    def filed() -> bool:  # 2026 is a past year once the simulated clock has passed it
        try:
            desk.FileDisclosure(request, timeout=15)
        except grpc.RpcError as error:
            if reason_of(error) == "FIELD_OUT_OF_RANGE":
                return False
            raise
        return True

    wait_until(filed, timeout=30, message="the disclosure filed")
    item = wait_until(
        lambda: next(
            (i for i in _due_at_province(fed, entity) if i.kind == rs.DueItem.PRODUCT_REGISTRATION), None
        ),
        timeout=20,
        message="the unregistered product due at the province",
    )
    assert (item.data_name, item.subject_uscc, item.registration) == (product, SUPPLIER, "")
    assert item.disclosure == f"disclosures/2026/operating-entity/{SUPPLIER}"
    # Another subject's applicant does not see it; the registry's staff do.
    assert not [i for i in _due_at_province(fed, _supplier(STRANGER, "chen.shi")) if i.kind == item.kind]
    assert [
        i for i in _due_at_province(fed, token("zhou.jiu", roles=("registrar",))) if i.data_name == product
    ]
    # The entity applies for the product's registration: the item goes.
    start = date.today()
    rs_grpc.RegistrationServiceStub(fed.province.channel(bearer=entity)).CreateRegistration(
        rs.CreateRegistrationRequest(
            parent="nodes/320000",
            registration=r.Registration(
                object_type=r.DATA_PRODUCT_OR_SERVICE,
                content=make_content(
                    SUPPLIER, data_name=product, operation_term=(start, start + timedelta(days=1000))
                ),
            ),
            request_id=_rid(),
        ),
        timeout=15,
    )
    assert not [i for i in _due_at_province(fed, entity) if i.kind == rs.DueItem.PRODUCT_REGISTRATION]
