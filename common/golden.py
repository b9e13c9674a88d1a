"""The golden copy of the national ledger: its files, its signed manifest, and verifying it offline.

A copy is a directory named after its cut (``20261207T160000Z``) holding:

* ``ledger.jsonl.gz``: every registration ever coded, at its revision at the cut (deregistered and
  expired ones with their state), one JSON object per line, in log order:
  ``{"log_index": N, "entry": {...}}``, ``entry`` being the national log's ``registration`` entry of
  that revision (``proto/registry/v1/log_service.proto``);
* ``ledger.csv.gz``: the same records as CSV (UTF-8, a header row), the entry's fields flattened, in
  the same order;
* ``delta-8h.jsonl.gz``, ``delta-24h.jsonl.gz``, ``delta-7d.jsonl.gz``, ``delta-31d.jsonl.gz``: the
  records whose entry is at most that old at the cut (GLEIF's windows);
* ``leaves.bin``: the leaf hashes of the log's entries ``0 .. size-1`` at the checkpoint the copy names
  (32 bytes each, in order): the bundle a verifier needs to prove every record without asking anyone;
* ``manifest.txt``: a C2SP signed note, signed with the log's key, naming the cut, the checkpoint (tree
  size and root hash) and each file with its size and SHA-256.

:func:`verify_copy` checks, streaming every file (memory stays flat whatever the ledger's size): the
manifest's signature; each file's size and SHA-256; that the leaves hash to the checkpoint's root
(RFC 9162); and that every record's entry is the leaf at its index. A record altered or added is
reported by its code; one missing from the JSON Lines is reported by its code from the CSV (whose digest
the manifest signs).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from common.transparency import leaf_hash, node_hash
from common.transparency.jcs import canonical
from common.transparency.note import NoteError, Verifier, decode_base64, encode_base64, open_note

__all__ = [
    "CSV_COLUMNS",
    "DELTAS",
    "MANIFEST_HEADER",
    "CopyFile",
    "Manifest",
    "Problem",
    "Verification",
    "csv_row",
    "leaves_root",
    "verify_copy",
]

#: The first line of a manifest: what it is, and its format's version.
MANIFEST_HEADER = "registry.data.gov.cn/national-ledger/golden-copy/v1"
#: The delta files and how far back each reaches from the cut.
DELTAS = {
    "delta-8h": timedelta(hours=8),
    "delta-24h": timedelta(hours=24),
    "delta-7d": timedelta(days=7),
    "delta-31d": timedelta(days=31),
}
#: The CSV's columns: the entry's fields (``subject`` flattened), and the record's log index.
CSV_COLUMNS = (
    "code",
    "registration",
    "uid",
    "state",
    "object_type",
    "data_name",
    "subject_name",
    "subject_uscc",
    "subject_central",
    "managing_node",
    "version",
    "revision",
    "valid_from",
    "valid_until",
    "content_sha256",
    "record_sha256",
    "time",
    "log_index",
)
_CHUNK = 1 << 20


def csv_row(index: int, entry: dict[str, Any]) -> list[str]:
    subject = entry.get("subject", {})
    values = {
        **{k: entry.get(k, "") for k in CSV_COLUMNS},
        "subject_name": subject.get("name", ""),
        "subject_uscc": subject.get("uscc", ""),
        "subject_central": "true" if subject.get("central") else "false",
        "log_index": index,
    }
    return [str(values[k]) for k in CSV_COLUMNS]


@dataclass(frozen=True, slots=True)
class CopyFile:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Manifest:
    cut: datetime
    tree_size: int
    root: bytes
    records: int
    files: tuple[CopyFile, ...]

    def text(self) -> str:
        lines = [
            MANIFEST_HEADER,
            f"cut {self.cut.strftime('%Y-%m-%dT%H:%M:%SZ')}",
            f"checkpoint {self.tree_size} {encode_base64(self.root)}",
            f"records {self.records}",
            *(f"file {f.name} {f.size} {f.sha256}" for f in self.files),
        ]
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, text: str) -> Manifest:
        lines = text.rstrip("\n").split("\n")
        if not lines or lines[0] != MANIFEST_HEADER:
            raise ValueError(f"not a golden copy manifest (its first line is not {MANIFEST_HEADER})")
        values: dict[str, list[str]] = {}
        files = []
        for line in lines[1:]:
            key, _, rest = line.partition(" ")
            if key == "file":
                name, size, digest = rest.split(" ")
                files.append(CopyFile(name, int(size), digest))
            else:
                values[key] = rest.split(" ")
        try:
            size, root = values["checkpoint"]
            decoded = decode_base64(root)
            if decoded is None or len(decoded) != 32:
                raise ValueError("the checkpoint's root hash is not 32 bytes of base64")
            return cls(
                cut=datetime.strptime(values["cut"][0], "%Y-%m-%dT%H:%M:%S%z"),
                tree_size=int(size),
                root=decoded,
                records=int(values["records"][0]),
                files=tuple(files),
            )
        except (KeyError, ValueError) as error:
            raise ValueError(f"malformed manifest: {error}") from None


def leaves_root(leaves: Iterator[bytes]) -> tuple[bytes, int]:
    """The RFC 9162 root of the tree whose leaf hashes are ``leaves``, and their count, in
    O(log n) memory: a stack of the perfect subtrees so far, folded right to left at the end."""
    stack: list[tuple[int, bytes]] = []
    count = 0
    for leaf in leaves:
        count += 1
        size, value = 1, leaf
        while stack and stack[-1][0] == size:
            _, left = stack.pop()
            value, size = node_hash(left, value), size * 2
        stack.append((size, value))
    if not stack:
        return hashlib.sha256(b"").digest(), 0
    value = stack.pop()[1]
    while stack:
        value = node_hash(stack.pop()[1], value)
    return value, count


def _read_leaves(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(32 * 4096):
            for offset in range(0, len(chunk), 32):
                yield chunk[offset : offset + 32]


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong: ``kind`` (``altered``, ``added``, ``missing``, ``file``, ``manifest``, ``log``),
    the record's code if it is about one, and what was found."""

    kind: str
    code: str
    detail: str


