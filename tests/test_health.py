"""Liveness apart from readiness: ``/livez`` answers while the process does; ``/readyz`` (and
``/healthz``, its older name) only while the database and the file store answer too."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest

from tests.conftest import ADMIN_KEY
from tests.support.chat import error_of
from tests.support.s3 import S3Server, environment, moto_server
from tests.support.servers import start_server


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    with moto_server(tmp_path_factory.mktemp("moto")) as running:
        yield running


def test_a_ready_server_says_so_on_every_route(server):
    for route in ("/livez", "/readyz", "/healthz"):
        response = httpx2.get(server.base_url + route)
        assert response.status_code == 200, (route, response.text)
        assert response.json()["status"] == "ok"
    assert httpx2.get(server.base_url + "/readyz").json() == {
        "status": "ok",
        "database": "ok",
        "storage": "ok",
    }


def test_a_bucket_going_away_makes_the_server_unready_but_alive(database_url, tmp_path, s3):
    bucket = s3.new_bucket()
    with (
        environment(s3.env),
        start_server(database_url, tmp_path, ADMIN_KEY, storage_url=bucket.url()) as running,
    ):
        assert httpx2.get(running.base_url + "/readyz").status_code == 200
        s3.client().delete_bucket(Bucket=bucket.name)
        for route in ("/readyz", "/healthz"):
            response = httpx2.get(running.base_url + route, timeout=30)
            assert response.status_code == 503, response.text
            assert int(response.headers["retry-after"]) >= 1
            assert error_of(response)["code"] == "storage_unavailable"
            assert bucket.name not in response.text  # where the store is stays in the log
        assert httpx2.get(running.base_url + "/livez").status_code == 200
        s3.client().create_bucket(Bucket=bucket.name)
        assert httpx2.get(running.base_url + "/readyz").status_code == 200
