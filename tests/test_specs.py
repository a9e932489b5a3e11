"""The OpenAPI documents (emulator/specs/): valid OpenAPI 3.1, in step with the routes the
emulator serves, served byte for byte, and every inferred rule of SPEC.md marked `x-inferred`.

Validity is checked with openapi-spec-validator's OpenAPI 3.1 validator (which checks the
document against the 3.1 meta-schema and the JSON Schema 2020-12 dialect of its schemas).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator
from starlette.routing import Route
from starlette.testclient import TestClient

from emulator.apis import APIS
from emulator.control import routes as control_routes
from emulator.ui import routes as ui_routes

SPECS = Path(__file__).resolve().parent.parent / "emulator" / "specs"
FILES = ("247xd.json", "usdtlowfee.json", "control.json")
SERVED = {
    "/_emulator/specs/247xd.json": "247xd.json",
    "/_emulator/specs/usdtlowfee.json": "usdtlowfee.json",
    "/_emulator/openapi.json": "control.json",
}
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def load(name: str) -> dict[str, Any]:
    return json.loads((SPECS / name).read_text("utf-8"))  # type: ignore[no-any-return]


def operations(doc: dict[str, Any], prefix: str = "") -> dict[tuple[str, str], str]:
    """(METHOD, path as the emulator routes it) -> operationId."""
    return {
        (method.upper(), prefix + path): op["operationId"]
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in METHODS
    }


@pytest.mark.parametrize("name", FILES)
def test_each_document_is_valid_openapi_3_1(name: str) -> None:
    doc = load(name)
    assert doc["openapi"] == "3.1.0"
    errors = [str(error) for error in OpenAPIV31SpecValidator(doc).iter_errors()]
    assert errors == []


def test_the_validator_catches_an_invalid_document() -> None:
    doc = load("247xd.json")
    doc["paths"]["/balance"]["get"]["responses"]["200"] = {"content": {}}  # no description
    assert list(OpenAPIV31SpecValidator(doc).iter_errors())


@pytest.mark.parametrize("name", FILES)
def test_operation_ids_are_unique(name: str) -> None:
    ids = list(operations(load(name)).values())
    assert len(ids) == len(set(ids))


def test_every_247xd_route_is_documented_and_vice_versa() -> None:
    served = {(r.method, r.template): r.name for r in APIS[0].router.routes}
    assert APIS[0].prefix == "/api/v1"
    assert load("247xd.json")["servers"][0]["url"] == "https://247xd.com/api/v1"
    assert operations(load("247xd.json")) == served


def test_every_usdtlowfee_route_is_documented_and_vice_versa() -> None:
    api = APIS[1]
    served = {(r.method, api.prefix + r.template): r.name for r in api.router.routes}
    assert load("usdtlowfee.json")["servers"][0]["url"] == "https://api.usdtlowfee.com"
    assert operations(load("usdtlowfee.json")) == served


def test_every_control_route_is_documented_and_vice_versa() -> None:
    served = {
        (method, route.path)
        for route in [*control_routes.routes, *ui_routes.routes]
        if isinstance(route, Route)  # not the dashboard's static files (a Mount)
        for method in route.methods or ()
        if method != "HEAD"  # Starlette adds HEAD to every GET
    }
    assert set(operations(load("control.json"))) == served


def test_the_served_documents_are_the_files_byte_for_byte(client: TestClient) -> None:
    for path, name in SERVED.items():
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.content == (SPECS / name).read_bytes()


# --- x-inferred ---------------------------------------------------------------------------


def inferred(node: Any) -> Iterator[dict[str, Any]]:
    """Every object of the document that carries x-inferred."""
    if isinstance(node, dict):
        if "x-inferred" in node:
            yield node
        for value in node.values():
            yield from inferred(value)
    elif isinstance(node, list):
        for value in node:
            yield from inferred(value)


@pytest.mark.parametrize("name", ("247xd.json", "usdtlowfee.json"))
def test_every_inferred_rule_says_why_in_one_line(name: str) -> None:
    marked = list(inferred(load(name)))
    assert marked
    for node in marked:
        assert node["x-inferred"] is True
        reason = node["x-inferred-reason"]
        assert isinstance(reason, str) and reason.strip() and "\n" not in reason


# Every rule SPEC.md marks *(inferred)*, and words that find it among the x-inferred objects.
SPEC_INFERRED = {
    "247xd.json": {
        "unknown fields are ignored": ["unknown fields are ignored"],
        "invalid field -> VALIDATION_ERROR; coins, stock, status -> BAD_REQUEST": [
            "insufficient coins",
            "out of stock",
            "status forbids",
        ],
        "a wrong method -> 405 with code BAD_REQUEST": ["405 with allow and code bad_request"],
        "catalog shapes": ["catalog shape"],
        "stock not restored by cancel or expiry": ["stock not restored", "stock is not restored"],
        "rate limit: windows aligned to the clock's minute": ["aligned to the clock's minute"],
        "rate limit: 429 carries Retry-After": ["retry-after"],
        "rate limit: keyless requests count per client address": ["per client address"],
        "rate limit: configurable": ["configurable"],
        "expiresAt 20 minutes after creation, per service": ["20 minutes"],
        "refund also for an expired order": ["adds expired"],
        "OTP statuses and moves": ["otp status table"],
        "social statuses and delivery with the clock": [
            "social status table",
            "delivery advances with the clock",
        ],
    },
    "usdtlowfee.json": {
        "unknown fields are ignored": ["unknown fields are ignored"],
        "key: 32 letters and digits": ["32 letters and digits"],
        "error codes": ["code table"],
        "energyValue at most 100,000,000": ["100,000,000"],
        "price formula and per-duration table": ["formula", "per-duration table"],
        "label required, 1 to 64 characters": ["1 to 64 characters"],
        "isDefault optional, default false": ["default false"],
        "at most one default per user": ["one default per user"],
        "the same tronAddress twice -> 409 CONFLICT": ["409 conflict"],
        "an energy order to a saved address: usageCount, lastUsedAt": ["lastusedat"],
        "rate limit: same headers as 247xd, configurable, 60 per minute": [
            "same headers as 247xd",
            "configurable",
        ],
    },
}


@pytest.mark.parametrize(
    ("name", "rule"), [(name, rule) for name, rules in SPEC_INFERRED.items() for rule in rules]
)
def test_every_inferred_rule_of_the_spec_is_marked(name: str, rule: str) -> None:
    texts = [json.dumps(node, ensure_ascii=False).lower() for node in inferred(load(name))]
    for words in SPEC_INFERRED[name][rule]:
        assert any(words in text for text in texts), f"{rule!r}: no x-inferred object mentions {words!r}"
