"""Every model call of a run, metered: time to first token, tokens in and out.

Operators ask "which workflow on which model is slow, or burns tokens"
without reading traces, and traces may be off per session. So the meter
sits on the model itself: every model chatkitd builds (``build_model``)
mixes in ``Metered``, which times a streamed call to its first output delta
and reads the usage a call reports. Whom to tell is the run's business: the
runtime sets ``current_meter`` for the run (with the workflow's id), and a
model called outside a run (a title, a CLI check) is not metered.

The mixin keeps each model's class, so the Agents SDK's checks of a model's
kind (Chat Completions or Responses) still see what they expect.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import AsyncIterator
from typing import Any, Protocol


class Meter(Protocol):
    """Where a run's model calls report (``chatkitd.runtime.run_metrics.RunMeter``)."""

    def first_token(self, model: str, seconds: float) -> None: ...

    def tokens(self, model: str, input_tokens: int, output_tokens: int) -> None: ...


current_meter: contextvars.ContextVar[Meter | None] = contextvars.ContextVar("chatkitd_meter", default=None)
# Set while a non-streamed call runs, for models whose get_response streams internally.
_counted_outside: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "chatkitd_meter_outside", default=False
)


def model_name(model: Any) -> str:
    name = getattr(model, "model", None) or getattr(model, "name", None)
    return str(name or type(model).__name__)


class Metered:
    """Mix into an Agents SDK ``Model`` (first in its bases) to meter its calls."""

    async def get_response(self, *args: Any, **kwargs: Any) -> Any:
        meter = current_meter.get()
        if meter is None:
            return await super().get_response(*args, **kwargs)  # type: ignore[misc]
        token = _counted_outside.set(True)
        started = time.perf_counter()
        try:
            response = await super().get_response(*args, **kwargs)  # type: ignore[misc]
        finally:
            _counted_outside.reset(token)
        name = model_name(self)
        # Not streamed: the whole answer is the first token's wait.
        meter.first_token(name, time.perf_counter() - started)
        usage = getattr(response, "usage", None)
        if usage is not None:
            meter.tokens(name, usage.input_tokens or 0, usage.output_tokens or 0)
        return response

    def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        events = super().stream_response(*args, **kwargs)  # type: ignore[misc]
        meter = current_meter.get()
        if meter is None or _counted_outside.get():
            return events
        return _metered_stream(events, meter, model_name(self))


async def _metered_stream(events: AsyncIterator[Any], meter: Meter, name: str) -> AsyncIterator[Any]:
    started = time.perf_counter()
    waiting = True
    async for event in events:
        kind = getattr(event, "type", "")
        if waiting and kind.endswith(".delta"):
            waiting = False
            meter.first_token(name, time.perf_counter() - started)
        elif kind == "response.completed":
            usage = getattr(event.response, "usage", None)
            if usage is not None:
                meter.tokens(name, usage.input_tokens or 0, usage.output_tokens or 0)
        yield event
