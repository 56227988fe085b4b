"""The command centre's complaint queue (待办队列): the open complaints in the viewer's scope, most
urgent first, with the running SLA clocks the page counts down.

Order: overdue complaints first (a running clock past its deadline), then by the nearest deadline
of a running clock, urgent before normal on a tie, then the oldest first; a complaint whose clocks
are paused, or that has none, comes after every complaint with a deadline ticking. States and
deadlines come from ``complaints.sla`` as of ``now`` (not from the last sweep), so the queue and
the countdowns agree with the SLA rules to the second.

Scope: the complaint's district and its owning squad (``Complaint.unit_id``); a complaint not
routed to a squad yet is seen by district- and city-scoped viewers only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhifa.complaints import sla
from zhifa.models.complaints import (
    Complaint,
    ComplaintCategory,
    ComplaintStatus,
    Priority,
    SlaState,
)
from zhifa.models.org import Unit
from zhifa.org.scope import DataScope

OPEN_STATUSES = tuple(s.value for s in ComplaintStatus if s.is_open)
# Marker and badge colour of each SLA state (the page's palette).
SLA_COLOURS = {
    SlaState.OK: "green",
    SlaState.WARNING: "amber",
    SlaState.OVERDUE: "red",
    SlaState.PAUSED: "grey",
    SlaState.DONE: "grey",
}
QUEUE_LIMIT = 500


@dataclass(frozen=True)
class QueueItem:
    complaint: Complaint
    category_name: str
    unit_name: str
    # The clocks still running (paused ones included), in stage order.
    clocks: list[sla.Clock]
    state: SlaState
    # The nearest deadline of a clock that is ticking (running and not paused).
    next_due: datetime | None

    @property
    def overdue(self) -> bool:
        return self.state is SlaState.OVERDUE

    @property
    def colour(self) -> str:
        return SLA_COLOURS[self.state]

    @property
    def urgent(self) -> bool:
        return Priority(self.complaint.priority) is Priority.URGENT


def _item(complaint: Complaint, category: str, unit: str, now: datetime) -> QueueItem:
    running = [c for c in sla.clocks(complaint, now) if c.running]
    ticking = [c.due for c in running if c.state is not SlaState.PAUSED]
    return QueueItem(
        complaint=complaint,
        category_name=category,
        unit_name=unit,
        clocks=running,
        state=sla.state(complaint, now),
        next_due=min(ticking) if ticking else None,
    )


def sort_key(item: QueueItem) -> tuple[Any, ...]:
    """Overdue first, then the nearest ticking deadline, urgent first, oldest first."""
    c = item.complaint
    return (
        not item.overdue,
        item.next_due is None,
        item.next_due or c.received_at,
        not item.urgent,
        c.received_at,
        c.id,
    )


def open_queue(
    session: Session, scope: DataScope, *, now: datetime, limit: int = QUEUE_LIMIT
) -> list[QueueItem]:
    """The open complaints in ``scope``, most urgent first (see the module docstring)."""
    stmt = (
        select(Complaint, ComplaintCategory.name, Unit.name)
        .join(ComplaintCategory, ComplaintCategory.id == Complaint.category_id)
        .outerjoin(Unit, Unit.id == Complaint.unit_id)
        .where(Complaint.status.in_(OPEN_STATUSES))
    )
    stmt = scope.where_unit(scope.where_district(stmt, Complaint.district_code), Complaint.unit_id)
    rows = session.execute(stmt.order_by(Complaint.received_at, Complaint.id))
    items = [_item(c, category, unit or "", now) for c, category, unit in rows]
    return sorted(items, key=sort_key)[:limit]


def count_by_state(items: list[QueueItem]) -> dict[str, int]:
    """How many open complaints are in each SLA state, and in all (``total``)."""
    counts = {state.value: 0 for state in SlaState} | {"total": len(items)}
    for item in items:
        counts[item.state.value] += 1
    return counts
