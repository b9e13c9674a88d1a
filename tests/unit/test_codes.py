"""The unified registration code (domain.md Part B): what is generated parses back, every typo is caught.

The check character is recomputed here from domain.md's formula, independently of ``common.codes``,
so a wrong weight or alphabet in the module cannot hide behind its own arithmetic.
"""

from __future__ import annotations

import random
import re

import pytest

from common import codes, regions
from common.codes import MAX_SERIAL, CodeDefect, ObjectType
from common.errors import InvalidValue

# domain.md Part B: the USCC alphabet, digits and upper-case letters without I, O, S, V, Z.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
OUTSIDE = ["I", "O", "a", "-"]
ISSUERS = [r.code for r in regions.all_regions()]
YEARS = [(0, 0), (26, 26), (99, 99), (2026, 26)]
SERIALS = [1, 30, 31, 961, 12_345_678_901, MAX_SERIAL]


def expected_check(body: str) -> str:
    """domain.md's formula, written out: sum value(c) * 3**(i-1) mod 31 for i = 1..18."""
    assert len(body) == 18
    total = sum(ALPHABET.index(c) * (3 ** (i - 1) % 31) for i, c in enumerate(body, start=1))
    return ALPHABET[(31 - total % 31) % 31]


def with_check(body: str) -> str:
    return body + expected_check(body)


def serial_text(serial: int) -> str:
    """The serial in base 31 over the alphabet, left-padded to nine characters."""
    digits = ""
    while serial:
        serial, rest = divmod(serial, 31)
        digits = ALPHABET[rest] + digits
    return digits.rjust(9, "0")


def reason_of(value: str) -> str:
    with pytest.raises(InvalidValue) as caught:
        codes.parse(value)
    return caught.value.reason


# --- generate and parse ---------------------------------------------------------------------------


def test_the_module_uses_the_documented_alphabet_and_limits() -> None:
    assert codes.ALPHABET == ALPHABET
    assert codes.CODE_LENGTH == 19
    assert MAX_SERIAL == 31**9 - 1
    assert serial_text(MAX_SERIAL) == "YYYYYYYYY"


def test_every_region_is_a_possible_issuer() -> None:
    # The round trip below covers every issuer only if the list is the full one.
    assert len(ISSUERS) == 36
    assert ISSUERS[0] == regions.NATIONAL
    assert {"320000", "440000", regions.XPCC, "820000"} <= set(ISSUERS)


@pytest.mark.parametrize("object_type", list(ObjectType))
@pytest.mark.parametrize("issuer", ISSUERS)
def test_generated_codes_parse_back_into_their_parts(object_type: ObjectType, issuer: str) -> None:
    checked = 0
    for year, two_digits in YEARS:
        for serial in SERIALS:
            code = codes.generate(object_type, issuer, year, serial)
            expected = f"{int(object_type)}{issuer}{two_digits:02d}{serial_text(serial)}"
            assert code == with_check(expected), (year, serial)

            parsed = codes.parse(code)
            assert parsed.object_type is object_type
            assert parsed.issuer == issuer
            assert parsed.year == two_digits
            assert parsed.serial == serial
            assert parsed.check == code[-1]
            assert str(parsed) == code
            assert codes.is_valid(code)
            checked += 1
    assert checked == len(YEARS) * len(SERIALS)


def test_generate_accepts_the_object_type_as_a_plain_number() -> None:
    assert codes.generate(2, "110000", 2026, 5) == codes.generate(
        ObjectType.DATA_PRODUCT_OR_SERVICE, "110000", 26, 5
    )


@pytest.mark.parametrize(
    ("serial", "text"),
    [(1, "000000001"), (30, "00000000Y"), (31, "000000010"), (961, "000000100"), (MAX_SERIAL, "Y" * 9)],
)
def test_serials_are_written_in_base_31_over_the_alphabet(serial: int, text: str) -> None:
    code = codes.generate(ObjectType.PUBLIC_DATA_RESOURCE, "320000", 26, serial)
    assert code[9:18] == text


