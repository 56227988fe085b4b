"""Rows of the 裁量基准 sheet → one ``BenchmarkSpec`` per (事项编码, 生效日期), and back.

Rows of one version are grouped; each 行类型 contributes its part (statutory range, fact, band,
tier). A problem is reported at the row and column it comes from; a problem of the whole benchmark
(a tier outside the statutory range …) at the row of the tier it names, else the version's first
row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from zhifa.catalog.exchange import cells
from zhifa.catalog.exchange.cells import CellError, Row, RowProblem
from zhifa.catalog.exchange.columns import (
    FACT_KINDS,
    FORMULA_KINDS,
    LEVELS,
    MEASURES,
    PARTY_TYPES,
    YES_NO,
    RowType,
    reverse,
)
from zhifa.catalog.spec import BenchmarkSpec, Formula, FormulaKind, Op
from zhifa.kit.money import yuan_plain

CONDITION = re.compile(r"^\s*([a-z][a-z0-9_]*)\s*(<=|>=|<|>|=)\s*(\d+(?:\.\d+)?)\s*$")
OPS = {"<": Op.LT, "<=": Op.LE, ">": Op.GT, ">=": Op.GE, "=": Op.EQ}
TIER_INDEX = re.compile(r"tiers\[(\d+)\]")


@dataclass
class BenchmarkRows:
    """The rows of one benchmark version, and the spec built from them."""

    power_code: str
    effective_from: date
    rows: list[Row] = field(default_factory=list)
    note: str = ""
    spec: BenchmarkSpec | None = None


def group(rows: list[Row], problems: list[RowProblem]) -> list[BenchmarkRows]:
    """Group the sheet's rows by power and 生效日期 and build each spec; collect problems."""
    groups: dict[tuple[str, date], BenchmarkRows] = {}
    for row in rows:
        code = row.text("事项编码")
        try:
            when = cells.iso_date(cells.required(row.text("生效日期")))
        except CellError as exc:
            problems.append(_problem(row, "生效日期", exc))
            continue
        if not code:
            problems.append(RowProblem(row.sheet.value, row.number, "事项编码", EMPTY))
            continue
        entry = groups.setdefault((code, when), BenchmarkRows(code, when))
        entry.rows.append(row)
        entry.note = entry.note or row.text("版本说明")
    for entry in groups.values():
        entry.spec = build(entry, problems)
    return list(groups.values())


EMPTY = "This cell must not be empty."


def _problem(row: Row, column: str, exc: CellError) -> RowProblem:
    return RowProblem(row.sheet.value, row.number, column, exc.message, exc.params)


def build(entry: BenchmarkRows, problems: list[RowProblem]) -> BenchmarkSpec | None:
    data: dict[str, Any] = {"facts": [], "statutory": {}, "bands": [], "tiers": [], "measures": []}
    tier_rows: list[Row] = []
    before = len(problems)
    for row in entry.rows:
        try:
            _add_row(row, data, tier_rows)
        except _CellAt as exc:
            problems.append(_problem(row, exc.column, exc.error))
    if len(problems) > before:
        return None
    try:
        return BenchmarkSpec.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        message = str(error["msg"]).removeprefix("Value error, ")
        found = TIER_INDEX.search(message)
        row = tier_rows[int(found.group(1))] if found else entry.rows[0]
        problems.append(
            RowProblem(
                row.sheet.value,
                row.number,
                "行类型",
                "The benchmark of {code} is not consistent: {problem}",
                {"code": entry.power_code, "problem": message},
            )
        )
        return None


class _CellAt(Exception):
    def __init__(self, column: str, error: CellError) -> None:
        super().__init__(column)
        self.column = column
        self.error = error


def _read(row: Row, column: str, reader: Any, *args: Any) -> Any:
    try:
        return reader(row.text(column), *args)
    except CellError as exc:
        raise _CellAt(column, exc) from exc


