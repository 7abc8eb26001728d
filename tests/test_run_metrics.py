"""``/metrics`` counts workflow runs, their errors, time to first token and tokens, by workflow and model;
and a token can close ``/metrics`` to everyone else.

The run metrics are read through the endpoint a Prometheus server scrapes, as differences between two
scrapes, so the shared server's other traffic cannot make a check pass.
"""

from __future__ import annotations

import httpx2
import pytest

from tests.support.fake_llm import fake_llm
from tests.support.harness import deploy_yaml
from tests.support.metrics import Samples, scrape
from tests.support.servers import start_server

FAKE_SERVER_WORKFLOW = """
id: metered-{suffix}
name: Metered
instructions: Be brief.
model: llama3.2
provider: {{type: chat_completions, base_url: '{base_url}', api_key_env: FAKE_LLM_KEY}}
"""

FAILING_WORKFLOW = """
id: failing-{suffix}
name: Failing
provider:
  type: scripted
  script:
    - when: "^Write a short title"
      steps: [{{text: "A title"}}]
    - steps: [{{error: "the model is down"}}]
"""


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


@pytest.fixture(scope="module")
def llm():
    with fake_llm() as fake:
        yield fake


def test_runs_tokens_and_first_token_by_workflow_and_model(server, chat_for, user, llm, request, monkeypatch):
    monkeypatch.setenv("FAKE_LLM_KEY", "sk-local-test")
    workflow = f"metered-{request.node.callspec.id}"
    text = FAKE_SERVER_WORKFLOW.format(suffix=request.node.callspec.id, base_url=llm.base_url)
    server.run(deploy_yaml(server.platform, text))
    chat = chat_for(user, workflow={"id": workflow})
    before = scrape(server.base_url)

    first = chat.create("hello model")
    chat.say(first.thread_id, "and again")
    after = scrape(server.base_url)

    assert moved(before, after, "chatkitd_runs_total", workflow=workflow) == 2
    # Two answers, streamed, and one title asked without streaming: the fake server reports
    # 11 tokens in and 5 out for each call.
    calls = moved(
        before, after, "chatkitd_time_to_first_token_seconds_count", workflow=workflow, model="llama3.2"
    )
    assert calls == 3
    assert (
        moved(
            before,
            after,
            "chatkitd_model_tokens_total",
            workflow=workflow,
            model="llama3.2",
            direction="input",
        )
        == 33
    )
    assert (
        moved(
            before,
            after,
            "chatkitd_model_tokens_total",
            workflow=workflow,
            model="llama3.2",
            direction="output",
        )
        == 15
    )
    waited = moved(
        before, after, "chatkitd_time_to_first_token_seconds_sum", workflow=workflow, model="llama3.2"
    )
    assert 0 < waited < 60
    assert not [
        key for key in after if key[0] == "chatkitd_run_errors_total" and ("workflow", workflow) in key[1]
    ]


def test_a_failed_run_is_counted_with_its_error(server, chat_for, user, request):
    workflow = f"failing-{request.node.callspec.id}"
    server.run(deploy_yaml(server.platform, FAILING_WORKFLOW.format(suffix=request.node.callspec.id)))
    chat = chat_for(user, workflow={"id": workflow})
    before = scrape(server.base_url)

    stream = chat.create("hello")
    assert stream.of("error"), "the failed run reaches the user as an error event"
    after = scrape(server.base_url)

    assert moved(before, after, "chatkitd_runs_total", workflow=workflow) == 1
    errors = {
        dict(labels)["error"]: after[(name, labels)] - before.get((name, labels), 0.0)
        for name, labels in after
        if name == "chatkitd_run_errors_total" and ("workflow", workflow) in labels
    }
    assert errors == {"ScriptedModelError": 1}


def test_the_metrics_token_closes_the_endpoint(tmp_path):
    token = "metrics-scrape-token-1234"
    with start_server(
        f"sqlite+aiosqlite:///{tmp_path}/db.sqlite3", tmp_path, None, metrics_token=token
    ) as server:
        url = f"{server.base_url}/metrics"
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {token}"}):
            refused = httpx2.get(url, headers=headers)
            assert refused.status_code == 401, headers
            assert "CHATKITD_METRICS_TOKEN" in refused.json()["error"]["message"]
            assert "chatkitd_" not in refused.text
        samples = scrape(server.base_url, {"Authorization": f"Bearer {token}"})
        assert any(name == "chatkitd_http_requests_total" for name, _ in samples)
