"""The accounts fragment (the overview page): every account as the control plane lists it,
money as rendered, keys redacted except for the Copy button."""

from __future__ import annotations

import copy
import re
from typing import Any

import httpx
import pytest

from emulator.runtime import Emulator

from .html import Node
from .support import ULF_KEY, ULF_REVOKED, XD_KEY, XD_REVOKED, energy_order, ok, page


def listed(web: httpx.Client, api: str) -> list[dict[str, Any]]:
    return ok(web.get(f"/_emulator/{api}/accounts"))["accounts"]  # type: ignore[no-any-return]


def tables(doc: Node) -> dict[str, Node]:
    cards = doc.all("table")
    assert len(cards) == 2
    return {"247xd": cards[0], "usdtlowfee": cards[1]}


def masked(key: str) -> str:
    """`247xd_****d0c1`: the key's prefix up to its last `_`, then **** and its last 4."""
    return re.sub(r"^(.*_).*(.{4})$", r"\1****\2", key)


def test_the_demo_keys_are_shown_redacted() -> None:
    assert masked(XD_KEY) == "247xd_****d0c1"
    assert masked(ULF_KEY) == "ak_live_****enH4"


def test_every_account_of_both_apis_is_shown_in_the_listed_order(web: httpx.Client) -> None:
    ok(web.post("/_emulator/247xd/accounts", json={"coins": 7, "label": "made here"}), 201)
    ok(web.post("/_emulator/usdtlowfee/accounts", json={"balanceSun": 5}), 201)
    shown = tables(page(web, "/fragments/accounts"))
    for api in ("247xd", "usdtlowfee"):
        rows = shown[api].one("tbody").all("tr")
        ids = [a["accountId"] for a in listed(web, api)]
        assert len(ids) == 6
        assert [row.get("data-account") for row in rows] == ids
        for row, account in zip(rows, listed(web, api), strict=True):
            assert row.one("strong").text == account["accountId"]
            if account["label"]:
                assert account["label"] in row.one(data_label="Account").text


def test_coins_are_shown_with_two_decimals(web: httpx.Client) -> None:
    ok(web.patch("/_emulator/247xd/accounts/xd-empty", json={"coins": 12.5}))
    ok(web.patch("/_emulator/247xd/accounts/xd-rich", json={"coins": 1234567.89}))
    rows = tables(page(web, "/fragments/accounts"))["247xd"]
    shown = {
        row["data-account"]: row.one(data_testid="coins").text for row in rows.all("tr", data_account=True)
    }
    assert shown == {a["accountId"]: f"{a['coins']:.2f}" for a in listed(web, "247xd")}
    assert (shown["xd-demo"], shown["xd-empty"], shown["xd-rich"]) == ("500.00", "12.50", "1234567.89")


def test_balance_frozen_and_total_sun_are_shown_with_thousands_separators(web: httpx.Client) -> None:
    energy_order(web)  # processing: its price is frozen
    ok(web.patch("/_emulator/usdtlowfee/accounts/ulf-empty", json={"balanceSun": 1234567}))
    accounts = {a["accountId"]: a for a in listed(web, "usdtlowfee")}
    demo = accounts["ulf-demo"]
    assert demo["frozenSun"] > 0 and demo["totalSun"] == demo["balanceSun"] + demo["frozenSun"]
    rows = tables(page(web, "/fragments/accounts"))["usdtlowfee"].all("tr", data_account=True)
    assert len(rows) == len(accounts)
    for row in rows:
        account = accounts[row["data-account"]]
        for testid, field in (("balance", "balanceSun"), ("frozen", "frozenSun"), ("total", "totalSun")):
            assert row.one(data_testid=testid).text == f"{account[field]:,}", (row, field)
    demo_row = {r["data-account"]: r for r in rows}["ulf-demo"]
    assert demo_row.one(data_testid="frozen").text == "3,000,000"
    assert demo_row.one(data_testid="balance").text == "97,000,000"
    assert demo_row.one(data_testid="total").text == "100,000,000"


def keys_of(web: httpx.Client) -> list[tuple[str, dict[str, Any]]]:
    return [(api, key) for api in ("247xd", "usdtlowfee") for a in listed(web, api) for key in a["keys"]]


def test_keys_are_redacted_in_the_text_and_whole_only_where_a_button_needs_them(web: httpx.Client) -> None:
    ok(web.post("/_emulator/247xd/accounts/xd-demo/keys"), 201)
    ok(web.post("/_emulator/usdtlowfee/accounts/ulf-demo/keys"), 201)
    doc = page(web, "")
    text = "".join(doc.strings())
    keys = keys_of(web)
    assert len(keys) == 14  # 6 of the fixtures and 1 new per API
    for api, key in keys:
        whole = key["apiKey"]
        assert whole not in text
        account_row = doc.one("tr", data_account=key["accountId"])
        item = [li for li in account_row.all("li", class_="key") if li.one("code").text == masked(whole)]
        assert len(item) == 1, whole
        holders = sorted(
            (node.tag, name, value)
            for node in doc.iter()
            for name, value in node.attrs.items()
            if whole in value
        )
        if key["revoked"]:
            assert holders == []
        else:
            # Copy takes the whole key; Revoke's call names it (DELETE /_emulator/{api}/keys/{apiKey}).
            assert holders == [
                ("button", "data-copy", whole),
                ("form", "data-call", f"DELETE /_emulator/{api}/keys/{whole}"),
            ]
    assert masked(XD_KEY) in text and masked(ULF_KEY) in text


