"""The subject form of the pages: posted text → ``SubjectIn`` / ``SubjectUpdate``, a row → the
form's values, and refusals → one message per field in the page language.

Typed values are checked here only as far as turning text into numbers, JSON and licence lines;
every rule is the service's. Problems of both kinds end up beside their field.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from pydantic import ValidationError

from zhifa.errors import AppError, InvalidInput
from zhifa.models.subjects import Subject
from zhifa.subjects.schemas import SubjectIn, SubjectUpdate
from zhifa.subjects.service import field_of
from zhifa.web.i18n import translate

TEXT_FIELDS = (
    "kind",
    "name",
    "uscc",
    "id_card",
    "representative",
    "phone",
    "address",
    "subject_type",
    "risk_level",
    "lon",
    "lat",
    "fence",
    "geofence_radius_m",
    "geofence",
    "licences",
    "note",
    "clear_id_card",
)


def N_(message: str) -> str:
    """Mark ``message`` for the translation catalog; it is translated where it is shown."""
    return message


FENCE_NONE, FENCE_RADIUS, FENCE_POLYGON = "none", "radius", "polygon"
PYDANTIC_PROBLEMS = {
    "missing": N_("Fill in this field."),
    "string_too_short": N_("Fill in this field."),
    "string_too_long": N_("This is too long."),
    "enum": N_("Choose one of the options."),
}


class FormProblems(InvalidInput):
    """Problems found while reading the form: ``detail.problems`` like the service's."""


def _problem(field: str, message: str, **params: Any) -> dict[str, Any]:
    return {"field": field, "message": message, "params": params}


def _number(values: dict[str, str], field: str, problems: list[dict[str, Any]]) -> float | None:
    text = values.get(field, "").strip().replace("，", ".")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        problems.append(_problem(field, N_("Enter a number, e.g. 103.6512.")))
        return None


def _polygon(text: str, problems: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not text.strip():
        problems.append(_problem("geofence", N_("Paste the fence polygon as GeoJSON.")))
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        problems.append(
            _problem("geofence", N_("The fence is not valid GeoJSON: {error}."), error=exc.msg)
        )
        return None
    if not isinstance(value, dict):
        problems.append(_problem("geofence", N_("The fence must be a GeoJSON Polygon.")))
        return None
    return value


def _licences(text: str, problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One licence a line: 名称 | 编号 | 发证机关 | 有效期至 (YYYY-MM-DD); only the name is
    needed."""
    licences = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.replace("｜", "|").split("|")]
        until = parts[3] if len(parts) > 3 else ""
        try:
            valid_until = date.fromisoformat(until) if until else None
        except ValueError:
            problems.append(
                _problem(
                    "licences",
                    N_("Licence line {line}: write the date as YYYY-MM-DD."),
                    line=number,
                )
            )
            continue
        if len(parts) > 4 or not parts[0]:
            problems.append(
                _problem(
                    "licences",
                    N_("Licence line {line}: write 名称 | 编号 | 发证机关 | 有效期至."),
                    line=number,
                )
            )
            continue
        licences.append(
            {
                "name": parts[0],
                "number": parts[1] if len(parts) > 1 else "",
                "issuer": parts[2] if len(parts) > 2 else "",
                "valid_until": valid_until,
            }
        )
    return licences


def _fence(values: dict[str, str], problems: list[dict[str, Any]]) -> dict[str, Any]:
    mode = values.get("fence") or FENCE_NONE
    radius = _number(values, "geofence_radius_m", problems) if mode == FENCE_RADIUS else None
    if mode == FENCE_RADIUS and radius is None and not problems:
        problems.append(_problem("geofence_radius_m", N_("Enter the fence radius in metres.")))
    polygon = _polygon(values.get("geofence", ""), problems) if mode == FENCE_POLYGON else None
    return {"geofence": polygon, "geofence_radius_m": radius}


def _payload(values: dict[str, str]) -> dict[str, Any]:
    problems: list[dict[str, Any]] = []
    payload: dict[str, Any] = {
        name: values.get(name, "")
        for name in ("kind", "name", "representative", "phone", "address", "subject_type", "note")
    }
    payload |= {
        "uscc": values.get("uscc", "").strip() or None,
        "risk_level": values.get("risk_level") or "low",
        "lon": _number(values, "lon", problems),
        "lat": _number(values, "lat", problems),
        "licences": _licences(values.get("licences", ""), problems),
        **_fence(values, problems),
    }
    if problems:
        first = problems[0]
        raise FormProblems(
            first["message"],
            detail={"field": first["field"], "problems": problems},
            **first["params"],
        )
    return payload


def _validated(model: type[SubjectIn] | type[SubjectUpdate], payload: dict[str, Any]) -> Any:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        problems = [
            _problem(
                str(e["loc"][0]) if e["loc"] else "",
                PYDANTIC_PROBLEMS.get(e["type"], N_("This value is not valid.")),
            )
            for e in exc.errors()
        ]
        raise FormProblems(
            problems[0]["message"], detail={"field": problems[0]["field"], "problems": problems}
        ) from None


def subject_in(values: dict[str, str]) -> SubjectIn:
    payload = _payload(values) | {"id_card": values.get("id_card", "").strip() or None}
    result: SubjectIn = _validated(SubjectIn, payload)
    return result


def subject_update(values: dict[str, str]) -> SubjectUpdate:
    """Every field of the form; the ID card only when typed (or cleared with the checkbox):
    the form never shows the stored number."""
    payload = _payload(values)
    typed = values.get("id_card", "").strip()
    if typed:
        payload["id_card"] = typed
    elif values.get("clear_id_card"):
        payload["id_card"] = None
    result: SubjectUpdate = _validated(SubjectUpdate, payload)
    return result


def form_values(row: Subject) -> dict[str, str]:
    fence = FENCE_POLYGON if row.geofence else FENCE_RADIUS if row.geofence_radius_m else FENCE_NONE
    licences = "\n".join(
        " | ".join(
            [
                str(lic.get("name") or ""),
                str(lic.get("number") or ""),
                str(lic.get("issuer") or ""),
                str(lic.get("valid_until") or ""),
            ]
        ).rstrip(" |")
        for lic in row.licences or []
    )
    return {
        "kind": str(row.kind),
        "name": row.name,
        "uscc": row.uscc or "",
        "id_card": "",
        "representative": row.representative,
        "phone": row.phone,
        "address": row.address,
        "subject_type": row.subject_type_code,
        "risk_level": str(row.risk_level),
        "lon": "" if row.lon is None else repr(row.lon),
        "lat": "" if row.lat is None else repr(row.lat),
        "fence": fence,
        "geofence_radius_m": "" if row.geofence_radius_m is None else f"{row.geofence_radius_m:g}",
        "geofence": json.dumps(row.geofence, ensure_ascii=False) if row.geofence else "",
        "licences": licences,
        "note": row.note,
    }


def field_errors(locale: str, exc: AppError) -> dict[str, str]:
    """Field → message in ``locale``; ``""`` holds the message for the whole form."""
    errors = {"": translate(locale, exc.message, **exc.params)}
    detail = exc.detail if isinstance(exc.detail, dict) else {}
    problems = detail.get("problems")
    if not isinstance(problems, list):
        problems = [{"field": field_of(exc), "message": exc.message, "params": exc.params}]
    for p in problems:
        name = "lon" if p.get("field") == "lat" and "lon" not in errors else p.get("field")
        name = {"id_card_digest": "id_card"}.get(str(name), str(name or ""))
        if name:
            errors.setdefault(name, translate(locale, p["message"], **(p.get("params") or {})))
    return errors
