"""Checkpoints, cosignatures, the tlog-proof format, and offline verification of proofs end to end."""

from __future__ import annotations

import base64
from collections.abc import Callable, Collection, Mapping

import pytest

from common.transparency.checkpoint import Checkpoint, CheckpointError
from common.transparency.cosignature import (
    MAX_TIMESTAMP,
    CosignatureError,
    CosignatureSigner,
    CosignatureVerifier,
    cosign,
    cosignature_timestamp,
    cosigned_message,
    verify_cosignature,
)
from common.transparency.merkle import inclusion_proof, root_hash, subtrees_completed_by_batch
from common.transparency.note import (
    NoteError,
    Signer,
    append_signatures,
    open_note,
    parse_signature_line,
    sign_note,
)
from common.transparency.proof import MAX_PROOF_HASHES, Proof, ProofFormatError
from common.transparency.verify import CosignaturesPending, VerificationError, verify_proof

# The examples of c2sp.org/tlog-checkpoint and c2sp.org/tlog-cosignature.
SPEC_BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
SPEC_COSIGNATURE = (
    "\u2014 witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZC"
    "B9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)
SPEC_COSIGNED_MESSAGE = "cosignature/v1\ntime 1679315147\n" + SPEC_BODY
# A type 0x04 cosigner key from github.com/transparency-dev/formats' note tests.
REMORA_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
# The head of c2sp.org/tlog-proof's example (its signatures are elided there, so its note is replaced).
SPEC_PROOF_HEAD = (
    "c2sp.org/tlog-proof@v1\n"
    "extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ\n"
    "index 73894\n"
    "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\n"
    "B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\n"
    "EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=\n"
    "RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=\n"
    "AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=\n"
    "\n"
)

ORIGIN = "registry.example/log"
LOG = Signer.from_seed(ORIGIN, bytes(range(32)))
WITNESSES = [CosignatureSigner.from_seed(f"province-{n}.example/witness", bytes([n]) * 32) for n in (1, 2, 3)]
WITNESS_KEYS = [w.verifier_key() for w in WITNESSES]
LEAVES = [f"assignment {i}: 91{i:016d}".encode() for i in range(37)]


def _build_store() -> dict[tuple[int, int], bytes]:
    store: dict[tuple[int, int], bytes] = {}

    def read(keys: Collection[tuple[int, int]]) -> Mapping[tuple[int, int], bytes]:
        return {key: store[key] for key in keys}

    for start in range(0, len(LEAVES), 10):
        for level, index, value in subtrees_completed_by_batch(start, LEAVES[start : start + 10], read):
            store[(level, index)] = value
    return store


STORE = _build_store()


def read(keys: Collection[tuple[int, int]]) -> Mapping[tuple[int, int], bytes]:
    return {key: STORE[key] for key in keys}


def checkpoint_note(
    size: int, witnesses: list[CosignatureSigner] = WITNESSES, timestamp: int = 1_760_000_000
) -> str:
    body = Checkpoint(ORIGIN, size, root_hash(size, read)).body()
    note = sign_note(body, [LOG])
    return append_signatures(note, [cosign(body, w, timestamp + n) for n, w in enumerate(witnesses)])


def make_proof(
    index: int, size: int = len(LEAVES), *, extra: bytes | None = None, note: str | None = None
) -> str:
    return Proof(
        extra=LEAVES[index] if extra is None else extra,
        index=index,
        hashes=tuple(inclusion_proof(index, size, read)),
        checkpoint_note=checkpoint_note(size) if note is None else note,
    ).format()


def failure(text: str | bytes, **options: object) -> str:
    keys = options.pop("log_keys", [LOG.verifier_key()])
    with pytest.raises(VerificationError) as caught:
        verify_proof(text, keys, **options)  # type: ignore[arg-type]
    assert caught.value.message and str(caught.value) == caught.value.message
    return caught.value.reason


# --- Checkpoints ---------------------------------------------------------------------------------


def test_spec_checkpoint_round_trips() -> None:
    checkpoint = Checkpoint.parse(SPEC_BODY)
    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.size == 20852163
    assert checkpoint.root_hash == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert checkpoint.extensions == ()
    assert checkpoint.body() == SPEC_BODY
    extended = Checkpoint("o", 0, bytes(32), ("ext one", "ext two"))
    assert Checkpoint.parse(extended.body()) == extended
    assert extended.body().endswith("\next one\next two\n")


HASH = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="

BAD_CHECKPOINTS = {
    "no final newline": (f"o\n1\n{HASH}", "MALFORMED"),
    "two lines": ("o\n1\n", "MALFORMED"),
    "empty": ("", "MALFORMED"),
    "empty origin": (f"\n1\n{HASH}\n", "ORIGIN"),
    "carriage return in origin": (f"o\r\n1\n{HASH}\n", "ORIGIN"),
    "leading zero": (f"o\n01\n{HASH}\n", "SIZE"),
    "negative size": (f"o\n-1\n{HASH}\n", "SIZE"),
    "plus sign": (f"o\n+1\n{HASH}\n", "SIZE"),
    "spaced size": (f"o\n 1\n{HASH}\n", "SIZE"),
    "underscored size": (f"o\n1_0\n{HASH}\n", "SIZE"),
    "non-ASCII digit": (f"o\n\u0661\n{HASH}\n", "SIZE"),
    "size over 64 bits": (f"o\n{2**64}\n{HASH}\n", "SIZE"),
    "huge size": (f"o\n{'9' * 5000}\n{HASH}\n", "SIZE"),
    "empty size": (f"o\n\n{HASH}\n", "SIZE"),
    "hash not base64": ("o\n1\nnot base64!\n", "ROOT_HASH"),
    "short hash": (f"o\n1\n{base64.b64encode(bytes(31)).decode()}\n", "ROOT_HASH"),
    "non-canonical hash": (f"o\n1\n{HASH[:-2]}J=\n", "ROOT_HASH"),
    "empty extension": (f"o\n1\n{HASH}\n\n", "EXTENSION"),
    "tab in extension": (f"o\n1\n{HASH}\na\tb\n", "EXTENSION"),
}


@pytest.mark.parametrize("name", sorted(BAD_CHECKPOINTS))
def test_bad_checkpoints_are_refused(name: str) -> None:
    text, expected = BAD_CHECKPOINTS[name]
    with pytest.raises(CheckpointError) as caught:
        Checkpoint.parse(text)
    assert caught.value.reason == expected


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (("", 1, bytes(32)), "ORIGIN"),
        (("a\nb", 1, bytes(32)), "ORIGIN"),
        (("o", -1, bytes(32)), "SIZE"),
        (("o", 2**64, bytes(32)), "SIZE"),
        (("o", 1, bytes(31)), "ROOT_HASH"),
        (("o", 1, bytes(32), ("",)), "EXTENSION"),
        (("o", 1, bytes(32), ("a\nb",)), "EXTENSION"),
    ],
)
def test_checkpoint_fields_are_checked(fields: tuple[object, ...], expected: str) -> None:
    with pytest.raises(CheckpointError) as caught:
        Checkpoint(*fields)  # type: ignore[arg-type]
    assert caught.value.reason == expected


