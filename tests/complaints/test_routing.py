"""Routing: category → department, point → grid → owning squad; outside the district or outside
the bureau's powers → a transfer with a public reason; no grid or no point → the default unit
with a note for the dispatcher."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.complaints.world import (
    FOOD,
    IN_NO_GRID,
    IN_WG01,
    IN_WG02,
    OUTSIDE,
    VENDING,
    ComplaintWorld,
    complaint_world,
)
from tests.field import GRID_LAT, GRID_LON
from tests.org.helpers import grid
from zhifa.complaints.routing import Route, route
from zhifa.models.complaints import ComplaintSettings

DISTRICT = "510184"


@pytest.fixture
def world(session: Session) -> ComplaintWorld:
    built = complaint_world(session)
    session.commit()
    return built


def routed(
    session: Session, world: ComplaintWorld, point: tuple[float, float] | None, code: str = VENDING
) -> Route:
    lon, lat = point if point is not None else (None, None)
    return route(session, district_code=DISTRICT, category=world.categories[code], lon=lon, lat=lat)


class TestByPlace:
    def test_a_point_in_wg01_goes_to_its_squad(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        result = routed(session, world, IN_WG01)

        assert result == Route(world.field.squad.id, world.field.grid.id, world.chengguan.id)
        assert result.transfer is False

    def test_a_point_in_wg02_goes_to_the_other_squad(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        result = routed(session, world, IN_WG02)

        assert result.unit_id == world.field.other_squad.id
        assert result.note == ""

    def test_a_point_in_the_gap_between_grids_goes_to_the_default_unit(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        result = routed(session, world, IN_NO_GRID)

        assert (result.unit_id, result.grid_id) == (world.field.bureau.id, None)
        assert result.note == "投诉地点不在任何网格内，请人工指派"
        assert result.transfer is False

    def test_an_address_without_a_point_goes_to_the_default_unit(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        result = routed(session, world, None)

        assert (result.unit_id, result.grid_id) == (world.field.bureau.id, None)
        assert result.note == "无坐标，请人工定位"

    def test_a_point_outside_the_boundary_is_transferred(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        result = routed(session, world, OUTSIDE)

        assert result.transfer is True
        assert result.transfer_reason == "投诉地点不在本区县范围内"
        assert result.grid_id is None

    def test_a_point_on_the_boundary_is_inside(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        result = routed(session, world, (103.55, 30.60))

        assert result.transfer is False

    def test_a_point_on_a_shared_grid_border_goes_to_the_lowest_grid_code(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        # WG00 west of WG01, sharing its western edge.
        west = grid(session, world.field.other_squad, "WG00", GRID_LON - 0.01, GRID_LAT)
        session.commit()

        result = routed(session, world, (GRID_LON, GRID_LAT + 0.005))

        assert (result.grid_id, result.unit_id) == (west.id, world.field.other_squad.id)

    def test_a_multipolygon_boundary_counts_each_part(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        world.settings.boundary = {
            "type": "MultiPolygon",
            "coordinates": [
                [
                    [
                        [103.59, 30.59],
                        [103.64, 30.59],
                        [103.64, 30.62],
                        [103.59, 30.62],
                        [103.59, 30.59],
                    ]
                ],
                [
                    [
                        [104.05, 30.65],
                        [104.07, 30.65],
                        [104.07, 30.67],
                        [104.05, 30.67],
                        [104.05, 30.65],
                    ]
                ],
            ],
        }
        session.commit()

        assert routed(session, world, OUTSIDE).transfer is False
        assert routed(session, world, (103.66, 30.60)).transfer is True


class TestWithoutABoundary:
    @pytest.fixture
    def no_boundary(self, session: Session, world: ComplaintWorld) -> ComplaintWorld:
        world.settings.boundary = None
        session.commit()
        return world

    def test_the_extent_of_the_grids_stands_for_the_district(
        self, session: Session, no_boundary: ComplaintWorld
    ) -> None:
        assert routed(session, no_boundary, IN_NO_GRID).transfer is False
        assert routed(session, no_boundary, (GRID_LON - 0.001, GRID_LAT)).transfer is True
        assert routed(session, no_boundary, OUTSIDE).transfer is True

    def test_a_district_without_settings_has_no_default_unit(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        session.delete(session.get(ComplaintSettings, world.settings.id))
        session.commit()

        result = routed(session, world, IN_NO_GRID)

        assert (result.unit_id, result.transfer) == (None, False)
        assert routed(session, world, IN_WG01).unit_id == world.field.squad.id


class TestByCategory:
    def test_a_category_without_department_is_transferred_to_its_agency(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        result = routed(session, world, IN_WG01, FOOD)

        assert result.transfer is True
        assert result.transfer_to == "崇州市市场监督管理局"
        assert result.transfer_reason == "该事项不属于本局职权范围，已转 崇州市市场监督管理局 办理"
        assert result.department_id is None
        # Still placed: the squad whose area it is can see what was sent away.
        assert result.unit_id == world.field.squad.id

    def test_outside_the_district_wins_over_the_category(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        result = routed(session, world, OUTSIDE, FOOD)

        assert result.transfer_reason == "投诉地点不在本区县范围内"
