"""The authorisation policy: one table of which role may call which method, and on what.

The table is a TOML file an operator can read (the built-in one is ``policy.toml`` beside this module;
``auth.policy_file`` names another) and ``registryctl policy`` prints. :meth:`Policy.authorize` is the
whole decision at the method level, made by the gRPC boundary before any servicer runs; the scope it
returns (``own_node``, ``own_subjects``) is the limit the call must then stay within, checked where the
resource is known (:mod:`common.security.scope`).
"""

from __future__ import annotations

import enum
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from common.errors import PermissionDenied, Unauthenticated
from common.security.tokens import Principal

__all__ = ["PUBLIC", "Grant", "Policy", "PolicyError", "Scope"]

#: The role everyone holds, with or without credentials.
PUBLIC = "public"


class Scope(enum.StrEnum):
    """What a grant covers; the broader of two grants wins."""

    OWN_SUBJECTS = "own_subjects"
    OWN_NODE = "own_node"
    ANY = "any"


_BREADTH = {Scope.OWN_SUBJECTS: 1, Scope.OWN_NODE: 1, Scope.ANY: 2}


class PolicyError(ValueError):
    """The policy file is not valid: an unknown method, scope or key."""


@dataclass(frozen=True, slots=True)
class Grant:
    """Why a call is allowed: the role that grants it, and the scope it is limited to."""

    role: str
    scope: Scope


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    description: str
    grants: dict[str, Scope]


class Policy:
    """Roles and their grants, by method (``Service.Method``)."""

    def __init__(self, roles: Iterable[Role], *, methods: Iterable[str] | None = None) -> None:
        self.roles = {role.name: role for role in roles}
        if PUBLIC not in self.roles:
            raise PolicyError(f"the policy has no role {PUBLIC!r}")
        if methods is not None:
            known = set(methods)
            for role in self.roles.values():
                unknown = sorted(set(role.grants) - known)
                if unknown:
                    raise PolicyError(f"role {role.name!r} grants methods that do not exist: {unknown}")

    @classmethod
    def load(cls, path: Path | None = None, *, methods: Iterable[str] | None = None) -> Policy:
        """The policy of ``path`` (the built-in one if None); ``methods`` are the names that exist."""
        if path is None:
            text = resources.files("common.security").joinpath("policy.toml").read_text()
        else:
            text = path.read_text()
        try:
            document: dict[str, Any] = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise PolicyError(f"the policy is not valid TOML: {error}") from None
        extra = set(document) - {"roles"}
        if extra:
            raise PolicyError(f"unknown keys in the policy: {sorted(extra)}")
        roles = []
        for name, table in document.get("roles", {}).items():
            if not isinstance(table, dict) or set(table) - {"description", "grants"}:
                raise PolicyError(f"role {name!r}: only 'description' and 'grants' are allowed")
            grants = {}
            for method, scope in table.get("grants", {}).items():
                try:
                    grants[method] = Scope(scope)
                except ValueError:
                    raise PolicyError(f"role {name!r}, {method}: unknown scope {scope!r}") from None
            roles.append(Role(name, str(table.get("description", "")), grants))
        return cls(roles, methods=methods)

    def authorize(self, principal: Principal, method: str) -> Grant:
        """The broadest grant of ``method`` among the caller's roles; refused if there is none."""
        best: Grant | None = None
        for name in (PUBLIC, *sorted(principal.roles)):
            role = self.roles.get(name)
            scope = role.grants.get(method) if role else None
            if scope is not None and (best is None or _BREADTH[scope] > _BREADTH[best.scope]):
                best = Grant(name, scope)
        if best is not None:
            return best
        if principal.kind == "anonymous":
            raise Unauthenticated(
                "CREDENTIALS_REQUIRED",
                f"{method} needs credentials: a bearer token (people) or a node certificate",
                metadata={"method": method},
            )
        held = ", ".join(sorted(principal.roles)) or "none"
        raise PermissionDenied(
            "ROLE_NOT_ALLOWED",
            f"{principal.subject} (roles: {held}) may not call {method}",
            metadata={"method": method, "principal": principal.subject},
        )

    def table(self) -> list[tuple[str, str, str]]:
        """(method, role, scope) rows, sorted: the policy as a reader checks it."""
        rows = [(m, role.name, str(s)) for role in self.roles.values() for m, s in role.grants.items()]
        return sorted(rows)
