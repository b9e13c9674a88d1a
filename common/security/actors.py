"""Who acts, as a registration's history records it, and when two records name the same person.

A history entry names its actor by one string, of one of four kinds:

* a **person**: the verified subject (``sub``) of their bearer token, as the token spells it;
* a **node**: ``nodes/<region>``, only ever from the verified certificate of that node;
* the node **itself**: ``system`` (closing announcements, obtaining codes, expiry);
* the **public**: ``anonymous`` (an objection filed without credentials).

The kinds must never be confused, so a token subject that would read as a node or as one of the two
words (in any spelling that normalises to them) is refused when the token is verified
(:func:`is_reserved`); a person is then always a person in every history.

Rules that compare people, such as separation of duties, compare :func:`identity_key`: the Unicode
NFKC form, case-folded, so that ``Dual.Three``, ``dual.three`` and the full-width ``ｄｕａｌ.three``
are one person. Token subjects with control, format (zero-width) or surrounding space characters are
refused outright (:func:`subject_problem`), so that no two spellings of a subject look alike.
"""

from __future__ import annotations

import unicodedata

__all__ = [
    "ANONYMOUS",
    "SYSTEM",
    "identity_key",
    "is_reserved",
    "node_actor",
    "subject_problem",
]

#: The actor recorded for what a node does by itself.
SYSTEM = "system"
#: The actor recorded for what a caller without credentials does (an objection from the public).
ANONYMOUS = "anonymous"
#: How a node is named as an actor: ``nodes/<region>``.
NODE_ACTOR_PREFIX = "nodes/"

# Characters no subject may hold: controls (Cc), format characters such as the zero-width space and
# joiners or the bidirectional marks (Cf), surrogates (Cs), private use (Co), unassigned (Cn), and the
# line and paragraph separators (Zl, Zp).
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def node_actor(region: str) -> str:
    """The actor a node's history entries name: ``nodes/320000``."""
    return f"{NODE_ACTOR_PREFIX}{region}"


def identity_key(actor: str) -> str:
    """The form in which two actors are compared: NFKC, case-folded, format characters dropped and
    surrounding space removed (the last two only matter for entries written before such subjects
    were refused)."""
    text = unicodedata.normalize("NFKC", actor)
    text = "".join(c for c in text if unicodedata.category(c) not in _FORBIDDEN_CATEGORIES)
    return unicodedata.normalize("NFKC", text.casefold()).strip()


def is_reserved(subject: str) -> bool:
    """Whether ``subject`` would read as a node, the node itself or the public in a history."""
    key = identity_key(subject)
    return key in (SYSTEM, ANONYMOUS) or key.startswith((NODE_ACTOR_PREFIX, "spiffe:"))


def subject_problem(subject: str) -> str | None:
    """Why ``subject`` cannot name a person (None if it can)."""
    if subject != subject.strip():
        return "begins or ends with space"
    bad = next((c for c in subject if unicodedata.category(c) in _FORBIDDEN_CATEGORIES), None)
    if bad is not None:
        return f"holds the invisible or control character U+{ord(bad):04X}"
    if is_reserved(subject):
        return "reads as a node or as the registry itself in the history"
    return None
