"""Issue 15's findings, reproduced and now refused (docs/security.md): cross-site writes to
the control plane, DNS rebinding (any Host), framing, and the control token.

"Changes nothing" is checked on the whole state document (GET /_emulator/state: every
account, key, order, fault and the clock), before and after."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from emulator.app import create_app
from emulator.cli import exposure_warnings
from emulator.config import DEFAULT_FIXTURES, Config, ConfigError, load
from emulator.core.clock import parse_iso
from emulator.guard import COOKIE, HostPolicy, host_name
from emulator.runtime import Emulator
from emulator.testing.client import EmulatorClient, EmulatorError

from .conftest import START, XD_DEMO_KEY

ULF_DEMO_KEY = "ak_live_6xT3MweUDszReLuYfv1vnmFmb4x3enH4"
TOKEN = "t0ken-for-tests_0123456789"
EVIL = "https://evil.example"
# What the audit sent from a page on another site.
CROSS_SITE = {"Origin": EVIL, "Sec-Fetch-Site": "cross-site"}
BROWSER_HEADER_SETS = [
    pytest.param(CROSS_SITE, id="origin+sec-fetch-site"),
    pytest.param({"Origin": EVIL}, id="origin-only"),
    pytest.param({"Origin": "null"}, id="origin-null"),
    pytest.param({"Sec-Fetch-Site": "cross-site"}, id="sec-fetch-cross-site"),
    pytest.param({"Sec-Fetch-Site": "same-site"}, id="sec-fetch-same-site"),
    pytest.param({"Origin": "http://testserver:8080"}, id="origin-other-port"),
    pytest.param({"Origin": "https://testserver"}, id="origin-other-scheme"),
]


def config(**fields: Any) -> Config:
    return Config(seed=7, clock_start_us=parse_iso(START), clock_frozen=True, **fields)


@pytest.fixture
def guarded() -> Iterator[TestClient]:
    with TestClient(create_app(emulator=Emulator(config(control_token=TOKEN)))) as test_client:
        yield test_client


def state(client: TestClient, **headers: str) -> Any:
    response = client.get("/_emulator/state", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def xd_demo_id(client: TestClient) -> str:
    accounts = client.get("/_emulator/247xd/accounts").json()["accounts"]
    return str(next(a["accountId"] for a in accounts if any(k["apiKey"] == XD_DEMO_KEY for k in a["keys"])))


def fixtures_with_coins(coins: float) -> bytes:
    doc = orjson.loads(DEFAULT_FIXTURES.read_bytes())
    for account in doc["247xd"]["accounts"]:
        account["coins"] = coins
    return orjson.dumps(doc)


def six_findings(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    """The audit's six cross-site writes: (method, path, httpx arguments)."""
    account = xd_demo_id(client)
    return [
        (
            "POST",
            "/_emulator/fixtures",
            {
                "content": fixtures_with_coins(999_999),
                "headers": {"Content-Type": "text/plain"},
            },
        ),
        (
            "POST",
            "/_emulator/reset",
            {
                "content": b"",
                "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            },
        ),
        (
            "POST",
            "/_emulator/clock/advance",
            {
                "content": b'{"seconds": 86400}',
                "headers": {"Content-Type": "text/plain;charset=UTF-8"},
            },
        ),
        (
            "POST",
            "/_emulator/faults",
            {
                "content": b'{"api": "247xd", "status": 500}',
                "headers": {"Content-Type": "text/plain"},
            },
        ),
        (
            "POST",
            f"/_emulator/247xd/accounts/{account}/keys",
            {
                "content": b"{}",
                "headers": {"Content-Type": "text/plain"},
            },
        ),
        ("POST", "/_emulator/247xd/accounts", {"files": {"coins": (None, "1000000")}}),
    ]


def with_headers(arguments: dict[str, Any], extra: dict[str, str]) -> dict[str, Any]:
    return {**arguments, "headers": {**arguments.get("headers", {}), **extra}}


def made_since_start(client: TestClient) -> None:
    """Something a reset or a fixtures load would wipe."""
    assert client.post("/_emulator/247xd/accounts", json={"coins": 5}).status_code == 201


# --- 1. cross-site requests ----------------------------------------------------------------


@pytest.mark.parametrize("browser", BROWSER_HEADER_SETS)
def test_the_six_cross_site_writes_are_refused_403_and_change_nothing(
    client: TestClient, browser: dict[str, str]
) -> None:
    made_since_start(client)
    before = state(client)
    for method, path, arguments in six_findings(client):
        response = client.request(method, path, **with_headers(arguments, browser))
        assert response.status_code == 403, (path, response.text)
        assert response.json()["error"]["code"] == "FORBIDDEN"
        assert not [h for h in response.headers if h.lower().startswith("access-control-")]
    assert state(client) == before


def test_the_six_writes_without_any_browser_header_but_a_non_json_body_get_415_and_change_nothing(
    client: TestClient,
) -> None:
    """An old browser sends no Origin on a form post: its text/plain or multipart body is
    still refused (a form can encode a JSON object only as text/plain)."""
    made_since_start(client)
    before = state(client)
    refused = [f for f in six_findings(client) if f[1] != "/_emulator/reset"]
    for method, path, arguments in refused:
        response = client.request(method, path, **arguments)
        assert response.status_code == 415, (path, response.text)
        assert response.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert state(client) == before


def test_the_same_writes_from_the_dashboard_itself_are_served(client: TestClient) -> None:
    """The checks refuse by origin, not by endpoint: same origin and JSON, each write works
    (and so the refusals above are the guard's, not a broken request)."""
    made_since_start(client)
    before = state(client)
    own = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    account = xd_demo_id(client)
    writes = [
        ("POST", "/_emulator/clock/advance", {"json": {"seconds": 86400}}),
        ("POST", "/_emulator/faults", {"json": {"api": "247xd", "status": 500}}),
        ("POST", f"/_emulator/247xd/accounts/{account}/keys", {"json": {}}),
        ("POST", "/_emulator/247xd/accounts", {"json": {"coins": 1}}),
    ]
    for method, path, arguments in writes:
        response = client.request(method, path, headers=own, **arguments)
        assert response.status_code in (200, 201), (path, response.text)
    after = state(client)
    assert after != before
    assert after["clock"] != before["clock"]
    assert client.post("/_emulator/reset", headers=own).status_code == 200


def test_curl_and_the_client_library_keep_working(client: TestClient) -> None:
    made_since_start(client)
    # `curl -X POST .../reset`: no body, no Origin.
    assert client.post("/_emulator/reset").status_code == 200
    # `curl -d '{"seconds": 60}' -H 'Content-Type: application/json'`, as the docs write it.
    response = client.post(
        "/_emulator/clock/advance",
        content=b'{"seconds": 60}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["now"] == "2025-01-15T10:31:00.000Z"
    # A form body (curl -d's default type) is refused, with or without an Origin: it is
    # what a browser can send cross-site without a preflight.
    for extra in ({}, {"Origin": "http://testserver"}):
        response = client.post(
            "/_emulator/clock/advance",
            content=b'{"seconds": 60}',
            headers={"Content-Type": "application/x-www-form-urlencoded", **extra},
        )
        assert response.status_code == 415, extra


def test_no_cors_preflight_is_answered_for_the_control_plane(client: TestClient) -> None:
    for headers in (
        {
            "Origin": EVIL,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        {"Access-Control-Request-Method": "POST"},
    ):
        response = client.options("/_emulator/reset", headers=headers)
        assert response.status_code in (403, 405)
        assert not [h for h in response.headers if h.lower().startswith("access-control-")]


def test_reads_are_not_refused_by_origin(client: TestClient) -> None:
    """A cross-site GET cannot read the answer (no CORS) and changes nothing: served."""
    assert client.get("/_emulator/clock", headers=CROSS_SITE).status_code == 200


# --- 2. Host checks (DNS rebinding) ----------------------------------------------------------

SURFACES = [
    ("/_emulator/247xd/accounts", {}),
    ("/_emulator/ui", {}),
    ("/api/v1/balance", {"Authorization": f"Bearer {XD_DEMO_KEY}"}),
    ("/v1/wallet/balance", {"Authorization": f"ApiKey {ULF_DEMO_KEY}"}),
]


def test_an_evil_host_gets_403_on_every_surface_in_its_own_envelope_and_no_key(client: TestClient) -> None:
    answers = {}
    for path, headers in SURFACES:
        response = client.get(path, headers={**headers, "Host": "evil.example"})
        assert response.status_code == 403, path
        assert response.headers["x-content-type-options"] == "nosniff"
        assert XD_DEMO_KEY not in response.text and ULF_DEMO_KEY not in response.text
        answers[path] = response.json()
    assert answers["/_emulator/247xd/accounts"]["error"]["code"] == "FORBIDDEN"
    assert answers["/_emulator/ui"]["error"]["code"] == "FORBIDDEN"
    xd = answers["/api/v1/balance"]
    assert xd["success"] is False and xd["error"]["code"] == "BAD_REQUEST"  # 247xd's table has no FORBIDDEN
    assert answers["/v1/wallet/balance"]["error"]["code"] == "FORBIDDEN"
    assert "success" not in answers["/v1/wallet/balance"]


def test_a_refused_host_changes_nothing_and_reaches_no_api(client: TestClient, emu: Emulator) -> None:
    before = state(client)
    response = client.post("/_emulator/reset", headers={"Host": "evil.example"})
    assert response.status_code == 403
    response = client.post(
        "/api/v1/otp/orders",
        headers={"Host": "attacker.example.com", "Authorization": f"Bearer {XD_DEMO_KEY}"},
        json={
            "serviceId": "00000000-0000-4000-8000-000000000001",
            "priceOptionId": "00000000-0000-4000-8000-000000000011",
        },
    )
    assert response.status_code == 403
    assert state(client) == before
    assert client.get("/_emulator/requests").json()["requests"] == []  # not even journalled


@pytest.mark.parametrize(
    "host",
    [
        "emulator:8080",
        "127.0.0.1:8080",
        "emulator",
        "localhost",
        "localhost:5173",
        "app.localhost:3000",
        "[::1]:8080",
        "[::1]",
        "10.0.0.7",
        "my_service:80",
        "LOCALHOST:8080",
        "localhost.",
    ],
)
def test_allowed_hosts_work_on_every_surface(client: TestClient, host: str) -> None:
    for path, headers in SURFACES:
        response = client.get(path, headers={**headers, "Host": host})
        assert response.status_code == 200, (host, path, response.text[:200])


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:8080",
        "127.0.0.1.nip.io",
        "localhost.evil.example",
        "a.b",
        "127.1",
        "evil.example:80:90",
        "[::1",
        "[nothost]:80",
        "emulator:abc",
        "",
        "emu lator",
        "ex\xe4mple",
    ],
)
def test_names_an_attacker_could_own_and_malformed_hosts_are_refused(host: str) -> None:
    assert not HostPolicy().allows(host.encode("latin-1"))


def test_allowed_hosts_extend_the_defaults_like_django() -> None:
    policy = HostPolicy(["emu.internal.example", ".ci.example.com"])
    assert policy.allows(b"emu.internal.example:8080")
    assert policy.allows(b"ci.example.com") and policy.allows(b"runner-3.ci.example.com:80")
    assert not policy.allows(b"evilci.example.com") and not policy.allows(b"other.internal.example")
    assert policy.allows(b"emulator:8080")  # the defaults stay
    assert HostPolicy(["*"]).allows(b"evil.example")


def test_allowed_hosts_over_http(emu: Emulator) -> None:
    app = create_app(emulator=Emulator(config(allowed_hosts=(".example.com",))))
    with TestClient(app) as test_client:
        assert test_client.get("/_emulator/clock", headers={"Host": "emu.example.com"}).status_code == 200
        assert test_client.get("/_emulator/clock", headers={"Host": "example.org"}).status_code == 403


def test_the_host_cache_stays_small_whatever_the_flood() -> None:
    policy = HostPolicy()
    for n in range(5000):
        policy.allows(f"h{n}.evil.example".encode())
    assert len(policy._seen) <= 256
    assert policy.allows(b"emulator:8080") and not policy.allows(b"h1.evil.example")


def test_host_name_strips_the_port_and_brackets() -> None:
    assert host_name("Emulator:8080") == "emulator"
    assert host_name("[::1]:80") == "::1"
    assert host_name("localhost.") == "localhost"
    assert host_name("x:99999999") is None


def test_allowed_hosts_setting_is_parsed_and_checked() -> None:
    loaded = load({}, {"EMULATOR_ALLOWED_HOSTS": "emu.example.com, .ci.example.com ,"})
    assert loaded.allowed_hosts == ("emu.example.com", ".ci.example.com")
    assert load({"allowed_hosts": "*"}, {}).allowed_hosts == ("*",)
    for bad in ("http://emu.example.com", "emu.example.com:8080", "a..b", "emu/x"):
        with pytest.raises(ConfigError, match="allowed hosts"):
            load({"allowed_hosts": bad}, {})


# --- 3. the control token ---------------------------------------------------------------------


def test_with_a_token_the_control_plane_refuses_requests_without_it(guarded: TestClient) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Cookie": f"{COOKIE}={TOKEN}"},
    ):
        for method, path in (
            ("GET", "/_emulator/247xd/accounts"),
            ("GET", "/_emulator/state"),
            ("POST", "/_emulator/reset"),
            ("GET", "/_emulator/openapi.json"),
        ):
            response = guarded.request(method, path, headers=headers)
            assert response.status_code == 401, (headers, path)
            assert response.json()["error"]["code"] == "UNAUTHORIZED"
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert XD_DEMO_KEY not in response.text


