"""C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys.

A signed note is a UTF-8 text ending in a newline, a blank line, then one or more signature lines
``— <key name> <base64(4-byte key ID || signature)>``. The text may hold no ASCII control character
but newline; key names are non-empty and hold no Unicode space and no ``+``.

Keys are written as in golang.org/x/mod/sumdb/note:

* verifier key: ``<name>+<8 hex digits key ID>+<base64(type byte || 32-byte public key)>``
* signer key:   ``PRIVATE+KEY+<name>+<8 hex digits key ID>+<base64(type byte || 32-byte seed)>``

The key ID is ``SHA-256(name || 0x0A || type byte || public key)[:4]``. This module implements
signature type 0x01 (plain Ed25519 over the note text); :mod:`.cosignature` adds type 0x04 on the
same machinery.

:func:`open_note` follows the spec's rules for verifiers: a signature whose (name, key ID) matches no
given verifier is ignored but kept in the result; one that matches must verify, or the whole note is
rejected; at least one must verify.

Base64 is the standard alphabet with padding, decoded strictly: an encoding that is not the
canonical one for its bytes is rejected, so a note has a single spelling.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol, Self

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from common.transparency.errors import TransparencyError

__all__ = [
    "MAX_SIGNATURES",
    "SIGNATURE_TYPE_ED25519",
    "BaseSigner",
    "BaseVerifier",
    "NoteError",
    "NoteSignature",
    "NoteSigner",
    "NoteVerifier",
    "OpenedNote",
    "Signer",
    "VerifiedSignature",
    "Verifier",
    "append_signatures",
    "decode_base64",
    "encode_base64",
    "is_valid_key_name",
    "key_id",
    "open_note",
    "parse_signature_line",
    "sign_note",
    "split_note",
]

#: Signature type byte of plain Ed25519 note signatures.
SIGNATURE_TYPE_ED25519 = 0x01

#: Notes with more signature lines than this are rejected (the spec asks for at least 16).
MAX_SIGNATURES = 100

_DASH = "\u2014 "  # em dash, space: how every signature line starts
_KEY_ID_SIZE = 4
_ED25519_KEY_SIZE = 32


class NoteError(TransparencyError):
    """A note, a key or a signature was refused.

    ``reason`` is a short machine code: ``MALFORMED`` (the note breaks the format),
    ``TOO_MANY_SIGNATURES``, ``NO_VERIFIED_SIGNATURE`` (no signature by a given key),
    ``BAD_SIGNATURE`` (a signature by a given key does not verify), ``AMBIGUOUS_KEY`` (two given
    verifiers share a name and key ID), ``NO_SIGNERS``, ``BAD_KEY`` (a key text is malformed),
    ``UNKNOWN_KEY_TYPE`` or ``KEY_ID_MISMATCH``. ``message`` (also ``str(error)``) is for humans.
    """


# --- Encodings -----------------------------------------------------------------------------------


def encode_base64(data: bytes) -> str:
    """Standard, padded base64 (RFC 4648 §4)."""
    return base64.b64encode(data).decode("ascii")


def decode_base64(text: str) -> bytes | None:
    """The bytes of canonical standard base64 ``text``, or None if it is not exactly that."""
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        return None
    return data if encode_base64(data) == text else None


def is_valid_key_name(name: str) -> bool:
    """Whether ``name`` can name a key: non-empty, no Unicode space, no ``+``, no control character."""
    return bool(name) and not any(c.isspace() or c == "+" or c < " " for c in name)


def key_id(name: str, signature_type: int, public_key: bytes) -> bytes:
    """The 4-byte key ID: ``SHA-256(name || 0x0A || signature type || public key)[:4]``."""
    material = name.encode("utf-8") + b"\n" + bytes([signature_type]) + public_key
    return hashlib.sha256(material).digest()[:_KEY_ID_SIZE]


def _check_text_chars(text: str, what: str) -> bytes:
    """The UTF-8 encoding of ``text``, refusing invalid UTF-8 and control characters but newline."""
    try:
        encoded = text.encode("utf-8")
    except UnicodeEncodeError:
        raise NoteError("MALFORMED", f"the {what} is not valid UTF-8") from None
    if any(c < " " and c != "\n" for c in text):
        raise NoteError("MALFORMED", f"the {what} holds a control character")
    return encoded


# --- Keys ----------------------------------------------------------------------------------------


def _parse_key_text(text: str, prefix: str, signature_type: int) -> tuple[str, bytes, bytes]:
    """Split ``<prefix><name>+<hex key ID>+<base64(type || key)>`` into name, key ID and key bytes."""
    if not text.startswith(prefix):
        raise NoteError("BAD_KEY", f"a key text must start with {prefix!r}" if prefix else "empty key text")
    parts = text[len(prefix) :].split("+", 2)  # the base64 key itself may hold "+"
    if len(parts) != 3:
        raise NoteError("BAD_KEY", "a key text has the form <name>+<key ID>+<key>")
    name, hex_id, encoded = parts
    if not is_valid_key_name(name):
        raise NoteError("BAD_KEY", f"{name!r} is not a valid key name")
    if len(hex_id) != 2 * _KEY_ID_SIZE or any(c not in "0123456789abcdefABCDEF" for c in hex_id):
        raise NoteError("BAD_KEY", "the key ID must be 8 hexadecimal digits")
    raw = decode_base64(encoded)
    if raw is None or not raw:
        raise NoteError("BAD_KEY", "the key is not canonical base64")
    if raw[0] != signature_type:
        raise NoteError("UNKNOWN_KEY_TYPE", f"key type 0x{raw[0]:02x}, not 0x{signature_type:02x}")
    if len(raw) != 1 + _ED25519_KEY_SIZE:
        raise NoteError("BAD_KEY", f"an Ed25519 key has {_ED25519_KEY_SIZE} bytes, not {len(raw) - 1}")
    return name, bytes.fromhex(hex_id), raw[1:]


class _NamedKey:
    """What a signer and a verifier share: a key name, its Ed25519 public key and their key ID."""

    signature_type: ClassVar[int] = SIGNATURE_TYPE_ED25519

    def __init__(self, name: str, public_key: bytes) -> None:
        if not is_valid_key_name(name):
            raise NoteError("BAD_KEY", f"{name!r} is not a valid key name")
        self._name = name
        self._public_key = public_key
        self._key_id = key_id(name, self.signature_type, public_key)

    @classmethod
    def _checked(cls, made: Self, stated_id: bytes) -> Self:
        if made.key_id != stated_id:
            raise NoteError("KEY_ID_MISMATCH", "the key ID does not match the key")
        return made

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_id(self) -> bytes:
        """The 4-byte key ID."""
        return self._key_id

    @property
    def public_key(self) -> bytes:
        """The 32-byte Ed25519 public key."""
        return self._public_key

    def verifier_key(self) -> str:
        """The public verifier key text: ``<name>+<hex key ID>+<base64(type || public key)>``."""
        encoded = encode_base64(bytes([self.signature_type]) + self._public_key)
        return f"{self._name}+{self._key_id.hex()}+{encoded}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._name!r}, key_id={self._key_id.hex()})"


class BaseSigner(_NamedKey):
    """An Ed25519 signing key with a name, for one signature type (the subclass's ``signature_type``)."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        super().__init__(name, private_key.public_key().public_bytes_raw())
        self._private_key = private_key

    @classmethod
    def generate(cls, name: str) -> Self:
        """A new random key named ``name``."""
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> Self:
        """The key named ``name`` with the 32-byte Ed25519 ``seed``."""
        if len(seed) != _ED25519_KEY_SIZE:
            raise NoteError("BAD_KEY", f"an Ed25519 seed has {_ED25519_KEY_SIZE} bytes, not {len(seed)}")
        return cls(name, Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def from_key(cls, text: str) -> Self:
        """Parse ``PRIVATE+KEY+<name>+<hex key ID>+<base64(type || seed)>``, checking the key ID."""
        name, stated_id, seed = _parse_key_text(text, "PRIVATE+KEY+", cls.signature_type)
        return cls._checked(cls.from_seed(name, seed), stated_id)

    def private_key_text(self) -> str:
        """The secret key text :meth:`from_key` reads back. Keep it secret."""
        seed = self._private_key.private_bytes_raw()
        encoded = encode_base64(bytes([self.signature_type]) + seed)
        return f"PRIVATE+KEY+{self._name}+{self._key_id.hex()}+{encoded}"


class BaseVerifier(_NamedKey):
    """An Ed25519 public key with a name, for one signature type (the subclass's ``signature_type``)."""

    def __init__(self, name: str, public_key: bytes) -> None:
        if len(public_key) != _ED25519_KEY_SIZE:
            raise NoteError("BAD_KEY", f"an Ed25519 public key has {_ED25519_KEY_SIZE} bytes")
        try:
            self._key = Ed25519PublicKey.from_public_bytes(public_key)
        except ValueError:
            raise NoteError("BAD_KEY", "not an Ed25519 public key") from None
        super().__init__(name, public_key)

    @classmethod
    def from_key(cls, text: str) -> Self:
        """Parse ``<name>+<hex key ID>+<base64(type || public key)>``, checking type and key ID."""
        name, stated_id, public_key = _parse_key_text(text, "", cls.signature_type)
        return cls._checked(cls(name, public_key), stated_id)

    def _ed25519_verify(self, message: bytes, signature: bytes) -> bool:
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


class Signer(BaseSigner):
    """A note signer for plain Ed25519 signatures (type 0x01), as a log signs its checkpoints."""

    signature_type: ClassVar[int] = SIGNATURE_TYPE_ED25519

    def sign(self, message: str | bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message`` (a str is signed as its UTF-8 bytes)."""
        data = message.encode("utf-8") if isinstance(message, str) else message
        return self._private_key.sign(data)

    def verifier(self) -> Verifier:
        """The matching :class:`Verifier`."""
        return Verifier(self._name, self._public_key)


class Verifier(BaseVerifier):
    """A note verifier for plain Ed25519 signatures (type 0x01)."""

    signature_type: ClassVar[int] = SIGNATURE_TYPE_ED25519

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` (without the key ID) is this key's Ed25519 signature of ``message``."""
        return len(signature) == 64 and self._ed25519_verify(message, signature)


class NoteSigner(Protocol):
    """What :func:`sign_note` needs of a signer."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> bytes: ...

    def sign(self, message: bytes) -> bytes: ...


class NoteVerifier(Protocol):
    """What :func:`open_note` needs of a verifier: its name, key ID, and a check of one signature."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> bytes: ...

    def verify(self, message: bytes, signature: bytes) -> bool: ...


# --- Notes ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: the key name, the 4-byte key ID and the signature bytes after it."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        """The signature line, ending in a newline."""
        return f"{_DASH}{self.name} {encode_base64(self.key_id + self.signature)}\n"


@dataclass(frozen=True)
class VerifiedSignature:
    """A signature that verified, and the verifier that verified it."""

    signature: NoteSignature
    verifier: NoteVerifier

    @property
    def name(self) -> str:
        return self.signature.name

    @property
    def key_id(self) -> bytes:
        return self.signature.key_id


@dataclass(frozen=True)
class OpenedNote:
    """A note whose signatures were checked.

    ``text`` is the signed text (ending in a newline); ``verified`` the signatures by given keys, one
    per key; ``unknown`` the signatures by keys not given, unverified and in note order.
    """

    text: str
    verified: tuple[VerifiedSignature, ...]
    unknown: tuple[NoteSignature, ...]


def _parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(_DASH):
        raise NoteError("MALFORMED", "a signature line must start with an em dash and a space")
    name, space, encoded = line[len(_DASH) :].partition(" ")
    if not space or not is_valid_key_name(name):
        raise NoteError("MALFORMED", "a signature line is '— <key name> <base64 signature>'")
    raw = decode_base64(encoded)
    if raw is None or len(raw) <= _KEY_ID_SIZE:
        raise NoteError("MALFORMED", f"the signature by {name!r} is not canonical base64 of 5 or more bytes")
    return NoteSignature(name, raw[:_KEY_ID_SIZE], raw[_KEY_ID_SIZE:])


def parse_signature_line(line: str) -> NoteSignature:
    """Parse one signature line, ``— <key name> <base64>``, with or without its final newline."""
    body = line[:-1] if line.endswith("\n") else line
    if "\n" in body:
        raise NoteError("MALFORMED", "a signature line is a single line")
    _check_text_chars(body, "signature line")
    return _parse_signature_line(body)


def _parse_signature_block(block: str) -> tuple[NoteSignature, ...]:
    if not block.endswith("\n"):
        raise NoteError("MALFORMED", "a note must end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError("TOO_MANY_SIGNATURES", f"a note may carry at most {MAX_SIGNATURES} signatures")
    return tuple(_parse_signature_line(line) for line in lines)


def split_note(note: str) -> tuple[str, tuple[NoteSignature, ...]]:
    """Split a note into its text and its signatures, checking the format but no signature."""
    _check_text_chars(note, "note")
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("MALFORMED", "a note needs a blank line between its text and its signatures")
    return note[: split + 1], _parse_signature_block(note[split + 2 :])


def open_note(note: str, verifiers: Iterable[NoteVerifier]) -> OpenedNote:
    """Check ``note``'s signatures against ``verifiers`` and return its text and signatures.

    Raises :class:`NoteError`: ``MALFORMED``/``TOO_MANY_SIGNATURES`` for a note that breaks the format,
    ``AMBIGUOUS_KEY`` when a signature's (name, key ID) matches more than one verifier,
    ``BAD_SIGNATURE`` when a signature by a given key does not verify, and ``NO_VERIFIED_SIGNATURE``
    when no given key signed it. Identical unknown signature lines are kept once.
    """
    text, signatures = split_note(note)
    message = text.encode("utf-8")
    known: dict[tuple[str, bytes], list[NoteVerifier]] = {}
    for verifier in verifiers:
        known.setdefault((verifier.name, verifier.key_id), []).append(verifier)

    verified: dict[tuple[str, bytes], VerifiedSignature] = {}
    unknown: list[NoteSignature] = []
    for signature in signatures:
        candidates = known.get((signature.name, signature.key_id))
        if candidates is None:
            if signature not in unknown:
                unknown.append(signature)
            continue
        if len(candidates) > 1:
            raise NoteError("AMBIGUOUS_KEY", f"several verifiers match the key {signature.name!r}")
        if not candidates[0].verify(message, signature.signature):
            raise NoteError("BAD_SIGNATURE", f"the signature by {signature.name!r} does not verify")
        verified.setdefault((signature.name, signature.key_id), VerifiedSignature(signature, candidates[0]))
    if not verified:
        raise NoteError("NO_VERIFIED_SIGNATURE", "the note carries no signature by a trusted key")
    return OpenedNote(text, tuple(verified.values()), tuple(unknown))


def _check_note_text(text: str) -> bytes:
    encoded = _check_text_chars(text, "note text")
    if not text.endswith("\n"):
        raise NoteError("MALFORMED", "a note text must end with a newline")
    return encoded


def sign_note(text: str, signers: Sequence[NoteSigner]) -> str:
    """The note of ``text`` signed by each of ``signers``, in order."""
    message = _check_note_text(text)
    if not signers:
        raise NoteError("NO_SIGNERS", "a note needs at least one signature")
    lines = []
    for signer in signers:
        if not is_valid_key_name(signer.name) or len(signer.key_id) != _KEY_ID_SIZE:
            raise NoteError("BAD_KEY", f"signer {signer.name!r} has an invalid name or key ID")
        lines.append(NoteSignature(signer.name, signer.key_id, signer.sign(message)).line())
    return text + "\n" + "".join(lines)


def append_signatures(note: str, lines: Iterable[str]) -> str:
    """``note`` with signature ``lines`` (each ``— name base64\\n``, e.g. cosignatures) appended.

    Both are checked for format only; lines already in the note are not repeated.
    """
    text, existing = split_note(note)
    result = note
    seen = set(existing)
    for line in lines:
        if not line.endswith("\n"):
            raise NoteError("MALFORMED", "a signature line ends with a newline")
        signature = parse_signature_line(line)
        if signature not in seen:
            seen.add(signature)
            result += signature.line()
    _parse_signature_block(result[len(text) + 1 :])  # enforce the signature limit on the result
    return result
