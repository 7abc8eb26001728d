"""Agent workflows end to end on the offline scripted model, driven through chatkit's server."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.harness import WorkflowHarness, deploy_yaml, session_context, user_input

SCRIPTED = (Path(__file__).parent / "workflows_data" / "scripted.yaml").read_text()
STATE = {"customer": "Ada", "plan": "gold"}


@pytest.fixture(scope="module")
def scripted(server):
    server.run(deploy_yaml(server.platform, SCRIPTED))
    return WorkflowHarness(server.platform)


def chat(server, harness, user, text, **options):
    async def go():
        context = await session_context(
            server.platform, user, {"id": "scripted-support", "state_variables": STATE}
        )
        events = await harness.request(context, "threads.create", input=user_input(text, **options))
        return context, events

    return server.run(go())


def done_items(events, kind=None):
    return [
        e["item"] for e in events if e["type"] == "thread.item.done" and kind in (None, e["item"]["type"])
    ]


def test_text_streams_as_deltas_and_is_stored(server, scripted, user):
    context, events = chat(server, scripted, user, "hello there")
    deltas = [
        e["update"]["delta"]
        for e in events
        if e.get("update", {}).get("type") == "assistant_message.content_part.text_delta"
    ]
    assert "".join(deltas) == "You said: hello there"
    assert len(deltas) == 4
    [message] = done_items(events, "assistant_message")
    assert message["content"][0]["text"] == "You said: hello there"


def texts(events):
    return [c["text"] for item in done_items(events, "assistant_message") for c in item["content"]]


def follow_up(server, harness, context, thread_id, text, **options):
    return server.run(
        harness.request(
            context, "threads.add_user_message", thread_id=thread_id, input=user_input(text, **options)
        )
    )


def stored(server, context, thread_id):
    async def go():
        page = await server.platform.threads.load_thread_items(thread_id, None, 100, "asc", context)
        return [item.model_dump(mode="json") for item in page.data]

    return server.run(go())


def test_reasoning_tool_task_and_annotation(server, scripted, user):
    context, events = chat(server, scripted, user, "what is the weather?")
    [workflow] = done_items(events, "workflow")
    tasks = workflow["workflow"]["tasks"]
    # The thought and the tool's task share one workflow item; their order depends on
    # how far the run gets ahead of chatkit's converter, so it is not asserted.
    by_type = {task["type"]: task for task in tasks}
    assert by_type["thought"]["content"] == "The user wants the weather, so I check the time first."
    assert by_type["custom"]["title"] == "Current time"
    assert by_type["custom"]["status_indicator"] == "complete"
    assert len(tasks) == 2
    [message] = done_items(events, "assistant_message")
    assert message["content"][0]["text"].startswith("It is sunny. Checked at 20")
    annotation_events = [
        e
        for e in events
        if e.get("update", {}).get("type") == "assistant_message.content_part.annotation_added"
    ]
    assert annotation_events[0]["update"]["annotation"]["source"]["url"] == "https://example.com/weather"
    thread_id = events[0]["thread"]["id"]
    kinds = [item["type"] for item in stored(server, context, thread_id)]
    assert kinds == ["user_message", "workflow", "assistant_message"]


def test_client_tool_call_then_resume_with_output(server, scripted, user):
    context, events = chat(server, scripted, user, "locate me")
    [call] = done_items(events, "client_tool_call")
    assert call["name"] == "get_location" and call["arguments"] == {"precision": "city"}
    assert call["status"] == "pending"
    assert not done_items(events, "assistant_message")
    thread_id = events[0]["thread"]["id"]
    resumed = server.run(
        scripted.request(context, "threads.add_client_tool_output", thread_id=thread_id, result="Lyon")
    )
    assert texts(resumed) == ['You are in "Lyon" (script-a).']
    items = stored(server, context, thread_id)
    assert [i["type"] for i in items] == ["user_message", "client_tool_call", "assistant_message"]
    assert items[1]["status"] == "completed" and items[1]["output"] == "Lyon"


def test_history_reaches_the_model(server, scripted, user):
    context, events = chat(server, scripted, user, "first message")
    thread_id = events[0]["thread"]["id"]
    more = follow_up(server, scripted, context, thread_id, "second message")
    assert texts(more) == ["You said: second message"]
    workflow = server.run(server.platform.workflows.load(context.project_id, "scripted-support", None))
    assert workflow.id == "scripted-support"


def test_state_variables_reach_instructions_and_tools(server, scripted, user):
    _, events = chat(server, scripted, user, "show your instructions")
    assert texts(events) == ["You help Ada on the gold plan."]
    _, events = chat(server, scripted, user, "what plan am I on?")
    assert texts(events) == ['Your plan is "gold".']


def test_model_choice_among_allowed_models(server, scripted, user):
    _, events = chat(server, scripted, user, "which model are you?")
    assert texts(events) == ["I am script-a"]
    _, events = chat(server, scripted, user, "which model are you?", model="script-b")
    assert texts(events) == ["I am script-b"]


def test_a_model_outside_the_allowed_list_is_refused(server, scripted, user):
    context, events = chat(server, scripted, user, "which model are you?", model="gpt-5")
    [error] = [e for e in events if e["type"] == "error"]
    assert error["code"] == "custom" and error["allow_retry"] is False
    assert "Model 'gpt-5' is not available in workflow 'scripted-support'" in error["message"]
    assert "script-a, script-b" in error["message"]
    assert not done_items(events, "assistant_message")


def test_tool_choice_forces_a_tool(server, scripted, user):
    _, events = chat(server, scripted, user, "hello", tool_choice={"id": "current_time"})
    [workflow] = done_items(events, "workflow")
    assert [t["title"] for t in workflow["workflow"]["tasks"]] == ["Current time"]
    assert texts(events) == ["You said: hello"]
    _, events = chat(server, scripted, user, "hello", tool_choice={"id": "no_such_tool"})
    [error] = [e for e in events if e["type"] == "error"]
    assert "has no tool 'no_such_tool'" in error["message"]


def test_workflow_closes_its_thread_with_a_reason(server, scripted, user):
    context, events = chat(server, scripted, user, "bye now")
    [updated] = [e for e in events if e["type"] == "thread.updated"]
    assert updated["thread"]["status"] == {"type": "closed", "reason": "Resolved, thanks!"}
    thread_id = events[0]["thread"]["id"]
    thread = server.run(server.platform.threads.load_thread(thread_id, context))
    assert thread.status.type == "closed" and thread.status.reason == "Resolved, thanks!"


def test_model_error_becomes_a_retryable_error_event(server, scripted, user):
    context, events = chat(server, scripted, user, "please fail")
    [error] = [e for e in events if e["type"] == "error"]
    assert error["allow_retry"] is True
    thread_id = events[0]["thread"]["id"]
    assert [i["type"] for i in stored(server, context, thread_id)] == ["user_message"]


def test_title_comes_from_the_model(server, scripted, user):
    async def go():
        context = await session_context(server.platform, user, {"id": "scripted-support"})
        workflow = await server.platform.workflows.load(context.project_id, "scripted-support", None)
        return await workflow.title(None, "Is it raining in Paris?", context)

    assert server.run(go()) == "Weather in Paris"


def test_workflow_locks_its_thread_with_a_reason(server, scripted, user):
    context, events = chat(server, scripted, user, "hold on please")
    [updated] = [e for e in events if e["type"] == "thread.updated"]
    assert updated["thread"]["status"] == {"type": "locked", "reason": "An agent will take over."}


def test_a_failing_title_model_gives_no_title(server, user):
    text = """
