"""The discretion benchmark as data (裁量基准): facts, statutory ranges, bands, tiers and measures.

A ``BenchmarkSpec`` is stored as JSON in ``BenchmarkVersion.spec``. It is validated here, once, when
it is saved or imported; the engine (``catalog.discretion``) can then trust it.

Shape:
- ``facts`` the formulas read (a count of minors, an area in m², a project cost in fen …).
- ``statutory``: the legal range per party type (个人 / 单位), as a ``Formula``. A party type with
  no statutory range is one the power does not apply to.
- ``bands`` (违法程度, optional): fact conditions that pick a band ("占道面积 ≤ 5 m²"); the
  first band whose conditions all hold is chosen, so the last one is usually the catch-all.
- ``tiers``: per level (不予处罚 / 减轻 / 从轻 / 一般 / 从重) and band, the amount formula per
  party type and the non-monetary measures.

Invariants checked by ``BenchmarkSpec`` (each failure names the field):
- a tier's range lies inside the statutory range of its party type; only a 减轻 tier lies below the
  statutory minimum, and a statute with no minimum ("X 元以下") has no 减轻 tier;
- tiers of one band and party use one kind of formula (a range of fen, or per unit / multiple /
  percentage of the same fact) and are ordered: a higher level never has a lower bound or upper
  bound below a lower level's (this is what makes the engine monotone in aggravating
  circumstances);
- every band (or the whole benchmark when there are no bands) has a 一般 tier;
- every fact a formula or band reads is declared.
Money is integer fen; multiples and percentages are decimals (never floats).
"""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from zhifa.errors import InvalidInput

Fen = Annotated[int, Field(ge=0, le=10**14)]
Factor = Annotated[Decimal, Field(ge=0, le=10**6, max_digits=12, decimal_places=4)]
FACT_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class PartyType(StrEnum):
    PERSON = "person"  # 个人 (公民)
    ORGANISATION = "organisation"  # 单位 (法人或者其他组织)

    @property
    def label(self) -> str:
        return {"person": "Person", "organisation": "Organisation"}[self.value]


class Level(StrEnum):
    """Discretion level, lightest first (the order is the enum order)."""

    NO_PENALTY = "no_penalty"  # 不予处罚
    REDUCED = "reduced"  # 减轻 (below the statutory minimum)
    LIGHTER = "lighter"  # 从轻
    ORDINARY = "ordinary"  # 一般
    HEAVIER = "heavier"  # 从重

    @property
    def rank(self) -> int:
        return list(Level).index(self)

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self]


LEVEL_LABELS = {
    Level.NO_PENALTY: "No penalty",
    Level.REDUCED: "Reduced",
    Level.LIGHTER: "Lighter",
    Level.ORDINARY: "Ordinary",
    Level.HEAVIER: "Heavier",
}


class FormulaKind(StrEnum):
    FIXED = "fixed"  # [min_fen, max_fen]
    UP_TO = "up_to"  # "max_fen 以下": [0, max_fen]
    PER_UNIT = "per_unit"  # fact × [min_fen, max_fen] per unit, optionally capped at cap_fen
    MULTIPLE = "multiple"  # fact (fen) × [min_factor, max_factor]
    PERCENT = "percent"  # fact (fen) × [min_factor %, max_factor %]
    NONE = "none"  # no fine: non-monetary measures only

    @property
    def label(self) -> str:
        return FORMULA_KIND_LABELS[self]


FORMULA_KIND_LABELS = {
    FormulaKind.FIXED: "Fixed range",
    FormulaKind.UP_TO: "Up to a maximum",
    FormulaKind.PER_UNIT: "Per unit",
    FormulaKind.MULTIPLE: "Multiple of a base",
    FormulaKind.PERCENT: "Percentage of a base",
    FormulaKind.NONE: "No fine",
}


class FactKind(StrEnum):
    MONEY = "money"  # integer fen (违法所得, 货值, 工程造价 …)
    COUNT = "count"  # non-negative integer (minors, vehicles, days …)
    QUANTITY = "quantity"  # non-negative decimal (area in m², volume in m³ …)


