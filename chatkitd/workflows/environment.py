"""What a workflow version runs with on the server: settings, the database, its provider, its models.

One ``RunEnvironment`` per loaded version (``chatkitd.workflows.loader``), shared
by its turns. Its ``model_provider`` resolves model names (an agent's ``model``,
the user's pick, an export's ``Agent(model="...")``) with the version's
provider, else the server's, building each model once per process.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from agents.models.interface import Model, ModelProvider

from chatkitd.context import RequestContext
from chatkitd.models.definition import ProviderDefinition
from chatkitd.models.failures import Where, clear_error, model_failure
from chatkitd.models.providers import build_model, describe, served_model
from chatkitd.settings import Settings
from chatkitd.store.db import Database
from chatkitd.workflows.definitions import AgentAction, ThreadUploadsConfig
from chatkitd.workflows.streaming import HistoryConverter


@dataclass
class RunEnvironment:
    """Server-side things every agent run needs: settings, the database, the workflow's provider."""

    settings: Settings
    db: Database
    provider: ProviderDefinition | None = None
    models: list[str] = field(default_factory=list)
    max_turns: int = 10
    actions: dict[str, AgentAction] = field(default_factory=dict)  # widget action type -> what it does
    # Documents attached in the chat: pasted, or indexed into the thread's store and searched.
    thread_uploads: ThreadUploadsConfig = field(default_factory=ThreadUploadsConfig)

    def history_converter(
        self,
        context: RequestContext,
        thread_id: str,
        model: str | None,
        provider: ProviderDefinition | None = None,
    ) -> HistoryConverter:
        """The one rule for a run's history converter (YAML agents, graph agent nodes, exports):
        attachments as ``model`` on ``provider`` (else the workflow's) can take them, with the
        caps of the settings; documents indexed into the thread's own store instead, when the
        workflow says so (``thread_uploads: {index: true}``)."""
        from chatkitd.knowledge import service, thread_uploads
        from chatkitd.knowledge.attachment_inputs import for_run

        # The platform's blob store (its client is one per process, whichever back end).
        knowledge = service.for_run(self.db, self.settings)
        index = None
        if self.thread_uploads.index:
            index = thread_uploads.indexer(self.db, context.project_id, thread_id, knowledge.worker.wake)
        attachments = for_run(
            self.settings, provider or self.provider, model, context.project_id, knowledge.blobs, index
        )
        return HistoryConverter(attachments)

    @functools.cached_property
    def model_provider(self) -> WorkflowModels:
        return WorkflowModels(self)

    def raise_if_model_failure(
        self,
        error: BaseException,
        *,
        workflow: str,
        version: str,
        model: str | None,
        thread_id: str,
        session: str,
        provider: ProviderDefinition | None = None,
    ) -> None:
        """An expected model-server failure (no key, unreachable, unknown model...): one log line for
        the operator and a clear error event for the user. Any other error is left to the caller.

        Every run path (YAML and Python agents, exports, graph nodes) ends a failed model call this
        way. ``provider``: a graph node's own, when it has one.
        """
        failure = model_failure(error)
        if failure is None:
            return
        provider = provider or self.provider
        described = describe(provider, self.settings)
        where = Where(
            workflow=workflow,
            version=version,
            provider=described["provider"],
            endpoint=described["endpoint"],
            model=model,
            served_as=served_model(provider, model, self.settings),
            thread=thread_id,
            session=session,
        )
        raise clear_error(failure, where) from None


class WorkflowModels(ModelProvider):
    """The models of one workflow version, by name, each built once."""

    def __init__(self, env: RunEnvironment) -> None:
        self.env = env
        self._built: dict[tuple[str, str | None], Model] = {}

    def get_model(self, model_name: str | None) -> Model:
        return self.model(None, model_name)

    def model(self, provider: ProviderDefinition | None, name: str | None) -> Model:
        """``name`` on ``provider`` (a graph node's own), else on the workflow's provider."""
        provider = provider or self.env.provider
        key = (provider.model_dump_json() if provider else "", name)
        model = self._built.get(key)
        if model is None:
            model = self._built[key] = build_model(provider, name, self.env.settings)
        return model
