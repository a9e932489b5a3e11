"""The journal fragment and the requests page: API calls newest first, keys redacted, the
vendor's Thai text as Thai, the filters as GET /_emulator/requests has them."""

from __future__ import annotations

import re

import httpx
import pytest

from .html import Node
from .support import (
    OTP_SERVICE,
    ULF_KEY,
    XD_KEY,
    advance,
    client_of,
    emulator,
    ok,
    page,
    parse,
    ulf,
    xd,
)


def calls(web: httpx.Client) -> list[tuple[str, str, int]]:
    """A few API calls, a second apart: (method, path, status) in the order made."""
    made = []
    for method, path, headers, body in [
        ("GET", "/api/v1/balance", xd(), None),
        ("POST", "/api/v1/otp/orders", xd(), {"serviceId": OTP_SERVICE}),  # no priceOptionId: 400
        ("GET", "/v1/wallet/balance", ulf(), None),
        ("GET", "/api/v1/otp/services", {"Authorization": "Bearer nope"}, None),  # 401
        ("GET", "/v1/users/me", ulf(), None),
    ]:
        response = web.request(method, path, headers=headers, json=body)
        made.append((method, path, response.status_code))
        advance(web, 1)
    assert [status for *_, status in made] == [200, 400, 200, 401, 200]
    return made


def entries(doc: Node) -> list[Node]:
    return doc.all("li", class_="entry")


def shown(doc: Node) -> list[tuple[str, str, int]]:
    return [
        (li.one("strong").text, li.one("code", class_="path").text, int(li.one(data_testid="status").text))
        for li in entries(doc)
    ]


def test_api_calls_are_shown_newest_first_with_method_path_and_status(web: httpx.Client) -> None:
    made = calls(web)
    doc = page(web, "/fragments/requests")
    assert shown(doc) == made[::-1]
    listed = ok(web.get("/_emulator/requests"))["requests"]
    assert [(e["method"], e["path"], e["status"]) for e in listed] == made[::-1]
    for li, entry in zip(entries(doc), listed, strict=True):
        assert li["data-status"] == str(entry["status"])
        assert li.one("time")["datetime"] == entry["time"]
        assert li.one(class_="kind").text == entry["api"]
    times = [li.one("time").text for li in entries(doc)]
    assert times == [
        "2025-01-15 10:30:04",
        "2025-01-15 10:30:03",
        "2025-01-15 10:30:02",
        "2025-01-15 10:30:01",
        "2025-01-15 10:30:00",
    ]


def test_the_requests_page_shows_the_journal_and_no_key(web: httpx.Client) -> None:
    made = calls(web)
    response = web.get("/_emulator/ui/requests")
    assert response.status_code == 200
    assert shown(parse(response.text).one("section", data_fragment="requests")) == made[::-1]
    for key in (XD_KEY, ULF_KEY):
        assert key not in response.text


def test_the_authorization_header_is_redacted_and_the_key_appears_nowhere(web: httpx.Client) -> None:
    web.get("/api/v1/balance", headers=xd(), params={"apiKey": XD_KEY})
    web.post("/api/v1/otp/orders", headers={**xd(), "X-Api-Key": XD_KEY}, json={"serviceId": XD_KEY})
    web.get(f"/api/v1/otp/orders/{XD_KEY}", headers=xd())
    web.get("/v1/wallet/balance", headers=ulf())
    for path in ("/fragments/requests", "/requests"):
        response = web.get("/_emulator/ui" + path)
        assert response.status_code == 200
        assert XD_KEY not in response.text and ULF_KEY not in response.text
        assert XD_KEY[6:] not in response.text and ULF_KEY[8:] not in response.text
    doc = page(web, "/fragments/requests")
    requests = [li.all("pre")[0].text for li in entries(doc)]
    assert len(requests) == 4
    assert "authorization: ApiKey ****enH4" in requests[0]
    for text in requests[1:]:
        assert "authorization: Bearer ****d0c1" in text
    assert "?apiKey=247xd_****d0c1" in entries(doc)[-1].one("code", class_="path").text