class Measure(StrEnum):
    """Non-monetary measures and penalties (行政处罚法 art. 9, art. 28, art. 33)."""

    WARNING = "warning"  # 警告
    CRITICISM = "criticism"  # 通报批评
    EDUCATION = "education"  # 批评教育 (required whenever no penalty is given, art. 33)
    ORDER_CORRECTION = "order_correction"  # 责令改正 / 责令限期改正 (art. 28)
    CONFISCATE_INCOME = "confiscate_income"  # 没收违法所得
    CONFISCATE_PROPERTY = "confiscate_property"  # 没收非法财物 (工具、物品)
    STOP_CONSTRUCTION = "stop_construction"  # 责令停止建设 / 停工整治
    DEMOLISH = "demolish"  # 限期拆除
    RESTORE = "restore"  # 恢复原状
    SUSPEND_BUSINESS = "suspend_business"  # 责令停产停业 / 停业整顿
    CLOSE = "close"  # 责令关闭
    SUSPEND_LICENCE = "suspend_licence"  # 暂扣许可证件
    REVOKE_LICENCE = "revoke_licence"  # 吊销许可证件
    RESTRICT = "restrict"  # 限制开展生产经营活动 / 限制从业

    @property
    def label(self) -> str:
        return MEASURE_LABELS[self]


MEASURE_LABELS = {
    Measure.WARNING: "Warning",
    Measure.CRITICISM: "Public criticism",
    Measure.EDUCATION: "Education",
    Measure.ORDER_CORRECTION: "Order to correct",
    Measure.CONFISCATE_INCOME: "Confiscation of illegal income",
    Measure.CONFISCATE_PROPERTY: "Confiscation of illegal property",
    Measure.STOP_CONSTRUCTION: "Order to stop construction",
    Measure.DEMOLISH: "Demolition within a time limit",
    Measure.RESTORE: "Restoration",
    Measure.SUSPEND_BUSINESS: "Suspension of business",
    Measure.CLOSE: "Closure",
    Measure.SUSPEND_LICENCE: "Suspension of the licence",
    Measure.REVOKE_LICENCE: "Revocation of the licence",
    Measure.RESTRICT: "Restriction of business",
}


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FactSpec(_Spec):
    key: str = Field(pattern=FACT_KEY.pattern)
    label: str = Field(min_length=1, max_length=60)  # shown to people, Chinese: "未成年人人数"
    unit: str = Field(default="", max_length=10)  # "人", "㎡", "元", "日"
    kind: FactKind


class Formula(_Spec):
    """An amount rule. Which fields are used depends on ``kind``; the others must be empty."""

    kind: FormulaKind
    min_fen: Fen | None = None
    max_fen: Fen | None = None
    fact: str | None = None
    min_factor: Factor | None = None
    max_factor: Factor | None = None
    cap_fen: Fen | None = None

    @model_validator(mode="after")
    def _fields_match_kind(self) -> Self:
        need = REQUIRED_FIELDS[self.kind]
        allowed = need | OPTIONAL_FIELDS[self.kind]
        for name in ("min_fen", "max_fen", "fact", "min_factor", "max_factor", "cap_fen"):
            value = getattr(self, name)
            if name in need and value is None:
                raise ValueError(f"a {self.kind.value} formula needs {name}")
            if name not in allowed and value is not None:
                raise ValueError(f"a {self.kind.value} formula does not take {name}")
        lo, hi = self.bounds()
        if lo is not None and hi is not None and lo > hi:
            raise ValueError("the formula's minimum is above its maximum")
        return self

    def bounds(self) -> tuple[Decimal | None, Decimal | None]:
        """The formula's own parameters as (low, high): fen, fen per unit, factor or percent."""
        if self.kind in (FormulaKind.MULTIPLE, FormulaKind.PERCENT):
            return self.min_factor, self.max_factor
        if self.kind is FormulaKind.UP_TO:
            return Decimal(0), _dec(self.max_fen)
        if self.kind is FormulaKind.NONE:
            return None, None
        return _dec(self.min_fen), _dec(self.max_fen)

    @property
    def has_minimum(self) -> bool:
        lo, _ = self.bounds()
        return lo is not None and lo > 0


def _dec(value: int | None) -> Decimal | None:
    return None if value is None else Decimal(value)


REQUIRED_FIELDS: dict[FormulaKind, set[str]] = {
    FormulaKind.FIXED: {"min_fen", "max_fen"},
    FormulaKind.UP_TO: {"max_fen"},
    FormulaKind.PER_UNIT: {"min_fen", "max_fen", "fact"},
    FormulaKind.MULTIPLE: {"min_factor", "max_factor", "fact"},
    FormulaKind.PERCENT: {"min_factor", "max_factor", "fact"},
    FormulaKind.NONE: set(),
}
OPTIONAL_FIELDS: dict[FormulaKind, set[str]] = {
    FormulaKind.FIXED: set(),
    FormulaKind.UP_TO: set(),
    FormulaKind.PER_UNIT: {"cap_fen"},
    FormulaKind.MULTIPLE: {"cap_fen"},
    FormulaKind.PERCENT: {"cap_fen"},
    FormulaKind.NONE: set(),
}


