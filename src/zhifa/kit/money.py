"""Money: integer fen (分) everywhere, yuan (元) only where people read or type it.

One place for the three written forms and for reading a typed amount, so every page, document,
explanation and file shows and reads money the same way.
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
