"""RFC 9162 (RFC 6962) Merkle tree hashing, proofs and their verification, over a store of subtree hashes.

Hashing is SHA-256 with domain separation: a leaf hashes as ``SHA-256(0x00 || data)``, an inner node
as ``SHA-256(0x01 || left || right)``, and the empty tree's root is ``SHA-256("")``.

Storage model. A log stores the hash of every *complete* (perfect) subtree, keyed by ``(level, index)``:
level 0, index ``i`` is leaf ``i``'s hash; level ``L``, index ``j`` is the subtree over the leaves
``[j * 2**L, (j + 1) * 2**L)``. These hashes never change once the last leaf under them is appended.
Every root and proof below needs O(log n) of them. Each function first works out exactly which keys
it needs, then calls the :data:`Reader` once with all of them (never when it needs none), then
computes. The hash of a subtree that is not perfect (the right edge of a tree whose size is not a
power of two) is folded from the perfect subtrees it decomposes into, as RFC 9162's MTH defines it.

Proofs are the ``PATH`` (RFC 9162 §2.1.3.1) and ``PROOF`` (§2.1.4.1) lists, deepest hash first.
The verifiers implement §2.1.3.2 and §2.1.4.2 and raise :class:`ProofError` on any failure.

Throughout, "leaf" means the leaf's *data* (the bytes that were logged); functions taking an
already-computed leaf hash say so in their name.

No I/O: the reader is whatever the caller makes of it (a dict, a database query).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping, Sequence

from common.transparency.errors import TransparencyError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "Key",
    "ProofError",
    "Reader",
    "consistency_proof",
    "inclusion_proof",
    "keys_for_consistency",
    "keys_for_inclusion",
    "keys_for_root",
    "leaf_hash",
    "node_hash",
    "root_hash",
    "subtrees_completed_by",
    "subtrees_completed_by_batch",
    "verify_consistency",
    "verify_inclusion",
    "verify_inclusion_hash",
]

#: Size in bytes of every hash in the tree.
HASH_SIZE = 32

#: Root hash of the empty tree: SHA-256 of the empty string.
EMPTY_ROOT = hashlib.sha256(b"").digest()

#: A stored subtree: ``(level, index)`` covers leaves ``[index * 2**level, (index + 1) * 2**level)``.
Key = tuple[int, int]

#: Fetches stored subtree hashes. Called with every key a computation needs, at once; it must return a
#: mapping holding (at least) each of those keys.
Reader = Callable[[Collection[tuple[int, int]]], Mapping[tuple[int, int], bytes]]

# A half-open range of leaf indexes [start, end).
_Range = tuple[int, int]


class ProofError(TransparencyError):
    """A proof did not verify.

    ``reason`` is a short machine code: ``INDEX_OUT_OF_RANGE``, ``SIZE_OUT_OF_RANGE``,
    ``WRONG_PROOF_LENGTH``, ``BAD_HASH_SIZE``, ``ROOT_MISMATCH`` or ``OLD_ROOT_MISMATCH``.
    ``message`` (also ``str(error)``) says what went wrong for a human.
    """


def leaf_hash(data: bytes) -> bytes:
    """The hash of a leaf holding ``data``: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an inner node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


# --- Tree shape ----------------------------------------------------------------------------------


