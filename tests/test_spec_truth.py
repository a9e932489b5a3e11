"""The OpenAPI documents tell the truth about themselves (issue 18, item 5).

1. Every example in the documents validates against its schema (media-type `examples`,
   schema-level `examples`), formats included.
2. Every seed example (tests/seed_examples/<api>/*.json: the JSON blocks of the seed files,
   kept word for word with their line) validates against the schema of the request or
   response it illustrates, once the seed's placeholders are filled in (PLACEHOLDERS).
3. Every status code, field and format is either stated by the seeds (the tables below)
   or marked `x-inferred` with a reason: a response on itself, a field on itself or on a
   schema that holds it, a format on its schema or the field holding it.

Each check is shown to catch a deliberately broken copy of a document.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPECS = Path(__file__).resolve().parent.parent / "emulator" / "specs"
SEED_EXAMPLES = Path(__file__).resolve().parent / "seed_examples"
DOCUMENTS = ("247xd.json", "usdtlowfee.json")
METHODS = {"get", "put", "post", "delete", "patch"}
Path_ = list[str | int]

# The seeds' placeholders, filled in with values of the documented shape. Each is text the
# seed prints where a real answer has a value it does not show.
PLACEHOLDERS = {
    '"TYour1Address2Here3..."': '"TUA2WHkGntrdRxgJxoveDa4nqbMPDwuWn9"',  # "your address here"
    '"TYour1..."': '"TUA2WHkGntrdRxgJxoveDa4nqbMPDwuWn9"',  # the same, shortened in the list
    '"abc123..."': '"' + "ab" * 32 + '"',  # a txid: 64 hex digits, elided
    '"uuid-of-service"': '"9c5ba46f-3555-40ce-a771-ef4ff4b39d80"',
    '"uuid-of-price-option"': '"5932b247-0569-4069-9688-867975502818"',
    '"uuid-of-option"': '"f865fd5d-ff21-4d3b-9d50-92a0c1d9ada8"',
    '"uuid"': '"0f8fad5b-d9cb-469f-a165-70867728950e"',
    "{ ... }": '{"email": "user@example.com", "password": "s3cret"}',  # premium credentials, elided
}

# Status codes the seeds state. A response example with no status shown is read as 200;
# the seed's error table (247xd section 9) and the vendor's auth page (USDTLowFee: 401,
# 403 FORBIDDEN and INSUFFICIENT_BALANCE, cited by SPEC) state error statuses.
STATED_STATUSES: dict[str, dict[str, str]] = {
    "247xd.json": {
        "GET /balance 200": "seed section 5, response",
        "POST /otp/orders 201": "seed section 6, 'Response (201)'",
        "POST /social/orders 201": "seed section 7, 'Response (201)'",
        "POST /premium/orders 201": "seed section 8, 'Response (201)'",
        "400": "seed section 9", "401": "seed sections 2 and 9", "403": "seed section 9",
        "404": "seed section 9", "429": "seed sections 3 and 9", "500": "seed section 9",
    },
    "usdtlowfee.json": {
        "GET /v1/wallet/balance 200": "seed, response example",
        "GET /v1/users/me 200": "seed, response example",
        "GET /v1/energy/orders 200": "seed, response example",
        "GET /v1/energy/orders/{id} 200": "seed, response example",
        "GET /v1/addresses 200": "seed, response example",
        "GET /v1/addresses/{id} 200": "seed, response example",
        "PUT /v1/addresses/{id}/label 200": "seed, response example",
        "PUT /v1/addresses/{id}/default 204": "seed: 'HTTP 204 No Content'",
        "401": "the vendor's auth page", "403": "the vendor's auth page",
    },
}

# Fields the seeds state in words rather than in an example (the examples' keys are
# stated by the seed example fixtures themselves).
STATED_FIELDS: dict[str, dict[str, str]] = {
    "247xd.json": {
        "success": "seed section 4: every response has success",
        "error": "seed section 4", "code": "seed section 4", "message": "seed section 4",
    },
    "usdtlowfee.json": {
        "error": "seed, response format", "code": "seed, response format",
        "message": "seed, response format", "meta": "seed, response format: meta optional",
    },
}

STATED_FORMATS = {
    "int64": "seed 002, data types: int64 ids and amounts",
    "date-time": "seed 002, data types: ISO8601 UTC; seed 000 examples (expiresAt)",
    "uuid": "seed 000 placeholders 'uuid', 'uuid-of-service'",
    "email": "seed 002, users/me example (email)",
}


def load(name: str) -> dict[str, Any]:
    return json.loads((SPECS / name).read_text("utf-8"))  # type: ignore[no-any-return]


def pointer(path: Path_) -> str:
    return "#/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in path)


def validator(doc: dict[str, Any], path: Path_) -> Draft202012Validator:
    registry: Registry[Any] = Registry().with_resource("urn:doc", Resource.from_contents(doc, DRAFT202012))
    return Draft202012Validator(
        {"$ref": "urn:doc" + pointer(path)}, registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def errors_of(doc: dict[str, Any], schema_path: Path_, value: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator(doc, schema_path).iter_errors(value)]


def examples(node: Any, path: Path_) -> Iterator[tuple[Path_, Any, Path_]]:
    """(schema path, example value, example path) for every example in the document."""
    if isinstance(node, dict):
        if "schema" in node:
            for name, example in (node.get("examples") or {}).items():
                if "value" in example:
                    yield [*path, "schema"], example["value"], [*path, "examples", name]
            if "example" in node:
                yield [*path, "schema"], node["example"], [*path, "example"]
        is_schema = any(k in node for k in ("type", "$ref", "properties", "const", "enum"))
        if is_schema and isinstance(node.get("examples"), list):
            for i, value in enumerate(node["examples"]):
                yield path, value, [*path, "examples", i]
        for key, value in node.items():
            yield from examples(value, [*path, key])
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from examples(value, [*path, i])


def example_errors(doc: dict[str, Any]) -> list[str]:
    found = list(examples(doc, []))
    assert len(found) > 20
    return [
        f"{pointer(where)}: {error}"
        for schema_path, value, where in found
        for error in errors_of(doc, schema_path, value)
    ]


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_example_in_the_document_validates_against_its_schema(name: str) -> None:
    assert example_errors(load(name)) == []


def test_the_example_check_catches_a_broken_example() -> None:
    doc = load("usdtlowfee.json")
    schema = doc["components"]["schemas"]["EnergyOrder"]["properties"]["tronAddress"]
    schema["examples"] = ["not an address"]
    assert any("not an address" in e for e in example_errors(doc))


# --- the seed examples --------------------------------------------------------------------


def seed_examples() -> list[dict[str, Any]]:
    files = sorted(SEED_EXAMPLES.glob("*/*.json"))
    return [json.loads(p.read_text("utf-8")) | {"file": p.name} for p in files]


def filled(text: str) -> Any:
    for placeholder, value in PLACEHOLDERS.items():
        text = text.replace(placeholder, value)
    return json.loads(text)


def illustrated_schema(doc: dict[str, Any], illustrates: dict[str, str]) -> Path_:
    operation: Path_ = ["paths", illustrates["path"], illustrates["method"]]
    if "body" in illustrates:
        return [*operation, "requestBody", "content", "application/json", "schema"]
    response: Path_ = [*operation, "responses", illustrates["status"]]
    node: Any = doc
    for part in response:
        node = node[part]
    if "$ref" in node:
        response = node["$ref"].removeprefix("#/").split("/")
    return [*response, "content", "application/json", "schema"]


def test_the_seed_examples_are_all_kept() -> None:
    kept = seed_examples()
    assert {e["document"] for e in kept} == set(DOCUMENTS)
    assert len(kept) == 20  # every JSON block of both seeds but 247xd's generic `data: { ... }`
    for example in kept:
        assert example["seed"].endswith(".txt") and example["line"] > 0


@pytest.mark.parametrize("example", seed_examples(), ids=lambda e: f"{e['document']}:{e['file']}")
def test_each_seed_example_validates_against_the_schema_it_illustrates(example: dict[str, Any]) -> None:
    doc = load(example["document"])
    value = filled(example["text"])
    where = f"seed {example['seed']} line {example['line']}"
    assert errors_of(doc, illustrated_schema(doc, example["illustrates"]), value) == [], where


def test_the_seed_example_check_catches_a_schema_that_refuses_the_seed() -> None:
    doc = load("usdtlowfee.json")
    example = next(e for e in seed_examples() if e["file"] == "energy-order-list.json")
    doc["components"]["schemas"]["EnergyOrder"]["allOf"][1]["then"]["required"] = ["txid"]
    assert errors_of(doc, illustrated_schema(doc, example["illustrates"]), filled(example["text"]))


# --- x-inferred or stated ------------------------------------------------------------------


def seed_keys(name: str) -> set[str]:
    """Every object key of the document's seed examples: the fields the seed shows."""
    keys: set[str] = set()

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            keys.update(node)
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    for example in seed_examples():
        if example["document"] == name:
            collect(filled(example["text"]))
    return keys