def _add_row(row: Row, data: dict[str, Any], tier_rows: list[Row]) -> None:
    kind = _read(row, "行类型", cells.choice, {t.value: t for t in RowType})
    if kind is RowType.FACT:
        data["facts"].append(
            {
                "key": _read(row, "计量事实", cells.required),
                "label": _read(row, "事实名称", cells.required),
                "unit": row.text("计量单位"),
                "kind": _read(row, "事实类型", cells.choice, FACT_KINDS),
            }
        )
    elif kind is RowType.BAND:
        data["bands"].append(
            {
                "key": _read(row, "违法程度", cells.required),
                "label": _read(row, "裁量情形", cells.required),
                "when": _read(row, "程度条件", _conditions),
            }
        )
    elif kind is RowType.STATUTORY:
        party = _read(row, "对象", cells.choice, PARTY_TYPES)
        if party.value in data["statutory"]:
            raise _CellAt(
                "对象",
                CellError(
                    "The statutory range for {value} is given twice.", value=row.text("对象")
                ),
            )
        data["statutory"][party.value] = _formula(row)
        data["measures"] = _merge(data["measures"], _read(row, "处罚措施", cells.choices, MEASURES))
        if row.text("首违不罚"):
            data["first_offence_exemption"] = _read(row, "首违不罚", cells.choice, YES_NO)
        if row.text("涉及安全"):
            data["concerns_safety"] = _read(row, "涉及安全", cells.choice, YES_NO)
    else:
        party = _read(row, "对象", cells.choice, PARTY_TYPES)
        level = _read(row, "裁量等级", cells.choice, LEVELS)
        band = row.text("违法程度") or None
        tier = _find_tier(data["tiers"], level.value, band)
        if tier is None:
            tier = {"level": level.value, "band": band, "situation": row.text("裁量情形")}
            data["tiers"].append(tier)
            tier_rows.append(row)
        if party.value in tier:
            raise _CellAt(
                "对象", CellError("This tier is given twice for {value}.", value=row.text("对象"))
            )
        tier[party.value] = _formula(row)
        tier["measures"] = _merge(
            tier.get("measures", []), _read(row, "处罚措施", cells.choices, MEASURES)
        )


def _find_tier(tiers: list[dict[str, Any]], level: str, band: str | None) -> dict[str, Any] | None:
    return next((t for t in tiers if t["level"] == level and t["band"] == band), None)


def _merge(existing: list[Any], more: list[Any]) -> list[Any]:
    return existing + [m for m in more if m not in existing]


def _conditions(text: str) -> list[dict[str, Any]]:
    result = []
    for part in re.split(r"[；;]", text):
        if not part.strip():
            continue
        found = CONDITION.match(part)
        if found is None:
            raise CellError("{value} is not a condition such as area_m2<=5.", value=part)
        fact, op, value = found.groups()
        result.append({"fact": fact, "op": OPS[op].value, "value": value})
    return result


def _formula(row: Row) -> dict[str, Any]:
    kind = _read(row, "计算方式", cells.choice, FORMULA_KINDS)
    formula: dict[str, Any] = {"kind": kind.value}
    if kind in (FormulaKind.FIXED, FormulaKind.PER_UNIT):
        formula["min_fen"] = _read(row, "下限", _yuan)
        formula["max_fen"] = _read(row, "上限", _yuan)
    elif kind is FormulaKind.UP_TO:
        if row.text("下限"):
            raise _CellAt("下限", CellError("A 限额 formula has only an upper limit (上限)."))
        formula["max_fen"] = _read(row, "上限", _yuan)
    elif kind in (FormulaKind.MULTIPLE, FormulaKind.PERCENT):
        formula["min_factor"] = str(_read(row, "下限", _number))
        formula["max_factor"] = str(_read(row, "上限", _number))
    if kind in (FormulaKind.PER_UNIT, FormulaKind.MULTIPLE, FormulaKind.PERCENT):
        formula["fact"] = _read(row, "计量事实", cells.required)
        if row.text("封顶（元）"):
            formula["cap_fen"] = _read(row, "封顶（元）", _yuan)
    try:
        Formula.model_validate(formula)
    except ValidationError as exc:
        message = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        raise _CellAt(
            "计算方式", CellError("The formula is not valid: {problem}", problem=message)
        ) from exc
    return formula


