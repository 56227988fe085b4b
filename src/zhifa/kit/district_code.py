"""GB/T 2260 administrative division codes (行政区划代码): six digits, PPCCDD.

PP is the province (11–82), CC the prefecture-level city, DD the county-level district. A district
code names a county-level unit, so DD is not 00; a city code ends in 00 with CC not 00.
"""

from __future__ import annotations

import re

from zhifa.errors import InvalidInput

_SIX_DIGITS = re.compile(r"^[0-9]{6}$")
# Province-level prefixes in GB/T 2260 (including 71 台湾, 81 香港, 82 澳门).
PROVINCE_PREFIXES = frozenset(
    {
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    }
)


def is_district_code(value: str) -> bool:
    return bool(_SIX_DIGITS.match(value)) and value[:2] in PROVINCE_PREFIXES and value[4:] != "00"


def validate_district_code(value: str) -> str:
    """Return the code, or raise InvalidInput with a message a person can act on."""
    value = (value or "").strip()
    if not is_district_code(value):
        raise InvalidInput(
            "District code {value} is not a valid GB/T 2260 county-level code "
            "(six digits, a real province prefix, not ending in 00).",
            detail={"field": "district_code", "value": value},
            value=value,
        )
    return value


def city_code_of(district_code: str) -> str:
    """The prefecture-level code a district belongs to (510184 → 510100)."""
    return district_code[:4] + "00"