def marked(node: Any) -> bool:
    return isinstance(node, dict) and node.get("x-inferred") is True and bool(node.get("x-inferred-reason"))


def schema_fields(node: Any, path: Path_, covered: bool) -> Iterator[tuple[Path_, str, bool]]:
    """(path, field name, covered by a marker) for every property of every schema;
    `covered` when the property or a schema holding it is marked."""
    if isinstance(node, dict):
        covered = covered or marked(node)
        for name, sub in (node.get("properties") or {}).items():
            yield [*path, "properties", name], name, covered or marked(sub)
        for key, value in node.items():
            yield from schema_fields(value, [*path, key], covered)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from schema_fields(value, [*path, i], covered)


def formats(node: Any, path: Path_, covered: bool) -> Iterator[tuple[Path_, str, bool]]:
    if isinstance(node, dict):
        covered = covered or marked(node)
        if isinstance(node.get("format"), str):
            yield path, node["format"], covered
        for key, value in node.items():
            yield from formats(value, [*path, key], covered and key in ("properties", "items", "allOf"))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from formats(value, [*path, i], covered)


def unmarked(name: str, doc: dict[str, Any]) -> list[str]:
    """Every element neither stated by the seeds nor marked x-inferred."""
    out = []
    statuses = STATED_STATUSES[name]
    for route, item in doc["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            for status, response in operation["responses"].items():
                if "$ref" in response:
                    response = doc["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
                key = f"{method.upper()} {route} {status}"
                if key not in statuses and status not in statuses and not marked(response):
                    out.append(f"status {key}")
    stated = seed_keys(name) | set(STATED_FIELDS[name])
    for path, field, covered in schema_fields(doc, [], False):
        if field not in stated and not covered:
            out.append(f"field {pointer(path)}")
    for path, fmt, covered in formats(doc, [], False):
        if fmt not in STATED_FORMATS and not covered:
            out.append(f"format {fmt} at {pointer(path)}")
    return out


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_element_the_seeds_do_not_state_is_marked_inferred(name: str) -> None:
    assert unmarked(name, load(name)) == []


def test_the_marker_check_catches_an_unmarked_inference() -> None:
    doc = load("usdtlowfee.json")
    response = doc["paths"]["/v1/addresses"]["post"]["responses"]["201"]
    broken = copy.deepcopy(doc)
    del broken["paths"]["/v1/addresses"]["post"]["responses"]["201"]["x-inferred"]
    assert marked(response) and unmarked("usdtlowfee.json", broken) == ["status POST /v1/addresses 201"]
    broken = copy.deepcopy(doc)
    broken["components"]["schemas"]["Wallet"]["properties"]["bonusSun"] = {"type": "integer"}
    assert unmarked("usdtlowfee.json", broken) == ["field #/components/schemas/Wallet/properties/bonusSun"]
