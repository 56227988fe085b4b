"""The demo district's field data, loaded after the sample catalog: subjects with fences, the
numbering rule, and today's inspection tasks for the demo officers (so that a new user can carry
out an inspection right after ``make run``). Each part is idempotent; tasks are topped up daily."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from zhifa.demo import documents, inspections, subjects


@dataclass(frozen=True)
class FieldDemoSummary:
    subjects: int
    document_settings: int
    tasks: int


def load_field_demo(session: Session, district_code: str, *, today: date) -> FieldDemoSummary:
    """Create the missing field data; the caller commits."""
    created_subjects = subjects.load(session, district_code, today=today)
    created_settings = documents.load(session, district_code, today=today)
    created_tasks = inspections.load(session, district_code, today=today)
    return FieldDemoSummary(created_subjects, created_settings, created_tasks)
