"""One set of rules applied to one act: limitation (art. 36), exemptions (arts. 30, 33), the
level (arts. 30, 32, 49 and the policy), the band, the tier and the amounts (rules 3 to 8 of the
engine). Pure; each rule appends its step.

The tier's range is always clamped into the statutory range for the facts; only the 减轻 level
goes below the statutory minimum (into ``[0, minimum]``), and it is flagged for legal review.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from zhifa.catalog.discretion.amounts import Computation, FenRange, clamp, concrete, recommend
from zhifa.catalog.discretion.explain import article
from zhifa.catalog.discretion.model import (
    Assessment,
    Candidate,
    Decision,
    Label,
    Listing,
    Money,
    Param,
    Percent,
    ReviewReason,
    Step,
    Text,
)
from zhifa.catalog.policy import (
    MANDATORY_AGGRAVATING,
    MANDATORY_MITIGATING,
    Circumstance,
    PolicySpec,
)
from zhifa.catalog.spec import (
    Band,
    BenchmarkSpec,
    Condition,
    FactKind,
    FormulaKind,
    Level,
    Measure,
    Op,
    PartyType,
    Tier,
)
from zhifa.errors import InvalidInput

C = Circumstance
HARM_FOR_SAFETY = frozenset({C.HARM_CAUSED, C.SERIOUS_CONSEQUENCE})
OP_SYMBOLS = {Op.LT: "<", Op.LE: "≤", Op.GT: ">", Op.GE: "≥", Op.EQ: "="}


@dataclass(frozen=True)
class Context:
    """The checked input, shared by every candidate."""

    party: PartyType
    facts: Mapping[str, Decimal]
    circumstances: frozenset[Circumstance]
    mitigation: str | None
    act_date: date
    decision_date: date
    discovered_on: date
    discovered_given: bool
    continuing_until: date | None


def assess(candidate: Candidate, context: Context) -> Assessment:
    steps: list[Step] = []
    spec, policy = candidate.spec, candidate.policy.spec
    formula = spec.statutory.formula(context.party)
    assert formula is not None  # checked by the engine before any candidate is assessed
    statutory = concrete(formula, context.facts)
    if _limitation_expired(spec, policy, context, steps):
        return _no_penalty(candidate, context, "limitation", steps, statutory)
    reason = _exemption(spec, policy, context.circumstances, steps)
    if reason is not None:
        return _no_penalty(candidate, context, reason, steps, statutory)
    level, top = _level(candidate, context, steps)
    band = _band(spec, context)
    if band is not None:
        steps.append(Step("band", {"band": band.label, "conditions": _conditions(spec, band)}))
    return _penalty(candidate, context, level, top, band, statutory, steps)


# --- 3. Limitation (art. 36) ---


def _limitation_expired(
    spec: BenchmarkSpec, policy: PolicySpec, context: Context, steps: list[Step]
) -> bool:
    safety = spec.concerns_safety and bool(HARM_FOR_SAFETY & context.circumstances)
    years = policy.limitation_years_safety if safety else policy.limitation_years
    start = context.continuing_until or context.act_date
    end = add_years(start, years)
    if context.continuing_until is not None:
        steps.append(
            Step("limitation.continuing", {"until": context.continuing_until}, articles=(36,))
        )
    if safety:
        steps.append(Step("limitation.safety", {"years": years}, articles=(36,)))
    if not context.discovered_given:
        steps.append(Step("limitation.discovered_assumed", {"date": context.discovered_on}))
    expired = context.discovered_on > end
    params: dict[str, Param] = {
        "years": years,
        "start": start,
        "end": end,
        "discovered_on": context.discovered_on,
    }
    code = "limitation.expired" if expired else "limitation.within"
    steps.append(Step(code, params, articles=(36,)))
    return expired


def add_years(day: date, years: int) -> date:
    """The same day ``years`` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


# --- 4. Exemptions (arts. 30, 33) ---


