"""Reading a workbook or CSV files into sheets of rows, with the header checked first.

A workbook's sheets are recognised by name (others, such as 说明, are ignored); a CSV file by its
header row. A header that is not exactly one of the layouts (a missing required column, an unknown
column, a duplicated one) refuses the file before any row is read.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass

from zhifa.catalog.exchange.cells import Row, as_text
from zhifa.catalog.exchange.columns import LAYOUTS, SheetKind
from zhifa.errors import InvalidInput

MAX_ROWS = 50_000
XLSX_MAGIC = b"PK\x03\x04"


@dataclass
class Sheet:
    kind: SheetKind
    source: str  # the file (and sheet) it came from, for messages
    rows: list[Row]


def read_files(files: list[tuple[str, bytes]]) -> list[Sheet]:
    """``[(file name, content)]`` → sheets. ``.xlsx`` by content, anything else as CSV."""
    sheets: list[Sheet] = []
    for name, content in files:
        if content.startswith(XLSX_MAGIC):
            sheets.extend(read_xlsx(name, content))
        elif name.lower().endswith((".xlsx", ".xlsm")):
            raise InvalidInput(
                "{file} is not an Excel workbook (.xlsx).", detail={"field": "file"}, file=name
            )
        else:
            sheets.append(read_csv(name, content))
    if not sheets:
        raise InvalidInput(
            "The file has no catalog sheet (权力事项, 裁量基准, 检查事项 or 巡查清单).",
            detail={"field": "file"},
        )
    return sheets


def read_csv(name: str, content: bytes) -> Sheet:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            "{file} is not UTF-8 text; save the CSV as UTF-8.", detail={"field": "file"}, file=name
        ) from exc
    records = list(csv.reader(io.StringIO(text)))
    if not records:
        raise InvalidInput("{file} is empty.", detail={"field": "file"}, file=name)
    header = [cell.strip() for cell in records[0]]
    kind = _kind_from_header(name, header)
    return Sheet(kind, name, _rows(kind, header, records[1:], name))


def read_xlsx(name: str, content: bytes) -> list[Sheet]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InvalidInput(
            "{file} is not a readable Excel workbook.", detail={"field": "file"}, file=name
        ) from exc
    sheets: list[Sheet] = []
    try:
        known = {kind.value: kind for kind in SheetKind}
        for worksheet in book.worksheets:
            kind = known.get(worksheet.title.strip())
            if kind is None:
                continue
            records = [
                [as_text(v) for v in values] for values in worksheet.iter_rows(values_only=True)
            ]
            if not records:
                continue
            header = [cell.strip() for cell in records[0]]
            while header and not header[-1]:
                header.pop()
            source = f"{name}:{kind.value}"
            _check_header(source, kind, header)
            sheets.append(Sheet(kind, source, _rows(kind, header, records[1:], source)))
    finally:
        book.close()
    if not sheets:
        raise InvalidInput(
            "{file} has no sheet named 权力事项, 裁量基准, 检查事项 or 巡查清单.",
            detail={"field": "file"},
            file=name,
        )
    return sheets


def _kind_from_header(name: str, header: list[str]) -> SheetKind:
    columns = set(header)
    for kind, layout in LAYOUTS.items():
        if set(layout.required) <= columns and columns <= set(layout.columns):
            _check_header(name, kind, header)
            return kind
    raise InvalidInput(
        "{file}: the header row does not match any catalog sheet (see docs/catalog-format.md).",
        detail={"field": "file"},
        file=name,
    )


def _check_header(source: str, kind: SheetKind, header: list[str]) -> None:
    layout = LAYOUTS[kind]
    missing = [c for c in layout.required if c not in header]
    unknown = [c for c in header if c not in layout.columns]
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if missing or unknown or duplicated:
        raise InvalidInput(
            "{file}: sheet {sheet} has wrong columns (missing: {missing}; unknown: {unknown}; "
            "duplicated: {duplicated}).",
            detail={"field": "file", "missing": missing, "unknown": unknown},
            file=source,
            sheet=kind.value,
            missing="、".join(missing) or "-",
            unknown="、".join(unknown) or "-",
            duplicated="、".join(duplicated) or "-",
        )


def _rows(kind: SheetKind, header: list[str], records: list[list[str]], source: str) -> list[Row]:
    if len(records) > MAX_ROWS:
        raise InvalidInput(
            "{file} has more than {limit} rows.",
            detail={"field": "file"},
            file=source,
            limit=MAX_ROWS,
        )
    rows = []
    for offset, record in enumerate(records):
        cells = {column: (record[i] if i < len(record) else "") for i, column in enumerate(header)}
        if not any(value.strip() for value in cells.values()):
            continue
        rows.append(Row(kind, offset + 2, {k: v.strip() for k, v in cells.items()}))
    return rows
