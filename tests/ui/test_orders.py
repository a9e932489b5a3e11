"""The orders fragment and page: one row per order, newest first, with exactly the moves
its state machine allows (canTransitionTo), each a form for the control plane's forced
transition; the query string filters exactly as GET /_emulator/orders does."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .html import Node
from .support import (
    FB_LIKES,
    OTP_AT_ONCE,
    advance,
    client_of,
    emulator,
    energy_order,
    ok,
    otp_order,
    page,
    premium_order,
    social_order,
    transition,
    when,
)

Made = dict[tuple[str, str], str]  # (kind, status) -> order id, as the dashboard shows it


def every_status(web: httpx.Client) -> tuple[Made, list[str]]:
    """An order in each status of each machine (by the clock and by forced transitions),
    each created a second after the one before; and their ids in creation order."""
    made: Made = {}
    created: list[str] = []

    def add(kind: str, status: str, order_id: object) -> str:
        made[(kind, status)] = str(order_id)
        created.append(str(order_id))
        advance(web, 1)
        return str(order_id)

    # The clock's own work: the OTP order expires after 1200 s, the energy order completes after 1 h.
    add("otp", "expired", otp_order(web))
    add("energy", "completed", energy_order(web))
    advance(web, 3600)
    add("otp", "waiting_sms", otp_order(web))
    transition(web, "247xd", add("otp", "completed", otp_order(web)), "completed", otpCode="482913")
    add("otp", "sms at once", otp_order(web, OTP_AT_ONCE))  # completed by the API itself
    transition(web, "247xd", add("otp", "cancelled", otp_order(web)), "cancelled")
    order_id = add("otp", "refunded", otp_order(web))
    transition(web, "247xd", order_id, "cancelled")
    transition(web, "247xd", order_id, "refunded")
    add("social", "processing", social_order(web))
    transition(web, "247xd", add("social", "completed", social_order(web)), "completed")
    transition(web, "247xd", add("social", "partial", social_order(web)), "partial", delivered=40)
    transition(web, "247xd", add("social", "cancelled", social_order(web)), "cancelled")
    order_id = add("social", "refunded", social_order(web))
    transition(web, "247xd", order_id, "cancelled")
    transition(web, "247xd", order_id, "refunded")
    add("premium", "completed", premium_order(web))
    add("energy", "processing", energy_order(web))
    transition(
        web, "usdtlowfee", add("energy", "failed", energy_order(web)), "failed", reason="no energy today"
    )
    add("social", "pending", social_order(web, FB_LIKES))  # starts after 30 s: made last
    return made, created


def listed(web: httpx.Client, **params: str) -> dict[str, Any]:
    return ok(web.get("/_emulator/orders", params=params))  # type: ignore[no-any-return]


def rows(doc: Node) -> list[Node]:
    return doc.all("tr", data_order=True)


def test_each_status_of_each_machine_offers_exactly_its_moves(web: httpx.Client) -> None:
    made, _ = every_status(web)
    machines = ok(web.get("/_emulator/machines"))["machines"]
    table = {(m["api"], m["kind"]): m["transitions"] for m in machines}
    items = listed(web)["orders"]
    assert len(items) == len(made)
    # Every status of every machine is here.
    assert {(i["api"], i["kind"], i["status"]) for i in items} == {
        (api, kind, status) for (api, kind), transitions in table.items() for status in transitions
    }
    for kind, status in made:  # each recipe gave the status it meant
        if status != "sms at once":
            assert [i["status"] for i in items if i["orderId"] == made[(kind, status)]] == [status]
    doc = page(web, "/fragments/orders")
    assert len(rows(doc)) == len(items)
    for item in items:
        row = doc.one("tr", data_order=item["orderId"])
        assert row["data-status"] == item["status"]
        assert row.one(data_testid="status").text == item["status"]
        assert row.one(data_label="Account").text == item["accountId"]
        allowed = table[(item["api"], item["kind"])][item["status"]]
        assert item["canTransitionTo"] == allowed
        buttons = row.all("button", data_move=True)
        assert [b["data-move"] for b in buttons] == allowed, (item["kind"], item["status"])
        forms = row.all("form")
        assert len(forms) == len(allowed)
        for form, target in zip(forms, allowed, strict=True):
            assert form["data-call"] == f"POST /_emulator/{item['api']}/orders/{item['orderId']}/transition"
            assert form.one("input", type="hidden", name="to")["value"] == target
            assert form.one("button", data_move=True)["data-move"] == target
            assert form.one("button")["type"] == "submit"
        if not allowed:
            assert row.one(data_label="Moves").text == "final"


# What a person types in a move's one field, as ui.js sends it.
TYPED = {"otpCode": "135790", "delivered": 7, "reason": "typed in the dashboard"}


def submit(web: httpx.Client, form: Node) -> httpx.Response:
    """A move form sent as ui.js sends it: its fields (the hidden `to`, the typed one) as JSON."""
    body: dict[str, Any] = {}
    for field in form.all("input"):
        body[field["name"]] = field["value"] if field.get("type") == "hidden" else TYPED[field["name"]]
    method, url = form["data-call"].split(" ")
    return web.request(method, url, json=body)


@pytest.mark.parametrize("which", [0, 1, 2])  # no status offers more than 3 moves
def test_every_move_form_is_a_call_the_control_plane_carries_out(which: int) -> None:
    """The `which`-th move of every order (a fresh emulator each time), sent as ui.js sends it."""
    with client_of(emulator()) as web:
        every_status(web)
        doc = page(web, "/fragments/orders")
        sent = {}
        for row in rows(doc):
            forms = row.all("form")
            assert len(forms) <= 3
            if len(forms) > which:
                answer = submit(web, forms[which])
                assert answer.status_code == 200, (forms[which], answer.text)
                sent[row["data-order"]] = forms[which].one("input", name="to")["value"]
        assert len(sent) == (8, 4, 2)[which]
        after = {r["data-order"]: r for r in rows(page(web, "/fragments/orders"))}
        for order_id, target in sent.items():
            assert after[order_id]["data-status"] == target
        for row in rows(doc):
            if sent.get(row["data-order"]) == "completed" and row.all(data_testid="otp-code"):
                assert after[row["data-order"]].one(data_testid="otp-code").text == TYPED["otpCode"]
            if sent.get(row["data-order"]) == "partial":
                assert f"{TYPED['delivered']} / 100" in after[row["data-order"]].one(data_label="Order").text
            if sent.get(row["data-order"]) == "failed":
                assert TYPED["reason"] in after[row["data-order"]].one(data_label="Status").text


def test_orders_are_shown_newest_first(web: httpx.Client) -> None:
    _, created = every_status(web)
    shown = [row["data-order"] for row in rows(page(web, "/fragments/orders"))]
    assert shown == [item["orderId"] for item in listed(web)["orders"]]
    assert shown == created[::-1]


def test_the_otp_code_and_the_energy_txid_once_they_exist(web: httpx.Client) -> None:
    made, _ = every_status(web)
    items = {item["orderId"]: item for item in listed(web)["orders"]}
    doc = page(web, "/fragments/orders")

    def cell(kind: str, status: str, testid: str) -> str:
        return doc.one("tr", data_order=made[(kind, status)]).one(data_testid=testid).text

    assert cell("otp", "completed", "otp-code") == "482913"
    at_once = items[made[("otp", "sms at once")]]["otpCode"]
    assert at_once and at_once.isdigit()
    assert cell("otp", "sms at once", "otp-code") == at_once
    for status in ("waiting_sms", "cancelled", "expired", "refunded"):
        assert cell("otp", status, "otp-code") == "—"
    txid = items[made[("energy", "completed")]]["txid"]
    assert isinstance(txid, str) and len(txid) == 64
    assert cell("energy", "completed", "txid") == txid
    assert cell("energy", "processing", "txid") == "—"
    assert cell("energy", "failed", "txid") == "—"
    failed = doc.one("tr", data_order=made[("energy", "failed")])
    assert "no energy today" in failed.one(data_label="Status").text
    for row in rows(doc):  # no code or txid cell on other kinds
        kind = items[row["data-order"]]["kind"]
        assert len(row.all(data_testid="otp-code")) == (kind == "otp")
        assert len(row.all(data_testid="txid")) == (kind == "energy")


def test_an_energy_order_id_is_shown_exactly(web: httpx.Client) -> None:
    energy_order(web)
    order_id = energy_order(web)
    assert order_id > 2**53 and int(float(order_id)) != order_id  # a double would round it
    row = page(web, "/fragments/orders").one("tr", data_order=str(order_id))
    shown = row.one(data_label="Order").one("code", class_="id")
    assert (shown.text, shown["title"]) == (str(order_id), str(order_id))
    assert row.one(data_label="Price").text == "3,000,000 sun"
    calls = {form["data-call"] for form in row.all("form")}
    assert calls == {f"POST /_emulator/usdtlowfee/orders/{order_id}/transition"}


def test_a_row_shows_the_order_as_listed(web: httpx.Client) -> None:
    order_id = otp_order(web)
    advance(web, 90)
    transition(web, "247xd", order_id, "cancelled")
    item = listed(web)["orders"][0]
    row = page(web, "/fragments/orders").one("tr", data_order=order_id)
    assert row.one(class_="kind").text == "247xd otp"
    assert item["order"]["phoneNumber"] in row.one(data_label="Order").text
    assert row.one(data_label="Price").text == "5.00 coins"
    created, updated = row.all("time")
    assert (created.text, created["datetime"]) == (when(item["createdAt"]), item["createdAt"])
    assert (updated.text, updated["datetime"]) == (when(item["updatedAt"]), item["updatedAt"])
    assert (created.text, updated.text) == ("2025-01-15 10:30:00", "2025-01-15 10:31:30")


FILTERS: list[dict[str, str]] = [
    {},
    {"api": "247xd"},
    {"api": "usdtlowfee"},
    {"accountId": "xd-demo"},
    {"accountId": "xd-rich"},
    {"accountId": "ulf-demo"},
    {"accountId": "nobody"},
    {"kind": "otp"},
    {"kind": "social"},
    {"kind": "premium"},
    {"kind": "energy"},
    {"status": "completed"},
    {"status": "waiting_sms"},
    {"status": "processing"},
    {"status": "failed"},
    {"status": "refunded", "kind": "social"},
    {"status": "completed", "api": "usdtlowfee"},
    {"api": "usdtlowfee", "kind": "otp"},
    {"accountId": "xd-demo", "status": "expired", "kind": "otp", "api": "247xd"},
    {"limit": "3"},
    {"status": "processing", "limit": "1"},
    {"api": "", "status": "", "kind": "", "accountId": ""},  # empty: not given
]


def test_filters_narrow_the_list_exactly_as_the_control_plane_does(web: httpx.Client) -> None:
    every_status(web)
    for params in FILTERS:
        given = {k: v for k, v in params.items() if v}
        expected = [item["orderId"] for item in listed(web, **given)["orders"]]
        fragment = [row["data-order"] for row in rows(page(web, "/fragments/orders", params))]
        assert fragment == expected, params
        doc = page(web, "/orders", params)
        section = doc.one("section", data_fragment="orders")
        assert [row["data-order"] for row in rows(section)] == expected, params
        form = doc.one("form", method="get")
        for name in ("api", "kind", "status", "accountId"):
            selected = [o.text for o in form.one("select", name=name).all("option", selected=True)]
            assert selected == ([params[name]] if params.get(name) and params[name] != "nobody" else []), name
    assert sum(1 for _ in FILTERS) > 20


def test_a_filter_matching_nothing_says_so(web: httpx.Client) -> None:
    otp_order(web)
    doc = page(web, "/fragments/orders", kind="energy")
    assert rows(doc) == []
    assert doc.one("tbody").text == "No orders match."
    assert page(web, "/fragments/orders", api="usdtlowfee").one("tbody").text == "No orders match."


def test_no_orders_at_all(web: httpx.Client) -> None:
    assert page(web, "/fragments/orders").one("tbody").text == "No orders."


def test_more_than_the_limit_says_so(web: httpx.Client) -> None:
    for _ in range(3):
        otp_order(web)
    assert listed(web, limit="2")["hasMore"] is True
    doc = page(web, "/fragments/orders", limit="2")
    assert len(rows(doc)) == 2
    assert "Showing the newest 2" in doc.text
    assert "Showing the newest" not in page(web, "/fragments/orders", limit="3").text


BAD = [
    {"status": "bogus"},
    {"limit": "0"},
    {"limit": "1001"},
    {"limit": "ten"},
    {"api": "nope"},
    {"kind": "vip"},
    {"accountId": "x" * 201},
]


@pytest.mark.parametrize("params", BAD)
def test_a_bad_filter_shows_the_control_planes_error_as_400(
    web: httpx.Client, params: dict[str, str]
) -> None:
    otp_order(web)
    answer = web.get("/_emulator/orders", params=params)
    assert answer.status_code == 400
    message = answer.json()["error"]["message"]
    assert message
    fragment = page(web, "/fragments/orders", params, expect=400)
    assert [p.text for p in fragment.all("p", class_="error")] == [message]
    assert fragment.one("p", class_="error")["role"] == "alert"
    assert rows(fragment) == []
    doc = page(web, "/orders", params, expect=400)
    assert [p.text for p in doc.all("p", class_="error")] == [message]
    assert rows(doc) == []
    # The rest of the page is there.
    assert doc.one("nav") and doc.one(id="clock-now").text == "2025-01-15 10:30:00"