def _exemption(
    spec: BenchmarkSpec, policy: PolicySpec, found: frozenset[Circumstance], steps: list[Step]
) -> str | None:
    if C.UNDER_14 in found:
        steps.append(Step("exempt.under_14", articles=(30,)))
        return "under_14"
    if C.NO_FAULT in found:
        steps.append(Step("exempt.no_fault", articles=(33,)))
        return "no_fault"
    if {C.MINOR, C.CORRECTED_PROMPTLY, C.NO_HARM} <= found:
        steps.append(Step("exempt.minor", articles=(33,)))
        return "minor"
    first = C.FIRST_OFFENCE in found and C.CORRECTED_PROMPTLY in found
    if not (first and found & {C.HARM_MINOR, C.NO_HARM}):
        steps.append(Step("exempt.none"))
        return None
    aggravating = aggravating_in(policy, found)
    if aggravating:
        steps.append(
            Step("exempt.first_offence_aggravated", {"aggravating": _labels(aggravating)}, (33,))
        )
        return None
    if not spec.first_offence_exemption:
        steps.append(Step("exempt.first_offence_not_in_benchmark", articles=(33,)))
        return None
    if not policy.first_offence_exemption:
        steps.append(Step("exempt.first_offence_not_in_policy", articles=(33,)))
        return None
    steps.append(Step("exempt.first_offence", articles=(33,)))
    return "first_offence"


def aggravating_in(policy: PolicySpec, found: frozenset[Circumstance]) -> list[Circumstance]:
    return in_order((set(policy.aggravating) | MANDATORY_AGGRAVATING) & found)


def _no_penalty(
    candidate: Candidate,
    context: Context,
    reason: str,
    steps: list[Step],
    statutory: Computation | None,
) -> Assessment:
    """Education and an order to correct (arts. 28, 33 ¶3), plus the 不予处罚 tier's measures."""
    band = _band(candidate.spec, context)
    tiers = [
        t
        for t in candidate.spec.tiers
        if t.level is Level.NO_PENALTY and t.band in (None, band.key if band else None)
    ]
    measures = ordered({Measure.EDUCATION, Measure.ORDER_CORRECTION, *_all_measures(tiers)})
    steps.append(Step("no_penalty.measures", articles=(28, 33)))
    return Assessment(
        candidate=candidate,
        decision=Decision.NO_PENALTY,
        level=Level.NO_PENALTY,
        steps=tuple(steps),
        measures=measures,
        no_penalty_reason=reason,
        band=band,
        statutory=statutory.range if statutory is not None else None,
        formula_kind=_statutory_kind(candidate, context.party),
    )


# --- 5. Level ---


def _level(candidate: Candidate, context: Context, steps: list[Step]) -> tuple[Level, bool]:
    """The level, and whether the recommendation goes to the top of its tier (mandatory
    mitigation together with aggravating circumstances)."""
    policy, found = candidate.policy.spec, context.circumstances
    aggravating = aggravating_in(policy, found)
    mandatory = in_order(MANDATORY_MITIGATING & found)
    if mandatory:
        return _mandatory_level(candidate, context, mandatory, aggravating, steps)
    if C.EMERGENCY in found:
        steps.append(Step("level.emergency", articles=(49,)))
        return Level.HEAVIER, False
    mitigating = in_order(set(policy.mitigating) & found)
    if aggravating and mitigating:
        params: dict[str, Param] = {
            "aggravating": _labels(aggravating),
            "mitigating": _labels(mitigating),
        }
        steps.append(Step("level.offset", params))
        return Level.ORDINARY, False
    if aggravating:
        steps.append(Step("level.aggravating", {"aggravating": _labels(aggravating)}))
        return Level.HEAVIER, False
    if mitigating:
        steps.append(Step("level.mitigating", {"mitigating": _labels(mitigating)}))
        return Level.LIGHTER, False
    steps.append(Step("level.ordinary"))
    return Level.ORDINARY, False


def _mandatory_level(
    candidate: Candidate,
    context: Context,
    mandatory: list[Circumstance],
    aggravating: list[Circumstance],
    steps: list[Step],
) -> tuple[Level, bool]:
    level = Level.REDUCED if context.mitigation == "reduced" else Level.LIGHTER
    articles = tuple(sorted({30 if c is C.AGE_14_TO_18 else 32 for c in mandatory}))
    steps.append(
        Step(
            "level.mandatory",
            {
                "circumstances": _labels(mandatory),
                "level": Label(level.label),
                "articles": Listing(tuple(article(n) for n in articles)),
            },
            articles,
        )
    )
    statutory = candidate.spec.statutory.formula(context.party)
    if level is Level.REDUCED and (statutory is None or not statutory.has_minimum):
        steps.append(Step("level.no_minimum"))
        level = Level.LIGHTER
    if aggravating:
        params: dict[str, Param] = {
            "aggravating": _labels(aggravating),
            "level": Label(level.label),
        }
        steps.append(Step("level.mandatory_and_aggravating", params))
    return level, bool(aggravating)


