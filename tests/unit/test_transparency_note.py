"""C2SP signed notes: keys, signing and opening, against the Go reference implementation's vectors."""

from __future__ import annotations

import pytest

from common.transparency.note import (
    MAX_SIGNATURES,
    NoteError,
    NoteSignature,
    Signer,
    Verifier,
    append_signatures,
    decode_base64,
    key_id,
    open_note,
    parse_signature_line,
    sign_note,
    split_note,
)

# The example keys, text and signatures of golang.org/x/mod/sumdb/note, the reference implementation of
# the signed-note format (its package documentation in note.go, and TestSign/TestOpen in note_test.go).
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_SIG = (
    "\u2014 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "\u2014 EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)
PETER_NOTE = TEXT + "\n" + PETER_SIG

# The example note of c2sp.org/signed-note: its text holds an empty line of its own.
SPEC_NOTE = (
    "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned \u00e8 subito sera.\n\n"
    "\u2014 quasimodo.example/salvatore "
    "NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n"
)

# A verifier key from github.com/transparency-dev/formats' note tests; its base64 holds a "+".
PLUS_VKEY = "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6"


def peter() -> Verifier:
    return Verifier.from_key(PETER_VKEY)


def enoch() -> Verifier:
    return Verifier.from_key(ENOCH_VKEY)


def reason(call: object, *args: object) -> str:
    with pytest.raises(NoteError) as caught:
        call(*args)  # type: ignore[operator]
    assert caught.value.message and str(caught.value) == caught.value.message
    return caught.value.reason


# --- Keys ----------------------------------------------------------------------------------------


def test_reference_keys_round_trip() -> None:
    signer = Signer.from_key(PETER_SKEY)
    assert signer.name == "PeterNeumann"
    assert signer.key_id == bytes.fromhex("c74f20a3")
    assert signer.private_key_text() == PETER_SKEY
    assert signer.verifier_key() == PETER_VKEY
    assert key_id("PeterNeumann", 0x01, signer.public_key) == signer.key_id
    verifier = peter()
    assert (verifier.name, verifier.key_id, verifier.public_key) == (
        signer.name,
        signer.key_id,
        signer.public_key,
    )
    assert verifier.verifier_key() == PETER_VKEY
    assert signer.verifier().verifier_key() == PETER_VKEY
    assert Verifier.from_key(PLUS_VKEY).key_id == bytes.fromhex("7997405c")


def test_generated_keys_round_trip() -> None:
    signer = Signer.generate("registry.example/log")
    again = Signer.from_key(signer.private_key_text())
    assert (again.name, again.key_id, again.public_key) == (signer.name, signer.key_id, signer.public_key)
    verifier = Verifier.from_key(signer.verifier_key())
    assert verifier.key_id == signer.key_id
    assert verifier.verify(b"hi", signer.sign(b"hi"))
    assert verifier.verify(b"hi", signer.sign("hi"))
    assert not verifier.verify(b"ho", signer.sign(b"hi"))
    assert not verifier.verify(b"hi", signer.sign(b"hi")[:-1])
    assert (
        Signer.from_seed("registry.example/log", bytes(32)).key_id
        == Signer.from_seed("registry.example/log", bytes(32)).key_id
    )


def _manglings(key: str) -> list[str]:
    """Every proper substring of ``key`` and every one-character increment, as Go's note tests try."""
    out = {key[i:j] for i in range(len(key) + 1) for j in range(i + 1, len(key) + 1)} - {key}
    out |= {key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :] for i in range(len(key))}
    return sorted(out)


