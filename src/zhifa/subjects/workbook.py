"""The subject import workbook (one sheet, Chinese headers; see ``docs/subjects.md``): reading it,
the header check, and turning each row's cells into a ``SubjectIn``.

A problem in a cell is a ``CellError`` (the message is an English msgid with ``{placeholders}``,
translated where it is shown); the header is checked before any row and refuses the whole file.
"""

from __future__ import annotations

import io
import math
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from zhifa.errors import InvalidInput, UnsupportedMediaType
from zhifa.models.subjects import RiskLevel, SubjectKind

XLSX_MAGIC = b"PK\x03\x04"
MAX_ROWS = 5_000

# Header → SubjectIn field. The order is the template's.
COLUMNS: dict[str, str] = {
    "名称": "name",
    "类别": "kind",
    "统一社会信用代码": "uscc",
    "身份证号": "id_card",
    "负责人": "representative",
    "电话": "phone",
    "地址": "address",
    "对象类型": "subject_type",
    "风险等级": "risk_level",
    "经度": "lon",
    "纬度": "lat",
    "围栏半径(米)": "geofence_radius_m",
    "备注": "note",
}
REQUIRED = ("名称", "类别", "对象类型")
# Where a problem of a field shows; fields with no column of their own go to the nearest one.
FIELD_COLUMNS = {f: c for c, f in COLUMNS.items()} | {
    "geofence": "围栏半径(米)",
    "licences": "备注",
}

KIND_WORDS: dict[str, SubjectKind] = {
    "企业": SubjectKind.ENTERPRISE,
    "个体工商户": SubjectKind.INDIVIDUAL_BUSINESS,
    "个体户": SubjectKind.INDIVIDUAL_BUSINESS,
    "其他组织": SubjectKind.ORGANISATION,
    "组织": SubjectKind.ORGANISATION,
    "自然人": SubjectKind.PERSON,
    "个人": SubjectKind.PERSON,
    "场所": SubjectKind.SITE,
    "点位": SubjectKind.SITE,
} | {k.value: k for k in SubjectKind}
RISK_WORDS: dict[str, RiskLevel] = {
    "低": RiskLevel.LOW,
    "低风险": RiskLevel.LOW,
    "中": RiskLevel.MEDIUM,
    "中风险": RiskLevel.MEDIUM,
    "高": RiskLevel.HIGH,
    "高风险": RiskLevel.HIGH,
} | {r.value: r for r in RiskLevel}


class CellError(ValueError):
    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


@dataclass
class SheetRow:
    number: int  # as the spreadsheet shows it (the header is row 1)
    cells: dict[str, str] = field(default_factory=dict)

    def text(self, column: str) -> str:
        return self.cells.get(column, "").strip()


def _canonical_header(text: str) -> str:
    """Full-width brackets and stray spaces are common in hand-made sheets: 围栏半径（米）."""
    return text.strip().replace("（", "(").replace("）", ")").replace(" ", "")


def as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value):
            return str(int(value))
        return str(Decimal(repr(value)).normalize())
    return str(value).strip()


def read_sheet(name: str, content: bytes) -> list[SheetRow]:
    """The data rows of the workbook's first sheet (blank rows skipped), header checked."""
    if not content.startswith(XLSX_MAGIC):
        raise UnsupportedMediaType(
            "{file} is not an Excel workbook (.xlsx).", detail={"field": "file"}, file=name
        )
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InvalidInput(
            "{file} is not a readable Excel workbook.", detail={"field": "file"}, file=name
        ) from exc
    try:
        sheet = book.worksheets[0]
        records = [[as_text(v) for v in values] for values in sheet.iter_rows(values_only=True)]
    finally:
        book.close()
    if not records:
        raise InvalidInput("{file} is empty.", detail={"field": "file"}, file=name)
    header = [_canonical_header(c) for c in records[0]]
    while header and not header[-1]:
        header.pop()
    _check_header(name, header)
    return _rows(name, header, records[1:])


def _check_header(name: str, header: list[str]) -> None:
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if missing or unknown or duplicated:
        raise InvalidInput(
            "{file}: the header row has wrong columns (missing: {missing}; unknown: {unknown}; "
            "duplicated: {duplicated}). The columns are: {columns}.",
            detail={"field": "file", "missing": missing, "unknown": unknown},
            file=name,
            missing="、".join(missing) or "-",
            unknown="、".join(unknown) or "-",
            duplicated="、".join(duplicated) or "-",
            columns="、".join(COLUMNS),
        )


def _rows(name: str, header: list[str], records: list[list[str]]) -> list[SheetRow]:
    rows = []
    for offset, values in enumerate(records):
        cells = {h: v for h, v in zip(header, values, strict=False) if h}
        if any(v.strip() for v in cells.values()):
            rows.append(SheetRow(offset + 2, cells))
    if len(rows) > MAX_ROWS:
        raise InvalidInput(
            "{file} has more than {limit} rows; split it.",
            detail={"field": "file"},
            file=name,
            limit=MAX_ROWS,
        )
    if not rows:
        raise InvalidInput("{file} has no data rows.", detail={"field": "file"}, file=name)
    return rows


def kind_of(text: str) -> SubjectKind:
    kind = KIND_WORDS.get(text.strip())
    if kind is None:
        raise CellError(
            "Unknown kind {value}: write 企业, 个体工商户, 其他组织, 自然人 or 场所.", value=text
        )
    return kind


def risk_of(text: str) -> RiskLevel:
    if not text.strip():
        return RiskLevel.LOW
    risk = RISK_WORDS.get(text.strip())
    if risk is None:
        raise CellError("Unknown risk level {value}: write 低, 中 or 高.", value=text)
    return risk


def number_of(text: str) -> float | None:
    if not text.strip():
        return None
    try:
        value = float(text.strip())
    except ValueError:
        raise CellError("{value} is not a number.", value=text) from None
    if not math.isfinite(value):
        raise CellError("{value} is not a number.", value=text)
    return value


def subject_type_of(text: str, by_name: dict[str, str]) -> str:
    """The subject type's code, written as the code or as its name (建筑工地)."""
    value = text.strip()
    if not value:
        raise CellError("This cell must not be empty.")
    return by_name.get(value, value)
