"""Exporting a district's catalog in the import layout (docs/catalog-format.md).

For every power, benchmark, check item and checklist: the version in force on the date asked for,
plus every later version already recorded, each with its 生效日期. Importing the file into the same
district changes nothing; into another district it recreates the catalog.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhifa.catalog import repository as repo
from zhifa.catalog import versions
from zhifa.catalog.exchange import benchmarks
from zhifa.catalog.exchange.columns import (
    EVIDENCE,
    LAYOUTS,
    PARTY_TYPES,
    POWER_KINDS,
    POWER_STATUSES,
    SheetKind,
    reverse,
)
from zhifa.catalog.laws.citations import format_citation
from zhifa.catalog.spec import BenchmarkSpec, PartyType
from zhifa.models.catalog import CitationRole, LegalDocument, Power, Provision

Rows = list[dict[str, str]]
FILE_NAMES = {
    SheetKind.POWERS: "powers.csv",
    SheetKind.BENCHMARKS: "benchmarks.csv",
    SheetKind.CHECK_ITEMS: "check_items.csv",
    SheetKind.CHECKLISTS: "checklists.csv",
}


V = TypeVar("V", bound=versions.Versioned)


def _current_and_later(rows: Sequence[V], on: date) -> list[V]:
    """The version in force on ``on`` and every version that starts later (superseded
    corrections of the same date are left out)."""
    current = versions.in_force(rows, on)
    later = sorted(
        (r for r in rows if r.effective_from > on), key=lambda r: (r.effective_from, r.version)
    )
    return ([current] if current is not None else []) + later


def sheets(session: Session, district_code: str, on: date) -> dict[SheetKind, Rows]:
    return {
        SheetKind.POWERS: _powers(session, district_code, on),
        SheetKind.BENCHMARKS: _benchmarks(session, district_code, on),
        SheetKind.CHECK_ITEMS: _check_items(session, district_code, on),
        SheetKind.CHECKLISTS: _checklists(session, district_code, on),
    }


def export_xlsx(session: Session, district_code: str, on: date) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    about = book.active
    assert about is not None
    about.title = "说明"
    about.append(["zhifa 执法 权责清单导出", f"行政区划 {district_code}", f"截至 {on.isoformat()}"])
    about.append(["格式说明见 docs/catalog-format.md；导入时本工作表被忽略。"])
    for kind, rows in sheets(session, district_code, on).items():
        sheet = book.create_sheet(kind.value)
        columns = _columns(kind)
        sheet.append(list(columns))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for number, row in enumerate(rows, start=1):
            sheet.append([str(number) if c == "序号" else row.get(c, "") for c in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export_csv(session: Session, district_code: str, on: date) -> dict[str, bytes]:
    files = {}
    for kind, rows in sheets(session, district_code, on).items():
        buffer = io.StringIO()
        columns = _columns(kind)
        writer = csv.writer(buffer)
        writer.writerow(columns)
        for number, row in enumerate(rows, start=1):
            writer.writerow([str(number) if c == "序号" else row.get(c, "") for c in columns])
        files[FILE_NAMES[kind]] = ("\ufeff" + buffer.getvalue()).encode("utf-8")
    return files


def export_zip(session: Session, district_code: str, on: date) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in export_csv(session, district_code, on).items():
            archive.writestr(name, content)
    return out.getvalue()


def _columns(kind: SheetKind) -> tuple[str, ...]:
    layout = LAYOUTS[kind]
    return ("序号", *(c for c in layout.columns if c != "序号"))


# ---- per sheet -----------------------------------------------------------------------------

KIND_NAMES = reverse(POWER_KINDS)
STATUS_NAMES = reverse(POWER_STATUSES)
PARTY_NAMES = reverse(PARTY_TYPES)
EVIDENCE_NAMES = reverse(EVIDENCE)


def _citation_labels(session: Session, ids: set[int]) -> dict[int, tuple[str, int]]:
    if not ids:
        return {}
    stmt = (
        select(Provision.id, LegalDocument.title, Provision.article)
        .join(LegalDocument, LegalDocument.id == Provision.document_id)
        .where(Provision.id.in_(sorted(ids)))
    )
    return {pid: (title, article) for pid, title, article in session.execute(stmt)}


def _cited(
    citations: list[dict[str, Any]], role: CitationRole, labels: dict[int, tuple[str, int]]
) -> str:
    parts = []
    for c in citations:
        if c["role"] != role.value:
            continue
        title, article = labels[c["provision_id"]]
        parts.append(format_citation(title, article, c.get("paragraph", 0), c.get("item", 0)))
    return "；".join(parts)


def _powers(session: Session, district_code: str, on: date) -> Rows:
    departments = {d.id: d.code for d in repo.departments(session, district_code)}
    chosen = []
    for power in _powers_of(session, district_code):
        for version in _current_and_later(repo.power_versions(session, power.id), on):
            chosen.append((power.code, version))
    labels = _citation_labels(session, {c["provision_id"] for _, v in chosen for c in v.citations})
    rows = []
    for code, v in sorted(chosen, key=lambda p: (p[0], p[1].effective_from, p[1].version)):
        r = v.responsibility or {}
        days = r.get("act_within_days")
        rows.append(
            {
                "事项编码": code,
                "事项名称": v.name,
                "事项类别": KIND_NAMES[v.kind],
                "实施部门": departments.get(v.department_id, ""),
                "违法依据": _cited(v.citations, CitationRole.VIOLATED, labels),
                "处罚依据": _cited(v.citations, CitationRole.PENALTY, labels),
                "处罚种类和幅度": v.penalty_text,
                "适用对象": "、".join(PARTY_NAMES[PartyType(p)] for p in v.party_types),
                "责任单位": r.get("unit_code") or "",
                "责任岗位": r.get("role") or "",
                "办理时限（日）": "" if days is None else str(days),
                "责任事项": r.get("duties") or "",
                "状态": STATUS_NAMES[v.status],
                "生效日期": v.effective_from.isoformat(),
                "版本说明": v.note,
            }
        )
    return rows


def _powers_of(session: Session, district_code: str) -> list[Power]:
    stmt = select(Power).where(Power.district_code == district_code).order_by(Power.code)
    return list(session.scalars(stmt))


def _benchmarks(session: Session, district_code: str, on: date) -> Rows:
    rows: Rows = []
    for power in _powers_of(session, district_code):
        for v in _current_and_later(repo.benchmark_versions(session, power.id), on):
            spec = BenchmarkSpec.model_validate(v.spec)
            rows += benchmarks.to_rows(power.code, v.effective_from, v.note, spec)
    return rows


def _check_items(session: Session, district_code: str, on: date) -> Rows:
    items = repo.check_items(session, district_code)
    all_versions = repo.check_item_versions(session, [i.id for i in items])
    departments = {d.id: d.code for d in repo.departments(session, district_code)}
    power_ids = {p for vs in all_versions.values() for v in vs for p in v.power_ids}
    codes = {pid: p.code for pid, p in repo.powers_by_ids(session, power_ids).items()}
    rows = []
    for item in items:
        for v in _current_and_later(all_versions[item.id], on):
            rows.append(
                {
                    "检查项编码": item.code,
                    "检查内容": v.text,
                    "检查指引": v.guidance,
                    "所需证据": "、".join(EVIDENCE_NAMES[e] for e in v.evidence),
                    "责任部门": departments.get(v.department_id, ""),
                    "关联事项编码": "、".join(codes[p] for p in v.power_ids if p in codes),
                    "生效日期": v.effective_from.isoformat(),
                    "版本说明": v.note,
                }
            )
    return rows


def _checklists(session: Session, district_code: str, on: date) -> Rows:
    lists = repo.checklists(session, district_code)
    all_versions = repo.checklist_versions(session, [c.id for c in lists])
    types = {t.id: t for t in repo.subject_types(session, district_code)}
    item_ids = {i for vs in all_versions.values() for v in vs for i in v.item_ids}
    codes = {i: row.code for i, row in repo.check_items_by_ids(session, item_ids).items()}
    rows = []
    for checklist in lists:
        kind = types[checklist.subject_type_id]
        for v in _current_and_later(all_versions[checklist.id], on):
            if not v.active:
                continue
            for position, item_id in enumerate(v.item_ids, start=1):
                rows.append(
                    {
                        "清单编码": checklist.code,
                        "清单名称": v.name,
                        "对象类型编码": kind.code,
                        "对象类型名称": kind.name,
                        "顺序": str(position),
                        "检查项编码": codes[item_id],
                        "生效日期": v.effective_from.isoformat(),
                        "版本说明": v.note,
                    }
                )
    return rows
