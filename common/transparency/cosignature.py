"""Timestamped Ed25519 witness cosignatures (c2sp.org/tlog-cosignature, ``cosignature/v1``).

A witness that has checked a log's checkpoint is consistent with everything it saw before adds a
note signature line of its own to the checkpoint. Its signature bytes are the 8-byte big-endian
POSIX ``timestamp`` followed by an Ed25519 signature of::

    cosignature/v1
    time <timestamp in decimal>
    <the whole checkpoint body, extension lines included>

Cosigner keys use signature type 0x04, so their key IDs are
``SHA-256(name || 0x0A || 0x04 || public key)[:4]`` and their key texts carry the type byte 0x04:
``<name>+<hex key ID>+<base64(0x04 || public key)>`` to verify, and
``PRIVATE+KEY+<name>+<hex key ID>+<base64(0x04 || seed)>`` to sign. A log's 0x01 key text is not
accepted as a cosigner key, nor the reverse, and the Ed25519 message does not commit to the cosigner's
name, so one public key must never serve two cosigners.
"""

from __future__ import annotations

from typing import ClassVar

from common.transparency.errors import TransparencyError

from .checkpoint import Checkpoint, CheckpointError
from .note import BaseSigner, BaseVerifier, NoteError, NoteSignature, parse_signature_line

__all__ = [
    "MAX_TIMESTAMP",
    "SIGNATURE_TYPE_COSIGNATURE_V1",
    "CosignatureError",
    "CosignatureSigner",
    "CosignatureVerifier",
    "cosign",
    "cosignature_timestamp",
    "cosigned_message",
    "verify_cosignature",
]

#: Signature type byte of timestamped Ed25519 cosignatures.
SIGNATURE_TYPE_COSIGNATURE_V1 = 0x04

#: The largest timestamp the format allows (2**63 - 1).
MAX_TIMESTAMP = 2**63 - 1

_TIMESTAMP_SIZE = 8
_ED25519_SIGNATURE_SIZE = 64


class CosignatureError(TransparencyError):
    """A cosignature was refused, or could not be made.

    ``reason`` is ``CHECKPOINT`` (the signed body is not a checkpoint), ``TIMESTAMP``, ``MALFORMED``
    (the signature line or its size), ``WRONG_KEY`` (the line names another key) or
    ``BAD_SIGNATURE``; ``message`` (also ``str(error)``) is for humans.
    """


def _check_timestamp(timestamp: int) -> None:
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise CosignatureError("TIMESTAMP", f"timestamp {timestamp} is not in [0, 2**63 - 1]")


def cosigned_message(checkpoint_body: str, timestamp: int) -> bytes:
    """The bytes a cosigner signs for ``checkpoint_body`` at ``timestamp``."""
    _check_timestamp(timestamp)
    try:
        Checkpoint.parse(checkpoint_body)
    except CheckpointError as error:
        raise CosignatureError("CHECKPOINT", f"only checkpoints are cosigned: {error}") from None
    return f"cosignature/v1\ntime {timestamp}\n{checkpoint_body}".encode()


def cosignature_timestamp(signature: bytes) -> int:
    """The timestamp inside cosignature bytes (the part of a signature after the key ID), unverified."""
    if len(signature) != _TIMESTAMP_SIZE + _ED25519_SIGNATURE_SIZE:
        raise CosignatureError("MALFORMED", f"a cosignature has 72 bytes, not {len(signature)}")
    return int.from_bytes(signature[:_TIMESTAMP_SIZE], "big")


class CosignatureSigner(BaseSigner):
    """A witness's signing key for ``cosignature/v1`` (type 0x04)."""

    signature_type: ClassVar[int] = SIGNATURE_TYPE_COSIGNATURE_V1

    def sign(self, checkpoint_body: str, timestamp: int) -> bytes:
        """The cosignature bytes (timestamp || Ed25519 signature) of ``checkpoint_body``."""
        message = cosigned_message(checkpoint_body, timestamp)
        return timestamp.to_bytes(_TIMESTAMP_SIZE, "big") + self._private_key.sign(message)

    def verifier(self) -> CosignatureVerifier:
        """The matching :class:`CosignatureVerifier`."""
        return CosignatureVerifier(self.name, self.public_key)


class CosignatureVerifier(BaseVerifier):
    """A witness's public key for ``cosignature/v1`` (type 0x04); also usable with ``open_note``."""

    signature_type: ClassVar[int] = SIGNATURE_TYPE_COSIGNATURE_V1

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` cosigns the checkpoint body ``message`` (the note's text)."""
        try:
            timestamp = cosignature_timestamp(signature)
            signed = cosigned_message(message.decode("utf-8"), timestamp)
        except (CosignatureError, UnicodeDecodeError):
            return False
        return self._ed25519_verify(signed, signature[_TIMESTAMP_SIZE:])


def cosign(checkpoint_body: str, signer: CosignatureSigner, timestamp: int) -> str:
    """The signature line (``— <name> <base64>``, ending in a newline) cosigning ``checkpoint_body``."""
    return NoteSignature(signer.name, signer.key_id, signer.sign(checkpoint_body, timestamp)).line()


def verify_cosignature(
    checkpoint_body: str, signature: NoteSignature | str, verifier: CosignatureVerifier
) -> int:
    """Check one cosignature (a :class:`NoteSignature` or a signature line) and return its timestamp."""
    if isinstance(signature, str):
        try:
            signature = parse_signature_line(signature)
        except NoteError as error:
            raise CosignatureError("MALFORMED", str(error)) from None
    if (signature.name, signature.key_id) != (verifier.name, verifier.key_id):
        raise CosignatureError("WRONG_KEY", f"the signature is by {signature.name!r}, not {verifier.name!r}")
    cosigned_message(checkpoint_body, cosignature_timestamp(signature.signature))  # format and range
    if not verifier.verify(checkpoint_body.encode("utf-8"), signature.signature):
        raise CosignatureError("BAD_SIGNATURE", f"the cosignature by {verifier.name!r} does not verify")
    return cosignature_timestamp(signature.signature)
