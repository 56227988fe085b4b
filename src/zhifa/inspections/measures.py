"""An answer's rules and the measures a 不合格 item can take (``docs/field-api.md`` §Submission).

- Every item is answered 合格 / 不合格 / 不适用; 不适用 needs a reason, 不合格 a finding.
- A measure goes only with 不合格 and names one of the item's powers:
  - 责令（限期）改正 (``rectify``) needs a deadline, today or later;
  - 当场处罚 (``on_spot_penalty``) is evaluated again by the discretion engine with the officer's
    inputs (act date, party type, facts, circumstances, chosen amount). It is refused when the
    party type differs from the subject's, when no penalty is due, when the amount needs legal
    review (any deviation beyond the tier, 减轻) and so the ordinary procedure, or when the
    simplified procedure does not allow it (art. 51: at most 200 yuan for a person, 3,000 yuan
    for an organisation, by the district's policy); a chosen amount other than the recommended
    one needs a reason (the engine refuses it otherwise);
  - 建议立案 (``case_lead``) is handed to the case procedure as a ``CaseLead``.
- The penalty kept on the answer is the evaluation as decided: the input, the amount, the
  recommended amount, the deviation class, the power and its citations as text, in fen.

Refusals are 422 naming the field (``answers[3].reason``) and the item code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from zhifa.catalog.discretion import loader
from zhifa.catalog.discretion.engine import evaluate
from zhifa.catalog.discretion.model import EngineResult
from zhifa.catalog.discretion.schemas import EvaluationIn, present
from zhifa.errors import AppError, InvalidInput
from zhifa.inspections.common import N_
from zhifa.inspections.schemas import AnswerIn, PenaltyIn
from zhifa.kit.money import yuan
from zhifa.models.inspections import AnswerResult, Measure

WITHIN_TIER = ("none", "within_tier")


@dataclass(frozen=True)
class CheckedAnswer:
    """An answer that passed every rule, ready to be stored."""

    item_code: str
    item_version: int
    result: AnswerResult
    reason: str
    note: str
    measure: Measure
    power_code: str | None
    rectify_deadline: date | None
    penalty: dict[str, Any] | None

    def fields(self) -> dict[str, Any]:
        return {
            "item_code": self.item_code,
            "item_version": self.item_version,
            "result": self.result.value,
            "reason": self.reason,
            "note": self.note,
            "measure": self.measure.value,
            "power_code": self.power_code,
            "rectify_deadline": self.rectify_deadline.isoformat()
            if self.rectify_deadline
            else None,
            "penalty": self.penalty,
        }


@dataclass(frozen=True)
class Context:
    """What the rules of one answer need to know."""

    session: Session
    district_code: str
    party_type: str | None  # the subject's (None for a bare site)
    on: date  # today, local
    field: str  # "answers[3]" — where the refusals point


def _refuse(ctx: Context, code: str, part: str, message: str, **params: Any) -> InvalidInput:
    where = f"{ctx.field}.{part}" if part else ctx.field
    return InvalidInput(message, detail={"field": where, "item_code": code}, code=code, **params)


def check_answer(
    ctx: Context,
    item: dict[str, Any],
    answer: AnswerIn,
    *,
    current: dict[str, Any] | None = None,
) -> CheckedAnswer:
    """Apply the rules to ``answer`` of ``item`` (a checklist item's JSON). ``current``: the
    answer's fields as they stand (for an amendment: an unchanged deadline may lie in the past,
    an unchanged penalty is not evaluated again)."""
    code = item["code"]
    reason = answer.reason.strip()
    if answer.result == AnswerResult.NOT_APPLICABLE and not reason:
        raise _refuse(
            ctx, code, "reason", N_("Item {code} is marked not applicable (不适用): give a reason.")
        )
    if answer.result == AnswerResult.FAIL and not reason:
        raise _refuse(
            ctx,
            code,
            "reason",
            N_("Item {code} is non-compliant (不合格): describe what was found."),
        )
    power = _power(ctx, item, answer)
    _check_extras(ctx, code, answer)
    deadline = _deadline(ctx, code, answer, current)
    penalty = _penalty(ctx, item, answer, power, current)
    return CheckedAnswer(
        item_code=code,
        item_version=int(item["version"]),
        result=answer.result,
        reason=reason,
        note=answer.note.strip(),
        measure=answer.measure,
        power_code=power,
        rectify_deadline=deadline,
        penalty=penalty,
    )


def _power(ctx: Context, item: dict[str, Any], answer: AnswerIn) -> str | None:
    code = item["code"]
    powers = [p["code"] for p in item.get("powers", [])]
    if answer.measure != Measure.NONE and answer.result != AnswerResult.FAIL:
        raise _refuse(
            ctx,
            code,
            "measure",
            N_("Item {code}: a measure can only be taken on a non-compliant item."),
        )
    if answer.power_code is not None and answer.power_code not in powers:
        raise _refuse(
            ctx,
            code,
            "power_code",
            N_("The power {power} is not one of the powers of item {code}."),
            power=answer.power_code,
        )
    if answer.measure != Measure.NONE and answer.power_code is None:
        raise _refuse(
            ctx, code, "power_code", N_("Item {code}: name the power the measure is based on.")
        )
    return answer.power_code


def _check_extras(ctx: Context, code: str, answer: AnswerIn) -> None:
    if answer.rectify_deadline is not None and answer.measure != Measure.RECTIFY:
        raise _refuse(
            ctx,
            code,
            "rectify_deadline",
            N_("Item {code}: a deadline only goes with an order to rectify."),
        )
    if answer.penalty is not None and answer.measure != Measure.ON_SPOT_PENALTY:
        raise _refuse(
            ctx,
            code,
            "penalty",
            N_("Item {code}: a penalty only goes with an on-the-spot penalty."),
        )


def _deadline(
    ctx: Context, code: str, answer: AnswerIn, current: dict[str, Any] | None
) -> date | None:
    if answer.measure != Measure.RECTIFY:
        return None
    deadline = answer.rectify_deadline
    if deadline is None:
        raise _refuse(
            ctx, code, "rectify_deadline", N_("Item {code}: an order to rectify needs a deadline.")
        )
    unchanged = current is not None and current.get("rectify_deadline") == deadline.isoformat()
    if deadline < ctx.on and not unchanged:
        raise _refuse(
            ctx,
            code,
            "rectify_deadline",
            N_("Item {code}: the deadline {deadline} is in the past."),
            deadline=deadline.isoformat(),
        )
    return deadline


def _penalty(
    ctx: Context,
    item: dict[str, Any],
    answer: AnswerIn,
    power: str | None,
    current: dict[str, Any] | None,
) -> dict[str, Any] | None:
    if answer.measure != Measure.ON_SPOT_PENALTY:
        return None
    code = item["code"]
    if answer.penalty is None or power is None:
        raise _refuse(
            ctx,
            code,
            "penalty",
            N_("Item {code}: an on-the-spot penalty needs the facts for the fine (penalty)."),
        )
    given = answer.penalty.model_dump(mode="json")
    kept = (current or {}).get("penalty")
    if isinstance(kept, dict) and kept.get("power_code") == power and kept.get("input") == given:
        return kept
    return evaluate_penalty(ctx, code, power, answer.penalty)


def evaluate_penalty(
    ctx: Context, item_code: str, power: str, penalty: PenaltyIn
) -> dict[str, Any]:
    """The discretion engine's decision for an on-the-spot penalty, or the refusal."""
    if ctx.party_type is not None and penalty.party_type != ctx.party_type:
        raise _refuse(
            ctx,
            item_code,
            "penalty.party_type",
            N_("Item {code}: the party type {given} does not match the subject's ({expected})."),
            given=penalty.party_type,
            expected=ctx.party_type,
        )
    result = _evaluate(ctx, item_code, power, penalty)
    applied = result.outcome.applied
    if applied.decision.value != "penalty" or applied.recommended_fen is None:
        raise _refuse(
            ctx,
            item_code,
            "penalty",
            N_(
                "Item {code}: the benchmark gives no fine here, so no on-the-spot penalty can "
                "be given."
            ),
        )
    chosen = result.chosen
    amount = chosen.chosen_fen if chosen is not None else applied.recommended_fen
    deviation = chosen.deviation.value if chosen is not None else "none"
    _check_procedure(ctx, item_code, result, amount, deviation, penalty.party_type)
    return _summary(result, penalty, power, amount, deviation)