def _split(n: int) -> int:
    """RFC 9162's k: the largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _decompose(start: int, end: int) -> list[Key]:
    """The perfect subtrees, left to right, that make up the RFC 9162 subtree over [start, end).

    Every range the RFC's recursion produces starts at a multiple of a power of two at least as
    large as its length, so taking the largest power of two that fits, repeatedly, lands on aligned
    (hence stored) subtrees.
    """
    keys: list[Key] = []
    while start < end:
        level = (end - start).bit_length() - 1
        if start & ((1 << level) - 1):
            raise ValueError(f"[{start}, {end}) is not a subtree of an RFC 9162 Merkle tree")
        keys.append((level, start >> level))
        start += 1 << level
    return keys


def _inclusion_ranges(index: int, size: int) -> list[_Range]:
    """The subtrees whose hashes form PATH(index, D[0:size]), deepest first."""
    ranges: list[_Range] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def _consistency_ranges(old_size: int, new_size: int) -> list[_Range]:
    """The subtrees whose hashes form PROOF(old_size, D[0:new_size]), deepest first."""
    ranges: list[_Range] = []
    if old_size == 0 or old_size == new_size:
        return ranges
    start, end, m, whole_old_tree = 0, new_size, old_size, True
    while True:
        n = end - start
        if m == n:
            # SUBPROOF(m, D[m], b): nothing when this is the old tree itself, else its hash.
            if not whole_old_tree:
                ranges.append((start, end))
            break
        k = _split(n)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
            m -= k
            whole_old_tree = False
    ranges.reverse()
    return ranges


def _keys_for(ranges: Sequence[_Range]) -> list[Key]:
    return sorted({key for start, end in ranges for key in _decompose(start, end)})


def keys_for_root(size: int) -> list[Key]:
    """The stored subtrees :func:`root_hash` reads for a tree of ``size`` leaves."""
    _check_size(size)
    return _decompose(0, size)


def keys_for_inclusion(index: int, size: int) -> list[Key]:
    """The stored subtrees :func:`inclusion_proof` reads."""
    _check_index(index, size)
    return _keys_for(_inclusion_ranges(index, size))


def keys_for_consistency(old_size: int, new_size: int) -> list[Key]:
    """The stored subtrees :func:`consistency_proof` reads."""
    _check_sizes(old_size, new_size)
    return _keys_for(_consistency_ranges(old_size, new_size))


def _check_size(size: int) -> None:
    if size < 0:
        raise ValueError(f"tree size {size} is negative")


def _check_index(index: int, size: int) -> None:
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of {size} leaves")


def _check_sizes(old_size: int, new_size: int) -> None:
    if not 0 <= old_size <= new_size:
        raise ValueError(f"tree sizes {old_size} -> {new_size} do not grow")


# --- Reading and computing -----------------------------------------------------------------------


def _read(reader: Reader, keys: Collection[Key]) -> Mapping[Key, bytes]:
    """One call to the reader for all of ``keys`` (none if there are none), checking the answer."""
    if not keys:
        return {}
    found = reader(keys)
    for key in keys:
        value = found.get(key)
        if value is None:
            raise KeyError(f"the reader returned no hash for subtree {key}")
        if len(value) != HASH_SIZE:
            raise ValueError(f"the reader returned a {len(value)}-byte hash for subtree {key}")
    return found


def _range_hash(start: int, end: int, stored: Mapping[Key, bytes]) -> bytes:
    """MTH of the subtree over [start, end), folded right to left from its perfect parts."""
    parts = [stored[key] for key in _decompose(start, end)]
    result = parts[-1]
    for part in reversed(parts[:-1]):
        result = node_hash(part, result)
    return result


def root_hash(size: int, reader: Reader) -> bytes:
    """The root hash of the tree of the first ``size`` leaves (:data:`EMPTY_ROOT` when empty)."""
    keys = keys_for_root(size)
    if not keys:
        return EMPTY_ROOT
    return _range_hash(0, size, _read(reader, keys))


def inclusion_proof(index: int, size: int, reader: Reader) -> list[bytes]:
    """RFC 9162 PATH(index, D[0:size]): the audit path from leaf ``index``'s sibling to the root's child."""
    _check_index(index, size)
    ranges = _inclusion_ranges(index, size)
    stored = _read(reader, _keys_for(ranges))
    return [_range_hash(start, end, stored) for start, end in ranges]


def consistency_proof(old_size: int, new_size: int, reader: Reader) -> list[bytes]:
    """RFC 9162 PROOF(old_size, D[0:new_size]); empty when ``old_size`` is 0 or equals ``new_size``."""
    _check_sizes(old_size, new_size)
    ranges = _consistency_ranges(old_size, new_size)
    stored = _read(reader, _keys_for(ranges))
    return [_range_hash(start, end, stored) for start, end in ranges]


# --- Appending -----------------------------------------------------------------------------------


def subtrees_completed_by(index: int, leaf: bytes, reader: Reader) -> list[tuple[int, int, bytes]]:
    """The subtrees that appending leaf number ``index`` (data ``leaf``) completes, to be stored.

    The tree grows from ``index`` to ``index + 1`` leaves. The result holds ``(level, index, hash)``
    for the new leaf itself (level 0) and for every larger subtree it closes, lowest level first.
    The reader is asked, once, for the left siblings those need.
    """
    return subtrees_completed_by_batch(index, [leaf], reader)


def subtrees_completed_by_batch(
    start: int, leaves: Sequence[bytes], reader: Reader
) -> list[tuple[int, int, bytes]]:
    """Like :func:`subtrees_completed_by` for appending ``leaves`` as numbers ``start, start + 1, ...``.

    The tree grows from ``start`` to ``start + len(leaves)`` leaves. One read, of at most one stored
    subtree per level (the left neighbours older than the batch); the result is ordered by level,
    then index.
    """
    if start < 0:
        raise ValueError(f"leaf index {start} is negative")
    end = start + len(leaves)
    if not leaves:
        return []

    # A subtree at level L with index j is completed by this batch when its last leaf is new, i.e.
    # start < (j + 1) * 2**L <= end. Its right child is then completed by the batch too; its left
    # child is old (stored) only for the first such j, and only if that child ends by `start`.
    needed: list[Key] = []
    level = 1
    while (1 << level) <= end:
        first, last = start >> level, (end >> level) - 1
        if first > last:
            break
        if ((2 * first + 1) << (level - 1)) <= start:
            needed.append((level - 1, 2 * first))
        level += 1
    stored = _read(reader, needed)

    completed = [(0, start + i, leaf_hash(data)) for i, data in enumerate(leaves)]
    below = {index: value for _, index, value in completed}
    level = 1
    while (1 << level) <= end:
        first, last = start >> level, (end >> level) - 1
        if first > last:
            break
        current: dict[int, bytes] = {}
        for j in range(first, last + 1):
            left = below.get(2 * j)
            if left is None:
                left = stored[(level - 1, 2 * j)]
            current[j] = node_hash(left, below[2 * j + 1])
            completed.append((level, j, current[j]))
        below = current
        level += 1
    return completed


# --- Verification --------------------------------------------------------------------------------


def _check_hashes(proof: Sequence[bytes]) -> None:
    for position, value in enumerate(proof):
        if len(value) != HASH_SIZE:
            raise ProofError("BAD_HASH_SIZE", f"proof hash {position} has {len(value)} bytes, not 32")


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that leaf data ``leaf`` is number ``index`` in the tree of ``size`` leaves with ``root``."""
    verify_inclusion_hash(leaf_hash(leaf), index, size, proof, root)


