"""Province-level regions of China per GB/T 2260, and the national level.

Every node of the registry is identified by one of these six-digit codes: the national node by
:data:`NATIONAL` (``100000``), a provincial node by its province-level division (``320000`` Jiangsu …),
and the Xinjiang Production and Construction Corps by :data:`XPCC` (``660000``), which GB/T 2260 and
GB 32100 treat as a province-level registration area of its own.

The table holds the 34 province-level divisions (including Taiwan, Hong Kong and Macao) plus those two.
:func:`province_of` maps any six-digit division code (a prefecture ``320100`` or a county ``320106``) to
its province-level region by its first two digits, which is how GB/T 2260 codes nest.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from common.errors import InvalidValue

__all__ = [
    "NATIONAL",
    "XPCC",
    "Region",
    "all_regions",
    "get",
    "is_region",
    "province_of",
    "provinces",
]

#: The national level: the national node and what it registers (central bodies, proxied provinces).
NATIONAL = "100000"
#: The Xinjiang Production and Construction Corps (新疆生产建设兵团).
XPCC = "660000"

_UNKNOWN_REGION = "UNKNOWN_REGION"


@dataclass(frozen=True, slots=True)
class Region:
    """A province-level region: its GB/T 2260 code, its Chinese name and its English name."""

    code: str
    name: str
    name_en: str

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


_REGIONS: tuple[Region, ...] = (
    Region(NATIONAL, "国家", "National"),
    Region("110000", "北京市", "Beijing"),
    Region("120000", "天津市", "Tianjin"),
    Region("130000", "河北省", "Hebei"),
    Region("140000", "山西省", "Shanxi"),
    Region("150000", "内蒙古自治区", "Inner Mongolia"),
    Region("210000", "辽宁省", "Liaoning"),
    Region("220000", "吉林省", "Jilin"),
    Region("230000", "黑龙江省", "Heilongjiang"),
    Region("310000", "上海市", "Shanghai"),
    Region("320000", "江苏省", "Jiangsu"),
    Region("330000", "浙江省", "Zhejiang"),
    Region("340000", "安徽省", "Anhui"),
    Region("350000", "福建省", "Fujian"),
    Region("360000", "江西省", "Jiangxi"),
    Region("370000", "山东省", "Shandong"),
    Region("410000", "河南省", "Henan"),
    Region("420000", "湖北省", "Hubei"),
    Region("430000", "湖南省", "Hunan"),
    Region("440000", "广东省", "Guangdong"),
    Region("450000", "广西壮族自治区", "Guangxi"),
    Region("460000", "海南省", "Hainan"),
    Region("500000", "重庆市", "Chongqing"),
    Region("510000", "四川省", "Sichuan"),
    Region("520000", "贵州省", "Guizhou"),
    Region("530000", "云南省", "Yunnan"),
    Region("540000", "西藏自治区", "Xizang"),
    Region("610000", "陕西省", "Shaanxi"),
    Region("620000", "甘肃省", "Gansu"),
    Region("630000", "青海省", "Qinghai"),
    Region("640000", "宁夏回族自治区", "Ningxia"),
    Region("650000", "新疆维吾尔自治区", "Xinjiang"),
    Region(XPCC, "新疆生产建设兵团", "Xinjiang Production and Construction Corps"),
    Region("710000", "台湾省", "Taiwan"),
    Region("810000", "香港特别行政区", "Hong Kong"),
    Region("820000", "澳门特别行政区", "Macao"),
)

_BY_CODE: MappingProxyType[str, Region] = MappingProxyType({r.code: r for r in _REGIONS})
_PROVINCES: tuple[Region, ...] = tuple(r for r in _REGIONS if r.code != NATIONAL)


def _is_six_digits(code: object) -> bool:
    # str.isdigit() accepts other scripts' digits (e.g. full-width); GB/T 2260 codes are ASCII only.
    return isinstance(code, str) and len(code) == 6 and code.isascii() and code.isdigit()


def get(code: str) -> Region:
    """Return the province-level region (or the national level) with this exact code.

    Raises :class:`~common.errors.InvalidValue` with reason ``UNKNOWN_REGION`` for anything else,
    including well-formed codes below province level (``320106``) and malformed input (``32000``).
    """
    region = _BY_CODE.get(code) if isinstance(code, str) else None
    if region is None:
        if _is_six_digits(code):
            detail = "is not a province-level region code"
        else:
            detail = "is not a region code: it must be six digits"
        raise InvalidValue(_UNKNOWN_REGION, f"{code!r} {detail} (for example 320000 for Jiangsu)")
    return region


def is_region(code: str) -> bool:
    """Whether ``code`` is one of the province-level regions or the national level."""
    return isinstance(code, str) and code in _BY_CODE


def all_regions() -> tuple[Region, ...]:
    """Every region: the national level first, then the province-level regions in code order."""
    return _REGIONS


def provinces() -> tuple[Region, ...]:
    """Every province-level region (the XPCC included), in code order, without the national level."""
    return _PROVINCES


def province_of(division_code: str) -> Region:
    """The province-level region a six-digit GB/T 2260 division code belongs to.

    ``320106`` (a district of Nanjing) gives Jiangsu, ``660100`` gives the XPCC. The national level has
    no subdivisions, so only ``100000`` itself gives :data:`NATIONAL`. Raises
    :class:`~common.errors.InvalidValue` (``UNKNOWN_REGION``) when the input is not six digits or its
    first two digits name no province-level region.
    """
    if not _is_six_digits(division_code):
        raise InvalidValue(
            _UNKNOWN_REGION,
            f"{division_code!r} is not an administrative division code: it must be six digits",
        )
    if division_code == NATIONAL:
        return _BY_CODE[NATIONAL]
    region = _BY_CODE.get(division_code[:2] + "0000")
    if region is None or region.code == NATIONAL:
        why = (
            "the national level has no subdivisions"
            if region is not None
            else f"no province-level region has the code {division_code[:2]}0000"
        )
        raise InvalidValue(
            _UNKNOWN_REGION, f"{division_code!r} does not belong to any province-level region: {why}"
        )
    return region
