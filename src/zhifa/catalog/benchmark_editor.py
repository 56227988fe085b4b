"""The benchmark editor (裁量基准编辑): a new benchmark version typed as a table of rows of the
裁量基准 sheet (docs/catalog-format.md), or, as a second way, as the spec's JSON.

Invariants:
- The table is read by the importer's own code (``exchange.benchmarks.build``): rows saved here and
  the same rows imported from Excel make the same spec. Blank rows are ignored; the others are
  numbered by their position in the table, and a problem is shown at the row and cell it names.
- A refused table is shown again with what was typed, and nothing is saved (the request's
  transaction is rolled back before the page is read).
- A valid spec is recorded by ``benchmark_service.put``; the same content already in force on that
  date records nothing, and the page says so.
- "Add a row" and "Delete" work with the small script ``benchmark-editor.js`` and, without it, as
  submit buttons the server answers by showing the table again (nothing is saved).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from zhifa.catalog import browse, versions
from zhifa.catalog import repository as repo
from zhifa.catalog.auth import CatalogManage
from zhifa.catalog.exchange import benchmarks
from zhifa.catalog.exchange.cells import Row, RowProblem
from zhifa.catalog.exchange.columns import (
    FACT_KINDS,
    FORMULA_KINDS,
    LEVELS,
    MEASURES,
    PARTY_TYPES,
    YES_NO,
    RowType,
    SheetKind,
)
from zhifa.catalog.presenters import (
    N_,
    FormValues,
    Posted,
    Translate,
    benchmark_table,
    catalog_context,
    error_messages,
    parse_form,
    translator,
)
from zhifa.catalog.schemas import BenchmarkVersionIn
from zhifa.catalog.service import Author, Written, benchmark_service, power_service
from zhifa.catalog.spec import BenchmarkSpec, parse_benchmark
from zhifa.errors import Conflict, InvalidInput
from zhifa.kit.clock import today_local
from zhifa.org.actor import Actor
from zhifa.org.auth import DbSession
from zhifa.org.forms import done
from zhifa.web.templating import render

router = APIRouter(include_in_schema=False)
TEMPLATE = "catalog/benchmark_form.html"
FIELDS = ("spec", "effective_from", "note")
COLUMNS = (
    "行类型",
    "对象",
    "裁量等级",
    "违法程度",
    "裁量情形",
    "程度条件",
    "计算方式",
    "下限",
    "上限",
    "计量事实",
    "事实名称",
    "计量单位",
    "事实类型",
    "封顶（元）",
    "处罚措施",
    "首违不罚",
    "涉及安全",
)
OPTIONS: dict[str, list[str]] = {
    "行类型": [t.value for t in RowType],
    "对象": list(PARTY_TYPES),
    "裁量等级": list(LEVELS),
    "计算方式": list(FORMULA_KINDS),
    "事实类型": list(FACT_KINDS),
    "首违不罚": list(YES_NO),
    "涉及安全": list(YES_NO),
}
BLANK_ROWS = 3
ROW_FIELD = re.compile(r"^rows-(\d+)-(.+)$")
# A consistency problem of one tier, as the spec names it: "tiers[0].organisation: …".
TIER_PROBLEM = re.compile(r"^tiers\[(\d+)\]\.(\w+): (.*)$")
BOUNDS = ("下限", "上限")
Cells = dict[str, str]
PARTY_NAMES = {party.value: name for name, party in PARTY_TYPES.items()}


# ---- the table ------------------------------------------------------------------------------


@dataclass
class TableRow:
    """One row of the table as shown: its number, its cells, the cells in error and why."""

    number: int
    cells: Cells
    bad: set[str] = field(default_factory=set)
    messages: list[tuple[str, str]] = field(default_factory=list)  # (column, text)


def posted_table(form: FormValues) -> list[Cells]:
    """The table's rows in their order on the page (``rows-N-列名``), blank ones included."""
    by_index: dict[int, Cells] = {}
    for name in form.names():
        found = ROW_FIELD.match(name)
        if found and found.group(2) in COLUMNS:
            by_index.setdefault(int(found.group(1)), {})[found.group(2)] = form.text(name)
    return [by_index[i] for i in sorted(by_index)]


def is_blank(cells: Cells) -> bool:
    return not any(value.strip() for value in cells.values())


def shown(table: list[Cells], *, blanks: int = BLANK_ROWS) -> list[TableRow]:
    return [TableRow(n, cells) for n, cells in enumerate(table + [{}] * blanks, start=1)]


def read_table(
    code: str, when: date, note: str, table: list[Cells]
) -> tuple[BenchmarkSpec | None, list[RowProblem]]:
    """The spec the (non-blank) rows make, or the problems found in them."""
    base = {"事项编码": code, "生效日期": when.isoformat(), "版本说明": note}
    rows = [Row(SheetKind.BENCHMARKS, n, cells | base) for n, cells in enumerate(table, start=1)]
    problems: list[RowProblem] = []
    if not rows:
        return None, [RowProblem(SheetKind.BENCHMARKS.value, 1, "行类型", NO_ROWS)]
    spec = benchmarks.build(benchmarks.BenchmarkRows(code, when, rows, note), problems)
    return spec, [_located(p, table) for p in problems]


