"""What a grant's scope means, checked where the resource is known: the one place for these rules.

* ``own_node``: a node acts on what is its own; the node a request names must be the caller's.
* ``own_subjects``: an applicant acts on the registrations of the subjects (USCCs) its token names.
* ``any``: no limit.

Each check fails closed: a caller that lacks what its scope compares (a region, subjects) is refused,
never let through as if no limit applied. :meth:`common.security.policy.Policy.authorize` already
refuses such a grant; these checks do not rely on it.
"""

from __future__ import annotations

from collections.abc import Iterable

from common.errors import PermissionDenied
from common.security.policy import Grant, Scope
from common.security.tokens import Principal

__all__ = ["all_own", "own_region", "require_own_node", "require_own_subject", "visible_subjects"]


def _no_region(principal: Principal, field: str | None) -> PermissionDenied:
    metadata = {"principal": principal.subject}
    if field is not None:
        metadata["field"] = field
    return PermissionDenied(
        "NOT_YOUR_NODE", f"{principal.subject} is no node: it may not act as one", metadata=metadata
    )


def own_region(principal: Principal, grant: Grant | None) -> str | None:
    """The region a call under ``own_node`` is limited to (None for no limit); refused when the
    caller has no region to be limited to."""
    if grant is None or grant.scope != Scope.OWN_NODE:
        return None
    if principal.kind != "node" or principal.region is None:
        raise _no_region(principal, None)
    return principal.region


def require_own_node(principal: Principal, grant: Grant | None, region: str, *, field: str) -> None:
    """Under ``own_node``, ``region`` (named by the request's ``field``) must be the caller's."""
    if grant is None or grant.scope != Scope.OWN_NODE:
        return
    if principal.kind != "node" or principal.region is None:
        raise _no_region(principal, field)
    if principal.region != region:
        raise PermissionDenied(
            "NOT_YOUR_NODE",
            f"{principal.subject} may act only for its own node, not for nodes/{region}",
            metadata={"field": field, "node": f"nodes/{region}", "principal": principal.subject},
        )


def _no_subjects(principal: Principal, field: str) -> PermissionDenied:
    return PermissionDenied(
        "NOT_YOUR_SUBJECT",
        f"{principal.subject} acts for no subject (its token names none)",
        metadata={"field": field, "principal": principal.subject},
    )


def require_own_subject(principal: Principal, grant: Grant | None, uscc: str, *, field: str) -> None:
    """Under ``own_subjects``, the subject ``uscc`` must be one the caller acts for."""
    if grant is None or grant.scope != Scope.OWN_SUBJECTS:
        return
    if not principal.subjects:
        raise _no_subjects(principal, field)
    if uscc not in principal.subjects:
        raise PermissionDenied(
            "NOT_YOUR_SUBJECT",
            f"{principal.subject} does not act for the subject {uscc}",
            metadata={"field": field, "principal": principal.subject},
        )


def visible_subjects(principal: Principal, grant: Grant | None) -> frozenset[str] | None:
    """The subjects whose registrations the caller may see; None for all; refused under
    ``own_subjects`` for a caller that acts for no subject."""
    if grant is not None and grant.scope == Scope.OWN_SUBJECTS:
        if not principal.subjects:
            raise _no_subjects(principal, "parent")
        return principal.subjects
    return None


def all_own(principal: Principal, grant: Grant | None, regions: Iterable[str]) -> bool:
    """Whether every one of ``regions`` is the caller's own (always, outside ``own_node``; never for a
    caller that is no node)."""
    if grant is None or grant.scope != Scope.OWN_NODE:
        return True
    if principal.kind != "node" or principal.region is None:
        return False
    return all(region == principal.region for region in regions)