def test_a_thai_error_message_is_shown_as_thai(web: httpx.Client) -> None:
    response = web.post("/api/v1/otp/orders", headers=xd(), json={"serviceId": OTP_SERVICE})
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert re.search("[\u0e00-\u0e7f]", message) and "priceOptionId" in message
    html = web.get("/_emulator/ui/fragments/requests").text
    assert message in html
    assert "\\u0e" not in html.lower()
    assert re.search(r"&#(x0?e[0-7][0-9a-f]|3[5-7][0-9]{2});", html, re.IGNORECASE) is None  # no char refs
    answer = entries(parse(html))[0].all("pre")[1]
    assert answer["lang"] == "th"
    assert message in answer.text
    assert '"code": "VALIDATION_ERROR"' in answer.text


@pytest.mark.parametrize(
    "params",
    [
        {"api": "usdtlowfee"},
        {"api": "247xd"},
        {"method": "POST"},
        {"status": "200"},
        {"status": "401", "api": "247xd"},
        {"limit": "2"},
        {"api": "usdtlowfee", "limit": "1"},
    ],
)
def test_filters_narrow_the_journal_as_the_control_plane_does(
    web: httpx.Client, params: dict[str, str]
) -> None:
    made = calls(web)
    listed = ok(web.get("/_emulator/requests", params=params))["requests"]
    expected = [(e["method"], e["path"], e["status"]) for e in listed]
    assert 0 < len(expected) < len(made)
    assert shown(page(web, "/fragments/requests", params)) == expected
    doc = page(web, "/requests", params)
    assert shown(doc.one("section", data_fragment="requests")) == expected
    form = doc.one("form", method="get")
    if "api" in params:
        assert [o.text for o in form.one("select", name="api").all("option", selected=True)] == [
            params["api"]
        ]
    for name in ("method", "status", "limit"):
        if name in params:
            assert form.one("input", name=name)["value"] == params[name]


def test_the_usdtlowfee_filter_leaves_only_its_requests(web: httpx.Client) -> None:
    calls(web)
    doc = page(web, "/fragments/requests", api="usdtlowfee")
    assert [li.one(class_="kind").text for li in entries(doc)] == ["usdtlowfee", "usdtlowfee"]
    assert [path for _, path, _ in shown(doc)] == ["/v1/users/me", "/v1/wallet/balance"]


@pytest.mark.parametrize("params", [{"status": "abc"}, {"limit": "0"}, {"api": "nope"}, {"method": "G E T"}])
def test_a_bad_journal_filter_shows_the_control_planes_error_as_400(
    web: httpx.Client, params: dict[str, str]
) -> None:
    calls(web)
    answer = web.get("/_emulator/requests", params=params)
    assert answer.status_code == 400
    message = answer.json()["error"]["message"]
    for path in ("/fragments/requests", "/requests"):
        doc = page(web, path, params, expect=400)
        assert [p.text for p in doc.all("p", class_="error")] == [message]
        assert entries(doc) == []


def test_an_empty_journal_says_so(web: httpx.Client) -> None:
    assert page(web, "/fragments/requests").one("ol").text == "No API requests yet."
    calls(web)
    assert web.delete("/_emulator/requests").status_code == 204  # the page's "Clear journal" call
    assert page(web, "/fragments/requests").one("ol").text == "No API requests yet."
    assert page(web, "/requests").one("form", data_call="DELETE /_emulator/requests")


@pytest.mark.parametrize("size", [0, 10])
def test_the_requests_page_works_with_a_small_or_no_journal(size: int) -> None:
    with client_of(emulator(journal_size=size)) as web:
        web.get("/api/v1/balance", headers=xd())
        for path in ("/fragments/requests", "/requests"):
            doc = page(web, path)
            assert doc.all("p", class_="error") == []
        assert len(entries(page(web, "/fragments/requests"))) == min(size, 1)


def test_a_dropped_request_is_shown_as_dropped_with_its_fault(web: httpx.Client) -> None:
    fault = ok(web.post("/_emulator/faults", json={"api": "usdtlowfee", "drop": True, "times": 1}), 201)
    with pytest.raises(httpx.RemoteProtocolError):
        web.get("/v1/wallet/balance", headers=ulf())
    (entry,) = ok(web.get("/_emulator/requests"))["requests"]
    assert entry["status"] is None and entry["faultId"] == fault["faultId"]
    (li,) = entries(page(web, "/fragments/requests"))
    assert li.one(data_testid="status").text == "dropped"
    assert "faulted" in li.classes
    assert li.one("span", class_="failed").text == f"fault {fault['faultId']}"
    assert li.all("pre")[1].text == "(none)"
