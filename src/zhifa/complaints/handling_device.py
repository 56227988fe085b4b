"""The officer's device steps of the handling loop: 接单, 拒单, 到场, 处置, 反馈.

Each is applied exactly once per ``client_uuid`` (``inspections.common.once``: a repeat gets the
kept reply, other content under the UUID is 409) and only by an officer the complaint was
dispatched to (403 for another). Arrival is geofenced; a disposal is a quick record with the
officers' photos or the submitted inspection of the complaint's task, and on-site enforcement
needs two officers (行政处罚法 art. 42). Exported through ``complaints.handling``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhifa.complaints import workflow
from zhifa.complaints.handling_base import (
    S,
    Step,
    assigned,
    check_status,
    commit_officers,
    device_once,
    free_officers,
    required,
    step_reply,
)
from zhifa.config import get_settings
from zhifa.errors import Conflict, InvalidInput
from zhifa.inspections.common import Reply, aware
from zhifa.kit.clock import utcnow
from zhifa.kit.geo import haversine_m
from zhifa.models.complaints import Complaint, ComplaintMedia, DisposalMeasure, MediaRole
from zhifa.models.dispatch import DutyStatus
from zhifa.models.inspections import Inspection, InspectionStatus
from zhifa.org.actor import Actor

N_ = workflow.N_
ARRIVED_NOTE = "执法队员已到达现场。"
# Disposals that are on-site enforcement (art. 42: two officers).
ENFORCEMENT_MEASURES = frozenset({DisposalMeasure.ORDERED_CORRECTION})
OFFICER_PHOTO_ROLES = frozenset({MediaRole.BEFORE, MediaRole.AFTER, MediaRole.VERIFY})


def take(
    session: Session, actor: Actor, *, complaint_id: int, client_uuid: str, locale: str = ""
) -> Reply:
    """接单: the officers are on their way."""

    def apply() -> Reply:
        complaint = assigned(session, actor, complaint_id)
        check_status(complaint, frozenset({S.DISPATCHED}), "take")
        commit_officers(
            session, complaint, complaint.officer_ids, actor.officer_id, DutyStatus.EN_ROUTE
        )
        event = workflow.advance(
            session,
            complaint,
            "taken",
            actor_id=actor.officer_id,
            data={"officer_id": actor.officer_id},
        )
        return step_reply(Step(complaint, event), locale)

    return device_once(session, actor, client_uuid, "complaint.take", complaint_id, {}, apply)


def decline(
    session: Session,
    actor: Actor,
    *,
    complaint_id: int,
    client_uuid: str,
    reason: str,
    locale: str = "",
) -> Reply:
    """拒单 with a reason: back to 立案 for the dispatcher, the officers released."""

    def apply() -> Reply:
        complaint = assigned(session, actor, complaint_id)
        text = required(reason, "reason", N_("Give the reason for declining the complaint."))
        released = list(complaint.officer_ids or [])
        check_status(complaint, frozenset({S.DISPATCHED, S.TAKEN}), "decline")
        free_officers(session, released, actor.officer_id)
        complaint.officer_ids = []
        event = workflow.advance(
            session,
            complaint,
            "declined",
            actor_id=actor.officer_id,
            public=False,
            data={"officer_id": actor.officer_id, "reason": text, "released": released},
        )
        return step_reply(Step(complaint, event), locale)

    return device_once(
        session, actor, client_uuid, "complaint.decline", complaint_id, {"reason": reason}, apply
    )


def arrive(
    session: Session,
    actor: Actor,
    *,
    complaint_id: int,
    client_uuid: str,
    lon: float,
    lat: float,
    accuracy_m: float,
    device_time: datetime,
    locale: str = "",
) -> Reply:
    """到场, geofenced: the fix must be within the arrival radius (plus its accuracy, capped) of
    the complaint's point; a complaint without a point accepts any fix."""
    request = {"lon": lon, "lat": lat, "accuracy_m": accuracy_m, "device_time": device_time}

    def apply() -> Reply:
        complaint = assigned(session, actor, complaint_id)
        check_status(complaint, frozenset({S.TAKEN}), "arrive")
        distance = _check_arrival(complaint, lon, lat, accuracy_m)
        _record_fix(session, actor, lon, lat, accuracy_m, device_time)
        commit_officers(
            session, complaint, complaint.officer_ids, actor.officer_id, DutyStatus.ON_SCENE
        )
        data: dict[str, Any] = {
            "officer_id": actor.officer_id,
            "lon": lon,
            "lat": lat,
            "accuracy_m": accuracy_m,
            "device_time": aware(device_time).isoformat(),
            "distance_m": None if distance is None else round(distance, 1),
        }
        event = workflow.advance(
            session, complaint, "arrived", actor_id=actor.officer_id, note=ARRIVED_NOTE, data=data
        )
        return step_reply(Step(complaint, event), locale)

    return device_once(
        session, actor, client_uuid, "complaint.arrive", complaint_id, request, apply
    )