id: title-fails
provider:
  type: scripted
  script:
    - when: "^Write a short title"
      steps: [{error: "the model is down"}]
    - steps: [{text: "fine"}]
"""

    async def go():
        await deploy_yaml(server.platform, text)
        context = await session_context(server.platform, user, {"id": "title-fails"})
        workflow = await server.platform.workflows.load(context.project_id, "title-fails", None)
        return await workflow.title(None, "Is it raining in Paris?", context)

    assert server.run(go()) is None


def test_a_yaml_file_can_name_a_python_factory(server, user):
    text = "id: via-factory\nfactory: tests.workflows_data.python_scripted:build_agent\n"

    async def go():
        await deploy_yaml(server.platform, text)
        context = await session_context(
            server.platform, user, {"id": "via-factory", "state_variables": {"customer_name": "Bo"}}
        )
        return await WorkflowHarness(server.platform).request(
            context, "threads.create", input=user_input("hello")
        )

    assert texts(server.run(go())) == ["v1: Help Bo."]


def test_resuming_after_a_client_tool_keeps_the_chosen_model(server, scripted, user):
    context, events = chat(server, scripted, user, "locate me", model="script-b")
    thread_id = events[0]["thread"]["id"]
    resumed = server.run(
        scripted.request(context, "threads.add_client_tool_output", thread_id=thread_id, result="Oslo")
    )
    assert texts(resumed) == ['You are in "Oslo" (script-b).']
