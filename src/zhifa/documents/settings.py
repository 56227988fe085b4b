"""A district's document numbering rule (文号规则): agency, 文种代字 per type, pattern, padding.

``{agency}{code}〔{year}〕第{serial}号`` gives 崇综执罚当字〔2026〕第12号. The codes are [M]
defaults (local practice, law-and-procedure.md §6.3), configurable per district.

Invariants: a pattern names ``{code}``, ``{year}`` and ``{serial}`` (numbers are counted per type
and year, so a pattern without them would print the same text twice) and no other placeholder
than ``{agency}``; every document type has a code. A change is one ``document.settings.changed``
event with the fields before and after. Numbers already handed out keep the text they were given.
"""

from __future__ import annotations

import string
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhifa import ledger
from zhifa.documents.schemas import SettingsIn, SettingsRead
from zhifa.errors import Conflict, InvalidInput, NotFound
from zhifa.kit.clock import today_local
from zhifa.models.documents import DocumentSettings, DocumentType
from zhifa.models.org import District
from zhifa.org.actor import Actor

DEFAULT_CODES: dict[str, str] = {
    DocumentType.ON_SPOT_PENALTY: "罚当字",
    DocumentType.RECTIFICATION_NOTICE: "责改字",
    DocumentType.INSPECTION_RECORD: "检字",
    DocumentType.SERVICE_RECEIPT: "送字",
}
DEFAULT_PATTERN = "{agency}{code}〔{year}〕第{serial}号"
PLACEHOLDERS = frozenset({"agency", "code", "year", "serial"})
REQUIRED = ("code", "year", "serial")
FIELDS = ("agency_name", "agency_short", "codes", "pattern", "width")


def for_district(session: Session, district_code: str) -> DocumentSettings | None:
    stmt = select(DocumentSettings).where(DocumentSettings.district_code == district_code)
    return session.scalar(stmt)


def required(session: Session, district_code: str) -> DocumentSettings:
    """The district's rule; a 409 telling whom to ask when it was never set."""
    row = for_district(session, district_code)
    if row is None:
        raise Conflict(
            "Document numbering is not set up for this district yet; an administrator must "
            "save the numbering rule first.",
            error_code="numbering_not_configured",
        )
    return row


def format_number(
    row: DocumentSettings, doc_type: DocumentType | str, year: int, serial: int
) -> str:
    code = str(row.codes.get(str(doc_type), ""))
    return row.pattern.format(
        agency=row.agency_short, code=code, year=year, serial=str(serial).zfill(row.width)
    )


def check_pattern(pattern: str) -> None:
    """Refuse a pattern that is not a format string of the known placeholders with the needed
    ones (422, naming the problem)."""
    try:
        parts = [(name, spec or conv) for _, name, spec, conv in string.Formatter().parse(pattern)]
    except ValueError:
        raise InvalidInput(
            "The pattern has an unmatched brace; write placeholders as {serial}.",
            detail={"field": "pattern"},
        ) from None
    names = [name for name, _ in parts if name is not None]
    unknown = sorted(set(names) - PLACEHOLDERS)
    if unknown or "" in names or any(extra for name, extra in parts if name):
        raise InvalidInput(
            "The pattern may only use the placeholders {known}; found {found}.",
            detail={"field": "pattern"},
            known="{agency} {code} {year} {serial}",
            found=", ".join("{" + n + "}" for n in unknown) or pattern,
        )
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise InvalidInput(
            "The pattern must contain {missing}: numbers are counted per document type and year.",
            detail={"field": "pattern", "missing": missing},
            missing=", ".join("{" + n + "}" for n in missing),
        )


