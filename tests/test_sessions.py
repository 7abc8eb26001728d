"""POST /v1/chatkit/sessions and /cancel through the official SDK: every bound and default."""

from __future__ import annotations

import time
from typing import Any

import openai
import pytest
from sqlalchemy import select

from chatkitd import credentials
from chatkitd.store import tables

WORKFLOW = {"id": "demo"}


def create(client: openai.OpenAI, **overrides: Any):
    params: dict[str, Any] = {"user": "user_sessions", "workflow": dict(WORKFLOW)}
    params.update(overrides)
    return client.beta.chatkit.sessions.create(**params)


def refused(client: openai.OpenAI, **overrides: Any) -> openai.BadRequestError:
    with pytest.raises(openai.BadRequestError) as caught:
        create(client, **overrides)
    error = caught.value
    assert error.status_code == 400
    assert error.type == "invalid_request_error"
    return error


def stored_row(server, session_id: str):
    async def read():
        async with server.platform.db.read() as conn:
            query = select(tables.sessions).where(tables.sessions.c.id == session_id)
            return (await conn.execute(query)).mappings().one()

    return server.run(read())


# -- defaults -------------------------------------------------------------------------


def test_every_default_is_filled_in(client):
    before = time.time()
    session = create(client, user="user_defaults")
    after = time.time()

    assert session.object == "chatkit.session"
    assert session.id.startswith("cksess_")
    assert session.user == "user_defaults"
    assert session.status == "active"
    assert int(before) + 600 <= session.expires_at <= after + 600 + 1
    assert session.max_requests_per_1_minute == 10
    assert session.rate_limits.max_requests_per_1_minute == 10
    config = session.chatkit_configuration
    assert config.file_upload.enabled is False
    assert config.file_upload.max_files == 10
    assert config.file_upload.max_file_size == 512
    assert config.history.enabled is True
    assert config.history.recent_threads is None
    assert config.automatic_thread_titling.enabled is True
    assert session.workflow.id == "demo"
    assert session.workflow.version is None
    assert session.workflow.state_variables is None
    assert session.workflow.tracing.enabled is True


def test_every_option_is_echoed(client):
    session = create(
        client,
        user="user_options",
        workflow={
            "id": "demo",
            "version": "1",
            "state_variables": {"plan": "pro"},
            "tracing": {"enabled": False},
        },
        chatkit_configuration={
            "automatic_thread_titling": {"enabled": False},
            "file_upload": {"enabled": True, "max_file_size": 7, "max_files": 3},
            "history": {"enabled": False, "recent_threads": 4},
        },
        expires_after={"anchor": "created_at", "seconds": 120},
        rate_limits={"max_requests_per_1_minute": 33},
    )
    assert session.workflow.version == "1"
    assert session.workflow.state_variables == {"plan": "pro"}
    assert session.workflow.tracing.enabled is False
    config = session.chatkit_configuration
    assert config.automatic_thread_titling.enabled is False
    assert (config.file_upload.enabled, config.file_upload.max_file_size) == (True, 7)
    assert config.file_upload.max_files == 3
    assert (config.history.enabled, config.history.recent_threads) == (False, 4)
    assert session.max_requests_per_1_minute == 33
    assert session.rate_limits.max_requests_per_1_minute == 33
    assert abs(session.expires_at - (time.time() + 120)) <= 2


# -- client secret ------------------------------------------------------------------


def test_client_secret_is_fresh_unguessable_and_stored_only_as_digest(server, client):
    first, second = create(client), create(client)
    assert first.client_secret != second.client_secret
    assert first.id != second.id
    for session in (first, second):
        secret = session.client_secret
        random_part = secret.removeprefix(credentials.CLIENT_SECRET_PREFIX)
        # url-safe base64: 6 bits a character.
        assert len(random_part) * 6 >= 128
        row = stored_row(server, session.id)
        assert row["secret_digest"] == credentials.digest(secret)
        assert secret not in {str(value) for value in row.values()}


# -- user -------------------------------------------------------------------------------


@pytest.mark.parametrize("user", ["", "   "])
def test_user_must_not_be_empty_or_blank(client, user):
    assert refused(client, user=user).param == "user"


