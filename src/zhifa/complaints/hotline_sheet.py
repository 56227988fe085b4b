"""Reading a 12345 / 网络理政 export (see ``docs/import-12345.md``): an Excel workbook (.xlsx) or a
CSV file in UTF-8 or GB18030, its header found (perhaps below a title row) and its columns named
by their Chinese headers in any order, with the usual synonyms; and reading one cell (times in
Beijing time, numbers, the 12345 vocabularies, the category by code, name or path).

A problem in a cell is a ``CellError`` (an English message id with ``{placeholders}``, translated
where it is shown); a problem of the file as a whole is an ``InvalidInput`` or
``UnsupportedMediaType`` naming ``detail.field = "file"``, raised before any row is read.
"""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhifa.errors import InvalidInput, UnsupportedMediaType
from zhifa.kit.clock import SHANGHAI, as_utc, utcnow
from zhifa.models.complaints import ComplaintCategory, HotlineType, Priority

XLSX_MAGIC, XLS_MAGIC = b"PK\x03\x04", b"\xd0\xcf\x11\xe0"
MAX_ROWS = 5_000
HEADER_SEARCH_ROWS = 10

# Field → the headers that name it, the preferred first (事发地址 wins over 地址).
FIELDS: dict[str, tuple[str, ...]] = {
    "source_ref": ("工单编号", "工单号", "工单编码", "受理编号", "编号"),
    "received_at": ("受理时间", "来电时间", "登记时间", "诉求时间", "创建时间"),
    "hotline_type": ("诉求类型", "工单类型", "诉求类别", "来电类型"),
    "category": ("事项分类", "问题分类", "诉求分类", "事件分类", "业务分类", "分类"),
    "description": ("诉求内容", "工单内容", "反映内容", "问题描述", "诉求描述", "来电内容", "内容"),
    "address": ("事发地址", "事发地点", "发生地址", "问题地址", "地址"),
    "lon": ("经度",),
    "lat": ("纬度",),
    "reporter_name": ("来电人", "来电人姓名", "诉求人", "反映人", "联系人", "姓名"),
    "reporter_phone": ("联系电话", "来电号码", "联系方式", "手机号码", "电话"),
    "priority": ("紧急程度", "缓急程度", "紧急度", "优先级"),
    "deadline": ("办理时限", "办结时限", "承办时限", "处理时限"),
}
REQUIRED = ("source_ref", "category", "description")
TYPE_WORDS = {
    "咨询": HotlineType.CONSULT,
    "求助": HotlineType.HELP,
    "投诉": HotlineType.COMPLAINT,
    "举报": HotlineType.COMPLAINT,
    "投诉举报": HotlineType.COMPLAINT,
    "意见": HotlineType.SUGGESTION,
    "建议": HotlineType.SUGGESTION,
    "意见建议": HotlineType.SUGGESTION,
} | {t.value: t for t in HotlineType}
PRIORITY_WORDS = {
    "一般": Priority.NORMAL,
    "普通": Priority.NORMAL,
    "正常": Priority.NORMAL,
    "紧急": Priority.URGENT,
    "加急": Priority.URGENT,
    "特急": Priority.URGENT,
    "急": Priority.URGENT,
} | {p.value: p for p in Priority}
TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日%H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y年%m月%d日",
)
CATEGORY_PATH = re.compile(r"\s*[/>＞→\\|｜-]\s*")


def N_(message: str) -> str:
    """Mark ``message`` for the translation catalog; it is translated where it is shown."""
    return message


class CellError(ValueError):
    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


# ---- reading the file -------------------------------------------------------------------------


@dataclass
class Sheet:
    columns: dict[str, str]  # field → the header naming it in this file
    rows: list[tuple[int, dict[str, Any]]]  # (row number as shown, field → cell value)


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return str(Decimal(repr(value)).normalize())
    return str(value).strip()


def _canonical(header: Any) -> str:
    text = as_text(header).replace("（", "(").replace("）", ")").replace("*", "")
    return "".join(text.split())


def _records(name: str, content: bytes) -> list[list[Any]]:
    if content.startswith(XLS_MAGIC):
        raise UnsupportedMediaType(
            "{file} is an old Excel file (.xls); save it as .xlsx or CSV.",
            detail={"field": "file"},
            file=name,
        )
    if content.startswith(XLSX_MAGIC):
        return _xlsx_records(name, content)
    if name.lower().endswith((".xlsx", ".xlsm")):
        raise UnsupportedMediaType(
            "{file} is not an Excel workbook (.xlsx).", detail={"field": "file"}, file=name
        )
    return _csv_records(name, content)


