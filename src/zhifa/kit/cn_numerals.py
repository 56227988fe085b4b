"""Chinese numerals as statutes write them (第一百一十八条): 1 to 9999, both ways.

``from_int`` writes the form statutes use: 十 (not 一十) at the start, 一十 inside (一百一十八),
one 零 for each gap (一百零五, 一千零一, 一千零一十). ``to_int`` reads that form, a leading 一十
(一十八), 〇 for 零, and Arabic digits (``"118"``, full-width ``"１１８"``); anything else is a
``ValueError`` that quotes the input.
"""

from __future__ import annotations

import re

DIGITS = "零一二三四五六七八九"
UNITS = ((1000, "千"), (100, "百"), (10, "十"))
MAX = 9999

_ARABIC = re.compile(r"[0-9０-９]+")
_CHINESE = re.compile(r"[零〇一二三四五六七八九十百千]+")


def from_int(value: int) -> str:
    """``118`` → ``"一百一十八"``; 1 ≤ value ≤ 9999."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX:
        raise ValueError(f"{value!r} is not a whole number from 1 to {MAX}")
    out: list[str] = []
    rest = value
    gap = False
    for size, unit in UNITS:
        digit, rest = divmod(rest, size)
        if digit:
            if gap:
                out.append("零")
            out.append(DIGITS[digit] + unit)
            gap = False
        elif out:
            gap = True
    if rest:
        if gap:
            out.append("零")
        out.append(DIGITS[rest])
    text = "".join(out)
    return text[1:] if text.startswith("一十") else text


def to_int(text: str) -> int:
    """``"一百一十八"`` → ``118``; ``"81"`` → ``81``."""
    stripped = text.strip() if isinstance(text, str) else ""
    if _ARABIC.fullmatch(stripped):
        return int(stripped)
    if not _CHINESE.fullmatch(stripped):
        raise ValueError(f"{text!r} is not a number")
    if stripped in ("零", "〇"):
        return 0
    value = _read(stripped.replace("〇", "零"))
    if value is None or from_int(value) not in (stripped.replace("〇", "零"), _short(stripped)):
        raise ValueError(f"{text!r} is not a well-formed Chinese numeral")
    return value


def _short(text: str) -> str:
    """The statute form of a numeral that starts with 一十 (一十八 → 十八)."""
    return text[1:] if text.startswith("一十") else text


def _read(text: str) -> int | None:
    """The value of the digits and units, without checking the form (``from_int`` does)."""
    total = 0
    digit: int | None = None
    for char in text:
        if char in DIGITS:
            if digit is not None and digit != 0:
                return None  # two digits in a row (一一)
            digit = DIGITS.index(char)
            continue
        size = {"千": 1000, "百": 100, "十": 10}[char]
        if digit == 0 or (digit is None and size != 10):
            return None  # 零百, 百 …
        total += (1 if digit is None else digit) * size
        digit = None
    total += digit or 0
    return total if 1 <= total <= MAX else None
