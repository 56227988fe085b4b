"""What the catalog pages show, shaped for people: dates read from forms, money in yuan, a
benchmark's formulas written out as sentences, citations with links to their articles, and the
sample-data banner rule. Shared by ``pages``, ``admin_pages`` and ``calculator_pages``; no routes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import Depends, Query, Request
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from zhifa.catalog import browse
from zhifa.catalog import repository as repo
from zhifa.catalog.schemas import CitationRead
from zhifa.catalog.spec import (
    BenchmarkSpec,
    FactSpec,
    Formula,
    FormulaKind,
    Level,
    Measure,
    PartyType,
)
from zhifa.errors import AppError, InvalidInput
from zhifa.kit.clock import today_local
from zhifa.kit.money import yuan
from zhifa.models.catalog import (
    CitationRole,
    LawKind,
    PowerKind,
    PowerStatus,
)
from zhifa.org.actor import Actor
from zhifa.org.auth import MAX_FORM_FIELDS
from zhifa.org.roles import ROLE_LABELS, Permission
from zhifa.web.i18n import translate
from zhifa.web.templating import request_locale

M = TypeVar("M", bound=BaseModel)

PAGE_SIZE = 50
SAMPLE_MARK = "示例"
Translate = Callable[..., str]
PageNumber = Annotated[int, Query(ge=1, le=100_000)]
Search = Annotated[str, Query(max_length=100)]


def N_(message: str) -> str:
    """Mark a message for the translation catalog; it is translated where it is shown."""
    return message


EVIDENCE_LABELS = {
    "photo": N_("Photo"),
    "video": N_("Video"),
    "audio": N_("Audio recording"),
    "document": N_("Document"),
}
LABELS: dict[str, dict[str, str]] = {
    "kind": {k.value: k.label for k in PowerKind},
    "status": {s.value: s.label for s in PowerStatus},
    "status_colour": {s.value: s.colour for s in PowerStatus},
    "party": {p.value: p.label for p in PartyType},
    "level": {lv.value: lv.label for lv in Level},
    "measure": {m.value: m.label for m in Measure},
    "role": {r.value: label for r, label in ROLE_LABELS.items()},
    "law_kind": {k.value: k.label for k in LawKind},
    "evidence": EVIDENCE_LABELS,
    "citation_role": {r.value: r.label for r in CitationRole},
}


# ---- shared helpers ------------------------------------------------------------------------


def translator(request: Request) -> Translate:
    return partial(translate, request_locale(request))


def day(value: str | None, field: str = "on") -> date:
    """A date typed in a form or query (``YYYY-MM-DD``); blank means today."""
    text = (value or "").strip()
    if not text:
        return today_local()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("Enter the date as YYYY-MM-DD.", detail={"field": field}) from None


def shows_sample_banner(session: Session, district_code: str, *, fictional: bool) -> bool:
    """Whether pages say "示例数据：须按本地规定核实" (sample data: verify against local rules).

    Kept simple on purpose: the district is fictional (a demo or test district), or the version note
    of any of its power versions contains 示例 (the shipped sample catalog says so in its notes)."""
    return fictional or repo.any_power_note_contains(session, district_code, SAMPLE_MARK)


def catalog_context(session: Session, actor: Actor, **extra: Any) -> dict[str, Any]:
    banner = shows_sample_banner(session, actor.district_code, fictional=actor.district_fictional)
    return {
        "labels": LABELS,
        "can_manage": actor.can(Permission.CATALOG_MANAGE),
        "sample_banner": banner,
        **extra,
    }


def is_fragment(request: Request, target: str) -> bool:
    """An htmx request that wants only the part of the page with id ``target``."""
    return (
        request.headers.get("hx-request") == "true"
        and request.headers.get("hx-target") == target
        and request.headers.get("hx-history-restore-request") != "true"
    )


def number(value: Decimal) -> str:
    """A multiple or percentage without trailing zeros: ``Decimal("1.50")`` → ``"1.5"``."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def officer_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    return repo.officer_names(session, ids)


