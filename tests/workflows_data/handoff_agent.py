"""A triage agent that hands off to a specialist, behind an input guardrail (scripted model)."""

from typing import Any

from agents import Agent, GuardrailFunctionOutput, input_guardrail

from chatkitd.models.scripted import ScriptedModel

ID = "handoff-agent"

SCRIPT: list[dict[str, Any]] = [
    {"when": "forbidden", "steps": [{"text": "unused"}]},
    {"steps": [{"call": {"name": "transfer_to_billing", "arguments": {}}}, {"text": "Billing here."}]},
]


@input_guardrail
def no_forbidden_words(ctx, agent, input):
    text = str(input)
    return GuardrailFunctionOutput(output_info={"checked": True}, tripwire_triggered="forbidden" in text)


def build_agent(run):
    model = ScriptedModel(SCRIPT)
    billing = Agent(name="billing", instructions="You handle billing.", model=model)
    return Agent(
        name="triage",
        instructions="Route the user.",
        model=model,
        handoffs=[billing],
        input_guardrails=[no_forbidden_words],
    )
