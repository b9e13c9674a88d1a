"""A signed code lease: opened only with the log's key, only as a lease (common.transparency.entry)."""

from __future__ import annotations

import pytest

from common.transparency import Signer, VerificationError
from common.transparency.entry import ORIGIN, canonical, lease_note_text, open_lease
from common.transparency.note import sign_note

ENTRY = {
    "v": 1,
    "kind": "code_lease",
    "time": "2026-06-01T02:00:00.000000Z",
    "code_lease": "codeLeases/320000-1-2026-1",
    "node": "nodes/320000",
    "issuer": "320000",
    "object_type": "PUBLIC_DATA_RESOURCE",
    "year": 26,
    "first_serial": 1,
    "last_serial": 1000,
    "valid_from": "2026-06-01T02:00:00.000000Z",
    "valid_until": "2026-06-04T02:00:00.000000Z",
    "offline_after_seconds": 30,
}


def test_a_lease_opens_with_the_logs_key_and_nothing_else() -> None:
    log = Signer.generate(ORIGIN)
    keys = [log.verifier().verifier_key()]
    note = sign_note(lease_note_text(canonical(ENTRY)), [log])
    assert open_lease(note, keys) == ENTRY
    # Another key of the same name (a forger's), a changed range, a checkpoint offered as a lease.
    forger = Signer.generate(ORIGIN)
    with pytest.raises(VerificationError):
        open_lease(sign_note(lease_note_text(canonical(ENTRY)), [forger]), keys)
    widened = note.replace('"last_serial":1000', '"last_serial":9000')
    with pytest.raises(VerificationError):
        open_lease(widened, keys)
    checkpoint = sign_note(f"{ORIGIN}\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", [log])
    with pytest.raises(VerificationError) as error:
        open_lease(checkpoint, keys)
    assert error.value.reason == "ENTRY"
    other_kind = {**ENTRY, "kind": "disclosure"}
    with pytest.raises(VerificationError):
        open_lease(sign_note(lease_note_text(canonical(other_kind)), [log]), keys)
