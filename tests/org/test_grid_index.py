"""The grid index: which active grid covers a point, one grid for a point on a shared border
(the lowest code), and a tree rebuilt when the district's grids change."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from tests import factories
from tests.org.helpers import grid, square
from zhifa.kit.geo import grid_shape
from zhifa.models.org import Grid, Unit, UnitKind
from zhifa.org.grids import index

DISTRICT = "510184"
LON, LAT = 103.60, 30.60  # south-west corner of the middle grid "G5"


@dataclass
class Layout:
    squads: list[Unit]
    grids: dict[str, Grid]


@pytest.fixture
def layout(session: Session) -> Layout:
    """A 3 × 1 row of 0.01° squares sharing borders: G7 (west), G5 (middle), G6 (east), owned by
    three squads. The codes are not in west-to-east order on purpose."""
    factories.district(session, DISTRICT)
    bureau = factories.unit(session, DISTRICT, UnitKind.BUREAU, "执法局", "JU")
    squads = [
        factories.unit(session, DISTRICT, UnitKind.SQUAD, f"{i}中队", f"ZD0{i}", bureau)
        for i in (1, 2, 3)
    ]
    grids = {
        "G7": grid(session, squads[0], "G7", LON - 0.01, LAT),
        "G5": grid(session, squads[1], "G5", LON, LAT),
        "G6": grid(session, squads[2], "G6", LON + 0.01, LAT),
    }
    session.commit()
    return Layout(squads, grids)


def code_at(session: Session, lon: float, lat: float) -> str | None:
    found = index.grid_at(session, DISTRICT, lon, lat)
    return None if found is None else found.code


class TestPointInGrid:
    def test_a_point_inside_a_grid_finds_it(self, session: Session, layout: Layout) -> None:
        found = index.grid_at(session, DISTRICT, LON + 0.005, LAT + 0.005)

        assert found is not None
        assert (found.code, found.unit_id) == ("G5", layout.squads[1].id)

    def test_a_point_in_no_grid_finds_none(self, session: Session, layout: Layout) -> None:
        assert code_at(session, LON + 0.005, LAT + 0.02) is None

    def test_another_district_has_its_own_grids(self, session: Session, layout: Layout) -> None:
        assert index.grid_at(session, "510104", LON + 0.005, LAT + 0.005) is None


class TestSharedBorders:
    def test_a_point_on_the_border_of_g7_and_g5_goes_to_g5(
        self, session: Session, layout: Layout
    ) -> None:
        assert code_at(session, LON, LAT + 0.005) == "G5"

    def test_a_point_on_the_border_of_g5_and_g6_goes_to_g5(
        self, session: Session, layout: Layout
    ) -> None:
        assert code_at(session, LON + 0.01, LAT + 0.005) == "G5"

    def test_a_point_on_the_outer_edge_belongs_to_its_only_grid(
        self, session: Session, layout: Layout
    ) -> None:
        assert code_at(session, LON - 0.01, LAT + 0.005) == "G7"

    def test_a_corner_shared_by_four_grids_goes_to_the_lowest_code(
        self, session: Session, layout: Layout
    ) -> None:
        grid(session, layout.squads[0], "G9", LON - 0.01, LAT + 0.01)
        grid(session, layout.squads[2], "G8", LON, LAT + 0.01)
        session.commit()

        assert code_at(session, LON, LAT + 0.01) == "G5"

    def test_the_answer_is_the_same_every_time(self, session: Session, layout: Layout) -> None:
        answers = {code_at(session, LON + 0.01, LAT + 0.003) for _ in range(20)}

        assert answers == {"G5"}


class TestRebuiltWhenGridsChange:
    def test_a_new_grid_is_found_at_once(self, session: Session, layout: Layout) -> None:
        assert code_at(session, LON + 0.005, LAT + 0.015) is None

        grid(session, layout.squads[0], "G1", LON, LAT + 0.01)
        session.commit()

        assert code_at(session, LON + 0.005, LAT + 0.015) == "G1"

    def test_a_deactivated_grid_is_no_longer_found(self, session: Session, layout: Layout) -> None:
        assert code_at(session, LON, LAT + 0.005) == "G5"

        layout.grids["G5"].active = False
        session.commit()

        assert code_at(session, LON + 0.005, LAT + 0.005) is None
        assert code_at(session, LON, LAT + 0.005) == "G7"

    def test_a_redrawn_grid_is_found_in_its_new_place(
        self, session: Session, layout: Layout
    ) -> None:
        assert code_at(session, LON + 0.005, LAT + 0.005) == "G5"
        shape = grid_shape(square(LON, LAT + 0.05))
        row = layout.grids["G5"]
        row.geometry = shape.geometry
        row.min_lon, row.min_lat, row.max_lon, row.max_lat = (
            shape.min_lon,
            shape.min_lat,
            shape.max_lon,
            shape.max_lat,
        )
        session.commit()

        assert code_at(session, LON + 0.005, LAT + 0.005) is None
        assert code_at(session, LON + 0.005, LAT + 0.055) == "G5"

    def test_a_new_squad_of_a_grid_is_seen_without_a_rebuild(
        self, session: Session, layout: Layout
    ) -> None:
        index.grid_at(session, DISTRICT, LON + 0.005, LAT + 0.005)
        built = index.index_for(session, DISTRICT)
        layout.grids["G5"].unit_id = layout.squads[0].id
        session.commit()

        found = index.grid_at(session, DISTRICT, LON + 0.005, LAT + 0.005)

        assert index.index_for(session, DISTRICT) is built
        assert found is not None
        assert found.unit_id == layout.squads[0].id

    def test_an_unchanged_district_keeps_its_tree(self, session: Session, layout: Layout) -> None:
        first = index.index_for(session, DISTRICT)

        assert index.index_for(session, DISTRICT) is first


class TestExtent:
    def test_the_extent_covers_all_active_grids(self, session: Session, layout: Layout) -> None:
        extent = index.extent(session, DISTRICT)

        assert extent == pytest.approx((LON - 0.01, LAT, LON + 0.02, LAT + 0.01))

    def test_a_district_without_grids_has_no_extent(self, session: Session, layout: Layout) -> None:
        assert index.extent(session, "510104") is None
