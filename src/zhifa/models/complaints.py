"""Complaints (投诉举报 / 事件): intake from every channel, the handling loop, SLA clocks and the
citizen's answer.

Invariants:
- A complaint's ``status`` moves only along ``complaints.workflow.TRANSITIONS``; every move is one
  ``ComplaintEvent`` row (append-only, the public timeline and Open311 ``servicerequestupdates``)
  and one ledger event (``complaint.*``) in the same transaction.
- The reporter's name, phone and e-mail are never stored in clear: ``reporter_*_cipher`` are
  Fernet cipher texts under a key derived from the application secret; pages and the ledger see
  only ``reporter_masked`` and ``reporter_phone_digest`` (HMAC, for duplicates and abuse). A reveal
  needs ``complaints:reveal`` and a reason and is a ledger event (举报人保密).
- ``tracking_no`` is the public id (Open311 ``service_request_id``): unique across the deployment
  and not guessable from its neighbours.
- ``(district_code, source, source_ref)`` is unique when ``source_ref`` is set: an upstream work
  order (12345 工单号, an upstream Open311 id) is taken in once however often it is imported or
  polled.
- SLA deadlines (``*_due``) are set when a stage's clock starts and moved only by a pause (the
  paused time is added on resume) or an approved extension; ``sla_state`` is the worst state of
  the running clocks as last computed by the sweep or a transition.
- Money is not involved; times are UTC.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from zhifa.models.base import Base, CreatedAt, DistrictScoped, Timestamps


class HotlineType(StrEnum):
    """The four 12345 work-order types (国办发〔2020〕53号 practice)."""

    CONSULT = "consult"  # 咨询
    HELP = "help"  # 求助
    COMPLAINT = "complaint"  # 投诉举报
    SUGGESTION = "suggestion"  # 意见建议

    @property
    def label(self) -> str:
        return {
            "consult": "Consultation",
            "help": "Request for help",
            "complaint": "Complaint or report",
            "suggestion": "Suggestion",
        }[self.value]


class Priority(StrEnum):
    NORMAL = "normal"  # 一般
    URGENT = "urgent"  # 紧急

    @property
    def label(self) -> str:
        return {"normal": "Normal", "urgent": "Urgent"}[self.value]


class ComplaintSource(StrEnum):
    WEB = "web"  # the citizen's public page
    OPEN311 = "open311"  # an Open311 client posting to /open311/v2
    HOTLINE = "hotline"  # an operator entering a phone call
    IMPORT = "import"  # a 12345 / 网络理政 export (Excel / CSV)
    UPSTREAM = "upstream"  # polled from the city platform's Open311 endpoint
    PATROL = "patrol"  # found by an officer or a 监督员 on patrol

    @property
    def label(self) -> str:
        return {
            "web": "Public page",
            "open311": "Open311",
            "hotline": "Hotline",
            "import": "12345 import",
            "upstream": "City platform",
            "patrol": "Patrol",
        }[self.value]


class ComplaintStatus(StrEnum):
    RECEIVED = "received"  # 受理: taken in, waiting to be filed
    FILED = "filed"  # 立案: waiting for dispatch
    DISPATCHED = "dispatched"  # 派遣: waiting for the officers to take it
    TAKEN = "taken"  # 接单: on the way
    ON_SCENE = "on_scene"  # 到场
    DISPOSED = "disposed"  # 处置 recorded, feedback not yet sent
    FED_BACK = "fed_back"  # 反馈: waiting for 核查
    CLOSED = "closed"  # 结案 (the citizen is answered; 回访 may follow)
    REJECTED = "rejected"  # 不予受理
    TRANSFERRED = "transferred"  # 移送 / 转办 to another agency
    MERGED = "merged"  # a duplicate, answered with the complaint it was merged into

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]

    @property
    def is_open(self) -> bool:
        """Open311's two-valued status: everything not finished is ``open``."""
        return self not in FINAL_STATUSES


FINAL_STATUSES = frozenset(
    {
        ComplaintStatus.CLOSED,
        ComplaintStatus.REJECTED,
        ComplaintStatus.TRANSFERRED,
        ComplaintStatus.MERGED,
    }
)

