"""Hypothesis strategies: valid discretion benchmarks of every formula family (with and without
bands, per party type), policies, facts, and circumstances without contradictions.

A benchmark is built the way bureaus write them: the statutory range per party, then per band
(or for the whole benchmark) cut points inside it, so 从轻 ≤ 一般 ≤ 从重 and every tier stays in
the statutory range; a 减轻 tier lies below the statutory minimum when there is one.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from zhifa.catalog.policy import CONTRADICTIONS, MANDATORY_MITIGATING, Circumstance, PolicySpec
from zhifa.catalog.spec import BenchmarkSpec

# per_unit_total: a per-unit tier under a total statutory range (the internet-café shape).
FAMILIES = ("fixed", "up_to", "per_unit", "per_unit_total", "multiple", "percent", "none")
FACTS = {
    "n": {"key": "n", "label": "数量", "unit": "个", "kind": "count"},
    "base": {"key": "base", "label": "基数", "unit": "元", "kind": "money"},
}
PARTIES = (("person",), ("organisation",), ("person", "organisation"))
LEVELS = ("lighter", "ordinary", "heavier")


@dataclass(frozen=True)
class Case:
    spec: BenchmarkSpec
    parties: tuple[str, ...]
    family: str


def _points(draw: st.DrawFn, lo: int, hi: int, count: int) -> list[int]:
    return sorted(draw(st.lists(st.integers(lo, hi), min_size=count, max_size=count)))


def _formula(kind: str, lo: int, hi: int) -> dict[str, Any]:
    """A formula between lo and hi: fen, fen per unit, or hundredths of a factor."""
    if kind == "fixed":
        return {"kind": "fixed", "min_fen": lo, "max_fen": hi}
    if kind == "up_to":
        return {"kind": "up_to", "max_fen": hi}
    if kind == "per_unit":
        return {"kind": "per_unit", "fact": "n", "min_fen": lo, "max_fen": hi}
    if kind in ("multiple", "percent"):
        low, high = str(Decimal(lo) / 100), str(Decimal(hi) / 100)
        return {"kind": kind, "fact": "base", "min_factor": low, "max_factor": high}
    return {"kind": "none"}


@st.composite
def _statutory(draw: st.DrawFn, family: str) -> tuple[int, int]:
    top = {"multiple": 500, "percent": 2000}.get(family, 5_000_000)
    if family == "up_to":
        return 0, draw(st.integers(1, top))
    low, high = _points(draw, 0, top, 2)
    return low, high


def _statutory_formula(family: str, lo: int, hi: int) -> dict[str, Any]:
    return _formula("fixed" if family == "per_unit_total" else family, lo, hi)


@st.composite
def _tiers(draw: st.DrawFn, family: str, lo: int, hi: int) -> dict[str, dict[str, Any]]:
    if family == "none":
        return {level: {"kind": "none"} for level in LEVELS}
    kind = {"per_unit_total": "per_unit", "up_to": "fixed"}.get(family, family)
    from_zero = family in ("per_unit_total", "up_to")
    cuts = _points(draw, 0 if from_zero else lo, hi, 4)
    tiers = {level: _formula(kind, cuts[i], cuts[i + 1]) for i, level in enumerate(LEVELS)}
    if not from_zero and lo > 0:
        r_lo, r_hi = _points(draw, 0, lo, 2)
        tiers["reduced"] = _formula(kind, r_lo, r_hi)
    return tiers


@st.composite
def benchmarks(draw: st.DrawFn, family: str | None = None) -> Case:
    family = family or draw(st.sampled_from(FAMILIES))
    parties = draw(st.sampled_from(PARTIES))
    band_count = draw(st.integers(0, 3))
    band_keys: list[str | None] = [f"b{i}" for i in range(band_count)] or [None]
    levels = sorted(
        draw(st.sets(st.sampled_from(["lighter", "heavier", "reduced"]))) | {"ordinary"}
    )
    bounds = {party: draw(_statutory(family)) for party in parties}
    tiers: list[dict[str, Any]] = []
    for key in band_keys:
        drawn = {p: draw(_tiers(family, *bounds[p])) for p in parties}
        for level in levels:
            formulas = {p: drawn[p].get(level) for p in parties}
            if any(f is None for f in formulas.values()):
                continue
            tier: dict[str, Any] = {"level": level, "band": key, **formulas}
            if level == "heavier" and draw(st.booleans()):
                tier["measures"] = ["suspend_business"]
            tiers.append(tier)
    if draw(st.booleans()):
        tiers.append({"level": "no_penalty", "measures": ["criticism"]})
    data: dict[str, Any] = {
        "facts": _facts(family, band_count),
        "statutory": {p: _statutory_formula(family, *bounds[p]) for p in parties},
        "measures": draw(st.sampled_from([[], ["warning"], ["confiscate_income"]])),
        "bands": _bands(band_keys),
        "tiers": tiers,
        "first_offence_exemption": draw(st.booleans()),
        "concerns_safety": draw(st.booleans()),
    }
    return Case(BenchmarkSpec.model_validate(data), parties, family)


def _facts(family: str, bands: int) -> list[dict[str, Any]]:
    keys = set()
    if family in ("per_unit", "per_unit_total") or bands:
        keys.add("n")
    if family in ("multiple", "percent"):
        keys.add("base")
    return [FACTS[k] for k in sorted(keys)]


def _bands(keys: list[str | None]) -> list[dict[str, Any]]:
    if keys == [None]:
        return []
    out = []
    for index, key in enumerate(keys):
        last = index == len(keys) - 1
        when = [] if last else [{"fact": "n", "op": "le", "value": str(5 * (index + 1))}]
        out.append({"key": key, "label": f"第{index + 1}档", "when": when})
    return out


def facts_for(case: Case) -> st.SearchStrategy[dict[str, object]]:
    keys = {f.key for f in case.spec.facts}
    parts: dict[str, st.SearchStrategy[object]] = {}
    if "n" in keys:
        parts["n"] = st.integers(0, 30)
    if "base" in keys:
        parts["base"] = st.integers(0, 10**9)
    return st.fixed_dictionaries(parts)


@st.composite
def circumstances(draw: st.DrawFn) -> frozenset[Circumstance]:
    chosen = set(draw(st.sets(st.sampled_from(list(Circumstance)), max_size=4)))
    if draw(st.integers(0, 9)):  # the outright exemptions only now and then
        chosen -= {Circumstance.UNDER_14, Circumstance.NO_FAULT}
    for first, second in CONTRADICTIONS:
        if first in chosen and second in chosen:
            chosen.discard(draw(st.sampled_from([first, second])))
    return frozenset(chosen)


def mitigation_for(found: frozenset[Circumstance]) -> st.SearchStrategy[str | None]:
    if found & MANDATORY_MITIGATING:
        return st.sampled_from([None, "lighter", "reduced"])
    return st.sampled_from([None, "lighter"])


@st.composite
def policies(draw: st.DrawFn) -> PolicySpec:
    positions = sorted(draw(st.lists(st.integers(0, 100), min_size=3, max_size=3)))
    return PolicySpec(
        lighter_position=Decimal(positions[0]) / 100,
        position=Decimal(positions[1]) / 100,
        heavier_position=Decimal(positions[2]) / 100,
        round_to_yuan=draw(st.booleans()),
        first_offence_exemption=draw(st.booleans()),
    )


def contradicts(found: frozenset[Circumstance]) -> bool:
    return any(a in found and b in found for a, b in CONTRADICTIONS)
