"""Helpers for the organisation pages: HTML form values → API schemas, redirects that work with
and without htmx, and the display labels of the enums (English msgids, translated in templates)."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError
from starlette.responses import RedirectResponse, Response

from zhifa.errors import InvalidInput
from zhifa.models.org import OfficerStatus, UnitKind
from zhifa.org.actor import Actor
from zhifa.org.roles import ROLE_LABELS, Permission, ScopeLevel
from zhifa.web.errors import is_htmx

M = TypeVar("M", bound=BaseModel)

LABELS: dict[str, dict[str, str]] = {
    "kind": {k.value: k.label for k in UnitKind},
    "role": {r.value: label for r, label in ROLE_LABELS.items()},
    "scope": {s.value: s.label for s in ScopeLevel},
    "status": {s.value: s.label for s in OfficerStatus},
    "status_colour": {s.value: s.colour for s in OfficerStatus},
}


def done(request: Request, url: str) -> Response:
    """After a successful form post: htmx follows HX-Redirect, a plain browser a 303."""
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def parse(model: type[M], values: dict[str, Any]) -> M:
    """Build ``model`` from form values; a bad field is refused like an API payload (422)."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors()
        ]
        raise InvalidInput(
            "Some fields are missing or not valid: {fields}.",
            detail=errors,
            fields=", ".join(e["field"] for e in errors),
        ) from None


def blank_to_none(values: dict[str, Any]) -> dict[str, Any]:
    """HTML forms send '' for an empty field; the API schemas mean None."""
    return {k: (None if isinstance(v, str) and not v.strip() else v) for k, v in values.items()}


def page_context(actor: Actor, **extra: Any) -> dict[str, Any]:
    return {"labels": LABELS, "can_manage": actor.can(Permission.ORG_MANAGE), **extra}
