"""Import of 12345 / 网络理政 work orders from an export (Excel .xlsx, or CSV in UTF-8 or GB18030):
each row becomes a complaint through ``complaints.intake.create_complaint`` (source ``import``,
``source_ref`` = 工单编号), routed and on the clock like any other. See ``docs/import-12345.md``.

- Columns are found by their Chinese header in any order, with the common synonyms (工单编号 /
  工单号, 事项分类 / 问题分类 …); other columns of the export are ignored. The header may sit
  below a title row. 工单编号, 事项分类 and 诉求内容 are required columns.
- All or nothing: every problem is reported by row and column (the row number as the spreadsheet
  shows it), and then nothing is imported.
- Idempotent: a work order already taken in (imported, or polled from the city platform) is
  counted as already imported, never an error, never a second complaint.
- A dry run does everything (routing, transfers) and rolls it back, announcing nothing.
- A real import is one ledger event ``complaint.imported`` (file name, SHA-256, counts) besides the
  complaints' own events. 办理时限, when given, is put on the complaint's timeline as a note.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from zhifa import ledger
from zhifa.complaints import workflow
from zhifa.complaints.hotline_sheet import (
    PRIORITY_WORDS,
    TYPE_WORDS,
    Categories,
    CellError,
    Sheet,
    as_text,
    decimal_number,
    local_time,
    read_sheet,
    received_time,
    word,
)
from zhifa.complaints.intake import create_complaint
from zhifa.complaints.schemas import ComplaintIn
from zhifa.config import Settings, get_settings
from zhifa.errors import InvalidInput, PermissionDenied
from zhifa.kit.clock import SHANGHAI
from zhifa.models.complaints import Complaint, ComplaintSource, ComplaintStatus
from zhifa.org.actor import Actor
from zhifa.org.roles import Permission

MAX_LISTED = 500
REF_MAX = 100
# Work orders taken in by either way count as already imported.
TAKEN_IN_BY = (ComplaintSource.IMPORT, ComplaintSource.UPSTREAM)

# Where intake's refusal of a field is shown.
INTAKE_FIELDS = {
    "category_code": "category",
    "attributes": "category",
    "description": "description",
    "address": "address",
    "lon": "lon",
    "lat": "lat",
    "reporter_name": "reporter_name",
    "reporter_phone": "reporter_phone",
}


def N_(message: str) -> str:
    """Mark ``message`` for the translation catalog; it is translated where it is shown."""
    return message


class ImportedRow(BaseModel):
    row: int
    source_ref: str
    category_code: str = ""
    already_imported: bool = False
    # What the work order became (received, transferred, dispatched …); on a dry run, would become.
    status: ComplaintStatus | None = None
    tracking_no: str | None = None  # None on a dry run and for an already imported one


class ImportReport(BaseModel):
    dry_run: bool
    file: str
    sha256: str
    rows: int
    created: int
    already_imported: int
    transferred: int
    items: list[ImportedRow]


# ---- planning and importing -------------------------------------------------------------------


@dataclass(frozen=True)
class Issue:
    row: int
    column: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Order:
    """One work order read from a row."""

    row: int
    source_ref: str
    data: ComplaintIn
    received_at: datetime | None
    deadline: datetime | None


class Reader:
    """Turns rows into work orders, collecting every problem by row and column."""

    def __init__(self, sheet: Sheet, categories: Categories) -> None:
        self.sheet, self.categories = sheet, categories
        self.issues: list[Issue] = []

    def _cell(self, row: int, cells: dict[str, Any], name: str, reader: Any) -> Any:
        try:
            return reader(cells.get(name))
        except CellError as exc:
            self.issues.append(Issue(row, self.sheet.columns[name], exc.message, exc.params))
            return None

    def source_ref(self, row: int, cells: dict[str, Any]) -> str | None:
        def reference(value: Any) -> str:
            text = as_text(value)
            if not text:
                raise CellError("This cell must not be empty.")
            if len(text) > REF_MAX:
                raise CellError(
                    N_("The work order number is longer than {limit} characters."), limit=REF_MAX
                )
            return text

        ref: str | None = self._cell(row, cells, "source_ref", reference)
        return ref

    def order(self, row: int, cells: dict[str, Any], ref: str) -> Order | None:
        before = len(self.issues)
        values = {
            name: self._cell(row, cells, name, reader)
            for name, reader in self._readers().items()
            if name in self.sheet.columns
        }
        if (values.get("lon") is None) != (values.get("lat") is None):
            column = self.sheet.columns["lon" if values.get("lon") is None else "lat"]
            self.issues.append(Issue(row, column, N_("Give both 经度 and 纬度, or neither.")))
        if len(self.issues) > before:
            return None
        data = ComplaintIn(
            category_code=values["category"],
            description=as_text(cells.get("description")),
            lon=values.get("lon"),
            lat=values.get("lat"),
            address=as_text(cells.get("address")),
            reporter_name=as_text(cells.get("reporter_name")) or None,
            reporter_phone=as_text(cells.get("reporter_phone")) or None,
            priority=values.get("priority"),
            hotline_type=values.get("hotline_type"),
        )
        return Order(row, ref, data, values.get("received_at"), values.get("deadline"))

    def _readers(self) -> dict[str, Any]:
        return {
            "category": self.categories.code_of,
            "received_at": received_time,
            "deadline": local_time,
            "lon": decimal_number,
            "lat": decimal_number,
            "hotline_type": lambda v: word(
                v, TYPE_WORDS, N_("Unknown type {value}: write 咨询, 求助, 投诉举报 or 意见建议.")
            ),
            "priority": lambda v: word(
                v, PRIORITY_WORDS, N_("Unknown urgency {value}: write 一般 or 紧急.")
            ),
        }


def _taken_in(session: Session, district_code: str, refs: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(refs), 500):
        found |= {
            ref
            for ref in session.scalars(
                select(Complaint.source_ref).where(
                    Complaint.district_code == district_code,
                    Complaint.source.in_([str(s) for s in TAKEN_IN_BY]),
                    Complaint.source_ref.in_(refs[start : start + 500]),
                )
            )
            if ref is not None
        }
    return found


@contextmanager
def _quiet(session: Session, *, keep: bool) -> Iterator[None]:
    """A savepoint whose ledger entries and bus announcements leave with it when it is rolled
    back (a dry run, a refused file)."""
    with ledger.savepoint(session, keep=keep):
        yield


def refuse(name: str, issues: list[Issue]) -> None:
    if not issues:
        return
    listed = [
        {"row": i.row, "column": i.column, "message": i.message, "params": i.params}
        for i in sorted(issues, key=lambda i: i.row)[:MAX_LISTED]
    ]
    raise InvalidInput(
        "{count} problems in {file}; nothing was imported.",
        detail={"field": "file", "problems": listed, "total": len(issues)},
        count=len(issues),
        file=name,
    )


class Importer:
    def __init__(
        self, session: Session, actor: Actor, name: str, sheet: Sheet, settings: Settings
    ) -> None:
        self.session, self.actor, self.name, self.sheet = session, actor, name, sheet
        self.settings = settings
        self.district = actor.district_code
        self.actor_id = None if actor.via == "system" else actor.officer_id
        self.reader = Reader(sheet, Categories(session, self.district))
        self.items: list[ImportedRow] = []
        self.created: list[Complaint] = []

    def run(self) -> None:
        refs = [as_text(cells.get("source_ref")) for _, cells in self.sheet.rows]
        taken = _taken_in(self.session, self.district, [r for r in refs if r])
        first_row: dict[str, int] = {}
        for row_no, cells in self.sheet.rows:
            ref = self.reader.source_ref(row_no, cells)
            if ref is None:
                continue
            if ref in taken:
                self.items.append(ImportedRow(row=row_no, source_ref=ref, already_imported=True))
                continue
            if ref in first_row:
                message = N_("The same work order is already in row {first}.")
                self._issue(row_no, "source_ref", message, first=first_row[ref])
                continue
            first_row[ref] = row_no
            order = self.reader.order(row_no, cells, ref)
            if order is not None:
                self._create(order)
        refuse(self.name, self.reader.issues)

    def _issue(self, row: int, field_name: str, message: str, **params: Any) -> None:
        column = self.sheet.columns.get(field_name, "")
        self.reader.issues.append(Issue(row, column, message, params))

    def _create(self, order: Order) -> None:
        try:
            with _quiet(self.session, keep=True):
                result = create_complaint(
                    self.session,
                    district_code=self.district,
                    data=order.data,
                    source=ComplaintSource.IMPORT,
                    actor_id=self.actor_id,
                    source_ref=order.source_ref,
                    received_at=order.received_at,
                    settings=self.settings,
                )
                if order.deadline is not None and result.created:
                    self._note_deadline(result.complaint, order.deadline)
        except InvalidInput as exc:
            detail = exc.detail if isinstance(exc.detail, dict) else {}
            field_name = INTAKE_FIELDS.get(str(detail.get("field", "")).split(".")[0], "")
            self._issue(order.row, field_name, exc.message, **exc.params)
            return
        complaint = result.complaint
        if not result.created:  # taken in meanwhile by another import or poll
            self.items.append(
                ImportedRow(row=order.row, source_ref=order.source_ref, already_imported=True)
            )
            return
        self.created.append(complaint)
        self.items.append(
            ImportedRow(
                row=order.row,
                source_ref=order.source_ref,
                category_code=order.data.category_code,
                status=ComplaintStatus(complaint.status),
                tracking_no=complaint.tracking_no,
            )
        )

    def _note_deadline(self, complaint: Complaint, deadline: datetime) -> None:
        shown = deadline.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        workflow.advance(
            self.session,
            complaint,
            "note",
            actor_id=self.actor_id,
            public=False,
            note=f"12345 办理时限：{shown}",
            data={"hotline_deadline": deadline.isoformat(), "source_ref": complaint.source_ref},
        )

    def report(self, content: bytes, dry_run: bool) -> ImportReport:
        new = [i for i in self.items if not i.already_imported]
        if dry_run:
            for item in new:
                item.tracking_no = None
        return ImportReport(
            dry_run=dry_run,
            file=self.name,
            sha256=hashlib.sha256(content).hexdigest(),
            rows=len(self.sheet.rows),
            created=len(new),
            already_imported=len(self.items) - len(new),
            transferred=sum(1 for i in new if i.status == ComplaintStatus.TRANSFERRED),
            items=sorted(self.items, key=lambda i: i.row),
        )


def import_file(
    session: Session,
    actor: Actor,
    *,
    filename: str,
    content: bytes,
    dry_run: bool,
    settings: Settings | None = None,
) -> ImportReport:
    """Import a 12345 export into the actor's district (see the module docstring)."""
    if not actor.can(Permission.COMPLAINTS_INTAKE):
        raise PermissionDenied(
            "Your role does not allow this action.",
            detail={"permission": str(Permission.COMPLAINTS_INTAKE)},
        )
    sheet = read_sheet(filename, content)
    importer = Importer(session, actor, filename, sheet, settings or get_settings())
    with _quiet(session, keep=not dry_run):
        importer.run()
        report = importer.report(content, dry_run)
        if report.created and not dry_run:
            _record_import(session, importer, report)
    return report


def _record_import(session: Session, importer: Importer, report: ImportReport) -> None:
    ledger.record(
        session,
        "complaint.imported",
        ("district", importer.district),
        {
            "file": report.file,
            "sha256": report.sha256,
            "rows": report.rows,
            "created": report.created,
            "already_imported": report.already_imported,
            "transferred": report.transferred,
            "complaint_ids": [c.id for c in importer.created],
        },
        actor_id=importer.actor_id,
        district_code=importer.district,
    )
