"""Health check: answers 200 when the database answers, 503 when it does not."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import JSONResponse

from zhifa import __version__

router = APIRouter(tags=["health"])


@router.get("/healthz")
def get_health(request: Request) -> JSONResponse:
    """Liveness and database check (public)."""
    try:
        with request.app.state.db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok", "version": __version__})
