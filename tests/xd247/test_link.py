"""Social `link`: an absolute http(s) URL as RFC 3986 allows it, checked by urllib.parse
(issue 18 item 3), and the spec's pattern says exactly the same."""

from __future__ import annotations

import json
import re
from importlib.resources import files

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from emulator.core.validate import http_url_problem

from .support import FB_LIKES, RICH, assert_error, auth

SPEC = json.loads(files("emulator").joinpath("specs/247xd.json").read_text())
# fullmatch: Python's `$` also matches before a final newline, ECMA-262's (JSON Schema's) does not.
PATTERN = re.compile(SPEC["components"]["schemas"]["CreateSocialOrder"]["properties"]["link"]["pattern"])

GOOD = [
    "https://instagram.com/example",
    "http://x.com",
    "HTTPS://X.COM/A?b=c#d",
    "https://example.com/emulator/cancelled",
    "https://www.facebook.com/share/p/1AbC-_~.%E0%B8%81/?mibextid=xyz&a=1;b=2",
    "https://user:pw@x.com:8443/a/b@c:d!$&'()*+,;=",
    "https://127.0.0.1/",
    "https://[::1]:80/a",
    "https://[2001:db8::ffff:1.2.3.4]/",
    "https://x.com:/",
    "https://x.com:0/",
    "https://x.com/?q=a/b?c#frag/ment?",
    "https://a.b",
]
BAD = [
    'https://x.com/"><script>',
    "https://x.com/a\x00b",
    "https://x.com/a b",
    " https://x.com/",
    "https://x.com/\t",
    "https://x.com/\n",
    "https://x.com/a\\b",
    "https://x.com/<a>",
    "https://x.com/{a}",
    "https://x.com/a|b",
    "https://x.com/a^b",
    "https://x.com/`",
    "https://x.com/ไทย",
    "https://x.com/%zz",
    "https://x.com/%4",
    "https://x.com/#a#b",
    "https://x.com/[a]",
    "https://x.com:99999/",
    "https://x.com:+80/",
    "https://x.com:8a/",
    "https://a:b:80/",
    "https://[1.2.3.4]/",
    "https://[v1.x]/",
    "https://[fe80::1%25eth0]/",
    "https://[::1/",
    "https://@/",
    "https://u@/",
    "https://a@b@c/",
    "https:///path",
    "https://",
    "https:x.com",
    "ftp://x.com/",
    "javascript:alert(1)",
    "httpſ://x.com/a",
    "instagram.com/example",
]


@pytest.mark.parametrize("link", GOOD)
def test_good_links_pass_the_parser_and_the_pattern(link: str) -> None:
    assert http_url_problem(link) is None
    assert PATTERN.fullmatch(link) is not None


@pytest.mark.parametrize("link", BAD)
def test_bad_links_fail_the_parser_and_the_pattern(link: str) -> None:
    assert http_url_problem(link) is not None
    assert PATTERN.fullmatch(link) is None


@settings(max_examples=300, deadline=None)
@given(st.from_regex(PATTERN, fullmatch=True))
def test_whatever_the_pattern_allows_the_parser_accepts(link: str) -> None:
    assert http_url_problem(link) is None, link


URLISH = st.text(alphabet=st.sampled_from([*"hHtpsS:/[]@%#?.-_~!$&'()*+,;=aAfF09", *" \"<>\\^`{|}\x00\tก"]))


@settings(max_examples=1000, deadline=None)
@given(st.sampled_from(["https://", "http://", "https://x.co", "https://[::1]", "https://a@b", ""]), URLISH)
def test_the_pattern_and_the_parser_agree(start: str, rest: str) -> None:
    link = start + rest
    assert (http_url_problem(link) is None) == (PATTERN.fullmatch(link) is not None), link


@pytest.mark.parametrize("link", ['https://x.com/"><script>', "https://x.com/a\x00b", "https://x.com/a b"])
def test_a_bad_link_is_400_naming_link(client: TestClient, link: str) -> None:
    body = {"optionId": FB_LIKES, "link": link, "quantity": 100}
    response = client.post("/api/v1/social/orders", headers=auth(RICH), json=body)
    message = assert_error(response, 400, "VALIDATION_ERROR")
    assert "link" in message
    assert client.get("/api/v1/balance", headers=auth(RICH)).json()["data"]["coins"] == 100000.0


def test_a_good_link_is_201(client: TestClient) -> None:
    body = {"optionId": FB_LIKES, "link": "https://x.com/p?a=1#b", "quantity": 100}
    assert client.post("/api/v1/social/orders", headers=auth(RICH), json=body).status_code == 201
