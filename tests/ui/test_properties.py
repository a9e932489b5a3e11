"""Generated query strings and fragment names: never a server error; always HTML, or the
control plane's JSON 404 for a path that is no page."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote, urlencode

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .html import parse
from .support import FRAGMENTS, UI, client_of, emulator, energy_order, ok, otp_order, social_order, xd


@pytest.fixture(scope="module")
def busy() -> Iterator[httpx.Client]:
    """One emulator for the module (the pages only read): orders, faults and a journal."""
    with client_of(emulator()) as web:
        otp_order(web)
        social_order(web)
        energy_order(web)
        web.get("/api/v1/balance", headers=xd())
        ok(web.post("/_emulator/faults", json={"api": "usdtlowfee", "status": 500, "times": 1}), 201)
        yield web


NAMES = ["api", "accountId", "status", "kind", "limit", "method", "path", "q"]
VALUES = [
    "247xd",
    "usdtlowfee",
    "xd-demo",
    "ulf-demo",
    "otp",
    "energy",
    "completed",
    "processing",
    "waiting_sms",
    "GET",
    "POST",
    "200",
    "400",
    "0",
    "1",
    "50",
    "1000",
    "1001",
    "-1",
    "1e3",
    "9" * 30,
    "",
]
pairs = st.lists(
    st.tuples(st.sampled_from(NAMES) | st.text(max_size=8), st.sampled_from(VALUES) | st.text(max_size=30)),
    max_size=5,
)
raw_queries = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789=&%+;?/_.-~ABC:@!$'()*,[]"), max_size=40
)
queries = pairs.map(urlencode) | raw_queries
PATHS = ["/orders", "/requests", "", "/faults", *(f"/fragments/{name}" for name in FRAGMENTS)]


def check(response: httpx.Response) -> None:
    assert response.status_code != 500, response.text
    content_type = response.headers["content-type"]
    if content_type == "application/json":  # no page there: the control plane's 404
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "NOT_FOUND"
        return
    assert content_type == "text/html; charset=utf-8", (response.status_code, content_type)
    assert response.status_code in (200, 400, 404), response.status_code
    doc = parse(response.text)  # well-formed enough: no stray end tag, nothing left open
    if response.status_code != 200:
        assert doc.all("p", class_="error"), response.text


def get(web: httpx.Client, path: str, query: str) -> httpx.Response:
    return web.get(httpx.URL(UI + path).copy_with(query=query.encode()))


@settings(max_examples=60, deadline=None)
@given(path=st.sampled_from(PATHS), query=queries)
def test_any_query_string_on_a_page_or_fragment_is_html_never_a_500(
    busy: httpx.Client, path: str, query: str
) -> None:
    check(get(busy, path, query))


# A fragment name as it goes into the path: every character quoted, dots too (a bare `..`
# would be resolved away by the client).
def segment(name: str) -> str:
    return quote(name, safe="").replace(".", "%2E")


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(FRAGMENTS) | st.text(max_size=20), query=queries)
def test_any_fragment_name_is_html_or_the_control_planes_404(
    busy: httpx.Client, name: str, query: str
) -> None:
    response = get(busy, "/fragments/" + segment(name), query)
    check(response)
    if name in FRAGMENTS:
        assert response.status_code in (200, 400)
    else:
        assert response.status_code == 404


def test_the_strategies_reach_good_and_bad_filters(busy: httpx.Client) -> None:
    assert get(busy, "/orders", "status=completed&kind=otp").status_code == 200
    assert get(busy, "/orders", "limit=1001").status_code == 400
    assert get(busy, "/fragments/requests", "status=%ff").status_code == 400
    check(get(busy, "/fragments/" + segment(".."), ""))
