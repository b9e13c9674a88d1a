"""Unified Social Credit Codes (GB 32100-2015): published codes pass, each kind of mistake is named."""

from __future__ import annotations

import pytest

from common import uscc
from common.errors import InvalidValue

# Codes published by their holders or in public references:
# - 91110000600037341L: python-stdnum's own documented valid example (stdnum.cn.uscc).
# - 914403001922038216: Huawei Technologies Co., Ltd., shown as its organisation code in the infobox of
#   the Chinese Wikipedia article 華為 (zh.wikipedia.org/zh-hk/華爲).
# - the others: from the list of codes "found online" in python-stdnum's tests/test_cn_uscc.doctest.
PUBLISHED = [
    # code, department, category, division, province
    ("91110000600037341L", "9", "1", "110000", "110000"),
    ("914403001922038216", "9", "1", "440300", "440000"),
    ("121200004013590816", "1", "2", "120000", "120000"),  # a public institution (事业单位), Tianjin
    ("91310000631696382C", "9", "1", "310000", "310000"),
    ("92340602MA2PBMEM24", "9", "2", "340602", "340000"),  # an individual business (个体工商户)
    ("91620105L015101280", "9", "1", "620105", "620000"),
    ("9144030071526726XG", "9", "1", "440300", "440000"),
]

# No letter-led code could be found published in the reference corpus, so these are built: plausible
# parts with the check character computed by GB 32100's mod-31 rule. They stand for the registration
# departments that python-stdnum wrongly rejects: N (agriculture: rural collective economic
# organisations, here a village-level one in Jiangning, Nanjing), Y (other departments) and A (the Central
# Military Commission's establishment office, here at the national level).
LETTER_LED = [
    ("N2320115MA20H7K3XT", "N", "2", "320000"),
    ("Y1110105MA01B2C3DY", "Y", "1", "110000"),
    ("A1100000MB0123456L", "A", "1", "100000"),
]


@pytest.mark.parametrize(("code", "department", "category", "division", "province"), PUBLISHED)
def test_published_codes_are_valid_and_split_into_their_parts(
    code: str, department: str, category: str, division: str, province: str
) -> None:
    parsed = uscc.parse(code)
    assert parsed.value == code
    assert (parsed.department, parsed.category, parsed.division) == (department, category, division)
    assert parsed.organization == code[8:17]
    assert parsed.check == code[17]
    assert parsed.province.code == province
    assert uscc.is_valid(code)


def test_huawei_is_registered_in_guangdong() -> None:
    assert uscc.parse("914403001922038216").province.name == "广东省"


@pytest.mark.parametrize(("code", "department", "category", "province"), LETTER_LED)
def test_codes_led_by_a_letter_department_are_valid(
    code: str, department: str, category: str, province: str
) -> None:
    parsed = uscc.parse(code)
    assert (parsed.department, parsed.category) == (department, category)
    assert parsed.province.code == province
    assert uscc.validate(code) == code


@pytest.mark.parametrize(
    "typed",
    ["91 110000 600037341L", "91-110000-600037341-l", "  91110000600037341l  ", "91110000600037341L"],
)
def test_spaces_dashes_and_lower_case_are_accepted_and_normalised(typed: str) -> None:
    assert uscc.validate(typed) == "91110000600037341L"


@pytest.mark.parametrize(
    ("value", "reason", "mentions"),
    [
        ("", "EMPTY", ""),
        ("   ", "EMPTY", ""),
        (" - ", "EMPTY", ""),
        ("91110000600037341", "WRONG_LENGTH", "17"),
        ("91110000600037341LL", "WRONG_LENGTH", "19"),
        ("9111000060003734IL", "BAD_CHARACTER", "'I' at position 17"),
        ("9111000060003734OL", "BAD_CHARACTER", "'O' at position 17"),
        ("91110000600037341Ｌ", "BAD_CHARACTER", "position 18"),  # a full-width letter
        ("9111000060003734*L", "BAD_CHARACTER", "'*' at position 17"),
        ("01110000600037341L", "UNKNOWN_REGISTRATION_DEPARTMENT", "'0'"),
        ("B1110000600037341L", "UNKNOWN_REGISTRATION_DEPARTMENT", "'B'"),
        ("90110000600037341L", "BAD_CATEGORY", "'0'"),
        ("9A110000600037341L", "BAD_CATEGORY", "'A'"),
        ("91990000600037341L", "UNKNOWN_REGION", "'990000'"),
        ("911A0000600037341L", "UNKNOWN_REGION", "'1A0000'"),
        ("91101234600037341L", "UNKNOWN_REGION", "'101234'"),
        ("91110000600037341N", "CHECK_MISMATCH", "'L'"),
        ("91110000600037314L", "CHECK_MISMATCH", ""),  # two neighbours swapped
    ],
)
def test_each_kind_of_mistake_is_reported_with_its_reason(value: str, reason: str, mentions: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        uscc.parse(value)
    assert caught.value.reason == reason
    assert mentions in caught.value.message
    assert not uscc.is_valid(value)
    with pytest.raises(InvalidValue):
        uscc.validate(value)


def test_a_check_mismatch_names_the_expected_check_character() -> None:
    with pytest.raises(InvalidValue) as caught:
        uscc.validate("914403001922038210")
    assert "'6'" in caught.value.message


def test_every_single_character_typo_in_a_published_code_is_caught() -> None:
    code = "914403001922038216"
    for position in range(len(code)):
        for char in uscc.ALPHABET:
            if char != code[position]:
                typo = code[:position] + char + code[position + 1 :]
                assert not uscc.is_valid(typo), typo
