"""The web UI's routes: pages, static files, and the development-only playground session."""

from __future__ import annotations

import httpx2
import pytest

from chatkitd.web import STATIC_DIR
from tests.conftest import ADMIN_KEY
from tests.support.servers import start_server


def test_pages_and_static_files_are_served_with_a_strict_csp(server):
    for path, marker in (("/", "<chatkitd-chat"), ("/admin", "admin console")):
        response = httpx2.get(server.base_url + path)
        assert response.status_code == 200
        assert marker in response.text
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "connect-src 'self'" in csp
    for name in ("chatkit.js", "chatkitd.js", "playground.js", "admin.js"):
        script = httpx2.get(f"{server.base_url}/static/{name}")
        assert script.status_code == 200, name
        assert "javascript" in script.headers["content-type"]
    assert "chatkitd-chat" in httpx2.get(server.base_url + "/static/chatkitd.js").text
    assert httpx2.get(server.base_url + "/static/page.css").headers["content-type"].startswith("text/css")
    assert httpx2.get(server.base_url + "/static/nope.js").status_code == 404


def test_static_files_are_public_to_any_page(server):
    """A page on any origin imports rich.js and loads KaTeX's fonts from chatkitd (module
    imports and fonts need CORS), whether or not CHATKITD_CORS_ORIGINS names it."""
    for path in ("/static/rich.js", "/static/chatkit.js", "/static/fonts/KaTeX_Main-Regular.woff2"):
        response = httpx2.get(server.base_url + path, headers={"origin": "https://shop.example"})
        assert response.status_code == 200, path
        assert response.headers["access-control-allow-origin"] == "*"
        assert response.headers["cross-origin-resource-policy"] == "cross-origin"
        assert "access-control-allow-credentials" not in response.headers
    # The API is not: no origin is allowed there unless configured.
    api = httpx2.get(server.base_url + "/v1/chatkit/threads", headers={"origin": "https://shop.example"})
    assert "access-control-allow-origin" not in api.headers


def test_the_bundles_load_nothing_from_elsewhere():
    """No CDN: the shipped bundles import only files that ship next to them."""
    import re

    assert (STATIC_DIR / "build.json").exists(), "the web UI is not built: run `make web`"
    imports = 0
    for bundle in STATIC_DIR.rglob("*.js"):
        text = bundle.read_text()
        # Not inside a string: highlight.js's keyword lists hold "import","inline", "@import",...
        for target in re.findall(r'(?<![@"\w])(?:from|import)\s*\(?\s*"([^"]+)"', text):
            imports += 1
            assert target.startswith("./") or target.startswith("../"), f"{bundle.name} imports {target}"
            assert (bundle.parent / target).resolve().exists(), f"{bundle.name} imports missing {target}"
        assert "cdn." not in text and "unpkg.com" not in text and "jsdelivr" not in text, bundle.name
    assert imports > 0  # the pages' bundles share chunks: the check above did look at imports


def test_the_classic_script_is_not_a_module():
    """chatkit.js loads with a plain <script src async>, like ChatKit.js from the CDN."""
    import re

    text = (STATIC_DIR / "chatkit.js").read_text()
    assert not re.search(r"^\s*(import|export)\b", text, re.M)
    assert not re.search(r"\bimport\.meta\b", text)


def test_an_unbuilt_ui_says_how_to_build_it(server, monkeypatch):
    from chatkitd.http import web

    monkeypatch.setattr(web, "is_built", lambda: False)
    page = httpx2.get(server.base_url + "/")
    assert page.status_code == 503
    assert "make web" in page.text
    script = httpx2.get(server.base_url + "/static/chatkit.js")
    assert script.status_code == 404
    assert script.json()["error"]["code"] == "web_ui_not_built"
    # The API does not need the UI.
    assert httpx2.get(server.base_url + "/healthz").status_code == 200


def test_playground_session_in_development_mode(server, client):
    response = httpx2.post(
        server.base_url + "/playground/session",
        json={"user": "pg-user", "workflow": {"id": "demo", "state_variables": {"plan": "pro"}}},
    )
    assert response.status_code == 200
    session = response.json()
    assert session["object"] == "chatkit.session"
    assert session["user"] == "pg-user"
    assert session["workflow"]["state_variables"] == {"plan": "pro"}
    assert session["chatkit_configuration"]["file_upload"]["enabled"] is True
    assert session["rate_limits"]["max_requests_per_1_minute"] == 1000
    assert session["client_secret"].startswith("ck_") or len(session["client_secret"]) > 20
    assert ADMIN_KEY not in response.text
    # The session is in the default project, where the admin key can cancel it.
    cancelled = client.beta.chatkit.sessions.cancel(session["id"])
    assert cancelled.status == "cancelled"