# --- Cosignatures --------------------------------------------------------------------------------


def test_spec_cosignature_vectors() -> None:
    assert cosigned_message(SPEC_BODY, 1679315147) == SPEC_COSIGNED_MESSAGE.encode()
    assert cosignature_timestamp(parse_signature_line(SPEC_COSIGNATURE).signature) == 1679315147
    verifier = CosignatureVerifier.from_key(REMORA_VKEY)
    assert (verifier.name, verifier.key_id.hex()) == ("remora.n621.de", "da77ade7")
    assert verifier.verifier_key() == REMORA_VKEY


def test_cosignature_round_trip() -> None:
    witness = CosignatureSigner.generate("province.example/witness")
    again = CosignatureSigner.from_key(witness.private_key_text())
    assert (again.name, again.key_id) == (witness.name, witness.key_id)
    verifier = CosignatureVerifier.from_key(witness.verifier_key())
    assert witness.verifier().key_id == verifier.key_id
    assert witness.verifier_key().split("+")[2].startswith("B")  # base64 of the type byte 0x04
    line = cosign(SPEC_BODY, witness, 1679315147)
    assert line.startswith("\u2014 province.example/witness ") and line.endswith("\n")
    assert verify_cosignature(SPEC_BODY, line, verifier) == 1679315147
    assert verify_cosignature(SPEC_BODY, parse_signature_line(line), verifier) == 1679315147
    for timestamp in (0, MAX_TIMESTAMP):
        assert verify_cosignature(SPEC_BODY, cosign(SPEC_BODY, witness, timestamp), verifier) == timestamp

    # A cosigner verifier also works as a note verifier.
    note = append_signatures(sign_note(SPEC_BODY, [LOG]), [line])
    opened = open_note(note, [verifier])
    assert [s.name for s in opened.verified] == ["province.example/witness"]
    assert [s.name for s in opened.unknown] == [ORIGIN]


