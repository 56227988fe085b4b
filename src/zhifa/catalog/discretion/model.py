"""The engine's input and output as plain, immutable data (no database, no locale).

The loader fills an ``EngineInput`` with what it read; the engine returns an ``EngineResult``; the
API turns that into JSON and the steps into sentences (``explain``). A ``Step`` is a message code
and typed parameters (money in fen, dates, labels), so the same result reads in any language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Literal, TypeAlias

from zhifa.catalog.discretion.amounts import FenRange
from zhifa.catalog.policy import Circumstance, PolicySpec
from zhifa.catalog.spec import Band, BenchmarkSpec, FormulaKind, Level, Measure, PartyType, Tier

# --- What the loader reads ---


@dataclass(frozen=True)
class CitationView:
    """One cited provision (or the part of it cited), with its text on the act date."""

    role: str  # CitationRole value, or "rule" for an article of the 行政处罚法 the steps used
    document_title: str
    label: str  # 《中华人民共和国大气污染防治法》第一百一十八条第三款
    text: str
    article: int
    provision_id: int | None = None
    paragraph: int = 0
    item: int = 0


@dataclass(frozen=True)
class PowerView:
    power_id: int
    code: str
    name: str
    version_id: int
    version: int
    effective_from: date
    party_types: tuple[str, ...]
    citations: tuple[CitationView, ...] = ()


@dataclass(frozen=True)
class BenchmarkView:
    version_id: int
    version: int
    effective_from: date


@dataclass(frozen=True)
class PolicyView:
    """The district's policy version in force, or the default (``version is None``)."""

    spec: PolicySpec
    version_id: int | None = None
    version: int | None = None
    effective_from: date | None = None


@dataclass(frozen=True)
class Candidate:
    """Everything one set of rules says: a power version, its benchmark and the policy."""

    power: PowerView
    spec: BenchmarkSpec
    benchmark: BenchmarkView
    policy: PolicyView

    @property
    def identity(self) -> tuple[int, int, int | None]:
        return self.power.version_id, self.benchmark.version_id, self.policy.version_id


@dataclass(frozen=True)
class PowerCandidates:
    """A power's rules in force on the act date and on the decision date (maybe the same)."""

    at_act: Candidate
    at_decision: Candidate


@dataclass(frozen=True)
class EngineInput:
    main: PowerCandidates
    act_date: date
    decision_date: date
    party_type: str
    facts: Mapping[str, object] = field(default_factory=dict)
    circumstances: tuple[str, ...] = ()
    concurrent: tuple[PowerCandidates, ...] = ()  # art. 29: other norms the same act breaches
    discovered_on: date | None = None  # None: the decision date
    continuing_until: date | None = None  # the last day of a continuing act
    mitigation: str | None = None  # None / "lighter" / "reduced" (减轻)
    chosen_fen: object = None
    reason: str = ""
    # Articles of the 行政处罚法 by number, when that law is loaded.
    penalty_law: Mapping[int, CitationView] = field(default_factory=dict)


# --- Steps of the explanation ---


@dataclass(frozen=True)
class Money:
    fen: int


@dataclass(frozen=True)
class Label:
    """An English msgid shown translated (a level, a measure, a party type …)."""

    msgid: str


@dataclass(frozen=True)
class Percent:
    share: Decimal  # 0.25 → "25%"


@dataclass(frozen=True)
class Text:
    """A nested message: a code of ``explain.MESSAGES`` with its own parameters."""

    code: str
    params: Mapping[str, Param] = field(default_factory=dict)


@dataclass(frozen=True)
class Listing:
    items: tuple[Param, ...]


Param: TypeAlias = "str | int | Decimal | date | Money | Label | Percent | Text | Listing"


@dataclass(frozen=True)
class Step:
    code: str
    params: Mapping[str, Param] = field(default_factory=dict)
    articles: tuple[int, ...] = ()  # articles of the 行政处罚法 the step relies on


# --- What the engine decides ---


class Decision(StrEnum):
    NO_PENALTY = "no_penalty"
    PENALTY = "penalty"


class Deviation(StrEnum):
    NONE = "none"
    WITHIN_TIER = "within_tier"
    OUTSIDE_TIER = "outside_tier"
    REDUCED_BELOW_MINIMUM = "reduced_below_minimum"


class ReviewReason(StrEnum):
    REDUCED = "reduced"
    OUTSIDE_TIER = "outside_tier"

    @property
    def label(self) -> str:
        return {
            "reduced": "A reduced penalty below the statutory minimum",
            "outside_tier": "An amount outside the benchmark tier",
        }[self.value]


@dataclass(frozen=True)
class Assessment:
    """One candidate's verdict: limitation, exemptions, level, band, tier and amounts."""

    candidate: Candidate
    decision: Decision
    level: Level
    steps: tuple[Step, ...]
    measures: tuple[Measure, ...]
    no_penalty_reason: str | None = None
    band: Band | None = None
    tier: Tier | None = None
    statutory: FenRange | None = None
    tier_range: FenRange | None = None
    recommended_fen: int | None = None
    formula_kind: FormulaKind = FormulaKind.NONE
    review_reasons: tuple[ReviewReason, ...] = ()

    @property
    def weight(self) -> tuple[int, int, int]:
        """Heavier is larger: (penalty at all, recommended fen, statutory maximum) — art. 37."""
        penalty = 1 if self.decision is Decision.PENALTY else 0
        fen = self.recommended_fen if penalty and self.recommended_fen is not None else 0
        top = self.statutory.hi if self.statutory is not None else 0
        return penalty, fen, top


AppliedVersion: TypeAlias = Literal["act_date", "lighter_later"]
Which: TypeAlias = Literal["act_date", "decision_date"]


@dataclass(frozen=True)
class PowerOutcome:
    """A power's applied assessment (art. 37) and the alternatives that were weighed."""

    applied: Assessment
    applied_version: AppliedVersion
    alternatives: tuple[tuple[Which, Assessment], ...]
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Chosen:
    chosen_fen: int
    deviation: Deviation
    reason: str


@dataclass(frozen=True)
class EngineResult:
    party_type: PartyType
    circumstances: frozenset[Circumstance]
    outcome: PowerOutcome  # the power applied (art. 29: the one with the higher fine)
    others: tuple[PowerOutcome, ...]  # the other norms considered
    chosen: Chosen | None
    review_reasons: tuple[ReviewReason, ...]
    simple_procedure_allowed: bool
    measures: tuple[Measure, ...]
    citations: tuple[CitationView, ...]
    steps: tuple[Step, ...]

    @property
    def applied(self) -> Assessment:
        return self.outcome.applied

    @property
    def needs_legal_review(self) -> bool:
        return bool(self.review_reasons)
