"""The key that signs upload and preview links: shared by replicas through their database.

Two ``chatkitd serve`` processes with separate data dirs (as on two machines) and one
database accept each other's links with no configuration; ``CHATKITD_SECRET_KEY`` still
overrides; a key an older chatkitd kept in the data dir is adopted, so its links still work.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

import httpx2
import pytest
from openai import OpenAI

from tests.support.chat import error_of, new_session
from tests.support.processes import serve_process
from tests.support.servers import TESTED_BACKENDS, fresh_database

UPLOADS = {"file_upload": {"enabled": True, "max_files": 10, "max_file_size": 1}}
PNG = b"\x89PNG\r\n\x1a\nbytes"


def _link(base_url: str, admin_key: str) -> str:
    """A new attachment's upload link, minted by ``base_url``, as a path and query."""
    with OpenAI(base_url=f"{base_url}/v1", api_key=admin_key, max_retries=0) as sdk:
        session = new_session(sdk, "u_" + secrets.token_hex(4), chatkit_configuration=UPLOADS)
    created = httpx2.post(
        f"{base_url}/v1/chatkit/conversation",
        headers={"Authorization": f"Bearer {session.client_secret}"},
        json={"type": "attachments.create", "params": {"name": "a.png", "size": 3, "mime_type": "image/png"}},
    )
    assert created.status_code == 200, created.text
    parts = urlsplit(created.json()["upload_descriptor"]["url"])
    return f"{parts.path}?{parts.query}"


def _upload(base_url: str, link: str) -> httpx2.Response:
    return httpx2.post(base_url + link, files={"file": ("a.png", PNG, "image/png")}, timeout=30)


@pytest.mark.parametrize("backend", TESTED_BACKENDS.values())
def test_replicas_on_one_database_share_the_key(backend, tmp_path):
    admin_key = "sk-test-" + secrets.token_hex(8)
    one, two, three = (tmp_path / name for name in ("one", "two", "three"))
    for folder in (one, two, three):
        folder.mkdir()
    # Files in one shared folder (as on a network mount); each replica its own data dir.
    storage = {"CHATKITD_STORAGE_URL": f"file://{tmp_path / 'files'}"}
    with (
        fresh_database(backend, tmp_path / "shared.db", "chatkitd_keys") as url,
        serve_process(url, one, admin_key, **storage) as first,
        serve_process(url, two, admin_key, **storage) as second,
    ):
        uploaded = _upload(second, _link(first, admin_key))
        assert uploaded.status_code == 200, uploaded.text
        preview = urlsplit(uploaded.json()["preview_url"])
        assert httpx2.get(f"{first}{preview.path}?{preview.query}").content == PNG
        # No key file in either data dir: the key lives in the database only.
        assert not (one / "secret_key").exists() and not (two / "secret_key").exists()

        # CHATKITD_SECRET_KEY overrides: that replica signs (and checks) with its own.
        with serve_process(url, three, admin_key, CHATKITD_SECRET_KEY="operator-chosen-key") as third:
            refused = _upload(third, _link(first, admin_key))
            assert refused.status_code == 401 and error_of(refused)["code"] == "invalid_signature"
            assert _upload(third, _link(third, admin_key)).status_code == 200


def test_a_key_kept_in_the_data_dir_by_an_older_chatkitd_is_adopted(tmp_path):
    """Links handed out before the upgrade keep working: the file's key becomes the database's."""
    import hashlib
    import hmac
    import time

    admin_key = "sk-test-" + secrets.token_hex(8)
    (tmp_path / "secret_key").write_text("an-old-key-from-the-data-dir")
    with (
        fresh_database("sqlite", tmp_path / "chatkitd.db", "unused") as url,
        serve_process(url, tmp_path, admin_key) as base,
    ):
        link = _link(base, admin_key)
        attachment_id = link.split("/")[4]
        expires = int(time.time()) + 600
        message = f"upload:{attachment_id}:{expires}".encode()
        old_signature = hmac.new(b"an-old-key-from-the-data-dir", message, hashlib.sha256).hexdigest()
        signed_before = f"{link.split('?')[0]}?expires={expires}&signature={old_signature}"
        assert _upload(base, signed_before).status_code == 200
