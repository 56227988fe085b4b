"""API shapes of the fine calculator: ``EvaluationIn`` (what the officer enters) and
``EvaluationRead`` (the decision, the figures, the measures, the citations and the explanation).

The input is deliberately loose about facts, circumstances, party type and the chosen amount: the
engine checks them against the benchmark and refuses with a 422 naming the field (``facts.minors``,
``circumstances`` …), which a generic schema error could not do. Amounts go out in fen and, beside
them, as yuan strings (``"15000.00"``) for display.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from zhifa.catalog.discretion.amounts import FenRange
from zhifa.catalog.discretion.explain import N_, render
from zhifa.catalog.discretion.model import Assessment, EngineResult, PowerOutcome, Step
from zhifa.kit.money import yuan_fixed
from zhifa.web.i18n import translate

Code = Field(min_length=1, max_length=64)


class EvaluationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    power_code: str = Code
    act_date: date = Field(description="The day the act took place (violation date)")
    decision_date: date | None = Field(default=None, description="Default: today")
    discovered_on: date | None = Field(default=None, description="Default: the decision date")
    continuing_until: date | None = Field(
        default=None, description="The last day of a continuing act (连续或者继续状态)"
    )
    party_type: str = Field(description="person (个人) or organisation (单位)", max_length=20)
    facts: dict[str, Any] = Field(
        default_factory=dict,
        max_length=40,
        description="Money in fen (integers), counts as integers, quantities as decimals",
    )
    circumstances: list[str] = Field(default_factory=list, max_length=30)
    mitigation: str | None = Field(
        default=None, max_length=20, description="lighter (从轻) or reduced (减轻)"
    )
    concurrent_power_codes: list[str] = Field(
        default_factory=list, max_length=10, description="Other norms the same act breaches"
    )
    chosen_fen: Any = Field(default=None, description="The amount decided, if not the recommended")
    reason: str = Field(default="", max_length=2000, description="Why the amount differs")


class MoneyRange(BaseModel):
    min_fen: int
    max_fen: int
    min_yuan: str
    max_yuan: str

    @classmethod
    def of(cls, span: FenRange | None) -> MoneyRange | None:
        if span is None:
            return None
        return cls(
            min_fen=span.lo,
            max_fen=span.hi,
            min_yuan=yuan_fixed(span.lo),
            max_yuan=yuan_fixed(span.hi),
        )


class PowerRef(BaseModel):
    code: str
    name: str
    version: int
    effective_from: date


class VersionRef(BaseModel):
    version: int
    effective_from: date


class AlternativeRead(BaseModel):
    which: Literal["act_date", "decision_date"]
    power_version: int
    benchmark_version: int
    policy_version: int | Literal["default"]
    decision: str
    level: str
    recommended_fen: int | None
    recommended_yuan: str | None


class BandRead(BaseModel):
    key: str
    label: str


class ChosenRead(BaseModel):
    chosen_fen: int
    chosen_yuan: str
    deviation: Literal["none", "within_tier", "outside_tier", "reduced_below_minimum"]
    reason: str


class CodeLabel(BaseModel):
    code: str
    label: str


class CitationRead(BaseModel):
    role: str
    role_label: str
    document_title: str
    label: str
    text: str
    article: int
    paragraph: int
    item: int
    provision_id: int | None


class StepRead(BaseModel):
    code: str
    text: str
    articles: list[int]


class ConsideredRead(BaseModel):
    """Another norm the same act breaches (art. 29), with its figures."""

    power: PowerRef
    benchmark: VersionRef
    decision: str
    no_penalty_reason: str | None
    level: str
    statutory_range: MoneyRange | None
    tier_range: MoneyRange | None
    recommended_fen: int | None
    recommended_yuan: str | None


class EvaluationRead(BaseModel):
    power: PowerRef
    benchmark: VersionRef
    policy_version: int | Literal["default"]
    applied_version: Literal["act_date", "lighter_later"]
    alternatives: list[AlternativeRead]
    party_type: str
    decision: Literal["no_penalty", "penalty"]
    no_penalty_reason: str | None
    level: str
    level_label: str
    band: BandRead | None
    statutory_range: MoneyRange | None
    tier_range: MoneyRange | None
    recommended_fen: int | None
    recommended_yuan: str | None
    chosen: ChosenRead | None
    measures: list[CodeLabel]
    needs_legal_review: bool
    review_reasons: list[CodeLabel]
    simple_procedure_allowed: bool
    citations: list[CitationRead]
    steps: list[StepRead]
    concurrent: list[ConsideredRead]


ROLE_LABELS = {
    "violated": N_("Provision violated"),
    "penalty": N_("Penalty provision"),
    "rule": N_("Rule of the Administrative Penalty Law applied"),
}


def present(result: EngineResult, locale: str) -> EvaluationRead:
    """The engine's result as the API shows it, with texts in ``locale``."""
    applied = result.applied
    chosen = result.chosen
    return EvaluationRead(
        power=_power(applied),
        benchmark=_benchmark(applied),
        policy_version=_policy_version(applied),
        applied_version=result.outcome.applied_version,
        alternatives=_alternatives(result.outcome),
        party_type=str(result.party_type),
        decision=applied.decision.value,
        no_penalty_reason=applied.no_penalty_reason,
        level=applied.level.value,
        level_label=translate(locale, applied.level.label),
        band=BandRead(key=applied.band.key, label=applied.band.label) if applied.band else None,
        statutory_range=MoneyRange.of(applied.statutory),
        tier_range=MoneyRange.of(applied.tier_range),
        recommended_fen=applied.recommended_fen,
        recommended_yuan=_yuan(applied.recommended_fen),
        chosen=ChosenRead(
            chosen_fen=chosen.chosen_fen,
            chosen_yuan=yuan_fixed(chosen.chosen_fen),
            deviation=chosen.deviation.value,
            reason=chosen.reason,
        )
        if chosen is not None
        else None,
        measures=[
            CodeLabel(code=m.value, label=translate(locale, m.label)) for m in result.measures
        ],
        needs_legal_review=result.needs_legal_review,
        review_reasons=[
            CodeLabel(code=r.value, label=translate(locale, r.label)) for r in result.review_reasons
        ],
        simple_procedure_allowed=result.simple_procedure_allowed,
        citations=[
            CitationRead(
                role=c.role,
                role_label=translate(locale, ROLE_LABELS.get(c.role, c.role)),
                document_title=c.document_title,
                label=c.label,
                text=c.text,
                article=c.article,
                paragraph=c.paragraph,
                item=c.item,
                provision_id=c.provision_id,
            )
            for c in result.citations
        ],
        steps=[_step(s, locale) for s in result.steps],
        concurrent=[_considered(o) for o in result.others],
    )


