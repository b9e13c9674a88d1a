"""The unified registration code (统一登记编码): generate, parse into its parts, validate.

Layout (domain.md Part B), 19 characters::

    1 320000 26 00000001X C
    | |      |  |         `- check: GB 32100 mod-31 over the first 18 characters
    | |      |  `----------- serial: 9 characters in the code alphabet, from 1
    | |      `-------------- year of assignment, last two digits
    | `--------------------- issuer: GB/T 2260 code of the registering node (100000 = national)
    `----------------------- object type: 1 resource, 2 product or service, 3 open data resource

The check is GB 32100-2015's: value(c) is c's index in the alphabet, the weights are 3**(i-1) mod 31,
check = alphabet[(31 - sum mod 31) mod 31]. 31 is prime and every weight is non-zero, so every
single-character substitution changes the sum; neighbouring weights differ by a factor of 3, so every
swap of two different neighbours does too.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from common import regions
from common.errors import InvalidValue

__all__ = [
    "ALPHABET",
    "CODE_LENGTH",
    "MAX_SERIAL",
    "CodeDefect",
    "ObjectType",
    "RegistrationCode",
    "check_character",
    "generate",
    "is_valid",
    "parse",
]

#: GB 32100's 31 characters: digits and upper-case letters without I, O, S, V and Z.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_WEIGHTS = tuple(pow(3, i, 31) for i in range(18))
CODE_LENGTH = 19
SERIAL_LENGTH = 9
#: The largest serial that fits in nine characters (31**9 - 1, about 2.6e13).
MAX_SERIAL = len(ALPHABET) ** SERIAL_LENGTH - 1


class ObjectType(enum.IntEnum):
    """What is registered; the value is the code's first character (and the proto enum's number)."""

    PUBLIC_DATA_RESOURCE = 1
    DATA_PRODUCT_OR_SERVICE = 2
    OPEN_DATA_RESOURCE = 3


class CodeDefect(enum.StrEnum):
    """Why a string is not a valid code. Values are the ``ErrorInfo`` reasons sent to callers."""

    EMPTY = "CODE_EMPTY"
    WRONG_LENGTH = "CODE_WRONG_LENGTH"
    BAD_CHARACTER = "CODE_BAD_CHARACTER"
    UNKNOWN_OBJECT_TYPE = "CODE_UNKNOWN_OBJECT_TYPE"
    UNKNOWN_ISSUER = "CODE_UNKNOWN_ISSUER"
    BAD_YEAR = "CODE_BAD_YEAR"
    BAD_SERIAL = "CODE_BAD_SERIAL"
    CHECK_MISMATCH = "CODE_CHECK_MISMATCH"


@dataclass(frozen=True, slots=True)
class RegistrationCode:
    """A valid code taken apart. ``str()`` gives the 19 characters back."""

    object_type: ObjectType
    issuer: str
    year: int  # two digits, 0..99
    serial: int
    check: str

    def __str__(self) -> str:
        return _body(self.object_type, self.issuer, self.year, self.serial) + self.check


def check_character(body: str) -> str:
    """The check character for the first 18 characters of a code."""
    total = sum(_VALUE[c] * w for c, w in zip(body, _WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def _encode_serial(serial: int) -> str:
    digits = []
    for _ in range(SERIAL_LENGTH):
        serial, rest = divmod(serial, 31)
        digits.append(ALPHABET[rest])
    return "".join(reversed(digits))


def _body(object_type: int, issuer: str, year: int, serial: int) -> str:
    return f"{int(object_type)}{issuer}{year % 100:02d}{_encode_serial(serial)}"


def generate(object_type: ObjectType | int, issuer: str, year: int, serial: int) -> str:
    """The code for a serial in (issuer, object type, year). ``year`` may be four digits.

    Raises ValueError for arguments no valid code has (the coding authority never passes them).
    """
    object_type = ObjectType(object_type)
    if not regions.is_region(issuer):
        raise ValueError(f"issuer {issuer!r} is not a GB/T 2260 province-level region or 100000")
    if not 1 <= serial <= MAX_SERIAL:
        raise ValueError(f"serial {serial} is outside 1..{MAX_SERIAL}")
    if year < 0:
        raise ValueError("year must not be negative")
    body = _body(object_type, issuer, year, serial)
    return body + check_character(body)


def _fail(defect: CodeDefect, message: str) -> InvalidValue:
    return InvalidValue(str(defect), message)


def parse(value: str) -> RegistrationCode:
    """Take a code apart, or raise :class:`InvalidValue` whose ``reason`` is a :class:`CodeDefect`.

    Surrounding white space is ignored; lower case is not accepted (codes are printed in upper case,
    and accepting both would give one code two spellings).
    """
    code = value.strip()
    if not code:
        raise _fail(CodeDefect.EMPTY, "the code is empty")
    if len(code) != CODE_LENGTH:
        raise _fail(CodeDefect.WRONG_LENGTH, f"a code has {CODE_LENGTH} characters, this one has {len(code)}")
    for position, c in enumerate(code, start=1):
        if c not in _VALUE:
            raise _fail(
                CodeDefect.BAD_CHARACTER,
                f"character {position} ({c!r}) is not in the code alphabet {ALPHABET}",
            )
    if code[0] not in "123":
        raise _fail(
            CodeDefect.UNKNOWN_OBJECT_TYPE,
            f"the first character ({code[0]}) must be an object type: 1, 2 or 3",
        )
    issuer = code[1:7]
    if not regions.is_region(issuer):
        raise _fail(
            CodeDefect.UNKNOWN_ISSUER,
            f"characters 2-7 ({issuer}) are not 100000 or a province-level region code",
        )
    year = code[7:9]
    if not year.isdigit():
        raise _fail(CodeDefect.BAD_YEAR, f"characters 8-9 ({year}) must be the two digits of a year")
    serial = 0
    for c in code[9:18]:
        serial = serial * 31 + _VALUE[c]
    if serial == 0:
        raise _fail(CodeDefect.BAD_SERIAL, "the serial (characters 10-18) is zero; serials start at 1")
    expected = check_character(code[:18])
    if code[18] != expected:
        raise _fail(
            CodeDefect.CHECK_MISMATCH,
            "the check character does not match: a character is mistyped or two are swapped",
        )
    return RegistrationCode(ObjectType(int(code[0])), issuer, int(year), serial, code[18])


def is_valid(value: str) -> bool:
    """Whether ``value`` is a well-formed code with a matching check character."""
    try:
        parse(value)
    except InvalidValue:
        return False
    return True