def verify_inclusion_hash(
    leaf_hash_value: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """:func:`verify_inclusion` for a leaf given by its hash (RFC 9162 §2.1.3.2)."""
    if not 0 <= index < size:
        raise ProofError("INDEX_OUT_OF_RANGE", f"leaf index {index} is not in a tree of {size} leaves")
    expected = len(_inclusion_ranges(index, size))
    if len(proof) != expected:
        raise ProofError(
            "WRONG_PROOF_LENGTH",
            f"an inclusion proof for leaf {index} of {size} has {expected} hashes, not {len(proof)}",
        )
    _check_hashes(proof)
    fn, sn, r = index, size - 1, leaf_hash_value
    for p in proof:
        if sn == 0:
            raise ProofError("WRONG_PROOF_LENGTH", "the inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("WRONG_PROOF_LENGTH", "the inclusion proof is too short")
    if r != root:
        raise ProofError("ROOT_MISMATCH", "the inclusion proof does not lead to the expected root hash")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``new_size`` leaves with ``new_root`` extends the one of ``old_size``.

    RFC 9162 §2.1.4.2, plus the trivial cases it leaves out: equal sizes need an empty proof and equal
    roots; an old size of 0 needs an empty proof and ``old_root`` equal to :data:`EMPTY_ROOT`.
    """
    if not 0 <= old_size <= new_size:
        raise ProofError("SIZE_OUT_OF_RANGE", f"a tree of {old_size} leaves cannot grow into {new_size}")
    expected = len(_consistency_ranges(old_size, new_size))
    if len(proof) != expected:
        raise ProofError(
            "WRONG_PROOF_LENGTH",
            f"a consistency proof from {old_size} to {new_size} has {expected} hashes, not {len(proof)}",
        )
    _check_hashes(proof)
    if old_size == 0:
        if old_root != EMPTY_ROOT:
            raise ProofError("OLD_ROOT_MISMATCH", "the old root is not the empty tree's root")
        return
    if old_size == new_size:
        if old_root != new_root:
            raise ProofError("ROOT_MISMATCH", "two trees of the same size have different roots")
        return

    path = list(proof)
    if old_size & (old_size - 1) == 0:  # the old tree is a perfect subtree: its root seeds the path
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("WRONG_PROOF_LENGTH", "the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("WRONG_PROOF_LENGTH", "the consistency proof is too short")
    if fr != old_root:
        raise ProofError("OLD_ROOT_MISMATCH", "the consistency proof does not lead to the old root hash")
    if sr != new_root:
        raise ProofError("ROOT_MISMATCH", "the consistency proof does not lead to the new root hash")