def check_codes(codes: dict[str, str]) -> dict[str, str]:
    known = {str(t) for t in DocumentType}
    unknown = sorted(set(codes) - known)
    if unknown:
        raise InvalidInput(
            "Unknown document types in the codes: {types}.",
            detail={"field": "codes"},
            types=", ".join(unknown),
        )
    cleaned = {key: value.strip() for key, value in codes.items()}
    bad = sorted(t for t in known if not _good_code(cleaned.get(t, "")))
    if bad:
        raise InvalidInput(
            "Every document type needs a code of 1 to 20 characters without braces; "
            "missing or not valid: {types}.",
            detail={"field": "codes", "types": bad},
            types=", ".join(bad),
        )
    return {t: cleaned[t] for t in sorted(known)}


def _good_code(code: str) -> bool:
    return 0 < len(code) <= 20 and "{" not in code and "}" not in code


def _district(session: Session, code: str) -> District:
    row = session.get(District, code)
    if row is None:
        raise NotFound("District {code} does not exist.", code=code)
    return row


def _examples(row: DocumentSettings) -> dict[str, str]:
    year = today_local().year
    return {str(t): format_number(row, t, year, 1) for t in DocumentType}


def read(session: Session, district_code: str) -> SettingsRead:
    row = for_district(session, district_code)
    configured = row is not None
    if row is None:
        row = default_row(session, district_code, agency_short="")
    return SettingsRead(
        district_code=district_code,
        configured=configured,
        agency_name=row.agency_name,
        agency_short=row.agency_short,
        codes=dict(row.codes),
        pattern=row.pattern,
        width=row.width,
        examples=_examples(row),
    )


def default_row(session: Session, district_code: str, *, agency_short: str) -> DocumentSettings:
    """The defaults (not added to the session): the district's bureau name, the [M] codes."""
    district = _district(session, district_code)
    return DocumentSettings(
        district_code=district_code,
        agency_name=district.bureau_name or district.name,
        agency_short=agency_short,
        codes=dict(DEFAULT_CODES),
        pattern=DEFAULT_PATTERN,
        width=0,
    )


class SettingsService:
    def get(self, session: Session, actor: Actor) -> SettingsRead:
        return read(session, actor.district_code)

    def put(self, session: Session, actor: Actor, *, data: SettingsIn) -> DocumentSettings:
        """Save the actor's district rule (created on first save), ledgered with its changes."""
        check_pattern(data.pattern)
        values: dict[str, Any] = {
            "agency_name": data.agency_name.strip(),
            "agency_short": data.agency_short.strip(),
            "codes": check_codes(data.codes),
            "pattern": data.pattern,
            "width": data.width,
        }
        if not values["agency_name"] or not values["agency_short"]:
            raise InvalidInput(
                "The agency name and its short form cannot be blank.",
                detail={"field": "agency_short"},
            )
        row = for_district(session, actor.district_code)
        created = row is None
        if row is None:
            row = DocumentSettings(district_code=actor.district_code, **values)
            session.add(row)
            changes = {k: {"before": None, "after": v} for k, v in values.items()}
        else:
            changes = _apply(row, values)
        if changes:
            ledger.record(
                session,
                "document.settings.changed",
                row,
                {"created": created, "changes": changes},
                actor_id=actor.officer_id,
                district_code=actor.district_code,
            )
        session.flush()
        return row


def _apply(row: DocumentSettings, values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    changes: dict[str, dict[str, Any]] = {}
    for name, value in values.items():
        before = getattr(row, name)
        if before != value:
            changes[name] = {"before": before, "after": value}
            setattr(row, name, value)
    return changes


def ensure(
    session: Session, district_code: str, *, agency_short: str, via: str = "demo"
) -> DocumentSettings | None:
    """Create the district's rule with the defaults if it has none (the demo, a new district);
    None when it already had one."""
    if for_district(session, district_code) is not None:
        return None
    row = default_row(session, district_code, agency_short=agency_short)
    session.add(row)
    session.flush()
    values = {name: getattr(row, name) for name in FIELDS}
    ledger.record(
        session,
        "document.settings.changed",
        row,
        {
            "created": True,
            "via": via,
            "changes": {k: {"before": None, "after": v} for k, v in values.items()},
        },
        actor_id=None,
        district_code=district_code,
    )
    return row


settings_service = SettingsService()
