"""The container image and compose.yaml, built and run for real: ``make image-test``.

Slow (it builds images from Debian's packages and installs chatkitd's dependencies from
PyPI inside them: about 18 minutes the first time on a 2-core machine, 2 to 4 after, when
Docker reuses its layers), so it runs only when ``CHATKITD_IMAGE_TEST=1`` (what ``make
image-test`` sets) and skips otherwise, saying so. It needs Docker's daemon, docker-compose
and debootstrap (``tests/image/run.sh`` installs Debian's packages when they are missing and
starts ``dockerd`` when none answers).

No image registry is reachable here, so the base image is built with debootstrap
(``tests/image/base-image.sh``) and passed as ``BASE_IMAGE``, Node.js for the web UI's
bundles comes from Debian (``NODE_IMAGE``), and PostgreSQL, the S3 store and nginx are
Debian-built stand-ins for the official images (``tests/image/compose.test.yaml``).
chatkitd's own Dockerfile, compose.yaml and nginx configuration are used as they ship.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx2
import pytest
from openai import OpenAI

from tests.support.chat import parse_sse, user_input
from tests.support.servers import free_port

pytestmark = pytest.mark.skipif(
    os.environ.get("CHATKITD_IMAGE_TEST") != "1",
    reason="builds container images (slow): run `make image-test`",
)

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PREFIX = "chatkitd-imagetest"
IMAGE = f"{PREFIX}/chatkitd"
REPLICAS = ("chatkitd-1", "chatkitd-2", "chatkitd-3")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def run(*command: str, timeout: float = 1800, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )
    if done.returncode != 0:
        raise AssertionError(
            f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return done.stdout


def image_exists(tag: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", tag], capture_output=True).returncode == 0


def base_image() -> str:
    """``CHATKITD_BASE_IMAGE`` when given, else the debootstrap-built one (built once, then kept)."""
    given = os.environ.get("CHATKITD_BASE_IMAGE")
    if given:
        return given
    tag = f"{PREFIX}/base:bookworm"
    if not image_exists(tag):
        run(str(HERE / "base-image.sh"), tag)
    return tag


def compose_command() -> list[str]:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    pytest.fail("docker-compose is required (apt-get install docker-compose)")


@dataclass
class Stack:
    url: str
    admin_key: str
    compose: list[str]
    env: dict[str, str]

    def sdk(self) -> OpenAI:
        return OpenAI(
            base_url=f"{self.url}/v1", api_key=self.admin_key, max_retries=0, _strict_response_validation=True
        )

    def container(self, service: str) -> str:
        return run(*self.compose, "ps", "-q", service, env=self.env).strip()


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        pytest.fail(
            "Docker's daemon does not answer: `make image-test` starts one (dockerd --storage-driver=vfs)"
        )
    if os.environ.get("CHATKITD_IMAGE_BUILT") != "1":  # =1: run the images already tagged, as they are
        base = base_image()
        for name in ("node", "postgres", "s3", "proxy"):
            run(
                "docker", "build", "-q", "--build-arg", f"BASE_IMAGE={base}", "-t", f"{PREFIX}/{name}",
                "-f", str(HERE / f"{name}.Dockerfile"), str(HERE),
            )  # fmt: skip
        run(
            "docker", "build", "-q", "--build-arg", f"BASE_IMAGE={base}",
            "--build-arg", f"NODE_IMAGE={PREFIX}/node", "-t", IMAGE, ".",
        )  # fmt: skip

    port = free_port()
    admin_key = "sk-imagetest-" + secrets.token_hex(16)
    env = {
        "CHATKITD_IMAGE": IMAGE,
        "CHATKITD_HTTP_PORT": str(port),
        "CHATKITD_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "CHATKITD_API_KEY": admin_key,
        "CHATKITD_SECRET_KEY": secrets.token_hex(32),
        "POSTGRES_PASSWORD": secrets.token_hex(16),
        "S3_SECRET_KEY": secrets.token_hex(16),
    }
    compose = [
        *compose_command(), "-p", PREFIX,
        "-f", str(ROOT / "compose.yaml"), "-f", str(HERE / "compose.test.yaml"),
    ]  # fmt: skip
    try:
        run(*compose, "up", "-d", "--no-build", env=env, timeout=900)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx2.get(f"{url}/healthz", timeout=5).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("the stack never answered through the proxy")
            time.sleep(2)
        yield Stack(url, admin_key, compose, env)
    except BaseException:
        print(run(*compose, "logs", "--tail", "60", env=env))
        raise
    finally:
        subprocess.run(
            [*compose, "down", "-v", "--remove-orphans"],
            cwd=ROOT,
            env={**os.environ, **env},
            capture_output=True,
            timeout=300,
        )


def test_the_image_runs_as_a_non_root_user_with_a_health_check(stack: Stack) -> None:
    config = run("docker", "image", "inspect", "--format", "{{json .Config}}", IMAGE)
    assert '"User":"chatkitd"' in config
    assert '"Healthcheck":{"Test":["CMD","python3"' in config
    assert '"Entrypoint":["chatkitd"]' in config
    assert run("docker", "run", "--rm", "--entrypoint", "id", IMAGE, "-u").strip() != "0"
    assert run("docker", "run", "--rm", IMAGE, "--version").startswith("chatkitd ")
    for replica in REPLICAS:
        container = stack.container(replica)
        health = run("docker", "inspect", "--format", "{{.State.Health.Status}}", container)
        assert health.strip() == "healthy", replica
        # The server itself runs as the image's user (uid 10001), not only the image's default.
        assert run("docker", "exec", container, "id", "-u").strip() == "10001", replica
        assert run("docker", "exec", container, "sh", "-c", "stat -c %u /proc/1").strip() == "10001", replica


def docker_time(moment: str) -> datetime:
    """Docker's RFC 3339 times carry nanoseconds, which ``datetime`` does not: cut to micro."""
    seconds, _, fraction = moment.strip().removesuffix("Z").partition(".")
    return datetime.fromisoformat(f"{seconds}.{(fraction + '000000')[:6]}+00:00")


