"""The duplicate check of an application at acceptance: where the candidates come from, how they are kept.

The first AcceptApplication of an application asks a :class:`DuplicateSource` (a province: the national
node, ``NationalService.FindDuplicates``; the national node: its
:class:`national_node.duplicates.DuplicateFinder`, in-process) for registrations it may repeat. What it
answered is kept on the application (:class:`DuplicateCheck`, stored as JSON in
``applications.possible_duplicates``) and shown on the ``Application`` message; the clerk accepts an
application with candidates only with ``acknowledge_duplicates``. A source that cannot answer does not
block acceptance: why is kept in ``duplicate_check_error``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from google.protobuf import json_format

from common.gen.registry.v1 import registration_pb2 as r

__all__ = [
    "DuplicateCheck",
    "DuplicateSource",
    "candidate_metadata",
    "candidates_from_json",
    "candidates_json",
    "describe_candidates",
]

#: Candidates named at most in an error message or a history entry (all are on the application), and
#: the characters of a data name shown there: an error travels in the call's trailers, which are small.
NAMED, _SHORT = 5, 40


class DuplicateSource(Protocol):
    """Finds registrations across the country that an application may duplicate (the national node)."""

    def find_duplicates(
        self, content: r.RegistrationContent, *, registration: str, uid: str
    ) -> list[r.DuplicateCandidate]:
        """The candidates for the application's ``content``, best first; ``registration`` and ``uid``
        are its own registration's, left out. Raises when the source cannot be asked."""
        ...


@dataclass(frozen=True, slots=True)
class DuplicateCheck:
    """What the duplicate check of one application found: candidates, or why it could not run."""

    candidates: tuple[r.DuplicateCandidate, ...] = ()
    error: str = ""


def candidates_json(candidates: Sequence[r.DuplicateCandidate]) -> str:
    """Candidates as stored (a JSON list of the messages in their JSON form)."""
    items: list[dict[str, Any]] = [
        json_format.MessageToDict(c, preserving_proto_field_name=True) for c in candidates
    ]
    return json.dumps(items, ensure_ascii=False)


def candidates_from_json(text: str) -> list[r.DuplicateCandidate]:
    """Stored candidates as messages (fields a later version added are ignored)."""
    if not text or text == "[]":
        return []
    return [
        json_format.ParseDict(item, r.DuplicateCandidate(), ignore_unknown_fields=True)
        for item in json.loads(text or "[]")
    ]


def _named(candidate: r.DuplicateCandidate) -> str:
    name = candidate.data_name if len(candidate.data_name) <= _SHORT else candidate.data_name[:_SHORT] + "…"
    return f"{candidate.code or candidate.registration} ({name})"


def describe_candidates(candidates: Sequence[r.DuplicateCandidate]) -> str:
    """``N possible duplicate(s): CODE (data name), ...`` (uncoded ones by registration name), the first
    :data:`NAMED` of them, long data names cut short."""
    shown = ", ".join(_named(c) for c in candidates[:NAMED])
    more = f" and {len(candidates) - NAMED} more" if len(candidates) > NAMED else ""
    plural = "" if len(candidates) == 1 else "s"
    return f"{len(candidates)} possible duplicate{plural}: {shown}{more}"


def candidate_metadata(candidates: Sequence[r.DuplicateCandidate]) -> dict[str, str]:
    """The ErrorInfo metadata of a POSSIBLE_DUPLICATES refusal: how many, their codes (of the coded
    ones) and registration names, comma-separated."""
    return {
        "count": str(len(candidates)),
        "codes": ",".join(c.code for c in candidates if c.code),
        "registrations": ",".join(c.registration for c in candidates),
    }