STATUS_LABELS = {
    ComplaintStatus.RECEIVED: "Received",
    ComplaintStatus.FILED: "Filed",
    ComplaintStatus.DISPATCHED: "Dispatched",
    ComplaintStatus.TAKEN: "Accepted by officer",
    ComplaintStatus.ON_SCENE: "Officer on scene",
    ComplaintStatus.DISPOSED: "Handled on site",
    ComplaintStatus.FED_BACK: "Result reported",
    ComplaintStatus.CLOSED: "Closed",
    ComplaintStatus.REJECTED: "Not accepted",
    ComplaintStatus.TRANSFERRED: "Transferred",
    ComplaintStatus.MERGED: "Merged with another report",
}


class SlaStage(StrEnum):
    """The clocks of a complaint: each starts at one step and stops at another."""

    DISPATCH = "dispatch"  # received → dispatched
    ARRIVE = "arrive"  # dispatched → on scene
    HANDLE = "handle"  # dispatched → result reported (fed back)
    FEEDBACK = "feedback"  # received → closed (the citizen answered)

    @property
    def label(self) -> str:
        return {
            "dispatch": "Dispatch",
            "arrive": "Arrival",
            "handle": "Handling",
            "feedback": "Answer to the citizen",
        }[self.value]


class SlaState(StrEnum):
    OK = "ok"
    WARNING = "warning"  # approaching a deadline
    OVERDUE = "overdue"
    PAUSED = "paused"
    DONE = "done"  # no clock running

    @property
    def label(self) -> str:
        return {
            "ok": "On time",
            "warning": "Deadline approaching",
            "overdue": "Overdue",
            "paused": "Clock paused",
            "done": "No clock running",
        }[self.value]


class DisposalMeasure(StrEnum):
    """Quick disposal on the street (no inspection record needed)."""

    PERSUADED = "persuaded"  # 劝离
    EDUCATED = "educated"  # 教育
    ORDERED_CORRECTION = "ordered_correction"  # 责令改正
    CLEARED = "cleared"  # 清理 / 拆除
    NOT_FOUND = "not_found"  # 现场未发现
    OTHER = "other"  # 其他

    @property
    def label(self) -> str:
        return {
            "persuaded": "Persuaded to leave",
            "educated": "Education",
            "ordered_correction": "Ordered to correct",
            "cleared": "Cleared on site",
            "not_found": "Nothing found on site",
            "other": "Other",
        }[self.value]


class ComplaintCategory(DistrictScoped, Timestamps, Base):
    """A complaint category (the Open311 service): a 数字城管 event class and a 12345 type, mapped
    to the department and powers that handle it. ``department_id`` None means the bureau holds no
    power over it: complaints in it are transferred (``transfer_to`` names the agency)."""

    __tablename__ = "complaint_category"
    __table_args__ = (UniqueConstraint("district_code", "code"),)
    __ledger_fields__ = (
        "district_code",
        "code",
        "name",
        "group",
        "hotline_type",
        "department_id",
        "power_codes",
        "transfer_to",
        "sla_profile",
        "priority",
        "auto_dispatch",
        "attributes",
        "active",
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The Open311 service_code.
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    # 数字城管 event class (市容环境, 宣传广告, 施工管理, 街面秩序, 突发事件, 其他事件):
    # the Open311 group.
    group: Mapped[str] = mapped_column(String(40), default="")
    keywords: Mapped[list[str]] = mapped_column(default=list)
    hotline_type: Mapped[HotlineType] = mapped_column(String(20), default=HotlineType.COMPLAINT)
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id"), default=None, index=True
    )
    # Catalog power codes (权力事项编码) that apply to what is reported.
    power_codes: Mapped[list[str]] = mapped_column(default=list)
    # For a category the bureau does not handle: the agency it goes to (e.g. 市场监管局).
    transfer_to: Mapped[str] = mapped_column(String(200), default="")
    # ``SlaProfile.code`` of the deadlines that apply.
    sla_profile: Mapped[str] = mapped_column(String(40), default="street")
    priority: Mapped[Priority] = mapped_column(String(10), default=Priority.NORMAL)
    # Dispatch the recommendation without waiting for a dispatcher.
    auto_dispatch: Mapped[bool] = mapped_column(Boolean, default=False)
    # Open311 service-definition attributes: [{"code", "datatype", "required", "description",
    # "datatype_description", "order", "variable", "values": [{"key", "name"}]}].
    attributes: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    # The subject type whose checklist applies when the handling is an inspection (optional).
    subject_type_code: Mapped[str] = mapped_column(String(60), default="")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class SlaProfile(DistrictScoped, Timestamps, Base):
    """Deadlines per stage for a class of categories and a priority ([M]: configurable).

    ``limits`` maps each ``SlaStage`` value to ``{"minutes": n}`` (wall-clock) or
    ``{"workdays": n}`` (Chinese working days, ending at the close of the n-th working day after
    the start); a missing stage has no clock. ``warn_ratio`` is the share of the allowed time after
    which the clock turns amber and the squad leader is told."""

    __tablename__ = "sla_profile"
    __table_args__ = (UniqueConstraint("district_code", "code", "priority"),)
    __ledger_fields__ = ("district_code", "code", "name", "priority", "limits", "warn_ratio")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    priority: Mapped[Priority] = mapped_column(String(10), default=Priority.NORMAL)
    limits: Mapped[dict[str, Any]] = mapped_column(default=dict)
    warn_ratio: Mapped[float] = mapped_column(default=0.8)