class Op(StrEnum):
    LT = "lt"
    LE = "le"
    GT = "gt"
    GE = "ge"
    EQ = "eq"

    def holds(self, left: Decimal, right: Decimal) -> bool:
        return {
            Op.LT: left < right,
            Op.LE: left <= right,
            Op.GT: left > right,
            Op.GE: left >= right,
            Op.EQ: left == right,
        }[self]


class Condition(_Spec):
    fact: str
    op: Op
    value: Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=4)]


class Band(_Spec):
    """A degree of the violation (违法程度), picked by fact conditions (all must hold)."""

    key: str = Field(pattern=FACT_KEY.pattern)
    label: str = Field(min_length=1, max_length=120)  # "占道面积5平方米以下"
    when: tuple[Condition, ...] = ()


class Tier(_Spec):
    level: Level
    band: str | None = None  # None: applies in every band
    # 裁量情形 as published, Chinese: "初次违法，及时改正，未造成危害后果".
    situation: str = Field(default="", max_length=500)
    person: Formula | None = None
    organisation: Formula | None = None
    measures: tuple[Measure, ...] = ()

    def formula(self, party: PartyType) -> Formula | None:
        return self.person if party is PartyType.PERSON else self.organisation


class StatutoryRanges(_Spec):
    person: Formula | None = None
    organisation: Formula | None = None

    def formula(self, party: PartyType) -> Formula | None:
        return self.person if party is PartyType.PERSON else self.organisation


class BenchmarkSpec(_Spec):
    facts: tuple[FactSpec, ...] = ()
    statutory: StatutoryRanges
    # Measures the statute always attaches (e.g. 责令改正, 没收违法所得), whatever the tier.
    measures: tuple[Measure, ...] = ()
    bands: tuple[Band, ...] = ()
    tiers: tuple[Tier, ...] = Field(min_length=1)
    # 首违不罚 (art. 33 ¶1, second sentence) may be applied to this power.
    first_offence_exemption: bool = True
    # The act endangers life, health or financial safety: the limitation is 5 years when it caused
    # harm (art. 36).
    concerns_safety: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        check_benchmark(self)
        return self

    def fact(self, key: str) -> FactSpec | None:
        return next((f for f in self.facts if f.key == key), None)


def check_benchmark(spec: BenchmarkSpec) -> None:
    """Raise ``ValueError`` naming the field when the benchmark is inconsistent."""
    declared = {f.key for f in spec.facts}
    parties = [p for p in PartyType if spec.statutory.formula(p) is not None]
    if not parties:
        raise ValueError("statutory: give the statutory range for 个人, 单位 or both")
    _check_facts(spec, declared)
    band_keys = [b.key for b in spec.bands]
    if len(set(band_keys)) != len(band_keys):
        raise ValueError("bands: two bands have the same key")
    for index, tier in enumerate(spec.tiers):
        _check_tier(spec, tier, f"tiers[{index}]", set(band_keys), parties)
    bands_or_whole: list[str | None] = [*band_keys] or [None]
    for band in bands_or_whole:
        _check_band_order(spec, band, parties)


def _check_facts(spec: BenchmarkSpec, declared: set[str]) -> None:
    formulas = [spec.statutory.person, spec.statutory.organisation]
    formulas += [t.person for t in spec.tiers] + [t.organisation for t in spec.tiers]
    for formula in formulas:
        if formula is not None and formula.fact is not None and formula.fact not in declared:
            raise ValueError(
                f"facts: the formula reads fact '{formula.fact}', which is not declared"
            )
    for band in spec.bands:
        for condition in band.when:
            if condition.fact not in declared:
                raise ValueError(f"bands: '{band.key}' reads undeclared fact '{condition.fact}'")
    for formula in formulas:
        if formula is None or formula.fact is None:
            continue
        fact = spec.fact(formula.fact)
        money = formula.kind in (FormulaKind.MULTIPLE, FormulaKind.PERCENT)
        if fact is not None and money != (fact.kind is FactKind.MONEY):
            raise ValueError(
                f"facts: '{fact.key}' must be money for a multiple or percentage, "
                "and a count or quantity for a per-unit fine"
            )


