"""Keys through the control plane (both APIs): issue another, revoke one, set its expiry;
and the accounts' PATCH refusing (banned / disabled) and funding them."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from emulator.app import create_app
from emulator.config import Config
from emulator.runtime import Emulator

from .apis import APIS, ULF, XD, Api, control_error

KEY_SHAPE = {"247xd": r"247xd_[0-9a-f]{40}", "usdtlowfee": r"ak_live_[0-9a-f]{32}"}
EXPIRED_FIXTURE_KEY = {  # emulator/data/default.json: the old-keys accounts
    "247xd": ("247xd_1dc9eef8072c66a7ba858b9ff62b1c5803e98dc9", "xd-old-keys"),
    "usdtlowfee": ("ak_live_eeUj0Hguy64GFPzjQXo3fYTZ10n2Bn9K", "ulf-old-keys"),
}
REVOKED_FIXTURE_KEY = {
    "247xd": "247xd_fc204a6d15e1470dcc3ed1a18b074344edd409bd",
    "usdtlowfee": "ak_live_taF7X6ZovrvGeVQW47sDhLmgo6in9VOh",
}

apis = pytest.mark.parametrize("api", APIS, ids=lambda a: a.name)


def issue(client: TestClient, api: Api, account: str, **body: object) -> dict:
    response = client.post(f"/_emulator/{api.name}/accounts/{account}/keys", json=body or None)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def advance(client: TestClient, seconds: float) -> None:
    assert client.post("/_emulator/clock/advance", json={"seconds": seconds}).status_code == 200


@apis
def test_another_key_works_alongside_the_first(client: TestClient, api: Api) -> None:
    key = issue(client, api, api.demo_account)
    assert key == {
        "apiKey": key["apiKey"],
        "accountId": api.demo_account,
        "expiresAt": None,
        "revoked": False,
    }
    assert re.fullmatch(KEY_SHAPE[api.name], key["apiKey"])
    assert api.get(client, key["apiKey"]).status_code == 200
    assert api.get(client, api.demo_key).status_code == 200
    assert api.get(client, key["apiKey"]).json() == api.get(client, api.demo_key).json()  # same account


@apis
def test_a_key_issued_with_an_expiry_works_until_that_instant(client: TestClient, api: Api) -> None:
    key = issue(client, api, api.demo_account, expiresAt="2025-01-15T10:31:00+00:00")["apiKey"]
    advance(client, 59.999)
    assert api.get(client, key).status_code == 200
    advance(client, 0.001)  # exactly at expiresAt
    response = api.get(client, key)
    assert response.status_code == 401 and api.code(response) == "UNAUTHORIZED"
    assert api.get(client, api.demo_key).status_code == 200


@apis
def test_the_view_shows_the_expiry_in_milliseconds(client: TestClient, api: Api) -> None:
    key = issue(client, api, api.demo_account, expiresAt="2025-01-15T17:31:00.25+07:00")
    assert key["expiresAt"] == "2025-01-15T10:31:00.250Z"


@apis
def test_revoking_one_key_leaves_the_others_working(client: TestClient, api: Api) -> None:
    key = issue(client, api, api.demo_account)["apiKey"]
    response = client.delete(f"/_emulator/{api.name}/keys/{key}")
    assert response.status_code == 204 and response.content == b""
    refused = api.get(client, key)
    assert refused.status_code == 401 and api.code(refused) == "UNAUTHORIZED"
    assert api.get(client, api.demo_key).status_code == 200
    # Revoking again changes nothing and is not an error.
    assert client.delete(f"/_emulator/{api.name}/keys/{key}").status_code == 204
    assert api.get(client, key).status_code == 401


@apis
def test_revoking_the_only_key_locks_the_account_out(client: TestClient, api: Api) -> None:
    assert client.delete(f"/_emulator/{api.name}/keys/{api.demo_key}").status_code == 204
    assert api.get(client, api.demo_key).status_code == 401
    fresh = issue(client, api, api.demo_account)["apiKey"]
    assert api.get(client, fresh).status_code == 200


@apis
def test_patch_sets_and_clears_the_expiry(client: TestClient, api: Api) -> None:
    key = issue(client, api, api.demo_account)["apiKey"]
    response = client.patch(f"/_emulator/{api.name}/keys/{key}", json={"expiresAt": "2025-01-15T10:30:00Z"})
    assert response.status_code == 200
    assert response.json() == {
        "apiKey": key,
        "accountId": api.demo_account,
        "expiresAt": "2025-01-15T10:30:00.000Z",
        "revoked": False,
    }
    assert api.get(client, key).status_code == 401  # expired at this very instant
    response = client.patch(f"/_emulator/{api.name}/keys/{key}", json={"expiresAt": None})
    assert response.status_code == 200 and response.json()["expiresAt"] is None
    assert api.get(client, key).status_code == 200


@apis
def test_patch_can_bring_an_expired_fixture_key_back(client: TestClient, api: Api) -> None:
    key, account = EXPIRED_FIXTURE_KEY[api.name]
    assert api.get(client, key).status_code == 401
    response = client.patch(f"/_emulator/{api.name}/keys/{key}", json={"expiresAt": None})
    assert response.status_code == 200 and response.json()["accountId"] == account
    assert api.get(client, key).status_code == 200


@apis
def test_patch_without_expires_at_changes_nothing(client: TestClient, api: Api) -> None:
    key = issue(client, api, api.demo_account, expiresAt="2030-01-01T00:00:00Z")["apiKey"]
    response = client.patch(f"/_emulator/{api.name}/keys/{key}", json={})
    assert response.status_code == 200 and response.json()["expiresAt"] == "2030-01-01T00:00:00.000Z"


@apis
def test_a_revoked_key_cannot_be_changed(client: TestClient, api: Api) -> None:
    key = REVOKED_FIXTURE_KEY[api.name]
    message = control_error(
        client.patch(f"/_emulator/{api.name}/keys/{key}", json={"expiresAt": None}), 409, "CONFLICT"
    )
    assert "revoked" in message
    shown = client.patch(f"/_emulator/{api.name}/keys/{key}", json={})
    assert shown.status_code == 200 and shown.json()["revoked"] is True
    assert api.get(client, key).status_code == 401


@apis
def test_unknown_keys_and_accounts_are_404(client: TestClient, api: Api) -> None:
    other = ULF if api is XD else XD
    for response in (
        client.delete(f"/_emulator/{api.name}/keys/nope"),
        client.patch(f"/_emulator/{api.name}/keys/nope", json={"expiresAt": None}),
        client.delete(f"/_emulator/{api.name}/keys/{other.demo_key}"),  # the other API's key
        client.post(f"/_emulator/{api.name}/accounts/nobody/keys"),
        client.post(f"/_emulator/{api.name}/accounts/{other.demo_account}/keys"),
    ):
        control_error(response, 404, "NOT_FOUND")
    assert other.get(client, other.demo_key).status_code == 200


def test_an_unknown_api_is_404(client: TestClient) -> None:
    for response in (
        client.post("/_emulator/stripe/accounts/xd-demo/keys"),
        client.post(
            "/_emulator/stripe/accounts/xd-demo/keys",
            content=b"{",
            headers={"Content-Type": "application/json"},
        ),
        client.delete(f"/_emulator/stripe/keys/{XD.demo_key}"),
        client.patch(f"/_emulator/stripe/keys/{XD.demo_key}", json={"expiresAt": None}),
    ):
        assert "stripe" in control_error(response, 404, "NOT_FOUND")
    assert XD.get(client, XD.demo_key).status_code == 200


def test_other_methods_are_405_with_allow(client: TestClient) -> None:
    response = client.get(f"/_emulator/247xd/keys/{XD.demo_key}")
    control_error(response, 405, "METHOD_NOT_ALLOWED")
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"PATCH", "DELETE"}
    control_error(client.get("/_emulator/247xd/accounts/xd-demo/keys"), 405, "METHOD_NOT_ALLOWED")


BAD_EXPIRY = [5, True, "", "yesterday", "2025-13-01T00:00:00Z", ["2025-01-01T00:00:00Z"], {"at": 1}]


@apis
@pytest.mark.parametrize("bad", BAD_EXPIRY)
def test_a_bad_expiry_is_400_and_changes_nothing(
    client: TestClient, emu: Emulator, api: Api, bad: object
) -> None:
    ring = api.backend(emu).keys.records
    count = len(ring)
    message = control_error(
        client.post(f"/_emulator/{api.name}/accounts/{api.demo_account}/keys", json={"expiresAt": bad}),
        400,
        "VALIDATION_ERROR",
    )
    assert "expiresAt" in message
    assert len(ring) == count
    control_error(
        client.patch(f"/_emulator/{api.name}/keys/{api.demo_key}", json={"expiresAt": bad}),
        400,
        "VALIDATION_ERROR",
    )
    assert ring[api.demo_key].expires_us is None


@apis
def test_a_key_expires_by_its_accounts_own_clock(client: TestClient, api: Api) -> None:
    account = api.create_account(client, clock="own")
    key = issue(client, api, account["accountId"], expiresAt="2025-01-15T10:31:00Z")["apiKey"]
    advance(client, 3600)  # the emulator clock: not this account's
    assert api.get(client, key).status_code == 200
    assert api.get(client, account["apiKey"]).status_code == 200
    response = client.post(
        f"/_emulator/{api.name}/accounts/{account['accountId']}/clock/advance", json={"seconds": 60}
    )
    assert response.status_code == 200
    assert api.get(client, key).status_code == 401
    assert api.get(client, account["apiKey"]).status_code == 200  # no expiry


@apis
def test_issued_keys_are_the_same_for_the_same_seed(api: Api) -> None:
    issued = []
    for _ in range(2):
        with TestClient(create_app(emulator=Emulator(Config(seed=11)))) as client:
            issued.append(issue(client, api, api.demo_account)["apiKey"])
    assert issued[0] == issued[1]


# --- the accounts' PATCH: refuse and fund -------------------------------------------------


@apis
def test_patch_refuses_an_account_with_403_and_lets_it_back(client: TestClient, api: Api) -> None:
    url = f"/_emulator/{api.name}/accounts/{api.demo_account}"
    assert client.patch(url, json={api.refusal_flag: True}).json()[api.refusal_flag] is True
    refused = api.get(client, api.demo_key)
    assert refused.status_code == 403 and api.code(refused) == api.refusal_code
    # every key of the account is refused, a new one too
    fresh = issue(client, api, api.demo_account)["apiKey"]
    assert api.get(client, fresh).status_code == 403
    assert client.patch(url, json={api.refusal_flag: False}).json()[api.refusal_flag] is False
    assert api.get(client, api.demo_key).status_code == 200
    assert api.get(client, fresh).status_code == 200


@apis
def test_patch_sets_the_balance_the_api_shows(client: TestClient, api: Api) -> None:
    url = f"/_emulator/{api.name}/accounts/{api.demo_account}"
    amount = 12.34 if api is XD else 1_234_567
    response = client.patch(url, json={api.money: amount})
    assert response.status_code == 200 and response.json()[api.money] == amount
    assert api.get(client, api.demo_key).json()["data"][api.money] == amount


@apis
def test_account_views_say_which_clock_the_account_runs_on(client: TestClient, api: Api) -> None:
    own = api.create_account(client, clock="own")
    shared = api.create_account(client, clock="global")
    default = api.create_account(client)
    assert (own["clock"], shared["clock"], default["clock"]) == ("own", "global", "global")
    patched = client.patch(f"/_emulator/{api.name}/accounts/{own['accountId']}", json={})
    assert patched.json()["clock"] == "own"


@apis
@pytest.mark.parametrize("bad", ["mine", "OWN", None, 1, True, ["own"]])
def test_a_bad_clock_choice_is_400_and_creates_nothing(
    client: TestClient, emu: Emulator, api: Api, bad: object
) -> None:
    accounts = api.backend(emu).accounts
    count = len(accounts)
    message = control_error(
        client.post(f"/_emulator/{api.name}/accounts", json={"clock": bad}), 400, "VALIDATION_ERROR"
    )
    assert "clock" in message
    assert len(accounts) == count