class WorkdayOverride(DistrictScoped, CreatedAt, Base):
    """A district's own working-day exception on top of the national calendar (a local holiday,
    a day of extra duty), and the fallback for years chinese-calendar does not know yet."""

    __tablename__ = "workday_override"
    __table_args__ = (UniqueConstraint("district_code", "day"),)
    __ledger_fields__ = ("district_code", "day", "is_workday", "note")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column()
    is_workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(200), default="")


class ComplaintSettings(DistrictScoped, Timestamps, Base):
    """Per-district complaint rules ([M]: local practice). One row per district; absent → the
    environment defaults (``Settings.complaint_*``)."""

    __tablename__ = "complaint_settings"
    __table_args__ = (UniqueConstraint("district_code"),)
    __ledger_fields__ = (
        "district_code",
        "duplicate_radius_m",
        "duplicate_window_hours",
        "position_stale_seconds",
        "boundary",
        "default_unit_id",
        "tracking_prefix",
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    duplicate_radius_m: Mapped[float] = mapped_column(default=100.0)
    duplicate_window_hours: Mapped[int] = mapped_column(Integer, default=48)
    position_stale_seconds: Mapped[int] = mapped_column(Integer, default=300)
    # The district's outline (GeoJSON Polygon / MultiPolygon, WGS-84). A point outside it is
    # transferred as out of district; without one the union of the grids' extents is used.
    boundary: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    # The unit that owns a complaint inside the district but in no grid (e.g. the bureau).
    default_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), default=None)
    tracking_prefix: Mapped[str] = mapped_column(String(8), default="TS")