@dataclass
class Verification:
    records: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _digest(path: Path, progress: Callable[[int], None] | None = None) -> tuple[int, str]:
    sha = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            sha.update(chunk)
            size += len(chunk)
            if progress is not None:
                progress(len(chunk))
    return size, sha.hexdigest()


class _CountingReader(io.RawIOBase):
    """A file read through, counting the bytes (for a progress bar over a compressed file)."""

    def __init__(self, handle: BinaryIO, progress: Callable[[int], None] | None) -> None:
        self.handle, self.progress = handle, progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.handle.read(len(buffer))
        buffer[: len(data)] = data
        if self.progress is not None and data:
            self.progress(len(data))
        return len(data)


def verify_copy(
    directory: Path, log_keys: Sequence[str], *, progress: Callable[[str, int, int], None] | None = None
) -> Verification:
    """Verify the golden copy in ``directory`` against the log's verifier keys (every key it has used).

    ``progress(stage, done, total)`` is told how far each stage is, in bytes."""
    result = Verification()
    manifest_path = directory / "manifest.txt"
    try:
        verifiers = [Verifier.from_key(key) for key in log_keys]
        opened = open_note(manifest_path.read_text(encoding="utf-8"), verifiers)
        manifest = Manifest.parse(opened.text)
    except (OSError, NoteError, ValueError) as error:
        result.problems.append(Problem("manifest", "", f"{manifest_path}: {error}"))
        return result
    files = {f.name: f for f in manifest.files}
    for name in ("ledger.jsonl.gz", "ledger.csv.gz", "leaves.bin"):
        if name not in files:
            result.problems.append(Problem("manifest", "", f"the manifest names no {name}"))
    if result.problems:
        return result

    def tell(stage: str, total: int) -> Callable[[int], None] | None:
        if progress is None:
            return None
        done = 0

        def step(n: int) -> None:
            nonlocal done
            done += n
            progress(stage, done, total)

        return step

    # Every file as the manifest says: its size and digest.
    intact: set[str] = set()
    for copy_file in manifest.files:
        path = directory / copy_file.name
        if os.sep in copy_file.name or not path.is_file():
            result.problems.append(Problem("file", "", f"{copy_file.name} is missing"))
            continue
        size, digest = _digest(path, tell(f"digest {copy_file.name}", copy_file.size))
        if (size, digest) != (copy_file.size, copy_file.sha256):
            result.problems.append(
                Problem(
                    "file",
                    "",
                    f"{copy_file.name}: {size} bytes, SHA-256 {digest}; the manifest says"
                    f" {copy_file.size} bytes, {copy_file.sha256}",
                )
            )
        else:
            intact.add(copy_file.name)
    # The leaves are the log's at the checkpoint.
    leaves = directory / "leaves.bin"
    if leaves.is_file():
        root, count = leaves_root(_read_leaves(leaves))
        if (count, root) != (manifest.tree_size, manifest.root):
            result.problems.append(
                Problem(
                    "log",
                    "",
                    f"leaves.bin holds {count} leaves with root {encode_base64(root)}; the"
                    f" checkpoint is {manifest.tree_size} leaves with root {encode_base64(manifest.root)}",
                )
            )
            return result
    else:
        return result
    # Every record is the log's entry at its index; every code the CSV lists is there.
    result.records = _check_records(
        directory / "ledger.jsonl.gz",
        leaves,
        manifest.tree_size,
        result,
        tell("records", files["ledger.jsonl.gz"].size),
        listed=_listed(directory / "ledger.csv.gz"),
    )
    for name in DELTAS:
        if f"{name}.jsonl.gz" in files:
            _check_records(directory / f"{name}.jsonl.gz", leaves, manifest.tree_size, result, None)
    if result.records != manifest.records and not any(
        p.kind in ("missing", "added") for p in result.problems
    ):
        result.problems.append(
            Problem(
                "file",
                "",
                f"ledger.jsonl.gz holds {result.records} records; the manifest says {manifest.records}",
            )
        )
    return result


