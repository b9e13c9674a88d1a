"""Unified Social Credit Codes (统一社会信用代码, USCC) per GB 32100-2015.

A USCC identifies every registration subject. It has 18 characters from the alphabet
``0123456789ABCDEFGHJKLMNPQRTUWXY`` (no I, O, S, V or Z):

======== ======================================================================
position content
======== ======================================================================
1        registration department (登记管理部门): ``1``–``9``, ``A``, ``N`` or ``Y``
2        category of the organisation within that department (机构类别): ``1``–``9``
3–8      GB/T 2260 division code of the registration authority (登记管理机关行政区划码)
9–17     subject identifier (主体标识码), the former organisation code
18       check character: GB 32100's mod-31 check over the first 17 characters
======== ======================================================================

The check character is computed with python-stdnum's :mod:`stdnum.cn.uscc`. Its ``validate`` is not
used: it rejects codes whose first character is a letter, yet ``A`` (the Central Military Commission's
establishment office), ``N`` (agriculture: rural collective economic organisations) and ``Y`` (other
departments) are legitimate registration departments.
"""

from __future__ import annotations

from dataclasses import dataclass

from stdnum.cn import uscc as _stdnum_uscc

from common import regions
from common.errors import InvalidValue

__all__ = [
    "ALPHABET",
    "DEPARTMENTS",
    "LENGTH",
    "USCC",
    "is_valid",
    "parse",
    "validate",
]

#: The characters a USCC may contain (GB 32100-2015, table 1).
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
#: Number of characters in a USCC.
LENGTH = 18
#: Registration departments (first character) and what they are, per GB 32100-2015 annex A.
DEPARTMENTS: dict[str, str] = {
    "1": "institutional establishment (机构编制)",
    "2": "foreign affairs (外交)",
    "3": "justice administration (司法行政)",
    "4": "culture (文化)",
    "5": "civil affairs (民政)",
    "6": "tourism (旅游)",
    "7": "religious affairs (宗教)",
    "8": "trade unions (工会)",
    "9": "market regulation (工商)",
    "A": "Central Military Commission establishment office (中央军委改革和编制办公室)",
    "N": "agriculture and rural affairs (农业)",
    "Y": "other departments (其他)",
}
_CATEGORIES = frozenset("123456789")
_FORBIDDEN = {"I", "O", "S", "V", "Z"}


@dataclass(frozen=True, slots=True)
class USCC:
    """A valid USCC split into its parts; ``value`` is the whole code in compact upper-case form."""

    value: str
    department: str
    category: str
    division: str
    organization: str
    check: str

    @property
    def province(self) -> regions.Region:
        """The province-level region (or the national level) of the registration authority."""
        return regions.province_of(self.division)

    def __str__(self) -> str:
        return self.value


def _character_problem(code: str) -> tuple[int, str] | None:
    """The 1-based position and character of the first character outside the alphabet, if any."""
    for index, char in enumerate(code, start=1):
        if char not in ALPHABET:
            return index, char
    return None


def parse(value: str) -> USCC:
    """Check ``value`` and return its parts.

    Spaces and dashes are ignored and lower case is accepted. Raises
    :class:`~common.errors.InvalidValue` with one of the reasons ``EMPTY``, ``WRONG_LENGTH``,
    ``BAD_CHARACTER``, ``UNKNOWN_REGISTRATION_DEPARTMENT``, ``BAD_CATEGORY``, ``UNKNOWN_REGION`` or
    ``CHECK_MISMATCH``, checked in that order.
    """
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue("EMPTY", "a Unified Social Credit Code is required")
    code = _stdnum_uscc.compact(value)
    if not code:
        raise InvalidValue("EMPTY", "a Unified Social Credit Code is required")
    if len(code) != LENGTH:
        raise InvalidValue(
            "WRONG_LENGTH",
            f"a Unified Social Credit Code has {LENGTH} characters, this one has {len(code)}",
        )
    problem = _character_problem(code)
    if problem is not None:
        position, char = problem
        hint = "; I, O, S, V and Z are never used" if char in _FORBIDDEN else ""
        raise InvalidValue(
            "BAD_CHARACTER",
            f"character {char!r} at position {position} is not allowed in a Unified Social Credit "
            f"Code, which uses only digits and the letters A-H, J-N, P, Q, R, T, U, W, X and Y{hint}",
        )
    department, category, division = code[0], code[1], code[2:8]
    if department not in DEPARTMENTS:
        raise InvalidValue(
            "UNKNOWN_REGISTRATION_DEPARTMENT",
            f"the first character {department!r} is not a registration department: "
            "it must be a digit 1-9 or one of the letters A, N, Y",
        )
    if category not in _CATEGORIES:
        raise InvalidValue(
            "BAD_CATEGORY",
            f"the second character {category!r} is not an organisation category: it must be a digit 1-9",
        )
    try:
        regions.province_of(division)
    except InvalidValue as exc:
        raise InvalidValue(
            "UNKNOWN_REGION",
            f"characters 3 to 8 ({division!r}) are not the division code of a province-level region",
        ) from exc
    expected = _stdnum_uscc.calc_check_digit(code[:-1])
    if code[-1] != expected:
        raise InvalidValue(
            "CHECK_MISMATCH",
            f"the check character does not match: for the first 17 characters it should be "
            f"{expected!r}, not {code[-1]!r}; the code may have been mistyped",
        )
    return USCC(
        value=code,
        department=department,
        category=category,
        division=division,
        organization=code[8:17],
        check=code[17],
    )


def validate(value: str) -> str:
    """Check ``value`` and return it in compact upper-case form; raises like :func:`parse`."""
    return parse(value).value


def is_valid(value: str) -> bool:
    """Whether ``value`` is a valid USCC (spaces, dashes and lower case tolerated)."""
    try:
        parse(value)
    except InvalidValue:
        return False
    return True