@dataclass(frozen=True)
class Pager:
    """A page of a list: which page, how many rows, and the links to its neighbours."""

    page: int
    size: int
    total: int
    base: str = ""
    params: dict[str, str] = field(default_factory=dict)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    def href(self, page: int) -> str:
        kept = {k: v for k, v in self.params.items() if v}
        return f"{self.base}?{urlencode(kept | {'page': str(page)})}"


# ---- the benchmark written out ------------------------------------------------------------


def formula_text(t: Translate, formula: Formula | None, facts: dict[str, FactSpec]) -> str:
    """A formula as a sentence: "每人3,000元（按未成年人人数计），最高15,000元"."""
    if formula is None:
        return ""
    if formula.kind is FormulaKind.NONE:
        return t(N_("No fine"))
    fact = facts.get(formula.fact or "")
    label = fact.label if fact is not None else (formula.fact or "")
    unit = (fact.unit if fact is not None else "") or t(N_("unit"))
    text = _range_text(t, formula, label, unit)
    if formula.cap_fen is not None:
        text += t(N_(", at most {cap} yuan"), cap=yuan(formula.cap_fen))
    return text


def _range_text(t: Translate, formula: Formula, fact: str, unit: str) -> str:
    kind = formula.kind
    if kind is FormulaKind.UP_TO:
        return t(N_("Up to {high} yuan"), high=yuan(formula.max_fen or 0))
    if kind in (FormulaKind.FIXED, FormulaKind.PER_UNIT):
        low, high = yuan(formula.min_fen or 0), yuan(formula.max_fen or 0)
        if kind is FormulaKind.FIXED:
            if low == high:
                return t(N_("{amount} yuan"), amount=low)
            return t(N_("{low} to {high} yuan"), low=low, high=high)
        if low == high:
            return t(N_("{amount} yuan per {unit} of {fact}"), amount=low, unit=unit, fact=fact)
        per_unit = N_("{low} to {high} yuan per {unit} of {fact}")
        return t(per_unit, low=low, high=high, unit=unit, fact=fact)
    low = number(formula.min_factor or Decimal(0))
    high = number(formula.max_factor or Decimal(0))
    if kind is FormulaKind.MULTIPLE:
        if low == high:
            return t(N_("{factor} times the {fact}"), factor=low, fact=fact)
        return t(N_("{low} to {high} times the {fact}"), low=low, high=high, fact=fact)
    if low == high:
        return t(N_("{factor}% of the {fact}"), factor=low, fact=fact)
    return t(N_("{low}% to {high}% of the {fact}"), low=low, high=high, fact=fact)


@dataclass(frozen=True)
class TierRow:
    level: str
    band: str
    situation: str
    amounts: dict[str, str]
    measures: list[str]


@dataclass(frozen=True)
class BenchmarkTable:
    parties: list[str]
    statutory: dict[str, str]
    facts: list[FactSpec]
    measures: list[str]
    tiers: list[TierRow]
    first_offence_exemption: bool
    concerns_safety: bool
    raw: dict[str, Any] = field(default_factory=dict)


def benchmark_table(t: Translate, data: dict[str, Any]) -> BenchmarkTable | None:
    """The benchmark as rows per level and band, with a column per party type."""
    try:
        spec = BenchmarkSpec.model_validate(data)
    except ValidationError:
        return None
    facts = {f.key: f for f in spec.facts}
    parties = [p for p in PartyType if spec.statutory.formula(p) is not None]
    bands = {b.key: (i, b.label) for i, b in enumerate(spec.bands)}
    ordered = sorted(spec.tiers, key=lambda x: (bands.get(x.band or "", (-1, ""))[0], x.level.rank))
    rows = [
        TierRow(
            level=tier.level.value,
            band=bands[tier.band][1] if tier.band in bands else "",
            situation=tier.situation,
            amounts={p.value: formula_text(t, tier.formula(p), facts) for p in parties},
            measures=[m.value for m in tier.measures],
        )
        for tier in ordered
    ]
    return BenchmarkTable(
        parties=[p.value for p in parties],
        statutory={p.value: formula_text(t, spec.statutory.formula(p), facts) for p in parties},
        facts=list(spec.facts),
        measures=[m.value for m in spec.measures],
        tiers=rows,
        first_offence_exemption=spec.first_offence_exemption,
        concerns_safety=spec.concerns_safety,
        raw=data,
    )


