"""RFC 9162 Merkle trees over stored subtree hashes: roots, proofs, appends, verification.

The package is checked against a naive reference written straight from RFC 9162 §2.1's recursive
definitions (MTH, PATH, PROOF/SUBPROOF) over a list of leaves, against published RFC 6962 vectors, and
on a tree of more than 2**20 leaves against roots computed by an independent streaming hasher.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Collection, Mapping, Sequence

import pytest

from common.transparency.merkle import (
    EMPTY_ROOT,
    ProofError,
    consistency_proof,
    inclusion_proof,
    keys_for_consistency,
    keys_for_inclusion,
    keys_for_root,
    leaf_hash,
    node_hash,
    root_hash,
    subtrees_completed_by,
    subtrees_completed_by_batch,
    verify_consistency,
    verify_inclusion,
    verify_inclusion_hash,
)

Key = tuple[int, int]

# --- An independent reference, straight from RFC 9162 §2.1 ----------------------------------------


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _ref_k(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(leaves: Sequence[bytes]) -> bytes:
    n = len(leaves)
    if n == 0:
        return _sha256(b"")
    if n == 1:
        return _sha256(b"\x00" + leaves[0])
    k = _ref_k(n)
    return _sha256(b"\x01" + ref_mth(leaves[:k]) + ref_mth(leaves[k:]))


def ref_path(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = _ref_k(n)
    if m < k:
        return ref_path(m, leaves[:k]) + [ref_mth(leaves[k:])]
    return ref_path(m - k, leaves[k:]) + [ref_mth(leaves[:k])]


def ref_subproof(m: int, leaves: Sequence[bytes], whole: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if whole else [ref_mth(leaves)]
    k = _ref_k(n)
    if m <= k:
        return ref_subproof(m, leaves[:k], whole) + [ref_mth(leaves[k:])]
    return ref_subproof(m - k, leaves[k:], False) + [ref_mth(leaves[:k])]


def ref_proof(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    return ref_subproof(m, leaves, True) if 0 < m < len(leaves) else []


def ref_directions(m: int, n: int) -> list[bool]:
    """For PATH(m, D[n]), bottom-up: whether each sibling lies to the right of the path."""
    if n == 1:
        return []
    k = _ref_k(n)
    return ref_directions(m, k) + [True] if m < k else ref_directions(m - k, n - k) + [False]


def ref_consistency_shape(m: int, n: int, whole: bool = True) -> list[str]:
    """For PROOF(m, D[n]), bottom-up: where each hash sits ("seed", or a sibling "left"/"right")."""
    if m == n:
        return [] if whole else ["seed"]
    k = _ref_k(n)
    if m <= k:
        return ref_consistency_shape(m, k, whole) + ["right"]
    return ref_consistency_shape(m - k, n - k, False) + ["left"]


# --- Stores and readers ----------------------------------------------------------------------------


class DictStore:
    """Stored subtree hashes in a dict, with a reader that records every call."""

    def __init__(self) -> None:
        self.hashes: dict[Key, bytes] = {}
        self.calls: list[list[Key]] = []

    def read(self, keys: Collection[Key]) -> Mapping[Key, bytes]:
        self.calls.append(list(keys))
        return {key: self.hashes[key] for key in keys}

    def put(self, completed: Sequence[tuple[int, int, bytes]]) -> None:
        for level, index, value in completed:
            assert (level, index) not in self.hashes, "a subtree is completed only once"
            self.hashes[(level, index)] = value


def build(leaves: Sequence[bytes]) -> DictStore:
    store = DictStore()
    for index, data in enumerate(leaves):
        store.put(subtrees_completed_by(index, data, store.read))
    store.calls.clear()
    return store


def covered(key: Key) -> range:
    level, index = key
    return range(index << level, (index + 1) << level)


SMALL = [f"leaf {i}".encode() for i in range(64)]
SMALL_STORE = build(SMALL)


def flipped(proof: Sequence[bytes], position: int, byte: int) -> list[bytes]:
    changed = list(proof)
    value = bytearray(changed[position])
    value[byte] ^= 0x01
    changed[position] = bytes(value)
    return changed


def flip_positions(size: int) -> Sequence[int]:
    """Byte positions to corrupt in each proof hash: all of them for trees up to 32 leaves, then a few."""
    return range(32) if size <= 32 else (0, 13, 31)


def reason_of(call: object, *args: object) -> str:
    with pytest.raises(ProofError) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value.reason


# --- Every size, index and old size up to 64 -----------------------------------------------------


@pytest.mark.parametrize("size", range(0, 65))
def test_root_matches_reference(size: int) -> None:
    SMALL_STORE.calls.clear()
    assert root_hash(size, SMALL_STORE.read) == ref_mth(SMALL[:size])
    assert len(SMALL_STORE.calls) == (1 if size else 0)
    for key in keys_for_root(size):
        assert covered(key).stop <= size


@pytest.mark.parametrize("size", range(1, 65))
def test_inclusion_proofs_match_reference_and_resist_corruption(size: int) -> None:
    leaves = SMALL[:size]
    root = ref_mth(leaves)
    for index in range(size):
        SMALL_STORE.calls.clear()
        proof = inclusion_proof(index, size, SMALL_STORE.read)
        assert proof == ref_path(index, leaves)
        assert len(SMALL_STORE.calls) == (1 if proof else 0)
        assert sorted(key for call in SMALL_STORE.calls for key in call) == keys_for_inclusion(index, size)
        assert all(covered(key).stop <= size for key in keys_for_inclusion(index, size))
        verify_inclusion(leaves[index], index, size, proof, root)
        verify_inclusion_hash(leaf_hash(leaves[index]), index, size, proof, root)

        for position in range(len(proof)):
            for byte in flip_positions(size):
                assert reason_of(
                    verify_inclusion, leaves[index], index, size, flipped(proof, position, byte), root
                ) == ("ROOT_MISMATCH")
            dropped = proof[:position] + proof[position + 1 :]
            assert (
                reason_of(verify_inclusion, leaves[index], index, size, dropped, root) == "WRONG_PROOF_LENGTH"
            )
        for extra in ([root, *proof], [*proof, root], [*proof, b""]):
            assert (
                reason_of(verify_inclusion, leaves[index], index, size, extra, root) == "WRONG_PROOF_LENGTH"
            )
        if proof:
            short = [proof[0][:31], *proof[1:]]
            assert reason_of(verify_inclusion, leaves[index], index, size, short, root) == "BAD_HASH_SIZE"
        assert reason_of(verify_inclusion, b"other", index, size, proof, root) == "ROOT_MISMATCH"
        assert reason_of(verify_inclusion, leaves[index], index, size, proof, EMPTY_ROOT) == "ROOT_MISMATCH"

        # Any other index of the same tree fails: the path's shape pins the position.
        others = (
            range(size) if size <= 32 else {index - 2, index - 1, index + 1, index + 2, index ^ 4, index ^ 16}
        )
        for other in others:
            if other != index and 0 <= other < size:
                assert reason_of(verify_inclusion, leaves[index], other, size, proof, root) in {
                    "ROOT_MISMATCH",
                    "WRONG_PROOF_LENGTH",
                }
        for outside in (-1, size, size + 5):
            assert (
                reason_of(verify_inclusion, leaves[index], outside, size, proof, root) == "INDEX_OUT_OF_RANGE"
            )

        # Another size fails unless its tree has exactly the same path shape for this index (the proof
        # then recomputes the same root: a tree size is authenticated by the signed checkpoint only).
        for other_size in {size - 2, size - 1, size + 1, size + 2, size // 2, size * 2}:
            if other_size == size:
                continue
            if other_size <= index:
                assert reason_of(verify_inclusion, leaves[index], index, other_size, proof, root) == (
                    "INDEX_OUT_OF_RANGE"
                )
            elif ref_directions(index, other_size) == ref_directions(index, size):
                verify_inclusion(leaves[index], index, other_size, proof, root)
            else:
                assert reason_of(verify_inclusion, leaves[index], index, other_size, proof, root) in {
                    "ROOT_MISMATCH",
                    "WRONG_PROOF_LENGTH",
                }


@pytest.mark.parametrize("new_size", range(1, 65))
def test_consistency_proofs_match_reference_and_resist_corruption(new_size: int) -> None:
    new_root = ref_mth(SMALL[:new_size])
    for old_size in range(0, new_size + 1):
        old_root = ref_mth(SMALL[:old_size])
        SMALL_STORE.calls.clear()
        proof = consistency_proof(old_size, new_size, SMALL_STORE.read)
        assert proof == ref_proof(old_size, SMALL[:new_size])
        assert len(SMALL_STORE.calls) == (1 if proof else 0)
        assert sorted(key for call in SMALL_STORE.calls for key in call) == keys_for_consistency(
            old_size, new_size
        )
        assert all(covered(key).stop <= new_size for key in keys_for_consistency(old_size, new_size))
        verify_consistency(old_size, new_size, old_root, new_root, proof)

        mismatches = {"ROOT_MISMATCH", "OLD_ROOT_MISMATCH"}
        for position in range(len(proof)):
            for byte in flip_positions(new_size):
                corrupt = flipped(proof, position, byte)
                assert (
                    reason_of(verify_consistency, old_size, new_size, old_root, new_root, corrupt)
                    in mismatches
                )
            dropped = proof[:position] + proof[position + 1 :]
            assert reason_of(verify_consistency, old_size, new_size, old_root, new_root, dropped) == (
                "WRONG_PROOF_LENGTH"
            )
        for extra in ([old_root, *proof], [*proof, new_root], [*proof, b""]):
            assert reason_of(verify_consistency, old_size, new_size, old_root, new_root, extra) == (
                "WRONG_PROOF_LENGTH"
            )
        if old_size not in (0, new_size):
            assert reason_of(verify_consistency, old_size, new_size, new_root, old_root, proof) in mismatches
            assert (
                reason_of(verify_consistency, old_size, new_size, EMPTY_ROOT, new_root, proof) in mismatches
            )
            assert (
                reason_of(verify_consistency, old_size, new_size, old_root, EMPTY_ROOT, proof) in mismatches
            )
            # Other sizes fail unless their proofs have exactly the same shape (the hashes then combine
            # the same way; sizes are authenticated by the signed checkpoints only).
            shape = ref_consistency_shape(old_size, new_size)
            other_sizes = {(old_size + d, new_size) for d in (-2, -1, 1, 2)}
            other_sizes |= {(old_size, new_size + d) for d in (-2, -1, 1, 2)} | {(old_size, 2 * new_size)}
            for wrong_old, wrong_new in sorted(other_sizes):
                if not 0 < wrong_old < wrong_new:
                    continue
                if ref_consistency_shape(wrong_old, wrong_new) == shape:
                    verify_consistency(wrong_old, wrong_new, old_root, new_root, proof)
                else:
                    assert reason_of(verify_consistency, wrong_old, wrong_new, old_root, new_root, proof) in (
                        mismatches | {"WRONG_PROOF_LENGTH"}
                    )
        if old_size == new_size:
            assert reason_of(verify_consistency, old_size, new_size, old_root, EMPTY_ROOT, proof) == (
                "ROOT_MISMATCH"
            )
        if old_size == 0:
            assert (
                reason_of(verify_consistency, 0, new_size, new_root, new_root, proof) == "OLD_ROOT_MISMATCH"
            )
        assert reason_of(verify_consistency, new_size, old_size - 1, new_root, old_root, proof) == (
            "SIZE_OUT_OF_RANGE"
        )


def test_empty_tree() -> None:
    assert EMPTY_ROOT == bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    store = DictStore()
    assert root_hash(0, store.read) == EMPTY_ROOT
    assert consistency_proof(0, 0, store.read) == []
    assert store.calls == []
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert reason_of(verify_inclusion, b"", 0, 0, [], EMPTY_ROOT) == "INDEX_OUT_OF_RANGE"
    with pytest.raises(ValueError):
        inclusion_proof(0, 0, store.read)
    with pytest.raises(ValueError):
        consistency_proof(2, 1, store.read)
    with pytest.raises(ValueError):
        root_hash(-1, store.read)


def test_proof_error_carries_reason_and_message() -> None:
    with pytest.raises(ProofError) as caught:
        verify_inclusion(b"x", 0, 1, [], EMPTY_ROOT)
    assert isinstance(caught.value, ValueError)
    assert caught.value.reason == "ROOT_MISMATCH"
    assert str(caught.value) == caught.value.message and caught.value.message


def test_reader_that_misses_a_hash_is_refused() -> None:
    store = build(SMALL[:8])
    del store.hashes[(2, 0)]
    with pytest.raises(KeyError):
        root_hash(7, store.read)
    store.hashes[(2, 0)] = b"short"
    with pytest.raises(ValueError):
        root_hash(7, store.read)


# --- Appends ---------------------------------------------------------------------------------------


def test_single_appends_complete_the_expected_subtrees() -> None:
    store = DictStore()
    for index, data in enumerate(SMALL):
        store.calls.clear()
        completed = subtrees_completed_by(index, data, store.read)
        # Leaf `index` closes one subtree per trailing one bit of `index`, plus its own leaf.
        trailing_ones = (index ^ (index + 1)).bit_length() - 1
        assert [(level, position) for level, position, _ in completed] == [
            (level, ((index + 1) >> level) - 1) for level in range(trailing_ones + 1)
        ]
        for level, position, value in completed:
            start, end = position << level, (position + 1) << level
            assert value == ref_mth(SMALL[start:end])
        assert len(store.calls) == (1 if trailing_ones else 0)
        assert all(len(call) == trailing_ones for call in store.calls)
        store.put(completed)
    assert store.hashes == SMALL_STORE.hashes


@pytest.mark.parametrize("seed", range(20))
def test_batches_store_the_same_hashes_as_single_appends(seed: int) -> None:
    chance = random.Random(seed)
    leaves = [chance.randbytes(chance.randrange(0, 40)) for _ in range(150)]
    single = build(leaves)
    batched = DictStore()
    start = 0
    while start < len(leaves):
        count = chance.choice([0, 1, 2, 3, 7, 8, 16, 33, 64])
        batched.calls.clear()
        completed = subtrees_completed_by_batch(start, leaves[start : start + count], batched.read)
        assert len(batched.calls) <= 1
        assert all(len(call) <= (start + count).bit_length() for call in batched.calls)
        assert completed == sorted(completed, key=lambda item: (item[0], item[1]))
        batched.put(completed)
        start += count
    assert batched.hashes == single.hashes
    assert root_hash(len(leaves), batched.read) == ref_mth(leaves)


# --- Published vectors -----------------------------------------------------------------------------
# The RFC 6962 test tree of the Certificate Transparency code (google/certificate-transparency's
# merkle_tree_test, carried on in github.com/transparency-dev/merkle): leaf inputs, every complete
# subtree hash and the roots are from testonly/constants.go there; the proofs from proof/verify_test.go
# (whose inclusion vectors number leaves from 1; the indexes below are zero-based).

VECTOR_LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]

VECTOR_NODES = [
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    [
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]

VECTOR_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

VECTOR_INCLUSION = [  # (index, size, path)
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]

VECTOR_CONSISTENCY = [  # (old size, new size, proof)
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]


def test_published_subtree_hashes_and_roots() -> None:
    store = build(VECTOR_LEAVES)
    expected = {
        (level, index): bytes.fromhex(value)
        for level, row in enumerate(VECTOR_NODES)
        for index, value in enumerate(row)
    }
    assert store.hashes == expected
    for size, root in enumerate(VECTOR_ROOTS):
        assert root_hash(size, store.read) == bytes.fromhex(root)
        assert ref_mth(VECTOR_LEAVES[:size]) == bytes.fromhex(root)
    assert leaf_hash(b"") == bytes.fromhex(VECTOR_NODES[0][0])
    assert node_hash(bytes.fromhex(VECTOR_NODES[0][0]), bytes.fromhex(VECTOR_NODES[0][1])) == bytes.fromhex(
        VECTOR_NODES[1][0]
    )


@pytest.mark.parametrize(("index", "size", "path"), VECTOR_INCLUSION)
def test_published_inclusion_proofs(index: int, size: int, path: list[str]) -> None:
    store = build(VECTOR_LEAVES)
    expected = [bytes.fromhex(value) for value in path]
    assert inclusion_proof(index, size, store.read) == expected
    verify_inclusion(VECTOR_LEAVES[index], index, size, expected, bytes.fromhex(VECTOR_ROOTS[size]))


@pytest.mark.parametrize(("old_size", "new_size", "path"), VECTOR_CONSISTENCY)
def test_published_consistency_proofs(old_size: int, new_size: int, path: list[str]) -> None:
    store = build(VECTOR_LEAVES)
    expected = [bytes.fromhex(value) for value in path]
    assert consistency_proof(old_size, new_size, store.read) == expected
    old_root, new_root = bytes.fromhex(VECTOR_ROOTS[old_size]), bytes.fromhex(VECTOR_ROOTS[new_size])
    verify_consistency(old_size, new_size, old_root, new_root, expected)


# --- A large tree --------------------------------------------------------------------------------

LARGE_SIZE = 2**20 + 3001
LARGE_SNAPSHOTS = sorted(
    {1, 2, 3, 5, 1000, 2**16, 2**16 + 1, 2**19 + 12345, 2**20 - 1, 2**20, 2**20 + 1, 2**20 + 1024, LARGE_SIZE}
)


def large_leaf(index: int) -> bytes:
    return index.to_bytes(8, "big")


class LevelStore:
    """Subtree hashes appended level by level into flat byte arrays (they arrive in index order)."""

    def __init__(self) -> None:
        self.levels: list[bytearray] = []
        self.calls: list[list[Key]] = []

    def put(self, completed: Sequence[tuple[int, int, bytes]]) -> None:
        for level, index, value in completed:
            while len(self.levels) <= level:
                self.levels.append(bytearray())
            assert len(self.levels[level]) == 32 * index, "subtrees are completed in index order"
            self.levels[level] += value

    def read(self, keys: Collection[Key]) -> Mapping[Key, bytes]:
        self.calls.append(list(keys))
        return {
            (level, index): bytes(self.levels[level][32 * index : 32 * index + 32]) for level, index in keys
        }


def streaming_roots(size: int, snapshots: Collection[int]) -> dict[int, bytes]:
    """Roots at the snapshot sizes, by a left-to-right stack of perfect subtrees (own hashing)."""
    roots: dict[int, bytes] = {}
    stack: list[tuple[int, bytes]] = []  # (height, hash), heights strictly decreasing
    for index in range(size):
        height, value = 0, hashlib.sha256(b"\x00" + large_leaf(index)).digest()
        while stack and stack[-1][0] == height:
            value = hashlib.sha256(b"\x01" + stack.pop()[1] + value).digest()
            height += 1
        stack.append((height, value))
        if index + 1 in snapshots:
            root = stack[-1][1]
            for _, left in reversed(stack[:-1]):
                root = hashlib.sha256(b"\x01" + left + root).digest()
            roots[index + 1] = root
    return roots


@pytest.fixture(scope="module")
def large_tree() -> tuple[LevelStore, dict[int, bytes]]:
    store = LevelStore()
    start = 0
    chunk = 4096
    while start < LARGE_SIZE:
        count = min(chunk, LARGE_SIZE - start)
        store.calls.clear()
        store.put(
            subtrees_completed_by_batch(
                start, [large_leaf(i) for i in range(start, start + count)], store.read
            )
        )
        assert len(store.calls) <= 1 and all(len(call) <= 21 for call in store.calls)
        start += count
    store.calls.clear()
    return store, streaming_roots(LARGE_SIZE, LARGE_SNAPSHOTS)


def test_large_tree_roots(large_tree: tuple[LevelStore, dict[int, bytes]]) -> None:
    store, roots = large_tree
    for size in LARGE_SNAPSHOTS:
        store.calls.clear()
        assert root_hash(size, store.read) == roots[size]
        assert len(store.calls) == 1 and len(store.calls[0]) <= size.bit_length()


def test_large_tree_inclusion_proofs(large_tree: tuple[LevelStore, dict[int, bytes]]) -> None:
    store, roots = large_tree
    chance = random.Random(7)
    for size in LARGE_SNAPSHOTS:
        indexes = {0, size - 1, size // 2, 2**16 - 1, 2**16, 2**20 - 1, 2**20}
        indexes |= {chance.randrange(size) for _ in range(12)}
        for index in sorted(i for i in indexes if 0 <= i < size):
            store.calls.clear()
            proof = inclusion_proof(index, size, store.read)
            assert len(store.calls) == (1 if size > 1 else 0)
            assert sum(len(call) for call in store.calls) <= 2 * size.bit_length()
            verify_inclusion(large_leaf(index), index, size, proof, roots[size])
            if proof:
                assert reason_of(
                    verify_inclusion, large_leaf(index), index, size, flipped(proof, -1, 0), roots[size]
                ) == ("ROOT_MISMATCH")


def test_large_tree_consistency_proofs(large_tree: tuple[LevelStore, dict[int, bytes]]) -> None:
    store, roots = large_tree
    for old_size in LARGE_SNAPSHOTS:
        for new_size in LARGE_SNAPSHOTS:
            if new_size < old_size:
                continue
            store.calls.clear()
            proof = consistency_proof(old_size, new_size, store.read)
            assert len(store.calls) == (1 if proof else 0)
            assert sum(len(call) for call in store.calls) <= 2 * new_size.bit_length()
            verify_consistency(old_size, new_size, roots[old_size], roots[new_size], proof)
            if proof:
                assert reason_of(
                    verify_consistency,
                    old_size,
                    new_size,
                    roots[old_size],
                    roots[new_size],
                    flipped(proof, 0, 5),
                ) in {"ROOT_MISMATCH", "OLD_ROOT_MISMATCH"}
