"""What a workflow version runs with on the server: settings, the database, its provider, its models.

One ``RunEnvironment`` per loaded version (``chatkitd.workflows.loader``), shared
by its turns. Its ``model_provider`` resolves model names (an agent's ``model``,
the user's pick, an export's ``Agent(model="...")``) with the version's
provider, else the server's, building each model once per process.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field

from agents.models.interface import Model, ModelProvider
from chatkit.errors import CustomStreamError

from chatkitd.models.definition import ProviderDefinition
from chatkitd.models.failures import model_failure
from chatkitd.models.providers import build_model, describe, served_model
from chatkitd.settings import Settings
from chatkitd.store.db import Database
from chatkitd.workflows.definitions import AgentAction, ThreadUploadsConfig

logger = logging.getLogger("chatkitd.workflows.agent")  # the name operators' log filters know


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
        where = describe(provider, self.settings)
        logger.error(
            "model call failed: workflow=%s version=%s provider=%s endpoint=%s model=%s served_as=%s "
            "thread=%s session=%s: %s",
            workflow,
            version,
            where["provider"],
            where["endpoint"],
            model,
            served_model(provider, model, self.settings),
            thread_id,
            session,
            failure.reason,
        )
        raise CustomStreamError(failure.user_message, allow_retry=failure.allow_retry) from None


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