@pytest.mark.parametrize(("account_id", "key"), [("xd-old-keys", XD_REVOKED), ("ulf-old-keys", ULF_REVOKED)])
def test_a_revoked_key_says_so_and_has_no_buttons(web: httpx.Client, account_id: str, key: str) -> None:
    row = page(web, "/fragments/accounts").one("tr", data_account=account_id)
    items = row.all("li", class_="key")
    assert len(items) == 2
    revoked = [li for li in items if li.one("code").text == masked(key)]
    assert len(revoked) == 1
    assert "revoked" in revoked[0].classes
    assert revoked[0].one(class_="badge").text == "revoked"
    assert revoked[0].all("button") == [] and revoked[0].all("form") == []
    live = [li for li in items if li is not revoked[0]][0]
    assert "revoked" not in live.text
    assert [b.text for b in live.all("button")] == ["Copy", "Revoke"]


def test_a_key_revoked_through_the_control_plane_loses_its_buttons(web: httpx.Client) -> None:
    before = page(web, "/fragments/accounts").one("tr", data_account="xd-demo")
    (form,) = before.all("form", data_call=f"DELETE /_emulator/247xd/keys/{XD_KEY}")
    method, path = form["data-call"].split(" ")
    assert web.request(method, path).status_code == 204  # the form's own call
    item = page(web, "/fragments/accounts").one("tr", data_account="xd-demo").one("li", class_="key")
    assert item.one("code").text == "247xd_****d0c1"
    assert item.one(class_="badge").text == "revoked"
    assert item.all("button") == []
    (demo,) = [a for a in listed(web, "247xd") if a["accountId"] == "xd-demo"]
    assert [k["revoked"] for k in demo["keys"]] == [True]


def test_each_account_offers_a_new_key_and_set_money_to_its_own_endpoints(web: httpx.Client) -> None:
    shown = tables(page(web, "/fragments/accounts"))
    for api, field in (("247xd", "coins"), ("usdtlowfee", "balanceSun")):
        for row in shown[api].all("tr", data_account=True):
            account_id = row["data-account"]
            calls = [form["data-call"] for form in row.all("form") if "/keys/" not in form["data-call"]]
            assert calls == [
                f"POST /_emulator/{api}/accounts/{account_id}/keys",
                f"PATCH /_emulator/{api}/accounts/{account_id}",
            ]
            setter = row.one("form", data_call=f"PATCH /_emulator/{api}/accounts/{account_id}")
            assert setter.one("input")["name"] == field


ODD_ID = "team a?b#c"  # fixtures take any account id of up to 64 characters


def test_an_account_id_that_needs_quoting_still_gets_its_own_calls(web: httpx.Client, emu: Emulator) -> None:
    doc = copy.deepcopy(emu.fixtures.doc)
    doc["247xd"]["accounts"].append({"id": ODD_ID, "coins": 1, "keys": []})
    ok(web.post("/_emulator/fixtures", json=doc))
    assert [a["accountId"] for a in listed(web, "247xd")][-1] == ODD_ID
    row = page(web, "/fragments/accounts").one("tr", data_account=ODD_ID)
    calls = [form["data-call"] for form in row.all("form")]
    assert len(calls) == 2
    for call in calls:
        method, url = call.split(" ")[:2]  # as ui.js: const [method, url] = form.dataset.call.split(" ")
        body = {"coins": 3} if method == "PATCH" else {}
        assert web.request(method, url, json=body).status_code in (200, 201), call
    assert [a["coins"] for a in listed(web, "247xd") if a["accountId"] == ODD_ID] == [3.0]


def test_an_accounts_state_is_shown_as_badges(web: httpx.Client) -> None:
    own = ok(web.post("/_emulator/usdtlowfee/accounts", json={"clock": "own", "emailVerified": False}), 201)
    rows = {row["data-account"]: row for row in page(web, "/fragments/accounts").all("tr", data_account=True)}

    def badges(account_id: str) -> list[str]:
        return [b.text for b in rows[account_id].one(data_label="State").all(class_="badge")]

    assert badges("xd-demo") == ["active"]
    assert badges("xd-banned") == ["banned"]
    assert badges("ulf-demo") == ["active"]
    assert badges("ulf-disabled") == ["disabled"]
    assert badges("ulf-empty") == ["active", "email unverified"]
    assert badges(own["accountId"]) == ["active", "email unverified", "own clock"]