def _check_arrival(complaint: Complaint, lon: float, lat: float, accuracy_m: float) -> float | None:
    if complaint.lon is None or complaint.lat is None:
        return None
    settings = get_settings()
    distance = haversine_m(lon, lat, complaint.lon, complaint.lat)
    allowed = settings.complaint_arrival_radius_m + min(accuracy_m, settings.checkin_max_accuracy_m)
    if distance > allowed:
        raise InvalidInput(
            "You are about {distance} m from the complaint's location: not on scene yet.",
            detail={
                "field": "lon",
                "distance_m": round(distance, 1),
                "allowed_m": round(allowed, 1),
            },
            error_code="not_on_scene",
            distance=about(distance),
        )
    return distance


def about(distance_m: float) -> int:
    """A distance as a person says it: to 10 m (to the metre below 100 m)."""
    return round(distance_m) if distance_m < 100 else int(round(distance_m / 10) * 10)


def _record_fix(
    session: Session,
    actor: Actor,
    lon: float,
    lat: float,
    accuracy_m: float,
    device_time: datetime,
) -> None:
    """The arrival fix is also a position of the officer's track (``dispatch.live``); a device
    clock a little ahead counts as now, and a fix too old for the track is left out of it."""
    from zhifa.dispatch import live
    from zhifa.dispatch.schemas import FixIn

    now = utcnow()
    fix_at = min(aware(device_time), now)
    if fix_at < now - live.MAX_FIX_AGE:
        return
    fix = FixIn(lon=lon, lat=lat, accuracy_m=accuracy_m, fix_at=fix_at)
    live.record_fixes(session, actor, [fix], now=now)


def dispose(
    session: Session,
    actor: Actor,
    *,
    complaint_id: int,
    client_uuid: str,
    measure: DisposalMeasure | None,
    note: str = "",
    media_ids: Sequence[int] = (),
    locale: str = "",
) -> Reply:
    """处置: a quick disposal record with photos, or the submitted inspection of the task."""
    request = {
        "measure": None if measure is None else str(measure),
        "note": note,
        "media_ids": list(media_ids),
    }

    def apply() -> Reply:
        complaint = assigned(session, actor, complaint_id)
        check_status(complaint, frozenset({S.ON_SCENE}), "dispose")
        data = _disposal(session, complaint, measure, note, media_ids)
        commit_officers(
            session, complaint, complaint.officer_ids, actor.officer_id, DutyStatus.HANDLING
        )
        event = workflow.advance(
            session, complaint, "disposed", actor_id=actor.officer_id, data=data
        )
        return step_reply(Step(complaint, event), locale)

    return device_once(
        session, actor, client_uuid, "complaint.dispose", complaint_id, request, apply
    )


