"""Our rows as Open311 objects: a category is a service (with its definition), a complaint a
service request, a public step of its timeline a ``request_update`` (mySociety's extension).

Status: Open311 knows ``open`` and ``closed`` (``ComplaintStatus.is_open``); the richer state is
written in words in ``status_notes`` (the status label, then the step's public note) and, when the
client asks with ``extensions=true`` (Chicago's convention), in ``extended_attributes``.

Invariant: no object built here carries the reporter's identity (name, phone, e-mail, account);
the reporter's columns are never read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from zhifa.kit.clock import SHANGHAI, local
from zhifa.models.complaints import Complaint, ComplaintCategory, ComplaintEvent, ComplaintStatus
from zhifa.open311.params import N_
from zhifa.web.i18n import translate

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
SERVICE_TYPE = "realtime"  # every request gets its id at once (no tokens to wait for)
DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")


def service(category: ComplaintCategory) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description or "",
        "metadata": bool(category.attributes),
        "type": SERVICE_TYPE,
        "keywords": ",".join(category.keywords or []),
        "group": category.group or "",
    }


def attributes_of(category: ComplaintCategory) -> list[dict[str, Any]]:
    """The category's attributes in display order, every field present."""
    ordered = sorted(
        enumerate(category.attributes or []),
        key=lambda pair: (int(pair[1].get("order") or pair[0] + 1), pair[0]),
    )
    return [
        {
            "variable": bool(attr.get("variable", True)),
            "code": str(attr.get("code", "")),
            "datatype": str(attr.get("datatype") or "string"),
            "required": bool(attr.get("required", False)),
            "datatype_description": str(attr.get("datatype_description") or ""),
            "order": int(attr.get("order") or index + 1),
            "description": str(attr.get("description") or ""),
            "values": [
                {"key": str(v.get("key", "")), "name": str(v.get("name", ""))}
                for v in attr.get("values") or []
            ],
        }
        for index, attr in ordered
    ]


def service_definition(category: ComplaintCategory) -> dict[str, Any]:
    return {
        "service_definition": {
            "service_code": category.code,
            "attributes": attributes_of(category),
        }
    }


def local_minute(value: datetime, tz: ZoneInfo = SHANGHAI) -> str:
    return local(value, tz).strftime("%Y-%m-%d %H:%M")


def status_words(locale: str, status: ComplaintStatus, note: str) -> str:
    """The richer status in words: its label, then the step's public note."""
    label = translate(locale, status.label)
    if not note:
        return label
    return f"{label}：{note}" if locale != "en" else f"{label}: {note}"


def service_notice(locale: str, complaint: Complaint) -> str:
    """What the citizen can expect: where a transferred complaint went, or when the answer is
    due while it is open."""
    status = ComplaintStatus(complaint.status)
    if status is ComplaintStatus.TRANSFERRED and complaint.transfer_to:
        return translate(locale, N_("Transferred to {agency}."), agency=complaint.transfer_to)
    if status.is_open and complaint.feedback_due is not None:
        return translate(
            locale, N_("You will be answered by {due}."), due=local_minute(complaint.feedback_due)
        )
    return ""


@dataclass
class RequestContext:
    """What the request objects of one answer share (loaded once for the whole page)."""

    locale: str
    base_url: str
    categories: dict[int, ComplaintCategory]
    departments: dict[int, str]
    events: dict[int, list[ComplaintEvent]]
    photos: dict[int, int]
    extensions: bool = False

    def agency(self, complaint: Complaint) -> str:
        if complaint.status == ComplaintStatus.TRANSFERRED and complaint.transfer_to:
            return complaint.transfer_to
        if complaint.department_id is not None:
            return self.departments.get(complaint.department_id, "")
        return complaint.transfer_to or ""

    def media_url(self, complaint: Complaint) -> str:
        media_id = self.photos.get(complaint.id)
        if media_id is not None:
            return f"{self.base_url}/c/media/{complaint.tracking_no}/{media_id}"
        return (complaint.media_urls or [""])[0]

    def note(self, complaint: Complaint) -> str:
        if complaint.status == ComplaintStatus.CLOSED and complaint.answer:
            return complaint.answer
        for event in reversed(self.events.get(complaint.id, [])):
            if event.note:
                return event.note
        return ""

    def updated(self, complaint: Complaint) -> datetime:
        events = self.events.get(complaint.id, [])
        return events[-1].at if events else complaint.received_at


def service_request(complaint: Complaint, ctx: RequestContext) -> dict[str, Any]:
    status = ComplaintStatus(complaint.status)
    category = ctx.categories.get(complaint.category_id)
    item: dict[str, Any] = {
        "service_request_id": complaint.tracking_no,
        "status": "open" if status.is_open else "closed",
        "status_notes": status_words(ctx.locale, status, ctx.note(complaint)),
        "service_name": category.name if category is not None else "",
        "service_code": category.code if category is not None else "",
        "description": complaint.description or "",
        "agency_responsible": ctx.agency(complaint),
        "service_notice": service_notice(ctx.locale, complaint),
        "requested_datetime": complaint.received_at,
        "updated_datetime": ctx.updated(complaint),
        "expected_datetime": complaint.feedback_due,
        "address": complaint.address or "",
        "lat": complaint.lat,
        "long": complaint.lon,
        "media_url": ctx.media_url(complaint),
    }
    if ctx.extensions:
        item["extended_attributes"] = {
            "zhifa_status": str(status),
            "zhifa_status_label": translate(ctx.locale, status.label),
            "hotline_type": str(complaint.hotline_type),
            "priority": str(complaint.priority),
            "channel": str(complaint.source),
        }
    return item


def request_update(locale: str, event: ComplaintEvent, tracking_no: str) -> dict[str, Any]:
    status = ComplaintStatus(event.status)
    return {
        "update_id": str(event.id),
        "service_request_id": tracking_no,
        "status": "open" if status.is_open else "closed",
        "updated_datetime": event.at,
        "description": status_words(locale, status, event.note),
        "media_url": "",
        "external_status_code": event.kind,
    }