def test_user_is_required(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.post("/chatkit/sessions", body={"workflow": WORKFLOW}, cast_to=object)
    assert caught.value.param == "user"


# -- workflow ---------------------------------------------------------------------------


def test_unknown_workflow_is_404_naming_workflow_id(client):
    with pytest.raises(openai.NotFoundError) as caught:
        create(client, workflow={"id": "no_such_workflow"})
    assert caught.value.param == "workflow.id"
    assert "no_such_workflow" in caught.value.message


def test_unknown_workflow_version_is_404_naming_workflow_version(client):
    with pytest.raises(openai.NotFoundError) as caught:
        create(client, workflow={"id": "demo", "version": "99"})
    assert caught.value.param == "workflow.version"


def test_state_variables_values_are_echoed_exactly(client):
    values = {"name": "Ada", "flag": True, "off": False, "count": 42, "ratio": 0.25, "neg": -7}
    session = create(client, workflow={"id": "demo", "state_variables": values})
    echoed = session.workflow.state_variables
    assert echoed == values
    # bool stays bool, int stays int, float stays float.
    assert {k: type(v) for k, v in echoed.items()} == {k: type(v) for k, v in values.items()}


def test_state_variables_at_most_64_keys(client):
    ok = {f"k{i}": i for i in range(64)}
    assert create(client, workflow={"id": "demo", "state_variables": ok}).workflow.state_variables == ok
    error = refused(client, workflow={"id": "demo", "state_variables": {f"k{i}": i for i in range(65)}})
    assert error.param == "workflow.state_variables"


def test_state_variable_keys_at_most_64_characters(client):
    ok = {"k" * 64: "v"}
    assert create(client, workflow={"id": "demo", "state_variables": ok}).workflow.state_variables == ok
    error = refused(client, workflow={"id": "demo", "state_variables": {"k" * 65: "v"}})
    assert error.param == "workflow.state_variables"


@pytest.mark.parametrize("value", [[1, 2], {"a": 1}, None])
def test_state_variable_values_must_be_scalars(client, value):
    error = refused(client, workflow={"id": "demo", "state_variables": {"bad": value}})
    assert error.param == "workflow.state_variables.bad"


# -- expires_after ----------------------------------------------------------------------


@pytest.mark.parametrize("seconds", [1, 600])
def test_expires_after_bounds_accepted(client, seconds):
    before = time.time()
    session = create(client, expires_after={"anchor": "created_at", "seconds": seconds})
    assert int(before) + seconds - 1 <= session.expires_at <= time.time() + seconds + 1


@pytest.mark.parametrize("seconds", [0, 601, -5])
def test_expires_after_bounds_refused(client, seconds):
    error = refused(client, expires_after={"anchor": "created_at", "seconds": seconds})
    assert error.param == "expires_after.seconds"


def test_expires_after_needs_anchor(client):
    error = refused(client, expires_after={"seconds": 30})
    assert error.param == "expires_after.anchor"
    assert "Missing" in error.message
    error = refused(client, expires_after={"anchor": "updated_at", "seconds": 30})
    assert error.param == "expires_after.anchor"


# -- rate limits, uploads, history ----------------------------------------------------


def test_rate_limit_at_least_one(client):
    session = create(client, rate_limits={"max_requests_per_1_minute": 1})
    assert session.max_requests_per_1_minute == 1
    error = refused(client, rate_limits={"max_requests_per_1_minute": 0})
    assert error.param == "rate_limits.max_requests_per_1_minute"


@pytest.mark.parametrize("size", [1, 512])
def test_max_file_size_bounds_accepted(client, size):
    session = create(client, chatkit_configuration={"file_upload": {"max_file_size": size}})
    assert session.chatkit_configuration.file_upload.max_file_size == size


@pytest.mark.parametrize("size", [0, 513])
def test_max_file_size_bounds_refused(client, size):
    error = refused(client, chatkit_configuration={"file_upload": {"max_file_size": size}})
    assert error.param == "chatkit_configuration.file_upload.max_file_size"


def test_max_files_at_least_one(client):
    session = create(client, chatkit_configuration={"file_upload": {"max_files": 1}})
    assert session.chatkit_configuration.file_upload.max_files == 1
    error = refused(client, chatkit_configuration={"file_upload": {"max_files": 0}})
    assert error.param == "chatkit_configuration.file_upload.max_files"


def test_recent_threads_at_least_one(client):
    session = create(client, chatkit_configuration={"history": {"recent_threads": 1}})
    assert session.chatkit_configuration.history.recent_threads == 1
    error = refused(client, chatkit_configuration={"history": {"recent_threads": 0}})
    assert error.param == "chatkit_configuration.history.recent_threads"


def test_wrong_types_are_refused(client):
    error = refused(client, rate_limits={"max_requests_per_1_minute": "10"})
    assert error.param == "rate_limits.max_requests_per_1_minute"
    error = refused(client, chatkit_configuration={"history": {"enabled": "yes"}})
    assert error.param == "chatkit_configuration.history.enabled"


# -- unknown fields -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "param"),
    [
        ({"extra_body": {"surprise": 1}}, "surprise"),
        ({"workflow": {"id": "demo", "surprise": 1}}, "workflow.surprise"),
        ({"workflow": {"id": "demo", "tracing": {"enabled": True, "x": 1}}}, "workflow.tracing.x"),
        ({"expires_after": {"anchor": "created_at", "seconds": 5, "x": 1}}, "expires_after.x"),
        ({"rate_limits": {"max_requests_per_1_minute": 5, "x": 1}}, "rate_limits.x"),
        ({"chatkit_configuration": {"x": 1}}, "chatkit_configuration.x"),
        (
            {"chatkit_configuration": {"file_upload": {"x": 1}}},
            "chatkit_configuration.file_upload.x",
        ),
        ({"chatkit_configuration": {"history": {"x": 1}}}, "chatkit_configuration.history.x"),
        (
            {"chatkit_configuration": {"automatic_thread_titling": {"x": 1}}},
            "chatkit_configuration.automatic_thread_titling.x",
        ),
    ],
)
def test_unknown_fields_are_refused_naming_them(client, overrides, param):
    error = refused(client, **overrides)
    assert error.param == param
    assert error.code == "extra_forbidden"
    assert param in error.message


