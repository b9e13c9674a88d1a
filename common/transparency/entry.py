"""The national log's entries, and the offline check of a confirmation file.

An entry is one JSON object serialised with the JSON Canonicalization Scheme (RFC 8785) and encoded in
UTF-8 (the layout of each kind is documented in ``proto/registry/v1/log_service.proto``); entries hold
only objects with ASCII keys, strings, integers and booleans, which :mod:`.jcs` canonicalises.

A confirmation file (登记结果确认单) is a C2SP tlog-proof whose ``extra`` data is a ``registration``
entry; :func:`verify_confirmation` checks it with the log's public key alone: the proof (signature,
inclusion of the entry), that the entry is canonical and a registration entry, and, when given, that the
registered content hashes to the entry's ``content_sha256``. Like :mod:`.verify`, this module does no
I/O and needs only the standard library and ``cryptography``: a third party can copy it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from common.transparency.errors import TransparencyError

from . import jcs
from .note import NoteError, Verifier, open_note
from .verify import VerificationError, VerifiedProof, verify_proof

__all__ = [
    "CODE_ASSIGNMENT",
    "CODE_LEASE",
    "CODE_LEASE_HEADER",
    "CODE_LEASE_REVOCATION",
    "CODE_LEASE_SETTLEMENT",
    "DISCLOSURE",
    "COSIGNATURE_WAIT",
    "ENTRY_VERSION",
    "ORIGIN",
    "REGISTRATION",
    "WITNESS_KEY_PREFIX",
    "EntryError",
    "VerifiedConfirmation",
    "canonical",
    "lease_note_text",
    "open_lease",
    "parse_entry",
    "verify_confirmation",
]

#: The national log's origin line, also the name of its key.
ORIGIN = "registry.data.gov.cn/national-ledger"
#: A witness's cosignature key is named this prefix and the witness's region (e.g. ``.../320000``).
WITNESS_KEY_PREFIX = "registry.data.gov.cn/witnesses/"
#: Seconds the national log waits, at most, for its witnesses' cosignatures before it serves a proof
#: without a tree size (``LogService.GetInclusionProof``): a client's deadline allows for it.
COSIGNATURE_WAIT = 5.0
#: The entry layout's version (``"v"``).
ENTRY_VERSION = 1
CODE_ASSIGNMENT = "code_assignment"
REGISTRATION = "registration"
DISCLOSURE = "disclosure"
CODE_LEASE = "code_lease"
CODE_LEASE_REVOCATION = "code_lease_revocation"
CODE_LEASE_SETTLEMENT = "code_lease_settlement"
#: The first line of a signed code lease's note: a lease cannot be read as a checkpoint, nor a
#: checkpoint as a lease, though the log's key signs both.
CODE_LEASE_HEADER = "registry.data.gov.cn/code-lease"

#: The fields each kind must have (beyond ``v``, ``kind`` and ``time``).
_REQUIRED = {
    CODE_ASSIGNMENT: ("code", "issuer", "object_type", "year", "serial", "registration", "requested_by"),
    REGISTRATION: ("uid", "registration", "managing_node", "revision", "state", "record_sha256"),
    DISCLOSURE: ("disclosure", "version", "year", "role", "uscc", "content_sha256"),
    CODE_LEASE: (
        "code_lease",
        "node",
        "issuer",
        "object_type",
        "year",
        "first_serial",
        "last_serial",
        "valid_from",
        "valid_until",
        "offline_after_seconds",
    ),
    CODE_LEASE_REVOCATION: ("code_lease", "reason", "after_sequence"),
    CODE_LEASE_SETTLEMENT: ("code_lease", "used", "unused"),
}


class EntryError(TransparencyError):
    """An entry is not one the log writes: ``reason`` ``JSON``, ``NOT_CANONICAL``, ``VALUE``, ``KIND``
    or ``FIELDS``."""


def canonical(entry: Mapping[str, Any], *, checked: bool = True) -> bytes:
    """The RFC 8785 bytes of an entry (see :mod:`.jcs`)."""
    try:
        return jcs.canonical(dict(entry), checked=checked)
    except jcs.CanonicalError as error:
        raise EntryError("VALUE", f"entry: {error.message}") from None


def parse_entry(data: bytes) -> dict[str, Any]:
    """The entry ``data`` holds, after checking it is canonical, of a known kind, with its fields."""
    try:
        entry = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise EntryError("JSON", "the entry is not UTF-8 JSON") from None
    if not isinstance(entry, dict):
        raise EntryError("JSON", "the entry is not a JSON object")
    if canonical(entry) != data:
        raise EntryError("NOT_CANONICAL", "the entry is not in its RFC 8785 canonical form")
    kind = entry.get("kind")
    if entry.get("v") != ENTRY_VERSION or kind not in _REQUIRED:
        raise EntryError("KIND", f"not an entry of version {ENTRY_VERSION} of a known kind")
    missing = [f for f in ("time", *_REQUIRED[kind]) if f not in entry]
    if missing:
        raise EntryError("FIELDS", f"the {kind} entry lacks {', '.join(missing)}")
    return entry


def lease_note_text(entry: bytes) -> str:
    """The text of a code lease's signed note: :data:`CODE_LEASE_HEADER`, then the ``code_lease``
    entry (one line of canonical JSON)."""
    return f"{CODE_LEASE_HEADER}\n{entry.decode('utf-8')}\n"


def open_lease(note: str, log_keys: Sequence[str]) -> dict[str, Any]:
    """The ``code_lease`` entry of a signed lease, after checking the log's signature (one of
    ``log_keys``, verifier keys); :class:`VerificationError` otherwise."""
    try:
        opened = open_note(note, [Verifier.from_key(k) for k in log_keys])
    except NoteError as error:
        raise VerificationError("SIGNATURE", f"the lease: {error.message}") from None
    header, _, rest = opened.text.partition("\n")
    if header != CODE_LEASE_HEADER or not rest.endswith("\n") or "\n" in rest[:-1]:
        raise VerificationError("ENTRY", "the note is not a code lease")
    try:
        entry = parse_entry(rest[:-1].encode("utf-8"))
    except EntryError as error:
        raise VerificationError("ENTRY", f"the lease: {error.message}") from None
    if entry["kind"] != CODE_LEASE:
        raise VerificationError("ENTRY", f"the note holds a {entry['kind']} entry, not a code lease")
    return entry


@dataclass(frozen=True)
class VerifiedConfirmation:
    """A confirmation that verified: the registration entry, where it is in the log, who vouches."""

    entry: dict[str, Any]
    proof: VerifiedProof

    @property
    def code(self) -> str:
        return str(self.entry.get("code", ""))


def verify_confirmation(
    text: str | bytes,
    log_keys: Sequence[str],
    *,
    witness_keys: Sequence[str] = (),
    witnesses_needed: int = 0,
    content: bytes | None = None,
) -> VerifiedConfirmation:
    """Check a confirmation file offline; :class:`VerificationError` with the failed check otherwise.

    ``log_keys`` are the log's verifier keys (every key it used: keys roll over). ``content``, when
    given, is the registered content in its canonical form (Confirmation.content_sha256 in the
    contract says how it is made); it must hash to the entry's ``content_sha256``.
    """
    proof = verify_proof(
        text, log_keys, origin=ORIGIN, witness_keys=witness_keys, witnesses_needed=witnesses_needed
    )
    try:
        entry = parse_entry(proof.extra)
    except EntryError as error:
        raise VerificationError("ENTRY", f"the confirmed entry: {error.message}") from None
    if entry["kind"] != REGISTRATION:
        raise VerificationError("ENTRY", f"the entry is a {entry['kind']} entry, not a registration")
    if content is not None:
        digest = hashlib.sha256(content).hexdigest()
        if digest != entry.get("content_sha256"):
            raise VerificationError(
                "CONTENT",
                f"the content hashes to {digest}, the confirmation says {entry.get('content_sha256')}",
            )
    return VerifiedConfirmation(entry=entry, proof=proof)
