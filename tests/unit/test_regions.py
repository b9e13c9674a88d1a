"""GB/T 2260 province-level regions: the codes nodes are named by, and mapping divisions to them."""

from __future__ import annotations

import pytest

from common import regions
from common.errors import InvalidValue


def test_there_are_34_province_level_divisions_plus_the_xpcc_and_the_national_level() -> None:
    codes = [r.code for r in regions.all_regions()]
    assert len(codes) == 36
    assert len(set(codes)) == 36
    assert codes[0] == regions.NATIONAL
    assert codes[1:] == sorted(codes[1:])
    assert regions.XPCC in codes


def test_provinces_are_every_region_but_the_national_level() -> None:
    provinces = regions.provinces()
    assert len(provinces) == 35
    assert regions.NATIONAL not in {r.code for r in provinces}
    assert provinces == regions.all_regions()[1:]


@pytest.mark.parametrize(
    ("code", "name", "name_en"),
    [
        ("100000", "国家", "National"),
        ("110000", "北京市", "Beijing"),
        ("320000", "江苏省", "Jiangsu"),
        ("460000", "海南省", "Hainan"),
        ("650000", "新疆维吾尔自治区", "Xinjiang"),
        ("660000", "新疆生产建设兵团", "Xinjiang Production and Construction Corps"),
        ("710000", "台湾省", "Taiwan"),
        ("810000", "香港特别行政区", "Hong Kong"),
        ("820000", "澳门特别行政区", "Macao"),
    ],
)
def test_get_returns_the_region_with_its_chinese_and_english_names(
    code: str, name: str, name_en: str
) -> None:
    region = regions.get(code)
    assert (region.code, region.name, region.name_en) == (code, name, name_en)
    assert regions.is_region(code)


@pytest.mark.parametrize(
    "code",
    [
        "320106",  # a district of Nanjing: a real division, but not province level
        "32000",  # five digits
        "3200000",  # seven digits
        "abc",
        "",
        "990000",  # no such province
        "000000",
        " 320000",
        "３２００００",  # full-width digits
    ],
)
def test_anything_but_a_province_level_or_national_code_is_an_unknown_region(code: str) -> None:
    assert not regions.is_region(code)
    with pytest.raises(InvalidValue) as caught:
        regions.get(code)
    assert caught.value.reason == "UNKNOWN_REGION"
    assert caught.value.message


def test_region_names_are_unique_in_both_languages() -> None:
    everything = regions.all_regions()
    assert len({r.name for r in everything}) == len(everything)
    assert len({r.name_en for r in everything}) == len(everything)


@pytest.mark.parametrize(
    ("division", "province"),
    [
        ("320106", "320000"),  # 鼓楼区, Nanjing
        ("320100", "320000"),  # 南京市
        ("110108", "110000"),  # 海淀区, Beijing
        ("440300", "440000"),  # 深圳市
        ("650102", "650000"),  # 天山区, Urumqi
        ("660100", regions.XPCC),  # the XPCC's first division
        ("320000", "320000"),  # a province maps to itself
        ("100000", regions.NATIONAL),  # central bodies register at the national level
        ("820000", "820000"),
    ],
)
def test_province_of_maps_a_division_to_its_province_level_region(division: str, province: str) -> None:
    assert regions.province_of(division) == regions.get(province)


@pytest.mark.parametrize(
    "division",
    [
        "32010",  # too short
        "3201066",  # too long
        "abcdef",
        "",
        "990101",  # no province 99
        "000000",
        "101234",  # the national level has no subdivisions
        "３２０１０６",  # full-width digits
    ],
)
def test_province_of_rejects_codes_of_no_province_level_region(division: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        regions.province_of(division)
    assert caught.value.reason == "UNKNOWN_REGION"
    assert repr(division) in caught.value.message


def test_a_region_prints_as_code_and_name() -> None:
    assert str(regions.get("320000")) == "320000 江苏省"