def test_cosigner_and_log_keys_are_distinct() -> None:
    seed = bytes(range(32))
    cosigner, log = CosignatureSigner.from_seed(ORIGIN, seed), Signer.from_seed(ORIGIN, seed)
    assert cosigner.public_key == log.public_key and cosigner.key_id != log.key_id
    with pytest.raises(NoteError) as caught:
        CosignatureVerifier.from_key(log.verifier_key())
    assert caught.value.reason == "UNKNOWN_KEY_TYPE"
    with pytest.raises(NoteError) as caught:
        CosignatureSigner.from_key(log.private_key_text())
    assert caught.value.reason == "UNKNOWN_KEY_TYPE"
    # A plain note signature does not pass as a cosignature, nor the reverse.
    plain = parse_signature_line(sign_note(SPEC_BODY, [log]).split("\n\n")[-1])
    with pytest.raises(CosignatureError):
        verify_cosignature(SPEC_BODY, plain, cosigner.verifier())
    line = cosign(SPEC_BODY, cosigner, 5)
    assert not log.verifier().verify(SPEC_BODY.encode(), parse_signature_line(line).signature)


def cosignature_failure(body: str, line: str, verifier: CosignatureVerifier) -> str:
    with pytest.raises(CosignatureError) as caught:
        verify_cosignature(body, line, verifier)
    return caught.value.reason


def test_corrupted_cosignatures_are_refused() -> None:
    witness = WITNESSES[0]
    verifier = witness.verifier()
    body = Checkpoint(ORIGIN, 5, bytes(32), ("an extension",)).body()
    line = cosign(body, witness, 1_760_000_000)
    raw = base64.b64decode(line.split(" ")[-1])
    for position in range(len(raw)):
        changed = bytearray(raw)
        changed[position] ^= 0x80
        corrupt = f"\u2014 {witness.name} {base64.b64encode(changed).decode()}\n"
        expected = {"WRONG_KEY"} if position < 4 else {"BAD_SIGNATURE", "TIMESTAMP"}
        assert cosignature_failure(body, corrupt, verifier) in expected
    for changed_body in (body.replace("5", "6"), body.replace("extension", "extensiom"), body[:-13]):
        assert cosignature_failure(changed_body, line, verifier) == "BAD_SIGNATURE"
    assert cosignature_failure(body, line, WITNESSES[1].verifier()) == "WRONG_KEY"
    assert cosignature_failure(body, line.replace(" ", "  ", 1), verifier) == "MALFORMED"
    short = f"\u2014 {witness.name} {base64.b64encode(raw[:-1]).decode()}\n"
    assert cosignature_failure(body, short, verifier) == "MALFORMED"
    assert cosignature_failure("not a checkpoint\n", line, verifier) == "CHECKPOINT"


def test_cosigning_checks_its_input() -> None:
    for timestamp in (-1, MAX_TIMESTAMP + 1):
        with pytest.raises(CosignatureError) as caught:
            cosign(SPEC_BODY, WITNESSES[0], timestamp)
        assert caught.value.reason == "TIMESTAMP"
    with pytest.raises(CosignatureError) as caught:
        cosign("two\nlines\n", WITNESSES[0], 1)
    assert caught.value.reason == "CHECKPOINT"
    with pytest.raises(CosignatureError) as caught:
        cosignature_timestamp(bytes(71))
    assert caught.value.reason == "MALFORMED"


# --- The tlog-proof format -----------------------------------------------------------------------


