"""The C2SP transparency log proof text format (c2sp.org/tlog-proof, ``c2sp.org/tlog-proof@v1``).

A proof bundles what an offline verifier needs to check that an entry is in a log::

    c2sp.org/tlog-proof@v1
    extra <base64 opaque extra data>        (only when there is extra data)
    index <zero-based leaf index, decimal, no leading zeros>
    <base64 inclusion proof hash, leaf's sibling first>   (zero or more lines)
    <empty line>
    <the log's signed checkpoint note, verbatim, cosignatures included>

This module builds and parses the text, strictly; checking what it says is :mod:`.verify`'s job.
The extra data is not authenticated by the format itself. Since "no extra data" omits the line, an
``extra`` line with nothing after the space is refused, and ``Proof(extra=b"")`` formats without it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from common.transparency.errors import TransparencyError

from .note import NoteError, decode_base64, encode_base64, split_note

__all__ = ["HEADER", "MAX_PROOF_HASHES", "Proof", "ProofFormatError"]

#: The first line of every proof.
HEADER = "c2sp.org/tlog-proof@v1"

#: An inclusion proof in a tree of at most 2**64 leaves has at most 64 hashes.
MAX_PROOF_HASHES = 64

_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_MAX_INDEX = 2**64 - 1
_HASH_SIZE = 32


class ProofFormatError(TransparencyError):
    """A proof text (or a :class:`Proof`'s fields) breaks the format.

    ``reason`` is ``HEADER``, ``EXTRA``, ``INDEX``, ``HASH``, ``CHECKPOINT`` (the note after the blank
    line is missing or malformed) or ``MALFORMED``; ``message`` (also ``str(error)``) is for humans.
    """


@dataclass(frozen=True)
class Proof:
    """A tlog-proof: opaque ``extra`` bytes (``b""`` for none), the leaf ``index``, the inclusion proof
    ``hashes`` and the signed ``checkpoint_note`` they lead to."""

    extra: bytes
    index: int
    hashes: tuple[bytes, ...]
    checkpoint_note: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "hashes", tuple(self.hashes))
        if not 0 <= self.index <= _MAX_INDEX:
            raise ProofFormatError("INDEX", f"index {self.index} is not an unsigned 64-bit integer")
        _check_hashes(self.hashes)
        try:
            split_note(self.checkpoint_note)
        except NoteError as error:
            raise ProofFormatError("CHECKPOINT", f"the checkpoint is not a signed note: {error}") from None

    def format(self) -> str:
        """The proof as text."""
        lines = [HEADER]
        if self.extra:
            lines.append("extra " + encode_base64(self.extra))
        lines.append(f"index {self.index}")
        lines.extend(encode_base64(value) for value in self.hashes)
        return "\n".join(lines) + "\n\n" + self.checkpoint_note

    @classmethod
    def parse(cls, text: str) -> Proof:
        """Read a proof, refusing anything the format does not allow."""
        head, blank, checkpoint_note = text.partition("\n\n")
        lines = head.split("\n")
        if lines[0] != HEADER:
            raise ProofFormatError("HEADER", f"a proof starts with the line {HEADER!r}")
        if not blank:
            raise ProofFormatError("MALFORMED", "a proof needs an empty line before its checkpoint")
        position = 1
        extra = b""
        if position < len(lines) and lines[position].startswith("extra "):
            decoded = decode_base64(lines[position][len("extra ") :])
            if not decoded:
                raise ProofFormatError("EXTRA", "the extra line must hold canonical, non-empty base64")
            extra = decoded
            position += 1
        if position >= len(lines) or not lines[position].startswith("index "):
            raise ProofFormatError("INDEX", "an 'index' line must follow the header (and any 'extra' line)")
        index_text = lines[position][len("index ") :]
        if len(index_text) > 20 or not _DECIMAL.fullmatch(index_text) or int(index_text) > _MAX_INDEX:
            raise ProofFormatError("INDEX", "the index is not a decimal number without leading zeros")
        hashes: list[bytes] = []
        for line in lines[position + 1 :]:
            value = decode_base64(line)
            if value is None or len(value) != _HASH_SIZE:
                raise ProofFormatError("HASH", "each proof line must be canonical base64 of a 32-byte hash")
            hashes.append(value)
        return cls(extra, int(index_text), tuple(hashes), checkpoint_note)


def _check_hashes(hashes: Sequence[bytes]) -> None:
    if len(hashes) > MAX_PROOF_HASHES:
        raise ProofFormatError("HASH", f"an inclusion proof has at most {MAX_PROOF_HASHES} hashes")
    for value in hashes:
        if len(value) != _HASH_SIZE:
            raise ProofFormatError("HASH", f"a proof hash has {_HASH_SIZE} bytes, not {len(value)}")