def _check_tier(
    spec: BenchmarkSpec, tier: Tier, where: str, bands: set[str], parties: list[PartyType]
) -> None:
    if tier.band is not None and tier.band not in bands:
        raise ValueError(f"{where}.band: no band '{tier.band}' is declared")
    for party in PartyType:
        formula = tier.formula(party)
        statutory = spec.statutory.formula(party)
        if formula is None:
            if party in parties and tier.level is not Level.NO_PENALTY:
                raise ValueError(f"{where}.{party.value}: the tier needs a formula for this party")
            continue
        if statutory is None:
            raise ValueError(f"{where}.{party.value}: the statute sets no range for this party")
        _check_inside(tier.level, formula, statutory, f"{where}.{party.value}")


def _check_inside(level: Level, tier: Formula, statutory: Formula, where: str) -> None:
    if level is Level.NO_PENALTY:
        if tier.kind is not FormulaKind.NONE:
            raise ValueError(f"{where}: a 不予处罚 tier has no fine (kind 'none')")
        return
    if tier.kind is FormulaKind.NONE or statutory.kind is FormulaKind.NONE:
        if tier.kind is not statutory.kind:
            raise ValueError(f"{where}: a fine tier under a statute without a fine, or vice versa")
        return
    t_lo, t_hi = _both(tier)
    s_lo, s_hi = _both(statutory)
    if tier.kind is FormulaKind.PER_UNIT and statutory.kind in (
        FormulaKind.FIXED,
        FormulaKind.UP_TO,
    ):
        # A per-head tier under a total range: one unit may not exceed the statutory maximum; the
        # total is clamped to the statutory range when it is computed.
        if t_hi > s_hi:
            raise ValueError(f"{where}: the amount per unit exceeds the statutory maximum")
        return
    if _family(tier) != _family(statutory) or tier.fact != statutory.fact:
        raise ValueError(f"{where}: the tier's formula is not of the statute's kind or fact")
    if level is Level.REDUCED:
        if not statutory.has_minimum:
            raise ValueError(f"{where}: the statute has no minimum, so there is no 减轻 tier")
        if t_hi > s_lo:
            raise ValueError(f"{where}: a 减轻 tier lies below the statutory minimum")
        return
    if t_lo < s_lo or t_hi > s_hi:
        raise ValueError(f"{where}: the tier's range leaves the statutory range")


def _both(formula: Formula) -> tuple[Decimal, Decimal]:
    """The bounds of a formula that has a fine (every kind but NONE has both)."""
    lo, hi = formula.bounds()
    if lo is None or hi is None:
        raise ValueError("a formula without a fine has no bounds")
    return lo, hi


def _family(formula: Formula) -> str:
    """FIXED and UP_TO are one family (a range of fen)."""
    return "fen" if formula.kind in (FormulaKind.FIXED, FormulaKind.UP_TO) else formula.kind.value


def _check_band_order(spec: BenchmarkSpec, band: str | None, parties: list[PartyType]) -> None:
    tiers = [t for t in spec.tiers if t.band in (band, None)]
    if not any(t.level is Level.ORDINARY for t in tiers):
        where = f"band '{band}'" if band else "the benchmark"
        raise ValueError(f"tiers: {where} has no 一般 (ordinary) tier")
    for party in parties:
        ranked = sorted(
            (t for t in tiers if t.level is not Level.NO_PENALTY), key=lambda t: t.level.rank
        )
        families = {(_family(f), f.fact) for t in ranked if (f := t.formula(party)) is not None}
        if len(families) > 1:
            # Only tiers of one kind can be ordered, and order is what keeps an aggravating
            # circumstance from ever lowering the fine.
            where = f"band '{band}'" if band else "the benchmark"
            raise ValueError(
                f"tiers: in {where}, the tiers for {party.value} use different kinds of formula"
            )
        for lower, higher in zip(ranked, ranked[1:], strict=False):
            a, b = lower.formula(party), higher.formula(party)
            if a is None or b is None or a.kind is FormulaKind.NONE:
                continue
            (a_lo, a_hi), (b_lo, b_hi) = _both(a), _both(b)
            if b_lo < a_lo or b_hi < a_hi:
                raise ValueError(
                    f"tiers: for {party.value}, the {higher.level.value} tier lies below the "
                    f"{lower.level.value} tier"
                )


def parse_benchmark(data: object, *, field: str = "spec") -> BenchmarkSpec:
    """Validate a benchmark from JSON-like data; raise InvalidInput naming the field."""
    from pydantic import ValidationError

    try:
        return BenchmarkSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in (field, *first["loc"]))
        raise InvalidInput(
            "The discretion benchmark is not valid at {where}: {problem}",
            detail={"field": where},
            where=where,
            problem=first["msg"],
        ) from exc
