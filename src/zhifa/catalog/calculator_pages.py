"""The fine calculator page (自由裁量计算器): choose a power, enter the act date, the party type,
the facts the benchmark declares and the circumstances; read the decision, the amount and why.

The page calls the discretion engine directly (``loader.load`` → ``engine.evaluate`` →
``schemas.present``), the same path as ``POST /api/v1/discretion/evaluate``: nothing is recorded
(a figure counts only when a case records it). Money is typed in yuan and converted to fen here; the
engine checks everything else. A refusal (422, or 404/409 for a power without a benchmark) is shown
beside the field it names, in the page language; the form keeps what was typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from zhifa.catalog import browse, versions
from zhifa.catalog import repository as repo
from zhifa.catalog.auth import CatalogRead
from zhifa.catalog.discretion import loader
from zhifa.catalog.discretion.engine import evaluate
from zhifa.catalog.discretion.schemas import EvaluationIn, EvaluationRead, present
from zhifa.catalog.exchange.cells import split_list
from zhifa.catalog.policy import Circumstance
from zhifa.catalog.presenters import (
    LABELS,
    N_,
    FormValues,
    Posted,
    Search,
    catalog_context,
    day,
    error_messages,
    is_fragment,
)
from zhifa.catalog.schemas import PowerSummary
from zhifa.catalog.spec import BenchmarkSpec, FactKind, FactSpec, PartyType
from zhifa.errors import Conflict, InvalidInput, NotFound
from zhifa.kit.clock import today_local
from zhifa.kit.money import parse_yuan, yuan
from zhifa.models.catalog import PowerKind
from zhifa.org.actor import Actor
from zhifa.org.auth import DbSession
from zhifa.web.templating import render, request_locale

router = APIRouter(include_in_schema=False)

CHOICES = 20
# The circumstances as the officer meets them, in four groups (a circumstance appears once).
GROUPS: tuple[tuple[str, tuple[Circumstance, ...]], ...] = (
    (
        N_("Grounds for no penalty"),
        (
            Circumstance.UNDER_14,
            Circumstance.NO_FAULT,
            Circumstance.MINOR,
            Circumstance.FIRST_OFFENCE,
            Circumstance.CORRECTED_PROMPTLY,
            Circumstance.NO_HARM,
            Circumstance.HARM_MINOR,
        ),
    ),
    (
        N_("Statutory lighter or reduced penalty"),
        (
            Circumstance.AGE_14_TO_18,
            Circumstance.REDUCED_HARM,
            Circumstance.COERCED,
            Circumstance.CONFESSED,
            Circumstance.MERITORIOUS,
        ),
    ),
    (N_("May be lighter"), (Circumstance.COOPERATIVE,)),
    (
        N_("Aggravating circumstances"),
        (
            Circumstance.HARM_CAUSED,
            Circumstance.REPEATED_WITHIN_12_MONTHS,
            Circumstance.REFUSED_CORRECTION,
            Circumstance.OBSTRUCTED,
            Circumstance.SERIOUS_CONSEQUENCE,
            Circumstance.MINORS_INVOLVED,
            Circumstance.EMERGENCY,
        ),
    ),
)
DEVIATIONS = {
    "none": N_("Same as the recommendation"),
    "within_tier": N_("Inside the benchmark tier"),
    "outside_tier": N_("Outside the benchmark tier"),
    "reduced_below_minimum": N_("Reduced below the statutory minimum"),
}
MITIGATIONS = (
    ("", N_("As the benchmark says")),
    ("lighter", N_("Lighter")),
    ("reduced", N_("Reduced")),
)


@dataclass(frozen=True)
class Chosen:
    """The power the calculator is set to, with the facts its benchmark asks for."""

    power: PowerSummary
    facts: list[FactSpec]
    parties: list[str]


def _chosen(session: Session, actor: Actor, code: str, on: date) -> Chosen | None:
    if not code:
        return None
    row = repo.power(session, actor.district_code, code)
    if row is None:
        return None
    detail = browse.power_detail(session, actor.district_code, code, on=on)
    rows = repo.benchmark_versions(session, row.id)
    bench = versions.in_force(rows, on) or versions.latest(rows)
    if detail.current is None or bench is None:
        return None
    spec = BenchmarkSpec.model_validate(bench.spec)
    parties = [
        p.value
        for p in PartyType
        if p in detail.current.party_types and spec.statutory.formula(p) is not None
    ]
    return Chosen(detail.current, list(spec.facts), parties)


def _choices(session: Session, actor: Actor, q: str) -> list[PowerSummary]:
    """Penalty powers in force today that have a benchmark, matching the search."""
    page = browse.power_page(
        session, actor.district_code, on=today_local(), q=q, kind=PowerKind.PENALTY, limit=500
    )
    return [p for p in page.items if p.has_benchmark][:CHOICES]


def _context(
    session: Session,
    actor: Actor,
    *,
    chosen: Chosen | None,
    values: dict[str, Any],
    q: str = "",
    result: EvaluationRead | None = None,
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    return catalog_context(
        session,
        actor,
        chosen=chosen,
        values=values,
        q=q,
        choices=_choices(session, actor, q) if q or chosen is None else [],
        result=result,
        errors=errors or {},
        groups=GROUPS,
        circumstance_labels={c.value: c.label for c in Circumstance},
        deviations=DEVIATIONS,
        mitigations=MITIGATIONS,
        fact_kinds={"money": FactKind.MONEY, "count": FactKind.COUNT},
        yuan=yuan,
        labels=LABELS,
        tab="calculator",
    )


@router.get("/catalog/calculator")
def show_calculator(
    request: Request,
    session: DbSession,
    actor: CatalogRead,
    power: Search = "",
    q: Search = "",
) -> Response:
    """The calculator: a power search, then the form for the chosen power."""
    chosen = _chosen(session, actor, power, today_local())
    values: dict[str, Any] = {"act_date": today_local().isoformat()}
    if chosen is not None and chosen.parties:
        values["party_type"] = chosen.parties[0]
    ctx = _context(session, actor, chosen=chosen, values=values, q=q)
    if is_fragment(request, "power-choices"):
        return render(request, "catalog/_power_choices.html", ctx)
    return render(request, "catalog/calculator.html", ctx)


@router.post("/catalog/calculator")
def calculate_fine(
    request: Request, session: DbSession, actor: CatalogRead, form: Posted
) -> Response:
    """Evaluate the form; answer with the calculator (form and result) for htmx, or the page."""
    values = _values(form)
    on = _act_date_or_today(values["act_date"])
    chosen = _chosen(session, actor, values["power_code"], on)
    result, errors, status = None, {}, 200
    try:
        data = _evaluation_in(values, chosen)
        engine_input = loader.load(session, actor.district_code, data, today=today_local())
        result = present(evaluate(engine_input), request_locale(request))
    except (InvalidInput, NotFound, Conflict) as exc:
        _name_facts(exc, chosen)
        errors, status = error_messages(request, exc), exc.status_code
    ctx = _context(session, actor, chosen=chosen, values=values, result=result, errors=errors)
    template = (
        "catalog/_calculator.html"
        if is_fragment(request, "calculator")
        else ("catalog/calculator.html")
    )
    return render(request, template, ctx, status_code=status)


def _name_facts(exc: InvalidInput | NotFound | Conflict, chosen: Chosen | None) -> None:
    """Say "未成年人人数", not "minors", in a message about a fact."""
    if chosen is not None and "fact" in exc.params:
        labels = {f.key: f.label for f in chosen.facts}
        exc.params["fact"] = labels.get(str(exc.params["fact"]), exc.params["fact"])


def _act_date_or_today(text: str) -> date:
    try:
        return day(text, "act_date")
    except InvalidInput:
        return today_local()


def _values(form: FormValues) -> dict[str, Any]:
    """What was typed, kept as text to show it again."""
    facts = {k.removeprefix("fact."): form.text(k) for k in form.names() if k.startswith("fact.")}
    return {
        "power_code": form.text("power_code"),
        "act_date": form.text("act_date"),
        "discovered_on": form.text("discovered_on"),
        "party_type": form.text("party_type"),
        "facts": facts,
        "circumstances": form.texts("circumstances"),
        "mitigation": form.text("mitigation"),
        "concurrent": form.text("concurrent"),
        "chosen_yuan": form.text("chosen_yuan"),
        "reason": form.text("reason"),
    }


def _evaluation_in(values: dict[str, Any], chosen: Chosen | None) -> EvaluationIn:
    if not values["power_code"]:
        raise InvalidInput("Choose the power first.", detail={"field": "power_code"})
    kinds = {f.key: f.kind for f in chosen.facts} if chosen is not None else {}
    facts = {
        key: _fact(key, kinds.get(key), text)
        for key, text in values["facts"].items()
        if text.strip()
    }
    chosen_yuan = values["chosen_yuan"].strip()
    return EvaluationIn(
        power_code=values["power_code"],
        act_date=day(values["act_date"], "act_date"),
        discovered_on=day(values["discovered_on"], "discovered_on")
        if values["discovered_on"].strip()
        else None,
        party_type=values["party_type"],
        facts=facts,
        circumstances=values["circumstances"],
        mitigation=values["mitigation"] or None,
        concurrent_power_codes=split_list(values["concurrent"]),
        chosen_fen=to_fen(chosen_yuan, "chosen_fen") if chosen_yuan else None,
        reason=values["reason"].strip()[:2000],
    )


def _fact(key: str, kind: FactKind | None, text: str) -> object:
    """Money typed in yuan becomes fen; a count a whole number; a quantity stays text (the engine
    reads it as a decimal and names the fact when it cannot)."""
    if kind is FactKind.MONEY:
        return to_fen(text, f"facts.{key}")
    if kind is FactKind.COUNT:
        cleaned = text.strip().replace(",", "")
        if not cleaned.isdigit():
            raise InvalidInput("Enter a whole number, 0 or more.", detail={"field": f"facts.{key}"})
        return int(cleaned)
    return text.strip().replace(",", "")


def to_fen(text: str, field: str) -> int:
    """``"1,500.5"`` (yuan) → ``150050``; refuses negatives and more than two decimals."""
    try:
        return parse_yuan(text)
    except ValueError:
        raise InvalidInput(
            "Enter an amount in yuan, 0 or more, with at most two decimals.",
            detail={"field": field},
        ) from None
