"""Offline verification of a c2sp.org/tlog-proof against a log's public key.

This is the module a third party copies, together with the package modules it imports (``merkle``,
``note``, ``checkpoint``, ``cosignature``, ``proof``). It needs Python 3.11+ and the ``cryptography``
package, and does no I/O.

Typical use::

    result = verify_proof(proof_text, ["example.org/log+1a2b3c4d+AU..."], origin="example.org/log",
                          leaf_data=entry_bytes)
    # result.index is the entry's position, result.checkpoint the signed tree head it is in.

The leaf. The log's leaf is the data whose RFC 6962 leaf hash sits at ``index``. Pass it as
``leaf_data`` when you have it (the proof's ``extra`` bytes are then only returned, unauthenticated).
Without ``leaf_data``, the ``extra`` bytes are taken as the leaf data, and are authenticated by the
inclusion proof.

Witnesses. With ``witness_keys`` (cosigner key texts, type 0x04) and ``witnesses_needed``, that many
distinct witnesses must have cosigned the checkpoint. A cosignature by a listed witness's key that
does not verify fails the proof (``WITNESSES``); too few cosignatures, each of which verifies, is
:class:`CosignaturesPending`: the proof is good as far as it goes, and the same confirmation
fetched again a few seconds later carries the missing witnesses' cosignatures too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from common.transparency.errors import TransparencyError

from .checkpoint import Checkpoint, CheckpointError
from .cosignature import CosignatureError, CosignatureVerifier, verify_cosignature
from .merkle import ProofError, leaf_hash, verify_inclusion_hash
from .note import NoteError, Verifier, open_note
from .proof import Proof, ProofFormatError

__all__ = ["CosignaturesPending", "VerificationError", "VerifiedProof", "verify_proof"]


class VerificationError(TransparencyError):
    """A proof failed verification.

    ``reason`` names the failed check: ``KEYS`` (a key text given to :func:`verify_proof` is unusable),
    ``FORMAT``, ``SIGNATURE`` (no valid signature by a log key), ``CHECKPOINT``, ``ORIGIN``, ``INDEX``,
    ``INCLUSION``, ``WITNESSES`` (a witness's cosignature line that does not verify) or
    ``COSIGNATURES_PENDING`` (:class:`CosignaturesPending`). ``message`` (also ``str(error)``) says
    more, for humans.
    """


class CosignaturesPending(VerificationError):
    """Everything verified, but fewer witnesses cosigned than are needed: ``cosigned`` and ``missing``
    name them (key names). The missing cosignatures are pending, not refused: fetch the confirmation
    again in a few seconds."""

    def __init__(self, cosigned: tuple[str, ...], missing: tuple[str, ...], needed: int) -> None:
        self.cosigned, self.missing, self.needed = cosigned, missing, needed
        super().__init__(
            "COSIGNATURES_PENDING",
            f"cosigned by {len(cosigned)} of the {needed} witnesses needed"
            f" ({', '.join(cosigned) or 'none'}); not yet by {', '.join(missing)}."
            " Witnesses cosign a new checkpoint within seconds: fetch the confirmation again",
        )


@dataclass(frozen=True)
class VerifiedProof:
    """What a verified proof established.

    ``index`` and ``leaf_hash`` locate the entry in the tree of ``checkpoint``; ``log_key`` is the
    name of the log key that signed it; ``witnesses`` lists ``(witness name, cosignature timestamp)``
    for each listed witness whose cosignature verified; ``extra`` is the proof's extra data.
    """

    index: int
    leaf_hash: bytes
    checkpoint: Checkpoint
    log_key: str
    extra: bytes
    witnesses: tuple[tuple[str, int], ...]


def verify_proof(
    text: str | bytes,
    log_keys: Sequence[str],
    *,
    origin: str | None = None,
    witness_keys: Sequence[str] = (),
    witnesses_needed: int = 0,
    leaf_data: bytes | None = None,
) -> VerifiedProof:
    """Verify a tlog-proof; raise :class:`VerificationError` unless every check passes.

    In order: the proof's format; the checkpoint note's signature by one of ``log_keys`` (verifier key
    texts, type 0x01); the checkpoint body, and its origin when ``origin`` is given; that the index is
    inside the tree; the inclusion of the leaf (``leaf_data``, else the ``extra`` bytes) under the
    checkpoint's root; and, when ``witnesses_needed`` > 0 or ``witness_keys`` are given, the witnesses'
    cosignatures.
    """
    try:
        log_verifiers = [Verifier.from_key(key) for key in log_keys]
        witness_verifiers = [CosignatureVerifier.from_key(key) for key in witness_keys]
    except NoteError as error:
        raise VerificationError("KEYS", f"unusable key: {error}") from None
    if not log_verifiers:
        raise VerificationError("KEYS", "no log key given")
    if not 0 <= witnesses_needed <= len(witness_verifiers):
        known = len(witness_verifiers)
        raise VerificationError("KEYS", f"{witnesses_needed} witnesses needed, {known} witness keys given")

    # 1. Format.
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        proof = Proof.parse(text)
    except (UnicodeDecodeError, ProofFormatError) as error:
        raise VerificationError("FORMAT", f"not a tlog-proof: {error}") from None

    # 2. The log's signature on the checkpoint note (other signatures are kept, unverified).
    try:
        note = open_note(proof.checkpoint_note, log_verifiers)
    except NoteError as error:
        raise VerificationError("SIGNATURE", f"checkpoint signature: {error}") from None

    # 3. The checkpoint it signs, from the expected log.
    try:
        checkpoint = Checkpoint.parse(note.text)
    except CheckpointError as error:
        raise VerificationError("CHECKPOINT", f"not a checkpoint: {error}") from None
    if origin is not None and checkpoint.origin != origin:
        raise VerificationError("ORIGIN", f"checkpoint of {checkpoint.origin!r}, not of {origin!r}")

    # 4. The index.
    if proof.index >= checkpoint.size:
        raise VerificationError("INDEX", f"index {proof.index} is not in a tree of {checkpoint.size} leaves")

    # 5 and 6. The leaf, and its inclusion under the checkpoint's root.
    leaf = leaf_hash(proof.extra if leaf_data is None else leaf_data)
    try:
        verify_inclusion_hash(leaf, proof.index, checkpoint.size, proof.hashes, checkpoint.root_hash)
    except ProofError as error:
        raise VerificationError("INCLUSION", f"inclusion proof: {error}") from None

    # 7. The witnesses' cosignatures, among the signatures the log keys did not account for: one by a
    #    listed witness's key must verify; a missing one is pending.
    witnesses: dict[str, int] = {}
    for verifier in witness_verifiers:
        for signature in note.unknown:
            if (signature.name, signature.key_id) != (verifier.name, verifier.key_id):
                continue
            try:
                witnesses[verifier.name] = verify_cosignature(note.text, signature, verifier)
            except CosignatureError as error:
                raise VerificationError("WITNESSES", f"cosignature: {error}") from None
    if len(witnesses) < witnesses_needed:
        missing = tuple(sorted({v.name for v in witness_verifiers} - set(witnesses)))
        raise CosignaturesPending(tuple(witnesses), missing, witnesses_needed)

    return VerifiedProof(
        index=proof.index,
        leaf_hash=leaf,
        checkpoint=checkpoint,
        log_key=note.verified[0].name,
        extra=proof.extra,
        witnesses=tuple(witnesses.items()),
    )
