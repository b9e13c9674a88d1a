"""The registration procedure as a user sees it: states, dates, history, codes and confirmations.

Each test drives one provincial node (320000) in-process on a SQLite file, with a fake clock that starts
on Monday 2026-09-28, three days before the National Day holidays, and a fake national node that hands
out codes (see ``procedure_support``). Expected working-day deadlines are computed independently of
``common.calendar`` from the published 2026 schedule (``procedure_support.add_working_days``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from google.type import date_pb2

from common import codes
from common.calendar import WorkingCalendar
from common.errors import Aborted, AlreadyExists, FailedPrecondition, InvalidArgument, PermissionDenied
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import registration_service_pb2 as rs
from common.gen.registry.v1.correction_pb2 import LedgerCorrection
from common.registration import queries
from common.settings import TimeLimits
from common.sync import records
from common.sync.corrections import open_correction
from common.sync.records import export_record, import_record, rename
from tests.factories import make_uscc
from tests.nodes import wait_until
from tests.unit import procedure_support as states
from tests.unit.procedure_support import (
    PARENT,
    READER,
    App,
    Node,
    Reg,
    add_working_days,
    changed,
    content,
    d,
    days_before,
    document,
    product,
    refused,
    rid,
    sha256_of,
    states_of,
    term,
    with_region,
)

s, IT = states, "INVALID_TRANSITION"
DISMISS, TERMINATE, RETURN = r.Objection.DISMISS, r.Objection.UPHOLD_TERMINATE, r.Objection.UPHOLD_RETURN


@pytest.fixture
def make_node(tmp_path: Path) -> Iterator[Callable[..., Node]]:
    nodes: list[Node] = []

    def make(**kw: object) -> Node:
        path = tmp_path / f"node{len(nodes)}"
        path.mkdir()
        nodes.append(Node(path, **kw))  # type: ignore[arg-type]
        return nodes[-1]

    yield make
    for node in nodes:
        node.close()


@pytest.fixture
def node(make_node: Callable[..., Node]) -> Node:
    return make_node()


def verbs(node: Node, name: str) -> list[str]:
    return [e.action for e in node.history(name)]


# == 1. The whole procedure, for each object type; coding when the national node is unreachable ==============

THREE_YEARS = date(2029, 10, 21)  # coded on 2026-10-22: three years, the first day included


@pytest.mark.parametrize(
    ("object_type", "body", "valid_until"),
    [
        pytest.param(1, content(), THREE_YEARS, id="public-data-resource"),
        pytest.param(2, product(end=date(2035, 12, 31)), THREE_YEARS, id="product-long-term"),
        pytest.param(2, product(end=date(2028, 6, 30)), date(2028, 6, 30), id="product-term-ends-sooner"),
        pytest.param(3, content(), THREE_YEARS, id="open-data-resource"),
    ],
)
def test_happy_path_ends_active_with_a_code_and_a_confirmation(
    node: Node, object_type: int, body: r.RegistrationContent, valid_until: date
) -> None:
    reg = node.create(body, object_type)
    name, app = reg.name, reg.current_application
    assert (reg.state, reg.version, reg.code) == (Reg.PENDING, 0, "")
    assert (app.type, app.state, app.id) == (r.INITIAL, App.SUBMITTED, "a-1")
    assert d(app.acceptance_due) == date(2026, 10, 8) == add_working_days(date(2026, 9, 28), 3)

    reg = node.on(date(2026, 9, 29)).accept(name)
    assert reg.current_application.state == App.UNDER_REVIEW
    assert d(reg.current_application.review_due) == add_working_days(date(2026, 9, 29), 20)
    assert node.on(date(2026, 9, 30)).approve(name).current_application.state == App.APPROVED
    app = node.on(date(2026, 10, 8)).announce(name).current_application
    assert app.state == App.ANNOUNCED
    assert (d(app.announcement_start), d(app.announcement_end)) == (date(2026, 10, 8), date(2026, 10, 21))

    node.on(date(2026, 10, 21)).run_duties()  # the announcement's last day: still open
    assert node.get(name).current_application.state == App.ANNOUNCED and node.codes.calls == []

    done = node.on(date(2026, 10, 22)).run_duties()
    assert (done["announcements_closed"], done["codes_assigned"]) == (1, 1)
    reg = node.get(name)
    assert (reg.state, reg.version, reg.current_application.state) == (Reg.ACTIVE, 1, App.COMPLETED)
    assert codes.is_valid(reg.code) and reg.code[0] == str(object_type)
    assert [call["registration"] for call in node.codes.calls] == [name]
    assert (d(reg.valid_from), d(reg.valid_until)) == (date(2026, 10, 22), valid_until)
    assert reg.content == with_region(body)

    confirmation = node.confirmation(reg.code)
    assert (confirmation.code, confirmation.registration) == (reg.code, name)
    assert (confirmation.version, confirmation.state) == (1, Reg.ACTIVE)
    assert confirmation.object_type == object_type
    assert confirmation.content_sha256 == sha256_of(with_region(body)) == sha256_of(reg.content)
    assert (confirmation.data_name, confirmation.subject) == (body.data_name, reg.content.subject)
    assert (confirmation.valid_from, confirmation.valid_until) == (reg.valid_from, reg.valid_until)
    assert node.service.LookupRegistration(rs.LookupRegistrationRequest(code=reg.code), READER) == reg

    steps = "subject:submit operator:accept operator:approve operator:announce system:close_announcement"
    assert node.actions(name) == [*steps.split(), "system:await_code", "system:assign_code"]
    history = node.history(name)
    assert [e.sequence for e in history] == list(range(1, 8))
    steps = [App.SUBMITTED, App.UNDER_REVIEW, App.APPROVED, App.ANNOUNCED]
    assert [e.application_state for e in history[:4]] == steps
    last = history[-1]
    assert (last.reason, last.registration_state, last.version) == (reg.code, Reg.ACTIVE, 1)


def test_a_closed_announcement_is_coded_at_once_not_at_the_next_round(node: Node) -> None:
    """The duties run every minute, but what an announcement's close leaves waiting for a code is
    asked for at once."""
    first = node.announced()
    node.on(node.clock.today() + timedelta(days=7))
    second = node.announced()
    node.on(d(first.current_application.announcement_end) + timedelta(days=1))
    node.duties.interval = 60.0
    node.duties.start()
    try:
        # The loops' first rounds close the first announcement and code it; then they wait a minute.
        wait_until(lambda: node.get(first.name).state == Reg.ACTIVE, timeout=10, message="the first code")
        node.on(d(second.current_application.announcement_end) + timedelta(days=1))
        assert node.duties.close_announcements() == 1  # as the duties loop does it
        wait_until(lambda: node.get(second.name).state == Reg.ACTIVE, timeout=10, message="the second code")
    finally:
        node.duties.stop()


def test_unreachable_national_node_leaves_it_awaiting_code_then_codes_it_once(node: Node) -> None:
    reg = node.announced()
    node.codes.failing = True
    done = node.close_announcement(reg)
    assert (done["announcements_closed"], done["codes_assigned"]) == (1, 0)
    waiting = node.get(reg.name)
    assert (*states_of(waiting), waiting.code) == (Reg.PENDING, App.AWAITING_CODE, "")
    assert "cannot be reached" in node.duties.last_error
    [item] = node.due()
    assert (item.kind, item.overdue, item.registration) == (rs.DueItem.CODING, True, reg.name)

    node.on(node.clock.today() + timedelta(days=1)).run_duties()  # still unreachable
    assert node.get(reg.name).current_application.state == App.AWAITING_CODE

    node.codes.failing = False
    coding_day = node.clock.today() + timedelta(days=1)
    assert node.on(coding_day).run_duties()["codes_assigned"] == 1
    node.run_duties()
    node.on(coding_day + timedelta(days=1)).run_duties()

    reg = node.get(reg.name)
    assert (reg.state, d(reg.valid_from), reg.code) == (Reg.ACTIVE, coding_day, *node.codes.issued.values())
    assert [call["request_id"] for call in node.codes.calls] == [f"code-{reg.uid}"] * 3
    assert verbs(node, reg.name).count("assign_code") == 1
    assert (node.duties.last_error, node.due()) == ("", [])


# == 2. Acceptance and review ================================================================================


def test_return_lists_every_defect_and_resubmission_restarts_the_acceptance_clock(node: Node) -> None:
    name = node.create(content(summary="待补充")).name
    defects = [
        ("storage.location", "请写明具体的存储位置"),
        ("security_assessment", "风险评估报告未签章"),
        ("summary", "摘要过于简略"),
    ]
    reg = node.on(date(2026, 10, 8)).return_(name, *defects)
    app = reg.current_application
    assert app.state == App.RETURNED
    assert [(x.field, x.description) for x in app.defects] == defects
    assert all(f"{f}: {text}" in node.history(name)[-1].reason for f, text in defects)
    assert node.due() == []  # nothing is owed by the registry while the subject corrects

    fixed = content(uscc=reg.content.subject.uscc, summary="全市道路交通流量的逐日统计")
    app = node.on(date(2026, 10, 12)).resubmit(name, fixed).current_application
    assert app.state == App.SUBMITTED
    assert d(app.acceptance_due) == date(2026, 10, 15) == add_working_days(date(2026, 10, 12), 3)
    assert app.submit_time.ToDatetime().date() == date(2026, 10, 12)
    assert node.get(name).content.summary == app.content.summary == fixed.summary

    app = node.accept(name).current_application
    assert app.state == App.UNDER_REVIEW and list(app.defects) == []
    assert node.actions(name) == "subject:submit operator:return subject:resubmit operator:accept".split()


def test_review_requests_correction_then_resubmission_goes_back_to_acceptance(node: Node) -> None:
    name = states.under_review(node)
    reg = node.request_correction(name, ("legal_source", "缺少授权文件"), ("data_format", "格式不明"))
    app = reg.current_application
    assert app.state == App.CORRECTION_REQUESTED
    assert [x.field for x in app.defects] == ["legal_source", "data_format"]
    assert node.actions(name)[-1] == "operator:request_correction"
    fixed = content(uscc=reg.content.subject.uscc)
    app = node.on(date(2026, 10, 9)).resubmit(name, fixed).current_application
    assert app.state == App.SUBMITTED and not app.HasField("review_due")
    assert d(app.acceptance_due) == add_working_days(date(2026, 10, 9), 3)
    assert node.accept(name).current_application.state == App.UNDER_REVIEW


# fmt: off
ENDINGS = [  # an initial application that ends closes its registration, with the reason on record
    pytest.param(s.submitted, lambda n, x: n.refuse(x, "不属于公共数据"), App.NOT_ACCEPTED, "operator:refuse",
                 "不属于公共数据", id="refused"),
    pytest.param(s.under_review, lambda n, x: n.reject(x, "材料虚假"), App.REJECTED, "operator:reject",
                 "材料虚假", id="rejected"),
    pytest.param(s.submitted, lambda n, x: n.withdraw(x, "暂不登记"), App.WITHDRAWN, "subject:withdraw",
                 "暂不登记", id="withdrawn"),
    pytest.param(s.announced, lambda n, x: n.withdraw(x, "暂不登记"), App.WITHDRAWN, "subject:withdraw",
                 "暂不登记", id="withdrawn-during-announcement"),
]
# fmt: on


@pytest.mark.parametrize(("setup", "end", "state", "action", "reason"), ENDINGS)
def test_an_initial_application_that_ends_closes_the_registration(
    node: Node, setup: Callable, end: Callable, state: int, action: str, reason: str
) -> None:
    name = setup(node)
    reg = end(node, name)
    assert states_of(reg) == (Reg.CLOSED, state)
    if state != App.WITHDRAWN:
        assert reg.current_application.decision_reason == reason
    last = node.history(name)[-1]
    assert (f"{last.actor}:{last.action}", last.reason) == (action, reason)
    node.on(date(2026, 12, 1)).run_duties()
    assert (node.get(name).state, node.codes.calls, node.due()) == (Reg.CLOSED, [], [])


# -- separation of duties: who accepted makes no review decision ----------------------------------------

REVIEW_DECISIONS = {
    "approve": lambda name: rs.ApproveApplicationRequest(name=name, request_id=rid()),
    "request_correction": lambda name: rs.RequestCorrectionRequest(
        name=name, defects=[r.Defect(field="summary", description="过短")], request_id=rid()
    ),
    "reject": lambda name: rs.RejectApplicationRequest(name=name, reason="材料虚假", request_id=rid()),
}
#: The clerk dual.three as an attacker spells them, to pass for someone else.
SAME_CLERK = [
    "dual.three",
    "dual.three ",  # a trailing space
    "ｄｕａｌ.three",  # full width
    "dual\u200b.three",  # a zero-width space
    "Dual.Three",  # another case
    "\u202edual.three",  # a right-to-left override
]


@pytest.mark.parametrize("spelling", SAME_CLERK)
@pytest.mark.parametrize("decision", sorted(REVIEW_DECISIONS))
def test_whoever_accepted_makes_no_review_decision_however_they_spell_themselves(
    make_node: Callable[..., Node], decision: str, spelling: str
) -> None:
    node = make_node(separation_of_duties=True)
    name = node.create().name
    node.send(rs.AcceptApplicationRequest(name=name, request_id=rid()), "dual.three")
    before = node.snapshot(name)
    decide = lambda: node.send(REVIEW_DECISIONS[decision](name), spelling)  # noqa: E731
    error = refused(decide, PermissionDenied, "SEPARATION_OF_DUTIES")
    assert error.metadata["application"] == "a-1"
    assert node.snapshot(name) == before
    node.send(REVIEW_DECISIONS[decision](name), "li.si")  # another reviewer may
    assert node.actions(name)[-1] == f"li.si:{decision}"


@pytest.mark.parametrize("spelling", SAME_CLERK)
@pytest.mark.parametrize("decision", sorted(REVIEW_DECISIONS))
def test_whoever_accepted_an_earlier_round_makes_no_review_decision_after_a_correction(
    make_node: Callable[..., Node], decision: str, spelling: str
) -> None:
    node = make_node(separation_of_duties=True)
    reg = node.create()
    node.send(rs.AcceptApplicationRequest(name=reg.name, request_id=rid()), "dual.three")
    node.send(REVIEW_DECISIONS["request_correction"](reg.name), "li.si")
    node.resubmit(reg.name, content(uscc=reg.content.subject.uscc, summary="补充后的摘要"))
    node.send(rs.AcceptApplicationRequest(name=reg.name, request_id=rid()), "wang.wu")  # another clerk
    before = node.snapshot(reg.name)
    refused(
        lambda: node.send(REVIEW_DECISIONS[decision](reg.name), spelling),
        PermissionDenied,
        "SEPARATION_OF_DUTIES",
    )
    refused(  # nor the clerk of this round
        lambda: node.send(REVIEW_DECISIONS[decision](reg.name), "wang.wu"),
        PermissionDenied,
        "SEPARATION_OF_DUTIES",
    )
    assert node.snapshot(reg.name) == before
    node.send(REVIEW_DECISIONS[decision](reg.name), "li.si")  # who reviewed before, and accepted nothing
    assert node.actions(reg.name)[-1] == f"li.si:{decision}"


# == 3. Transitions the state does not allow: FAILED_PRECONDITION, nothing changes ===========================


def _change(kind: int) -> Callable[[Node, str], object]:
    return lambda node, name: node.submit(name, kind, changed(node.get(name).content, summary="另一摘要"))


def _deregister(node: Node, name: str) -> object:
    return node.submit(name, r.DEREGISTRATION)


# fmt: off
ILLEGAL = [
    # setup, transition, reason, id
    (s.submitted, lambda n, x: n.announce(x), IT, "announce-before-acceptance"),
    (s.under_review, lambda n, x: n.announce(x), IT, "announce-before-review-passed"),
    (s.submitted, lambda n, x: n.approve(x), IT, "approve-before-acceptance"),
    (s.under_review, lambda n, x: n.accept(x), IT, "accept-twice"),
    (s.approved, lambda n, x: n.approve(x), IT, "approve-twice"),
    (s.announced, lambda n, x: n.announce(x), IT, "announce-twice"),
    (s.submitted, lambda n, x: n.request_correction(x, ("a", "b")), IT, "correct-unaccepted"),
    (s.under_review, lambda n, x: n.refuse(x, "晚了"), IT, "refuse-after-acceptance"),
    (s.submitted, lambda n, x: n.resubmit(x, content()), IT, "resubmit-not-returned"),
    (s.under_review, lambda n, x: n.object(x), IT, "object-during-review"),
    (s.approved, lambda n, x: n.object(x), IT, "object-before-announcement"),
    (s.window_passed, lambda n, x: n.object(x), "ANNOUNCEMENT_CLOSED", "object-after-window-before-duties"),
    (s.objections_pending, lambda n, x: n.object(x), IT, "object-after-closing"),
    (s.active, lambda n, x: n.object(x), IT, "object-after-coding"),
    (s.active, lambda n, x: n.accept(x), IT, "accept-without-application"),
    (s.active, lambda n, x: n.withdraw(x), IT, "withdraw-completed"),
    (s.closed, lambda n, x: n.accept(x), IT, "accept-refused"),
    (s.submitted, _change(r.CHANGE), "REGISTRATION_NOT_ACTIVE", "change-pending"),
    (s.submitted, _deregister, "REGISTRATION_NOT_ACTIVE", "deregister-pending"),
    (s.closed, _change(r.CORRECTION), "REGISTRATION_NOT_ACTIVE", "correct-closed"),
    (s.closed, _deregister, "REGISTRATION_NOT_ACTIVE", "deregister-closed"),
    (s.deregistered, _change(r.CHANGE), "REGISTRATION_NOT_ACTIVE", "change-deregistered"),
    (s.deregistered, _change(r.CORRECTION), "REGISTRATION_NOT_ACTIVE", "correct-deregistered"),
    (s.deregistered, _deregister, "REGISTRATION_NOT_ACTIVE", "deregister-twice"),
    (s.change_in_progress, _change(r.CHANGE), "APPLICATION_IN_PROGRESS", "second-change"),
    (s.change_in_progress, _change(r.CORRECTION), "APPLICATION_IN_PROGRESS", "correction-during-change"),
    (s.change_in_progress, _deregister, "APPLICATION_IN_PROGRESS", "deregister-during-change"),
    (s.deregistered, lambda n, x: n.renew(x), "REGISTRATION_NOT_RENEWABLE", "renew-deregistered"),
    (s.submitted, lambda n, x: n.renew(x), "REGISTRATION_NOT_RENEWABLE", "renew-pending"),
    (s.closed, lambda n, x: n.renew(x), "REGISTRATION_NOT_RENEWABLE", "renew-closed"),
]
# fmt: on


@pytest.mark.parametrize(
    ("setup", "act", "reason"), [pytest.param(*case[:3], id=case[3]) for case in ILLEGAL]
)
def test_illegal_transition_is_failed_precondition_and_changes_nothing(
    node: Node, setup: Callable[[Node], str], act: Callable[[Node, str], object], reason: str
) -> None:
    name = setup(node)
    before = node.snapshot(name)
    refused(lambda: act(node, name), FailedPrecondition, reason)
    assert node.snapshot(name) == before


def test_resolving_a_resolved_objection_is_failed_precondition(node: Node) -> None:
    reg = node.announced()
    objection = node.object(reg.name)
    node.resolve(objection.name, DISMISS, "理由不成立")
    before = node.snapshot(reg.name)
    for outcome in (DISMISS, TERMINATE, RETURN):
        refused(lambda o=outcome: node.resolve(objection.name, o), FailedPrecondition, "OBJECTION_RESOLVED")
    assert node.snapshot(reg.name) == before


# == 4. Objections ===========================================================================================


def test_objection_is_recorded_with_reason_evidence_and_resolve_by(node: Node) -> None:
    reg = node.on(date(2026, 9, 30)).announced()
    end = d(reg.current_application.announcement_end)
    assert end == date(2026, 10, 20) == add_working_days(date(2026, 9, 30), 10)
    evidence = [document("原始授权合同", "b" * 64), document("现场照片", "c" * 64)]
    objection = node.on(date(2026, 10, 12)).object(reg.name, "数据权属有争议", evidence)
    assert objection.name == f"{reg.name}/objections/o-1"
    assert (objection.state, objection.reason) == (r.Objection.PENDING, "数据权属有争议")
    assert list(objection.evidence) == evidence
    assert d(objection.resolve_by) == date(2026, 10, 26) == add_working_days(date(2026, 10, 12), 10)
    last_day = node.on(end).object(reg.name, "另一异议")  # the announcement's last day still counts
    assert last_day.name == f"{reg.name}/objections/o-2"
    app = node.get(reg.name).current_application
    assert (app.state, list(app.objections)) == (App.ANNOUNCED, [objection, last_day])
    assert node.actions(reg.name)[-2:] == ["public:object"] * 2
    assert node.history(reg.name)[-2].reason == "数据权属有争议"


def test_pending_objection_holds_the_code_until_dismissed(node: Node) -> None:
    reg = node.announced()
    objection = node.object(reg.name)
    node.close_announcement(reg)
    assert states_of(node.get(reg.name)) == (Reg.PENDING, App.OBJECTIONS_PENDING)
    assert node.history(reg.name)[-1].action == "close_announcement"
    node.run_duties()
    assert node.codes.calls == [] and node.get(reg.name).code == ""
    [item] = node.due()
    assert (item.kind, d(item.due)) == (rs.DueItem.OBJECTION, d(objection.resolve_by))

    reg = node.resolve(objection.name, DISMISS, "异议缺乏依据")
    assert reg.current_application.state == App.AWAITING_CODE
    [resolved] = reg.current_application.objections
    assert (resolved.state, resolved.resolution) == (r.Objection.DISMISSED, "异议缺乏依据")
    node.run_duties()
    reg = node.get(reg.name)
    assert reg.state == Reg.ACTIVE and codes.is_valid(reg.code)
    assert verbs(node, reg.name)[-4:] == "close_announcement dismiss_objection await_code assign_code".split()


def test_every_objection_must_be_resolved_before_coding(node: Node) -> None:
    reg = node.announced()
    first, second = node.object(reg.name), node.object(reg.name, "另一理由")
    node.close_announcement(reg)
    assert node.resolve(first.name, DISMISS).current_application.state == App.OBJECTIONS_PENDING
    node.run_duties()
    assert node.codes.calls == []
    assert node.resolve(second.name, DISMISS).current_application.state == App.AWAITING_CODE
    node.run_duties()
    assert node.get(reg.name).state == Reg.ACTIVE


def test_objection_dismissed_while_the_announcement_is_open_lets_it_close_normally(node: Node) -> None:
    reg = node.announced()
    objection = node.object(reg.name)
    assert node.resolve(objection.name, DISMISS).current_application.state == App.ANNOUNCED
    node.close_announcement(reg)
    assert node.get(reg.name).state == Reg.ACTIVE


def test_upheld_objection_terminates_the_application_and_closes_the_registration(node: Node) -> None:
    reg = node.announced()
    objection = node.object(reg.name)
    node.close_announcement(reg)
    reg = node.resolve(objection.name, TERMINATE, "主体无权登记")
    assert states_of(reg) == (Reg.CLOSED, App.TERMINATED)
    assert reg.current_application.decision_reason == "主体无权登记"
    assert reg.current_application.objections[0].state == r.Objection.UPHELD
    node.on(node.clock.today() + timedelta(days=1)).run_duties()
    assert node.codes.calls == [] and node.get(reg.name).code == ""
    assert node.actions(reg.name)[-1] == "operator:uphold_objection"


def test_objection_upheld_for_return_sends_the_application_back_for_correction(node: Node) -> None:
    announced = node.announced()
    objection = node.object(announced.name)
    reg = node.resolve(objection.name, RETURN, "数据名称与实际不符")
    assert states_of(reg) == (Reg.PENDING, App.CORRECTION_REQUESTED)
    [defect] = reg.current_application.defects
    assert (defect.field, defect.description) == ("content", "数据名称与实际不符")
    assert not reg.current_application.HasField("announcement_end")  # a new announcement will follow
    node.close_announcement(announced)
    assert node.codes.calls == []
    reg = node.resubmit(reg.name, changed(reg.content, data_name="南京市 道路 流量"))
    assert reg.current_application.state == App.SUBMITTED


def test_objection_evidence_must_carry_a_valid_sha256(node: Node) -> None:
    name = states.announced(node)
    before = node.snapshot(name)
    call = lambda: node.object(name, evidence=[document("证据", "not-a-hash")])  # noqa: E731
    error = refused(call, InvalidArgument, "FIELD_MALFORMED")
    assert [v.field for v in error.violations] == ["objection.evidence[0].sha256"]
    assert node.snapshot(name) == before


@pytest.mark.parametrize("then", ["withdraw", TERMINATE, RETURN], ids=["withdrawn", "terminated", "returned"])
def test_objections_pending_when_their_application_ends_are_closed_and_owe_nothing(
    node: Node, then: str | int
) -> None:
    reg = node.announced()
    pending = node.object(reg.name)
    assert [item.kind for item in node.due()] == [rs.DueItem.OBJECTION]
    if then == "withdraw":
        node.withdraw(reg.name)
        why = "the application was withdrawn"
    else:  # another objection is upheld
        upheld = node.object(reg.name, "另一异议").name
        node.resolve(upheld, int(then), "成立")
        ended = "terminated" if then == TERMINATE else "returned for correction"
        why = f"the application was {ended} ({upheld.rsplit('/', 1)[1]})"
    [closed] = [o for o in node.get(reg.name).current_application.objections if o.name == pending.name]
    assert (closed.state, closed.resolution) == (r.Objection.CLOSED, f"closed without decision: {why}")
    assert closed.HasField("resolve_time")
    assert node.due() == []  # nothing left to decide, and nothing listed that cannot be done
    refused(lambda: node.resolve(pending.name, DISMISS), FailedPrecondition, "OBJECTION_RESOLVED")
    if then != RETURN:
        assert node.get(reg.name).state == Reg.CLOSED
        return
    # Returned for correction: the corrected application is announced anew and coded; the objection
    # to the earlier announcement no longer holds it.
    node.resubmit(reg.name, changed(reg.content, summary="更正后的摘要"))
    node.accept(reg.name)
    node.approve(reg.name)
    node.close_announcement(node.announce(reg.name))
    coded = node.get(reg.name)
    assert (*states_of(coded), codes.is_valid(coded.code)) == (Reg.ACTIVE, App.COMPLETED, True)


# == 5. Deadlines on the working-day calendar ================================================================


def test_deadlines_follow_the_national_day_schedule(node: Node) -> None:
    reg = node.create()
    assert d(reg.current_application.acceptance_due) == date(2026, 10, 8)  # 1-7 October off
    reg = node.on(date(2026, 10, 8)).accept(reg.name)
    # Saturday 10 October is a make-up working day: without it the review would be due on 5 November.
    review_due = d(reg.current_application.review_due)
    assert review_due == date(2026, 11, 4) == add_working_days(date(2026, 10, 8), 20)
    node.approve(reg.name)
    end = d(node.on(date(2026, 10, 9)).announce(reg.name).current_application.announcement_end)
    assert end == date(2026, 10, 22) == add_working_days(date(2026, 10, 9), 10)
    assert not node.get(reg.name).current_application.deadlines_provisional


def test_the_day_turns_at_midnight_in_china(node: Node) -> None:
    reg = node.announced()  # on 2026-09-28, to 2026-10-16
    assert d(reg.current_application.announcement_end) == date(2026, 10, 16)
    node.clock.set(date(2026, 10, 16), hour=23)
    assert node.run_duties()["announcements_closed"] == 0
    node.clock.set(date(2026, 10, 17), hour=0)  # still 16 October in UTC
    assert node.run_duties()["announcements_closed"] == 1


# fmt: off
LIMITS = [  # limits, (acceptance due, review due, announcement end) for 2026-09-28
    (TimeLimits(), (date(2026, 10, 8), date(2026, 10, 30), date(2026, 10, 16))),
    (TimeLimits(acceptance_days=5), (date(2026, 10, 10), date(2026, 10, 30), date(2026, 10, 16))),
    (TimeLimits(acceptance_days=1, review_days=5, announcement_days=15, objection_days=2),
     (date(2026, 9, 29), date(2026, 10, 10), date(2026, 10, 23))),
]
# fmt: on


@pytest.mark.parametrize(("limits", "due"), LIMITS)
def test_time_limits_are_per_node_settings(
    make_node: Callable[..., Node], limits: TimeLimits, due: tuple
) -> None:
    accept_by, review_by, announced_until = due
    node, start = make_node(limits=limits), date(2026, 9, 28)
    reg = node.create()
    due = d(reg.current_application.acceptance_due)
    assert due == accept_by == add_working_days(start, limits.acceptance_days)
    reg = node.accept(reg.name)
    assert d(reg.current_application.review_due) == review_by == add_working_days(start, limits.review_days)
    node.approve(reg.name)
    end = d(node.announce(reg.name).current_application.announcement_end)
    assert end == announced_until == add_working_days(start, limits.announcement_days)
    assert d(node.object(reg.name).resolve_by) == add_working_days(start, limits.objection_days)


def test_deadlines_in_an_unpublished_year_are_computed_on_weekdays_and_provisional(node: Node) -> None:
    reg = node.on(date(2026, 12, 28)).create()
    app = reg.current_application
    assert (d(app.acceptance_due), app.acceptance_due_provisional) == (date(2026, 12, 31), False)
    assert not app.deadlines_provisional
    app = node.accept(reg.name).current_application
    assert d(app.review_due) == date(2027, 1, 25) == add_working_days(date(2026, 12, 28), 20)
    marks = (app.acceptance_due_provisional, app.review_due_provisional, app.deadlines_provisional)
    assert marks == (False, True, True)
    [item] = node.due()
    assert (item.kind, item.provisional) == (rs.DueItem.REVIEW, True)
    node.approve(reg.name)
    app = node.announce(reg.name).current_application
    assert (d(app.announcement_start), d(app.announcement_end)) == (date(2026, 12, 28), date(2027, 1, 11))
    assert app.announcement_end_provisional
    node.codes.failing = True  # waiting for its code, due by the announcement's end: provisional too
    node.on(date(2027, 1, 12)).run_duties()
    [item] = node.due()
    assert (item.kind, d(item.due), item.provisional) == (rs.DueItem.CODING, date(2027, 1, 11), True)


def test_each_date_carries_its_own_provisional_mark(make_node: Callable[..., Node], tmp_path: Path) -> None:
    node = make_node()
    reg = node.on(date(2026, 12, 30)).create()  # acceptance due in 2027, before its schedule is known
    app = reg.current_application
    assert (d(app.acceptance_due), app.acceptance_due_provisional) == (date(2027, 1, 4), True)
    # The operator supplies 2027's schedule (working_days_file) and the node starts again.
    path = tmp_path / "working-days.toml"
    path.write_text(SCHEDULE_2027, encoding="utf-8")
    node.procedure.calendar = WorkingCalendar.from_file(path)
    app = node.accept(reg.name).current_application
    assert (app.acceptance_due_provisional, app.review_due_provisional) == (True, False)
    assert app.deadlines_provisional  # one of its dates still is
    [item] = node.due()
    assert (item.kind, item.provisional) == (rs.DueItem.REVIEW, False)


def test_an_objection_to_be_resolved_in_an_unpublished_year_is_provisional(
    make_node: Callable[..., Node],
) -> None:
    node = make_node()
    reg = node.on(date(2026, 12, 14)).announced()
    app = reg.current_application
    assert (d(app.announcement_end), app.announcement_end_provisional) == (date(2026, 12, 28), False)
    early = node.object(reg.name)
    late = node.on(date(2026, 12, 24)).object(reg.name, "另一异议")
    assert (d(early.resolve_by), early.resolve_by_provisional) == (date(2026, 12, 28), False)
    # 25, 28-31 December, then 1 January 2027 counted as a working day (no schedule for 2027), 4-7 January.
    assert (d(late.resolve_by), late.resolve_by_provisional) == (date(2027, 1, 7), True)
    app = node.get(reg.name).current_application
    assert [o.resolve_by_provisional for o in app.objections] == [False, True]
    owed = [(x.kind, d(x.due), x.provisional) for x in node.due()]
    assert owed == [
        (rs.DueItem.OBJECTION, date(2026, 12, 28), False),
        (rs.DueItem.OBJECTION, date(2027, 1, 7), True),
    ]
    # The mark travels with the record (to the national ledger, to another node in a transfer).
    copy = make_node()
    with node.db.transaction(write=False) as session:
        record = records.export_record(
            session, queries.load(session, node.procedure.node, reg.name.rsplit("/", 1)[1])
        )
    with copy.db.transaction() as session:
        records.import_record(session, record, node=copy.procedure.node)
    assert copy.get(reg.name) == node.get(reg.name)


SCHEDULE_2027 = """\
[2027]
holidays = [
  { name = "New Year's Day", from = "2027-01-01", to = "2027-01-03" },
  { name = "Test holiday", from = "2027-01-11", to = "2027-01-12" },
]
workdays = ["2027-01-09"]
"""


def test_an_operator_schedule_for_2027_is_honoured_and_not_provisional(
    make_node: Callable[..., Node], tmp_path: Path
) -> None:
    path = tmp_path / "working-days.toml"
    path.write_text(SCHEDULE_2027, encoding="utf-8")
    node = make_node(calendar=WorkingCalendar.from_file(path))
    reg = node.on(date(2026, 12, 28)).create()
    app = node.accept(reg.name).current_application
    assert [item.provisional for item in node.due()] == [False]
    off = [date(2027, 1, 1), date(2027, 1, 11), date(2027, 1, 12)]
    expected = add_working_days(date(2026, 12, 28), 20, holidays=off, workdays=[date(2027, 1, 9)])
    assert d(app.review_due) == expected == date(2027, 1, 27)
    assert not app.deadlines_provisional
    node.approve(reg.name)
    app = node.announce(reg.name).current_application
    # 29-31 Dec, 4-8 Jan, Saturday 9 Jan (worked), 13 Jan: the 10th working day.
    assert (d(app.announcement_end), app.deadlines_provisional) == (date(2027, 1, 13), False)


# == 6. Change, correction and deregistration of an ACTIVE registration ======================================


@pytest.mark.parametrize(("kind", "action"), [(r.CHANGE, "change"), (r.CORRECTION, "correction")])
def test_change_or_correction_goes_through_the_procedure_and_adds_version_2(
    node: Node, kind: int, action: str
) -> None:
    reg = node.active()
    old, code = reg.content, reg.code
    first = node.confirmation(code)
    new = changed(old, data_name="南京市 公交 客流", summary="公交客流逐日统计")

    reg = node.on(date(2026, 10, 19)).submit(reg.name, kind, new, reason="数据范围调整")
    app = reg.current_application
    assert (app.id, app.type, app.state, app.reason) == ("a-2", kind, App.SUBMITTED, "数据范围调整")
    assert app.content == with_region(new)
    assert d(app.acceptance_due) == add_working_days(date(2026, 10, 19), 3)
    node.accept(reg.name)
    node.approve(reg.name)
    reg = node.announce(reg.name)
    assert (reg.state, reg.version, reg.content, reg.code) == (Reg.ACTIVE, 1, old, code)
    assert node.confirmation(code) == first
    assert node.list(query="公交").registrations == []

    node.close_announcement(reg)
    reg = node.get(reg.name)
    assert (*states_of(reg), reg.version, reg.code) == (Reg.ACTIVE, App.COMPLETED, 2, code)
    assert (reg.content, reg.valid_until) == (with_region(new), first.valid_until)
    second = node.confirmation(code)
    assert (second.version, second.data_name) == (2, "南京市 公交 客流")
    assert second.content_sha256 == sha256_of(with_region(new)) != first.content_sha256
    assert [x.name for x in node.list(query="公交").registrations] == [reg.name]
    assert len(node.codes.calls) == 1
    steps = f"submit_{action} accept approve announce close_announcement new_version_{action}"
    assert verbs(node, reg.name)[-6:] == steps.split()


def test_a_change_cannot_move_the_registration_to_another_subject(node: Node) -> None:
    reg = node.active()
    other = changed(reg.content)
    other.subject.uscc = make_uscc("320106")
    before = node.snapshot(reg.name)
    error = refused(lambda: node.submit(reg.name, r.CHANGE, other), InvalidArgument, "SUBJECT_CHANGED")
    assert [v.field for v in error.violations] == ["content.subject.uscc"]
    assert node.snapshot(reg.name) == before


def test_upheld_objection_to_a_change_keeps_the_registration_as_it_was(node: Node) -> None:
    reg = node.active()
    node.submit(reg.name, r.CHANGE, changed(reg.content, summary="有争议的新摘要"))
    node.accept(reg.name)
    node.approve(reg.name)
    node.announce(reg.name)
    after = node.resolve(node.object(reg.name).name, TERMINATE, "变更内容不实")
    assert (*states_of(after), after.version, after.content) == (Reg.ACTIVE, App.TERMINATED, 1, reg.content)


def test_deregistration_retires_the_registration_and_keeps_its_code(node: Node) -> None:
    reg = node.active()
    reg = node.submit(reg.name, r.DEREGISTRATION, reason="数据已停止采集")
    assert reg.current_application.content == reg.content  # the content being retired
    node.accept(reg.name)
    gone = node.approve(reg.name)
    assert (*states_of(gone), gone.code) == (Reg.DEREGISTERED, App.COMPLETED, reg.code)
    steps = "subject:submit_deregistration operator:accept operator:deregister"
    assert node.actions(reg.name)[-3:] == steps.split()
    assert node.history(reg.name)[-1].reason == "数据已停止采集"
    assert node.confirmation(reg.code).state == Reg.DEREGISTERED
    lookup = node.service.LookupRegistration(rs.LookupRegistrationRequest(code=reg.code), READER)
    assert (lookup.name, lookup.state) == (reg.name, Reg.DEREGISTERED)


@pytest.mark.parametrize("how", ["resubmit-initial", "change"])
def test_content_cannot_later_declare_the_subject_a_central_body(node: Node, how: str) -> None:
    if how == "change":
        reg = node.active()
    else:
        reg = node.return_(node.create().name, ("subject", "请核对主体"))
    central = changed(reg.content)
    central.subject.central = True
    before = node.snapshot(reg.name)
    if how == "change":
        # Locality does not apply to a registered subject, but its being a central body cannot change.
        error = refused(lambda: node.submit(reg.name, r.CHANGE, central), InvalidArgument, "SUBJECT_CHANGED")
        assert error.metadata["field"] == "content.subject.central"
    else:
        refused(lambda: node.resubmit(reg.name, central), PermissionDenied, "CENTRAL_BODY")
    assert node.snapshot(reg.name) == before


# == 7. Renewal, expiry and reminders ========================================================================


def test_renewal_extends_validity_by_three_years_under_the_same_code(node: Node) -> None:
    reg = node.active()
    until = d(reg.valid_until)
    renewed = node.renew(reg.name)
    assert (renewed.state, renewed.code, renewed.version) == (Reg.ACTIVE, reg.code, 1)
    assert renewed.valid_from == reg.valid_from
    assert d(renewed.valid_until) == until.replace(year=until.year + 3)
    assert node.actions(reg.name)[-1] == "subject:renew"
    assert node.confirmation(reg.code).valid_until == renewed.valid_until


def test_renewal_of_a_product_stops_at_the_end_of_its_operation_term(node: Node) -> None:
    reg = node.active(product(end=date(2030, 6, 30)), object_type=2)
    assert d(reg.valid_until) == date(2029, 10, 16)
    assert d(node.renew(reg.name).valid_until) == date(2030, 6, 30)
    before = node.snapshot(reg.name)
    refused(lambda: node.renew(reg.name), FailedPrecondition, "OPERATION_TERM_ENDS")
    assert node.snapshot(reg.name) == before


def test_an_expired_product_whose_term_has_ended_cannot_be_renewed(node: Node) -> None:
    reg = node.active(product(end=date(2030, 6, 30)), object_type=2)  # valid until 2029-10-16
    node.on(date(2030, 8, 1)).run_duties()  # expired, and the operation term is over too
    before = node.snapshot(reg.name)
    assert before[0].state == Reg.EXPIRED
    refused(lambda: node.renew(reg.name), FailedPrecondition, "OPERATION_TERM_ENDS")
    assert node.snapshot(reg.name) == before


def test_a_product_whose_term_ends_within_three_years_cannot_be_renewed(node: Node) -> None:
    reg = node.active(product(end=date(2027, 3, 31)), object_type=2)
    assert d(reg.valid_until) == date(2027, 3, 31)
    before = node.snapshot(reg.name)
    refused(lambda: node.renew(reg.name), FailedPrecondition, "OPERATION_TERM_ENDS")
    assert node.snapshot(reg.name) == before


def test_reminder_once_expiry_is_within_the_reminder_window_then_expiry(node: Node) -> None:
    reg = node.active()
    until = d(reg.valid_until)
    assert until == date(2029, 10, 16)
    history = len(node.history(reg.name))

    node.on(days_before(until, 21)).run_duties()
    assert (len(node.history(reg.name)), node.due()) == (history, [])

    assert node.on(days_before(until, 20)).run_duties()["reminded"] == 1
    assert node.actions(reg.name)[-1] == "system:remind"
    reminder = node.history(reg.name)[-1].reason  # 2029 has no published schedule
    assert reminder == f"validity ends {until} (20 working days left, provisional); renew before"
    [item] = node.due()
    assert (item.kind, item.registration, d(item.due)) == (rs.DueItem.EXPIRY, reg.name, until)
    assert not item.overdue
    assert item.provisional  # 2029 has no published schedule

    node.on(days_before(until, 19)).run_duties()
    node.on(until).run_duties()  # the last day of validity
    assert verbs(node, reg.name).count("remind") == 1
    assert node.get(reg.name).state == Reg.ACTIVE

    assert node.on(until + timedelta(days=1)).run_duties()["expired"] == 1
    expired = node.get(reg.name)
    assert (expired.state, expired.code) == (Reg.EXPIRED, reg.code)
    assert node.actions(reg.name)[-1] == "system:expire"
    assert [x.name for x in node.list(state=Reg.EXPIRED).registrations] == [reg.name]
    assert node.confirmation(reg.code).state == Reg.EXPIRED
    assert node.due() == []


def test_renewal_of_an_expired_registration_makes_it_active_again(node: Node) -> None:
    reg = node.active()
    day = d(reg.valid_until) + timedelta(days=10)
    node.on(day).run_duties()
    assert node.get(reg.name).state == Reg.EXPIRED
    renewed = node.renew(reg.name)
    assert (renewed.state, renewed.code) == (Reg.ACTIVE, reg.code)
    assert d(renewed.valid_until) == day.replace(year=day.year + 3) - timedelta(days=1)
    node.run_duties()
    assert node.get(reg.name).state == Reg.ACTIVE


# == 8. Retries (request ids) and conditional writes (etags) =================================================

A, B = r.Defect(field="summary", description="过短"), r.Defect(field="summary", description="过长")


# fmt: off
RETRIES = {  # setup, the write, another request under the same request id
    "create": (states.submitted, lambda _: s.create_request(1), lambda _: s.create_request(3)),
    "accept": (states.submitted, lambda x: rs.AcceptApplicationRequest(name=x),
               lambda x: rs.AcceptApplicationRequest(name=x, etag="r1")),
    "return": (states.submitted, lambda x: rs.ReturnApplicationRequest(name=x, defects=[A]),
               lambda x: rs.ReturnApplicationRequest(name=x, defects=[A, B])),
    "refuse": (states.submitted, lambda x: rs.RefuseApplicationRequest(name=x, reason="甲"),
               lambda x: rs.RefuseApplicationRequest(name=x, reason="乙")),
    "withdraw": (states.submitted, lambda x: rs.WithdrawApplicationRequest(name=x, reason="甲"),
                 lambda x: rs.WithdrawApplicationRequest(name=x, reason="乙")),
    "resubmit": (states.returned, lambda x: s.resubmission_request(x, "甲"),
                 lambda x: s.resubmission_request(x, "乙")),
    "approve": (states.under_review, lambda x: rs.ApproveApplicationRequest(name=x),
                lambda x: rs.RejectApplicationRequest(name=x, reason="乙")),
    "request-correction": (states.under_review, lambda x: rs.RequestCorrectionRequest(name=x, defects=[A]),
                           lambda x: rs.RequestCorrectionRequest(name=x, defects=[B])),
    "reject": (states.under_review, lambda x: rs.RejectApplicationRequest(name=x, reason="甲"),
               lambda x: rs.RejectApplicationRequest(name=x, reason="乙")),
    "announce": (states.approved, lambda x: rs.AnnounceApplicationRequest(name=x),
                 lambda x: rs.AnnounceApplicationRequest(name=x, etag="r1")),
    "object": (states.announced, lambda x: s.objection_request(x, "甲"),
               lambda x: s.objection_request(x, "乙")),
    "resolve": (states.objection, lambda x: s.resolution_request(x, DISMISS),
                lambda x: s.resolution_request(x, TERMINATE)),
    "submit": (states.active, lambda x: s.deregistration_request(x, "甲"),
               lambda x: s.deregistration_request(x, "乙")),
    "renew": (states.active, lambda x: rs.RenewRegistrationRequest(name=x),
              lambda x: rs.RenewRegistrationRequest(name=x, etag="r1")),
}
# fmt: on


def _registration_of(response: object) -> str:
    name = response.name  # type: ignore[attr-defined]
    return name.rsplit("/objections/", 1)[0]


@pytest.mark.parametrize(("setup", "write", "other"), list(RETRIES.values()), ids=list(RETRIES))
def test_a_repeated_write_returns_its_first_answer_and_changes_nothing_more(
    node: Node, setup: Callable[[Node], str], write: Callable[[str], object], other: Callable[[str], object]
) -> None:
    target = setup(node)
    req, another = write(target), other(target)
    req.request_id = another.request_id = "retry-1"  # type: ignore[attr-defined]
    first = node.send(req)
    name = _registration_of(first)
    after, count = node.snapshot(name), len(node.list().registrations)
    node.clock.tick(60)
    assert node.send(req) == first
    assert (node.snapshot(name), len(node.list().registrations)) == (after, count)
    refused(lambda: node.send(another), AlreadyExists, "REQUEST_ID_REUSED")
    assert node.snapshot(name) == after


def test_a_retry_after_later_steps_still_gets_the_first_answer(node: Node) -> None:
    name = node.create().name
    accept = rs.AcceptApplicationRequest(name=name, request_id="accept-1")
    first = node.send(accept)
    node.approve(name)
    later = node.snapshot(name)
    assert node.send(accept) == first  # the answer of the time, not a FAILED_PRECONDITION
    assert node.snapshot(name) == later


# fmt: off
CONDITIONAL = [
    pytest.param(lambda x, etag: rs.ApproveApplicationRequest(name=x, etag=etag), id="approve"),
    pytest.param(lambda x, etag: rs.RejectApplicationRequest(name=x, reason="否", etag=etag), id="reject"),
    pytest.param(lambda x, etag: rs.WithdrawApplicationRequest(name=x, etag=etag), id="withdraw"),
    pytest.param(lambda x, etag: rs.RequestCorrectionRequest(name=x, defects=[A], etag=etag), id="correct"),
]
# fmt: on


@pytest.mark.parametrize("write", CONDITIONAL)
def test_a_stale_etag_is_aborted_and_changes_nothing(node: Node, write: Callable[[str, str], object]) -> None:
    reg = node.create()
    fresh = node.accept(reg.name, etag=reg.etag)
    assert fresh.etag != reg.etag
    before = node.snapshot(reg.name)
    stale = write(reg.name, reg.etag)
    stale.request_id = rid()  # type: ignore[attr-defined]
    refused(lambda: node.send(stale), Aborted, "ETAG_MISMATCH")
    assert node.snapshot(reg.name) == before
    current = write(reg.name, fresh.etag)
    current.request_id = rid()  # type: ignore[attr-defined]
    node.send(current)
    assert node.snapshot(reg.name) != before


def test_a_stale_etag_on_a_change_or_a_renewal_is_aborted(node: Node) -> None:
    reg = node.active()
    node.renew(reg.name)
    before = node.snapshot(reg.name)
    for req in (
        rs.RenewRegistrationRequest(name=reg.name, etag=reg.etag),
        rs.SubmitApplicationRequest(name=reg.name, type=r.DEREGISTRATION, reason="停", etag=reg.etag),
    ):
        req.request_id = rid()
        refused(lambda q=req: node.send(q), Aborted, "ETAG_MISMATCH")
    assert node.snapshot(reg.name) == before


# == 9. Locality and bad input: refused before anything is written ===========================================


def test_a_subject_of_another_province_is_permission_denied(node: Node) -> None:
    call = lambda: node.create(content(uscc=make_uscc("440305")))  # noqa: E731
    error = refused(call, PermissionDenied, "SUBJECT_OUTSIDE_JURISDICTION")
    assert error.metadata["subject_region"] == "440000"
    assert node.list().registrations == []


def test_a_central_body_is_permission_denied(node: Node) -> None:
    body = content()
    body.subject.central = True
    refused(lambda: node.create(body), PermissionDenied, "CENTRAL_BODY")
    assert node.list().registrations == []


def _handed_over(origin: Node, here: Node, subject: str) -> Reg:
    """An ACTIVE registration of ``subject`` (a Guangdong unit) that ``here`` manages, as after a
    transfer from Guangdong: its record, as the national node sends it down, imported here."""
    made = origin.active()
    with origin.db.transaction(write=False) as session:
        record = export_record(
            session, queries.load(session, origin.procedure.node, made.name.rsplit("/", 1)[1])
        )
    record.registration.content.subject.uscc = subject
    record.registration.current_application.content.subject.uscc = subject
    with here.db.transaction() as session:
        import_record(session, record, node=here.procedure.node)
    return here.get(made.name)


def test_a_registration_handed_over_here_is_changed_and_corrected_here_whatever_its_subjects_region(
    make_node: Callable[..., Node],
) -> None:
    # Jurisdiction over an existing registration follows the node that manages it: the USCC of a
    # subject that moved still names its old province, and decides only where it FIRST registered.
    guangdong = make_uscc("440305")
    here = make_node()
    reg = _handed_over(make_node(), here, guangdong)
    assert reg.content.subject.uscc == guangdong and reg.state == Reg.ACTIVE
    changed_reg = here.through_change(
        reg.name, r.CHANGE, content(uscc=guangdong, data_name="广州市 交通 流量")
    )
    assert (changed_reg.version, changed_reg.content.data_name) == (2, "广州市 交通 流量")
    corrected = here.through_change(
        reg.name, r.CORRECTION, content(uscc=guangdong, data_name="广州 交通流量")
    )
    assert (corrected.version, corrected.code) == (3, reg.code)
    # A first registration of the same subject here is still refused: locality decides where.
    refused(lambda: here.create(content(uscc=guangdong)), PermissionDenied, "SUBJECT_OUTSIDE_JURISDICTION")


def test_a_registration_handed_over_elsewhere_is_answered_with_where_it_is_managed_now(node: Node) -> None:
    reg = node.active()
    with node.db.transaction() as session:  # the transfer to Guangdong, as the national node sends it
        record = export_record(session, queries.load(session, "320000", reg.name.rsplit("/", 1)[1]))
        import_record(session, rename(record, "440000"), node="440000")
    now = reg.name.replace("nodes/320000", "nodes/440000")
    reads = {
        "get": lambda: node.get(reg.name),
        "history": lambda: node.history(reg.name),
        "lookup": lambda: node.service.LookupRegistration(
            rs.LookupRegistrationRequest(code=reg.code), READER
        ),
        "confirmation": lambda: node.confirmation(reg.code),
        "change": lambda: node.submit(reg.name, r.CHANGE, changed(reg.content, summary="新摘要")),
        "renewal": lambda: node.renew(reg.name),
    }
    for what, read in reads.items():
        error = refused(read, FailedPrecondition, "NOT_MANAGED_HERE")
        assert (error.metadata["node"], error.metadata["name"]) == ("nodes/440000", now), what
        assert "nodes/440000" in error.message, what
    assert node.list().registrations == []  # not listed as one of this node's


def test_a_registration_released_to_a_transfer_takes_no_change_here_and_the_node_owes_nothing_for_it(
    node: Node,
) -> None:
    reg, announced = node.active(), node.announced()
    transfer = "0b6f0a4e-2f0c-4d7e-9a51-3c2b1d0e9f87"
    with node.db.transaction() as session:  # released, as the sync daemon does when asked to
        for name in (reg.name, announced.name):
            row = queries.load(session, "320000", name.rsplit("/", 1)[1])
            row.transfer_id, row.transfer_to = transfer, "440000"
            session.add(row)
    node.clock.set(d(announced.current_application.announcement_end) + timedelta(days=1))
    before = {name: node.snapshot(name) for name in (reg.name, announced.name)}
    writes = {
        "change": (reg, lambda: node.submit(reg.name, r.CHANGE, changed(reg.content, summary="新摘要"))),
        "renewal": (reg, lambda: node.renew(reg.name)),
        "objection": (announced, lambda: node.object(announced.name)),
        "withdrawal": (announced, lambda: node.withdraw(announced.name)),
    }
    for what, (target, write) in writes.items():
        error = refused(write, FailedPrecondition, "TRANSFER_PENDING")
        there = target.name.replace("nodes/320000", "nodes/440000")
        assert error.metadata == {"node": "nodes/440000", "name": there, "transfer": transfer}, what
        assert "nodes/440000" in error.message, what
    # The receiving node closes the announcement and codes it: this node's duties leave both alone,
    # and its clerks owe nothing for them.
    assert node.run_duties() == {"announcements_closed": 0, "expired": 0, "reminded": 0, "codes_assigned": 0}
    assert node.due() == []
    # Nothing was written, and both are still read here until the transfer completes.
    assert {name: node.snapshot(name) for name in (reg.name, announced.name)} == before


F = "registration.content."
# fmt: off
BAD_INPUT = [
    (1, content(data_name=""), {F + "data_name": "FIELD_REQUIRED"}, "missing-data-name"),
    (1, content(data_name="   "), {F + "data_name": "FIELD_REQUIRED"}, "blank-data-name"),
    (1, content(summary="长" * 2001), {F + "summary": "FIELD_TOO_LONG"}, "long-summary"),
    (1, content(description=document(sha="ABC123")),
     {F + "description.sha256": "FIELD_MALFORMED"}, "bad-sha256"),
    (1, content(commitment=document(sha="A" * 64)),
     {F + "commitment.sha256": "FIELD_MALFORMED"}, "upper-case-sha256"),
    (1, product(), {F + "operation_term": "FIELD_NOT_ALLOWED"}, "term-on-resource"),
    (3, product(), {F + "operation_term": "FIELD_NOT_ALLOWED"}, "term-on-open-data"),
    (2, content(), {F + "operation_term": "FIELD_REQUIRED"}, "product-without-term"),
    (2, content(operation_term=term(date(2027, 1, 1), date(2026, 1, 1))),
     {F + "operation_term.end": "FIELD_OUT_OF_RANGE"}, "term-ends-before-start"),
    (0, content(), {"registration.object_type": "FIELD_REQUIRED"}, "no-object-type"),
    (1, content(data_name="", summary="", application_scenarios=[]),
     {F + "data_name": "FIELD_REQUIRED", F + "summary": "FIELD_REQUIRED",
      F + "application_scenarios": "FIELD_REQUIRED"}, "every-defect-at-once"),
]
# fmt: on


@pytest.mark.parametrize(
    ("object_type", "body", "violations"), [pytest.param(*c[:3], id=c[3]) for c in BAD_INPUT]
)
def test_bad_input_is_invalid_argument_naming_every_field_and_writes_nothing(
    node: Node, object_type: int, body: r.RegistrationContent, violations: dict[str, str]
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        node.create(body, object_type)
    assert {v.field: v.reason for v in caught.value.violations} == violations
    assert node.list().registrations == []


def test_bad_input_on_later_writes_changes_nothing(node: Node) -> None:
    reg = node.active()
    before = node.snapshot(reg.name)
    with pytest.raises(InvalidArgument) as caught:
        node.submit(reg.name, r.CHANGE, changed(reg.content, data_name=""), reason="")
    assert [v.field for v in caught.value.violations] == ["reason", "content.data_name"]  # all at once
    with pytest.raises(InvalidArgument) as caught:
        node.submit(reg.name, r.CHANGE, changed(reg.content, data_name=""))
    assert [v.field for v in caught.value.violations] == ["content.data_name"]
    assert node.snapshot(reg.name) == before
    name = node.create().name
    before = node.snapshot(name)
    refused(lambda: node.return_(name), InvalidArgument, "FIELD_REQUIRED")  # a return lists its defects
    refused(lambda: node.refuse(name, " "), InvalidArgument, "FIELD_REQUIRED")  # a refusal gives its reason
    assert node.snapshot(name) == before


# == 10. Listing registrations and what is due ===============================================================


def test_registrations_are_listed_newest_first_with_filters(node: Node) -> None:
    s1, s2 = make_uscc("320106"), make_uscc("320583")
    made = {}
    for key, object_type, body in [
        ("flow", 1, content(uscc=s1, data_name="南京市 交通 流量")),
        ("clinics", 2, product(uscc=s2, data_name="医疗 机构 名录")),
        ("accidents", 3, content(uscc=s1, data_name="交通 事故 统计")),
        ("refused", 1, content(uscc=s2, data_name="交通 流量 历史")),
    ]:
        node.clock.tick(60)
        made[node.create(body, object_type).name] = key
    node.refuse(next(name for name, key in made.items() if key == "refused"), "重复登记")

    def listed(**filters: object) -> list[str]:
        return [made[x.name] for x in node.list(**filters).registrations]

    assert listed() == ["refused", "accidents", "clinics", "flow"]
    assert listed(state=Reg.CLOSED) == ["refused"]
    assert listed(state=Reg.PENDING) == ["accidents", "clinics", "flow"]
    assert listed(object_type=r.DATA_PRODUCT_OR_SERVICE) == ["clinics"]
    assert listed(subject_uscc=s1) == ["accidents", "flow"]
    assert listed(query="交通") == ["refused", "accidents", "flow"]
    assert listed(query="交通 流量") == ["refused", "flow"]  # every word must match
    assert listed(query="流量 南京市") == ["flow"]
    assert listed(query="交通 流量", state=Reg.PENDING, subject_uscc=s1) == ["flow"]
    assert listed(query="交通 名录") == listed(query="%") == listed(query="_") == []


def test_pages_of_two_list_every_registration_exactly_once(node: Node) -> None:
    created = []
    for i in range(5):
        if i % 2 == 0:
            node.clock.tick(60)  # two pairs share a creation instant: the order must still be total
        created.append(node.create(content(data_name=f"数据 {i}")).name)
    seen, token, pages = [], "", 0
    while True:
        page = node.list(page_size=2, page_token=token)
        assert len(page.registrations) <= 2
        seen += [x.name for x in page.registrations]
        pages, token = pages + 1, page.next_page_token
        if not token:
            break
    assert (pages, len(seen), sorted(seen)) == (3, 5, sorted(created))
    assert seen[0] == created[4] and set(seen[-2:]) == set(created[:2])
    assert seen == [x.name for x in node.list().registrations]


def test_due_items_list_overdue_first_then_by_date(node: Node) -> None:
    late = node.create().name  # acceptance due 2026-10-08
    node.on(date(2026, 10, 12))
    soon = node.create().name  # acceptance due 2026-10-15
    review = states.under_review(node)  # review due 2026-11-09
    approved = states.approved(node)  # no time limit: listed last

    node.on(date(2026, 10, 13))
    items = node.due()
    assert [(x.registration, x.kind, x.overdue) for x in items] == [
        (late, rs.DueItem.ACCEPTANCE, True),
        (soon, rs.DueItem.ACCEPTANCE, False),
        (review, rs.DueItem.REVIEW, False),
        (approved, rs.DueItem.ANNOUNCEMENT, False),
    ]
    assert [d(x.due) for x in items[:3]] == [date(2026, 10, 8), date(2026, 10, 15), date(2026, 11, 9)]
    assert not items[3].HasField("due") and items[0].data_name == "南京市 交通 流量"
    assert [x.registration for x in node.due(overdue_only=True)] == [late]
    page = node.service.ListDueItems(rs.ListDueItemsRequest(parent=PARENT, page_size=3), READER)
    rest = node.service.ListDueItems(
        rs.ListDueItemsRequest(parent=PARENT, page_size=3, page_token=page.next_page_token), READER
    )
    assert list(page.items) + list(rest.items) == items


# == 11. The rule for authorised operation: initial registration within N working days (Fujian) ============

FUJIAN = TimeLimits(initial_registration_days=20)
OPERATION_STARTS = date(2026, 9, 1)
# 20 working days after 1 September 2026: Sunday 20 September is worked, 25-27 September are off.
REGISTRATION_DUE = date(2026, 9, 29)


def authorised(start: date = OPERATION_STARTS, **fields: object) -> r.RegistrationContent:
    return content(operation_term=term(start, date(2029, 12, 31)), **fields)  # type: ignore[arg-type]


def test_the_initial_registration_is_due_n_working_days_after_authorised_operation_starts(
    make_node: Callable[..., Node],
) -> None:
    node = make_node(limits=FUJIAN)
    assert REGISTRATION_DUE == add_working_days(OPERATION_STARTS, 20)
    reg = node.create(authorised(), object_type=2)  # on 28 September: in time
    app = reg.current_application
    assert (d(app.initial_registration_due), app.initial_registration_late) == (REGISTRATION_DUE, False)
    assert not app.initial_registration_due_provisional
    assert [x.kind for x in node.due()] == [rs.DueItem.ACCEPTANCE]  # with the registry: nothing owed

    # Returned with a one-time notice: the subject owes its application again, by the same day.
    node.return_(reg.name, ("summary", "过短"))
    [item] = node.due()
    assert (item.kind, item.registration, d(item.due)) == (
        rs.DueItem.INITIAL_REGISTRATION,
        reg.name,
        REGISTRATION_DUE,
    )
    assert (item.overdue, item.provisional) == (False, False)
    node.on(REGISTRATION_DUE + timedelta(days=1))
    [item] = node.due(overdue_only=True)
    assert (item.kind, item.overdue) == (rs.DueItem.INITIAL_REGISTRATION, True)

    node.resubmit(reg.name, authorised(uscc=reg.content.subject.uscc, summary="全市道路交通流量的逐日统计"))
    assert [x.kind for x in node.due()] == [rs.DueItem.ACCEPTANCE]
    node.accept(reg.name)
    reg = node.request_correction(reg.name, ("legal_source", "缺少授权协议"))
    [item] = node.due()
    assert (item.kind, d(item.due), item.overdue) == (rs.DueItem.INITIAL_REGISTRATION, REGISTRATION_DUE, True)


def test_an_initial_registration_applied_for_after_its_day_is_marked_late(
    make_node: Callable[..., Node],
) -> None:
    node = make_node(limits=FUJIAN)
    # What the client says of the application is not read: the node computes the day and the lateness.
    claimed = App(
        initial_registration_due=date_pb2.Date(year=2030, month=1, day=1), initial_registration_late=False
    )
    req = rs.CreateRegistrationRequest(
        parent=PARENT,
        registration=Reg(object_type=2, content=authorised(), current_application=claimed),
        request_id=rid(),
    )
    reg = node.on(REGISTRATION_DUE + timedelta(days=1)).send(req, actor="subject")
    app = reg.current_application
    assert (d(app.initial_registration_due), app.initial_registration_late) == (REGISTRATION_DUE, True)
    submitted = node.history(reg.name)[-1]
    assert submitted.action == "submit"
    assert submitted.reason == (
        f"late: the initial registration was due by {REGISTRATION_DUE}"
        f" (20 working days after authorised operation started on {OPERATION_STARTS})"
    )
    assert node.get(reg.name).current_application.initial_registration_late


def test_the_day_of_an_initial_registration_in_an_unpublished_year_is_provisional(
    make_node: Callable[..., Node],
) -> None:
    node = make_node(limits=FUJIAN)
    reg = node.create(authorised(start=date(2026, 12, 15)), object_type=2)
    app = reg.current_application
    # 16-31 December (12 working days), then 1-12 January 2027 on weekdays alone.
    assert (d(app.initial_registration_due), app.initial_registration_due_provisional) == (
        date(2027, 1, 12),
        True,
    )
    assert app.deadlines_provisional
    node.return_(reg.name, ("summary", "过短"))
    [item] = node.due()
    assert (item.kind, item.provisional) == (rs.DueItem.INITIAL_REGISTRATION, True)


def test_the_rule_applies_only_where_set_and_only_to_initial_registrations_under_authorised_operation(
    make_node: Callable[..., Node],
) -> None:
    elsewhere = make_node()  # the default: no such rule
    reg = elsewhere.on(REGISTRATION_DUE + timedelta(days=1)).create(authorised(), object_type=2)
    assert not reg.current_application.HasField("initial_registration_due")
    elsewhere.return_(reg.name, ("summary", "过短"))
    assert elsewhere.due() == []

    node = make_node(limits=FUJIAN)
    resource = node.on(REGISTRATION_DUE + timedelta(days=1)).create()  # no authorised operation
    assert not resource.current_application.HasField("initial_registration_due")
    node.return_(resource.name, ("summary", "过短"))
    product = node.active(authorised(), object_type=2)
    change = node.submit(product.name, r.CHANGE, changed(product.content, summary="新摘要"))
    assert not change.current_application.HasField("initial_registration_due")
    node.return_(product.name, ("summary", "过短"))
    assert node.due() == []
    again = node.resubmit(product.name, changed(product.content, summary="新的摘要"))
    assert not again.current_application.HasField("initial_registration_due")


# == A national coordinators' correction request, opened at the managing node ===============================


def _active(node: Node) -> str:
    name = node.create(content()).name
    node.on(date(2026, 9, 29)).accept(name)
    node.on(date(2026, 9, 30)).approve(name)
    node.on(date(2026, 10, 8)).announce(name)
    node.on(date(2026, 10, 22)).run_duties()
    return name


def _correction(name: str, number: int) -> LedgerCorrection:
    return LedgerCorrection(
        name=f"ledgerCorrections/0000000{number}-0000-4000-8000-000000000000",
        registration=name,
        problem="数据名称与实际数据不符",
        evidence=[document("比对报告")],
        requested_by="coordinator-wu",
    )


def test_a_correction_request_opens_a_correction_application_or_records_why_it_could_not(node: Node) -> None:
    name = _active(node)
    first = _correction(name, 1)
    with node.db.transaction() as session:
        assert open_correction(node.procedure, session, first)
    reg = node.get(name)
    app = reg.current_application
    assert (app.type, app.state, reg.state) == (r.CORRECTION, App.SUBMITTED, Reg.ACTIVE)
    assert node.actions(name)[-1] == "coordinator-wu via nodes/100000:submit_correction"
    assert app.reason.startswith(first.name) and "比对报告" in app.reason
    # A second request while the first is in progress: not opened, and the history says why.
    second = _correction(name, 2)
    with node.db.transaction() as session:
        assert not open_correction(node.procedure, session, second)
    last = node.history(name)[-1]
    assert (last.action, last.actor) == ("correction_not_opened", "coordinator-wu via nodes/100000")
    assert last.reason.startswith(second.name) and "still SUBMITTED" in last.reason
    assert node.get(name).current_application.id == app.id  # the first application goes on
