"""The demo district's field data, loaded after the sample catalog: subjects with fences, the
numbering rule, today's inspection tasks for the demo officers (so that a new user can carry out an
inspection right after ``make run``) and the complaint categories, deadlines and district settings
(so that a complaint can travel the whole loop). Each part is idempotent; tasks are topped up
daily."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from zhifa.demo import complaints, documents, inspections, subjects


@dataclass(frozen=True)
class FieldDemoSummary:
    subjects: int
    document_settings: int
    tasks: int
    complaint_setup: int


def load_field_demo(session: Session, district_code: str, *, today: date) -> FieldDemoSummary:
    """Create the missing field data; the caller commits."""
    created_subjects = subjects.load(session, district_code, today=today)
    created_settings = documents.load(session, district_code, today=today)
    created_tasks = inspections.load(session, district_code, today=today)
    created_complaint_rows = complaints.load_complaint_demo(session, district_code)
    return FieldDemoSummary(
        created_subjects, created_settings, created_tasks, created_complaint_rows
    )
