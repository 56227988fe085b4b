"""The discretion engine (自由裁量计算): facts and circumstances in, a decision out. Pure: no
database, no clock, no locale; the same input always gives the same output.

Rules, in order (行政处罚法 article numbers in brackets), each leaving a step in the explanation:
1. check the input (``facts``); 2. the version in force on the act date, or a later one on the
decision date when it is lighter for the party (art. 37); 3. limitation (art. 36); 4. exemptions
(arts. 30, 33); 5. the level (arts. 30, 32, 49 and the policy); 6. the band; 7. the tier;
8. the amounts, always clamped into the statutory range (``assess``); 9. one act under several
norms: the higher fine (art. 29); 10. an amount the officer chose; 11. legal review; 12. the
simplified procedure (art. 51); 13. measures (art. 28); 14. citations.

Invariants: a recommendation never leaves the statutory range except at the 减轻 level, which is
flagged for legal review; a chosen amount never exceeds the statutory maximum; the recommended
figure is kept beside any chosen one.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from zhifa.catalog.discretion import facts as checks
from zhifa.catalog.discretion.amounts import FenRange
from zhifa.catalog.discretion.assess import Context, assess, in_order, money_range, number
from zhifa.catalog.discretion.model import (
    Assessment,
    Candidate,
    Chosen,
    CitationView,
    Decision,
    Deviation,
    EngineInput,
    EngineResult,
    Label,
    Listing,
    Money,
    Param,
    PowerCandidates,
    PowerOutcome,
    ReviewReason,
    Step,
    Text,
)
from zhifa.catalog.spec import BenchmarkSpec, FactKind, Level, Measure, PartyType
from zhifa.errors import InvalidInput
from zhifa.kit.money import yuan

ACT_DATE: Literal["act_date"] = "act_date"
DECISION_DATE: Literal["decision_date"] = "decision_date"
LIGHTER_LATER: Literal["lighter_later"] = "lighter_later"
# Not penalties (行政处罚法 art. 9): they never stand in the way of the simplified procedure.
NOT_PENALTIES = frozenset({Measure.ORDER_CORRECTION, Measure.EDUCATION})


def evaluate(request: EngineInput) -> EngineResult:
    context, powers = _checked(request)
    outcomes = [_power_outcome(power, context) for power in powers]
    outcome, others, concurrent_steps = _higher_fine(outcomes)
    applied = outcome.applied
    chosen, chosen_steps = _chosen(applied, request)
    reviews = _review_reasons(applied, chosen)
    simple, simple_steps = _simple_procedure(applied, chosen, context.party)
    measures = applied.measures
    steps = [
        _input_step(context, request.main.at_act.spec),
        *outcome.steps,
        *applied.steps,
        *concurrent_steps,
        *chosen_steps,
        _review_step(reviews),
        *simple_steps,
        Step("measures", {"measures": _labels(measures)}, (28,)),
    ]
    citations = _citations(applied.candidate, steps, request)
    if citations:
        steps.append(Step("citations", {"citations": Listing(tuple(c.label for c in citations))}))
    return EngineResult(
        party_type=context.party,
        circumstances=context.circumstances,
        outcome=outcome,
        others=others,
        chosen=chosen,
        review_reasons=reviews,
        simple_procedure_allowed=simple,
        measures=measures,
        citations=citations,
        steps=tuple(steps),
    )


# --- 1. Input ---


def _checked(request: EngineInput) -> tuple[Context, list[PowerCandidates]]:
    checks.check_dates(
        request.act_date, request.decision_date, request.discovered_on, request.continuing_until
    )
    party = checks.party_type(request.party_type)
    circumstances = checks.circumstances(request.circumstances)
    mitigation = checks.mitigation(request.mitigation, circumstances)
    powers = [_usable(p, request) for p in (request.main, *request.concurrent)]
    for power in powers:
        checks.require_party(power.at_act, party)
    in_play = {c.identity: c for p in powers for c in (p.at_act, p.at_decision)}
    specs = [(c.spec, party, c.power.code) for c in in_play.values() if checks.applies_to(c, party)]
    facts = checks.read_facts(request.facts, specs)
    context = Context(
        party=party,
        facts=facts,
        circumstances=circumstances,
        mitigation=mitigation,
        act_date=request.act_date,
        decision_date=request.decision_date,
        discovered_on=request.discovered_on or request.decision_date,
        discovered_given=request.discovered_on is not None,
        continuing_until=request.continuing_until,
    )
    return context, powers


def _usable(power: PowerCandidates, request: EngineInput) -> PowerCandidates:
    """Never use rules that were not yet in force: on the act date, or on the decision date."""
    if _in_force_after(power.at_act, request.act_date):
        raise InvalidInput(
            "No version of {code} was in force on {date}.",
            detail={"field": "act_date"},
            code=power.at_act.power.code,
            date=request.act_date.isoformat(),
        )
    if _in_force_after(power.at_decision, request.decision_date):
        return PowerCandidates(power.at_act, power.at_act)
    return power


def _in_force_after(candidate: Candidate, on: date) -> bool:
    dates = [candidate.power.effective_from, candidate.benchmark.effective_from]
    if candidate.policy.effective_from is not None:
        dates.append(candidate.policy.effective_from)
    return any(d > on for d in dates)


def _input_step(context: Context, spec: BenchmarkSpec) -> Step:
    facts = Listing(tuple(_fact(spec, key, value) for key, value in sorted(context.facts.items())))
    circumstances = Listing(tuple(Label(c.label) for c in in_order(context.circumstances)))
    return Step(
        "input",
        {
            "party": Label(context.party.label),
            "facts": facts if facts.items else Text("nothing"),
            "circumstances": circumstances if circumstances.items else Text("nothing"),
        },
    )


def _fact(spec: BenchmarkSpec, key: str, value: Decimal) -> Text:
    fact = spec.fact(key)
    if fact is None:
        return Text("fact.value", {"fact": key, "value": number(value)})
    shown: Param = (
        Money(int(value)) if fact.kind is FactKind.MONEY else f"{number(value)}{fact.unit}"
    )
    return Text("fact.value", {"fact": fact.label, "value": shown})


# --- 2. Version (art. 37) ---


def _power_outcome(power: PowerCandidates, context: Context) -> PowerOutcome:
    earlier = assess(power.at_act, context)
    act_step = _version_step(power.at_act, context)
    later_candidate = power.at_decision
    if later_candidate.identity == power.at_act.identity:
        steps = (act_step, Step("version.unchanged", {"decision_date": context.decision_date}))
        return PowerOutcome(earlier, ACT_DATE, ((ACT_DATE, earlier),), steps)
    if not checks.applies_to(later_candidate, context.party):
        step = Step("version.later_not_for_party", {"rules": _rules(later_candidate)}, (37,))
        return PowerOutcome(earlier, ACT_DATE, ((ACT_DATE, earlier),), (act_step, step))
    later = assess(later_candidate, context)
    alternatives = ((ACT_DATE, earlier), (DECISION_DATE, later))
    params: dict[str, Param] = {
        "decision_date": context.decision_date,
        "rules": _rules(later_candidate),
        "later": _summary(later),
        "earlier": _summary(earlier),
    }
    if later.weight < earlier.weight:
        step = Step("version.later_lighter", params, (37,))
        return PowerOutcome(later, LIGHTER_LATER, alternatives, (act_step, step))
    step = Step("version.later_not_lighter", params, (37,))
    return PowerOutcome(earlier, ACT_DATE, alternatives, (act_step, step))


def _version_step(candidate: Candidate, context: Context) -> Step:
    return Step(
        "version.act_date", {"act_date": context.act_date, "rules": _rules(candidate)}, (37,)
    )


def _rules(candidate: Candidate) -> Listing:
    parts: list[Text] = [
        Text("rules.power", {"version": candidate.power.version}),
        Text("rules.benchmark", {"version": candidate.benchmark.version}),
    ]
    if candidate.policy.version is not None:
        parts.append(Text("rules.policy", {"version": candidate.policy.version}))
    return Listing(tuple(parts))


def _summary(assessment: Assessment) -> Text:
    if assessment.decision is Decision.NO_PENALTY:
        return Text("summary.no_penalty")
    if assessment.recommended_fen is None:
        return Text("summary.no_fine", {"level": Label(assessment.level.label)})
    return Text(
        "summary.fine",
        {"level": Label(assessment.level.label), "amount": Money(assessment.recommended_fen)},
    )


# --- 9. One act, several norms (art. 29) ---


def _higher_fine(
    outcomes: list[PowerOutcome],
) -> tuple[PowerOutcome, tuple[PowerOutcome, ...], tuple[Step, ...]]:
    """The norm with the higher fine; ties go to the higher statutory maximum, then the main one."""
    best = outcomes[0]
    for outcome in outcomes[1:]:
        if _fine_key(outcome.applied) > _fine_key(best.applied):
            best = outcome
    others = tuple(o for o in outcomes if o is not best)
    if not others:
        return best, others, ()
    step = Step(
        "concurrent",
        {
            "others": Listing(tuple(_summary_of(o.applied) for o in others)),
            "power": _power_name(best.applied),
            "amount": _summary(best.applied),
        },
        (29,),
    )
    return best, others, (step,)


def _fine_key(assessment: Assessment) -> tuple[int, int, int]:
    penalty, fen, top = assessment.weight
    return fen, top, penalty


def _power_name(assessment: Assessment) -> Text:
    power = assessment.candidate.power
    return Text("power.name", {"code": power.code, "name": power.name})


def _summary_of(assessment: Assessment) -> Text:
    return Text(
        "power.outcome", {"power": _power_name(assessment), "outcome": _summary(assessment)}
    )


# --- 10. The amount the officer chose ---


def _chosen(applied: Assessment, request: EngineInput) -> tuple[Chosen | None, tuple[Step, ...]]:
    if request.chosen_fen is None:
        return None, ()
    fen = _chosen_fen(request.chosen_fen)
    if applied.decision is Decision.NO_PENALTY:
        raise InvalidInput(
            "An amount cannot be chosen when no penalty is given.",
            detail={"field": "chosen_fen"},
        )
    statutory, recommended = applied.statutory, applied.recommended_fen
    if statutory is None or recommended is None or applied.tier_range is None:
        raise InvalidInput(
            "This power sets no fine, so no amount can be chosen.", detail={"field": "chosen_fen"}
        )
    _check_statutory(fen, statutory.lo, statutory.hi, applied.level)
    reason = request.reason.strip()
    if fen != recommended and not reason:
        raise InvalidInput(
            "An amount different from the recommended {recommended} yuan needs a written reason.",
            detail={"field": "reason"},
            recommended=yuan(recommended),
        )
    deviation = _deviation(fen, recommended, applied)
    params: dict[str, Param] = {
        "chosen": Money(fen),
        "recommended": Money(recommended),
        "range": _range_text(applied.tier_range.lo, applied.tier_range.hi),
        "minimum": Money(statutory.lo),
        "reason": reason,
    }
    step = Step(f"chosen.{deviation.value}", params)
    return Chosen(fen, deviation, reason), (step,)


def _chosen_fen(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(
            "The chosen amount must be a whole number of fen, 0 or more.",
            detail={"field": "chosen_fen"},
        )
    return value


def _check_statutory(fen: int, lo: int, hi: int, level: Level) -> None:
    if fen > hi:
        raise InvalidInput(
            "The chosen amount of {amount} yuan exceeds the statutory maximum of {maximum} yuan.",
            detail={"field": "chosen_fen"},
            amount=yuan(fen),
            maximum=yuan(hi),
        )
    if fen < lo and level is not Level.REDUCED:
        raise InvalidInput(
            "The chosen amount of {amount} yuan is below the statutory minimum of {minimum} yuan; "
            "only a reduced penalty (减轻) may go below it.",
            detail={"field": "chosen_fen"},
            amount=yuan(fen),
            minimum=yuan(lo),
        )


def _deviation(fen: int, recommended: int, applied: Assessment) -> Deviation:
    assert applied.tier_range is not None
    assert applied.statutory is not None
    if fen == recommended:
        return Deviation.NONE
    if fen in applied.tier_range:
        return Deviation.WITHIN_TIER
    if fen < applied.statutory.lo:
        return Deviation.REDUCED_BELOW_MINIMUM
    return Deviation.OUTSIDE_TIER


def _range_text(lo: int, hi: int) -> Param:
    return money_range(FenRange(lo, hi))


# --- 11. Legal review, 12. simplified procedure, 14. citations ---


def _review_reasons(applied: Assessment, chosen: Chosen | None) -> tuple[ReviewReason, ...]:
    reasons = list(applied.review_reasons)
    outside = (Deviation.OUTSIDE_TIER, Deviation.REDUCED_BELOW_MINIMUM)
    if chosen is not None and chosen.deviation in outside:
        reasons.append(ReviewReason.OUTSIDE_TIER)
    return tuple(dict.fromkeys(reasons))


def _review_step(reasons: tuple[ReviewReason, ...]) -> Step:
    if not reasons:
        return Step("review.none")
    return Step("review.required", {"reasons": Listing(tuple(Label(r.label) for r in reasons))})


def _simple_procedure(
    applied: Assessment, chosen: Chosen | None, party: PartyType
) -> tuple[bool, tuple[Step, ...]]:
    """Art. 51: a fine up to the cap for the party type, or a warning, and no other penalty."""
    if applied.decision is Decision.NO_PENALTY:
        return False, ()
    policy = applied.candidate.policy.spec
    cap_yuan = (
        policy.simple_procedure_person_yuan
        if party is PartyType.PERSON
        else policy.simple_procedure_organisation_yuan
    )
    fen = chosen.chosen_fen if chosen is not None else applied.recommended_fen
    others = [m for m in applied.measures if m not in NOT_PENALTIES and m is not Measure.WARNING]
    params: dict[str, Param] = {"party": Label(party.label), "cap": Money(cap_yuan * 100)}
    if others:
        params["measures"] = _labels(tuple(others))
        return False, (Step("simple.other_penalties", params, (51,)),)
    if fen is None or fen == 0:
        if Measure.WARNING in applied.measures:
            return True, (Step("simple.warning", params, (51,)),)
        return False, (Step("simple.not_applicable", params, (51,)),)
    params["amount"] = Money(fen)
    if fen <= cap_yuan * 100:
        return True, (Step("simple.allowed", params, (51,)),)
    return False, (Step("simple.over_cap", params, (51,)),)


def _labels(measures: tuple[Measure, ...]) -> Listing:
    return Listing(tuple(Label(m.label) for m in measures))


def _citations(
    candidate: Candidate, steps: list[Step], request: EngineInput
) -> tuple[CitationView, ...]:
    used = sorted({a for step in steps for a in step.articles})
    law = [request.penalty_law[a] for a in used if a in request.penalty_law]
    return (*candidate.power.citations, *law)
