"""EXIF facts of a photo: DateTimeOriginal (with its offset, else local time) in UTC, and the GPS
position in signed decimal degrees; broken or absent EXIF is no error, only no facts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.blobs import media
from zhifa.inspections import exif


def photo(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "photo.jpg"
    path.write_bytes(data)
    return path


class TestTakenAt:
    def test_the_original_time_with_its_offset_is_converted_to_utc(self, tmp_path: Path) -> None:
        facts = exif.read(photo(tmp_path, media.jpeg(taken="2026:03:14 09:26:53", offset="+08:00")))

        assert facts.taken_at == datetime(2026, 3, 14, 1, 26, 53, tzinfo=UTC)

    def test_a_negative_offset_is_honoured(self, tmp_path: Path) -> None:
        facts = exif.read(photo(tmp_path, media.jpeg(taken="2026:03:14 09:26:53", offset="-05:00")))

        assert facts.taken_at == datetime(2026, 3, 14, 14, 26, 53, tzinfo=UTC)

    def test_without_an_offset_the_camera_clock_is_shanghai_time(self, tmp_path: Path) -> None:
        facts = exif.read(photo(tmp_path, media.jpeg(taken="2026:03:14 09:26:53")))

        assert facts.taken_at == datetime(2026, 3, 14, 1, 26, 53, tzinfo=UTC)

    def test_the_local_zone_is_configurable(self, tmp_path: Path) -> None:
        path = photo(tmp_path, media.jpeg(taken="2026:03:14 09:26:53"))

        facts = exif.read(path, tz=ZoneInfo("Asia/Urumqi"))

        assert facts.taken_at == datetime(2026, 3, 14, 3, 26, 53, tzinfo=UTC)

    @pytest.mark.parametrize(
        "taken", ["0000:00:00 00:00:00", "    :  :     :  :  ", "2026-03-14T09:26:53", ""]
    )
    def test_a_blank_or_malformed_time_is_no_time(self, tmp_path: Path, taken: str) -> None:
        facts = exif.read(photo(tmp_path, media.jpeg(taken=taken)))

        assert facts.taken_at is None
        assert facts.lat == pytest.approx(30.605)

    def test_an_impossible_offset_falls_back_to_local_time(self, tmp_path: Path) -> None:
        facts = exif.read(photo(tmp_path, media.jpeg(taken="2026:03:14 09:26:53", offset="+99:00")))

        assert facts.taken_at == datetime(2026, 3, 14, 1, 26, 53, tzinfo=UTC)


class TestPosition:
    def test_degrees_minutes_seconds_become_decimal_degrees(self, tmp_path: Path) -> None:
        facts = exif.read(photo(tmp_path, media.jpeg()))

        assert facts.lat == pytest.approx(30.605, abs=1e-7)
        assert facts.lon == pytest.approx(103.605, abs=1e-7)

    def test_south_and_west_are_negative(self, tmp_path: Path) -> None:
        data = media.jpeg(lat=(33, 52, 4.8), lon=(151, 12, 36), lat_ref="S", lon_ref="W")

        facts = exif.read(photo(tmp_path, data))

        assert facts.lat == pytest.approx(-33.868, abs=1e-7)
        assert facts.lon == pytest.approx(-151.21, abs=1e-7)

    def test_zero_zero_is_no_fix(self, tmp_path: Path) -> None:
        facts = exif.read(photo(tmp_path, media.jpeg(lat=(0, 0, 0), lon=(0, 0, 0))))

        assert (facts.lon, facts.lat) == (None, None)

    def test_an_unknown_reference_is_no_position(self, tmp_path: Path) -> None:
        facts = exif.read(photo(tmp_path, media.jpeg(lat_ref="X")))

        assert (facts.lon, facts.lat) == (None, None)

    def test_a_latitude_beyond_the_pole_is_no_position(self, tmp_path: Path) -> None:
        facts = exif.read(photo(tmp_path, media.jpeg(lat=(95, 0, 0))))

        assert (facts.lon, facts.lat) == (None, None)


class TestNoFacts:
    def test_a_photo_without_exif_has_no_facts(self, tmp_path: Path) -> None:
        assert exif.read(photo(tmp_path, media.plain_jpeg())) == exif.NONE

    def test_a_photo_with_a_time_but_no_gps_has_only_the_time(self, tmp_path: Path) -> None:
        facts = exif.read(photo(tmp_path, media.jpeg(lat=None, lon=None)))

        assert facts.taken_at is not None
        assert (facts.lon, facts.lat) == (None, None)

    def test_a_truncated_file_is_no_error(self, tmp_path: Path) -> None:
        assert exif.read(photo(tmp_path, media.jpeg()[:40])) == exif.NONE

    def test_bytes_that_are_no_image_are_no_error(self, tmp_path: Path) -> None:
        assert exif.read(photo(tmp_path, b"not an image at all")) == exif.NONE

    def test_a_corrupted_exif_segment_is_no_error(self, tmp_path: Path) -> None:
        data = bytearray(media.jpeg())
        start = data.index(b"Exif\x00\x00")
        data[start + 6 : start + 40] = b"\xff" * 34

        facts = exif.read(photo(tmp_path, bytes(data)))

        assert facts.taken_at is None