# -- cancel -----------------------------------------------------------------------------


def test_cancel_sets_cancelled_and_redacts_the_secret(server, client):
    session = create(client, user="user_cancel")
    cancelled = client.beta.chatkit.sessions.cancel(session.id)
    assert cancelled.id == session.id
    assert cancelled.status == "cancelled"
    assert cancelled.user == "user_cancel"
    assert cancelled.expires_at == session.expires_at
    assert cancelled.client_secret != session.client_secret
    assert session.client_secret not in cancelled.client_secret
    assert "redacted" in cancelled.client_secret
    assert stored_row(server, session.id)["cancelled_at"] is not None


def test_second_cancel_is_idempotent(server, client):
    session = create(client)
    first = client.beta.chatkit.sessions.cancel(session.id)
    cancelled_at = stored_row(server, session.id)["cancelled_at"]
    second = client.beta.chatkit.sessions.cancel(session.id)
    assert second.status == "cancelled"
    assert second.to_dict() == first.to_dict()
    assert stored_row(server, session.id)["cancelled_at"] == cancelled_at


def test_cancel_unknown_session_is_404(client):
    with pytest.raises(openai.NotFoundError) as caught:
        client.beta.chatkit.sessions.cancel("cksess_does_not_exist")
    assert caught.value.param == "session_id"


def test_session_past_expiry_reads_expired(server, client):
    session = create(client, expires_after={"anchor": "created_at", "seconds": 1})
    assert session.status == "active"
    time.sleep(max(0.0, session.expires_at - time.time()) + 0.2)
    # Cancelling a session that already expired changes nothing: it stays expired.
    late = client.beta.chatkit.sessions.cancel(session.id)
    assert late.status == "expired"
    assert stored_row(server, session.id)["cancelled_at"] is None
    assert client.beta.chatkit.sessions.cancel(session.id).status == "expired"
