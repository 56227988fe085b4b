"""Small real media files for store and evidence tests: JPEGs with EXIF written by Pillow, PNGs,
and the opening bytes of WebM and MP4 containers (what the sniffer reads), padded to a size."""

from __future__ import annotations

import io
from fractions import Fraction

from PIL import ExifTags, Image
from PIL.TiffImagePlugin import IFDRational

# 崇州 (the test café): 30°36'18" N, 103°36'18" E = 30.605, 103.605.
CAFE_DMS = ((30, 36, 18), (103, 36, 18))

EBML_WEBM = (
    b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08"
    b"\x42\x82\x84webm\x42\x87\x81\x04\x42\x85\x81\x02"
)
FTYP_MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
FTYP_M4A = b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A mp42isom\x00\x00\x00\x00"
FTYP_ISO5 = b"\x00\x00\x00\x18ftypiso5\x00\x00\x02\x00iso5iso6"


def _rationals(dms: tuple[float, float, float]) -> tuple[IFDRational, ...]:
    return tuple(IFDRational(Fraction(str(part)).limit_denominator(10_000)) for part in dms)


def jpeg(
    *,
    taken: str | None = "2026:03:14 09:26:53",
    offset: str | None = None,
    lat: tuple[float, float, float] | None = CAFE_DMS[0],
    lon: tuple[float, float, float] | None = CAFE_DMS[1],
    lat_ref: str = "N",
    lon_ref: str = "E",
    colour: tuple[int, int, int] = (200, 30, 30),
    size: tuple[int, int] = (64, 48),
) -> bytes:
    """A JPEG with DateTimeOriginal (and OffsetTimeOriginal) and a GPS position as asked."""
    exif = Image.Exif()
    camera = exif.get_ifd(ExifTags.IFD.Exif)
    if taken is not None:
        camera[ExifTags.Base.DateTimeOriginal] = taken
    if offset is not None:
        camera[ExifTags.Base.OffsetTimeOriginal] = offset
    if lat is not None and lon is not None:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        gps[ExifTags.GPS.GPSLatitudeRef] = lat_ref
        gps[ExifTags.GPS.GPSLatitude] = _rationals(lat)
        gps[ExifTags.GPS.GPSLongitudeRef] = lon_ref
        gps[ExifTags.GPS.GPSLongitude] = _rationals(lon)
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", exif=exif)
    return out.getvalue()


def plain_jpeg(colour: tuple[int, int, int] = (20, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, "JPEG")
    return out.getvalue()


def png(colour: tuple[int, int, int] = (10, 200, 10)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, "PNG")
    return out.getvalue()


def padded(head: bytes, size: int, fill: bytes = b"\x00") -> bytes:
    """``head`` followed by filler up to ``size`` bytes (a container's opening is what sniffs)."""
    return head + fill * (size - len(head))


def webm(size: int = 4096) -> bytes:
    return padded(EBML_WEBM, size)


def mp4(size: int = 4096, head: bytes = FTYP_MP4) -> bytes:
    return padded(head, size)
