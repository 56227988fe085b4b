"""A submitted inspection of the field world, ready for documents, written through the ORM.

On top of ``tests.field.field_world``: the district's numbering rule (崇综执), both officers checked
in, one photo, and the café's inspection submitted with

- ``WB-01`` 不合格, 责令改正 (power ``WB-MINORS``), deadline in a week;
- ``WB-02`` 不合格, 当场处罚 (power ``WB-LICENCE``), 2,000 yuan for the organisation;
- ``WB-03`` 不适用 with a reason.

Rows are written as the inspection service would, without its ledger events (another part of the
product writes that service; these tests must not depend on it).
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from PIL import Image, ImageDraw
from sqlalchemy.orm import Session

from tests.field import DISTRICT, LICENCE, MINORS, FieldWorld, field_world
from zhifa.catalog import assembly
from zhifa.documents import settings as numbering_settings
from zhifa.kit.clock import today_local, utcnow
from zhifa.models.inspections import (
    AnswerResult,
    Blob,
    CheckIn,
    CheckInOutcome,
    Evidence,
    EvidenceKind,
    Inspection,
    InspectionAnswer,
    InspectionStatus,
    Measure,
    TaskStatus,
)
from zhifa.models.org import Officer
from zhifa.org.actor import Actor
from zhifa.org.credentials import actor_for

__all__ = ["DISTRICT", "DocWorld", "actor", "body", "data_url", "png", "submitted_world"]

FINE_FEN = 200_000


@dataclass
class DocWorld:
    field: FieldWorld
    inspection: Inspection

    @property
    def task_id(self) -> int:
        return self.field.task.id


def png(seed: int = 0, size: tuple[int, int] = (240, 90)) -> bytes:
    """A small signature-like PNG (a different stroke per seed)."""
    image = Image.new("RGBA", size, (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.line([(10, 60), (60 + seed * 7, 20), (120, 70), (220, 25 + seed)], fill="black", width=4)
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def data_url(raw: bytes) -> str:
    import base64

    return "data:image/png;base64," + base64.b64encode(raw).decode()


def actor(session: Session, officer: Officer) -> Actor:
    return actor_for(session, officer, via="token")


def _check_in(session: Session, w: FieldWorld, officer: Officer, minutes_ago: int) -> None:
    now = utcnow()
    session.add(
        CheckIn(
            district_code=DISTRICT,
            task_id=w.task.id,
            officer_id=officer.id,
            lon=w.cafe.lon or 0.0,
            lat=w.cafe.lat or 0.0,
            accuracy_m=8.0,
            device_time=now - timedelta(minutes=minutes_ago),
            server_time=now - timedelta(minutes=minutes_ago),
            outcome=CheckInOutcome.ACCEPTED,
        )
    )


def submitted_world(
    session: Session,
    *,
    configure: bool = True,
    submit: bool = True,
    penalty: dict[str, Any] | None = None,
) -> DocWorld:
    """The world above; ``penalty`` replaces keys of WB-02's penalty record (answers are final
    once submitted, so a test chooses them here)."""
    w = field_world(session)
    if configure:
        numbering_settings.ensure(session, DISTRICT, agency_short="崇综执", via="test")
    _check_in(session, w, w.officer, 50)
    _check_in(session, w, w.second, 48)
    today = today_local()
    checklist = assembly.for_subject_type(session, DISTRICT, "internet_cafe", on=today)
    inspection = Inspection(
        district_code=DISTRICT,
        task_id=w.task.id,
        subject_id=w.cafe.id,
        status=InspectionStatus.SUBMITTED if submit else InspectionStatus.DRAFT,
        checklist=checklist.model_dump(mode="json"),
        checklist_on=today,
        checklist_sha256="0" * 64,
        started_by_id=w.officer.id,
        submitted_by_id=w.officer.id if submit else None,
        submitted_at=utcnow() - timedelta(minutes=5) if submit else None,
        summary="检查发现未悬挂经营许可证、接纳未成年人，已责令改正并当场处罚。",
    )
    session.add(inspection)
    session.flush()
    versions = {item.code: item.version for item in checklist.items}
    answers: list[dict[str, Any]] = [
        {
            "item_code": "WB-01",
            "result": AnswerResult.FAIL,
            "reason": "现场发现两名未成年人在上网",
            "measure": Measure.RECTIFY,
            "power_code": MINORS,
            "rectify_deadline": today + timedelta(days=7),
        },
        {
            "item_code": "WB-02",
            "result": AnswerResult.FAIL,
            "reason": "营业场所未悬挂《网络文化经营许可证》",
            "measure": Measure.ON_SPOT_PENALTY,
            "power_code": LICENCE,
            "penalty": {
                "act_date": today.isoformat(),
                "party_type": "organisation",
                "facts": {},
                "circumstances": [],
                "chosen_fen": None,
                "reason": "",
                "amount_fen": FINE_FEN,
                "recommended_fen": FINE_FEN,
                "deviation": "none",
            }
            | (penalty or {}),
        },
        {"item_code": "WB-03", "result": AnswerResult.NOT_APPLICABLE, "reason": "门前为市政人行道"},
    ]
    for values in answers:
        session.add(
            InspectionAnswer(
                district_code=DISTRICT,
                inspection_id=inspection.id,
                item_version=versions[values["item_code"]],
                answered_by_id=w.officer.id,
                **values,
            )
        )
    if submit:
        w.task.status = TaskStatus.SUBMITTED
    _photo(session, w, inspection)
    session.flush()
    return DocWorld(w, inspection)


def _photo(session: Session, w: FieldWorld, inspection: Inspection) -> None:
    sha = "ab" * 32
    if session.get(Blob, sha) is None:
        session.add(Blob(sha256=sha, sm3="cd" * 32, size=1234, media_type="image/jpeg"))
        session.flush()
    session.add(
        Evidence(
            district_code=DISTRICT,
            client_uuid=str(uuid.uuid4()),
            task_id=w.task.id,
            inspection_id=inspection.id,
            item_code="WB-02",
            kind=EvidenceKind.PHOTO,
            sha256=sha,
            sm3="cd" * 32,
            size=1234,
            media_type="image/jpeg",
            uploaded_by_id=w.officer.id,
        )
    )


def signatures(w: DocWorld, *, party: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The party (陈强) and both officers signing."""
    f = w.field
    return [
        party or {"role": "party", "name": "陈强", "image_png": data_url(png(1))},
        {"role": "officer", "officer_id": f.officer.id, "image_png": data_url(png(2))},
        {"role": "officer", "officer_id": f.second.id, "image_png": data_url(png(3))},
    ]


def body(w: DocWorld, doc_type: str, **changes: Any) -> dict[str, Any]:
    """A complete issue request for ``doc_type`` (the items each type carries out)."""
    items = {
        "inspection_record": [],
        "rectification_notice": ["WB-01"],
        "on_spot_penalty": ["WB-02"],
        "service_receipt": [],
    }[doc_type]
    data: dict[str, Any] = {
        "client_uuid": str(uuid.uuid4()),
        "doc_type": doc_type,
        "task_id": w.task_id,
        "item_codes": items,
        "device_time": utcnow().isoformat(),
        "signatures": signatures(w),
    }
    return data | changes
