"""A constructed month of complaints (March 2026, Asia/Shanghai) whose indicators are worked out
by hand in ``EXPECTED``. Rows are written through the ORM (complaints and their timelines), not
through the services: the builders are not the thing under test, and every time is chosen.

Squad ZD01 (officers 李明 L, 王芳 W), squad ZD02 (孙丽 S); minutes after receipt in brackets:

- a1 03-02 09:00: dispatched (10) to L+W, arrived (+20 after dispatch), fed back 09:50 before
  its handling deadline 10:10, closed 10:30 (90).
- a2 03-03 09:00: dispatched (20) to L+W, arrived (+10), fed back 10:30 after the deadline 09:50,
  sent back (rework), fed back again 11:00, closed 11:30 (150).
- a3 03-04 09:00: dispatched (30) to L, arrived (+40), still on scene.
- a4 03-05 09:00: transferred (excluded from 结案率).
- a5 03-01 00:30 local (still February in UTC): filed, paused at 00:35 (deferred, 缓办).
- a6 02-27 09:00 (before the period): dispatched in February to W, fed back 03-01 10:00 before
  its deadline 12:00, closed 03-01 11:00 (3,000 minutes after receipt).
- a7 03-31 23:30: closed 04-01 00:10 local (16:10 UTC on 03-31): not closed within the period.
- b1 03-10 09:00 (ZD02): rejected (excluded).
- b2 03-10 10:00 (ZD02): dispatched (5) to S, arrived (+20), fed back with no handling deadline,
  closed 11:00 (60).
- n1 03-12 09:00: in the district but owned by no squad, still received.
- x1 04-02 09:00 (after the period) and y1 in another district: never counted.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from tests import factories
from tests.complaints.world import VENDING, ComplaintWorld, complaint_world
from zhifa.kit.clock import SHANGHAI
from zhifa.models.complaints import (
    Complaint,
    ComplaintEvent,
    ComplaintSource,
    ComplaintStatus,
    HotlineType,
)

START, END = date(2026, 3, 1), date(2026, 3, 31)
_numbers = itertools.count(1)


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A local (Asia/Shanghai) time in 2026."""
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def complaint(
    session: Session,
    world: ComplaintWorld,
    *,
    received: datetime,
    status: ComplaintStatus,
    unit_id: int | None,
    officer_ids: tuple[int, ...] = (),
    steps: tuple[tuple[str, datetime], ...] = (),
    handle_due: datetime | None = None,
    district_code: str | None = None,
) -> Complaint:
    """A complaint with its ``received`` event and one timeline event per step."""
    district = district_code or world.district_code
    row = Complaint(
        district_code=district,
        tracking_no=f"TS202603-K{next(_numbers):05d}",
        token=str(uuid.uuid4()),
        source=ComplaintSource.HOTLINE,
        category_id=world.categories[VENDING].id,
        hotline_type=HotlineType.COMPLAINT,
        description="占道经营",
        address="蜀州中路",
        received_at=received,
        status=status,
        unit_id=unit_id,
        officer_ids=list(officer_ids),
        handle_due=handle_due,
    )
    session.add(row)
    session.flush()
    for kind, when in (("received", received), *steps):
        session.add(
            ComplaintEvent(
                complaint_id=row.id,
                district_code=district,
                kind=kind,
                status=status,
                at=when,
            )
        )
    session.flush()
    return row


@dataclass
class Month:
    world: ComplaintWorld
    squad_a: int
    squad_b: int
    lee: int
    wang: int
    sun: int


