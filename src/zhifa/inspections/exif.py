"""What a photo says about itself: when it was taken (EXIF DateTimeOriginal) and where (GPS IFD).

These are the camera's claims, kept beside the device's claimed time and the server's receipt time;
none of them is trusted over the others, and none is required. A photo without EXIF, or with EXIF
that does not parse (a truncated segment, a blank or impossible date, a zero denominator), simply
has no EXIF facts: reading never fails an upload.

- Time: ``DateTimeOriginal`` with ``OffsetTimeOriginal`` when present; without an offset the
  camera's clock is taken as local time (Asia/Shanghai by default). Returned in UTC.
- Place: decimal degrees (WGS-84 as phones write them), south and west negative. ``0, 0`` is what
  some phones write without a fix, and is treated as no position.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from PIL import ExifTags, Image

from zhifa.kit.clock import SHANGHAI

_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")


@dataclass(frozen=True)
class ExifFacts:
    taken_at: datetime | None = None  # UTC
    lon: float | None = None
    lat: float | None = None


NONE = ExifFacts()


def read(path: Path, *, tz: ZoneInfo = SHANGHAI) -> ExifFacts:
    """The EXIF time and position of the image at ``path``; empty facts when there are none."""
    try:
        with warnings.catch_warnings():
            # Only the header is read, never the pixels: a huge image is no decompression bomb.
            warnings.simplefilter("ignore")
            with Image.open(path) as image:
                exif = image.getexif()
                camera = exif.get_ifd(ExifTags.IFD.Exif)
                gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    except Exception:  # any unreadable image simply has no EXIF facts
        return NONE
    lon, lat = _position(gps)
    return ExifFacts(taken_at=_taken_at(camera, tz), lon=lon, lat=lat)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", errors="replace")
    return value.strip("\x00 ") if isinstance(value, str) else ""


def _taken_at(camera: Mapping[int, Any], tz: ZoneInfo) -> datetime | None:
    try:
        moment = datetime.strptime(
            _text(camera.get(ExifTags.Base.DateTimeOriginal)), "%Y:%m:%d %H:%M:%S"
        )
    except ValueError:
        return None
    offset = _OFFSET.match(_text(camera.get(ExifTags.Base.OffsetTimeOriginal)))
    if offset is None:
        return moment.replace(tzinfo=tz).astimezone(UTC)
    sign = -1 if offset.group(1) == "-" else 1
    delta = timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3)))
    if delta > timedelta(hours=14):
        return moment.replace(tzinfo=tz).astimezone(UTC)
    return moment.replace(tzinfo=timezone(sign * delta)).astimezone(UTC)


def _position(gps: Mapping[int, Any]) -> tuple[float | None, float | None]:
    lat = _degrees(gps.get(ExifTags.GPS.GPSLatitude), _text(gps.get(ExifTags.GPS.GPSLatitudeRef)))
    lon = _degrees(gps.get(ExifTags.GPS.GPSLongitude), _text(gps.get(ExifTags.GPS.GPSLongitudeRef)))
    if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180 or (lat == 0 and lon == 0):
        return None, None
    return lon, lat


def _degrees(value: Any, ref: str) -> float | None:
    """Degrees, minutes, seconds (rationals) as signed decimal degrees; None when unusable."""
    if ref.upper() not in ("N", "S", "E", "W"):
        return None
    try:
        parts = [float(part) for part in value]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not 1 <= len(parts) <= 3 or not all(math.isfinite(p) and p >= 0 for p in parts):
        return None
    degrees = sum(part / 60.0**i for i, part in enumerate(parts))
    return round(-degrees if ref.upper() in ("S", "W") else degrees, 7)
