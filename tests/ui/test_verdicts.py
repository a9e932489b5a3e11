"""The dashboard's Verdicts page and the journal's withheld answers (issue 17)."""

from __future__ import annotations

import httpx

from .support import OTP_NEVER, OTP_SERVICE, XD_KEY, ok, page, when, xd

NEVER = {"serviceId": OTP_SERVICE, "priceOptionId": OTP_NEVER}


def test_the_page_shows_each_finding_as_get_verdicts_answers_it(web: httpx.Client) -> None:
    assert page(web, "/verdicts").one("tbody").text.startswith("No findings")
    for _ in range(4):
        web.post("/api/v1/otp/orders", headers=xd(), json={"serviceId": OTP_SERVICE})  # 400 each time
    (verdict,) = ok(web.get("/_emulator/verdicts"))["verdicts"]
    row = page(web, "/verdicts").one("tr", data_rule="ignored-refusal")
    assert verdict["message"] in row.text and verdict["accountId"] in row.text
    assert [c.text for c in row.all("code")][1:] == verdict["requestIds"]
    assert when(verdict["at"]) in row.text
    assert "4 of 1000 requests journaled" in page(web, "/fragments/verdicts").text


def test_the_filters_are_the_control_planes(web: httpx.Client) -> None:
    for _ in range(4):
        web.post("/api/v1/otp/orders", headers=xd(), json={"serviceId": OTP_SERVICE})
    assert page(web, "/verdicts", api="usdtlowfee").all("tr", data_rule=True) == []
    assert (
        len(page(web, "/verdicts", accountId="xd-demo", rule="ignored-refusal").all("tr", data_rule=True))
        == 1
    )
    form = page(web, "/verdicts", rule="ignored-refusal").one("form", action="/_emulator/ui/verdicts")
    options = form.one("select", name="rule").all("option")
    assert [o.text for o in options] == ["all", *ok(web.get("/_emulator/verdicts"))["rules"]]
    assert [o.text for o in options if "selected" in o.attrs] == ["ignored-refusal"]
    bad = page(web, "/verdicts", since="yesterday", expect=400)
    assert bad.one(class_="error").text.startswith("since")


def test_the_requests_page_shows_what_an_after_fault_withheld(web: httpx.Client) -> None:
    fault = {"api": "247xd", "method": "POST", "path": "/otp/orders", "status": 500, "phase": "after"}
    ok(web.post("/_emulator/faults", json=fault), 201)
    assert web.post("/api/v1/otp/orders", headers=xd(XD_KEY), json=NEVER).status_code == 500
    entry = page(web, "/fragments/requests").one("li", class_="entry")
    assert "faulted" in entry.classes and "after the commit" in entry.text
    withheld = entry.one(data_testid="withheld")
    assert withheld.text.startswith("Withheld: 201")
    assert '"orderId"' in withheld.text
    assert "req-1" in entry.one(data_testid="request-id").text
    faults = page(web, "/fragments/faults")
    assert faults.one(data_testid="phase").text == "after the commit"
