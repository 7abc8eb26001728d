"""What a workflow is to the runtime: something that answers a thread's new input.

The conversation runtime's ``ChatKitServer`` resolves the session's workflow
(id and version) through the registry and delegates to it. Built-in, YAML
and Python workflows all implement this one interface.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from chatkit.actions import Action
from chatkit.types import (
    AudioInput,
    SyncCustomActionResponse,
    ThreadMetadata,
    ThreadStreamEvent,
    TranscriptionResult,
    UserMessageItem,
    WidgetItem,
)

from chatkitd.errors import InvalidRequest

T = TypeVar("T")

if TYPE_CHECKING:
    from chatkitd.approvals import Resumption
    from chatkitd.context import RequestContext
    from chatkitd.store.threads import ThreadStore


@dataclass(frozen=True)
class ComposerChoices:
    """What a chat's composer may offer for a workflow: the models a user may pick
    (``inference_options.model``; the default first) and the tools (``tool_choice``)."""

    models: list[str] = field(default_factory=list)
    tools: list[str] = field(default_factory=list)


def declared_action(workflow_id: str, actions: Mapping[str, T], action_type: str) -> T:
    """What a workflow declares for a widget action's type (an agent's ``actions``, a graph's),
    or the 400 naming the ones it has."""
    if action_type not in actions:
        known = ", ".join(sorted(actions)) or "none"
        raise InvalidRequest(
            f"Workflow '{workflow_id}' has no action '{action_type}' (its actions: {known}).",
            param="params.action.type",
        )
    return actions[action_type]


class Workflow(ABC):
    """One deployed version of a workflow."""

    id: str
    version: str

    def composer_choices(self) -> ComposerChoices:
        """The models and tools a user may pick for this workflow; none unless it says so."""
        return ComposerChoices()

    @abstractmethod
    def respond(
        self,
        thread: ThreadMetadata,
        item: UserMessageItem | None,
        context: RequestContext,
        store: ThreadStore,
    ) -> AsyncIterator[ThreadStreamEvent]:
        """Stream the answer to ``item`` (None when resuming after a client tool's output)."""

    def check_action(self, action_type: str) -> None:
        """Refuse (``InvalidRequest``), before anything streams, an action this workflow does not
        handle. By default every action reaches ``action`` / ``sync_action``, which decide."""
        return None

    def action(
        self,
        thread: ThreadMetadata,
        action: Action[str, Any],
        sender: WidgetItem | None,
        context: RequestContext,
        store: ThreadStore,
    ) -> AsyncIterator[ThreadStreamEvent]:
        raise InvalidRequest(f"Workflow '{self.id}' does not handle actions.", param="params.action.type")

    def resume(
        self,
        thread: ThreadMetadata,
        resumption: Resumption,
        context: RequestContext,
        store: ThreadStore,
    ) -> AsyncIterator[ThreadStreamEvent]:
        """Go on after a pause (``chatkitd.approvals.pause``) once every approval is answered.

        Called on whichever process took the last answer, on the version that paused.
        """
        raise InvalidRequest(f"Workflow '{self.id}' cannot resume paused runs.", param="params.action.type")

    async def sync_action(
        self,
        thread: ThreadMetadata,
        action: Action[str, Any],
        sender: WidgetItem | None,
        context: RequestContext,
        store: ThreadStore,
    ) -> SyncCustomActionResponse:
        raise InvalidRequest(f"Workflow '{self.id}' does not handle actions.", param="params.action.type")

    async def transcribe(self, audio: AudioInput, context: RequestContext) -> TranscriptionResult:
        raise InvalidRequest(
            f"Dictation is off: workflow '{self.id}' does not transcribe, and the server has no "
            "transcription endpoint (CHATKITD_TRANSCRIPTION_BASE_URL).",
            param="type",
            code="transcription_not_supported",
        )

    async def title(self, thread: ThreadMetadata, first_message: str, context: RequestContext) -> str | None:
        """A short title for a new thread; None leaves the offline title in place."""
        return None
