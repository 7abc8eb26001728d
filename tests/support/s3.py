"""A real S3 API on loopback (moto's server mode), and a look into its buckets.

``moto_server`` runs as its own process, as MinIO or AWS would be: chatkitd
reaches it only through ``CHATKITD_STORAGE_URL`` and the standard ``AWS_*``
variables, so the code under test is the code that runs against a real store.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx2

from tests.support.servers import free_port


@dataclass
class S3Server:
    endpoint: str

    @property
    def env(self) -> dict[str, str]:
        """What an operator sets for chatkitd (and any AWS tool) to use this store."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )

    def new_bucket(self) -> Bucket:
        name = f"chatkitd-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return Bucket(self, name)


@dataclass
class Bucket:
    server: S3Server
    name: str

    def url(self, prefix: str = "uploads") -> str:
        return f"s3://{self.name}/{prefix}"

    def keys(self) -> list[str]:
        found: list[str] = []
        for page in self.server.client().get_paginator("list_objects_v2").paginate(Bucket=self.name):
            found.extend(entry["Key"] for entry in page.get("Contents", []))
        return found

    def read(self, key: str) -> bytes:
        return self.server.client().get_object(Bucket=self.name, Key=key)["Body"].read()

    def unfinished_uploads(self) -> list[dict[str, Any]]:
        return self.server.client().list_multipart_uploads(Bucket=self.name).get("Uploads", [])


@contextlib.contextmanager
def moto_server(log_dir: Path) -> Iterator[S3Server]:
    port = free_port()
    log = open(log_dir / "moto.log", "wb")  # noqa: SIM115 - closed below
    moto = Path(sys.executable).with_name("moto_server")
    process = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"moto_server exited: {(log_dir / 'moto.log').read_text()[-2000:]}")
            with contextlib.suppress(httpx2.TransportError):
                if httpx2.get(f"{endpoint}/moto-api/", timeout=1).status_code < 500:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("moto_server did not start")
            time.sleep(0.1)
        yield S3Server(endpoint)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """``values`` in os.environ for the block (an in-process server reads them there)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