def test_playground_session_defaults_and_bad_input(server):
    session = httpx2.post(server.base_url + "/playground/session").json()
    assert session["user"] == "playground-user"
    assert session["workflow"]["id"] == "demo"
    bad = httpx2.post(server.base_url + "/playground/session", json={"workflow": {"id": "nope"}})
    assert bad.status_code == 404
    assert bad.json()["error"]["param"] == "workflow.id"
    too_big = httpx2.post(
        server.base_url + "/playground/session", json={"file_upload": {"max_file_size": 9999}}
    )
    assert too_big.status_code == 400
    assert too_big.json()["error"]["param"] == "chatkit_configuration.file_upload.max_file_size"


@pytest.fixture(scope="module")
def production_server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("prod")
    url = f"sqlite+aiosqlite:///{data_dir / 'chatkitd.db'}"
    with start_server(url, data_dir, ADMIN_KEY, mode="production") as running:
        yield running


def test_playground_session_is_off_in_production(production_server):
    response = httpx2.post(production_server.base_url + "/playground/session", json={})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_route"
    assert httpx2.get(production_server.base_url + "/admin").status_code == 200


def test_production_serves_no_playground_at_the_root(production_server, server):
    home = httpx2.get(production_server.base_url + "/")
    assert home.status_code == 200
    # A page that says what this server is, and no playground that could not work.
    assert "playground.js" not in home.text and "<chatkitd-chat" not in home.text
    assert "production mode" in home.text and 'href="/admin"' in home.text
    assert "default-src 'self'" in home.headers["content-security-policy"]
    assert "playground.js" in httpx2.get(server.base_url + "/").text  # development keeps it


@pytest.mark.parametrize(
    "headers",
    [
        {"x-forwarded-for": "203.0.113.9"},  # a reverse proxy on this host
        {"forwarded": "for=203.0.113.9"},
        {"host": "rebound.example:8000"},  # a DNS-rebound name
        {"sec-fetch-site": "cross-site"},  # another site's page
    ],
    ids=["x-forwarded-for", "forwarded", "foreign host", "cross-site"],
)
def test_playground_session_answers_only_local_pages(server, headers):
    response = httpx2.post(server.base_url + "/playground/session", json={}, headers=headers)
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "not_local"
    same_origin = httpx2.post(
        server.base_url + "/playground/session", json={}, headers={"sec-fetch-site": "same-origin"}
    )
    assert same_origin.status_code == 200


PICKER = """
id: picker
model: small
allowed_models: [small, large]
provider: {type: scripted, script: [{steps: [{text: hi}]}]}
tools: [{builtin: current_time}]
client_tools: [{name: get_location}]
"""


def test_playground_workflow_answers_the_composers_choices(server):
    deployed = httpx2.post(
        server.base_url + "/v1/chatkit/admin/workflows",
        headers={"authorization": f"Bearer {ADMIN_KEY}"},
        json={"filename": "picker.yaml", "definition": PICKER},
    )
    assert deployed.status_code == 200, deployed.text
    body = httpx2.get(server.base_url + "/playground/workflows/picker").json()
    assert body["id"] == "picker" and body["version"] == "1"
    assert body["models"] == [
        {"id": "small", "label": "small", "default": True},
        {"id": "large", "label": "large", "default": False},
    ]
    assert [tool["id"] for tool in body["tools"]] == ["current_time", "get_location"]
    demo = httpx2.get(server.base_url + "/playground/workflows/demo").json()
    assert demo["models"] == [] and demo["tools"] == []
    assert demo["dictation"] is False  # no CHATKITD_TRANSCRIPTION_*: the playground shows no mic
    unknown = httpx2.get(server.base_url + "/playground/workflows/nope")
    assert unknown.status_code == 404 and unknown.json()["error"]["param"] == "workflow.id"
    no_version = httpx2.get(server.base_url + "/playground/workflows/picker?version=9")
    assert no_version.status_code == 404, no_version.text
    foreign = httpx2.get(
        server.base_url + "/playground/workflows/demo", headers={"sec-fetch-site": "cross-site"}
    )
    assert foreign.status_code == 403 and foreign.json()["error"]["code"] == "not_local"


def test_playground_workflow_is_off_in_production(production_server):
    response = httpx2.get(production_server.base_url + "/playground/workflows/demo")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_route"
