"""Verifiable-log primitives: the pure, I/O-free parts of the registry's transparency log.

The national node keeps an append-only Merkle log (RFC 9162 / RFC 6962 hashing) of every code
assignment and every change accepted into its ledger, publishes signed checkpoints, has provinces
witness (check consistency and cosign) them, and hands out inclusion proofs anyone can check offline
with the log's public key. This package holds the parts of that with no storage or network in them:

* :mod:`.merkle` -- leaf and node hashing; roots, inclusion and consistency proofs computed from the
  stored hashes of perfect subtrees, keyed ``(level, index)`` and fetched in one batched read; the
  subtrees an append completes; RFC 9162 proof verification.
* :mod:`.note` -- C2SP signed notes with Ed25519 keys (signature type 0x01): keys, signing, opening.
* :mod:`.checkpoint` -- C2SP checkpoint bodies (origin, tree size, root hash, extension lines).
* :mod:`.cosignature` -- C2SP ``cosignature/v1`` timestamped witness cosignatures (type 0x04).
* :mod:`.proof` -- the C2SP ``c2sp.org/tlog-proof@v1`` text format.
* :mod:`.verify` -- :func:`verify_proof`, the offline verifier a third party can copy along with the
  modules it imports.

Only the standard library and ``cryptography`` are used.
"""

from __future__ import annotations

from .checkpoint import Checkpoint, CheckpointError
from .cosignature import (
    SIGNATURE_TYPE_COSIGNATURE_V1,
    CosignatureError,
    CosignatureSigner,
    CosignatureVerifier,
    cosign,
    cosignature_timestamp,
    cosigned_message,
    verify_cosignature,
)
from .merkle import (
    EMPTY_ROOT,
    Key,
    ProofError,
    Reader,
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
from .note import (
    SIGNATURE_TYPE_ED25519,
    NoteError,
    NoteSignature,
    NoteSigner,
    NoteVerifier,
    OpenedNote,
    Signer,
    VerifiedSignature,
    Verifier,
    append_signatures,
    key_id,
    open_note,
    parse_signature_line,
    sign_note,
    split_note,
)
from .proof import Proof, ProofFormatError
from .verify import CosignaturesPending, VerificationError, VerifiedProof, verify_proof

__all__ = [
    "EMPTY_ROOT",
    "SIGNATURE_TYPE_COSIGNATURE_V1",
    "SIGNATURE_TYPE_ED25519",
    "Checkpoint",
    "CheckpointError",
    "CosignatureError",
    "CosignatureSigner",
    "CosignatureVerifier",
    "CosignaturesPending",
    "Key",
    "NoteError",
    "NoteSignature",
    "NoteSigner",
    "NoteVerifier",
    "OpenedNote",
    "Proof",
    "ProofError",
    "ProofFormatError",
    "Reader",
    "Signer",
    "VerificationError",
    "VerifiedProof",
    "VerifiedSignature",
    "Verifier",
    "append_signatures",
    "consistency_proof",
    "cosign",
    "cosignature_timestamp",
    "cosigned_message",
    "inclusion_proof",
    "key_id",
    "keys_for_consistency",
    "keys_for_inclusion",
    "keys_for_root",
    "leaf_hash",
    "node_hash",
    "open_note",
    "parse_signature_line",
    "root_hash",
    "sign_note",
    "split_note",
    "subtrees_completed_by",
    "subtrees_completed_by_batch",
    "verify_consistency",
    "verify_cosignature",
    "verify_inclusion",
    "verify_inclusion_hash",
    "verify_proof",
]