def march(session: Session) -> Month:
    """The constructed month (see the module docstring), committed."""
    w = complaint_world(session)
    a, b = w.field.squad.id, w.field.other_squad.id
    lee, wang, sun = w.officer.id, w.second.id, w.field.outsider.id
    S = ComplaintStatus
    complaint(
        session,
        w,
        received=at(3, 2, 9),
        status=S.CLOSED,
        unit_id=a,
        officer_ids=(lee, wang),
        handle_due=at(3, 2, 10, 10),
        steps=(
            ("dispatched", at(3, 2, 9, 10)),
            ("arrived", at(3, 2, 9, 30)),
            ("fed_back", at(3, 2, 9, 50)),
            ("verified", at(3, 2, 10)),
            ("closed", at(3, 2, 10, 30)),
        ),
    )
    complaint(
        session,
        w,
        received=at(3, 3, 9),
        status=S.CLOSED,
        unit_id=a,
        officer_ids=(lee, wang),
        handle_due=at(3, 3, 9, 50),
        steps=(
            ("dispatched", at(3, 3, 9, 20)),
            ("arrived", at(3, 3, 9, 30)),
            ("fed_back", at(3, 3, 10, 30)),
            ("rework", at(3, 3, 10, 40)),
            ("fed_back", at(3, 3, 11)),
            ("verified", at(3, 3, 11, 10)),
            ("closed", at(3, 3, 11, 30)),
        ),
    )
    complaint(
        session,
        w,
        received=at(3, 4, 9),
        status=S.ON_SCENE,
        unit_id=a,
        officer_ids=(lee,),
        handle_due=at(3, 4, 10),
        steps=(("dispatched", at(3, 4, 9, 30)), ("arrived", at(3, 4, 10, 10))),
    )
    complaint(
        session,
        w,
        received=at(3, 5, 9),
        status=S.TRANSFERRED,
        unit_id=a,
        steps=(("transferred", at(3, 5, 9, 1)),),
    )
    complaint(
        session,
        w,
        received=at(3, 1, 0, 30),
        status=S.FILED,
        unit_id=a,
        steps=(("filed", at(3, 1, 0, 31)), ("paused", at(3, 1, 0, 35))),
    )
    complaint(
        session,
        w,
        received=at(2, 27, 9),
        status=S.CLOSED,
        unit_id=a,
        officer_ids=(wang,),
        handle_due=at(3, 1, 12),
        steps=(
            ("dispatched", at(2, 27, 9, 5)),
            ("arrived", at(2, 27, 9, 40)),
            ("fed_back", at(3, 1, 10)),
            ("verified", at(3, 1, 10, 30)),
            ("closed", at(3, 1, 11)),
        ),
    )
    complaint(
        session,
        w,
        received=at(3, 31, 23, 30),
        status=S.CLOSED,
        unit_id=a,
        steps=(("closed", at(4, 1, 0, 10)),),
    )
    complaint(
        session,
        w,
        received=at(3, 10, 9),
        status=S.REJECTED,
        unit_id=b,
        steps=(("rejected", at(3, 10, 9, 5)),),
    )
    complaint(
        session,
        w,
        received=at(3, 10, 10),
        status=S.CLOSED,
        unit_id=b,
        officer_ids=(sun,),
        steps=(
            ("dispatched", at(3, 10, 10, 5)),
            ("arrived", at(3, 10, 10, 25)),
            ("fed_back", at(3, 10, 10, 45)),
            ("verified", at(3, 10, 10, 50)),
            ("closed", at(3, 10, 11)),
        ),
    )
    complaint(session, w, received=at(3, 12, 9), status=S.RECEIVED, unit_id=None)
    complaint(
        session,
        w,
        received=at(4, 2, 9),
        status=S.CLOSED,
        unit_id=a,
        officer_ids=(lee,),
        steps=(("dispatched", at(4, 2, 9, 5)), ("closed", at(4, 2, 10))),
    )
    factories.district(session, "510104", "锦江区（演示）")
    complaint(
        session,
        w,
        received=at(3, 2, 9),
        status=S.CLOSED,
        unit_id=None,
        district_code="510104",
        steps=(("closed", at(3, 2, 9, 30)),),
    )
    session.commit()
    return Month(w, a, b, lee, wang, sun)
