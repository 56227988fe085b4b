"""Distance from a GPS fix to a subject's fence: 0 inside, metres outside, within 0.1 % of the
geodesic distance at the few kilometres a check-in decision looks at."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.field import CAFE_LAT, CAFE_LON, fence
from zhifa.inspections.geofence import distance_m, fence_of
from zhifa.kit.geo import haversine_m

POLYGON = fence_of(fence(CAFE_LON, CAFE_LAT), CAFE_LON, CAFE_LAT, None)
NORTH_EDGE = CAFE_LAT + 0.0005


class TestPolygonFence:
    def test_a_fix_inside_the_polygon_is_zero_metres_away(self) -> None:
        assert POLYGON is not None
        assert distance_m(POLYGON, CAFE_LON, CAFE_LAT) == 0.0

    def test_a_fix_on_the_edge_is_zero_metres_away(self) -> None:
        assert POLYGON is not None
        assert distance_m(POLYGON, CAFE_LON, NORTH_EDGE) == pytest.approx(0.0, abs=1e-6)

    def test_a_fix_due_north_is_as_far_as_the_great_circle_says(self) -> None:
        assert POLYGON is not None
        lat = NORTH_EDGE + 0.0030  # about 333 m north of the northern edge
        expected = haversine_m(CAFE_LON, NORTH_EDGE, CAFE_LON, lat)

        assert distance_m(POLYGON, CAFE_LON, lat) == pytest.approx(expected, rel=1e-3)
        assert 330 < expected < 336

    def test_the_polygon_wins_over_a_radius(self) -> None:
        both = fence_of(fence(CAFE_LON, CAFE_LAT), CAFE_LON, CAFE_LAT, 500.0)
        assert both is not None
        assert both.rings is not None


class TestRadiusFence:
    def test_a_fix_inside_the_circle_is_zero_metres_away(self) -> None:
        circle = fence_of(None, CAFE_LON, CAFE_LAT, 50.0)
        assert circle is not None
        assert distance_m(circle, CAFE_LON + 0.0002, CAFE_LAT) == 0.0

    def test_outside_the_circle_the_distance_is_to_its_rim(self) -> None:
        circle = fence_of(None, CAFE_LON, CAFE_LAT, 50.0)
        assert circle is not None
        lat = CAFE_LAT + 0.002  # about 222 m north of the centre
        expected = haversine_m(CAFE_LON, CAFE_LAT, CAFE_LON, lat) - 50.0

        assert distance_m(circle, CAFE_LON, lat) == pytest.approx(expected, rel=1e-3)


class TestNoFence:
    @pytest.mark.parametrize(
        ("geofence", "lon", "lat", "radius"),
        [(None, None, None, None), (None, CAFE_LON, CAFE_LAT, None), (None, None, None, 50.0)],
    )
    def test_a_subject_without_polygon_or_point_and_radius_has_no_fence(
        self, geofence: None, lon: float | None, lat: float | None, radius: float | None
    ) -> None:
        assert fence_of(geofence, lon, lat, radius) is None


class TestAccuracy:
    @settings(max_examples=200, deadline=None)
    @given(
        bearing=st.floats(min_value=0, max_value=2 * math.pi),
        metres=st.floats(min_value=5, max_value=5000),
        lat0=st.floats(min_value=18, max_value=50),
    )
    def test_the_local_projection_is_within_a_tenth_of_a_percent_of_the_geodesic(
        self, bearing: float, metres: float, lat0: float
    ) -> None:
        lon0 = 110.0
        dlat = metres * math.cos(bearing) / 111_195.0
        dlon = metres * math.sin(bearing) / (111_195.0 * math.cos(math.radians(lat0)))
        circle = fence_of(None, lon0, lat0, 1.0)
        assert circle is not None
        geodesic = haversine_m(lon0, lat0, lon0 + dlon, lat0 + dlat) - 1.0

        assert distance_m(circle, lon0 + dlon, lat0 + dlat) == pytest.approx(geodesic, rel=1e-3)
