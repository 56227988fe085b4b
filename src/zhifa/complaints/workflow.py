"""The complaint state machine: which step may follow which, and what every step leaves behind.

``advance(session, complaint, kind, ...)`` is the only way a complaint changes status or records a
step. In the caller's transaction it:

1. refuses a step the current status does not allow (409, in words a dispatcher understands);
2. sets the new status and the step's time column (``TIME_COLUMNS``);
3. appends one ``ComplaintEvent`` (the timeline; ``public`` steps are what the citizen and Open311
   ``servicerequestupdates`` see);
4. lets the SLA clocks react (``complaints.sla.on_event``: start, stop, pause, move deadlines);
5. records one ledger event ``complaint.<kind>`` with the complaint's state and the step's data;
6. queues the step for the originating platform (``integrations.outbox.on_event``) when public;
7. announces it on the event bus (topic ``complaint``) once the transaction commits.

Invariant: the reporter's identity never enters ``data``, the ledger payload or the bus.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from zhifa import ledger
from zhifa.errors import Conflict
from zhifa.kit.clock import utcnow
from zhifa.kit.events import publish_after_commit
from zhifa.models.complaints import Complaint, ComplaintEvent, ComplaintStatus

S = ComplaintStatus
OPEN = frozenset(s for s in ComplaintStatus if s.is_open)
ANY = frozenset(ComplaintStatus)

# kind → (statuses it may follow, the status it leads to; None keeps the status).
TRANSITIONS: Mapping[str, tuple[frozenset[ComplaintStatus], ComplaintStatus | None]] = {
    "received": (frozenset(), S.RECEIVED),  # creation only
    "filed": (frozenset({S.RECEIVED}), S.FILED),
    "rejected": (frozenset({S.RECEIVED}), S.REJECTED),
    "transferred": (frozenset({S.RECEIVED, S.FILED}), S.TRANSFERRED),
    "merged": (frozenset({S.RECEIVED, S.FILED}), S.MERGED),
    "dispatched": (frozenset({S.FILED, S.DISPATCHED, S.TAKEN}), S.DISPATCHED),
    "taken": (frozenset({S.DISPATCHED}), S.TAKEN),
    "declined": (frozenset({S.DISPATCHED, S.TAKEN}), S.FILED),
    "arrived": (frozenset({S.TAKEN}), S.ON_SCENE),
    "disposed": (frozenset({S.ON_SCENE}), S.DISPOSED),
    "fed_back": (frozenset({S.DISPOSED}), S.FED_BACK),
    "verified": (frozenset({S.FED_BACK}), None),
    "rework": (frozenset({S.FED_BACK}), S.DISPATCHED),
    # From FED_BACK after verification; from RECEIVED / FILED for an answer given directly
    # (咨询, 意见建议), which ``complaints.handling`` allows only for those types.
    "closed": (frozenset({S.RECEIVED, S.FILED, S.FED_BACK}), S.CLOSED),
    "rated": (frozenset({S.CLOSED}), None),
    "paused": (OPEN, None),
    "resumed": (OPEN, None),
    "extension_requested": (OPEN, None),
    "extended": (OPEN, None),
    "extension_refused": (OPEN, None),
    "escalated": (OPEN, None),
    "note": (ANY, None),
    "media_added": (ANY, None),
    "reporter_revealed": (ANY, None),
}

# kind → the complaint column that records when it happened.
TIME_COLUMNS: Mapping[str, str] = {
    "received": "received_at",
    "filed": "filed_at",
    "dispatched": "dispatched_at",
    "taken": "taken_at",
    "arrived": "arrived_at",
    "disposed": "disposed_at",
    "fed_back": "fed_back_at",
    "verified": "verified_at",
    "closed": "closed_at",
    "rated": "rated_at",
}

# A rework sends the complaint back to the dispatched officers: the later steps happen again.
REWORK_CLEARS = ("taken_at", "arrived_at", "disposed_at", "fed_back_at", "verified_at")

# Steps the citizen sees on the status page and Open311 publishes as updates.
PUBLIC_KINDS = frozenset(
    {
        "received",
        "filed",
        "rejected",
        "transferred",
        "merged",
        "dispatched",
        "arrived",
        "fed_back",
        "closed",
    }
)

BUS_TOPIC = "complaint"


def N_(message: str) -> str:
    """Mark ``message`` for the translation catalog; it is translated where it is shown."""
    return message


STEP_REFUSED = N_(
    "This complaint's current status does not allow this step. Reload the page to see where it "
    "stands now."
)


def allowed(complaint: Complaint, kind: str) -> bool:
    sources, _ = TRANSITIONS[kind]
    return ComplaintStatus(complaint.status) in sources


def advance(
    session: Session,
    complaint: Complaint,
    kind: str,
    *,
    actor_id: int | None,
    at: datetime | None = None,
    public: bool | None = None,
    note: str = "",
    data: dict[str, Any] | None = None,
) -> ComplaintEvent:
    """Take step ``kind`` on ``complaint`` (see the module docstring). ``public`` defaults to
    whether the kind is in ``PUBLIC_KINDS``; ``note`` is the public wording of the step."""
    from zhifa.complaints import sla
    from zhifa.integrations import outbox

    if kind not in TRANSITIONS:
        raise ValueError(f"unknown complaint step {kind!r}")
    sources, target = TRANSITIONS[kind]
    when = at or utcnow()
    if kind != "received" and ComplaintStatus(complaint.status) not in sources:
        raise Conflict(
            STEP_REFUSED,
            detail={"status": str(complaint.status), "step": kind},
            error_code="step_not_allowed",
        )
    if target is not None:
        complaint.status = target
    column = TIME_COLUMNS.get(kind)
    if column is not None:
        setattr(complaint, column, when)
    if kind == "rework":
        for cleared in REWORK_CLEARS:
            setattr(complaint, cleared, None)
        complaint.rework_count = (complaint.rework_count or 0) + 1
    if complaint.id is None:
        session.add(complaint)
        session.flush()
    event = ComplaintEvent(
        complaint_id=complaint.id,
        district_code=complaint.district_code,
        kind=kind,
        status=complaint.status,
        at=when,
        actor_id=actor_id,
        public=kind in PUBLIC_KINDS if public is None else public,
        note=note,
        data=dict(data or {}),
    )
    session.add(event)
    session.flush()
    sla.on_event(session, complaint, event)
    ledger.record(
        session,
        f"complaint.{kind}",
        complaint,
        {
            "tracking_no": complaint.tracking_no,
            "step": kind,
            "status": str(complaint.status),
            "event_id": event.id,
            "at": when,
            "public": event.public,
            "note": note,
            "data": event.data,
        },
        actor_id=actor_id,
        district_code=complaint.district_code,
        evidence=tuple(str(d) for d in event.data.get("media_sha256", ())),
    )
    if event.public:
        outbox.on_event(session, complaint, event)
    publish_after_commit(
        session, BUS_TOPIC, bus_data(complaint, event), district_code=complaint.district_code
    )
    return event


def bus_data(complaint: Complaint, event: ComplaintEvent) -> dict[str, Any]:
    """What the command centre and the officers' devices hear about a step (no reporter data)."""
    return {
        "complaint_id": complaint.id,
        "tracking_no": complaint.tracking_no,
        "step": event.kind,
        "event_id": event.id,
        "status": str(complaint.status),
        "category_id": complaint.category_id,
        "priority": str(complaint.priority),
        "unit_id": complaint.unit_id,
        "officer_ids": list(complaint.officer_ids or []),
        "lon": complaint.lon,
        "lat": complaint.lat,
        "address": complaint.address,
        "sla_state": str(complaint.sla_state),
        "at": event.at.isoformat(),
    }
