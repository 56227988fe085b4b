"""Money: integer fen (分) everywhere, yuan (元) only where people read or type it.

One place for the written forms and for reading a typed amount, so every page, document,
explanation and file shows and reads money the same way.

Documents also print amounts in figures (``¥2,000.00``) and in Chinese capitals (大写金额):
``200000`` fen → ``贰仟元整``; ``12345`` → ``壹佰贰拾叁元肆角伍分``. The rules are those of
《支付结算办法》 (中国人民银行, 1997) for written amounts: 整 after 元 or 角 when nothing follows,
none after 分; one 零 for a run of zeros inside the number; a 零 between 元 and 分 when 角 is zero
(``壹拾元零伍分``); 壹拾 keeps its 壹 (``壹拾万``), unlike statute numerals (``kit.cn_numerals``:
十八条).
"""

from __future__ import annotations

import re
from decimal import Decimal

YUAN = re.compile(r"^\d{1,13}(\.\d{1,2})?$")


def yuan(fen: int) -> str:
    """For people: ``1500000`` → ``"15,000"``; ``123450`` → ``"1,234.50"``."""
    whole, cents = divmod(fen, 100)
    return f"{whole:,}" if not cents else f"{whole:,}.{cents:02d}"


def yuan_fixed(fen: int) -> str:
    """For the API, beside the fen: ``1500000`` → ``"15000.00"``."""
    whole, cents = divmod(fen, 100)
    return f"{whole}.{cents:02d}"


def yuan_plain(fen: int) -> str:
    """For files: the shortest form that reads back the same, ``150050`` → ``"1500.5"``."""
    return format((Decimal(fen) / 100).normalize(), "f")


def parse_yuan(text: str) -> int:
    """A typed amount in yuan → fen: ``"1,500.5"`` → ``150050``. ``ValueError`` for anything
    that is not a non-negative number with at most two decimals."""
    cleaned = text.replace(",", "").replace("，", "").strip()
    if not YUAN.match(cleaned):
        raise ValueError(f"not an amount in yuan: {text!r}")
    return int(Decimal(cleaned) * 100)


# Written amounts (大写金额)

DIGITS = "零壹贰叁肆伍陆柒捌玖"
SMALL_UNITS = ("", "拾", "佰", "仟")
GROUP_UNITS = ("", "万", "亿", "万亿")
MAX_FEN = 10**18 - 1  # up to 9,999,999,999,999,999.99 yuan: far above any fine


def amount_in_capitals(fen: int) -> str:
    """The written amount of ``fen`` (a non-negative whole number of fen)."""
    if isinstance(fen, bool) or not isinstance(fen, int) or not 0 <= fen <= MAX_FEN:
        raise ValueError(f"{fen!r} is not an amount in fen")
    yuan, rest = divmod(fen, 100)
    jiao, cents = divmod(rest, 10)
    whole = _integer(yuan) + "元" if yuan else ""
    if not jiao and not cents:
        return (whole or "零元") + "整"
    if not cents:
        return f"{whole}{DIGITS[jiao]}角整"
    middle = f"{DIGITS[jiao]}角" if jiao else ("零" if whole else "")
    return f"{whole}{middle}{DIGITS[cents]}分"


def amount_in_figures(fen: int) -> str:
    """``200000`` → ``¥2,000.00``."""
    whole, cents = divmod(fen, 100)
    return f"¥{whole:,}.{cents:02d}"


def _integer(value: int) -> str:
    """A positive whole number of yuan in capitals, without the 元."""
    groups: list[int] = []
    while value:
        value, group = divmod(value, 10_000)
        groups.append(group)
    out = ""
    pending_zero = False
    for position in range(len(groups) - 1, -1, -1):
        group = groups[position]
        if not group:
            pending_zero = bool(out)
            continue
        if out and (pending_zero or group < 1000):
            out += "零"
        out += _group(group) + GROUP_UNITS[position]
        pending_zero = False
    return out


def _group(value: int) -> str:
    """1 … 9999 in capitals (壹仟零伍, 壹拾), one 零 for a run of zeros inside."""
    digits = [int(c) for c in f"{value:04d}"]
    out = ""
    zero = False
    for index, digit in enumerate(digits):
        unit = SMALL_UNITS[3 - index]
        if digit:
            if zero and out:
                out += "零"
            out += DIGITS[digit] + unit
            zero = False
        else:
            zero = True
    return out
