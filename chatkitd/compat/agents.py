"""openai-agents: the placeholder id of Chat Completions messages, and the default runner.

**Default runner.** ``Runner.run`` hands every call to the SDK's default
``AgentRunner`` (``agents.run.set_default_agent_runner``, both marked "experimental,
not part of the public API"). ``install_runner_hook`` makes that default a runner
that asks ``hook`` first, so an Agent Builder export's own ``Runner.run`` calls can
be served by chatkitd (``chatkitd.workflows.export_runner``); when the hook
returns ``NotHooked`` the SDK's runner runs the call as before.

**Placeholder ids.**

Those models stream each message under ``FAKE_RESPONSES_ID`` (from a module
the SDK does not document), and chatkit reuses a model's message id as the
item id, so two messages of one run would collide in the store. ``ItemIds``
gives them real ids, event by event.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from agents.models.fake_id import FAKE_RESPONSES_ID as FAKE_RESPONSES_ID
from agents.run import AgentRunner, get_default_agent_runner, set_default_agent_runner
from chatkit.types import ThreadItemAddedEvent, ThreadItemDoneEvent, ThreadItemUpdatedEvent, ThreadStreamEvent


class ItemIds:
    """Replaces the placeholder id of streamed messages with the store's own ids."""

    def __init__(self, store: Any, thread: Any, context: Any) -> None:
        self._new_id = lambda: store.generate_item_id("message", thread, context)
        self._current: str | None = None

    def fix(self, event: ThreadStreamEvent) -> None:
        if isinstance(event, ThreadItemUpdatedEvent):
            if event.item_id == FAKE_RESPONSES_ID:
                event.item_id = self._current or event.item_id
        elif isinstance(event, ThreadItemAddedEvent):
            if event.item.id == FAKE_RESPONSES_ID:
                self._current = event.item.id = self._new_id()
        elif isinstance(event, ThreadItemDoneEvent) and event.item.id == FAKE_RESPONSES_ID:
            event.item.id = self._current or self._new_id()
            self._current = None


class NotHooked:
    """What a runner hook returns for a call it leaves to the SDK."""


NOT_HOOKED = NotHooked()
# hook(runner, agent, input, options) -> the run's result, or NOT_HOOKED
RunnerHook = Callable[[AgentRunner, Any, Any, dict[str, Any]], Awaitable[Any]]


class _HookedRunner(AgentRunner):
    def __init__(self, hook: RunnerHook) -> None:
        self.hook = hook

    async def run(self, starting_agent: Any, input: Any, **kwargs: Any) -> Any:
        result = await self.hook(self, starting_agent, input, kwargs)
        if isinstance(result, NotHooked):
            return await super().run(starting_agent, input, **kwargs)
        return result


def install_runner_hook(hook: RunnerHook) -> None:
    """Make ``Runner.run`` consult ``hook`` first (process-wide; idempotent for one hook)."""
    current = get_default_agent_runner()
    if isinstance(current, _HookedRunner) and current.hook is hook:
        return
    set_default_agent_runner(_HookedRunner(hook))


def runner_hook_installed(hook: RunnerHook) -> bool:
    current = get_default_agent_runner()
    return isinstance(current, _HookedRunner) and current.hook is hook
