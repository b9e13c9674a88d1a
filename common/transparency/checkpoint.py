"""C2SP transparency log checkpoints (c2sp.org/tlog-checkpoint): the signed text of a tree head.

A checkpoint body is the text of a signed note: the log's **origin** line, the **tree size** in
decimal (no leading zeros), the **root hash** in base64, then optional non-empty **extension** lines,
each ending in a newline::

    example.com/behind-the-sofa
    20852163
    CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

Signing and verifying the note around it is :mod:`.note`'s job; this module only builds and parses
the body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from common.transparency.errors import TransparencyError

from .note import decode_base64, encode_base64

__all__ = ["MAX_TREE_SIZE", "Checkpoint", "CheckpointError"]

#: Tree sizes are unsigned 64-bit integers.
MAX_TREE_SIZE = 2**64 - 1

_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_HASH_SIZE = 32


class CheckpointError(TransparencyError):
    """A checkpoint body was refused.

    ``reason`` is ``MALFORMED`` (lines, newlines or characters), ``ORIGIN``, ``SIZE``, ``ROOT_HASH`` or
    ``EXTENSION``; ``message`` (also ``str(error)``) is for humans.
    """


def _check_line(line: str, reason: str, what: str) -> None:
    if not line:
        raise CheckpointError(reason, f"the {what} line is empty")
    if any(c < " " for c in line):
        raise CheckpointError(reason, f"the {what} line holds a control character")
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        raise CheckpointError(reason, f"the {what} line is not valid UTF-8") from None


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head: its origin, tree size and root hash, plus any extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line(self.origin, "ORIGIN", "origin")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise CheckpointError("SIZE", f"tree size {self.size} is not an unsigned 64-bit integer")
        if len(self.root_hash) != _HASH_SIZE:
            size = len(self.root_hash)
            raise CheckpointError("ROOT_HASH", f"a root hash has {_HASH_SIZE} bytes, not {size}")
        for line in self.extensions:
            _check_line(line, "EXTENSION", "extension")

    def body(self) -> str:
        """The note text of this checkpoint, ending in a newline."""
        lines = [self.origin, str(self.size), encode_base64(self.root_hash), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Read a checkpoint body (a note's text), refusing anything the format does not allow."""
        if not text.endswith("\n"):
            raise CheckpointError("MALFORMED", "a checkpoint body ends with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointError("MALFORMED", "a checkpoint body has at least three lines")
        origin, size_text, hash_text, *extensions = lines
        _check_line(origin, "ORIGIN", "origin")
        if len(size_text) > 20 or not _DECIMAL.fullmatch(size_text) or int(size_text) > MAX_TREE_SIZE:
            raise CheckpointError("SIZE", "the tree size is not a decimal number without leading zeros")
        root = decode_base64(hash_text)
        if root is None or len(root) != _HASH_SIZE:
            raise CheckpointError("ROOT_HASH", "the root hash is not canonical base64 of 32 bytes")
        return cls(origin, int(size_text), root, tuple(extensions))