NO_ROWS = N_("Fill in at least one row of the benchmark.")


def _located(problem: RowProblem, table: list[Cells]) -> RowProblem:
    """A tier's consistency problem at that tier's row for the party it names, and at the cell it
    concerns (its band, its kind of formula, else its bounds), not at the tier's first row."""
    found = TIER_PROBLEM.match(str(problem.params.get("problem", "")))
    if found is None:
        return problem
    index, name, what = int(found.group(1)), found.group(2), found.group(3)
    party = PARTY_NAMES.get(name)
    tiers: list[tuple[str, str]] = []
    for number, cells in enumerate(table, start=1):
        if cells.get("行类型", "").strip() != RowType.TIER.value:
            continue
        key = (cells.get("裁量等级", "").strip(), cells.get("违法程度", "").strip())
        if key not in tiers:
            tiers.append(key)
        if tiers.index(key) != index:
            continue
        if name == "band":
            column = "违法程度"
        elif party is not None and cells.get("对象", "").strip() == party:
            column = "计算方式" if "formula" in what or "kind" in what else BOUNDS[1]
        else:
            continue
        return RowProblem(problem.sheet, number, column, problem.message, problem.params)
    return problem


def marked(
    t: Translate, table: list[Cells], problems: list[RowProblem], *, blanks: int = BLANK_ROWS
) -> list[TableRow]:
    """The rows with each problem at its cell (a bound's problem marks both bounds)."""
    rows = shown(table, blanks=blanks)
    for problem in problems:
        row = rows[min(max(problem.row, 1), len(rows)) - 1]
        row.bad.update(BOUNDS if problem.column in BOUNDS else (problem.column,))
        row.messages.append((problem.column, t(problem.message, **problem.params)))
    return rows


def initial_table(session: Session, power_id: int, code: str) -> tuple[list[Cells], Any]:
    """The rows of the version in force today (else the latest) and its spec as stored; without
    any, one 法定幅度 row per party type of the power and an empty 一般 tier (and, for the JSON
    editor, a fixed range per party type)."""
    stored = repo.benchmark_versions(session, power_id)
    current = versions.in_force(stored, today_local()) or versions.latest(stored)
    if current is not None:
        spec = BenchmarkSpec.model_validate(current.spec)
        rows = benchmarks.to_rows(code, current.effective_from, current.note, spec)
        return [{c: row.get(c, "") for c in COLUMNS} for row in rows], current.spec
    power_version = versions.latest(repo.power_versions(session, power_id))
    parties = [p for p in (power_version.party_types if power_version else []) if p in PARTY_NAMES]
    table = [{"行类型": RowType.STATUTORY.value, "对象": PARTY_NAMES[p]} for p in parties]
    table.append({"行类型": RowType.TIER.value, "裁量等级": "一般"})
    return table, _skeleton(parties)


def _skeleton(parties: list[str]) -> dict[str, Any]:
    """A starting point for the JSON editor: a fixed range per party type."""
    formula = {"kind": "fixed", "min_fen": 0, "max_fen": 100000}
    ranges = dict.fromkeys(parties, formula)
    return {
        "facts": [],
        "statutory": ranges,
        "measures": ["order_correction"],
        "tiers": [{"level": "ordinary", "situation": "", **ranges}],
    }


# ---- the page -------------------------------------------------------------------------------


def _page(
    request: Request,
    session: Session,
    actor: Actor,
    code: str,
    values: dict[str, Any],
    rows: list[TableRow],
    *,
    errors: dict[str, str] | None = None,
    notice: str = "",
    json_open: bool = False,
) -> dict[str, Any]:
    """The form, with the benchmark in force today written out below it for comparison."""
    detail = browse.power_detail(session, actor.district_code, code, on=today_local())
    t = translator(request)
    table = benchmark_table(t, detail.benchmark.spec) if detail.benchmark else None
    return catalog_context(
        session,
        actor,
        detail=detail,
        table=table,
        values=values,
        rows=rows,
        columns=COLUMNS,
        options=OPTIONS,
        measures="、".join(MEASURES),
        errors=errors or {},
        notice=notice,
        json_open=json_open,
        tab="powers",
    )


@router.get("/catalog/powers/{code}/benchmark/edit")
def edit_benchmark(
    request: Request, session: DbSession, actor: CatalogManage, code: str
) -> Response:
    power = power_service.get_power(session, actor.district_code, code)
    table, spec = initial_table(session, power.id, code)
    values = {
        "spec": json.dumps(spec, ensure_ascii=False, indent=2),
        "effective_from": today_local().isoformat(),
        "note": "",
        "has_versions": bool(repo.benchmark_versions(session, power.id)),
    }
    ctx = _page(request, session, actor, code, values, shown(table))
    return render(request, TEMPLATE, ctx)


