"""Worked examples from the statutes, each figure computed by hand in the comment beside it:
one per formula family and per liability article of the 行政处罚法 (arts. 29, 30, 32, 33, 36,
37, 49, 51) and the deviation rules. Pure engine: the inputs are built in memory."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.catalog.discretion import examples
from tests.catalog.discretion.builders import candidate, engine_input, fixed, spec
from zhifa.catalog.discretion.engine import evaluate
from zhifa.catalog.discretion.explain import render
from zhifa.catalog.discretion.model import Decision, EngineResult, PowerCandidates
from zhifa.catalog.policy import PolicySpec
from zhifa.catalog.spec import Level, Measure
from zhifa.errors import InvalidInput


def run(benchmark: object, **kwargs: object) -> EngineResult:
    main = benchmark if isinstance(benchmark, PowerCandidates) else candidate(benchmark)  # type: ignore[arg-type]
    return evaluate(engine_input(main, **kwargs))  # type: ignore[arg-type]


def zh(result: EngineResult) -> str:
    return "\n".join(render(step, "zh_CN") for step in result.steps)


def codes(result: EngineResult) -> list[str]:
    return [step.code for step in result.steps]


class TestPerUnitClampedToTheStatutoryMaximum:
    """互联网上网服务营业场所管理条例 art. 31 (≤ 15,000 yuan) with 3,000 yuan per minor."""

    def test_two_minors_give_six_thousand_yuan(self) -> None:
        result = run(examples.internet_cafe(), facts={"minors": 2})

        # 2 × 3,000 yuan = 6,000 yuan = 600,000 fen, inside [0, 15,000 yuan].
        assert result.applied.recommended_fen == 600_000
        assert result.applied.statutory is not None
        assert (result.applied.statutory.lo, result.applied.statutory.hi) == (0, 1_500_000)
        assert result.measures == (Measure.WARNING, Measure.ORDER_CORRECTION)

    def test_six_minors_are_clamped_to_fifteen_thousand_yuan_and_the_step_says_so(self) -> None:
        result = run(examples.internet_cafe(), facts={"minors": 6})

        # 6 × 3,000 = 18,000 yuan > statutory maximum 15,000 yuan → 1,500,000 fen.
        assert result.applied.recommended_fen == 1_500_000
        assert result.applied.tier_range is not None
        assert result.applied.tier_range.hi == 1_500_000
        text = zh(result)
        assert "未成年人人数6人，按每人3,000元计算为18,000元" in text
        assert "18,000元超过法定最高额15,000元，按15,000元计。" in text
        assert "建议罚款15,000元。" in text

    def test_a_person_is_not_a_party_this_power_applies_to(self) -> None:
        with pytest.raises(InvalidInput) as refused:
            run(examples.internet_cafe(), party="person", facts={"minors": 2})
        assert refused.value.detail == {"field": "party_type"}


class TestPercentageOfTheProjectCost:
    """城乡规划法 art. 64: 5%–10% of 建设工程造价."""

    def test_ordinary_is_seven_percent_of_one_million_yuan(self) -> None:
        # cost 1,000,000 yuan = 100,000,000 fen; 一般 tier 6%–8% → [6,000,000, 8,000,000] fen;
        # the middle (position 0.5) is 7% = 7,000,000 fen (70,000 yuan).
        result = run(examples.illegal_construction(), facts={"project_cost": 100_000_000})

        assert result.applied.level is Level.ORDINARY
        assert result.applied.recommended_fen == 7_000_000
        assert result.applied.statutory is not None
        assert (result.applied.statutory.lo, result.applied.statutory.hi) == (5_000_000, 10_000_000)
        assert "建设工程造价1,000,000元的5%至10%，即50,000元至100,000元" in zh(result)

    def test_a_repeat_offence_is_heavier_nine_percent(self) -> None:
        # 从重 tier 8%–10% → [8,000,000, 10,000,000] fen → middle 9,000,000 fen.
        result = run(
            examples.illegal_construction(),
            facts={"project_cost": 100_000_000},
            circumstances=("repeated_within_12_months",),
        )
        assert result.applied.level is Level.HEAVIER
        assert result.applied.recommended_fen == 9_000_000
        assert Measure.STOP_CONSTRUCTION in result.measures


class TestPerSquareMetre:
    """土地管理法实施条例 art. 57: 100–1,000 yuan per m² of illegally occupied land."""

    def test_fifty_square_metres_ordinary(self) -> None:
        # 一般 300–600 yuan/m² × 50 m² = [15,000, 30,000] yuan → middle 22,500 yuan.
        result = run(examples.land_occupation(), facts={"area_m2": "50"})
        assert result.applied.recommended_fen == 2_250_000
        assert result.applied.statutory is not None
        # statutory 50 × [100, 1,000] = [5,000, 50,000] yuan.
        assert (result.applied.statutory.lo, result.applied.statutory.hi) == (500_000, 5_000_000)

    def test_a_fractional_area_heavier(self) -> None:
        # 从重 600–1,000 yuan/m² × 12.5 m² = [7,500, 12,500] yuan → middle 10,000 yuan.
        result = run(
            examples.land_occupation(),
            party="person",
            facts={"area_m2": 12.5},
            circumstances=("obstructed",),
        )
        assert result.applied.recommended_fen == 1_000_000


class TestMultipleOfTheFeeDue:
    """水法 art. 70: 1–5 × the water-resource fee due."""

    def test_ordinary_is_two_point_seven_five_times(self) -> None:
        # fee 20,000 yuan; 一般 2–3.5 × → [40,000, 70,000] yuan → middle 55,000 yuan.
        result = run(examples.water_fee(), facts={"fee_due": 2_000_000})
        assert result.applied.recommended_fen == 5_500_000
        assert "应缴水资源费20,000元的2至3.5倍，即40,000元至70,000元" in zh(result)

    def test_lighter_for_a_first_offence_without_prompt_correction(self) -> None:
        # 从轻 1–2 × 20,000 yuan = [20,000, 40,000] yuan → middle 30,000 yuan.
        result = run(
            examples.water_fee(), facts={"fee_due": 2_000_000}, circumstances=("first_offence",)
        )
        assert result.applied.level is Level.LIGHTER
        assert result.applied.recommended_fen == 3_000_000


class TestFixedRangeAndBands:
    def test_open_air_barbecue_ordinary(self) -> None:
        # 大气法 art. 118 ¶3: 500–20,000 yuan; 一般 5,000–12,000 → middle 8,500 yuan.
        result = run(examples.open_air_barbecue(), party="person")
        assert result.applied.recommended_fen == 850_000
        assert result.measures == (
            Measure.ORDER_CORRECTION,
            Measure.CONFISCATE_INCOME,
            Measure.CONFISCATE_PROPERTY,
        )

    def test_a_person_on_eight_square_metres_is_in_the_middle_band(self) -> None:
        # band a2 (5–10 m²), 个人 500–600 yuan → middle 550 yuan = 55,000 fen.
        result = run(examples.street_stall_bands(), party="person", facts={"area_m2": 8})
        assert result.applied.band is not None
        assert result.applied.band.key == "a2"
        assert result.applied.recommended_fen == 55_000
        assert "违法程度为“占用面积5至10平方米”（占用面积≤10㎡）。" in zh(result)

    def test_an_organisation_on_twelve_square_metres_is_in_the_last_band(self) -> None:
        # band a3 (> 10 m²), 单位 2,000–3,000 yuan → middle 2,500 yuan.
        result = run(examples.street_stall_bands(), facts={"area_m2": 12})
        assert result.applied.recommended_fen == 250_000

    def test_a_lighter_level_without_its_tier_uses_a_quarter_of_the_ordinary_tier(self) -> None:
        # band a1, 个人 200–500 yuan; no 从轻 tier → 一般 at 0.25: 200 + 300 × 0.25 = 275 yuan.
        result = run(
            examples.street_stall_bands(),
            party="person",
            facts={"area_m2": 3},
            circumstances=("cooperative",),
        )
        assert result.applied.level is Level.LIGHTER
        assert result.applied.recommended_fen == 27_500
        assert "tier.fallback" in codes(result)


class TestNonMonetary:
    def test_rural_construction_has_measures_and_no_amount(self) -> None:
        # 城乡规划法 art. 65: no fine; 拒不改正 → 从重 tier adds demolition.
        result = run(examples.rural_construction(), circumstances=("refused_correction",))
        assert result.applied.decision is Decision.PENALTY
        assert result.applied.recommended_fen is None
        assert result.applied.statutory is None
        assert result.measures == (
            Measure.ORDER_CORRECTION,
            Measure.STOP_CONSTRUCTION,
            Measure.DEMOLISH,
        )
        assert result.simple_procedure_allowed is False


class TestArticle29HigherFineApplies:
    def test_the_minors_protection_law_fine_is_higher_than_the_cafe_regulation(self) -> None:
        # 条例 art. 31: 2 minors × 3,000 = 6,000 yuan; 未保法 art. 123 一般 10,000–30,000 → 20,000
        # yuan. The higher, 2,000,000 fen, applies; the café figure is listed as considered.
        cafe = candidate(examples.internet_cafe(), code="CF-WH-031", party_types=("organisation",))
        law = candidate(
            examples.minors_protection(), code="CF-WH-123", party_types=("organisation",)
        )
        result = evaluate(
            engine_input(cafe, facts={"minors": 2}, concurrent=(PowerCandidates(law, law),))
        )
        assert result.applied.candidate.power.code == "CF-WH-123"
        assert result.applied.recommended_fen == 2_000_000
        assert [o.applied.recommended_fen for o in result.others] == [600_000]
        assert Measure.CONFISCATE_INCOME in result.measures
        assert "按照罚款数额高的规定处罚（《行政处罚法》第二十九条）" in zh(result)

    def test_a_tie_keeps_the_main_power(self) -> None:
        main = candidate(examples.open_air_barbecue(), code="A")
        other = candidate(examples.open_air_barbecue(), code="B")
        result = evaluate(engine_input(main, concurrent=(PowerCandidates(other, other),)))
        assert result.applied.candidate.power.code == "A"


class TestArticle30Minors:
    def test_under_fourteen_is_not_penalised(self) -> None:
        result = run(examples.open_air_barbecue(), party="person", circumstances=("under_14",))
        assert result.applied.decision is Decision.NO_PENALTY
        assert result.applied.no_penalty_reason == "under_14"
        assert result.measures == (Measure.EDUCATION, Measure.ORDER_CORRECTION)
        assert "当事人不满十四周岁，不予行政处罚" in zh(result)

    def test_fourteen_to_eighteen_is_lighter(self) -> None:
        # 从轻 500–5,000 yuan → middle 2,750 yuan.
        result = run(examples.open_air_barbecue(), party="person", circumstances=("age_14_to_18",))
        assert result.applied.level is Level.LIGHTER
        assert result.applied.recommended_fen == 275_000
        assert "（《行政处罚法》第三十条）" in zh(result)


class TestArticle32MandatoryMitigation:
    def test_coercion_makes_it_lighter(self) -> None:
        result = run(examples.open_air_barbecue(), party="person", circumstances=("coerced",))
        assert result.applied.level is Level.LIGHTER
        assert result.applied.recommended_fen == 275_000
        assert not result.needs_legal_review

    def test_reduced_without_a_tier_lies_below_the_minimum_and_is_flagged(self) -> None:
        # 减轻 with no 减轻 tier: [0, 500 yuan] → middle 250 yuan = 25,000 fen.
        result = run(
            examples.open_air_barbecue(),
            party="person",
            circumstances=("coerced",),
            mitigation="reduced",
        )
        assert result.applied.level is Level.REDUCED
        assert result.applied.recommended_fen == 25_000
        assert [r.value for r in result.review_reasons] == ["reduced"]
        assert "tier.reduced_fallback" in codes(result)

    def test_reduced_with_its_own_tier(self) -> None:
        # 减轻 tier 200–500 yuan → middle 350 yuan.
        tiers = examples.open_air_barbecue().model_dump(mode="json", exclude_none=True)["tiers"]
        tiers.append({"level": "reduced", "person": fixed(200, 500)})
        benchmark = spec(
            statutory={"person": fixed(500, 20_000)},
            tiers=[{k: v for k, v in t.items() if k != "organisation"} for t in tiers],
        )
        result = run(benchmark, party="person", circumstances=("confessed",), mitigation="reduced")
        assert result.applied.recommended_fen == 35_000
        assert result.needs_legal_review

    def test_aggravating_as_well_puts_it_at_the_top_of_the_lighter_tier(self) -> None:
        # 从轻 500–5,000 yuan at position 1 → 5,000 yuan.
        result = run(
            examples.open_air_barbecue(),
            party="person",
            circumstances=("coerced", "obstructed"),
        )
        assert result.applied.level is Level.LIGHTER
        assert result.applied.recommended_fen == 500_000

    def test_reduced_without_a_mandatory_circumstance_is_refused(self) -> None:
        with pytest.raises(InvalidInput) as refused:
            run(examples.open_air_barbecue(), party="person", mitigation="reduced")
        assert refused.value.detail == {"field": "mitigation"}


class TestArticle33NoPenalty:
    def test_minor_corrected_and_harmless_is_not_penalised(self) -> None:
        result = run(
            examples.open_air_barbecue(),
            party="person",
            circumstances=("minor", "corrected_promptly", "no_harm"),
        )
        assert result.applied.no_penalty_reason == "minor"
        assert result.measures == (Measure.EDUCATION, Measure.ORDER_CORRECTION)
        assert result.applied.recommended_fen is None

    def test_first_offence_exemption_says_the_law_says_may(self) -> None:
        result = run(
            examples.open_air_barbecue(),
            party="person",
            circumstances=("first_offence", "harm_minor", "corrected_promptly"),
        )
        assert result.applied.no_penalty_reason == "first_offence"
        assert "法律规定此种情形“可以”不予处罚（首违不罚）" in zh(result)

    def test_first_offence_is_not_exempt_when_the_benchmark_excludes_it(self) -> None:
        # Not exempt; first offence and prompt correction mitigate: 从轻 500–5,000 → 2,750 yuan.
        result = run(
            examples.open_air_barbecue(first_offence_exemption=False),
            party="person",
            circumstances=("first_offence", "harm_minor", "corrected_promptly"),
        )
        assert result.applied.decision is Decision.PENALTY
        assert result.applied.recommended_fen == 275_000
        assert "exempt.first_offence_not_in_benchmark" in codes(result)

    def test_first_offence_is_not_exempt_when_the_policy_excludes_it(self) -> None:
        benchmark = candidate(
            examples.open_air_barbecue(), policy=PolicySpec(first_offence_exemption=False)
        )
        result = evaluate(
            engine_input(
                benchmark,
                party="person",
                circumstances=("first_offence", "no_harm", "corrected_promptly"),
            )
        )
        assert result.applied.decision is Decision.PENALTY
        assert "exempt.first_offence_not_in_policy" in codes(result)

    def test_first_offence_with_an_aggravating_circumstance_is_not_exempt(self) -> None:
        result = run(
            examples.open_air_barbecue(),
            party="person",
            circumstances=("first_offence", "harm_minor", "corrected_promptly", "obstructed"),
        )
        assert result.applied.decision is Decision.PENALTY
        assert result.applied.level is Level.ORDINARY  # mitigating and aggravating offset
        assert result.applied.recommended_fen == 850_000

    def test_no_fault_is_not_penalised(self) -> None:
        result = run(examples.open_air_barbecue(), party="person", circumstances=("no_fault",))
        assert result.applied.no_penalty_reason == "no_fault"


class TestArticle36Limitation:
    def test_discovered_a_day_after_two_years_is_not_penalised(self) -> None:
        # act 2021-08-01; the 2-year period ends 2023-08-01; discovered 2023-08-02.
        result = run(
            examples.open_air_barbecue(),
            act_date=date(2021, 8, 1),
            discovered_on=date(2023, 8, 2),
            decision_date=date(2023, 9, 1),
        )
        assert result.applied.no_penalty_reason == "limitation"
        assert "2年追责期限已于2023年8月1日届满" in zh(result)

    def test_discovered_on_the_last_day_is_penalised(self) -> None:
        result = run(
            examples.open_air_barbecue(),
            act_date=date(2021, 8, 1),
            discovered_on=date(2023, 8, 1),
            decision_date=date(2023, 9, 1),
        )
        assert result.applied.decision is Decision.PENALTY

    def test_safety_with_harm_extends_the_period_to_five_years(self) -> None:
        benchmark = examples.open_air_barbecue(concerns_safety=True)
        result = run(
            benchmark,
            act_date=date(2021, 8, 1),
            discovered_on=date(2025, 1, 1),
            decision_date=date(2025, 2, 1),
            circumstances=("harm_caused",),
        )
        assert result.applied.decision is Decision.PENALTY
        assert "limitation.safety" in codes(result)

    def test_safety_without_harm_keeps_two_years(self) -> None:
        result = run(
            examples.open_air_barbecue(concerns_safety=True),
            act_date=date(2021, 8, 1),
            discovered_on=date(2025, 1, 1),
            decision_date=date(2025, 2, 1),
        )
        assert result.applied.no_penalty_reason == "limitation"

    def test_a_continuing_act_counts_from_its_end(self) -> None:
        # act began 2020-01-01 and went on until 2022-06-01: the period ends 2024-06-01.
        result = run(
            examples.open_air_barbecue(),
            act_date=date(2020, 1, 1),
            continuing_until=date(2022, 6, 1),
            discovered_on=date(2024, 5, 1),
            decision_date=date(2024, 6, 10),
        )
        assert result.applied.decision is Decision.PENALTY
        assert "至2022年6月1日终了" in zh(result)


class TestArticle37LighterLaterVersion:
    def later(self, ordinary: tuple[int, int]) -> PowerCandidates:
        old = candidate(examples.open_air_barbecue(), effective_from=date(2022, 1, 1))
        tiers = [
            {"level": "lighter", "person": fixed(500, ordinary[0])},
            {"level": "ordinary", "person": fixed(*ordinary)},
            {"level": "heavier", "person": fixed(ordinary[1], 20_000)},
        ]
        new_spec = spec(statutory={"person": fixed(500, 20_000)}, tiers=tiers)
        new = candidate(
            new_spec,
            benchmark_version=2,
            effective_from=date(2022, 1, 1),
            benchmark_from=date(2024, 1, 1),
        )
        return PowerCandidates(old, new)

    def test_a_lighter_later_benchmark_applies(self) -> None:
        # old 一般 5,000–12,000 → 8,500 yuan; new 一般 2,000–8,000 → 5,000 yuan: lighter, applies.
        result = run(
            self.later((2000, 8000)),
            party="person",
            act_date=date(2023, 6, 1),
            decision_date=date(2024, 3, 1),
        )
        assert result.outcome.applied_version == "lighter_later"
        assert result.applied.recommended_fen == 500_000
        assert [a.recommended_fen for _, a in result.outcome.alternatives] == [850_000, 500_000]
        assert "按照“从旧兼从轻”原则适用新的规定" in zh(result)

    def test_a_heavier_later_benchmark_does_not_apply(self) -> None:
        # new 一般 10,000–16,000 → 13,000 yuan is heavier: the act-date 8,500 yuan applies.
        result = run(
            self.later((10_000, 16_000)),
            party="person",
            act_date=date(2023, 6, 1),
            decision_date=date(2024, 3, 1),
        )
        assert result.outcome.applied_version == "act_date"
        assert result.applied.recommended_fen == 850_000
        assert "version.later_not_lighter" in codes(result)


class TestArticle49Emergency:
    def test_an_emergency_breach_is_heavier(self) -> None:
        # 从重 12,000–20,000 → 16,000 yuan, even with a discretionary mitigating circumstance.
        result = run(
            examples.open_air_barbecue(), party="person", circumstances=("emergency", "cooperative")
        )
        assert result.applied.level is Level.HEAVIER
        assert result.applied.recommended_fen == 1_600_000
        assert "依法应当从重处罚（《行政处罚法》第四十九条）" in zh(result)


class TestArticle51SimpleProcedure:
    def test_fifty_yuan_on_a_person_may_be_decided_on_the_spot(self) -> None:
        result = run(examples.spitting(), party="person")
        assert result.applied.recommended_fen == 5_000
        assert result.simple_procedure_allowed is True

    def test_confiscation_needs_the_ordinary_procedure(self) -> None:
        result = run(examples.open_air_barbecue(), party="person", circumstances=("cooperative",))
        assert result.simple_procedure_allowed is False
        assert "simple.other_penalties" in codes(result)


class TestDeviations:
    def test_a_different_amount_inside_the_tier_with_a_reason(self) -> None:
        # 一般 [5,000, 12,000] yuan; 6,000 yuan is inside: within_tier, no review.
        result = run(
            examples.open_air_barbecue(),
            party="person",
            chosen_fen=600_000,
            reason="当事人经济困难，已主动清理现场",
        )
        assert result.chosen is not None
        assert result.chosen.deviation.value == "within_tier"
        assert result.applied.recommended_fen == 850_000
        assert not result.needs_legal_review

    def test_outside_the_tier_needs_legal_review(self) -> None:
        result = run(
            examples.open_air_barbecue(), party="person", chosen_fen=1_500_000, reason="影响恶劣"
        )
        assert result.chosen is not None
        assert result.chosen.deviation.value == "outside_tier"
        assert [r.value for r in result.review_reasons] == ["outside_tier"]
        assert "须经法制审核" in zh(result)

    def test_a_different_amount_without_a_reason_is_refused(self) -> None:
        with pytest.raises(InvalidInput) as refused:
            run(examples.open_air_barbecue(), party="person", chosen_fen=600_000, reason="  ")
        assert refused.value.detail == {"field": "reason"}

    def test_above_the_statutory_maximum_is_refused(self) -> None:
        with pytest.raises(InvalidInput) as refused:
            run(examples.open_air_barbecue(), party="person", chosen_fen=2_000_001, reason="x")
        assert refused.value.detail == {"field": "chosen_fen"}
        assert "exceeds the statutory maximum" in refused.value.message

    def test_below_the_minimum_without_reduction_is_refused(self) -> None:
        with pytest.raises(InvalidInput):
            run(examples.open_air_barbecue(), party="person", chosen_fen=40_000, reason="x")

    def test_below_the_minimum_at_the_reduced_level(self) -> None:
        result = run(
            examples.open_air_barbecue(),
            party="person",
            circumstances=("coerced",),
            mitigation="reduced",
            chosen_fen=10_000,
            reason="受胁迫，情节特别轻微",
        )
        assert result.chosen is not None
        assert result.chosen.deviation.value == "within_tier"  # inside [0, 500 yuan]
        assert result.needs_legal_review

    def test_an_amount_on_a_no_penalty_decision_is_refused(self) -> None:
        with pytest.raises(InvalidInput) as refused:
            run(
                examples.open_air_barbecue(),
                party="person",
                circumstances=("under_14",),
                chosen_fen=50_000,
                reason="x",
            )
        assert refused.value.detail == {"field": "chosen_fen"}


class TestRounding:
    def test_the_recommendation_is_rounded_to_whole_yuan_when_it_stays_inside(self) -> None:
        # 3 m² × [100, 1,000] yuan … 一般 300–600 × 3.33 m² = [999, 1,998] yuan → 1,498.50 yuan
        # exactly; rounded half-up to 1,499 yuan.
        result = run(examples.land_occupation(), facts={"area_m2": Decimal("3.33")})
        assert result.applied.recommended_fen == 149_900
