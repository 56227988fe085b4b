"""The officer app's offline fine (``static/m/fine.js``) against the discretion engine.

For every benchmark of the sample catalog that gets an ``offline`` payload in the task bundle
(``inspections.bundle.offline_payload``), for each party type it applies to and many fact values
(0, 1, 1.5, 7, 123.45, values around the caps, large values), ``computeOffline`` runs in headless
Chromium and must give the engine's recommended amount to the fen, the same tier and statutory
ranges and band, or refuse exactly where the engine refuses.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy.orm import Session

from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS, _require_chromium
from zhifa.catalog.discretion import loader
from zhifa.catalog.discretion.engine import evaluate
from zhifa.catalog.discretion.schemas import EvaluationIn
from zhifa.catalog.sample.loader import load_sample_catalog
from zhifa.catalog.snapshot import snapshot_for
from zhifa.catalog.spec import BenchmarkSpec, FactKind, Formula, PartyType
from zhifa.catalog.versions import in_force
from zhifa.demo.loader import load_demo
from zhifa.errors import InvalidInput
from zhifa.inspections import bundle
from zhifa.inspections.common import today

pytestmark = pytest.mark.browser

DISTRICT = "510184"
FINE_JS = Path(__file__).parents[2] / "src" / "zhifa" / "web" / "static" / "m" / "fine.js"
BASE_VALUES = ("0", "1", "1.5", "7", "123.45", "10000", "987654.32")


@pytest.fixture
def page() -> Iterator[Page]:
    _require_chromium()
    with sync_playwright() as playwright:
        browser: Browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page()
        page.set_content("<!doctype html><html><body></body></html>")
        source = FINE_JS.read_text(encoding="utf-8")
        page.add_script_tag(
            content=source + "\nwindow.computeOffline = computeOffline;\n", type="module"
        )
        page.wait_for_function("() => typeof window.computeOffline === 'function'")
        yield page
        browser.close()


def _formulas(spec: BenchmarkSpec, party: PartyType) -> list[Formula]:
    found = [spec.statutory.formula(party), *(t.formula(party) for t in spec.tiers)]
    return [f for f in found if f is not None]


def _values(spec: BenchmarkSpec, party: PartyType) -> list[Decimal]:
    """The base values, the band thresholds around them, and the bases where caps start."""
    values = {Decimal(v) for v in BASE_VALUES}
    for band in spec.bands:
        for condition in band.when:
            values |= {condition.value, condition.value + 1, max(condition.value - 1, Decimal(0))}
    for formula in _formulas(spec, party):
        if formula.cap_fen is None:
            continue
        for rate in (formula.min_fen, formula.max_fen, formula.min_factor, formula.max_factor):
            if rate:
                edge = Decimal(formula.cap_fen) / Decimal(rate)
                if formula.kind.value == "percent":
                    edge *= 100
                edge = edge.quantize(Decimal("0.01"))
                values |= {edge, edge + 1, max(edge - Decimal("0.01"), Decimal(0))}
    return sorted(values)


def _typed(spec: BenchmarkSpec, value: Decimal) -> dict[str, Any]:
    """Every fact set from ``value`` as the app sends it: whole numbers for money and counts."""
    facts: dict[str, Any] = {}
    for fact in spec.facts:
        if fact.kind is FactKind.QUANTITY:
            facts[fact.key] = format(value, "f")
        elif fact.kind is FactKind.MONEY:
            facts[fact.key] = int(value * 100)  # the value read as yuan, given in fen
        else:
            facts[fact.key] = int(value)
    return facts


def _engine(session: Session, code: str, party: str, facts: dict[str, Any]) -> dict[str, Any]:
    data = EvaluationIn(power_code=code, act_date=today(), party_type=party, facts=facts)
    try:
        result = evaluate(loader.load(session, DISTRICT, data, today=today()))
    except InvalidInput as exc:
        return {"error": exc.message}
    applied = result.outcome.applied
    span = (
        {"lo": applied.tier_range.lo, "hi": applied.tier_range.hi} if applied.tier_range else None
    )
    stat = applied.statutory
    return {
        "amount_fen": applied.recommended_fen,
        "tier_range": span,
        "statutory_range": {"lo": stat.lo, "hi": stat.hi} if stat else None,
        "band": applied.band.key if applied.band else None,
        "level": applied.level.value,
    }


def _cases(session: Session) -> tuple[list[dict[str, Any]], set[str], list[str]]:
    """(cases, the power codes with facts, those that got no offline payload)."""
    on = today()
    cases: list[dict[str, Any]] = []
    with_facts: set[str] = set()
    without_payload: list[str] = []
    for code, power in sorted(snapshot_for(session, DISTRICT).powers.items()):
        bench = in_force(power.benchmarks, on)
        version = in_force(power.versions, on)
        if bench is None or version is None or bench.spec is None or not bench.spec.facts:
            continue
        with_facts.add(code)
        spec = bench.spec
        for party in PartyType:
            if str(party) not in version.party_types or spec.statutory.formula(party) is None:
                continue
            offline = bundle.offline_payload(session, DISTRICT, code, str(party), on)
            if offline is None:
                without_payload.append(f"{code}/{party}")
                continue
            for value in _values(spec, party):
                facts = _typed(spec, value)
                expected = _engine(session, code, str(party), facts)
                cases.append(
                    {"id": f"{code}/{party}/{value}", "offline": offline, "facts": facts}
                    | {"expected": expected}
                )
    return cases, with_facts, without_payload


def _run(page: Page, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    script = """(cases) => cases.map((c) => {
        const r = window.computeOffline(c.offline, c.facts);
        if (r.error) return { error: r.error };
        return { amount_fen: r.amount_fen, tier_range: r.tier_range,
                 statutory_range: r.statutory_range, band: r.band ? r.band.key : null,
                 level: r.level };
    })"""
    result: list[dict[str, Any]] = page.evaluate(script, json.loads(json.dumps(cases)))
    return result


class TestFineOfflineMatchesTheEngine:
    def test_every_sample_benchmark_with_facts_gives_the_engines_amount_to_the_fen(
        self, session: Session, page: Page
    ) -> None:
        load_demo(session)
        load_sample_catalog(session, DISTRICT)
        session.commit()

        cases, with_facts, without_payload = _cases(session)

        assert with_facts, "the sample catalog has benchmarks with facts"
        assert without_payload == []
        assert {c["offline"]["power"]["code"] for c in cases} == with_facts
        got = _run(page, cases)
        mismatches = []
        for case, js in zip(cases, got, strict=True):
            expected = case["expected"]
            same = ("error" in js) if "error" in expected else js == expected
            if not same:
                mismatches.append((case["id"], case["facts"], expected, js))
        assert mismatches == []
        assert any(c["expected"].get("amount_fen") for c in cases)


class TestFineOfflineRefusals:
    def test_a_missing_or_malformed_fact_is_refused_without_an_amount(
        self, session: Session, page: Page
    ) -> None:
        load_demo(session)
        load_sample_catalog(session, DISTRICT)
        session.commit()
        cases, _, _ = _cases(session)
        offline = cases[0]["offline"]
        key = offline["spec"]["facts"][0]["key"]

        results = page.evaluate(
            """([offline, key]) => [
                window.computeOffline(offline, {}),
                window.computeOffline(offline, { [key]: "-1" }),
                window.computeOffline(offline, { [key]: "abc" }),
                window.computeOffline(null, { [key]: 1 }),
            ]""",
            [offline, key],
        )

        assert results[0]["error"] == "Enter {fact} to compute the fine."
        assert results[0]["params"]["key"] == key
        assert all("error" in r and "amount_fen" not in r for r in results[1:])
