"""Whatever a client or a test puts into the state is shown as text, never as markup."""

from __future__ import annotations

import httpx

from .html import parse
from .support import FRAGMENTS, PAGES, UI, energy_order, ok, transition, xd

SCRIPT = "<script>alert(1)</script>"
BOLD = "<b>x</b>"
IMG = '"><img src=x onerror=alert(2)>'


def test_labels_messages_and_journal_bodies_are_escaped(web: httpx.Client) -> None:
    xd_account = ok(web.post("/_emulator/247xd/accounts", json={"label": SCRIPT}), 201)
    ulf_account = ok(web.post("/_emulator/usdtlowfee/accounts", json={"label": SCRIPT + IMG}), 201)
    fault = ok(
        web.post(
            "/_emulator/faults", json={"api": "247xd", "path": "/balance", "status": 503, "message": BOLD}
        ),
        201,
    )
    assert web.get("/api/v1/balance", headers=xd()).status_code == 503  # the message, in the journal too
    web.post("/api/v1/social/orders", headers={**xd(), "X-Note": SCRIPT}, json={"link": SCRIPT, "note": IMG})
    transition(web, "usdtlowfee", energy_order(web), "failed", reason=SCRIPT)
    for path in (*PAGES, *(f"/fragments/{name}" for name in FRAGMENTS)):
        response = web.get(UI + path)
        assert response.status_code == 200
        html = response.text
        assert "<script>alert" not in html and "<b>x" not in html and "<img" not in html, path
        doc = parse(html)
        assert [s.get("src") for s in doc.all("script")] == (
            [f"{UI}/static/ui.js"] if "fragments" not in path else []
        )
        assert doc.all("b") == [] and doc.all("img") == []
    overview = parse(web.get(UI).text)
    assert SCRIPT in overview.one("tr", data_account=xd_account["accountId"]).text
    assert SCRIPT + IMG in overview.one("tr", data_account=ulf_account["accountId"]).text
    faults = parse(web.get(UI + "/faults").text)
    assert f"“{BOLD}”" in faults.one("tr", data_fault=fault["faultId"]).text
    journal = parse(web.get(UI + "/requests").text)
    text = journal.one("section", data_fragment="requests").text
    assert BOLD in text and SCRIPT in text and IMG in text
    orders = parse(web.get(UI + "/orders").text)
    assert SCRIPT in orders.one("tr", data_status="failed").text


def test_an_attribute_value_cannot_be_broken_out_of(web: httpx.Client) -> None:
    account = ok(web.post("/_emulator/247xd/accounts", json={"label": IMG}), 201)
    doc = parse(web.get(UI + "/fragments/accounts").text)
    row = doc.one("tr", data_account=account["accountId"])
    assert all("onerror" not in name for node in doc.iter() for name in node.attrs)
    assert IMG in row.text
