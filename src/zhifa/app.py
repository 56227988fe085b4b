"""The application factory: settings, database, routers, static files and the error handler."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

from zhifa import __version__, blobs
from zhifa.config import Settings, get_settings
from zhifa.db import Database
from zhifa.kit import events
from zhifa.kit.jobs import Periodic
from zhifa.ledger import tasks as ledger_tasks
from zhifa.web import errors
from zhifa.web.headers import SecurityHeaders

STATIC_DIR = Path(__file__).resolve().parent / "web" / "static"


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.prepare_data_dir()
    database = db or Database(settings.database_url)

    @asynccontextmanager
    async def lifespan(running: FastAPI) -> AsyncIterator[None]:
        # Part files of uploads that died with an earlier process (never read; only disk space).
        blobs.sweep_partials(settings.blob_dir)
        # Signs checkpoints as the log grows; None when no ledger key has been generated yet.
        checkpoint_scheduler = ledger_tasks.start_scheduler(database, settings)
        running.state.checkpoint_scheduler = checkpoint_scheduler
        # On PostgreSQL, hear the bus events of the other app processes (LISTEN/NOTIFY).
        listener = events.start_listener(settings.database_url)
        running.state.bus_listener = listener
        # SLA sweep, outbox delivery and upstream polling (off in tests, which drive them).
        jobs = background_jobs(database, settings) if settings.background_jobs else []
        running.state.jobs = jobs
        for job in jobs:
            job.start()
        yield
        for job in jobs:
            job.stop()
        if listener is not None:
            listener.stop()
        if checkpoint_scheduler is not None:
            checkpoint_scheduler.stop()
        if db is None:
            database.dispose()

    app = FastAPI(
        title="zhifa 执法",
        version=__version__,
        description="综合行政执法智慧服务平台 — law-enforcement platform",
        lifespan=lifespan,
        docs_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.settings = settings
    app.state.db = database
    errors.install(app)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _include_routers(app)
    _serve_api_docs(app)
    return app


def background_jobs(database: Database, settings: Settings) -> list[Periodic]:
    """The app's periodic jobs (see ``kit.jobs``); each step owns its transactions."""
    from zhifa.complaints import escalation
    from zhifa.integrations import outbox, poller

    return [
        Periodic("sla-sweep", settings.sla_sweep_seconds, lambda: escalation.sweep_once(database)),
        Periodic(
            "outbox",
            settings.outbox_poll_seconds,
            lambda: outbox.deliver_due(database, settings),
        ),
        Periodic("upstream-poll", 5.0, lambda: poller.poll_due(database, settings)),
    ]


def _serve_api_docs(app: FastAPI) -> None:
    """OpenAPI docs at /docs with Swagger UI served from our own static files (no CDN)."""

    @app.get("/docs", include_in_schema=False)
    def get_api_docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/api/v1/openapi.json",
            title="zhifa 执法 API",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/vendor/swagger-ui/favicon-32x32.png",
            # No call to the public validator service: bureaus run on isolated networks.
            swagger_ui_parameters={"validatorUrl": None},
        )


def _include_routers(app: FastAPI) -> None:
    from zhifa.analytics import endpoints as analytics_endpoints
    from zhifa.analytics import pages as analytics_pages
    from zhifa.catalog import endpoints as catalog_endpoints
    from zhifa.catalog import pages as catalog_pages
    from zhifa.catalog.discretion import endpoints as discretion_endpoints
    from zhifa.catalog.laws import endpoints as law_endpoints
    from zhifa.complaints import admin_pages as complaint_admin_pages
    from zhifa.complaints import endpoints as complaint_endpoints
    from zhifa.complaints import (
        handling_endpoints,
        import_endpoints,
        sla_endpoints,
        supervision_pages,
    )
    from zhifa.complaints import pages as complaint_pages
    from zhifa.complaints import public as complaint_public
    from zhifa.dispatch import endpoints as dispatch_endpoints
    from zhifa.dispatch import pages as dispatch_pages
    from zhifa.documents import endpoints as document_endpoints
    from zhifa.documents import pages as document_pages
    from zhifa.documents import verify as document_verify
    from zhifa.inspections import endpoints as inspection_endpoints
    from zhifa.inspections import evidence_endpoints
    from zhifa.inspections import pages as inspection_pages
    from zhifa.integrations import endpoints as integration_endpoints
    from zhifa.integrations import pages as integration_pages
    from zhifa.ledger import endpoints as ledger_endpoints
    from zhifa.ledger import pages as ledger_pages
    from zhifa.mobile import pages as mobile_pages
    from zhifa.open311 import server as open311_server
    from zhifa.org import endpoints as org_endpoints
    from zhifa.org import pages as org_pages
    from zhifa.org.accounts import endpoints as account_endpoints
    from zhifa.org.accounts import pages as account_pages
    from zhifa.subjects import endpoints as subject_endpoints
    from zhifa.subjects import pages as subject_pages
    from zhifa.web import health, home

    for module in (
        health,
        account_endpoints,
        account_pages,
        # /api/v1/officers/live before org's /api/v1/officers/{officer_id}.
        dispatch_endpoints,
        org_endpoints,
        org_pages,
        catalog_endpoints,
        discretion_endpoints,
        law_endpoints,
        catalog_pages,
        ledger_endpoints,
        ledger_pages,
        subject_endpoints,
        subject_pages,
        inspection_endpoints,
        evidence_endpoints,
        inspection_pages,
        document_endpoints,
        document_pages,
        document_verify,
        mobile_pages,
        dispatch_pages,
        complaint_endpoints,
        import_endpoints,
        handling_endpoints,
        sla_endpoints,
        complaint_pages,
        complaint_admin_pages,
        supervision_pages,
        complaint_public,
        integration_endpoints,
        integration_pages,
        open311_server,
        analytics_endpoints,
        analytics_pages,
        home,
    ):
        app.include_router(module.router)