def test_spec_proof_head_parses() -> None:
    note = checkpoint_note(len(LEAVES))
    proof = Proof.parse(SPEC_PROOF_HEAD + note)
    assert proof.extra == base64.b64decode("YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ")
    assert proof.index == 73894
    assert len(proof.hashes) == 5
    assert proof.hashes[0] == base64.b64decode("gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=")
    assert proof.checkpoint_note == note
    assert proof.format() == SPEC_PROOF_HEAD + note


@pytest.mark.parametrize("extra", [b"", b"x", bytes(range(256))])
@pytest.mark.parametrize("hashes", [0, 1, 6])
def test_proof_round_trips(extra: bytes, hashes: int) -> None:
    proof = Proof(extra, 12, tuple(bytes([n]) * 32 for n in range(hashes)), checkpoint_note(3))
    text = proof.format()
    assert Proof.parse(text) == proof
    assert text.startswith(
        "c2sp.org/tlog-proof@v1\n" + (f"extra {base64.b64encode(extra).decode()}\n" if extra else "")
    )
    assert "\nindex 12\n" in text and text.endswith(proof.checkpoint_note)


def test_proof_hashes_may_be_a_list() -> None:
    proof = Proof(b"", 0, [bytes(32)], checkpoint_note(1))  # type: ignore[arg-type]
    assert proof.hashes == (bytes(32),)


def _with_line(text: str, position: int, replacement: str | None) -> str:
    lines = text.split("\n")
    if replacement is None:
        del lines[position]
    else:
        lines[position] = replacement
    return "\n".join(lines)


GOOD = make_proof(5)  # lines: header, extra, index, 6 hashes, blank, checkpoint...
B64_HASH = base64.b64encode(bytes(32)).decode()

BAD_PROOFS: dict[str, tuple[Callable[[str], str], str]] = {
    "wrong header": (lambda t: _with_line(t, 0, "c2sp.org/tlog-proof@v2"), "HEADER"),
    "no header": (lambda t: _with_line(t, 0, None), "HEADER"),
    "header with space": (lambda t: _with_line(t, 0, "c2sp.org/tlog-proof@v1 "), "HEADER"),
    "empty text": (lambda t: "", "HEADER"),
    "extra not base64": (lambda t: _with_line(t, 1, "extra !!!!"), "EXTRA"),
    "extra non-canonical": (lambda t: _with_line(t, 1, "extra AB=="), "EXTRA"),
    "extra empty": (lambda t: _with_line(t, 1, "extra "), "EXTRA"),
    "extra without space": (lambda t: _with_line(t, 1, "extra" + t.split("\n")[1][6:]), "INDEX"),
    "no index": (lambda t: _with_line(t, 2, None), "INDEX"),
    "index leading zero": (lambda t: _with_line(t, 2, "index 05"), "INDEX"),
    "index negative": (lambda t: _with_line(t, 2, "index -5"), "INDEX"),
    "index empty": (lambda t: _with_line(t, 2, "index "), "INDEX"),
    "index two spaces": (lambda t: _with_line(t, 2, "index  5"), "INDEX"),
    "index over 64 bits": (lambda t: _with_line(t, 2, f"index {2**64}"), "INDEX"),
    "index huge": (lambda t: _with_line(t, 2, "index " + "9" * 5000), "INDEX"),
    "index before extra": (
        lambda t: "\n".join([t.split("\n")[0], t.split("\n")[2], t.split("\n")[1], *t.split("\n")[3:]]),
        "HASH",
    ),
    "hash not base64": (lambda t: _with_line(t, 3, "not a hash"), "HASH"),
    "hash too short": (lambda t: _with_line(t, 3, base64.b64encode(bytes(31)).decode()), "HASH"),
    "hash too long": (lambda t: _with_line(t, 3, base64.b64encode(bytes(33)).decode()), "HASH"),
    "hash non-canonical": (lambda t: _with_line(t, 3, B64_HASH[:-2] + "B="), "HASH"),
    "hash with space": (lambda t: _with_line(t, 3, " " + B64_HASH), "HASH"),
    "too many hashes": (
        lambda t: t.replace("index 5\n", "index 5\n" + (B64_HASH + "\n") * (MAX_PROOF_HASHES - 5)),
        "HASH",
    ),
    "no blank line": (lambda t: t.replace("\n\n", "\n"), "MALFORMED"),
    "blank line dropped": (
        lambda t: t.replace("\n\n", "\n", 1),
        "HASH",
    ),  # the checkpoint's lines read as hashes
    "no checkpoint": (lambda t: t.split("\n\n")[0] + "\n\n", "CHECKPOINT"),
    "checkpoint unsigned": (lambda t: t.split("\n\n")[0] + "\n\n" + SPEC_BODY, "CHECKPOINT"),
    "checkpoint without final newline": (lambda t: t[:-1], "CHECKPOINT"),
}


