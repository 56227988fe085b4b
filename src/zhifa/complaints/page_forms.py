"""Complaint forms of the HTML pages (the hotline operator's and the citizen's): posted values →
intake's ``ComplaintIn``, and a refusal → a message beside the field it concerns. No routes.

A category's Open311 attributes are posted as ``attr-<category code>-<attribute code>`` so that
the public page can carry every category's questions at once (only the chosen one's are read).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from zhifa.catalog.presenters import FormValues
from zhifa.complaints.schemas import ComplaintIn
from zhifa.errors import AppError, InvalidInput
from zhifa.models.complaints import ComplaintCategory, Priority
from zhifa.web.i18n import translate

LIST_TYPES = frozenset({"singlevaluelist", "multivaluelist"})
# Intake's field names → the form's.
FIELD_ALIASES = {
    "category_code": "category",
    "lat": "lon",
    "point": "lon",
    "file": "photos",
    "media": "photos",
    "reporter_email": "reporter_phone",
}


@dataclass(frozen=True)
class CategoryView:
    """A category as the forms show it, attributes in their order."""

    id: int
    code: str
    name: str
    description: str
    group: str
    hotline_type: str
    attributes: list[dict[str, Any]] = field(default_factory=list)


def category_view(row: ComplaintCategory) -> CategoryView:
    attributes = sorted(
        (a for a in row.attributes or [] if isinstance(a, dict) and a.get("code")),
        key=lambda a: (a.get("order") is None, a.get("order") or 0, str(a.get("code"))),
    )
    return CategoryView(
        row.id, row.code, row.name, row.description, row.group, str(row.hotline_type), attributes
    )


def grouped(views: Sequence[CategoryView]) -> list[tuple[str, list[CategoryView]]]:
    """Categories by 数字城管 event class, groups in the order of their first category."""
    groups: dict[str, list[CategoryView]] = {}
    for view in views:
        groups.setdefault(view.group, []).append(view)
    return list(groups.items())


def attribute_name(category_code: str, attribute_code: str) -> str:
    return f"attr-{category_code}-{attribute_code}"


def attribute_answers(
    posted: FormValues, category: CategoryView | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The chosen category's answers (for intake) and the posted values (to show again)."""
    answers: dict[str, Any] = {}
    shown: dict[str, Any] = {}
    for attribute in category.attributes if category is not None else []:
        if attribute.get("variable") is False:
            continue
        name = attribute_name(category.code if category else "", str(attribute["code"]))
        if attribute.get("datatype") == "multivaluelist":
            chosen = posted.texts(name)
            shown[name] = chosen
            if chosen:
                answers[str(attribute["code"])] = chosen
            continue
        value = posted.text(name).strip()
        shown[name] = value
        if value:
            answers[str(attribute["code"])] = value
    return answers, shown


def _coordinate(text: str, name: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise InvalidInput(
            "The place on the map is not a valid position; set the pin again.",
            detail={"field": name},
        ) from None


def point(values: dict[str, Any]) -> tuple[float | None, float | None]:
    """The pin as (lon, lat); both or neither."""
    lon = _coordinate(str(values.get("lon", "")), "lon")
    lat = _coordinate(str(values.get("lat", "")), "lon")
    if (lon is None) != (lat is None):
        return None, None
    return lon, lat


def complaint_in(
    values: dict[str, Any],
    *,
    answers: dict[str, Any],
    priority: str = "",
) -> ComplaintIn:
    """Intake's input from the form's values; an anonymous report drops the name and phone."""
    lon, lat = point(values)
    anonymous = bool(values.get("anonymous"))
    name = "" if anonymous else str(values.get("reporter_name", "")).strip()
    phone = "" if anonymous else str(values.get("reporter_phone", "")).strip()
    return ComplaintIn(
        category_code=str(values.get("category", "")).strip(),
        description=str(values.get("description", "")).strip(),
        lon=lon,
        lat=lat,
        address=str(values.get("address", "")).strip(),
        attributes=answers,
        reporter_name=name or None,
        reporter_phone=phone or None,
        priority=Priority(priority) if priority in set(Priority) else None,
    )


def form_field(name: str, category_code: str) -> str:
    """The form field an intake refusal names (``attributes.<code>`` → the attribute's field)."""
    if name.startswith("attributes.") and category_code:
        return attribute_name(category_code, name.split(".", 1)[1])
    return FIELD_ALIASES.get(name, name)


def field_errors(
    locale: str, exc: AppError, *, category_code: str = "", default_field: str = ""
) -> dict[str, str]:
    """Field → message in the page's language; ``""`` holds the message for the whole form."""
    message = translate(locale, exc.message, **exc.params)
    errors = {"": message}
    detail = exc.detail if isinstance(exc.detail, dict) else {}
    name = str(detail.get("field") or default_field)
    if name:
        errors[form_field(name, category_code)] = message
    return errors


def chosen_category(views: Iterable[CategoryView], code: str) -> CategoryView | None:
    return next((v for v in views if v.code == code), None)
