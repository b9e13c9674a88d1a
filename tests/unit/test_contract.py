"""The contract as a stranger reads it: what the .proto comments promise, checked against the software.

* ``content_sha256`` is recomputed from the rule documented in ``registration.proto`` alone (its own
  JSON Canonicalization, not the project's), for every object type, dates included, and for the
  worked example printed in the comment;
* every ``ErrorInfo.reason`` the software can send is a value of ``registry.v1.ErrorReason``;
* every bad field of a request is listed at once, ``request_id`` included;
* Application methods take the application's name as well as the registration's.
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format

from common.errors import FailedPrecondition, InvalidArgument
from common.gen.registry.v1 import errors_pb2
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import registration_service_pb2 as rs
from tests.factories import acting
from tests.nodes import ROOT
from tests.unit.procedure_support import PARENT, Node, content, product, refused, rid

# -- content_sha256 from the documented rule ------------------------------------------------------


def _jcs(value: Any) -> str:
    """RFC 8785 for the JSON values a RegistrationContent has (objects, arrays, strings, integers,
    booleans), written from the RFC: keys sorted by their UTF-16 code units, no white space, strings
    escaped only where RFC 8785 (ECMAScript's JSON.stringify) escapes them."""
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(f"{_string(k)}:{_jcs(value[k])}" for k in keys) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_jcs(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _string(value)
    raise TypeError(f"no {type(value).__name__} in a RegistrationContent")


_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _string(text: str) -> str:
    out = []
    for char in text:
        if char in _SHORT:
            out.append(_SHORT[char])
        elif ord(char) < 0x20:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def documented_sha256(body: r.RegistrationContent) -> str:
    as_json = json_format.MessageToDict(body, preserving_proto_field_name=True)
    return hashlib.sha256(_jcs(as_json).encode("utf-8")).hexdigest()


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    made = Node(tmp_path)
    yield made
    made.close()


@pytest.mark.parametrize(
    ("object_type", "body"),
    [
        pytest.param(1, content(data_name='气象 数据\t"引号"\\ 与控制字符\x01'), id="resource"),
        pytest.param(2, product(end=date(2031, 2, 28)), id="product-with-dates"),
        pytest.param(3, content(application_scenarios=["开放", "研究"]), id="open-data"),
    ],
)
def test_content_sha256_is_the_documented_canonical_form(
    node: Node, object_type: int, body: r.RegistrationContent
) -> None:
    reg = node.active(body, object_type)
    confirmation = node.confirmation(reg.code)
    # What GetRegistration returns is what was confirmed: the subject's region filled in.
    assert confirmation.content_sha256 == documented_sha256(reg.content)
    assert reg.content.subject.region == "320000"


def test_the_worked_example_in_the_contract_holds() -> None:
    proto = (ROOT / "proto/registry/v1/registration.proto").read_text()
    example = re.search(r"^\s*//\s{5}(\{.*\})$", proto, re.MULTILINE)
    digest = re.search(r"`([0-9a-f]{64})`", proto)
    assert example is not None and digest is not None
    body = json_format.Parse(example.group(1), r.RegistrationContent())
    assert body.operation_term.end.year == 2028
    assert _jcs(json_format.MessageToDict(body, preserving_proto_field_name=True)) == example.group(1)
    assert documented_sha256(body) == digest.group(1)


# -- ErrorReason is the complete list ------------------------------------------------------------

_ERROR_CLASSES = {
    "InvalidArgument",
    "NotFound",
    "AlreadyExists",
    "PermissionDenied",
    "FailedPrecondition",
    "Aborted",
    "Unavailable",
    "InvalidValue",
    "Unauthenticated",
    "ResourceExhausted",
    "TokenError",  # the boundary sends a token's refusal with its reason
    "IdentityError",  # and a certificate's
}


def _reasons_in_source() -> dict[str, str]:
    """Every string literal given as a reason to a domain error, a value validator or ``Checker.fail``."""
    found: dict[str, str] = {}
    for package in ("common", "national_node", "provincial_node"):
        for path in (ROOT / package).rglob("*.py"):
            if "gen" in path.parts or "transparency" in path.parts or path.name == "pki.py":
                continue  # generated code; errors that stay inside the node (proofs, the CA's files)
            for call in ast.walk(ast.parse(path.read_text())):
                if not isinstance(call, ast.Call):
                    continue
                func = call.func
                name = (
                    func.id
                    if isinstance(func, ast.Name)
                    else func.attr
                    if isinstance(func, ast.Attribute)
                    else ""
                )
                position = {"fail": 1, "_refused": 1, "FieldViolation": 2}.get(
                    name, 0 if name in _ERROR_CLASSES else None
                )
                if position is None or len(call.args) <= position:
                    continue
                argument = call.args[position]
                if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                    found[argument.value] = f"{path.relative_to(ROOT)}:{call.lineno}"
    return found


def test_every_reason_the_software_sends_is_in_the_contract() -> None:
    documented = set(errors_pb2.ErrorReason.keys())
    sent = _reasons_in_source()
    assert len(sent) > 40, "the scan found the reasons"
    missing = {reason: where for reason, where in sent.items() if reason not in documented}
    assert missing == {}


def test_code_defects_and_uscc_reasons_are_in_the_contract() -> None:
    from common.codes import CodeDefect

    documented = set(errors_pb2.ErrorReason.keys())
    assert {str(d) for d in CodeDefect} <= documented


# -- every bad field at once ---------------------------------------------------------------------


def test_a_request_missing_its_request_id_and_a_required_field_lists_both(node: Node) -> None:
    body = content(data_name="")
    request = rs.CreateRegistrationRequest(
        parent=PARENT, registration=r.Registration(object_type=1, content=body)
    )
    with pytest.raises(InvalidArgument) as caught:
        node.service.CreateRegistration(request, acting("subject"))
    assert [v.field for v in caught.value.violations] == ["registration.content.data_name", "request_id"]
    assert caught.value.reason == "INVALID_FIELDS"


def test_a_transition_missing_its_request_id_and_with_a_bad_name_lists_both(node: Node) -> None:
    with pytest.raises(InvalidArgument) as caught:
        node.service.AcceptApplication(rs.AcceptApplicationRequest(name="registrations/x"), acting("clerk"))
    assert [v.field for v in caught.value.violations] == ["name", "request_id"]


# -- application names ---------------------------------------------------------------------------


def test_an_application_method_takes_the_current_applications_name(node: Node) -> None:
    reg = node.create()
    application = reg.current_application.name
    assert application == f"{reg.name}/applications/a-1"
    accepted = node.send(rs.AcceptApplicationRequest(name=application, request_id=rid()))
    assert accepted.current_application.state == r.Application.UNDER_REVIEW


def test_an_application_that_is_no_longer_current_is_refused_and_nothing_changes(node: Node) -> None:
    reg = node.active()
    first = f"{reg.name}/applications/a-1"
    node.submit(reg.name, r.CHANGE, content(uscc=reg.content.subject.uscc, summary="新摘要"))
    before = node.snapshot(reg.name)
    refused(
        lambda: node.send(rs.AcceptApplicationRequest(name=first, request_id=rid())),
        FailedPrecondition,
        "NOT_CURRENT_APPLICATION",
    )
    assert node.snapshot(reg.name) == before