def _yuan(text: str) -> int:
    return cells.yuan_to_fen(cells.required(text))


def _number(text: str) -> Decimal:
    return cells.decimal(cells.required(text))


# ---- export: spec → rows -------------------------------------------------------------------

FORMULA_NAMES = reverse(FORMULA_KINDS)
PARTY_NAMES = reverse(PARTY_TYPES)
LEVEL_NAMES = reverse(LEVELS)
FACT_KIND_NAMES = reverse(FACT_KINDS)
MEASURE_NAMES = reverse(MEASURES)
OP_NAMES = {op: text for text, op in OPS.items()}


def to_rows(
    power_code: str, effective_from: date, note: str, spec: BenchmarkSpec
) -> list[dict[str, str]]:
    """The 裁量基准 rows of one benchmark version (the inverse of ``build``)."""
    base = {"事项编码": power_code, "生效日期": effective_from.isoformat(), "版本说明": note}
    rows: list[dict[str, str]] = []
    measures = "、".join(MEASURE_NAMES[m] for m in spec.measures)
    for party in PARTY_TYPES.values():
        formula = spec.statutory.formula(party)
        if formula is not None:
            rows.append(
                base
                | {
                    "行类型": RowType.STATUTORY.value,
                    "对象": PARTY_NAMES[party],
                    "处罚措施": measures,
                }
                | {"首违不罚": "是" if spec.first_offence_exemption else "否"}
                | {"涉及安全": "是" if spec.concerns_safety else "否"}
                | _formula_cells(formula)
            )
    for fact in spec.facts:
        rows.append(
            base
            | {"行类型": RowType.FACT.value, "计量事实": fact.key, "事实名称": fact.label}
            | {"计量单位": fact.unit, "事实类型": FACT_KIND_NAMES[fact.kind]}
        )
    for band in spec.bands:
        conditions = "；".join(f"{c.fact}{OP_NAMES[c.op]}{_plain(c.value)}" for c in band.when)
        rows.append(
            base
            | {"行类型": RowType.BAND.value, "违法程度": band.key, "裁量情形": band.label}
            | {"程度条件": conditions}
        )
    for tier in spec.tiers:
        for party in PARTY_TYPES.values():
            formula = tier.formula(party)
            if formula is None:
                continue
            rows.append(
                base
                | {"行类型": RowType.TIER.value, "对象": PARTY_NAMES[party]}
                | {"裁量等级": LEVEL_NAMES[tier.level], "违法程度": tier.band or ""}
                | {"裁量情形": tier.situation}
                | {"处罚措施": "、".join(MEASURE_NAMES[m] for m in tier.measures)}
                | _formula_cells(formula)
            )
    return rows


def _formula_cells(formula: Formula) -> dict[str, str]:
    out = {"计算方式": FORMULA_NAMES[formula.kind]}
    if formula.kind in (FormulaKind.FIXED, FormulaKind.PER_UNIT):
        out |= {"下限": fen_to_yuan(formula.min_fen), "上限": fen_to_yuan(formula.max_fen)}
    elif formula.kind is FormulaKind.UP_TO:
        out["上限"] = fen_to_yuan(formula.max_fen)
    elif formula.kind in (FormulaKind.MULTIPLE, FormulaKind.PERCENT):
        out |= {"下限": _plain(formula.min_factor), "上限": _plain(formula.max_factor)}
    if formula.fact:
        out["计量事实"] = formula.fact
    if formula.cap_fen is not None:
        out["封顶（元）"] = fen_to_yuan(formula.cap_fen)
    return out


def fen_to_yuan(fen: int | None) -> str:
    return "" if fen is None else yuan_plain(fen)


def _plain(value: Decimal | None) -> str:
    if value is None:
        return ""
    return format(value.normalize(), "f")
