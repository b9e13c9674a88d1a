"""Resource names (AIP-122) and their patterns: the one place they are written.

::

    nodes/{region}                                         a node (six-digit GB/T 2260 code)
    nodes/{region}/registrations/{id}                      a registration, under its managing node
    nodes/{region}/registrations/{id}/applications/{a-N}   one of its applications
    nodes/{region}/registrations/{id}/objections/{o-N}     an objection to it
    nodes/{region}/registrations/{id}/history/{N}          an entry of its history
    codes/{code}                                           a code assignment

A registration id is 1-63 characters of ``a-z``, ``0-9`` and ``-``, starting with a letter or digit.
Parsers raise :class:`~common.errors.InvalidArgument` naming the field; a name of another node is
:class:`~common.errors.PermissionDenied` (AIP-193: "not yours" is checked before existence).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from common.errors import InvalidArgument, InvalidValue, PermissionDenied

__all__ = [
    "ANY_REGISTRATION",
    "APPLICATION",
    "NODE",
    "OBJECTION",
    "REGISTRATION",
    "SHAPES",
    "RegistrationName",
    "application_name",
    "application_target",
    "history_name",
    "local_registration",
    "node_name",
    "objection_name",
    "parse_node",
    "parse_registration",
    "registration_name",
]

_ID = r"[a-z0-9][a-z0-9-]{0,62}"
#: ``nodes/{region}``.
NODE = re.compile(r"nodes/(\d{6})")
#: ``nodes/{region}/registrations/{id}``.
REGISTRATION = re.compile(rf"nodes/(\d{{6}})/registrations/({_ID})")
#: ``nodes/{region}/registrations/{id}/objections/{o-N}``.
OBJECTION = re.compile(rf"(nodes/\d{{6}}/registrations/{_ID})/objections/(o-\d{{1,9}})")
#: ``nodes/{region}/registrations/{id}/applications/{a-N}``.
APPLICATION = re.compile(rf"(nodes/\d{{6}}/registrations/{_ID})/applications/(a-\d{{1,9}})")

#: A registration, or one of its applications (the Application methods take either).
ANY_REGISTRATION = re.compile(rf"nodes/(\d{{6}})/registrations/({_ID})(?:/applications/(a-\d{{1,9}}))?")

#: What people are told a name should look like.
SHAPES = {
    "node": "nodes/{six-digit region code}",
    "registration": "nodes/{region}/registrations/{id}",
    "objection": "nodes/{region}/registrations/{id}/objections/o-N",
    "code": "codes/{code}",
}


@dataclass(frozen=True, slots=True)
class RegistrationName:
    """A registration's name taken apart."""

    node: str
    id: str

    def __str__(self) -> str:
        return registration_name(self.node, self.id)


def node_name(region: str) -> str:
    return f"nodes/{region}"


def registration_name(node: str, local_id: str) -> str:
    return f"nodes/{node}/registrations/{local_id}"


def application_name(registration: str, application_id: str) -> str:
    return f"{registration}/applications/{application_id}"


def objection_name(registration: str, objection_id: str) -> str:
    return f"{registration}/objections/{objection_id}"


def history_name(registration: str, sequence: int) -> str:
    return f"{registration}/history/{sequence}"


def _malformed(field: str, shape: str) -> InvalidArgument:
    return InvalidArgument.for_field(field, InvalidValue("FIELD_MALFORMED", f"must look like {shape}"))


def parse_node(name: str, *, field: str = "name") -> str:
    """The region of ``nodes/{region}``."""
    match = NODE.fullmatch(name)
    if match is None:
        raise _malformed(field, SHAPES["node"])
    return match.group(1)


def parse_registration(name: str, *, field: str = "name") -> RegistrationName:
    match = REGISTRATION.fullmatch(name)
    if match is None:
        raise _malformed(field, SHAPES["registration"])
    return RegistrationName(match.group(1), match.group(2))


def local_registration(name: str, node: str, *, field: str = "name") -> str:
    """The local id of a registration that ``node`` manages; another node's is PERMISSION_DENIED."""
    parsed = parse_registration(name, field=field)
    if parsed.node != node:
        raise PermissionDenied(
            "NOT_MANAGED_HERE",
            f"{name} is managed by nodes/{parsed.node}, not by this node (nodes/{node})",
            metadata={"field": field, "node": node_name(parsed.node)},
        )
    return parsed.id


def application_target(name: str, node: str, *, field: str = "name") -> tuple[str, str | None]:
    """What an Application method acts on: a registration's local id, and the application id when
    ``name`` names an application (``.../applications/a-N``) rather than its registration."""
    application = APPLICATION.fullmatch(name)
    if application is None:
        return local_registration(name, node, field=field), None
    return local_registration(application.group(1), node, field=field), application.group(2)
