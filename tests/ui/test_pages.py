"""The pages, fragments and static files: status, content type, nav, the clock bar."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

import emulator.ui
from emulator.runtime import Emulator

from .html import Node, parse
from .support import FRAGMENTS, PAGES, UI, advance, ok, page, when

STATIC = Path(emulator.ui.__file__).parent / "static"
NAV = {
    "Overview": UI,
    "Orders": UI + "/orders",
    "Requests": UI + "/requests",
    "Faults": UI + "/faults",
    "Verdicts": UI + "/verdicts",
}


def test_the_root_redirects_to_the_dashboard(web: httpx.Client) -> None:
    response = web.get("/")
    assert response.status_code == 302
    assert response.headers["location"] == UI


def clock_bar(doc: Node) -> tuple[str, str, list[str]]:
    """(#clock-now's text, #clock-state's text and classes) of a page or the clock fragment."""
    sections = doc.all("section", data_fragment="clock")
    bar = sections[0] if sections else doc
    now = bar.one("time", id="clock-now")
    state = bar.one(id="clock-state")
    return now.text, state.text, state.classes


@pytest.mark.parametrize("path", PAGES)
def test_each_page_is_html_with_the_nav_and_the_emulator_clock(web: httpx.Client, path: str) -> None:
    clock = advance(web, 3725.5)  # 10:30:00 -> 11:32:05.5
    assert clock["now"] == "2025-01-15T11:32:05.500Z"
    doc = page(web, path)
    links = doc.one("nav").all("a")
    assert {a.text: a["href"] for a in links} == NAV
    current = [a for a in links if a.get("aria-current") == "page"]
    assert [a["href"] for a in current] == [UI + path]
    assert clock_bar(doc) == ("2025-01-15 11:32:05", "frozen", ["badge", "frozen"])
    assert doc.one("time", id="clock-now")["datetime"] == clock["now"]
    assert doc.one("script")["src"] == UI + "/static/ui.js"
    assert doc.one("link", rel="stylesheet")["href"] == UI + "/static/ui.css"
    assert doc.all(class_="error") == []


def test_the_clock_bar_follows_the_clock_and_its_state(web: httpx.Client) -> None:
    assert clock_bar(page(web, "/fragments/clock"))[:2] == ("2025-01-15 10:30:00", "frozen")
    doc = page(web, "/fragments/clock")
    assert [f["data-call"] for f in doc.all("form")][-1] == "POST /_emulator/clock/resume"
    ok(web.post("/_emulator/clock/set", json={"now": "2031-02-03T04:05:06.789Z"}))
    assert clock_bar(page(web, "/fragments/clock"))[:2] == ("2031-02-03 04:05:06", "frozen")
    now = ok(web.post("/_emulator/clock/resume"))["now"]
    doc = page(web, "/fragments/clock")
    shown, state, classes = clock_bar(doc)
    assert (state, classes) == ("running", ["badge", "running"])
    assert shown[:16] == when(now)[:16]  # running: the same minute (a test takes well under one)
    assert [f["data-call"] for f in doc.all("form")][-1] == "POST /_emulator/clock/freeze"


def test_the_clock_bar_offers_the_advance_steps(web: httpx.Client) -> None:
    doc = page(web, "/fragments/clock")
    steps = [
        (f.one("input", name="seconds").get("value"), f.one("button").text)
        for f in doc.all("form", data_call="POST /_emulator/clock/advance")
    ]
    assert steps == [("60", "+1 min"), ("1200", "+20 min"), ("3600", "+1 h"), (None, "Advance")]


@pytest.mark.parametrize("path", ["/nope", "/orders/x", "/fragments", "/static/nope.js", "/static/"])
def test_an_unknown_ui_path_is_404(web: httpx.Client, path: str) -> None:
    response = web.get(UI + path)
    assert response.status_code == 404


@pytest.mark.parametrize("name", FRAGMENTS)
def test_each_fragment_is_html_without_the_page_around_it(web: httpx.Client, name: str) -> None:
    doc = page(web, f"/fragments/{name}")
    assert doc.all("html") == [] and doc.all("nav") == [] and doc.all("body") == []
    assert doc.all(class_="error") == []
    assert doc.text  # something is shown, even when empty ("No orders.")


def test_a_fragment_is_what_its_page_section_shows(web: httpx.Client) -> None:
    for path, name in [
        ("", "accounts"),
        ("/orders", "orders"),
        ("/requests", "requests"),
        ("/faults", "faults"),
        ("/verdicts", "verdicts"),
    ]:
        section = page(web, path).one("section", data_fragment=name)
        assert section.text == page(web, f"/fragments/{name}").text


@pytest.mark.parametrize("name", ["bogus", "Clock", "orders.html", "<img src=x onerror=alert(1)>"])
def test_an_unknown_fragment_is_404(web: httpx.Client, name: str) -> None:
    response = web.get(UI + "/fragments/" + quote(name, safe=""))
    assert response.status_code == 404
    if response.headers["content-type"].startswith("application/json"):  # the control plane's 404
        assert response.json()["error"]["code"] == "NOT_FOUND"
    else:
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert parse(response.text).one("p", class_="error")
        assert "<img" not in response.text


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("ui.js", "text/javascript; charset=utf-8"), ("ui.css", "text/css; charset=utf-8")],
)
def test_static_files_are_served_whole_with_their_type(
    web: httpx.Client, name: str, content_type: str
) -> None:
    response = web.get(f"{UI}/static/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.content == (STATIC / name).read_bytes()
    assert int(response.headers["content-length"]) == len(response.content) > 1000


def test_pages_do_not_change_the_state(web: httpx.Client, emu: Emulator) -> None:
    before = ok(web.get("/_emulator/state"))
    for path in (*PAGES, *(f"/fragments/{name}" for name in FRAGMENTS)):
        page(web, path)
    assert ok(web.get("/_emulator/state")) == before
