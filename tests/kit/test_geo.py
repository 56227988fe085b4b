"""Grid geometry: what a valid grid polygon is, and how each kind of bad GeoJSON is refused."""

from __future__ import annotations

from typing import Any

import pytest
from shapely.geometry import Polygon

from zhifa.kit.geo import GeometryError, area_m2, contains, grid_shape

CHONGZHOU = [[103.66, 30.62], [103.68, 30.62], [103.68, 30.64], [103.66, 30.64], [103.66, 30.62]]


def polygon(ring: list[list[float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [ring]}


def reason(obj: Any) -> str:
    with pytest.raises(GeometryError) as caught:
        grid_shape(obj)
    assert caught.value.status_code == 422
    return str(caught.value.detail["reason"])


class TestValidPolygon:
    def test_a_closed_square_near_chongzhou_is_accepted_with_bbox_and_area(self) -> None:
        shape = grid_shape(polygon(CHONGZHOU))
        assert shape.geometry == polygon(CHONGZHOU)
        assert (shape.min_lon, shape.min_lat, shape.max_lon, shape.max_lat) == (
            103.66,
            30.62,
            103.68,
            30.64,
        )
        # 0.02° × 0.02° at 30.63° N: ≈ 1.915 km × 2.224 km ≈ 4.26 km².
        assert shape.area_m2 == pytest.approx(4_259_000, rel=0.005)

    def test_a_feature_holding_a_polygon_is_unwrapped(self) -> None:
        feature = {"type": "Feature", "properties": {}, "geometry": polygon(CHONGZHOU)}
        assert grid_shape(feature).geometry["type"] == "Polygon"

    def test_a_polygon_with_a_hole_subtracts_the_hole_from_the_area(self) -> None:
        hole = [
            [103.665, 30.625],
            [103.665, 30.635],
            [103.675, 30.635],
            [103.675, 30.625],
            [103.665, 30.625],
        ]
        with_hole = grid_shape({"type": "Polygon", "coordinates": [CHONGZHOU, hole]})
        assert with_hole.area_m2 == pytest.approx(
            grid_shape(polygon(CHONGZHOU)).area_m2 * 0.75, rel=0.01
        )

    def test_area_of_one_square_degree_at_the_equator_matches_the_sphere(self) -> None:
        square = Polygon([(100, 4), (101, 4), (101, 5), (100, 5)])
        assert area_m2(square) == pytest.approx(12_364_000_000, rel=0.01)

    def test_contains_tells_inside_from_outside(self) -> None:
        geometry = grid_shape(polygon(CHONGZHOU)).geometry
        assert contains(geometry, 103.67, 30.63)
        assert not contains(geometry, 103.70, 30.63)


class TestRefusals:
    def test_a_point_is_not_a_polygon(self) -> None:
        assert reason({"type": "Point", "coordinates": [103.67, 30.63]}) == "not_a_polygon"

    def test_a_multipolygon_is_refused_with_a_clear_reason(self) -> None:
        multi = {"type": "MultiPolygon", "coordinates": [[CHONGZHOU]]}
        assert reason(multi) == "multipolygon"

    def test_a_self_intersecting_bow_tie_is_refused_with_the_explanation(self) -> None:
        bow_tie = [
            [103.66, 30.62],
            [103.68, 30.64],
            [103.68, 30.62],
            [103.66, 30.64],
            [103.66, 30.62],
        ]
        with pytest.raises(GeometryError) as caught:
            grid_shape(polygon(bow_tie))
        assert caught.value.detail["reason"] == "invalid_polygon"
        assert "Self-intersection" in caught.value.detail["explanation"]

    def test_swapped_lat_lon_order_is_recognised(self) -> None:
        swapped = [[lat, lon] for lon, lat in CHONGZHOU]
        with pytest.raises(GeometryError) as caught:
            grid_shape(polygon(swapped))
        assert caught.value.detail["reason"] == "swapped_order"
        assert caught.value.message == (
            "The coordinates look like [lat, lon]; GeoJSON wants [lon, lat]."
        )

    def test_a_polygon_outside_china_is_refused(self) -> None:
        paris = [[2.30, 48.85], [2.35, 48.85], [2.35, 48.87], [2.30, 48.87], [2.30, 48.85]]
        assert reason(polygon(paris)) == "outside_china"

    def test_an_unclosed_ring_is_refused(self) -> None:
        assert reason(polygon(CHONGZHOU[:-1] + [[103.661, 30.62]])) == "unclosed"

    def test_a_ring_with_fewer_than_four_positions_is_refused(self) -> None:
        triangle = [[103.66, 30.62], [103.68, 30.62], [103.66, 30.62]]
        assert reason(polygon(triangle)) == "too_few_positions"

    @pytest.mark.parametrize(
        "bad",
        [
            "POLYGON((1 2, 3 4))",
            {"type": "Polygon"},
            {"type": "Polygon", "coordinates": [[["103", "30"]]]},
            {"type": "Feature", "geometry": None},
        ],
    )
    def test_malformed_geojson_is_refused_not_crashed(self, bad: Any) -> None:
        with pytest.raises(GeometryError):
            grid_shape(bad)
