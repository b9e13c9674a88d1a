"""The authorisation policy: one table of which role may call which method, and on what.

The table is a TOML file an operator can read (the built-in one is ``policy.toml`` beside this module;
``auth.policy_file`` names another) and ``registryctl policy`` prints. :meth:`Policy.authorize` is the
whole decision at the method level, made by the gRPC boundary before any servicer runs; the scope it
returns (``own_node``, ``own_subjects``) is the limit the call must then stay within, checked where the
resource is known (:mod:`common.security.scope`).

Each role says which credential proves it (``credential``): ``token`` roles are named by a person's
bearer token (its ``roles`` claim), ``certificate`` roles are held by every node by its certificate of
the national CA and by nothing else. A token naming a certificate role is refused (UNAUTHENTICATED
``TOKEN_CLAIMS``): an identity provider that hands out what only the CA can prove is misconfigured or
forged, and the call must not go on as if the role were merely absent. A role the policy does not know
is ignored, as identity providers serve other applications too.

A grant is honoured only for a caller that has what its scope compares: ``own_node`` for a node (its
region), ``own_subjects`` for a person whose token names subjects. Anyone else is refused, never let
through unlimited.
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

__all__ = ["PUBLIC", "Credential", "Grant", "Policy", "PolicyError", "Role", "Scope"]

#: The role everyone holds, with or without credentials.
PUBLIC = "public"


class Scope(enum.StrEnum):
    """What a grant covers; the broader of two grants wins."""

    OWN_SUBJECTS = "own_subjects"
    OWN_NODE = "own_node"
    ANY = "any"


_BREADTH = {Scope.OWN_SUBJECTS: 1, Scope.OWN_NODE: 1, Scope.ANY: 2}


class Credential(enum.StrEnum):
    """What proves that a caller holds a role."""

    TOKEN = "token"  # a person's bearer token names it
    CERTIFICATE = "certificate"  # every node holds it by its certificate


#: The credential behind each kind of principal (anonymous callers hold only the public role).
_CREDENTIAL_OF = {"person": Credential.TOKEN, "node": Credential.CERTIFICATE}


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
    credential: Credential


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
        self._by_credential = {
            credential: frozenset(
                n for n, r in self.roles.items() if n != PUBLIC and r.credential == credential
            )
            for credential in Credential
        }

    def role_names(self, credential: Credential) -> list[str]:
        """The roles ``credential`` proves, sorted (``public`` is everyone's and in neither list)."""
        return sorted(self._by_credential[credential])

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
            if not isinstance(table, dict) or set(table) - {"description", "credential", "grants"}:
                raise PolicyError(f"role {name!r}: only 'description', 'credential' and 'grants' are allowed")
            grants = {}
            for method, scope in table.get("grants", {}).items():
                try:
                    grants[method] = Scope(scope)
                except ValueError:
                    raise PolicyError(f"role {name!r}, {method}: unknown scope {scope!r}") from None
            if name == PUBLIC:
                if "credential" in table:
                    raise PolicyError(f"role {PUBLIC!r} is everyone's: it takes no credential")
                credential = Credential.TOKEN  # unused: everyone holds it
            else:
                # Required: a role a file leaves open could be taken from a token where only a
                # certificate should prove it.
                try:
                    credential = Credential(str(table.get("credential")))
                except ValueError:
                    raise PolicyError(
                        f"role {name!r}: credential must be 'token' or 'certificate',"
                        f" not {table.get('credential')!r}"
                    ) from None
            roles.append(Role(name, str(table.get("description", "")), grants, credential))
        return cls(roles, methods=methods)

    def held_roles(self, principal: Principal) -> frozenset[str]:
        """The roles of the policy ``principal`` holds besides ``public``: a node those of
        certificates, a person the token roles its token names (a certificate role in a token is
        refused, UNAUTHENTICATED ``TOKEN_CLAIMS``)."""
        credential = _CREDENTIAL_OF.get(principal.kind)
        if credential is Credential.CERTIFICATE:
            return self._by_credential[Credential.CERTIFICATE]
        if credential is Credential.TOKEN:
            claimed = principal.roles & self._by_credential[Credential.CERTIFICATE]
            if claimed:
                raise Unauthenticated(
                    "TOKEN_CLAIMS",
                    f"a token cannot name the role {', '.join(sorted(claimed))}: only a node's certificate"
                    " proves it",
                    metadata={"principal": principal.subject},
                )
            return principal.roles & self._by_credential[Credential.TOKEN]
        return frozenset()

    def authorize(self, principal: Principal, method: str) -> Grant:
        """The broadest grant of ``method`` among the caller's roles whose scope the caller can be held
        to; refused if there is none."""
        held = self.held_roles(principal)
        best: Grant | None = None
        unmet: Grant | None = None
        for name in (PUBLIC, *sorted(held)):
            scope = self.roles[name].grants.get(method)
            if scope is None:
                continue
            if not _can_meet(principal, scope):
                unmet = unmet or Grant(name, scope)
            elif best is None or _BREADTH[scope] > _BREADTH[best.scope]:
                best = Grant(name, scope)
        if best is not None:
            return best
        if unmet is not None:
            raise _unmet(principal, method, unmet)
        if principal.kind == "anonymous":
            raise Unauthenticated(
                "CREDENTIALS_REQUIRED",
                f"{method} needs credentials: a bearer token (people) or a node certificate",
                metadata={"method": method},
            )
        listed = ", ".join(sorted(held)) or "none"
        raise PermissionDenied(
            "ROLE_NOT_ALLOWED",
            f"{principal.subject} (roles: {listed}) may not call {method}",
            metadata={"method": method, "principal": principal.subject},
        )

    def table(self) -> list[tuple[str, str, str]]:
        """(method, role, scope) rows, sorted: the policy as a reader checks it."""
        rows = [(m, role.name, str(s)) for role in self.roles.values() for m, s in role.grants.items()]
        return sorted(rows)


def _can_meet(principal: Principal, scope: Scope) -> bool:
    """Whether ``principal`` has what ``scope`` compares (a scope never passes for want of it)."""
    if scope == Scope.OWN_NODE:
        return principal.kind == "node" and principal.region is not None
    if scope == Scope.OWN_SUBJECTS:
        return principal.kind == "person" and bool(principal.subjects)
    return True


def _unmet(principal: Principal, method: str, grant: Grant) -> PermissionDenied:
    metadata = {"method": method, "principal": principal.subject}
    if grant.scope == Scope.OWN_NODE:
        return PermissionDenied(
            "NOT_YOUR_NODE",
            f"{principal.subject} may call {method} only for a node of its own, and is no node",
            metadata=metadata,
        )
    return PermissionDenied(
        "NOT_YOUR_SUBJECT",
        f"{principal.subject} may call {method} only for subjects it acts for, and its token names none",
        metadata=metadata,
    )
