"""The values the procedure works on, free of the wire format.

The registered materials travel as :class:`Materials`: their canonical JSON (RFC 8785, the bytes whose
SHA-256 a confirmation carries; see :mod:`common.registration.content`) together with the few facts
the procedure itself looks at (the subject, the data name, the start and end of an operation term).
"""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from common import uscc

__all__ = [
    "Defect",
    "DocumentRef",
    "DueItem",
    "DueKind",
    "Materials",
    "ObjectionFiling",
    "Target",
    "content_sha256",
]


def content_sha256(canonical: str) -> str:
    """What a confirmation carries: the SHA-256 of the canonical content's UTF-8, in hexadecimal."""
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Materials:
    """Validated registration content, as stored: canonical JSON plus what the procedure reads."""

    canonical: str
    subject: uscc.USCC
    central: bool
    data_name: str
    term_end: date | None
    #: The operation term's start: when authorised operation starts (products and services only).
    term_start: date | None = None
    #: Where in the request the materials came from, for errors (``registration.content``).
    field: str = "content"

    @classmethod
    def from_canonical(cls, canonical: str) -> Materials:
        """The materials of stored canonical JSON (validated when they were stored)."""
        data: dict[str, Any] = json.loads(canonical)
        subject = data["subject"]
        term = data.get("operation_term", {})
        start, end = term.get("start"), term.get("end")
        return cls(
            canonical=canonical,
            subject=uscc.parse(subject["uscc"]),
            central=bool(subject.get("central", False)),
            data_name=str(data["data_name"]).strip(),
            term_end=date(end["year"], end["month"], end["day"]) if end else None,
            term_start=date(start["year"], start["month"], start["day"]) if start else None,
        )


@dataclass(frozen=True, slots=True)
class Target:
    """What a transition acts on: a registration (by local id) and, when the caller named one, the
    application it expects to be current; ``etag`` makes the transition conditional."""

    registration: str
    application: str | None = None
    etag: str = ""


@dataclass(frozen=True, slots=True)
class Defect:
    """A defect listed in a one-time notice (一次性告知) or a request for correction."""

    field: str
    description: str


@dataclass(frozen=True, slots=True)
class DocumentRef:
    """A document by reference: title, where it is, the SHA-256 of its bytes."""

    title: str
    uri: str
    sha256: str


@dataclass(frozen=True, slots=True)
class ObjectionFiling:
    """An objection as filed: who, why, and the evidence."""

    objector: str
    reason: str
    evidence: tuple[DocumentRef, ...] = ()


class DueKind(enum.StrEnum):
    """What the registry owes, or the subject (INITIAL_REGISTRATION); the values are
    ``registry.v1.DueItem.Kind`` names."""

    ACCEPTANCE = "ACCEPTANCE"
    REVIEW = "REVIEW"
    ANNOUNCEMENT = "ANNOUNCEMENT"
    OBJECTION = "OBJECTION"
    EXPIRY = "EXPIRY"
    CODING = "CODING"
    INITIAL_REGISTRATION = "INITIAL_REGISTRATION"
    DEMAND = "DEMAND"
    SHARE_REPLY = "SHARE_REPLY"
    SHARE_DELIVERY = "SHARE_DELIVERY"
    PRODUCT_REGISTRATION = "PRODUCT_REGISTRATION"


@dataclass(frozen=True, slots=True)
class DueItem:
    """Something the registry (or the subject) must do by a date; ``provisional``: the date is."""

    registration: str
    kind: DueKind
    due: date | None
    overdue: bool
    provisional: bool
    data_name: str
    #: The demand (``demands/{id}``), the share request (``shareRequests/{id}``) or the disclosure
    #: (``disclosures/...``) the item is for.
    concerns: str = ""
    #: PRODUCT_REGISTRATION: the operating entity that owes it.
    subject_uscc: str = ""

    def sort_key(self) -> tuple[bool, int, int, int, str, int, str, str]:
        """Overdue first, then by date (undated last), registration, kind, what it concerns and the
        data name (several products of one disclosure)."""
        day = self.due or date(9999, 12, 31)
        return (
            not self.overdue,
            day.year,
            day.month,
            day.day,
            self.registration,
            _KIND_ORDER[self.kind],
            self.concerns,
            self.data_name,
        )


_KIND_ORDER = {kind: number for number, kind in enumerate(DueKind, start=1)}