def test_migrations_run_once_as_their_own_command_before_the_replicas(stack: Stack) -> None:
    migrate = stack.container("migrate")
    state = run("docker", "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", migrate)
    assert state.split() == ["exited", "0"]
    assert run("docker", "inspect", "--format", "{{json .Config.Cmd}}", migrate).strip() == '["migrate"]'
    migrated = docker_time(run("docker", "inspect", "--format", "{{.State.FinishedAt}}", migrate))
    for replica in REPLICAS:
        container = stack.container(replica)
        environment = run("docker", "inspect", "--format", "{{json .Config.Env}}", container)
        assert '"CHATKITD_MIGRATE_ON_START=false"' in environment, replica
        started = docker_time(run("docker", "inspect", "--format", "{{.State.StartedAt}}", container))
        assert started > migrated, f"{replica} started at {started}, before the migration ended at {migrated}"


def test_a_chat_through_the_proxy(stack: Stack) -> None:
    sdk = stack.sdk()
    session = sdk.beta.chatkit.sessions.create(user="smoke", workflow={"id": "demo"})
    with httpx2.Client(
        base_url=stack.url, headers={"Authorization": f"Bearer {session.client_secret}"}, timeout=60
    ) as page:
        created = page.post(
            "/v1/chatkit/conversation",
            json={"type": "threads.create", "params": {"input": user_input("hello from the image")}},
        )
    assert created.status_code == 200, created.text
    assert created.headers["content-type"].startswith("text/event-stream")
    thread_id = next(e["thread"]["id"] for e in parse_sse(created.text) if e["type"] == "thread.created")
    items = sdk.beta.chatkit.threads.list_items(thread_id, order="asc").data
    texts = [item.model_dump()["content"][0]["text"] for item in items]
    assert texts == ["hello from the image", "Echo: hello from the image"]


def test_a_file_uploaded_through_one_replica_is_previewed_through_the_others(stack: Stack) -> None:
    sdk = stack.sdk()
    session = sdk.beta.chatkit.sessions.create(
        user="uploader",
        workflow={"id": "demo"},
        chatkit_configuration={"file_upload": {"enabled": True, "max_file_size": 1, "max_files": 10}},
    )
    with httpx2.Client(
        base_url=stack.url, headers={"Authorization": f"Bearer {session.client_secret}"}, timeout=60
    ) as page:
        uploaded = page.post("/v1/chatkit/files", files={"file": ("pixel.png", PNG, "image/png")})
    assert uploaded.status_code == 200, uploaded.text
    preview_url = uploaded.json()["preview_url"]
    assert preview_url.startswith(stack.url + "/")  # the public URL the stack was given
    # Round-robin: three fetches reach every replica; each serves the bytes from the bucket.
    for _ in REPLICAS:
        preview = httpx2.get(preview_url, timeout=30)
        assert preview.status_code == 200, preview.text
        assert preview.content == PNG and preview.headers["content-type"] == "image/png"
