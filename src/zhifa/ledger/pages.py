"""The audit page (``/audit``): the latest checkpoint, the witnesses, a subject's event chain and a
verify-a-record button. For holders of ``audit:read`` (auditors, leaders, system admins).

Invariants:
- Only entries of districts in the actor's data scope are shown or verified; any other entry is
  "not found" (404), like every row outside the scope.
- "Verify" checks what an outside auditor would: the leaf hash recomputed from the stored bytes,
  its inclusion proof against the root *in the signed note* of the latest checkpoint (not a root
  column someone could edit), and the note's signature with the log's verifier key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from zhifa.config import Settings
from zhifa.errors import NotFound
from zhifa.ledger import checkpoints, kinds, merkle, note, repository, store
from zhifa.ledger.schemas import b64
from zhifa.models.ledger import LedgerEvent
from zhifa.org.actor import Actor
from zhifa.org.auth import AuditRead, DbSession
from zhifa.web.errors import is_htmx
from zhifa.web.templating import render

router = APIRouter(include_in_schema=False)

# The subjects people search for, by the table name the log records; any other type may be typed.
SUBJECT_TYPES = (
    ("officer", kinds.N_("Officer")),
    ("unit", kinds.N_("Unit")),
    ("grid", kinds.N_("Grid")),
    ("department", kinds.N_("Department")),
    ("district", kinds.N_("District")),
    ("api_token", kinds.N_("API token")),
    ("login_attempt", kinds.N_("Login attempt")),
)
# Payload keys shown elsewhere on the row (the snapshot at commit, the channel of the change).
HIDDEN_KEYS = frozenset({"state", "changes"})
MAX_CHAIN = 500


@dataclass(frozen=True)
class Change:
    field: str
    before: str | None
    after: str


@dataclass(frozen=True)
class ChainRow:
    entry: LedgerEvent
    actor_name: str | None
    time: datetime
    changes: list[Change] = field(default_factory=list)
    state: str = ""


@dataclass(frozen=True)
class WitnessRow:
    name: str
    key: str
    last_size: int | None = None
    last_time: datetime | None = None


def _shown(value: Any) -> str:
    """A payload value as a person reads it (lists joined, nothing as a dash)."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return "、".join(_shown(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def readable_changes(payload: dict[str, Any]) -> list[Change]:
    """Before → after for each changed field, then the event's other facts (name, reason …)."""
    rows = [
        Change(name, _shown(diff.get("before")), _shown(diff.get("after")))
        for name, diff in sorted(payload.get("changes", {}).items())
        if isinstance(diff, dict)
    ]
    facts = sorted((k, v) for k, v in payload.items() if k not in HIDDEN_KEYS)
    return rows + [Change(name, None, _shown(value)) for name, value in facts]


def _chain(session: Session, actor: Actor, subject_type: str, subject_id: str) -> list[ChainRow]:
    found = repository.subject_chain(
        session, actor.scope, subject_type, subject_id, limit=MAX_CHAIN
    )
    return [_chain_row(entry, name) for entry, name in found]


def _chain_row(entry: LedgerEvent, actor_name: str | None) -> ChainRow:
    state = entry.payload.get("state")
    return ChainRow(
        entry=entry,
        actor_name=actor_name,
        time=datetime.fromtimestamp(entry.time_ms / 1000, UTC),
        changes=readable_changes(entry.payload),
        state=json.dumps(state, ensure_ascii=False, indent=1, sort_keys=True) if state else "",
    )


def _witnesses(session: Session, keys: list[str]) -> list[WitnessRow]:
    rows = []
    for key in keys:
        name = key.split("+", 1)[0]
        last = checkpoints.last_cosignature_of(session, name)
        if last is None:
            rows.append(WitnessRow(name, key))
        else:
            when = datetime.fromtimestamp(last.timestamp, UTC)
            rows.append(WitnessRow(name, key, last.size, when))
    return rows


def _checkpoint_context(session: Session) -> dict[str, Any]:
    latest = checkpoints.latest(session)
    if latest is None:
        return {"checkpoint": None}
    return {
        "checkpoint": latest,
        "checkpoint_root": b64(bytes(latest.root)),
        "checkpoint_note": checkpoints.published_note(session, latest),
    }


@router.get("/audit")
def show_audit(
    request: Request,
    session: DbSession,
    actor: AuditRead,
    subject_type: str = "",
    subject_id: str = "",
) -> Response:
    subject_type, subject_id = subject_type.strip()[:40], subject_id.strip()[:64]
    searched = bool(subject_type and subject_id)
    settings = request.app.state.settings
    ctx = {
        **_checkpoint_context(session),
        "log_size": store.size(session),
        "witnesses": _witnesses(session, settings.ledger_witnesses),
        "subject_types": SUBJECT_TYPES,
        "subject_type": subject_type or "officer",
        "subject_id": subject_id,
        "searched": searched,
        "chain": _chain(session, actor, subject_type, subject_id) if searched else [],
    }
    return render(request, "ledger/audit.html", ctx)


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking one entry against the latest checkpoint."""

    ok: bool
    index: int
    message: str = ""  # why it failed, or why it cannot be checked yet
    reason: str = ""  # the technical reason (ProofError, NoteError), shown as is
    size: int | None = None
    root: str = ""
    proof_length: int = 0


def verify_entry(session: Session, settings: Settings, entry: LedgerEvent) -> Verdict:
    """Check ``entry``'s inclusion in the latest signed checkpoint, as an outside auditor would."""
    index = entry.seq
    latest = checkpoints.latest(session)
    if latest is None:
        return Verdict(False, index, kinds.N_("No checkpoint has been signed yet."))
    if index >= latest.size:
        return Verdict(
            False,
            index,
            kinds.N_(
                "This record is newer than the latest checkpoint; the next one will cover it."
            ),
            size=latest.size,
        )
    try:
        signed = _signed_checkpoint(settings, latest.note)
        proof = store.inclusion_proof(session, index, signed.size)
        leaf = merkle.leaf_hash(bytes(entry.body))
        merkle.verify_inclusion(leaf, index, signed.size, proof, signed.root)
    except (merkle.ProofError, note.NoteError, LookupError) as exc:
        return Verdict(False, index, kinds.N_("Verification failed."), str(exc), latest.size)
    return Verdict(True, index, size=signed.size, root=b64(signed.root), proof_length=len(proof))


def _signed_checkpoint(settings: Settings, text: str) -> note.Checkpoint:
    """The checkpoint body of ``text``, its signature checked when the verifier key is known."""
    keys = checkpoints.load_keys(settings)
    if keys is None:
        body, _ = note.parse_note(text)
    else:
        body, _ = note.open_note(text, [keys.verifier_key])
    return note.Checkpoint.parse_body(body)


@router.get("/audit/verify/{index}")
def verify_record(
    request: Request, session: DbSession, actor: AuditRead, index: Annotated[int, Path(ge=0)]
) -> Response:
    entry = store.entry(session, index)
    if entry is None or not actor.scope.allows_district(entry.district_code or ""):
        raise NotFound("The log has no entry {index}.", index=index)
    verdict = verify_entry(session, request.app.state.settings, entry)
    template = "ledger/_verdict.html" if is_htmx(request) else "ledger/verdict.html"
    return render(request, template, {"verdict": verdict, "entry": entry})