def test_mangled_verifier_keys_are_refused() -> None:
    for mangled in [*_manglings(PETER_VKEY), ""]:
        with pytest.raises(NoteError):
            Verifier.from_key(mangled)
    # From Go's TestNewVerifier: a wrong-length key and an unknown algorithm, each with its key ID adjusted.
    assert reason(
        Verifier.from_key, "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
    ) == ("BAD_KEY")
    assert reason(
        Verifier.from_key, "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    ) == ("UNKNOWN_KEY_TYPE")
    assert reason(
        Verifier.from_key, "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    ) == ("KEY_ID_MISMATCH")


def test_mangled_signer_keys_are_refused() -> None:
    for mangled in _manglings(PETER_SKEY):
        with pytest.raises(NoteError):
            Signer.from_key(mangled)
    assert reason(Signer.from_key, PETER_SKEY.replace("c74f20a3", "c74f20a4")) == "KEY_ID_MISMATCH"
    assert reason(Signer.from_key, PETER_VKEY) == "BAD_KEY"


def test_cosigner_keys_are_not_note_keys() -> None:
    cosigner_vkey = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"  # type 0x04
    assert reason(Verifier.from_key, cosigner_vkey) == "UNKNOWN_KEY_TYPE"


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\tb", "a\nb", "a\u00a0b", "a\u2003b", "a\x01b"])
def test_invalid_key_names_are_refused(name: str) -> None:
    assert reason(Signer.generate, name) == "BAD_KEY"
    assert reason(Verifier, name, bytes(32)) == "BAD_KEY"


# --- Signing and opening -------------------------------------------------------------------------


def test_reference_note_is_reproduced_byte_for_byte() -> None:
    assert sign_note(TEXT, [Signer.from_key(PETER_SKEY)]) == PETER_NOTE


def test_reference_note_opens() -> None:
    opened = open_note(PETER_NOTE, [peter()])
    assert opened.text == TEXT
    assert [(s.name, s.key_id.hex()) for s in opened.verified] == [("PeterNeumann", "c74f20a3")]
    assert opened.verified[0].verifier.name == "PeterNeumann"
    assert opened.unknown == ()


def test_unknown_signatures_are_ignored_but_kept() -> None:
    both = TEXT + "\n" + PETER_SIG + ENOCH_SIG
    opened = open_note(both, [peter()])
    assert [s.name for s in opened.verified] == ["PeterNeumann"]
    assert [(s.name, s.key_id.hex()) for s in opened.unknown] == [("EnochRoot", "af0cfe78")]
    assert opened.unknown[0].line() == ENOCH_SIG

    opened = open_note(both, [peter(), enoch()])
    assert [s.name for s in opened.verified] == ["PeterNeumann", "EnochRoot"]
    assert opened.unknown == ()

    assert reason(open_note, both, []) == "NO_VERIFIED_SIGNATURE"


def test_a_key_sharing_only_the_name_or_only_the_id_is_unknown() -> None:
    impostor = Signer.generate("PeterNeumann")  # same name, another key ID
    note = sign_note(TEXT, [impostor])
    assert reason(open_note, note, [peter()]) == "NO_VERIFIED_SIGNATURE"
    raw = parse_signature_line(PETER_SIG)
    renamed = NoteSignature("PeterNeuman", raw.key_id, raw.signature).line()  # same ID, another name
    opened = open_note(TEXT + "\n" + renamed + PETER_SIG, [peter()])
    assert [s.name for s in opened.unknown] == ["PeterNeuman"]


def test_duplicates_are_kept_once_and_a_bad_known_signature_rejects_the_note() -> None:
    bad_peter = PETER_SIG[:58] + "ABCD" + PETER_SIG[58:]
    assert reason(open_note, TEXT + "\n" + bad_peter, [peter()]) == "BAD_SIGNATURE"
    assert reason(open_note, TEXT + "\n" + PETER_SIG + bad_peter, [peter()]) == "BAD_SIGNATURE"

    # From Go's TestOpen: repeated verified and unverified signatures.
    enoch_abcd = ENOCH_SIG[:58] + "ABCD" + ENOCH_SIG[58:]
    note = TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG + enoch_abcd
    opened = open_note(note, [peter()])
    assert [s.name for s in opened.verified] == ["PeterNeumann"]
    assert [s.line() for s in opened.unknown] == [ENOCH_SIG, enoch_abcd]


def test_ambiguous_verifiers() -> None:
    assert reason(open_note, TEXT + "\n" + ENOCH_SIG, [enoch(), peter(), enoch()]) == "AMBIGUOUS_KEY"
    assert open_note(PETER_NOTE, [enoch(), peter(), enoch()]).verified[0].name == "PeterNeumann"


def test_signature_count_limit() -> None:
    assert len(open_note(TEXT + "\n" + PETER_SIG * MAX_SIGNATURES, [peter()]).verified) == 1
    assert (
        reason(open_note, TEXT + "\n" + PETER_SIG * (MAX_SIGNATURES + 1), [peter()]) == "TOO_MANY_SIGNATURES"
    )
    assert reason(open_note, TEXT + "\n" + PETER_SIG * (MAX_SIGNATURES + 1), []) == "TOO_MANY_SIGNATURES"


NON_CANONICAL_SIG = PETER_SIG.replace("AM=\n", "AN=\n")  # same bytes, non-zero padding bits

MALFORMED_NOTES = {
    # From Go's TestOpen.
    "text only": TEXT,
    "no signatures": TEXT + "\n",
    "no final newline": TEXT + "\n" + PETER_SIG[:-1],
    "control character": "\x01" + TEXT + "\n" + PETER_SIG,
    "invalid UTF-8": "\udcff" + TEXT + "\n" + PETER_SIG,
    "space in name": TEXT + "\n\u2014 Bad Name " + PETER_SIG.split(" ")[-1],
    "line after signatures": TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
    # More.
    "carriage return": TEXT.replace("\n", "\r\n", 1) + "\n" + PETER_SIG,
    "tab": "\t" + TEXT + "\n" + PETER_SIG,
    "no em dash": TEXT + "\n" + PETER_SIG.replace("\u2014 ", "- "),
    "no space after dash": TEXT + "\n" + PETER_SIG.replace("\u2014 ", "\u2014"),
    "two spaces": TEXT + "\n" + PETER_SIG.replace("Neumann ", "Neumann  "),
    "empty signature": TEXT + "\n\u2014 PeterNeumann \n",
    "no signature": TEXT + "\n\u2014 PeterNeumann\n",
    "short signature": TEXT + "\n\u2014 PeterNeumann AAAAAA==\n",
    "not base64": TEXT + "\n" + PETER_SIG.replace("x08go", "x08g!"),
    "non-canonical base64": TEXT + "\n" + NON_CANONICAL_SIG,
    "unpadded base64": TEXT + "\n" + PETER_SIG.replace("AM=\n", "AM\n"),
    "plus in name": TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Peter+Neumann"),
    "empty": "",
}


@pytest.mark.parametrize("name", sorted(MALFORMED_NOTES))
def test_malformed_notes_are_refused(name: str) -> None:
    note = MALFORMED_NOTES[name]
    assert reason(open_note, note, [peter()]) == "MALFORMED"
    with pytest.raises(NoteError):
        split_note(note)


def test_every_flipped_byte_is_refused() -> None:
    encoded = PETER_NOTE.encode()
    for position in range(len(encoded)):
        for mask in (0x01, 0x20, 0x80):
            changed = bytearray(encoded)
            changed[position] ^= mask
            note = changed.decode("utf-8", errors="surrogateescape")
            with pytest.raises(NoteError) as caught:
                open_note(note, [peter()])
            in_text = position < len(TEXT.encode())
            expected = (
                {"BAD_SIGNATURE", "MALFORMED"}
                if in_text
                else {"BAD_SIGNATURE", "MALFORMED", "NO_VERIFIED_SIGNATURE"}
            )
            assert caught.value.reason in expected, (position, mask, caught.value)


def test_the_text_is_split_at_the_last_blank_line() -> None:
    text, signatures = split_note(SPEC_NOTE)
    assert (
        text
        == "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned \u00e8 subito sera.\n"
    )
    assert [s.name for s in signatures] == ["quasimodo.example/salvatore"]
    assert signatures[0].line() == SPEC_NOTE[len(text) + 1 :]
    # A blank line among signature lines makes the lines above it part of the text.
    text, signatures = split_note(PETER_NOTE + "\n" + ENOCH_SIG)
    assert (text, [s.name for s in signatures]) == (PETER_NOTE, ["EnochRoot"])
    assert reason(open_note, PETER_NOTE + "\n" + ENOCH_SIG, [peter()]) == "NO_VERIFIED_SIGNATURE"
    odd_text = "first\n\n\u2014 looks like a signature line\n\nlast\n\n"
    signer = Signer.generate("example.org/k")
    assert open_note(sign_note(odd_text, [signer]), [signer.verifier()]).text == odd_text


def test_sign_note_checks_its_input() -> None:
    signer = Signer.from_key(PETER_SKEY)
    assert reason(sign_note, "abc", [signer]) == "MALFORMED"
    assert reason(sign_note, "a\x01c\n", [signer]) == "MALFORMED"
    assert reason(sign_note, "\udcff\n", [signer]) == "MALFORMED"
    assert reason(sign_note, TEXT, []) == "NO_SIGNERS"


def test_several_signers() -> None:
    first, second = Signer.generate("example.org/a"), Signer.generate("example.org/b")
    note = sign_note(TEXT, [first, second])
    opened = open_note(note, [second.verifier(), first.verifier()])
    assert [s.name for s in opened.verified] == ["example.org/a", "example.org/b"]


def test_append_signatures() -> None:
    # Go's package documentation: Enoch's signature added to Peter's note.
    assert append_signatures(PETER_NOTE, [ENOCH_SIG]) == PETER_NOTE + ENOCH_SIG
    assert append_signatures(PETER_NOTE, [ENOCH_SIG, PETER_SIG, ENOCH_SIG]) == PETER_NOTE + ENOCH_SIG
    assert reason(append_signatures, PETER_NOTE, [ENOCH_SIG[:-1]]) == "MALFORMED"
    assert reason(append_signatures, PETER_NOTE, [ENOCH_SIG + ENOCH_SIG]) == "MALFORMED"
    assert reason(append_signatures, PETER_NOTE, [NON_CANONICAL_SIG]) == "MALFORMED"
    assert reason(append_signatures, TEXT, [ENOCH_SIG]) == "MALFORMED"
    assert reason(append_signatures, PETER_NOTE, [ENOCH_SIG.replace("Root", f"{n}") for n in range(100)]) == (
        "TOO_MANY_SIGNATURES"
    )


def test_signature_lines() -> None:
    signature = parse_signature_line(PETER_SIG)
    assert signature == parse_signature_line(PETER_SIG[:-1])
    assert signature.line() == PETER_SIG
    assert (signature.name, signature.key_id.hex(), len(signature.signature)) == (
        "PeterNeumann",
        "c74f20a3",
        64,
    )
    assert reason(parse_signature_line, PETER_SIG + PETER_SIG) == "MALFORMED"


def test_strict_base64() -> None:
    assert decode_base64("AA==") == b"\x00"
    assert decode_base64("AB==") is None  # non-zero padding bits
    assert decode_base64("AA") is None
    assert decode_base64("A A=") is None
    assert decode_base64("AA==\n") is None
    assert decode_base64("\u00e9\u00e9==") is None
    assert decode_base64("") == b""
