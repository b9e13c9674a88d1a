"""What a grant's scope means, checked where the resource is known: the one place for these rules.

* ``own_node``: a node acts on what is its own; the node a request names must be the caller's.
* ``own_subjects``: an applicant acts on the registrations of the subjects (USCCs) its token names.
* ``any``: no limit.
"""

from __future__ import annotations

from collections.abc import Iterable

from common.errors import PermissionDenied
from common.security.policy import Grant, Scope
from common.security.tokens import Principal

__all__ = ["all_own", "require_own_node", "require_own_subject", "visible_subjects"]


def require_own_node(principal: Principal, grant: Grant | None, region: str, *, field: str) -> None:
    """Under ``own_node``, ``region`` (named by the request's ``field``) must be the caller's."""
    if grant is None or grant.scope != Scope.OWN_NODE:
        return
    if principal.region != region:
        raise PermissionDenied(
            "NOT_YOUR_NODE",
            f"{principal.subject} may act only for its own node, not for nodes/{region}",
            metadata={"field": field, "node": f"nodes/{region}", "principal": principal.subject},
        )


def require_own_subject(principal: Principal, grant: Grant | None, uscc: str, *, field: str) -> None:
    """Under ``own_subjects``, the subject ``uscc`` must be one the caller acts for."""
    if grant is None or grant.scope != Scope.OWN_SUBJECTS:
        return
    if uscc not in principal.subjects:
        raise PermissionDenied(
            "NOT_YOUR_SUBJECT",
            f"{principal.subject} does not act for the subject {uscc}",
            metadata={"field": field, "principal": principal.subject},
        )


def visible_subjects(principal: Principal, grant: Grant | None) -> frozenset[str] | None:
    """The subjects whose registrations the caller may see; None for all."""
    if grant is not None and grant.scope == Scope.OWN_SUBJECTS:
        return principal.subjects
    return None


def all_own(principal: Principal, grant: Grant | None, regions: Iterable[str]) -> bool:
    """Whether every one of ``regions`` is the caller's own (always, outside ``own_node``)."""
    if grant is None or grant.scope != Scope.OWN_NODE:
        return True
    return all(region == principal.region for region in regions)