def _listed(path: Path) -> Iterator[tuple[int, str]]:
    """(log index, code) of each row of the CSV, in its order (log order)."""
    if not path.is_file():
        return
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        if tuple(next(reader, ())) != CSV_COLUMNS:
            return
        code_at, index_at = CSV_COLUMNS.index("code"), CSV_COLUMNS.index("log_index")
        for row in reader:
            if len(row) == len(CSV_COLUMNS) and row[index_at].isdigit():
                yield int(row[index_at]), row[code_at]


def _raw_entry(line: bytes) -> bytes:
    """The bytes of the entry as the line holds them (``{"log_index":N,"entry":ENTRY}``); the log's
    own bytes when the copy is as the node wrote it."""
    start = line.find(b'"entry":')
    end = line.rstrip().rfind(b"}")
    return line[start + 8 : end] if 0 <= start < end else b""


def _check_records(
    path: Path,
    leaves: Path,
    size: int,
    result: Verification,
    progress: Callable[[int], None] | None,
    listed: Iterator[tuple[int, str]] | None = None,
) -> int:
    """Check each record of ``path`` against its leaf, reading the leaves alongside, and against
    ``listed`` (the CSV's rows) if given: all in log order, so nothing is held but the current row.
    How many records it holds."""
    count = 0
    leaf_iter = _read_leaves(leaves)
    pending = next(listed, None) if listed is not None else None

    def missing_before(index: int) -> None:
        nonlocal pending
        while listed is not None and pending is not None and pending[0] < index:
            result.problems.append(
                Problem("missing", pending[1], f"the record of log entry {pending[0]} is not in {path.name}")
            )
            pending = next(listed, None)

    position, current = -1, b""
    last = -1
    with path.open("rb") as raw, gzip.open(_CountingReader(raw, progress), "rb") as lines:
        for number, line in enumerate(lines, start=1):
            try:
                record = json.loads(line)
                index, entry = record["log_index"], record["entry"]
                code = str(entry.get("code", ""))
                if not isinstance(index, int) or not isinstance(entry, dict):
                    raise ValueError("log_index must be an integer and entry an object")
            except (ValueError, KeyError, TypeError, AttributeError) as error:
                result.problems.append(
                    Problem("added", "", f"{path.name} line {number}: not a record ({error})")
                )
                continue
            if not 0 <= index < size or index <= last:
                why = "a second record of" if index == last else "out of order, or outside the log at"
                result.problems.append(
                    Problem("added", code, f"{path.name} line {number}: {why} entry {index}")
                )
                continue
            last = index
            count += 1
            missing_before(index)
            if listed is not None:
                if pending is not None and pending[0] == index:
                    pending = next(listed, None)
                else:
                    result.problems.append(
                        Problem("added", code, f"{path.name} line {number}: entry {index} is not in the CSV")
                    )
                    continue
            while position < index:
                current = next(leaf_iter)
                position += 1
            matches = leaf_hash(_raw_entry(line)) == current
            if not matches:  # the entry written otherwise (keys reordered, spaces): its canonical form
                try:
                    matches = leaf_hash(canonical(entry)) == current
                except ValueError:
                    matches = False
            if not matches:
                result.problems.append(
                    Problem("altered", code, f"{path.name} line {number}: not the log's entry {index}")
                )
            elif entry.get("kind") != "registration" or not code:
                result.problems.append(
                    Problem(
                        "added", code, f"{path.name} line {number}: entry {index} is no coded registration"
                    )
                )
    missing_before(size)
    return count
