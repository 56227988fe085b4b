"""JSON API of the fine calculator (自由裁量计算): ``POST /api/v1/discretion/evaluate``.

Reading the catalog is enough (catalog:read, every role): evaluating changes nothing, so it writes
no ledger event; the figure that counts is recorded with the case that uses it. The explanation's
language: ``?lang=``, then the language cookie, then ``Accept-Language``, then the account's
choice, else zh_CN.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from zhifa.catalog.auth import CatalogRead
from zhifa.catalog.discretion import loader
from zhifa.catalog.discretion.engine import evaluate
from zhifa.catalog.discretion.schemas import EvaluationIn, EvaluationRead, present
from zhifa.kit.clock import today_local
from zhifa.org.auth import DbSession
from zhifa.web.i18n import LOCALES
from zhifa.web.templating import LOCALE_COOKIE, request_locale

router = APIRouter(prefix="/api/v1/discretion", tags=["discretion"])


@router.post("/evaluate", response_model=EvaluationRead)
def evaluate_discretion(
    request: Request, session: DbSession, actor: CatalogRead, body: EvaluationIn
) -> EvaluationRead:
    """Compute the decision and the fine for an act from the benchmark in force, with the
    statutory and tier ranges, measures, citations and a step-by-step explanation."""
    engine_input = loader.load(session, actor.district_code, body, today=today_local())
    return present(evaluate(engine_input), explanation_locale(request))


def explanation_locale(request: Request) -> str:
    """``?lang=`` or the cookie, else ``Accept-Language``, else the account's or default."""
    chosen = request.query_params.get("lang") or request.cookies.get(LOCALE_COOKIE)
    accepted = _accepted(request.headers.get("accept-language", ""))
    if not chosen and accepted is not None:
        return accepted
    return request_locale(request)


def _accepted(header: str) -> str | None:
    """The first language of ``Accept-Language`` we have (``en-GB`` → en, ``zh-CN`` → zh_CN)."""
    for entry in header.split(","):
        tag = entry.split(";")[0].strip().replace("-", "_")
        for candidate in (tag, tag.split("_")[0]):
            found = next((loc for loc in LOCALES if loc.lower() == candidate.lower()), None)
            found = found or next((loc for loc in LOCALES if loc[:2] == candidate.lower()), None)
            if candidate and found:
                return found
    return None