def test_with_the_token_the_control_plane_answers(guarded: TestClient) -> None:
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    accounts = guarded.get("/_emulator/247xd/accounts", headers=bearer)
    assert accounts.status_code == 200 and XD_DEMO_KEY in accounts.text
    assert guarded.post("/_emulator/clock/advance", headers=bearer, json={"seconds": 1}).status_code == 200
    # The token does not lift the cross-site rules.
    assert guarded.post("/_emulator/reset", headers={**bearer, **CROSS_SITE}).status_code == 403


def test_health_stays_open_for_the_docker_healthcheck(guarded: TestClient) -> None:
    response = guarded.get("/_emulator/health")
    assert response.status_code == 200 and response.json()["status"] == "ok"
    assert guarded.head("/_emulator/health").status_code == 200
    assert XD_DEMO_KEY not in response.text


def test_with_a_token_the_apis_do_not_care(guarded: TestClient) -> None:
    xd = guarded.get("/api/v1/balance", headers={"Authorization": f"Bearer {XD_DEMO_KEY}"})
    assert xd.status_code == 200 and xd.json()["success"] is True
    ulf = guarded.get("/v1/wallet/balance", headers={"Authorization": f"ApiKey {ULF_DEMO_KEY}"})
    assert ulf.status_code == 200
    # ...and the control token is no API key.
    assert guarded.get("/api/v1/balance", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 401


def test_the_dashboard_without_the_token_says_how_to_log_in(guarded: TestClient) -> None:
    for path in ("/_emulator/ui", "/_emulator/ui/orders", "/_emulator/ui?token=wrong", "/"):
        response = guarded.get(path, follow_redirects=False)
        assert response.status_code == 401, path
        assert response.headers["content-type"].startswith("text/html")
        assert "?token=" in response.text and XD_DEMO_KEY not in response.text
        assert "set-cookie" not in response.headers
    assert guarded.get("/_emulator/ui/fragments/accounts").status_code == 401
    assert guarded.get("/_emulator/ui/static/ui.js").status_code == 401


def test_a_visit_with_the_token_sets_a_strict_http_only_cookie_and_goes_to_the_clean_url(
    guarded: TestClient,
) -> None:
    response = guarded.get(f"/_emulator/ui/orders?status=completed&token={TOKEN}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/_emulator/ui/orders?status=completed"
    cookie = response.headers["set-cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite", "path"} <= attributes
    assert "SameSite=Strict" in cookie and "Path=/_emulator" in cookie
    assert TOKEN not in cookie  # the cookie holds a value derived from it
    value = cookie.split(";")[0].split("=", 1)[1]
    session = {"Cookie": f"{COOKIE}={value}"}
    page = guarded.get("/_emulator/ui", headers=session)
    assert page.status_code == 200 and "xd-demo" in page.text  # the page's own reads pass the cookie
    assert guarded.get("/_emulator/ui/fragments/accounts", headers=session).status_code == 200
    # The dashboard's JSON calls (same origin) carry the cookie: the control plane takes it.
    own = {**session, "Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    assert guarded.post("/_emulator/reset", headers=own).status_code == 200
    assert guarded.get("/_emulator/ui", headers={"Cookie": f"{COOKIE}=forged"}).status_code == 401


def test_the_client_library_passes_the_token() -> None:
    with EmulatorClient.in_process(config=config(control_token=TOKEN)) as emulator:
        assert emulator.health()["status"] == "ok"
        account = emulator.create_xd247_account(coins=10)
        assert account.client.get("/balance").json()["data"]["coins"] == 10.0  # the API: its own key
        assert emulator.reset() == {"status": "reset"}
        app = emulator.app
    assert app is not None
    from emulator.testing.transport import InProcessTransport

    without = EmulatorClient("http://emulator", InProcessTransport(app))
    with pytest.raises(EmulatorError) as refused:
        without.accounts("247xd")
    assert refused.value.status == 401
    without.close()


def test_control_token_setting() -> None:
    assert load({}, {"EMULATOR_CONTROL_TOKEN": "abc"}).control_token == "abc"
    assert load({}, {"EMULATOR_CONTROL_TOKEN": ""}).control_token is None
    with pytest.raises(ConfigError, match="control token"):
        load({"control_token": "two words"}, {})


def test_a_server_others_can_reach_without_a_token_says_so_once_with_the_command() -> None:
    [warning] = exposure_warnings("0.0.0.0", None, ())
    assert "--control-token" in warning and "EMULATOR_CONTROL_TOKEN" in warning
    assert exposure_warnings("::", None, ()) != []
    for quiet in (("127.0.0.1", None), ("::1", None), ("localhost", None), ("0.0.0.0", TOKEN)):
        assert exposure_warnings(*quiet, ()) == []
    [star] = exposure_warnings("127.0.0.1", None, ("*",))
    assert "rebinding" in star


# --- 4. headers -------------------------------------------------------------------------------


def test_the_dashboard_cannot_be_framed_and_loads_nothing_from_elsewhere(client: TestClient) -> None:
    for path in (
        "/_emulator/ui",
        "/_emulator/ui/orders",
        "/_emulator/ui/fragments/clock",
        "/_emulator/clock",
    ):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["x-frame-options"] == "DENY"
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp
        assert "http:" not in csp and "https:" not in csp and "*" not in csp and "unsafe-inline" not in csp


def test_every_response_says_nosniff(client: TestClient) -> None:
    responses = [
        client.get("/_emulator/ui"),
        client.get("/_emulator/ui/static/ui.js"),
        client.get("/_emulator/clock"),
        client.get("/_emulator/nothing-here"),
        client.post("/_emulator/reset", headers=CROSS_SITE),
        client.get("/api/v1/balance", headers={"Authorization": f"Bearer {XD_DEMO_KEY}"}),
        client.get("/api/v1/balance"),
        client.get("/v1/wallet/balance", headers={"Authorization": f"ApiKey {ULF_DEMO_KEY}"}),
        client.get("/v1/nothing"),
        client.get("/_emulator/clock", headers={"Host": "evil.example"}),
    ]
    for response in responses:
        assert response.headers.get("x-content-type-options") == "nosniff", response.request.url


def test_the_dashboard_has_no_inline_script_or_style_the_csp_would_block() -> None:
    """default-src 'self' without 'unsafe-inline': an inline <script>, style= or on...=
    handler in a template would silently not run."""
    import re
    from importlib import resources

    templates = resources.files("emulator.ui").joinpath("templates")
    texts = {}
    for entry in templates.iterdir():
        files = entry.iterdir() if entry.is_dir() else [entry]
        for file in files:
            texts[file.name] = file.read_text("utf-8")
    assert texts
    for name, text in texts.items():
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), name
        assert not re.search(r"<style\b|\sstyle=|\son[a-z]+=", text), name
        assert not re.search(r"(src|href)=\"(https?:)?//", text), name


def test_the_inline_check_catches_an_inline_script(tmp_path: Path) -> None:
    import re

    broken = '<script>alert(1)</script><div style="x" onclick="y">'
    assert re.search(r"<script(?![^>]*\bsrc=)", broken)
    assert re.search(r"<style\b|\sstyle=|\son[a-z]+=", broken)


def test_the_log_in_redirect_keeps_an_odd_path_one_clean_url(guarded: TestClient) -> None:
    response = guarded.get(f"/_emulator/ui/orders%C3%A9?token={TOKEN}&a=%20b", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/_emulator/ui/orders%C3%A9?a=+b"
