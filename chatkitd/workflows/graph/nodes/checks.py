"""The guardrails node: checks on the user's input or an earlier node's output, with pass and fail edges."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chatkitd.models.providers import ProviderDefinition
from chatkitd.workflows import guardrails
from chatkitd.workflows.graph.cel import Compiler
from chatkitd.workflows.graph.nodes.base import NodeId, NodeSpec, Step
from chatkitd.workflows.graph.run import GraphRun


class CheckSpec(BaseModel):
    model_config = ConfigDict(extra="allow")  # the check's own settings (entities, confidence_threshold...)

    check: str

    @model_validator(mode="after")
    def _known(self) -> CheckSpec:
        if self.check not in guardrails.CHECKS:
            raise ValueError(f"unknown check '{self.check}'; known: {sorted(guardrails.CHECKS)}")
        return self

    def config(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class Guardrails(NodeSpec):
    kind = "guardrails"
    type: Literal["guardrails"]
    input: str = "workflow.input_as_text"  # CEL: the text to check
    checks: list[CheckSpec] = Field(min_length=1)
    model: str | None = None  # for checks a model judges
    provider: ProviderDefinition | None = None
    on_pass: NodeId | None = None
    on_fail: NodeId | None = None

    def edges(self) -> list[tuple[str, str]]:
        return [
            (label, target) for label, target in (("pass", self.on_pass), ("fail", self.on_fail)) if target
        ]

    def compile(self, compiler: Compiler) -> Any:
        if any(c.check == "pii" for c in self.checks):
            guardrails.preload()
        return compiler.expression(self.input)

    async def decide(self, compiled: Any, run: GraphRun) -> Step:
        text = compiled.evaluate(run.activation())
        text = text if isinstance(text, str) else guardrails_text(text)
        needs_model = any(c.check != "pii" for c in self.checks)
        judge = None
        if needs_model:
            model = run.workflow.provider.model(self.provider, self.model or run.workflow.default_model)
            judge = guardrails.model_judge(model)
        results, checked = await guardrails.run_checks(
            [(c.check, c.config()) for c in self.checks], text, judge
        )
        failures = [{"check": r.name, **r.info} for r in results if r.tripped]
        output = {"passed": not failures, "failures": failures, "checked_text": checked}
        detail = {"checks": [{"check": r.name, "tripped": r.tripped, **r.info} for r in results]}
        target = self.on_fail if failures else self.on_pass
        return Step(output, target, {**detail, "branch": "fail" if failures else "pass"})


def guardrails_text(value: Any) -> str:
    from chatkitd.workflows.graph.cel import as_text

    return as_text(value)