# --- 6. Band ---


def _band(spec: BenchmarkSpec, context: Context) -> Band | None:
    """The first band whose conditions all hold; ``None`` when the benchmark has no bands or
    none holds (the penalty path refuses the latter)."""
    for band in spec.bands:
        if all(c.op.holds(context.facts[c.fact], c.value) for c in band.when):
            return band
    return None


def _require_band(candidate: Candidate, context: Context) -> None:
    spec = candidate.spec
    keys = sorted({c.fact for band in spec.bands for c in band.when})
    raise InvalidInput(
        "No degree of the benchmark of {code} matches the facts given ({facts}); check them.",
        detail={"field": "facts", "facts": keys},
        code=candidate.power.code,
        facts=", ".join(keys),
    )


def _conditions(spec: BenchmarkSpec, band: Band) -> Listing:
    return Listing(tuple(_condition(spec, c) for c in band.when))


def _condition(spec: BenchmarkSpec, condition: Condition) -> Text:
    fact = spec.fact(condition.fact)
    assert fact is not None  # the spec checks that bands read declared facts
    value: Param = (
        Money(int(condition.value))
        if fact.kind is FactKind.MONEY
        else f"{number(condition.value)}{fact.unit}"
    )
    symbol = OP_SYMBOLS[condition.op]
    return Text("condition", {"fact": fact.label, "op": symbol, "value": value})


# --- 7. Tier and 8. amounts ---


def _penalty(
    candidate: Candidate,
    context: Context,
    level: Level,
    top: bool,
    band: Band | None,
    statutory: Computation | None,
    steps: list[Step],
) -> Assessment:
    spec, policy = candidate.spec, candidate.policy.spec
    if spec.bands and band is None:
        _require_band(candidate, context)
    tier, position = _tier_and_position(spec, policy, level, top, band, steps)
    measures = ordered({*spec.measures, *(tier.measures if tier else ()), Measure.ORDER_CORRECTION})
    tier_range: FenRange | None = None
    recommended: int | None = None
    if statutory is None:
        steps.append(Step("amount.none"))
    else:
        steps.append(Step("amount.statutory", {"calc": describe(spec, statutory)}))
        tier_range = _tier_range(spec, context, level, tier, statutory, steps)
        recommended = recommend(tier_range, position, round_to_yuan=policy.round_to_yuan)
        params: dict[str, Param] = {
            "amount": Money(recommended),
            "range": money_range(tier_range),
            "percent": Percent(position),
        }
        single = tier_range.lo == tier_range.hi
        steps.append(Step("amount.recommended_single" if single else "amount.recommended", params))
    return Assessment(
        candidate=candidate,
        decision=Decision.PENALTY,
        level=level,
        steps=tuple(steps),
        measures=measures,
        band=band,
        tier=tier,
        statutory=statutory.range if statutory is not None else None,
        tier_range=tier_range,
        recommended_fen=recommended,
        formula_kind=_statutory_kind(candidate, context.party),
        review_reasons=(ReviewReason.REDUCED,) if level is Level.REDUCED else (),
    )


def _tier_and_position(
    spec: BenchmarkSpec,
    policy: PolicySpec,
    level: Level,
    top: bool,
    band: Band | None,
    steps: list[Step],
) -> tuple[Tier | None, Decimal]:
    key = band.key if band is not None else None
    own = tier_of(spec, level, key)
    position = Decimal(1) if top else policy.position
    if own is not None:
        situation = own.situation.strip().rstrip("。.；;")
        code = "tier.own_situation" if situation else "tier.own"
        steps.append(Step(code, {"level": Label(level.label), "situation": situation}))
        return own, position
    if level is Level.REDUCED:
        steps.append(Step("tier.reduced_fallback"))
        return None, position
    ordinary = tier_of(spec, Level.ORDINARY, key)
    assert ordinary is not None  # the spec requires an 一般 tier in every band
    fallback = policy.lighter_position if level is Level.LIGHTER else policy.heavier_position
    params: dict[str, Param] = {"level": Label(level.label), "percent": Percent(fallback)}
    steps.append(Step("tier.fallback", params))
    if top:  # the level is one point of the ordinary tier: there is no top to move to
        steps.append(Step("tier.fallback_point", {"level": Label(level.label)}))
    return ordinary, fallback


