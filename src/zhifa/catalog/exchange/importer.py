"""Importing a catalog file: validate every row, then save all of it or nothing.

Order: powers, then benchmarks, then check items, then subject types and checklists (each needs
the one before). Every row is first read cell by cell; if any cell is wrong nothing is written.
Then each row is saved in its own SAVEPOINT so that a refusal by a service (a citation that does
not exist, a department unknown in the district …) is reported at its row and the next rows are
still checked; if anything was refused, the whole import raises ``ImportRefused`` and the caller's
transaction is rolled back. A dry run does everything and then rolls it all back.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from zhifa import ledger
from zhifa.catalog import repository as repo
from zhifa.catalog.checklists import check_item_service, checklist_service, subject_type_service
from zhifa.catalog.exchange import benchmarks, cells
from zhifa.catalog.exchange.cells import CellError, Row, RowProblem
from zhifa.catalog.exchange.columns import (
    EVIDENCE,
    PARTY_TYPES,
    POWER_KINDS,
    POWER_STATUSES,
    SheetKind,
)
from zhifa.catalog.exchange.reader import Sheet, read_files
from zhifa.catalog.schemas import (
    BenchmarkVersionIn,
    CheckItemVersionIn,
    ChecklistVersionIn,
    PowerVersionIn,
    SubjectTypeIn,
)
from zhifa.catalog.service import Author, Written, benchmark_service, power_service
from zhifa.errors import AppError, InvalidInput

MAX_PROBLEMS = 200

# Input field → the column it comes from, to report a service's refusal at the right cell.
POWER_FIELDS = {
    "name": "事项名称",
    "kind": "事项类别",
    "department": "实施部门",
    "party_types": "适用对象",
    "violated": "违法依据",
    "penalty": "处罚依据",
    "penalty_text": "处罚种类和幅度",
    "responsibility.unit_code": "责任单位",
    "responsibility.role": "责任岗位",
    "responsibility.act_within_days": "办理时限（日）",
    "responsibility.duties": "责任事项",
    "responsibility": "责任单位",
    "status": "状态",
    "effective_from": "生效日期",
    "note": "版本说明",
    "code": "事项编码",
}
ITEM_FIELDS = {
    "text": "检查内容",
    "guidance": "检查指引",
    "evidence": "所需证据",
    "department": "责任部门",
    "power_codes": "关联事项编码",
    "effective_from": "生效日期",
    "note": "版本说明",
    "code": "检查项编码",
}
LIST_FIELDS = {
    "name": "清单名称",
    "subject_type": "对象类型编码",
    "item_codes": "检查项编码",
    "effective_from": "生效日期",
    "note": "版本说明",
    "code": "清单编码",
}


class ImportRefused(InvalidInput):
    """The file was refused; ``detail["problems"]`` lists every problem found."""


@dataclass
class Tally:
    created: int = 0
    unchanged: int = 0

    def add(self, written: Written) -> None:
        if written.created:
            self.created += 1
        else:
            self.unchanged += 1


@dataclass
class ImportReport:
    dry_run: bool
    files: list[str]
    counts: dict[str, Tally] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(t.created for t in self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "files": self.files,
            "changed": self.changed,
            "counts": {
                k: {"created": v.created, "unchanged": v.unchanged} for k, v in self.counts.items()
            },
        }


@dataclass
class _Parsed:
    powers: list[tuple[Row, str, PowerVersionIn]] = field(default_factory=list)
    benchmarks: list[benchmarks.BenchmarkRows] = field(default_factory=list)
    items: list[tuple[Row, str, CheckItemVersionIn]] = field(default_factory=list)
    lists: list[tuple[Row, str, str, ChecklistVersionIn]] = field(default_factory=list)


def import_files(
    session: Session, author: Author, files: list[tuple[str, bytes]], *, dry_run: bool = False
) -> ImportReport:
    sheets = read_files(files)
    problems: list[RowProblem] = []
    parsed = _parse(sheets, problems)
    _refuse_if(problems)
    report = ImportReport(dry_run=dry_run, files=[name for name, _ in files])
    with ledger.savepoint(session, keep=not dry_run):
        _save(session, author, parsed, report, problems)
        _refuse_if(problems)
        if not dry_run and report.changed:
            ledger.record(
                session,
                "catalog.import.completed",
                ("district", author.district_code),
                report.as_dict() | {"via": author.via},
                actor_id=author.officer_id,
                district_code=author.district_code,
            )
    return report


def _refuse_if(problems: list[RowProblem]) -> None:
    if not problems:
        return
    listed = [
        {
            "sheet": p.sheet,
            "row": p.row,
            "column": p.column,
            "message": p.message,
            "params": p.params,
        }
        for p in problems[:MAX_PROBLEMS]
    ]
    raise ImportRefused(
        "The file was not imported: {count} problem(s) found. Nothing was saved.",
        detail={"field": "file", "problems": listed, "total": len(problems)},
        count=len(problems),
    )


# ---- reading rows --------------------------------------------------------------------------


def _parse(sheets: list[Sheet], problems: list[RowProblem]) -> _Parsed:
    parsed = _Parsed()
    by_kind: dict[SheetKind, list[Row]] = {kind: [] for kind in SheetKind}
    for sheet in sheets:
        by_kind[sheet.kind].extend(sheet.rows)
    for row in by_kind[SheetKind.POWERS]:
        found = _row(row, problems, _power_row, POWER_FIELDS)
        if found is not None:
            parsed.powers.append((row, *found))
    parsed.benchmarks = benchmarks.group(by_kind[SheetKind.BENCHMARKS], problems)
    for row in by_kind[SheetKind.CHECK_ITEMS]:
        found_item = _row(row, problems, _item_row, ITEM_FIELDS)
        if found_item is not None:
            parsed.items.append((row, *found_item))
    parsed.lists = _checklists(by_kind[SheetKind.CHECKLISTS], problems)
    _duplicates(parsed, problems)
    return parsed


def _row(
    row: Row, problems: list[RowProblem], reader: Callable[[Row], Any], fields: dict[str, str]
) -> Any:
    try:
        return reader(row)
    except _At as exc:
        problems.append(
            RowProblem(row.sheet.value, row.number, exc.column, exc.error.message, exc.error.params)
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        column = fields.get(where, fields.get(where.split(".")[0], "事项编码"))
        problems.append(
            RowProblem(row.sheet.value, row.number, column, "{problem}", {"problem": error["msg"]})
        )
    return None


class _At(Exception):
    def __init__(self, column: str, error: CellError) -> None:
        super().__init__(column)
        self.column, self.error = column, error


def _cell(row: Row, column: str, reader: Callable[..., Any], *args: Any) -> Any:
    try:
        return reader(row.text(column), *args)
    except CellError as exc:
        raise _At(column, exc) from exc


def _version(row: Row) -> dict[str, Any]:
    return {
        "effective_from": _cell(row, "生效日期", lambda t: cells.iso_date(cells.required(t))),
        "note": row.text("版本说明"),
    }


def _power_row(row: Row) -> tuple[str, PowerVersionIn]:
    code = _cell(row, "事项编码", cells.required)
    days = row.text("办理时限（日）")
    responsibility: dict[str, Any] = {
        "unit_code": row.text("责任单位") or None,
        "duties": row.text("责任事项"),
        "act_within_days": _cell(row, "办理时限（日）", cells.integer) if days else None,
    }
    if row.text("责任岗位"):
        responsibility["role"] = row.text("责任岗位")
    status = row.text("状态")
    data = PowerVersionIn.model_validate(
        {
            "name": _cell(row, "事项名称", cells.required),
            "kind": _cell(row, "事项类别", cells.choice, POWER_KINDS),
            "department": _cell(row, "实施部门", cells.required),
            "party_types": _cell(row, "适用对象", cells.choices, PARTY_TYPES),
            "violated": row.text("违法依据"),
            "penalty": row.text("处罚依据"),
            "penalty_text": row.text("处罚种类和幅度"),
            "responsibility": responsibility,
            "status": _cell(row, "状态", cells.choice, POWER_STATUSES) if status else "active",
        }
        | _version(row)
    )
    return code, data


def _item_row(row: Row) -> tuple[str, CheckItemVersionIn]:
    code = _cell(row, "检查项编码", cells.required)
    data = CheckItemVersionIn.model_validate(
        {
            "text": _cell(row, "检查内容", cells.required),
            "guidance": row.text("检查指引"),
            "evidence": _cell(row, "所需证据", cells.choices, EVIDENCE),
            "department": _cell(row, "责任部门", cells.required),
            "power_codes": cells.split_list(row.text("关联事项编码")),
        }
        | _version(row)
    )
    return code, data


def _checklists(
    rows: list[Row], problems: list[RowProblem]
) -> list[tuple[Row, str, str, ChecklistVersionIn]]:
    """One template version per (清单编码, 生效日期); its items ordered by 顺序."""
    groups: dict[tuple[str, date], list[tuple[int, Row]]] = {}
    for row in rows:
        try:
            code = _cell(row, "清单编码", cells.required)
            when = _cell(row, "生效日期", lambda t: cells.iso_date(cells.required(t)))
            position = _cell(row, "顺序", lambda t: cells.integer(cells.required(t)))
            _cell(row, "检查项编码", cells.required)
        except _At as exc:
            problems.append(
                RowProblem(
                    row.sheet.value, row.number, exc.column, exc.error.message, exc.error.params
                )
            )
            continue
        groups.setdefault((code, when), []).append((position, row))
    result = []
    for (code, _), members in groups.items():
        members.sort(key=lambda m: m[0])
        first = members[0][1]
        positions = Counter(p for p, _ in members)
        repeated = [p for p, n in positions.items() if n > 1]
        if repeated:
            problems.append(
                RowProblem(
                    first.sheet.value,
                    first.number,
                    "顺序",
                    "Position {value} is used twice in checklist {code}.",
                    {"value": repeated[0], "code": code},
                )
            )
            continue
        for column in ("清单名称", "对象类型编码", "对象类型名称"):
            values = {row.text(column) for _, row in members}
            if len(values) > 1:
                problems.append(
                    RowProblem(
                        first.sheet.value,
                        first.number,
                        column,
                        "Checklist {code} has different values in this column.",
                        {"code": code},
                    )
                )
        try:
            data = ChecklistVersionIn.model_validate(
                {
                    "name": first.text("清单名称"),
                    "subject_type": first.text("对象类型编码"),
                    "item_codes": [row.text("检查项编码") for _, row in members],
                    "effective_from": first.text("生效日期"),
                    "note": next(
                        (r.text("版本说明") for _, r in members if r.text("版本说明")), ""
                    ),
                }
            )
        except ValidationError as exc:
            error = exc.errors()[0]
            column = LIST_FIELDS.get(str(error["loc"][0]), "清单编码")
            problems.append(
                RowProblem(
                    first.sheet.value, first.number, column, "{problem}", {"problem": error["msg"]}
                )
            )
            continue
        result.append((first, code, first.text("对象类型名称"), data))
    return result


def _duplicates(parsed: _Parsed, problems: list[RowProblem]) -> None:
    seen: dict[tuple[str, str, date], int] = {}
    keyed = [("power", r, c, d.effective_from) for r, c, d in parsed.powers]
    keyed += [("item", r, c, d.effective_from) for r, c, d in parsed.items]
    for kind, row, code, when in keyed:
        key = (kind, code, when)
        if key in seen:
            problems.append(
                RowProblem(
                    row.sheet.value,
                    row.number,
                    "生效日期",
                    "{code} has two rows with the same 生效日期 (the other is row {other}).",
                    {"code": code, "other": seen[key]},
                )
            )
        seen[key] = row.number


# ---- saving --------------------------------------------------------------------------------


def _save(
    session: Session,
    author: Author,
    parsed: _Parsed,
    report: ImportReport,
    problems: list[RowProblem],
) -> None:
    tallies = {
        name: Tally()
        for name in ("powers", "benchmarks", "check_items", "subject_types", "checklists")
    }
    report.counts = tallies
    for row, code, data in sorted(parsed.powers, key=lambda p: (p[1], p[2].effective_from)):
        _saved(
            session,
            row,
            POWER_FIELDS,
            problems,
            tallies["powers"],
            partial(power_service.put, session, author, code=code, data=data),
        )
    for entry in sorted(parsed.benchmarks, key=lambda b: (b.power_code, b.effective_from)):
        if entry.spec is None:
            continue
        body = BenchmarkVersionIn(
            spec=entry.spec, effective_from=entry.effective_from, note=entry.note
        )
        _saved(
            session,
            entry.rows[0],
            {"code": "事项编码", "effective_from": "生效日期"},
            problems,
            tallies["benchmarks"],
            partial(benchmark_service.put, session, author, code=entry.power_code, data=body),
        )
    for row, code, item in sorted(parsed.items, key=lambda p: (p[1], p[2].effective_from)):
        _saved(
            session,
            row,
            ITEM_FIELDS,
            problems,
            tallies["check_items"],
            partial(check_item_service.put, session, author, code=code, data=item),
        )
    for row, code, type_name, checklist in parsed.lists:
        _save_checklist(session, author, row, code, type_name, checklist, problems, tallies)


def _save_checklist(
    session: Session,
    author: Author,
    row: Row,
    code: str,
    type_name: str,
    data: ChecklistVersionIn,
    problems: list[RowProblem],
    tallies: dict[str, Tally],
) -> None:
    fresh = repo.subject_type(session, author.district_code, data.subject_type) is None
    try:
        with ledger.savepoint(session):
            subject_type_service.ensure(
                session, author, data=SubjectTypeIn(code=data.subject_type, name=type_name)
            )
    except (AppError, ValidationError) as exc:
        problems.append(_refusal(row, exc, {"code": "对象类型编码", "name": "对象类型名称"}))
        return
    if fresh:
        tallies["subject_types"].created += 1
    _saved(
        session,
        row,
        LIST_FIELDS,
        problems,
        tallies["checklists"],
        partial(checklist_service.put, session, author, code=code, data=data),
    )


def _saved(
    session: Session,
    row: Row,
    fields: dict[str, str],
    problems: list[RowProblem],
    tally: Tally,
    write: Callable[[], Written],
) -> None:
    try:
        with ledger.savepoint(session):
            tally.add(write())
    except AppError as exc:
        problems.append(_refusal(row, exc, fields))


def _refusal(row: Row, exc: Exception, fields: dict[str, str]) -> RowProblem:
    if isinstance(exc, AppError):
        detail = exc.detail if isinstance(exc.detail, dict) else {}
        field_name = str(detail.get("field", ""))
        column = fields.get(
            field_name, fields.get(field_name.split(".")[0], next(iter(fields.values())))
        )
        return RowProblem(row.sheet.value, row.number, column, exc.message, dict(exc.params))
    return RowProblem(
        row.sheet.value, row.number, next(iter(fields.values())), "{problem}", {"problem": str(exc)}
    )
