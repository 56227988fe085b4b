"""Properties of the discretion engine over generated benchmarks, facts and circumstances:
inside the statutory range unless 减轻 (then at most the minimum, and flagged), never negative,
the same input gives the same output, monotone in aggravating circumstances, and version
selection per art. 37 (in memory, and through the loader and the database)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from tests.catalog.discretion import builders
from tests.catalog.discretion.builders import candidate, engine_input, fixed, spec
from tests.catalog.discretion.strategies import (
    Case,
    benchmarks,
    circumstances,
    contradicts,
    facts_for,
    mitigation_for,
    policies,
)
from zhifa.catalog.discretion import loader
from zhifa.catalog.discretion.engine import evaluate
from zhifa.catalog.discretion.model import EngineInput, EngineResult, PowerCandidates
from zhifa.catalog.discretion.schemas import EvaluationIn
from zhifa.catalog.policy import MANDATORY_AGGRAVATING, Circumstance, PolicySpec
from zhifa.catalog.spec import BenchmarkSpec, Level

ACT = date(2024, 3, 1)
DECISION = date(2024, 5, 1)


@st.composite
def inputs(draw: st.DrawFn, *, reduced: bool = False) -> tuple[Case, EngineInput]:
    case = draw(benchmarks())
    found = draw(circumstances())
    if reduced:
        found = (found - {Circumstance.UNDER_14, Circumstance.NO_FAULT}) | {Circumstance.COERCED}
    policy = draw(st.one_of(st.just(PolicySpec()), policies()))
    main = candidate(case.spec, party_types=case.parties, policy=policy)
    request = engine_input(
        main,
        party=draw(st.sampled_from(case.parties)),
        facts=draw(facts_for(case)),
        circumstances=tuple(sorted(found)),
        act_date=ACT,
        decision_date=DECISION,
        discovered_on=ACT + timedelta(days=draw(st.integers(0, 900))),
        mitigation="reduced" if reduced else draw(mitigation_for(found)),
    )
    return case, request


def fine(result: EngineResult) -> int:
    """The recommendation, with no penalty (or no fine) as 0."""
    return result.applied.recommended_fen or 0


class TestRange:
    @given(inputs())
    def test_the_recommendation_stays_in_the_statutory_range_unless_reduced(
        self, drawn: tuple[Case, EngineInput]
    ) -> None:
        _, request = drawn
        applied = evaluate(request).applied
        if applied.recommended_fen is None:
            return
        assert applied.statutory is not None
        if applied.level is Level.REDUCED:
            assert applied.recommended_fen <= applied.statutory.lo
            assert [r.value for r in applied.review_reasons] == ["reduced"]
        else:
            assert applied.statutory.lo <= applied.recommended_fen <= applied.statutory.hi

    @given(inputs(reduced=True))
    def test_a_reduced_fine_is_at_most_the_statutory_minimum_and_flagged(
        self, drawn: tuple[Case, EngineInput]
    ) -> None:
        result = evaluate(drawn[1])
        applied = result.applied
        if applied.recommended_fen is None or applied.level is not Level.REDUCED:
            return  # no penalty, no fine, or a statute without a minimum (then 从轻)
        assert applied.statutory is not None
        assert 0 <= applied.recommended_fen <= applied.statutory.lo
        assert result.needs_legal_review

    @given(inputs())
    def test_nothing_is_ever_negative(self, drawn: tuple[Case, EngineInput]) -> None:
        applied = evaluate(drawn[1]).applied
        figures = [applied.recommended_fen]
        for span in (applied.statutory, applied.tier_range):
            figures += [span.lo, span.hi] if span is not None else []
        assert all(f is None or f >= 0 for f in figures)

    @given(inputs())
    def test_the_tier_range_lies_inside_the_statutory_range(
        self, drawn: tuple[Case, EngineInput]
    ) -> None:
        applied = evaluate(drawn[1]).applied
        if applied.tier_range is None or applied.statutory is None:
            return
        top = applied.statutory.lo if applied.level is Level.REDUCED else applied.statutory.hi
        bottom = 0 if applied.level is Level.REDUCED else applied.statutory.lo
        assert bottom <= applied.tier_range.lo <= applied.tier_range.hi <= top


class TestDeterminism:
    @given(inputs())
    def test_the_same_input_gives_the_same_output(self, drawn: tuple[Case, EngineInput]) -> None:
        _, request = drawn
        assert evaluate(request) == evaluate(request)


class TestMonotoneInAggravation:
    @given(inputs(), st.data())
    def test_an_aggravating_circumstance_never_lowers_the_fine(
        self, drawn: tuple[Case, EngineInput], data: st.DataObject
    ) -> None:
        _, request = drawn
        policy = request.main.at_act.policy.spec
        found = frozenset(Circumstance(c) for c in request.circumstances)
        options = [
            c
            for c in sorted(set(policy.aggravating) | MANDATORY_AGGRAVATING)
            if c not in found and not contradicts(found | {c})
        ]
        if not options:
            return
        added = data.draw(st.sampled_from(options))
        heavier = engine_input(
            request.main,
            party=request.party_type,
            facts=dict(request.facts),
            circumstances=tuple(sorted(found | {added})),
            act_date=request.act_date,
            decision_date=request.decision_date,
            discovered_on=request.discovered_on,
            mitigation=request.mitigation,
        )
        assert fine(evaluate(heavier)) >= fine(evaluate(request))


def fixed_range_versions(draw: st.DrawFn) -> tuple[int, int, int]:
    """(statutory hi, ordinary lo, ordinary hi) in yuan for a person, 500-yuan statutory minimum."""
    hi = draw(st.integers(2_000, 50_000))
    lo_cut, hi_cut = sorted(draw(st.lists(st.integers(500, hi), min_size=2, max_size=2)))
    return hi, lo_cut, hi_cut


def barbecue(ordinary: tuple[int, int], hi: int) -> BenchmarkSpec:
    return spec(
        statutory={"person": fixed(500, hi)},
        tiers=[{"level": "ordinary", "person": fixed(*ordinary)}],
    )


class TestVersionSelection:
    @given(st.data())
    def test_a_later_version_applies_before_its_date_only_when_lighter(
        self, data: st.DataObject
    ) -> None:
        hi, lo_cut, hi_cut = fixed_range_versions(data.draw)
        shift = data.draw(st.integers(-(lo_cut - 500), hi - hi_cut))
        old = candidate(barbecue((lo_cut, hi_cut), hi), party_types=("person",))
        new = candidate(
            barbecue((lo_cut + shift, hi_cut + shift), hi),
            party_types=("person",),
            benchmark_version=2,
            benchmark_from=DECISION - timedelta(days=10),
        )
        dates = {"act_date": ACT, "decision_date": DECISION}
        result = evaluate(engine_input(PowerCandidates(old, new), party="person", **dates))
        alone_old = evaluate(engine_input(old, party="person", **dates))
        alone_new = evaluate(
            engine_input(new, party="person", act_date=DECISION, decision_date=DECISION)
        )
        if fine(alone_new) < fine(alone_old):
            assert result.outcome.applied_version == "lighter_later"
            assert fine(result) == fine(alone_new)
        else:
            assert result.outcome.applied_version == "act_date"
            assert fine(result) == fine(alone_old)
        if shift <= -2:  # more than rounding can hide: strictly lighter
            assert result.outcome.applied_version == "lighter_later"
        if shift >= 2:
            assert result.outcome.applied_version == "act_date"

    @given(st.integers(1, 400))
    def test_a_version_in_force_only_after_the_decision_date_is_never_used(
        self, days_after: int
    ) -> None:
        old = candidate(barbecue((5_000, 12_000), 20_000), party_types=("person",))
        future = candidate(
            barbecue((500, 600), 20_000),
            party_types=("person",),
            benchmark_version=2,
            benchmark_from=DECISION + timedelta(days=days_after),
        )
        result = evaluate(
            engine_input(
                PowerCandidates(old, future), party="person", act_date=ACT, decision_date=DECISION
            )
        )
        assert result.applied.candidate.benchmark.version == 1
        assert all(a.candidate.benchmark.version == 1 for _, a in result.outcome.alternatives)


class TestVersionSelectionThroughTheDatabase:
    @settings(
        max_examples=15,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(
        later_from=st.dates(date(2023, 1, 2), date(2025, 12, 31)),
        act=st.dates(date(2023, 1, 1), date(2024, 12, 31)),
        lighter=st.booleans(),
    )
    def test_the_loader_picks_versions_as_art_37_says(
        self, session: Session, later_from: date, act: date, lighter: bool
    ) -> None:
        decision = date(2025, 1, 1)
        try:
            place = builders.world(session)
            power = builders.power(session, place, "CF-P-1", party_types=("person",))
            builders.benchmark(
                session, power, barbecue((5_000, 12_000), 20_000), 1, date(2022, 1, 1)
            )
            ordinary = (2_000, 8_000) if lighter else (10_000, 16_000)
            builders.benchmark(session, power, barbecue(ordinary, 20_000), 2, later_from)
            request = EvaluationIn(
                power_code="CF-P-1",
                act_date=act,
                decision_date=decision,
                party_type="person",
            )
            result = evaluate(loader.load(session, place.district_code, request, today=decision))
            used = result.applied.candidate.benchmark.version
            if later_from > decision:
                assert used == 1  # never a version that is not in force on the decision date
            elif later_from <= act:
                assert used == 2  # in force on the act date
            else:
                assert used == (2 if lighter else 1)
        finally:
            session.rollback()