def test_the_example_from_the_specification_decodes() -> None:
    parsed = codes.parse("132000026PHTXAX732G")
    assert parsed.object_type is ObjectType.PUBLIC_DATA_RESOURCE
    assert parsed.issuer == "320000"
    assert parsed.year == 26
    # The serial's value, computed digit by digit in base 31.
    value = 0
    for c in "PHTXAX732":
        value = value * 31 + ALPHABET.index(c)
    assert parsed.serial == value
    assert parsed.check == "G" == expected_check("132000026PHTXAX732")
    assert str(parsed) == "132000026PHTXAX732G"


@pytest.mark.parametrize(
    ("object_type", "issuer", "year", "serial"),
    [
        pytest.param(1, "320000", 26, 0, id="serial-zero"),
        pytest.param(1, "320000", 26, MAX_SERIAL + 1, id="serial-too-large"),
        pytest.param(1, "320000", 26, -1, id="serial-negative"),
        pytest.param(1, "990000", 26, 1, id="unknown-issuer"),
        pytest.param(1, "320100", 26, 1, id="city-issuer"),
        pytest.param(1, "", 26, 1, id="empty-issuer"),
        pytest.param(4, "320000", 26, 1, id="object-type-4"),
        pytest.param(0, "320000", 26, 1, id="object-type-0"),
        pytest.param(1, "320000", -1, 1, id="negative-year"),
    ],
)
def test_generate_refuses_arguments_no_valid_code_has(
    object_type: int, issuer: str, year: int, serial: int
) -> None:
    with pytest.raises(ValueError):
        codes.generate(object_type, issuer, year, serial)


# --- the check character --------------------------------------------------------------------------


def test_check_character_follows_the_documented_formula() -> None:
    rng = random.Random(20260301)
    for _ in range(400):
        body = "".join(rng.choice(ALPHABET) for _ in range(18))
        assert codes.check_character(body) == expected_check(body), body


def test_check_character_of_known_bodies() -> None:
    # All zeros sum to 0, so the check is alphabet[0]; a single 1 at weight 1 gives alphabet[30].
    assert codes.check_character("0" * 18) == "0"
    assert codes.check_character("1" + "0" * 17) == "Y"
    # Position 2 has weight 3: 31 - 3 = 28 -> 'W'.
    assert codes.check_character("01" + "0" * 16) == "W"


# --- every single typo and every neighbour swap is caught -----------------------------------------


