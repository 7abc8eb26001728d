# Written for chatkitd's tests in the shape of Agent Builder's "Code -> Agents SDK -> Python"
# export: module-level agents and a guardrail config, WorkflowInput, and run_workflow with
# Runner.run, the conversation_history list, and an if/else on a classifier's parsed output.
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
        {"name": "Contains PII", "config": {"entities": ["CREDIT_CARD", "EMAIL_ADDRESS"], "block": True}}
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


class TriageSchema(BaseModel):
    topic: str


triage = Agent(
    name="Triage",
    instructions="Classify the request: topic is billing for invoices and payments, else other.",
    model="gpt-4.1-mini",
    output_type=TriageSchema,
    model_settings=ModelSettings(temperature=0.2, store=True),
)

billing_agent = Agent(
    name="Billing",
    instructions="You answer billing questions for the customer.",
    model="gpt-4.1-mini",
    model_settings=ModelSettings(temperature=0.7, store=True),
)

general_agent = Agent(
    name="General",
    instructions="You answer general questions.",
    model="gpt-4.1-mini",
    model_settings=ModelSettings(temperature=0.7, store=True),
)


class WorkflowInput(BaseModel):
    input_as_text: str


# Main code entrypoint
async def run_workflow(workflow_input: WorkflowInput):
    with trace("Support triage"):
        state = {}
        workflow = workflow_input.model_dump()
        conversation_history: list[TResponseInputItem] = [
            {"role": "user", "content": [{"type": "input_text", "text": workflow["input_as_text"]}]}
        ]
        guardrails_inputtext = workflow["input_as_text"]
        guardrails_result = await run_guardrails(
            ctx,
            guardrails_inputtext,
            "text/plain",
            instantiate_guardrails(load_config_bundle(guardrails_config)),
            suppress_tripwire=True,
        )
        if guardrails_has_tripwire(guardrails_result):
            return build_guardrail_fail_output(guardrails_result)
        triage_result_temp = await Runner.run(
            triage,
            input=[*conversation_history],
            run_config=RunConfig(
                trace_metadata={
                    "__trace_source__": "agent-builder",
                    "workflow_id": "wf_6f1d2c3b4a5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70",
                }
            ),
        )
        conversation_history.extend([item.to_input_item() for item in triage_result_temp.new_items])
        triage_result = {
            "output_text": triage_result_temp.final_output.model_dump_json(),
            "output_parsed": triage_result_temp.final_output.model_dump(),
        }
        if triage_result["output_parsed"]["topic"] == "billing":
            billing_result_temp = await Runner.run(
                billing_agent,
                input=[*conversation_history],
                run_config=RunConfig(trace_metadata={"__trace_source__": "agent-builder"}),
            )
            conversation_history.extend([item.to_input_item() for item in billing_result_temp.new_items])
            state["last"] = "billing"
            return {"output_text": billing_result_temp.final_output_as(str)}
        else:
            general_result_temp = await Runner.run(
                general_agent,
                input=[*conversation_history],
                run_config=RunConfig(trace_metadata={"__trace_source__": "agent-builder"}),
            )
            conversation_history.extend([item.to_input_item() for item in general_result_temp.new_items])
            return {"output_text": general_result_temp.final_output_as(str)}
