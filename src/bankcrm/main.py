"""create_app(): settings, database, middleware, routers and error handlers in one place."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.responses import JSONResponse, Response

from bankcrm.audit import api as audit_api
from bankcrm.audit import pages as audit_pages
from bankcrm.core.config import Settings, get_settings
from bankcrm.core.context import Actor
from bankcrm.core.db import Database, create_database
from bankcrm.core.formatting import business_today
from bankcrm.core.lake import Lake
from bankcrm.core.logging import configure_logging
from bankcrm.core.scheduler import Scheduler
from bankcrm.customers import api as customers_api
from bankcrm.customers import pages as customer_pages
from bankcrm.identity import api as identity_api
from bankcrm.identity import pages as identity_pages
from bankcrm.identity.resolver import audit_denial, resolve_principal
from bankcrm.identity.service import orgs
from bankcrm.integration import api as integration_api
from bankcrm.integration import pages as integration_pages
from bankcrm.segmentation import pages as segmentation_pages
from bankcrm.segmentation import segment_pages
from bankcrm.segmentation.jobs import score_if_due
from bankcrm.segmentation.studio import pages as studio_pages
from bankcrm.web.auth import PrincipalRoute
from bankcrm.web.errors import document_unreadable_bodies, install_error_handlers
from bankcrm.web.render import STATIC_DIR, Navigation, Renderer
from bankcrm.web.security import RequestContextMiddleware, csrf_protect
from bankcrm.web.transaction import TransactionMiddleware

API_DESCRIPTION = """
JSON API of BankCRM for other bank systems (call centre, online banking, data warehouse).

Authenticate with `Authorization: Bearer <token>`; tokens are issued by an administrator to an
API-client user and carry scopes. Errors are RFC 9457 problem details; validation errors list
each field with the rule it broke. Unknown fields in a request body are rejected.
"""


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    database = database or create_database(settings)
    scheduler = _scheduler(database, settings) if settings.scheduler_enabled else Scheduler()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        scheduler.start()
        yield
        scheduler.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="BankCRM",
        version="0.1.0",
        description=API_DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        dependencies=[Depends(csrf_protect)],
    )
    app.state.settings = settings
    app.state.database = database
    app.state.principal_resolver = resolve_principal
    app.router.route_class = PrincipalRoute  # the app's own routes, like every router's

    navigation = Navigation()
    renderer = Renderer(navigation)
    app.state.renderer = renderer
    identity_pages.register_navigation(navigation)
    identity_pages.register_context(renderer)
    customer_pages.register_navigation(navigation)
    customer_pages.register_context(renderer)
    integration_pages.register_navigation(navigation)
    integration_pages.register_context(renderer)
    segmentation_pages.register_navigation(navigation)
    segmentation_pages.register_context(renderer)
    segment_pages.register_context(renderer)
    studio_pages.register_navigation(navigation)
    audit_pages.register_navigation(navigation)
    audit_pages.register_context(renderer)

    app.add_middleware(TransactionMiddleware, database_getter=lambda: app.state.database)
    app.add_middleware(RequestContextMiddleware, cookie_secure=settings.cookie_secure)
    install_error_handlers(app, renderer, on_denied=audit_denial)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(identity_pages.router)
    app.include_router(audit_pages.router)
    app.include_router(customer_pages.router)
    app.include_router(identity_api.router)
    app.include_router(audit_api.router)
    app.include_router(customers_api.router)
    app.include_router(integration_pages.router)
    app.include_router(integration_api.router)
    app.include_router(segment_pages.router)
    app.include_router(segmentation_pages.router)
    app.include_router(studio_pages.router)
    _add_operational_routes(app)
    document_unreadable_bodies(app)
    return app


def _scheduler(database: Database, settings: Settings) -> Scheduler:
    scheduler = Scheduler()

    def apply_org_moves() -> int:
        with database.transaction() as session:
            return orgs.apply_due_moves(session, Actor.system("scheduler"))

    def score_nightly() -> object:
        lake = Lake(settings.lake_root)
        return score_if_due(database, lake, today=business_today())

    scheduler.add("org.apply_due_moves", 3600, apply_org_moves)
    # Checked hourly, run once a day: yesterday's features once yesterday is over.
    scheduler.add("segmentation.score", 3600, score_nightly)
    return scheduler


def _add_operational_routes(app: FastAPI) -> None:
    @app.get("/healthz", include_in_schema=False)
    def healthz() -> Response:
        return JSONResponse({"status": "ok"})

    @app.get("/readyz", include_in_schema=False)
    def readyz(request: Request) -> Response:
        database: Database = request.app.state.database
        try:
            with database.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    @app.get("/api/docs", include_in_schema=False)
    def api_docs(request: Request) -> Response:
        renderer: Renderer = request.app.state.renderer
        return renderer.render(request, "api_docs.html")
