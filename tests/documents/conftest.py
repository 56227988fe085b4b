"""Fixtures of the documents tests: a submitted inspection of the field world, committed."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.documents.helpers import DocWorld, submitted_world


@pytest.fixture
def world(session: Session) -> DocWorld:
    built = submitted_world(session)
    session.commit()
    return built