# ---- citations with their documents ---------------------------------------------------------


@dataclass(frozen=True)
class CitationView:
    role: str
    label: str
    text: str  # the cited article, paragraph or item
    full_text: str  # the whole article, when only a part is cited
    href: str


def citation_views(session: Session, citations: list[CitationRead]) -> list[CitationView]:
    texts = browse.load_texts(session, (c.provision_id for c in citations))
    views = []
    for c in citations:
        provision = texts.provisions.get(c.provision_id)
        href = f"/catalog/laws/{provision.document_id}#a{provision.article}" if provision else ""
        whole = provision.text if provision is not None and provision.text != c.text else ""
        views.append(CitationView(c.role.value, c.label, c.text, whole, href))
    return views


# ---- forms ----------------------------------------------------------------------------------


class FormValues:
    """A posted form: text values, repeated values and uploaded files by name."""

    def __init__(self, data: Any) -> None:
        self._data = data

    def text(self, name: str) -> str:
        value = self._data.get(name)
        return value if isinstance(value, str) else ""

    def texts(self, name: str) -> list[str]:
        return [v for v in self._data.getlist(name) if isinstance(v, str) and v]

    def files(self, name: str) -> list[UploadFile]:
        return [v for v in self._data.getlist(name) if isinstance(v, UploadFile) and v.filename]

    def names(self) -> list[str]:
        return list(dict.fromkeys(self._data.keys()))


async def posted_form(request: Request) -> AsyncIterator[FormValues]:
    """The request's form, read once (the CSRF check has usually read it already); its uploaded
    files are closed when the request is done."""
    form = await request.form(max_fields=MAX_FORM_FIELDS)
    try:
        yield FormValues(form)
    finally:
        await form.close()


Posted = Annotated[FormValues, Depends(posted_form)]

# Pydantic error types → what a person should do about them.
PROBLEMS = {
    "missing": N_("Fill in this field."),
    "string_too_short": N_("Fill in this field."),
    "too_short": N_("Choose at least one."),
    "string_too_long": N_("This is too long."),
    "too_long": N_("Too many entries."),
    "enum": N_("Choose one of the options."),
    "literal_error": N_("Choose one of the options."),
    "string_pattern_mismatch": N_("Use only letters, digits, _ . and -."),
}


def _problem(kind: str) -> str:
    if kind in PROBLEMS:
        return PROBLEMS[kind]
    if kind.startswith(("date", "datetime")):
        return N_("Enter the date as YYYY-MM-DD.")
    if kind.startswith(("int", "greater_than", "less_than")):
        return N_("Enter a whole number in the allowed range.")
    return N_("This value is not valid.")


def parse_form(model: type[M], values: dict[str, Any]) -> M:
    """Build ``model`` from form values; refuse with one message per field (422)."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            name = ".".join(str(p) for p in error["loc"] if not isinstance(p, int))
            errors.setdefault(name, _problem(error["type"]))
        raise InvalidInput(
            "Some fields are missing or not valid; see the messages beside them.",
            detail={"field": next(iter(errors), ""), "errors": errors},
        ) from None


def error_messages(request: Request, exc: AppError, fields: Iterable[str] = ()) -> dict[str, str]:
    """Field → message in the page language; ``""`` holds the message for the whole form.

    A field the form does not show under that name (``spec.tiers.0``) is shown at the form field
    it starts with (``spec``), when ``fields`` names it."""
    t = translator(request)
    detail = exc.detail if isinstance(exc.detail, dict) else {}
    messages = {"": t(exc.message, **exc.params)}
    named = detail.get("errors")
    found = named if isinstance(named, dict) else {str(detail.get("field") or ""): exc.message}
    for name, message in found.items():
        if not name:
            continue
        key = next((f for f in fields if name == f or name.startswith(f + ".")), name)
        text = t(exc.message, **exc.params) if message == exc.message else t(message)
        messages.setdefault(key, text)
    return messages
