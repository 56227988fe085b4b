"""Open311 wire formats: one document, written as JSON or as XML; the standard error bodies.

A document is ``{root: value}`` (the "Spark" convention mySociety's Open311::Endpoint uses):

- JSON drops the root wrapper: ``{"services": [...]}`` is written ``[...]``;
- XML writes ``<root>``, and a list under key ``k`` as ``<k>`` holding one ``<singular(k)>`` per
  item (``services`` → ``service``, ``service_requests`` → ``request``), so
  ``{"services": [{...}]}`` is ``<services><service>...</service></services>``.

Scalars: booleans are ``true``/``false`` in XML, ``None`` an empty element (JSON ``null``), times
ISO 8601 with the bureau's offset (``2026-11-29T09:55:00+08:00``). XML is UTF-8 with its
declaration; characters XML 1.0 cannot carry (control characters) are dropped from text.

Invariant: every response of ``/open311/v2`` — success or error — goes through ``render``.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from zhifa.kit.clock import SHANGHAI, local

MEDIA_TYPES = {
    "json": "application/json; charset=utf-8",
    "xml": "text/xml; charset=utf-8",
}
# Element names of list items (the rest strip a final "s").
SINGULAR = {
    "service_requests": "request",
    "service_request_updates": "request_update",
    "values": "value",
}
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
# Characters XML 1.0 forbids (C0 controls except tab, newline and carriage return; surrogates).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class Problem:
    """One entry of an error body: an English message id with ``{placeholders}``."""

    message: str
    params: dict[str, Any] = field(default_factory=dict)


class Open311Error(Exception):
    """A refusal written as the standard error body (``<errors><error>…``) with this status."""

    def __init__(self, status: int, problems: list[Problem]) -> None:
        super().__init__(", ".join(p.message for p in problems))
        self.status = status
        self.problems = problems

    @classmethod
    def one(cls, status: int, message: str, **params: Any) -> Open311Error:
        return cls(status, [Problem(message, params)])


def w3c(value: datetime | None, tz: ZoneInfo = SHANGHAI) -> str | None:
    """A time as Open311 writes it: local, to the second, with the offset."""
    if value is None:
        return None
    return local(value, tz).replace(microsecond=0).isoformat()


def singular(key: str) -> str:
    return SINGULAR.get(key) or key.removesuffix("s")


def _scalar_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return w3c(value) or ""
    return _NOT_XML.sub("", str(value))


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _fill(ET.SubElement(element, key), item)
    elif isinstance(value, list | tuple):
        name = singular(element.tag)
        for item in value:
            _fill(ET.SubElement(element, name), item)
    else:
        element.text = _scalar_text(value)


def to_xml(document: Mapping[str, Any]) -> bytes:
    ((root_name, value),) = document.items()
    root = ET.Element(root_name)
    _fill(root, value)
    return (XML_DECLARATION + ET.tostring(root, encoding="unicode")).encode("utf-8")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return w3c(value)
    raise TypeError(f"not serialisable: {type(value).__name__}")


def to_json(document: Mapping[str, Any]) -> bytes:
    ((_root, value),) = document.items()
    return json.dumps(value, ensure_ascii=False, default=_json_default).encode("utf-8")


def render(fmt: str, document: Mapping[str, Any], status: int = 200) -> Response:
    body = to_json(document) if fmt == "json" else to_xml(document)
    return Response(body, status_code=status, media_type=MEDIA_TYPES[fmt])


def error_format(request: Request) -> str:
    """The format of an error: the one asked for in the path (also of an unknown resource), else
    by ``Accept``, else XML (the format every Open311 server must speak)."""
    asked = str(request.path_params.get("fmt") or request.url.path.rpartition(".")[2]).lower()
    if asked in MEDIA_TYPES:
        return asked
    accept = request.headers.get("accept", "")
    return "json" if "json" in accept and "xml" not in accept else "xml"


def error_document(status: int, descriptions: list[str]) -> dict[str, Any]:
    return {"errors": [{"code": status, "description": text} for text in descriptions]}