def sample_codes(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    found: set[str] = set()
    while len(found) < count:
        serial = rng.choice([rng.randint(1, 2000), rng.randint(1, MAX_SERIAL)])
        found.add(
            codes.generate(rng.choice(list(ObjectType)), rng.choice(ISSUERS), rng.randint(0, 2099), serial)
        )
    return sorted(found)


SAMPLE = sample_codes(250, seed=19)


def test_the_sample_is_made_of_valid_codes() -> None:
    assert len(SAMPLE) == 250
    for code in SAMPLE:
        assert code == with_check(code[:18])
        assert codes.is_valid(code)


def test_every_single_character_substitution_is_rejected() -> None:
    checked = 0
    for code in SAMPLE:
        for position in range(19):
            for replacement in [*ALPHABET, *OUTSIDE]:
                if replacement == code[position]:
                    continue
                typo = code[:position] + replacement + code[position + 1 :]
                with pytest.raises(InvalidValue):
                    codes.parse(typo)
                assert not codes.is_valid(typo), (code, typo)
                checked += 1
    # 19 positions, 30 other alphabet characters and 4 outside it, for each code.
    assert checked == len(SAMPLE) * 19 * (30 + len(OUTSIDE))


def test_every_swap_of_two_different_neighbours_is_rejected() -> None:
    checked = 0
    checked_into_check_character = 0
    expected = 0
    for code in SAMPLE:
        expected += sum(1 for i in range(18) if code[i] != code[i + 1])
        for i in range(18):
            if code[i] == code[i + 1]:
                continue
            swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
            with pytest.raises(InvalidValue):
                codes.parse(swapped)
            assert not codes.is_valid(swapped), (code, swapped)
            checked += 1
            if i == 17:
                checked_into_check_character += 1
    assert checked == expected
    # Most codes have distinct last serial and check characters, and many neighbours differ.
    assert checked_into_check_character >= 200
    assert checked >= len(SAMPLE) * 8


def test_a_swap_in_the_body_is_reported_as_a_check_mismatch() -> None:
    code = "132000026PHTXAX732G"
    swapped = code[:10] + code[11] + code[10] + code[12:]  # 'H' and 'T' of the serial
    assert reason_of(swapped) == str(CodeDefect.CHECK_MISMATCH)


# --- each kind of malformed input is named --------------------------------------------------------

VALID = "132000026PHTXAX732G"


@pytest.mark.parametrize("value", ["", " ", "   ", "\t\n"])
def test_empty_input(value: str) -> None:
    assert reason_of(value) == str(CodeDefect.EMPTY)
    assert not codes.is_valid(value)


@pytest.mark.parametrize("value", [VALID[:18], VALID + "0", VALID[:1], VALID * 2])
def test_wrong_length(value: str) -> None:
    assert reason_of(value) == str(CodeDefect.WRONG_LENGTH)


@pytest.mark.parametrize(
    ("position", "character"),
    [
        pytest.param(10, "p", id="lower-case"),
        pytest.param(12, "I", id="letter-I"),
        pytest.param(14, "O", id="letter-O"),
        pytest.param(5, "\uff10", id="full-width-zero"),
        pytest.param(19, "g", id="lower-case-check"),
    ],
)
def test_a_character_outside_the_alphabet_is_named_with_its_position(position: int, character: str) -> None:
    value = VALID[: position - 1] + character + VALID[position:]
    assert len(value) == 19
    with pytest.raises(InvalidValue) as caught:
        codes.parse(value)
    assert caught.value.reason == str(CodeDefect.BAD_CHARACTER)
    assert re.search(rf"\bcharacter {position}\b", caught.value.message), caught.value.message


def test_a_lower_case_code_is_not_accepted() -> None:
    assert reason_of(VALID.lower()) == str(CodeDefect.BAD_CHARACTER)


@pytest.mark.parametrize(
    ("body", "defect"),
    [
        pytest.param("0320000260000000A1", CodeDefect.UNKNOWN_OBJECT_TYPE, id="type-0"),
        pytest.param("4320000260000000A1", CodeDefect.UNKNOWN_OBJECT_TYPE, id="type-4"),
        pytest.param("A320000260000000A1", CodeDefect.UNKNOWN_OBJECT_TYPE, id="type-letter"),
        pytest.param("1990000260000000A1", CodeDefect.UNKNOWN_ISSUER, id="issuer-990000"),
        pytest.param("1320100260000000A1", CodeDefect.UNKNOWN_ISSUER, id="issuer-city"),
        pytest.param("1000000260000000A1", CodeDefect.UNKNOWN_ISSUER, id="issuer-zeros"),
        pytest.param("13200002A0000000A1", CodeDefect.BAD_YEAR, id="year-letter"),
        pytest.param("1320000A60000000A1", CodeDefect.BAD_YEAR, id="year-letter-first"),
        pytest.param("132000026000000000", CodeDefect.BAD_SERIAL, id="serial-zero"),
    ],
)
def test_a_single_defect_with_a_correct_check_character_is_named(body: str, defect: CodeDefect) -> None:
    value = with_check(body)
    assert reason_of(value) == str(defect)
    assert not codes.is_valid(value)


def test_a_wrong_check_character_is_a_check_mismatch() -> None:
    for wrong in ALPHABET:
        if wrong == VALID[-1]:
            continue
        assert reason_of(VALID[:18] + wrong) == str(CodeDefect.CHECK_MISMATCH)


@pytest.mark.parametrize("value", [f"  {VALID}", f"{VALID} ", f"\t{VALID}\n", f" {VALID} "])
def test_surrounding_white_space_is_accepted(value: str) -> None:
    parsed = codes.parse(value)
    assert str(parsed) == VALID
    assert codes.is_valid(value)


def test_inner_white_space_is_not_accepted() -> None:
    assert reason_of(VALID[:9] + " " + VALID[9:18]) == str(CodeDefect.BAD_CHARACTER)