@pytest.mark.parametrize("name", sorted(BAD_PROOFS))
def test_bad_proofs_are_refused(name: str) -> None:
    change, expected = BAD_PROOFS[name]
    text = change(GOOD)
    assert text != GOOD
    with pytest.raises(ProofFormatError) as caught:
        Proof.parse(text)
    assert caught.value.reason == expected
    assert failure(text) == "FORMAT"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ((b"", -1, (), SPEC_BODY), "INDEX"),
        ((b"", 2**64, (), SPEC_BODY), "INDEX"),
        ((b"", 0, (bytes(31),), SPEC_BODY), "HASH"),
        ((b"", 0, (bytes(32),) * (MAX_PROOF_HASHES + 1), SPEC_BODY), "HASH"),
        ((b"", 0, (), SPEC_BODY), "CHECKPOINT"),
    ],
)
def test_proof_fields_are_checked(fields: tuple[object, ...], expected: str) -> None:
    with pytest.raises(ProofFormatError) as caught:
        Proof(*fields)  # type: ignore[arg-type]
    assert caught.value.reason == expected


# --- verify_proof end to end ---------------------------------------------------------------------


def test_every_leaf_verifies() -> None:
    size = len(LEAVES)
    note = checkpoint_note(size)
    for index in range(size):
        text = make_proof(index, note=note)
        result = verify_proof(
            text, [LOG.verifier_key()], origin=ORIGIN, witness_keys=WITNESS_KEYS, witnesses_needed=3
        )
        assert (result.index, result.extra, result.log_key) == (index, LEAVES[index], ORIGIN)
        assert result.checkpoint == Checkpoint(ORIGIN, size, root_hash(size, read))
        assert result.witnesses == tuple((w.name, 1_760_000_000 + n) for n, w in enumerate(WITNESSES))
        # The leaf given explicitly, with no extra data in the proof.
        bare = make_proof(index, extra=b"", note=note)
        assert "\nextra " not in bare
        assert verify_proof(bare, [LOG.verifier_key()], leaf_data=LEAVES[index]).extra == b""
        assert verify_proof(text.encode(), [LOG.verifier_key()]).witnesses == ()


