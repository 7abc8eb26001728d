# An Agent Builder export as the "Code -> Agents SDK -> Python" dialog produces it (this one
# written for chatkitd's examples): module-level agents, a guardrail, a classifier whose JSON
# picks the next agent, WorkflowInput and run_workflow. Deploy it as it is:
#
#   chatkitd workflows deploy examples/agent_builder_export.py --id wf_68f0example
#
# and keep sending sessions.create(workflow={"id": "wf_68f0example"}) from your backend.
from types import SimpleNamespace

from agents import Agent, ModelSettings, RunConfig, Runner, TResponseInputItem, trace
from guardrails.runtime import instantiate_guardrails, load_config_bundle, run_guardrails
from openai import AsyncOpenAI
from pydantic import BaseModel

# Shared client for guardrails and file search
client = AsyncOpenAI()
ctx = SimpleNamespace(guardrail_llm=client)
# Guardrails definitions
guardrails_config = {
    "guardrails": [
        {"name": "Contains PII", "config": {"entities": ["CREDIT_CARD", "US_SSN"], "block": True}},
        {"name": "Jailbreak", "config": {"model": "gpt-4.1-mini", "confidence_threshold": 0.7}},
    ]
}


def guardrails_has_tripwire(results):
    return any(getattr(r, "tripwire_triggered", False) is True for r in (results or []))


def build_guardrail_fail_output(results):
    failures = []
    for r in results or []:
        if getattr(r, "tripwire_triggered", False):
            info = getattr(r, "info", None) or {}
            failures.append({"guardrail_name": info.get("guardrail_name")})
    return {"failed": len(failures) > 0, "failures": failures}


class ClassifierSchema(BaseModel):
    classification: str


classifier = Agent(
    name="Classifier",
    instructions="Classify the question as policy (about company rules) or chat.",
    model="gpt-4.1-mini",
    output_type=ClassifierSchema,
    model_settings=ModelSettings(temperature=0.2, store=True),
)

policy_agent = Agent(
    name="Policy",
    instructions="Answer questions about company policy; say when you are not sure.",
    model="gpt-4.1-mini",
    model_settings=ModelSettings(store=True),
)

chat_agent = Agent(
    name="Chat",
    instructions="Answer briefly and kindly.",
    model="gpt-4.1-mini",
    model_settings=ModelSettings(store=True),
)


class WorkflowInput(BaseModel):
    input_as_text: str


# Main code entrypoint
async def run_workflow(workflow_input: WorkflowInput):
    with trace("Handbook helper"):
        workflow = workflow_input.model_dump()
        conversation_history: list[TResponseInputItem] = [
            {"role": "user", "content": [{"type": "input_text", "text": workflow["input_as_text"]}]}
        ]
        guardrails_result = await run_guardrails(
            ctx,
            workflow["input_as_text"],
            "text/plain",
            instantiate_guardrails(load_config_bundle(guardrails_config)),
            suppress_tripwire=True,
        )
        if guardrails_has_tripwire(guardrails_result):
            return build_guardrail_fail_output(guardrails_result)
        classifier_result_temp = await Runner.run(
            classifier,
            input=[*conversation_history],
            run_config=RunConfig(
                trace_metadata={"__trace_source__": "agent-builder", "workflow_id": "wf_68f0example"}
            ),
        )
        conversation_history.extend([item.to_input_item() for item in classifier_result_temp.new_items])
        classifier_result = {"output_parsed": classifier_result_temp.final_output.model_dump()}
        if classifier_result["output_parsed"]["classification"] == "policy":
            agent = policy_agent
        else:
            agent = chat_agent
        result_temp = await Runner.run(agent, input=[*conversation_history])
        return {"output_text": result_temp.final_output_as(str)}