def _step(step: Step, locale: str) -> StepRead:
    return StepRead(code=step.code, text=render(step, locale), articles=list(step.articles))


def _power(assessment: Assessment) -> PowerRef:
    power = assessment.candidate.power
    return PowerRef(
        code=power.code, name=power.name, version=power.version, effective_from=power.effective_from
    )


def _benchmark(assessment: Assessment) -> VersionRef:
    benchmark = assessment.candidate.benchmark
    return VersionRef(version=benchmark.version, effective_from=benchmark.effective_from)


def _policy_version(assessment: Assessment) -> int | Literal["default"]:
    version = assessment.candidate.policy.version
    return "default" if version is None else version


def _alternatives(outcome: PowerOutcome) -> list[AlternativeRead]:
    return [
        AlternativeRead(
            which=which,
            power_version=a.candidate.power.version,
            benchmark_version=a.candidate.benchmark.version,
            policy_version=_policy_version(a),
            decision=a.decision.value,
            level=a.level.value,
            recommended_fen=a.recommended_fen,
            recommended_yuan=_yuan(a.recommended_fen),
        )
        for which, a in outcome.alternatives
    ]


def _considered(outcome: PowerOutcome) -> ConsideredRead:
    applied = outcome.applied
    return ConsideredRead(
        power=_power(applied),
        benchmark=_benchmark(applied),
        decision=applied.decision.value,
        no_penalty_reason=applied.no_penalty_reason,
        level=applied.level.value,
        statutory_range=MoneyRange.of(applied.statutory),
        tier_range=MoneyRange.of(applied.tier_range),
        recommended_fen=applied.recommended_fen,
        recommended_yuan=_yuan(applied.recommended_fen),
    )


def _yuan(fen: int | None) -> str | None:
    return None if fen is None else yuan_fixed(fen)
