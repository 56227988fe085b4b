"""Circumstances of an act and a district's discretion policy (the [M] constants, configurable).

The statute fixes some consequences (行政处罚法 arts. 30, 32, 33, 36, 49); which further
circumstances count as aggravating or mitigating, the limitation periods, the simple-procedure caps
and where inside a tier the recommendation falls are set per jurisdiction. ``PolicySpec`` holds
them; its defaults are the values in ``shared/domain/law-and-procedure.md`` §4 and §9. A district
stores its own as ``DiscretionPolicyVersion`` rows (versioned like everything in the catalog).
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Circumstance(StrEnum):
    """What the officer found about the act and the party (情节)."""

    # Exemptions (不予处罚)
    UNDER_14 = "under_14"  # 不满十四周岁 (art. 30)
    NO_FAULT = "no_fault"  # 有证据足以证明没有主观过错 (art. 33 ¶2)
    MINOR = "minor"  # 违法行为轻微 (art. 33 ¶1)
    CORRECTED_PROMPTLY = "corrected_promptly"  # 及时改正
    NO_HARM = "no_harm"  # 没有造成危害后果
    FIRST_OFFENCE = "first_offence"  # 初次违法
    HARM_MINOR = "harm_minor"  # 危害后果轻微
    # Mandatory mitigation (应当从轻或者减轻, arts. 30 and 32)
    AGE_14_TO_18 = "age_14_to_18"  # 已满十四周岁不满十八周岁
    REDUCED_HARM = "reduced_harm"  # 主动消除或者减轻违法行为危害后果
    COERCED = "coerced"  # 受他人胁迫或者诱骗
    CONFESSED = "confessed"  # 主动供述行政机关尚未掌握的违法行为
    MERITORIOUS = "meritorious"  # 配合行政机关查处违法行为有立功表现
    # Discretionary mitigation (可以从轻, by policy)
    COOPERATIVE = "cooperative"  # 积极配合调查，如实陈述
    # Aggravating (从重, by policy) and mandatory 从重 (art. 49)
    HARM_CAUSED = "harm_caused"  # 造成危害后果
    REPEATED_WITHIN_12_MONTHS = "repeated_within_12_months"  # 一年内再次违法
    REFUSED_CORRECTION = "refused_correction"  # 拒不改正
    OBSTRUCTED = "obstructed"  # 阻碍、抗拒执法
    SERIOUS_CONSEQUENCE = "serious_consequence"  # 造成严重后果或者恶劣社会影响
    MINORS_INVOLVED = "minors_involved"  # 涉及未成年人、学校或敏感区域
    EMERGENCY = "emergency"  # 突发事件期间违反应急措施 (art. 49: 应当从重)

    @property
    def label(self) -> str:
        return CIRCUMSTANCE_LABELS[self]


CIRCUMSTANCE_LABELS = {
    Circumstance.UNDER_14: "Under 14 years old",
    Circumstance.NO_FAULT: "No subjective fault proven",
    Circumstance.MINOR: "Minor violation",
    Circumstance.CORRECTED_PROMPTLY: "Corrected promptly",
    Circumstance.NO_HARM: "No harmful consequence",
    Circumstance.FIRST_OFFENCE: "First offence",
    Circumstance.HARM_MINOR: "Slight harmful consequence",
    Circumstance.AGE_14_TO_18: "Aged 14 to 18",
    Circumstance.REDUCED_HARM: "Actively removed or reduced the harm",
    Circumstance.COERCED: "Coerced or deceived by others",
    Circumstance.CONFESSED: "Confessed violations the agency did not know of",
    Circumstance.MERITORIOUS: "Meritorious cooperation",
    Circumstance.COOPERATIVE: "Cooperated with the investigation",
    Circumstance.HARM_CAUSED: "Caused harm",
    Circumstance.REPEATED_WITHIN_12_MONTHS: "Repeated within 12 months",
    Circumstance.REFUSED_CORRECTION: "Refused to correct",
    Circumstance.OBSTRUCTED: "Obstructed enforcement",
    Circumstance.SERIOUS_CONSEQUENCE: "Serious consequence or bad social impact",
    Circumstance.MINORS_INVOLVED: "Minors, schools or sensitive areas involved",
    Circumstance.EMERGENCY: "Breached emergency measures during an emergency",
}

# Set by the statute: not configurable.
MANDATORY_MITIGATING = frozenset(
    {
        Circumstance.AGE_14_TO_18,
        Circumstance.REDUCED_HARM,
        Circumstance.COERCED,
        Circumstance.CONFESSED,
        Circumstance.MERITORIOUS,
    }
)
MANDATORY_AGGRAVATING = frozenset({Circumstance.EMERGENCY})

# Pairs that cannot both be true of one act: an input with both is refused.
CONTRADICTIONS: tuple[tuple[Circumstance, Circumstance], ...] = (
    (Circumstance.UNDER_14, Circumstance.AGE_14_TO_18),
    (Circumstance.FIRST_OFFENCE, Circumstance.REPEATED_WITHIN_12_MONTHS),
    (Circumstance.NO_HARM, Circumstance.HARM_CAUSED),
    (Circumstance.NO_HARM, Circumstance.HARM_MINOR),
    (Circumstance.NO_HARM, Circumstance.SERIOUS_CONSEQUENCE),
    (Circumstance.HARM_MINOR, Circumstance.SERIOUS_CONSEQUENCE),
    (Circumstance.CORRECTED_PROMPTLY, Circumstance.REFUSED_CORRECTION),
)

Share = Annotated[Decimal, Field(ge=0, le=1, max_digits=5, decimal_places=4)]
Yuan = Annotated[int, Field(ge=0, le=10**9)]


class PolicySpec(BaseModel):
    """A jurisdiction's discretion constants. Defaults: law-and-procedure.md §4.1, §9."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Circumstances that raise the level to 从重 [M] (art. 49's emergency always does).
    aggravating: tuple[Circumstance, ...] = (
        Circumstance.REPEATED_WITHIN_12_MONTHS,
        Circumstance.REFUSED_CORRECTION,
        Circumstance.OBSTRUCTED,
        Circumstance.SERIOUS_CONSEQUENCE,
        Circumstance.MINORS_INVOLVED,
    )
    # Circumstances that lower the level to 从轻 by discretion [M] (arts. 30/32 always do).
    mitigating: tuple[Circumstance, ...] = (
        Circumstance.FIRST_OFFENCE,
        Circumstance.CORRECTED_PROMPTLY,
        Circumstance.COOPERATIVE,
    )
    # 首违不罚 applied when the benchmark allows it (art. 33 ¶1 says "may").
    first_offence_exemption: bool = True
    # Limitation (art. 36): years, and years for life/health/financial safety with harm.
    limitation_years: Annotated[int, Field(ge=1, le=20)] = 2
    limitation_years_safety: Annotated[int, Field(ge=1, le=20)] = 5
    # Simplified procedure caps in yuan (art. 51; the 1996 law had 50 / 1,000).
    simple_procedure_person_yuan: Yuan = 200
    simple_procedure_organisation_yuan: Yuan = 3000
    # Where the recommendation falls inside a tier's range (0 = its minimum, 1 = its maximum).
    position: Share = Decimal("0.5")
    # When a level has no tier of its own, the 一般 tier is used at these positions [M].
    lighter_position: Share = Decimal("0.25")
    heavier_position: Share = Decimal("0.75")
    # Recommendations are rounded to whole yuan when the range allows it.
    round_to_yuan: bool = True

    @model_validator(mode="after")
    def _sane(self) -> PolicySpec:
        overlap = set(self.aggravating) & set(self.mitigating)
        if overlap:
            raise ValueError(
                f"a circumstance cannot both aggravate and mitigate: {sorted(overlap)}"
            )
        if set(self.aggravating) & MANDATORY_MITIGATING:
            raise ValueError("a statutory mitigating circumstance cannot aggravate")
        if self.limitation_years_safety < self.limitation_years:
            raise ValueError("the safety limitation cannot be shorter than the ordinary one")
        if not self.lighter_position <= self.position <= self.heavier_position:
            raise ValueError("positions must satisfy lighter ≤ ordinary ≤ heavier")
        return self


DEFAULT_POLICY = PolicySpec()
