"""``create_app(settings)``: the ASGI app, with its middleware composed in one place."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from chatkitd import logs
from chatkitd.http import conversation, errors, health, metrics, openapi, sessions, threads, traces, uploads
from chatkitd.http import files as knowledge_files
from chatkitd.http import sources as cited_sources
from chatkitd.http import vector_stores as vector_store_routes
from chatkitd.http import web as web_ui  # the web UI: /static, /, /admin and its admin JSON
from chatkitd.http.access_log import AccessLog, AccessLogMiddleware
from chatkitd.http.body_limit import BodyLimitMiddleware, route_limits
from chatkitd.http.response_cache import ResponseCache, ResponseCacheMiddleware
from chatkitd.platform import Platform
from chatkitd.settings import Settings


def create_app(settings: Settings | None = None, platform: Platform | None = None) -> Starlette:
    platform = platform or Platform(settings or Settings())
    settings = platform.settings
    # The access log is written at ``info`` and below; above, requests still get their ids.
    verbose = settings.log_level in ("info", "debug", "trace")
    access_log = AccessLog(json_lines=settings.log_format == "json") if verbose else None
    logs.quiet_client_errors()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await platform.start()
        try:
            yield
        finally:
            if access_log is not None:
                access_log.flush()
            await platform.stop()

    responses = ResponseCache(platform.db.change_count, platform.settings.response_cache_bytes)
    metrics_token = platform.settings.metrics_token
    app_metrics = metrics.Metrics(
        response_cache=responses,
        collectors=platform.run_metrics.collectors,
        token=metrics_token.get_secret_value() if metrics_token else None,
    )
    middleware = [
        # Outermost: every request has its id before anything logs.
        Middleware(AccessLogMiddleware, log=access_log),
        Middleware(metrics.MetricsMiddleware, metrics=app_metrics),
        # Before any handler can read a body: one limit per route, enforced for all.
        Middleware(BodyLimitMiddleware, limit_for=route_limits(platform.settings.file_max_bytes)),
    ]
    if platform.settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=platform.settings.cors_origins,
                allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
                allow_headers=[
                    "authorization",
                    "content-type",
                    "openai-beta",
                    "accept-language",
                    "chatkit-domain-key",  # ChatKit.js's custom-style `domainKey`
                ],
                expose_headers=["retry-after"],
                max_age=600,
            )
        )

    # Innermost, so a replayed response still passes metrics and CORS.
    middleware.append(Middleware(ResponseCacheMiddleware, cache=responses, prefix="/v1/chatkit/threads"))
    app = Starlette(
        # Routes are tried in order and none overlap, so the busiest come first.
        routes=[
            *conversation.routes,
            *threads.routes,
            *sessions.routes,
            *uploads.routes,
            *traces.routes,
            *health.routes,
            *metrics.routes,
            *openapi.routes,
            *knowledge_files.routes,
            *vector_store_routes.routes,
            *cited_sources.routes,
        ],
        middleware=middleware,
        exception_handlers=errors.EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    app.router.routes.extend(web_ui.routes)
    app.state.platform = platform
    app.state.metrics = app_metrics
    return app