class Complaint(DistrictScoped, Timestamps, Base):
    __tablename__ = "complaint"
    __table_args__ = (
        UniqueConstraint("district_code", "source", "source_ref"),
        Index("ix_complaint_district_status", "district_code", "status"),
        Index("ix_complaint_category_received", "category_id", "received_at"),
    )
    __ledger_fields__ = (
        "district_code",
        "tracking_no",
        "source",
        "source_ref",
        "integration_id",
        "category_id",
        "hotline_type",
        "priority",
        "description",
        "address",
        "lon",
        "lat",
        "grid_id",
        "unit_id",
        "department_id",
        "status",
        "anonymous",
        "reporter_masked",
        "reporter_phone_digest",
        "attributes",
        "media_urls",
        "duplicate_of_id",
        "officer_ids",
        "task_id",
        "subject_id",
        "transfer_to",
        "dispatch_due",
        "arrive_due",
        "handle_due",
        "feedback_due",
        "paused_at",
        "rework_count",
        "rating",
    )
    __ledger_digest_fields__ = (
        "reporter_name_cipher",
        "reporter_phone_cipher",
        "reporter_email_cipher",
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Public id, e.g. TS20261129-7K3QD2 (prefix from ComplaintSettings).
    tracking_no: Mapped[str] = mapped_column(String(32), unique=True)
    # Open311 async token (``tokens/{id}``): a UUID handed back with the request.
    token: Mapped[str] = mapped_column(String(36), unique=True)
    source: Mapped[ComplaintSource] = mapped_column(String(20))
    # The id at the source (12345 工单号, upstream service_request_id); None for our own intake.
    source_ref: Mapped[str | None] = mapped_column(String(100), default=None)
    # Where answers go back (the originating platform), if anywhere.
    integration_id: Mapped[int | None] = mapped_column(
        ForeignKey("integration.id"), default=None, index=True
    )
    category_id: Mapped[int] = mapped_column(ForeignKey("complaint_category.id"))
    hotline_type: Mapped[HotlineType] = mapped_column(String(20))
    priority: Mapped[Priority] = mapped_column(String(10), default=Priority.NORMAL)
    description: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    lon: Mapped[float | None] = mapped_column(default=None)
    lat: Mapped[float | None] = mapped_column(default=None)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id"), default=None, index=True)
    # The owning squad (its data scope); None until routed.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), default=None, index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), default=None)
    status: Mapped[ComplaintStatus] = mapped_column(String(20), default=ComplaintStatus.RECEIVED)
    # Routing's own note (e.g. "in no grid", "outside the district"), shown to the dispatcher.
    routing_note: Mapped[str] = mapped_column(Text, default="")
    # Reporter (举报人保密): cipher texts, a masked form and a digest; all None when anonymous.
    anonymous: Mapped[bool] = mapped_column(Boolean, default=True)
    reporter_name_cipher: Mapped[str | None] = mapped_column(Text, default=None)
    reporter_phone_cipher: Mapped[str | None] = mapped_column(Text, default=None)
    reporter_email_cipher: Mapped[str | None] = mapped_column(Text, default=None)
    reporter_masked: Mapped[str] = mapped_column(String(100), default="")
    reporter_phone_digest: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    # Open311 attribute answers {code: value or [values]} and media URLs given by the client.
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    media_urls: Mapped[list[str]] = mapped_column(default=list)
    duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("complaint.id"), default=None, index=True
    )
    # The officers dispatched, the lead first.
    officer_ids: Mapped[list[int]] = mapped_column(default=list)
    # When handled by an inspection (field-inspection issue): the dispatched task and its subject.
    task_id: Mapped[int | None] = mapped_column(
        ForeignKey("inspection_task.id"), default=None, index=True
    )
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subject.id"), default=None)
    transfer_to: Mapped[str] = mapped_column(String(200), default="")
    # The answer given to the citizen when closed (also the Open311 status_notes).
    answer: Mapped[str] = mapped_column(Text, default="")
    # Step times (each set once by its transition; rework clears the later ones).
    received_at: Mapped[datetime] = mapped_column(index=True)
    filed_at: Mapped[datetime | None] = mapped_column(default=None)
    dispatched_at: Mapped[datetime | None] = mapped_column(default=None)
    taken_at: Mapped[datetime | None] = mapped_column(default=None)
    arrived_at: Mapped[datetime | None] = mapped_column(default=None)
    disposed_at: Mapped[datetime | None] = mapped_column(default=None)
    fed_back_at: Mapped[datetime | None] = mapped_column(default=None)
    verified_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    # SLA clocks.
    dispatch_due: Mapped[datetime | None] = mapped_column(default=None)
    arrive_due: Mapped[datetime | None] = mapped_column(default=None)
    handle_due: Mapped[datetime | None] = mapped_column(default=None)
    feedback_due: Mapped[datetime | None] = mapped_column(default=None)
    paused_at: Mapped[datetime | None] = mapped_column(default=None)
    pause_reason: Mapped[str] = mapped_column(Text, default="")
    sla_state: Mapped[SlaState] = mapped_column(String(10), default=SlaState.OK, index=True)
    # 0 none, 1 squad leader told, 2 bureau leader told (the highest alert raised so far).
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    rework_count: Mapped[int] = mapped_column(Integer, default=0)
    # 回访: 1 (very dissatisfied) … 5 (very satisfied).
    rating: Mapped[int | None] = mapped_column(Integer, default=None)
    rating_comment: Mapped[str] = mapped_column(Text, default="")
    rated_at: Mapped[datetime | None] = mapped_column(default=None)