def tier_of(spec: BenchmarkSpec, level: Level, band: str | None) -> Tier | None:
    """The tier of ``level`` for the band: one written for the band first, else one for all."""
    tiers = [t for t in spec.tiers if t.level is level and t.band in (band, None)]
    own = [t for t in tiers if t.band == band]
    return (own or tiers)[0] if tiers else None


def _tier_range(
    spec: BenchmarkSpec,
    context: Context,
    level: Level,
    tier: Tier | None,
    statutory: Computation,
    steps: list[Step],
) -> FenRange:
    stat = statutory.range
    if tier is None:  # 减轻 without a tier of its own: anywhere from nothing to the minimum
        raw = FenRange(0, stat.lo)
        steps.append(Step("amount.reduced_range", {"minimum": Money(stat.lo)}))
    else:
        formula = tier.formula(context.party)
        assert formula is not None  # the spec requires the party's formula in every fine tier
        computed = concrete(formula, context.facts)
        assert computed is not None  # a tier fines when its statute fines
        raw = computed.range
        steps.append(Step("amount.tier", {"calc": describe(spec, computed)}))
    bounds = FenRange(0, stat.lo) if level is Level.REDUCED else stat
    clamped = clamp(raw, bounds)
    if raw.hi > bounds.hi:
        code = "amount.clamped_reduced" if level is Level.REDUCED else "amount.clamped_max"
        steps.append(Step(code, {"limit": Money(bounds.hi), "computed": Money(raw.hi)}))
    if raw.lo < bounds.lo:
        steps.append(Step("amount.clamped_min", {"limit": Money(bounds.lo)}))
    return clamped


# --- Descriptions of computations (the step parameters) ---


def describe(spec: BenchmarkSpec, computation: Computation) -> Text:
    formula, total = computation.formula, money_range(computation.range)
    kind = formula.kind
    if kind is FormulaKind.FIXED:
        return Text("calc.fixed", {"total": total})
    if kind is FormulaKind.UP_TO:
        return Text("calc.up_to", {"max": Money(computation.range.hi)})
    fact = spec.fact(formula.fact or "")
    assert fact is not None
    assert computation.base is not None
    params: dict[str, Param] = {"fact": fact.label, "total": total}
    if kind is FormulaKind.PER_UNIT:
        assert formula.min_fen is not None
        assert formula.max_fen is not None
        params |= {
            "units": f"{number(computation.base)}{fact.unit}",
            "unit": fact.unit or "1",
            "rate": money_range(FenRange(formula.min_fen, formula.max_fen)),
        }
    else:
        params["base"] = Money(int(computation.base))
        suffix = "%" if kind is FormulaKind.PERCENT else ""
        params["factors"] = _factors(formula.min_factor, formula.max_factor, suffix)
    text = Text(f"calc.{kind.value}", params)
    if computation.uncapped is None or formula.cap_fen is None:
        return text
    capped: dict[str, Param] = {"calc": text, "cap": Money(formula.cap_fen)}
    return Text("calc.capped", capped | {"uncapped": money_range(computation.uncapped)})


def _factors(lo: Decimal | None, hi: Decimal | None, suffix: str) -> Param:
    assert lo is not None
    assert hi is not None
    low, high = f"{number(lo)}{suffix}", f"{number(hi)}{suffix}"
    return low if lo == hi else Text("range", {"lo": low, "hi": high})


def money_range(span: FenRange) -> Param:
    if span.lo == span.hi:
        return Money(span.lo)
    return Text("range", {"lo": Money(span.lo), "hi": Money(span.hi)})


def number(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros: ``Decimal("50.00")`` → ``"50"``."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def in_order(circumstances: Iterable[Circumstance]) -> list[Circumstance]:
    """In the order the enum declares them (exemptions, mitigating, aggravating)."""
    order = list(Circumstance)
    return sorted(circumstances, key=order.index)


def ordered(measures: set[Measure]) -> tuple[Measure, ...]:
    order = list(Measure)
    return tuple(sorted(measures, key=order.index))


def _all_measures(tiers: list[Tier]) -> list[Measure]:
    return [m for t in tiers for m in t.measures]


def _labels(circumstances: list[Circumstance]) -> Listing:
    return Listing(tuple(Label(c.label) for c in circumstances))


def _statutory_kind(candidate: Candidate, party: PartyType) -> FormulaKind:
    formula = candidate.spec.statutory.formula(party)
    return formula.kind if formula is not None else FormulaKind.NONE