def _evaluate(ctx: Context, item_code: str, power: str, penalty: PenaltyIn) -> EngineResult:
    try:
        data = EvaluationIn.model_validate(
            {"power_code": power, **penalty.model_dump(exclude_none=False)}
        )
    except ValidationError as exc:
        raise _refuse(
            ctx, item_code, "penalty", N_("Item {code}: the penalty's input is not valid.")
        ) from exc
    try:
        return evaluate(loader.load(ctx.session, ctx.district_code, data, today=ctx.on))
    except AppError as exc:
        inner = exc.detail.get("field") if isinstance(exc.detail, dict) else None
        field = f"{ctx.field}.penalty.{inner}" if inner else f"{ctx.field}.penalty"
        exc.detail = {"field": field, "item_code": item_code}
        raise


def _check_procedure(
    ctx: Context, code: str, result: EngineResult, amount: int, deviation: str, party: str
) -> None:
    where = ctx.field + ".penalty"
    if deviation not in WITHIN_TIER or result.needs_legal_review:
        raise InvalidInput(
            "Item {code}: {amount} yuan is outside the benchmark tier and needs legal review, so "
            "it cannot be fined on the spot; recommend a case (ordinary procedure) instead.",
            detail={"field": where + ".chosen_fen", "item_code": code},
            error_code="ordinary_procedure_required",
            code=code,
            amount=yuan(amount),
        )
    if not result.simple_procedure_allowed:
        policy = result.outcome.applied.candidate.policy.spec
        cap = (
            policy.simple_procedure_person_yuan
            if party == "person"
            else policy.simple_procedure_organisation_yuan
        )
        shown = f"{cap:,}"
        raise InvalidInput(
            "Item {code}: {amount} yuan cannot be fined on the spot; the simplified procedure "
            "allows at most {cap} yuan here (Administrative Penalty Law art. 51). Recommend a "
            "case (ordinary procedure) instead.",
            detail={"field": where, "item_code": code, "cap_fen": cap * 100},
            error_code="simple_procedure_not_allowed",
            code=code,
            amount=yuan(amount),
            cap=shown,
        )


def _summary(
    result: EngineResult, penalty: PenaltyIn, power: str, amount: int, deviation: str
) -> dict[str, Any]:
    read = present(result, "zh_CN")
    policy = result.outcome.applied.candidate.policy.spec
    cap_yuan = (
        policy.simple_procedure_person_yuan
        if penalty.party_type == "person"
        else policy.simple_procedure_organisation_yuan
    )
    return {
        "input": penalty.model_dump(mode="json"),
        "power_code": power,
        "power_name": read.power.name,
        "power_version": read.power.version,
        "benchmark_version": read.benchmark.version,
        "policy_version": read.policy_version,
        "party_type": read.party_type,
        "level": read.level,
        "amount_fen": amount,
        "recommended_fen": read.recommended_fen,
        "deviation": deviation,
        "reason": (result.chosen.reason if result.chosen is not None else ""),
        "tier_range": _range(read.tier_range),
        "statutory_range": _range(read.statutory_range),
        "simple_procedure_cap_fen": cap_yuan * 100,
        "citations": [{"role": c.role, "label": c.label, "text": c.text} for c in read.citations],
    }


def _range(value: Any) -> dict[str, int] | None:
    return None if value is None else {"min_fen": value.min_fen, "max_fen": value.max_fen}