class ComplaintEvent(DistrictScoped, Base):
    """One step of a complaint's timeline (append-only). ``public`` events are what the citizen's
    status page and Open311 ``servicerequestupdates`` show; ``note`` is their public wording.
    ``data`` carries the step's details (officer ids, reasons, measures, media digests) and never
    the reporter's identity."""

    __tablename__ = "complaint_event"
    __table_args__ = (Index("ix_complaint_event_district_at", "district_code", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"), index=True)
    # A ``complaints.workflow`` event kind: received, filed, rejected, transferred, dispatched,
    # taken, declined, arrived, disposed, fed_back, verified, rework, closed, rated, paused,
    # resumed, extension_requested, extended, extension_refused, escalated, merged, note,
    # reporter_revealed.
    kind: Mapped[str] = mapped_column(String(30))
    status: Mapped[ComplaintStatus] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column()
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"), default=None)
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class MediaRole(StrEnum):
    REPORT = "report"  # sent by the citizen
    BEFORE = "before"  # officer, before handling
    AFTER = "after"  # officer, after handling
    VERIFY = "verify"  # 核查

    @property
    def label(self) -> str:
        return {
            "report": "Citizen's photo",
            "before": "Before handling",
            "after": "After handling",
            "verify": "Re-check",
        }[self.value]


class ComplaintMedia(DistrictScoped, CreatedAt, Base):
    """A photo attached to a complaint (append-only); the bytes are in the blob store."""

    __tablename__ = "complaint_media"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"), index=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("blob.sha256"))
    role: Mapped[MediaRole] = mapped_column(String(10))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    # None for the citizen.
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"), default=None)
    # A device's UUID for the upload (exactly once); None for the public page.
    client_uuid: Mapped[str | None] = mapped_column(String(36), unique=True, default=None)


class ExtensionStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"

    @property
    def label(self) -> str:
        return {"pending": "Waiting for approval", "approved": "Approved", "refused": "Refused"}[
            self.value
        ]


class ComplaintExtension(DistrictScoped, Base):
    """A request to extend one SLA clock (延期), decided by a squad or bureau leader."""

    __tablename__ = "complaint_extension"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"), index=True)
    stage: Mapped[SlaStage] = mapped_column(String(10))
    # {"minutes": n} or {"workdays": n}, added to the stage's current deadline.
    amount: Mapped[dict[str, Any]] = mapped_column()
    reason: Mapped[str] = mapped_column(Text)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("officer.id"))
    requested_at: Mapped[datetime] = mapped_column()
    status: Mapped[ExtensionStatus] = mapped_column(String(10), default=ExtensionStatus.PENDING)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decision_note: Mapped[str] = mapped_column(Text, default="")


class AlertKind(StrEnum):
    WARNING = "warning"  # approaching
    OVERDUE = "overdue"

    @property
    def label(self) -> str:
        return {"warning": "Deadline approaching", "overdue": "Deadline missed"}[self.value]


class SlaAlert(DistrictScoped, CreatedAt, Base):
    """A supervision alert (督办): a clock approaching or past its deadline, raised once per
    (complaint, stage, kind) to the squad leader (level 1) and then the bureau leader (level 2)."""

    __tablename__ = "sla_alert"
    __table_args__ = (UniqueConstraint("complaint_id", "stage", "kind", "level"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"), index=True)
    stage: Mapped[SlaStage] = mapped_column(String(10))
    kind: Mapped[AlertKind] = mapped_column(String(10))
    # 1: the owning squad's leader; 2: the bureau leader.
    level: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), default=None, index=True)
    due: Mapped[datetime] = mapped_column()
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"), default=None)
    acknowledged_at: Mapped[datetime | None] = mapped_column(default=None)
