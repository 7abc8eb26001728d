"""Typed access to the platform ``create_app`` attaches to the app, for handlers.

Starlette's ``app.state`` holds anything, so a handler reading
``request.app.state.platform`` gets an untyped value the type checker cannot
follow. Handlers call ``platform_of(request)`` (``chatkitd.http.metrics.metrics_of`` for the metrics) instead;
tests/test_layers.py checks that no other module reads ``app.state``.
"""

from __future__ import annotations

from starlette.requests import Request

from chatkitd.platform import Platform


def platform_of(request: Request) -> Platform:
    """The platform serving this request (set once by ``create_app``)."""
    platform = request.app.state.platform
    if not isinstance(platform, Platform):
        raise TypeError(f"app.state.platform is {type(platform).__name__}, not a Platform")
    return platform