@router.post("/catalog/powers/{code}/benchmark/edit")
def revise_benchmark(
    request: Request, session: DbSession, actor: CatalogManage, code: str, form: Posted
) -> Response:
    """Record a new version of the power's discretion benchmark from its effective date, typed as
    rows of the 裁量基准 sheet or (mode ``json``) as the spec's JSON."""
    power_service.get_power(session, actor.district_code, code)
    values: dict[str, Any] = {k: form.text(k) for k in FIELDS}
    table = posted_table(form)
    if form.text("add_row") or form.text("remove_row"):
        return _rearranged(request, session, actor, code, values, table, form)
    if form.text("mode") == "json" or (not table and "spec" in form.names()):
        return _save_json(request, session, actor, code, values, table)
    return _save_rows(request, session, actor, code, values, table)


def _rearranged(
    request: Request,
    session: Session,
    actor: Actor,
    code: str,
    values: dict[str, Any],
    table: list[Cells],
    form: FormValues,
) -> Response:
    """Without the script: the table again with one more row, or without the row deleted."""
    if form.text("add_row"):
        table = [*table, {}]
    else:
        drop = form.text("remove_row")
        table = [cells for n, cells in enumerate(table, start=1) if str(n) != drop]
    ctx = _page(request, session, actor, code, values, shown(table, blanks=0))
    return render(request, TEMPLATE, ctx)


def _save_rows(
    request: Request,
    session: Session,
    actor: Actor,
    code: str,
    values: dict[str, Any],
    table: list[Cells],
) -> Response:
    t = translator(request)
    filled = [cells for cells in table if not is_blank(cells)]
    errors: dict[str, str] = {}
    try:
        when = date.fromisoformat(values["effective_from"].strip())
    except ValueError:
        when = today_local()
        errors["effective_from"] = t(N_("Enter the date as YYYY-MM-DD."))
    spec, problems = read_table(code, when, values["note"], filled)
    if problems or spec is None or errors:
        errors[""] = t(N_("The benchmark was not saved; see the marked cells and fields."))
        rows = marked(t, filled, problems)
        ctx = _page(request, session, actor, code, values, rows, errors=errors)
        return render(request, TEMPLATE, ctx, status_code=422)
    data = {"spec": spec, "effective_from": when, "note": values["note"]}
    return _record(request, session, actor, code, values, filled, data)


def _save_json(
    request: Request,
    session: Session,
    actor: Actor,
    code: str,
    values: dict[str, Any],
    table: list[Cells],
) -> Response:
    try:
        raw = json.loads(values["spec"])
    except json.JSONDecodeError as exc:
        error = InvalidInput(
            "The benchmark is not valid JSON (line {line}, column {column}).",
            detail={"field": "spec"},
            line=exc.lineno,
            column=exc.colno,
        )
        return _refused(request, session, actor, code, values, table, error, json_open=True)
    try:
        spec = parse_benchmark(raw)
    except InvalidInput as exc:
        return _refused(request, session, actor, code, values, table, exc, json_open=True)
    data = {
        "spec": spec,
        "effective_from": values["effective_from"] or None,
        "note": values["note"],
    }
    return _record(request, session, actor, code, values, table, data, json_open=True)


def _record(
    request: Request,
    session: Session,
    actor: Actor,
    code: str,
    values: dict[str, Any],
    table: list[Cells],
    data: dict[str, Any],
    *,
    json_open: bool = False,
) -> Response:
    """Record the version; a refusal or an unchanged benchmark shows the form again."""
    try:
        version = parse_form(BenchmarkVersionIn, data)
        written = benchmark_service.put(session, Author.of(actor), code=code, data=version)
    except (InvalidInput, Conflict) as exc:
        return _refused(request, session, actor, code, values, table, exc, json_open=json_open)
    if written.created:
        return done(request, f"/catalog/powers/{code}")
    notice = _unchanged(translator(request), written)
    ctx = _page(request, session, actor, code, values, shown(table), notice=notice)
    return render(request, TEMPLATE, ctx)


def _unchanged(t: Translate, written: Written) -> str:
    return t(
        N_(
            "Nothing was recorded: version {version}, effective from {date}, already has this "
            "content."
        ),
        version=written.version,
        date=written.effective_from.isoformat(),
    )


def _refused(
    request: Request,
    session: Session,
    actor: Actor,
    code: str,
    values: dict[str, Any],
    table: list[Cells],
    exc: InvalidInput | Conflict,
    *,
    json_open: bool,
) -> Response:
    """The form again with the service's messages; nothing of this request is kept."""
    session.rollback()
    errors = error_messages(request, exc, FIELDS)
    rows = shown([cells for cells in table if not is_blank(cells)])
    ctx = _page(request, session, actor, code, values, rows, errors=errors, json_open=json_open)
    return render(request, TEMPLATE, ctx, status_code=exc.status_code)
