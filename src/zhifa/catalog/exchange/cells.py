"""Reading one cell: text, yuan → fen, decimals, dates, lists, vocabularies.

Every reader raises ``CellError`` with a message in English (translated where it is shown); the
caller adds the sheet, row and column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from zhifa.catalog.exchange.columns import SheetKind
from zhifa.kit.money import parse_yuan

T = TypeVar("T")
LIST_SEPARATORS = re.compile(r"[、；;,，\n]+")


class CellError(ValueError):
    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


@dataclass(frozen=True)
class RowProblem:
    """One problem found in a file: where (sheet, row number as the spreadsheet shows it, column)
    and what."""

    sheet: str
    row: int
    column: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Row:
    """One data row of a sheet: its number in the spreadsheet and its cells by column name."""

    sheet: SheetKind
    number: int
    cells: dict[str, str]

    def text(self, column: str) -> str:
        return self.cells.get(column, "").strip()


def as_text(value: object) -> str:
    """A cell value from openpyxl or csv as text (numbers without a trailing .0, dates ISO)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(Decimal(repr(value)).normalize()) if value != int(value) else str(int(value))
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value).strip()


def required(text: str) -> str:
    if not text:
        raise CellError("This cell must not be empty.")
    return text


def yuan_to_fen(text: str) -> int:
    """``"1500"`` or ``"1500.5"`` yuan → 150050 fen. Negative, more than 2 decimals → error."""
    try:
        return parse_yuan(text)
    except ValueError as exc:
        raise CellError(
            "{value} is not an amount in yuan (a non-negative number, at most two decimals).",
            value=text,
        ) from exc


def decimal(text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation as exc:
        raise CellError("{value} is not a number.", value=text) from exc
    if not value.is_finite() or value < 0:
        raise CellError("{value} is not a non-negative number.", value=text)
    return value


def integer(text: str) -> int:
    if not re.fullmatch(r"\d{1,9}", text.strip()):
        raise CellError("{value} is not a whole number.", value=text)
    return int(text)


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise CellError("{value} is not a date (YYYY-MM-DD).", value=text) from exc


def split_list(text: str) -> list[str]:
    return [part.strip() for part in LIST_SEPARATORS.split(text) if part.strip()]


def choice(text: str, vocabulary: dict[str, T]) -> T:
    try:
        return vocabulary[text.strip()]
    except KeyError as exc:
        raise CellError(
            "{value} is not one of: {allowed}.", value=text, allowed="、".join(vocabulary)
        ) from exc


def choices(text: str, vocabulary: dict[str, T]) -> list[T]:
    return [choice(part, vocabulary) for part in split_list(text)]
