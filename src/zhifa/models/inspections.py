"""Field inspection: tasks, check-ins, checklist runs, answers, amendments, case leads and evidence.

Invariants:
- A task has at least two officers (行政处罚法 art. 42) before anyone can check in; one is the lead.
- Times are UTC. ``server_time`` is authoritative; ``device_time`` is kept as the device claimed.
- A check-in row is written for every attempt, accepted or refused: a refusal is on record.
- A checklist run (``Inspection``) freezes the assembled checklist it was started with
  (``checklist``, the ``AssembledChecklist`` JSON): later catalog changes do not move it.
- After submission an answer never changes. A correction is an ``InspectionAmendment`` that keeps
  the original answer beside the new one, with a reason; the current answer is the latest amendment
  or, without one, the answer.
- Evidence files live in the content-addressed blob store (``Blob``); an ``Evidence`` row links a
  blob to a task, an inspection and optionally one checklist item. The same file sent twice under
  the same client UUID is one row; a file is stored once however many rows point at it.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from zhifa.kit.clock import utcnow
from zhifa.models.base import Base, CreatedAt, DistrictScoped, Timestamps


class TaskKind(StrEnum):
    PLANNED = "planned"  # 计划检查
    AD_HOC = "ad_hoc"  # 巡查中发起
    DISPATCHED = "dispatched"  # 派遣 (from a complaint)
    FOLLOW_UP = "follow_up"  # 复查 (after 责令改正)

    @property
    def label(self) -> str:
        return {
            "planned": "Planned inspection",
            "ad_hoc": "Patrol inspection",
            "dispatched": "Dispatched inspection",
            "follow_up": "Re-inspection",
        }[self.value]


class TaskStatus(StrEnum):
    PLANNED = "planned"  # 待检查
    IN_PROGRESS = "in_progress"  # 检查中 (someone checked in)
    SUBMITTED = "submitted"  # 已提交
    CANCELLED = "cancelled"  # 已取消

    @property
    def label(self) -> str:
        return {
            "planned": "To do",
            "in_progress": "In progress",
            "submitted": "Submitted",
            "cancelled": "Cancelled",
        }[self.value]


class InspectionTask(DistrictScoped, Timestamps, Base):
    __tablename__ = "inspection_task"
    __ledger_fields__ = (
        "district_code",
        "kind",
        "status",
        "subject_id",
        "title",
        "window_start",
        "window_end",
        "unit_id",
        "lead_officer_id",
        "officer_ids",
        "origin_task_id",
        "origin_ref",
        "note",
        "cancel_reason",
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[TaskKind] = mapped_column(String(20))
    status: Mapped[TaskStatus] = mapped_column(String(20), default=TaskStatus.PLANNED, index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    window_start: Mapped[datetime] = mapped_column(index=True)
    window_end: Mapped[datetime] = mapped_column()
    # The squad responsible (data scope); the subject's squad unless the planner chose another.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), default=None, index=True)
    lead_officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"), index=True)
    # Every assigned officer, lead first (at least two: art. 42).
    officer_ids: Mapped[list[int]] = mapped_column(default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"), default=None)
    # A re-inspection points at the task whose 责令改正 it follows up.
    origin_task_id: Mapped[int | None] = mapped_column(
        ForeignKey("inspection_task.id"), default=None
    )
    # Where a dispatched task came from, e.g. "complaint:123".
    origin_ref: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    cancel_reason: Mapped[str] = mapped_column(Text, default="")


class CheckInOutcome(StrEnum):
    ACCEPTED = "accepted"
    REFUSED = "refused"
    EXCEPTION_PENDING = "exception_pending"  # 异常签到, waiting for a squad leader
    EXCEPTION_APPROVED = "exception_approved"
    EXCEPTION_REJECTED = "exception_rejected"

    @property
    def label(self) -> str:
        return {
            "accepted": "Checked in",
            "refused": "Check-in refused",
            "exception_pending": "Exception awaiting approval",
            "exception_approved": "Exception approved",
            "exception_rejected": "Exception rejected",
        }[self.value]

    @property
    def present(self) -> bool:
        """Whether this check-in counts as the officer being on site."""
        return self in (CheckInOutcome.ACCEPTED, CheckInOutcome.EXCEPTION_APPROVED)


class CheckIn(DistrictScoped, Base):
    __tablename__ = "inspection_check_in"
    __ledger_fields__ = (
        "district_code",
        "task_id",
        "officer_id",
        "lon",
        "lat",
        "accuracy_m",
        "device_time",
        "server_time",
        "offline",
        "distance_m",
        "outcome",
        "refusal",
        "exception_reason",
        "decided_by_id",
        "decided_at",
        "decision_note",
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("inspection_task.id"), index=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"), index=True)
    lon: Mapped[float] = mapped_column()
    lat: Mapped[float] = mapped_column()
    accuracy_m: Mapped[float] = mapped_column()
    device_time: Mapped[datetime] = mapped_column()
    server_time: Mapped[datetime] = mapped_column(default=utcnow)
    # Captured while the device had no network: the window is judged on the device time, which
    # must not be later than the server's receipt.
    offline: Mapped[bool] = mapped_column(Boolean, default=False)
    # Metres from the fix to the fence (0 inside).
    distance_m: Mapped[float] = mapped_column(default=0.0)
    outcome: Mapped[CheckInOutcome] = mapped_column(String(20))
    # Machine reason for a refusal: outside_fence, outside_window, imprecise_fix, no_fence …
    refusal: Mapped[str] = mapped_column(String(40), default="")
    exception_reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decision_note: Mapped[str] = mapped_column(Text, default="")


class InspectionStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"

    @property
    def label(self) -> str:
        return {"draft": "Being filled in", "submitted": "Submitted"}[self.value]


class Inspection(DistrictScoped, Timestamps, Base):
    """One checklist run for a task (the 现场检查 itself)."""

    __tablename__ = "inspection"
    __ledger_fields__ = (
        "district_code",
        "task_id",
        "subject_id",
        "status",
        "checklist_on",
        "checklist_sha256",
        "started_by_id",
        "submitted_by_id",
        "submitted_at",
        "summary",
        "content_sha256",
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("inspection_task.id"), unique=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    status: Mapped[InspectionStatus] = mapped_column(String(20), default=InspectionStatus.DRAFT)
    # The assembled checklist as of ``checklist_on`` (catalog.assembly.AssembledChecklist JSON).
    checklist: Mapped[dict[str, Any]] = mapped_column()
    checklist_on: Mapped[date] = mapped_column()
    checklist_sha256: Mapped[str] = mapped_column(String(64))
    started_by_id: Mapped[int] = mapped_column(ForeignKey("officer.id"))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"), default=None)
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    summary: Mapped[str] = mapped_column(Text, default="")
    # SHA-256 of the canonical submitted content (answers, measures, evidence digests).
    content_sha256: Mapped[str] = mapped_column(String(64), default="")


class AnswerResult(StrEnum):
    PASS = "pass"  # 合格
    FAIL = "fail"  # 不合格
    NOT_APPLICABLE = "not_applicable"  # 不适用 (needs a reason)

    @property
    def label(self) -> str:
        return {"pass": "Compliant", "fail": "Non-compliant", "not_applicable": "Not applicable"}[
            self.value
        ]


class Measure(StrEnum):
    """What the officer does about a 不合格 item."""

    NONE = "none"
    RECTIFY = "rectify"  # 责令（限期）改正, with a deadline and a re-inspection task
    ON_SPOT_PENALTY = "on_spot_penalty"  # 当场处罚 (简易程序, art. 51)
    CASE_LEAD = "case_lead"  # 建议立案 (案源)

    @property
    def label(self) -> str:
        return {
            "none": "No measure",
            "rectify": "Order to rectify",
            "on_spot_penalty": "On-the-spot penalty",
            "case_lead": "Recommend a case",
        }[self.value]


class InspectionAnswer(DistrictScoped, Base):
    __tablename__ = "inspection_answer"
    __table_args__ = (UniqueConstraint("inspection_id", "item_code"),)
    __ledger_fields__ = (
        "district_code",
        "inspection_id",
        "item_code",
        "item_version",
        "result",
        "reason",
        "note",
        "measure",
        "power_code",
        "rectify_deadline",
        "penalty",
        "answered_by_id",
        "answered_at",
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id"), index=True)
    item_code: Mapped[str] = mapped_column(String(60))
    item_version: Mapped[int] = mapped_column(Integer)
    result: Mapped[AnswerResult] = mapped_column(String(20))
    # Required for 不适用; the finding for 不合格.
    reason: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    measure: Mapped[Measure] = mapped_column(String(20), default=Measure.NONE)
    # The power applied when the item failed (one of the item's powers).
    power_code: Mapped[str | None] = mapped_column(String(60), default=None)
    rectify_deadline: Mapped[date | None] = mapped_column(default=None)
    # On-the-spot penalty: the discretion evaluation as decided (EvaluationIn + the result's amount,
    # recommended amount, deviation class and reason), money in fen.
    penalty: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    answered_by_id: Mapped[int] = mapped_column(ForeignKey("officer.id"))
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)


class InspectionAmendment(DistrictScoped, CreatedAt, Base):
    """A reasoned correction of a submitted answer; the original stays."""

    __tablename__ = "inspection_amendment"
    __ledger_fields__ = (
        "district_code",
        "inspection_id",
        "item_code",
        "previous",
        "amended",
        "reason",
        "amended_by_id",
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id"), index=True)
    item_code: Mapped[str] = mapped_column(String(60))
    # Both as the answer's ledgered fields (JSON).
    previous: Mapped[dict[str, Any]] = mapped_column()
    amended: Mapped[dict[str, Any]] = mapped_column()
    reason: Mapped[str] = mapped_column(Text)
    amended_by_id: Mapped[int] = mapped_column(ForeignKey("officer.id"))


class CaseLeadStatus(StrEnum):
    OPEN = "open"  # 待立案审查
    ACCEPTED = "accepted"  # 已立案 (by the case procedure, a later issue)
    DROPPED = "dropped"  # 不予立案

    @property
    def label(self) -> str:
        return {"open": "Awaiting review", "accepted": "Case opened", "dropped": "Not pursued"}[
            self.value
        ]


class CaseLead(DistrictScoped, CreatedAt, Base):
    """案源: a suspected violation found on site, handed to the (ordinary) case procedure."""

    __tablename__ = "case_lead"
    __ledger_fields__ = (
        "district_code",
        "inspection_id",
        "subject_id",
        "item_code",
        "power_code",
        "facts",
        "status",
        "created_by_id",
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    item_code: Mapped[str] = mapped_column(String(60))
    power_code: Mapped[str | None] = mapped_column(String(60), default=None)
    facts: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[CaseLeadStatus] = mapped_column(String(20), default=CaseLeadStatus.OPEN)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("officer.id"))


class Blob(CreatedAt, Base):
    """A file in the content-addressed store (``<data_dir>/blobs/ab/cd/<sha256>``). National: the
    same bytes are stored once whoever sent them; access goes through the rows that point at it."""

    __tablename__ = "blob"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    sm3: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    # Sniffed from the content, never taken from the name or the client's header.
    media_type: Mapped[str] = mapped_column(String(100))


class EvidenceKind(StrEnum):
    PHOTO = "photo"
    VIDEO = "video"
    AUDIO = "audio"
    SIGNATURE = "signature"

    @property
    def label(self) -> str:
        return {"photo": "Photo", "video": "Video", "audio": "Audio", "signature": "Signature"}[
            self.value
        ]


class Evidence(DistrictScoped, Base):
    __tablename__ = "evidence"
    __ledger_fields__ = (
        "district_code",
        "task_id",
        "inspection_id",
        "item_code",
        "kind",
        "sha256",
        "sm3",
        "size",
        "media_type",
        "original_name",
        "exif_time",
        "exif_lon",
        "exif_lat",
        "device_time",
        "received_at",
        "uploaded_by_id",
        "client_uuid",
        "caption",
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The client's UUID for this upload: a retry of the same upload is the same row.
    client_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("inspection_task.id"), index=True)
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("inspection.id"), default=None)
    item_code: Mapped[str | None] = mapped_column(String(60), default=None)
    kind: Mapped[EvidenceKind] = mapped_column(String(20))
    sha256: Mapped[str] = mapped_column(ForeignKey("blob.sha256"), index=True)
    sm3: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(100))
    original_name: Mapped[str] = mapped_column(String(255), default="")
    caption: Mapped[str] = mapped_column(Text, default="")
    exif_time: Mapped[datetime | None] = mapped_column(default=None)
    exif_lon: Mapped[float | None] = mapped_column(default=None)
    exif_lat: Mapped[float | None] = mapped_column(default=None)
    device_time: Mapped[datetime | None] = mapped_column(default=None)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("officer.id"))


class SubmissionRecord(CreatedAt, Base):
    """Exactly-once application of device submissions: the first result under a client UUID is kept
    and returned again to a retry with the same content; other content under it is a conflict."""

    __tablename__ = "submission_record"

    client_uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    district_code: Mapped[str] = mapped_column(String(6), index=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"))
    # The operation, e.g. "inspection.submit", "check_in", "document.issue".
    operation: Mapped[str] = mapped_column(String(60))
    # SHA-256 of the canonical request (RFC 8785 JSON of the body without the UUID).
    request_sha256: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column()