def _disposal(
    session: Session,
    complaint: Complaint,
    measure: DisposalMeasure | None,
    note: str,
    media_ids: Sequence[int],
) -> dict[str, Any]:
    data: dict[str, Any] = {"officer_ids": list(complaint.officer_ids or [])}
    data |= {"note": note.strip()} if note.strip() else {}
    if complaint.task_id is not None:
        data["inspection_id"] = _submitted_inspection(session, complaint)
        _check_two_officers(complaint)
        photos = _photos(session, complaint, media_ids, measure=None) if media_ids else []
    elif measure is None:
        raise InvalidInput("Choose the disposal measure.", detail={"field": "measure"})
    else:
        if measure in ENFORCEMENT_MEASURES:
            _check_two_officers(complaint)
        photos = _photos(session, complaint, media_ids, measure=measure)
    if measure is not None:
        data["measure"] = str(measure)
    data["media_ids"] = [p.id for p in photos]
    data["media_sha256"] = [p.sha256 for p in photos]
    return data


def _submitted_inspection(session: Session, complaint: Complaint) -> int:
    inspection = session.scalars(
        select(Inspection).where(Inspection.task_id == complaint.task_id)
    ).one_or_none()
    if inspection is None or inspection.status != InspectionStatus.SUBMITTED:
        raise Conflict(
            "This complaint is handled by inspection task {task_id}: submit the inspection first.",
            detail={"task_id": complaint.task_id},
            error_code="inspection_not_submitted",
            task_id=complaint.task_id,
        )
    return inspection.id


def _check_two_officers(complaint: Complaint) -> None:
    if len(complaint.officer_ids or []) < 2:
        raise Conflict(
            "On-site enforcement needs at least two officers (Administrative Penalty Law art. "
            "42); ask the command centre to send a second officer.",
            detail={"officer_ids": list(complaint.officer_ids or [])},
            error_code="second_officer_needed",
        )


def _photos(
    session: Session,
    complaint: Complaint,
    media_ids: Sequence[int],
    *,
    measure: DisposalMeasure | None,
) -> list[ComplaintMedia]:
    """The officers' photos of this complaint named by ``media_ids``: at least one ``after``
    photo, or for 现场未发现 one photo of the scene of any role (none needed without a
    ``measure``: the inspection holds the evidence)."""
    wanted = list(dict.fromkeys(media_ids))
    rows = (
        session.scalars(
            select(ComplaintMedia).where(
                ComplaintMedia.id.in_(wanted), ComplaintMedia.complaint_id == complaint.id
            )
        ).all()
        if wanted
        else []
    )
    found = {m.id: m for m in rows if MediaRole(m.role) in OFFICER_PHOTO_ROLES}
    for media_id in wanted:
        if media_id not in found:
            raise InvalidInput(
                "Photo {media_id} is not an officer's photo of this complaint.",
                detail={"field": "media_ids", "media_id": media_id},
                media_id=media_id,
            )
    photos = [found[i] for i in wanted]
    if measure is None:
        return photos
    if measure == DisposalMeasure.NOT_FOUND:
        if not photos:
            raise InvalidInput(
                "Attach a photo of the scene showing that nothing was found.",
                detail={"field": "media_ids"},
            )
    elif not any(p.role == MediaRole.AFTER for p in photos):
        raise InvalidInput(
            "Attach at least one photo taken after the handling.", detail={"field": "media_ids"}
        )
    return photos


def feed_back(
    session: Session,
    actor: Actor,
    *,
    complaint_id: int,
    client_uuid: str,
    result: str,
    locale: str = "",
) -> Reply:
    """反馈: the officer's report, which becomes the draft answer; the officers are released."""

    def apply() -> Reply:
        complaint = assigned(session, actor, complaint_id)
        text = required(result, "result", N_("Describe the result of the handling."))
        check_status(complaint, frozenset({S.DISPOSED}), "feedback")
        complaint.answer = text
        free_officers(session, list(complaint.officer_ids or []), actor.officer_id)
        event = workflow.advance(
            session,
            complaint,
            "fed_back",
            actor_id=actor.officer_id,
            note=f"已处置：{text}",
            data={"result": text, "officer_id": actor.officer_id},
        )
        return step_reply(Step(complaint, event), locale)

    return device_once(
        session, actor, client_uuid, "complaint.feedback", complaint_id, {"result": result}, apply
    )