@pytest.mark.parametrize("size", [1, 2, 3, 8, 37])
def test_proofs_at_other_tree_sizes(size: int) -> None:
    for index in {0, size // 2, size - 1}:
        text = make_proof(index, size)
        assert verify_proof(text, [LOG.verifier_key()], origin=ORIGIN).checkpoint.size == size


def test_every_flipped_byte_is_refused() -> None:
    text = make_proof(11).encode()
    for position in range(len(text)):
        for mask in (0x01, 0x20, 0x80):
            changed = bytearray(text)
            changed[position] ^= mask
            as_text = bytes(changed).decode("utf-8", errors="surrogateescape")
            for candidate in (as_text, bytes(changed)) if "\udc80" <= max(as_text) else (as_text,):
                with pytest.raises(VerificationError):
                    verify_proof(
                        candidate,
                        [LOG.verifier_key()],
                        origin=ORIGIN,
                        witness_keys=WITNESS_KEYS,
                        witnesses_needed=3,
                    )


def test_each_check_fails_with_its_reason() -> None:
    good = make_proof(3)
    other_log = Signer.generate(ORIGIN)
    assert failure(b"\xff" + good.encode()) == "FORMAT"
    assert failure("hello\n") == "FORMAT"
    assert failure(good, log_keys=[other_log.verifier_key()]) == "SIGNATURE"
    forged = sign_note(Checkpoint(ORIGIN, 37, root_hash(37, read)).body(), [other_log])
    assert failure(make_proof(3, note=forged)) == "SIGNATURE"
    log_line = next(line for line in good.split("\n") if line.startswith("\u2014 " + ORIGIN + " "))
    changed_line = log_line[:-30] + ("A" if log_line[-30] != "A" else "B") + log_line[-29:]
    assert failure(good.replace(log_line, changed_line)) == "SIGNATURE"
    assert failure(make_proof(3, note=sign_note("not\na checkpoint\n", [LOG]))) == "CHECKPOINT"
    assert failure(good, origin="registry.example/other") == "ORIGIN"
    beyond = Proof(b"", 37, (), checkpoint_note(37)).format()
    assert failure(beyond) == "INDEX"
    assert failure(good, leaf_data=b"something else") == "INCLUSION"
    assert failure(make_proof(3, extra=b"something else")) == "INCLUSION"
    assert failure(make_proof(4).replace("index 4", "index 3")) == "INCLUSION"
    few = make_proof(3, note=checkpoint_note(37, WITNESSES[:2]))
    # Too few cosignatures, each verifying: pending, naming who cosigned and who has not yet.
    assert failure(few, witness_keys=WITNESS_KEYS, witnesses_needed=3) == "COSIGNATURES_PENDING"
    with pytest.raises(CosignaturesPending) as pending:
        verify_proof(few, [LOG.verifier_key()], witness_keys=WITNESS_KEYS, witnesses_needed=3)
    assert pending.value.cosigned == tuple(w.name for w in WITNESSES[:2])
    assert pending.value.missing == (WITNESSES[2].name,)
    verify_proof(few, [LOG.verifier_key()], witness_keys=WITNESS_KEYS, witnesses_needed=2)
    stale = cosign(Checkpoint(ORIGIN, 36, root_hash(36, read)).body(), WITNESSES[2], 5)
    mixed = make_proof(3, note=append_signatures(checkpoint_note(37, WITNESSES[:2]), [stale]))
    assert failure(mixed, witness_keys=WITNESS_KEYS, witnesses_needed=2) == "WITNESSES"


def test_good_proof_passes_every_option() -> None:
    good = make_proof(3)
    result = verify_proof(
        good,
        [Signer.generate("another/log").verifier_key(), LOG.verifier_key()],
        origin=ORIGIN,
        witness_keys=[*WITNESS_KEYS, CosignatureSigner.generate("absent.example/w").verifier_key()],
        witnesses_needed=3,
        leaf_data=LEAVES[3],
    )
    assert [name for name, _ in result.witnesses] == [w.name for w in WITNESSES]


def test_unlisted_witnesses_are_ignored() -> None:
    stranger = CosignatureSigner.generate("stranger.example/w")
    body = Checkpoint(ORIGIN, 37, root_hash(37, read)).body()
    note = append_signatures(checkpoint_note(37, WITNESSES[:1]), [cosign(body, stranger, 1)])
    result = verify_proof(
        make_proof(3, note=note), [LOG.verifier_key()], witness_keys=WITNESS_KEYS[:1], witnesses_needed=1
    )
    assert [name for name, _ in result.witnesses] == [WITNESSES[0].name]


def test_extra_is_not_authenticated_when_the_leaf_is_given() -> None:
    text = make_proof(3, extra=b"context the log did not sign")
    result = verify_proof(text, [LOG.verifier_key()], leaf_data=LEAVES[3])
    assert result.extra == b"context the log did not sign"
    assert failure(text) == "INCLUSION"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"log_keys": []}, "KEYS"),
        ({"log_keys": ["not a key"]}, "KEYS"),
        ({"log_keys": [WITNESS_KEYS[0]]}, "KEYS"),
        ({"witness_keys": [LOG.verifier_key()]}, "KEYS"),
        ({"witness_keys": WITNESS_KEYS[:2], "witnesses_needed": 3}, "KEYS"),
        ({"witnesses_needed": -1}, "KEYS"),
    ],
)
def test_unusable_keys(options: dict[str, object], expected: str) -> None:
    assert failure(make_proof(3), **options) == expected
