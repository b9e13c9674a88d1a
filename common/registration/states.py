"""The states of the procedure, and which transitions they allow.

The values are the names of the contract's enums (``registry.v1.Registration.State`` and so on), so
that a state stored in the database, sent over gRPC or shown to an operator is spelt one way.
"""

from __future__ import annotations

import enum

__all__ = [
    "AWAITING_REGISTRY",
    "AWAITING_SUBJECT",
    "FINAL",
    "OBJECTION_WINDOW",
    "WITHDRAWABLE",
    "ApplicationState",
    "ApplicationType",
    "ObjectionOutcome",
    "ObjectionState",
    "RegistrationState",
]


class RegistrationState(enum.StrEnum):
    """The lifecycle of a registration record."""

    PENDING = "PENDING"
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"
    DEREGISTERED = "DEREGISTERED"
    CLOSED = "CLOSED"


class ApplicationType(enum.StrEnum):
    """The four registration types (登记类型)."""

    INITIAL = "INITIAL"
    CHANGE = "CHANGE"
    CORRECTION = "CORRECTION"
    DEREGISTRATION = "DEREGISTRATION"


class ApplicationState(enum.StrEnum):
    """The step an application has reached."""

    SUBMITTED = "SUBMITTED"
    RETURNED = "RETURNED"
    NOT_ACCEPTED = "NOT_ACCEPTED"
    UNDER_REVIEW = "UNDER_REVIEW"
    CORRECTION_REQUESTED = "CORRECTION_REQUESTED"
    REJECTED = "REJECTED"
    APPROVED = "APPROVED"
    ANNOUNCED = "ANNOUNCED"
    OBJECTIONS_PENDING = "OBJECTIONS_PENDING"
    AWAITING_CODE = "AWAITING_CODE"
    COMPLETED = "COMPLETED"
    TERMINATED = "TERMINATED"
    WITHDRAWN = "WITHDRAWN"


class ObjectionState(enum.StrEnum):
    PENDING = "PENDING"
    UPHELD = "UPHELD"
    DISMISSED = "DISMISSED"
    CLOSED = "CLOSED"


class ObjectionOutcome(enum.StrEnum):
    UNSPECIFIED = "OUTCOME_UNSPECIFIED"
    DISMISS = "DISMISS"
    UPHOLD_TERMINATE = "UPHOLD_TERMINATE"
    UPHOLD_RETURN = "UPHOLD_RETURN"


A = ApplicationState

#: Application states in which the application is finished.
FINAL = frozenset({A.NOT_ACCEPTED, A.REJECTED, A.COMPLETED, A.TERMINATED, A.WITHDRAWN})
#: Application states from which the subject may still withdraw.
WITHDRAWABLE = frozenset(
    {
        A.SUBMITTED,
        A.RETURNED,
        A.UNDER_REVIEW,
        A.CORRECTION_REQUESTED,
        A.APPROVED,
        A.ANNOUNCED,
        A.OBJECTIONS_PENDING,
    }
)
#: Application states in which the registry owes the next step (listed as due items).
AWAITING_REGISTRY = frozenset({A.SUBMITTED, A.UNDER_REVIEW, A.APPROVED, A.AWAITING_CODE})
#: Application states in which the subject owes the next step (a corrected application).
AWAITING_SUBJECT = frozenset({A.RETURNED, A.CORRECTION_REQUESTED})
#: Application states in which objections filed during the announcement are still to be decided.
OBJECTION_WINDOW = frozenset({A.ANNOUNCED, A.OBJECTIONS_PENDING})