def _csv_records(name: str, content: bytes) -> list[list[Any]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        return [list(r) for r in csv.reader(io.StringIO(text, newline=""))]
    raise InvalidInput(
        "{file} is neither UTF-8 nor GB18030 text.", detail={"field": "file"}, file=name
    )


def _xlsx_records(name: str, content: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InvalidInput(
            "{file} is not a readable Excel workbook.", detail={"field": "file"}, file=name
        ) from exc
    try:
        for sheet in book.worksheets:
            records = [list(values) for values in sheet.iter_rows(values_only=True)]
            if _header_index(records) is not None:
                return records
        return []
    finally:
        book.close()


def _header_index(records: list[list[Any]]) -> int | None:
    refs = set(FIELDS["source_ref"])
    for index, record in enumerate(records[:HEADER_SEARCH_ROWS]):
        if refs & {_canonical(cell) for cell in record}:
            return index
    return None


def _columns(name: str, header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for field_name, synonyms in FIELDS.items():
        for synonym in synonyms:
            if synonym in header:
                found[field_name] = header.index(synonym)
                break
    missing = [FIELDS[f][0] for f in REQUIRED if f not in found]
    if missing:
        raise InvalidInput(
            "{file}: the header row lacks the columns {missing}.",
            detail={"field": "file", "missing": missing},
            file=name,
            missing="、".join(missing),
        )
    return found


def read_sheet(name: str, content: bytes) -> Sheet:
    """The work orders of the file: the header found and checked, blank rows skipped."""
    records = _records(name, content)
    if not records:
        raise InvalidInput("{file} is empty.", detail={"field": "file"}, file=name)
    start = _header_index(records)
    if start is None:
        raise InvalidInput(
            "{file}: no header row with 工单编号 in the first {rows} rows.",
            detail={"field": "file"},
            file=name,
            rows=HEADER_SEARCH_ROWS,
        )
    header = [_canonical(cell) for cell in records[start]]
    index = _columns(name, header)
    columns = {f: header[i] for f, i in index.items()}
    rows = []
    for offset, record in enumerate(records[start + 1 :]):
        cells = {f: (record[i] if i < len(record) else None) for f, i in index.items()}
        if any(as_text(v) for v in cells.values()):
            rows.append((start + offset + 2, cells))
    if len(rows) > MAX_ROWS:
        raise InvalidInput(
            "{file} has more than {limit} rows; split it.",
            detail={"field": "file"},
            file=name,
            limit=MAX_ROWS,
        )
    if not rows:
        raise InvalidInput("{file} has no data rows.", detail={"field": "file"}, file=name)
    return Sheet(columns, rows)


# ---- reading a row ----------------------------------------------------------------------------


def local_time(value: Any) -> datetime | None:
    """A cell's time (Excel's own, or text in the usual forms), taken as Beijing time."""
    if value is None or as_text(value) == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        moment = _parse_time(as_text(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    return as_utc(moment)


def _parse_time(text: str) -> datetime:
    cleaned = " ".join(text.replace("T", " ").split())
    for pattern in TIME_FORMATS:
        try:
            return datetime.strptime(cleaned, pattern)
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise CellError(
            N_("{value} is not a date and time (2026-11-29 09:55)."), value=text
        ) from None


def received_time(value: Any) -> datetime | None:
    moment = local_time(value)
    if moment is not None and moment > utcnow():
        raise CellError(N_("The time {value} is later than now."), value=as_text(value))
    return moment


def decimal_number(value: Any) -> float | None:
    text = as_text(value)
    if not text:
        return None
    try:
        parsed = float(text)
    except ValueError:
        raise CellError("{value} is not a number.", value=text) from None
    if not math.isfinite(parsed):
        raise CellError("{value} is not a number.", value=text)
    return parsed


def word(value: Any, vocabulary: dict[str, Any], message: str) -> Any:
    text = as_text(value)
    if not text:
        return None
    if text not in vocabulary:
        raise CellError(message, value=text)
    return vocabulary[text]


class Categories:
    """A district's categories by code and by name; a path (城市管理/街面秩序/占道经营) is looked
    up by its last part."""

    def __init__(self, session: Session, district_code: str) -> None:
        rows = session.scalars(
            select(ComplaintCategory).where(
                ComplaintCategory.district_code == district_code,
                ComplaintCategory.active.is_(True),
            )
        ).all()
        self.known = {r.code: r.code for r in rows} | {r.name: r.code for r in rows}

    def code_of(self, value: Any) -> str:
        text = as_text(value)
        if not text:
            raise CellError("This cell must not be empty.")
        for candidate in (text, CATEGORY_PATH.split(text)[-1]):
            if candidate in self.known:
                return self.known[candidate]
        raise CellError(
            N_("No category {value} in this district: write a category's code or name."),
            value=text,
        )
