"""Prometheus metrics: a pure-ASGI middleware that times every request, and ``GET /metrics``.

Requests are labelled by route template (``/v1/chatkit/threads/{thread_id}``),
never by raw path, so ids cannot blow up the label space. Streaming responses
are timed to their last byte.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatkitd import credentials
from chatkitd.errors import Unauthenticated
from chatkitd.http.response_cache import ResponseCache


class Metrics:
    """The metrics of one app, in a registry of its own."""

    def __init__(
        self,
        response_cache: ResponseCache | None = None,
        collectors: Iterable[Collector] = (),
        token: str | None = None,
    ) -> None:
        self.registry = CollectorRegistry()
        if response_cache is not None:
            self.registry.register(_ResponseCacheCollector(response_cache))
        for collector in collectors:  # the run metrics (chatkitd.runtime.run_metrics)
            self.registry.register(collector)
        # Only a digest is kept; a scrape's token is compared with it in constant time.
        self.token_digest = credentials.digest(token) if token else None
        self.requests = Counter(
            "chatkitd_http_requests",
            "HTTP requests answered, by method, route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "chatkitd_http_request_duration_seconds",
            "Time from request to the last byte of the response.",
            ["method", "route"],
            registry=self.registry,
        )
        # labels() costs more than the rest of the bookkeeping; the children it
        # returns are fixed per label set, so keep them.
        self._children: dict[tuple[str, str, int], tuple] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                self.requests.labels(method, route, str(status)),
                self.duration.labels(method, route),
            )
        children[0].inc()
        children[1].observe(seconds)


class _ResponseCacheCollector:
    """The response cache's own counts, read when ``/metrics`` is scraped."""

    def __init__(self, cache: ResponseCache) -> None:
        self.cache = cache

    def collect(self):  # noqa: ANN201
        yield CounterMetricFamily(
            "chatkitd_response_cache_hits", "REST responses replayed from memory.", value=self.cache.hits
        )
        yield CounterMetricFamily(
            "chatkitd_response_cache_misses",
            "Cacheable REST requests the cache did not hold.",
            value=self.cache.misses,
        )
        yield GaugeMetricFamily(
            "chatkitd_response_cache_bytes", "Bytes of REST responses held.", value=self.cache.bytes_held
        )


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            template = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.observe(scope["method"], template, status, time.perf_counter() - started)


def metrics_of(request: Request) -> Metrics:
    """The app's request and run metrics (set once by ``create_app``), typed."""
    metrics = request.app.state.metrics
    if not isinstance(metrics, Metrics):
        raise TypeError(f"app.state.metrics is {type(metrics).__name__}, not Metrics")
    return metrics


async def metrics_endpoint(request: Request) -> Response:
    metrics = metrics_of(request)
    if metrics.token_digest is not None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not credentials.matches(token.strip(), metrics.token_digest):
            raise Unauthenticated("`/metrics` needs `Authorization: Bearer <CHATKITD_METRICS_TOKEN>`.")
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


routes = [Route("/metrics", metrics_endpoint, methods=["GET"])]
