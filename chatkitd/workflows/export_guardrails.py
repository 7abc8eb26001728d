"""Agent Builder's guardrails in exported code, run by chatkitd's checks.

An export calls ``guardrails.runtime.run_guardrails`` (the ``openai-guardrails``
package) with checks named as in Agent Builder. ``install()`` re-registers
three of them in that package's registry (its public ``register``/``remove``)
with ``chatkitd.workflows.guardrails``' implementations: ``Contains PII``
(offline; the package's own needs a spaCy model downloaded separately),
``Jailbreak`` and ``Moderation`` (judged by the workflow's model provider,
not OpenAI's moderation API). The package's other checks run as they are.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, ConfigDict

from chatkitd.workflows import guardrails

# Makes the judge for a model name, in the export run in progress (set by ExportWorkflow).
JudgeFor = Callable[[str | None], guardrails.Judge]
JUDGE: contextvars.ContextVar[JudgeFor | None] = contextvars.ContextVar("chatkitd_judge", default=None)

NAMES = {"Contains PII": "pii", "Jailbreak": "jailbreak", "Moderation": "moderation"}


class AnyConfig(BaseModel):
    """The check's settings as the export wrote them (``entities``, ``confidence_threshold``...)."""

    model_config = ConfigDict(extra="allow")


def _bridge(name: str, check: str) -> Callable[[Any, str, AnyConfig], Awaitable[Any]]:
    async def run(ctx: Any, data: str, config: AnyConfig) -> Any:
        from guardrails.types import GuardrailResult

        settings = dict(config.model_extra or {})
        judge_for = JUDGE.get()
        judge = judge_for(settings.get("model")) if judge_for is not None and check != "pii" else None
        result = await guardrails.CHECKS[check](data, settings, judge)
        info: dict[str, Any] = {"guardrail_name": name, **result.info}
        if result.checked_text is not None:
            info["checked_text"] = result.checked_text
        if "flagged" not in info:
            info["flagged"] = result.tripped
        return GuardrailResult(tripwire_triggered=result.tripped, info=info)

    run.__name__ = f"chatkitd_{check}"
    return run


_installed = False
_lock = threading.Lock()


def install() -> None:
    """Replace the three checks in ``openai-guardrails``' default registry (once per process)."""
    global _installed
    with _lock:
        if _installed:
            return
        from guardrails.registry import default_spec_registry

        for name, check in NAMES.items():
            spec = default_spec_registry.get(name)
            default_spec_registry.remove(name)
            default_spec_registry.register(
                name, _bridge(name, check), spec.description, spec.media_type, metadata=spec.metadata
            )
        _installed = True
