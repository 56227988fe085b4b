"""Fixtures of the integration tests: the complaint world with a system administrator, and the
city platform's stand-in server (started on a free port, closed when the test ends)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from tests.integrations.helpers import SECRET, IntegrationWorld, integration_world
from tests.integrations.platform import CityPlatform


@pytest.fixture
def platform() -> Iterator[CityPlatform]:
    city = CityPlatform(secret=SECRET).start()
    yield city
    city.close()


@pytest.fixture
def world(session: Session) -> IntegrationWorld:
    built = integration_world(session)
    session.commit()
    return built
