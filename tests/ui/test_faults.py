"""The faults page: its route choice is each API's route templates, the faults in force
with how often each fired, and a Clear per fault."""

from __future__ import annotations

from typing import Any

import httpx

from emulator.apis import APIS
from emulator.runtime import Emulator

from .html import Node
from .support import ok, page, ulf, xd


def templates(emu: Emulator) -> dict[str, list[str]]:
    return {api.name: list(api.router.methods()) for api in APIS}


def route_options(doc: Node) -> list[Node]:
    return doc.one("select", id="fault-path").all("option")


def test_the_route_choice_is_exactly_each_apis_route_templates(web: httpx.Client, emu: Emulator) -> None:
    doc = page(web, "/faults")
    form = doc.one("form", data_call="POST /_emulator/faults")
    assert [o.text for o in form.one("select", name="api").all("option")] == [api.name for api in APIS]
    options = route_options(doc)
    assert (options[0]["value"], options[0].get("data-api"), options[0].text) == ("", None, "any route")
    expected = templates(emu)
    assert sum(map(len, expected.values())) == 21  # 13 + 8
    for api, listed in expected.items():
        offered = [o["value"] for o in options if o.get("data-api") == api]
        assert sorted(offered) == sorted(listed), api
        assert len(offered) == len(set(offered)), api
        assert [o.text for o in options if o.get("data-api") == api] == [f"{api} {p}" for p in offered]
    assert {o.get("data-api") for o in options[1:]} == set(expected)
    assert form.one("select", name="path")["id"] == "fault-path"
    assert form.one("select", name="api")["data-controls"] == "fault-path"


def test_each_offered_route_is_one_the_control_plane_takes_for_a_fault(web: httpx.Client) -> None:
    for option in route_options(page(web, "/faults"))[1:]:
        body = {"api": option["data-api"], "path": option["value"], "status": 503}
        ok(web.post("/_emulator/faults", json=body), 201)
    assert web.delete("/_emulator/faults").status_code == 204


def test_the_form_fields_are_the_fault_fields(web: httpx.Client) -> None:
    form = page(web, "/faults").one("form", data_call="POST /_emulator/faults")
    names = [field["name"] for field in form.iter() if field.tag in ("input", "select")]
    assert names == [
        "api",
        "path",
        "method",
        "status",
        "code",
        "message",
        "latencyMs",
        "times",
        "probability",
        "phase",
        "accountId",
        "drop",
    ]
    # As ui.js sends the form filled in (typed values converted per data-type).
    typed: dict[str, Any] = {
        "api": "247xd",
        "path": "/otp/orders",
        "method": "POST",
        "status": 502,
        "code": "BAD_GATEWAY",
        "message": "typed",
        "latencyMs": 5,
        "times": 3,
        "probability": 0.5,
        "phase": "after",
        "accountId": "xd-demo",
        "drop": False,
    }
    fault = ok(web.post("/_emulator/faults", json=typed), 201)
    assert (fault["path"], fault["status"], fault["times"]) == ("/otp/orders", 502, 3)
    assert (fault["phase"], fault["accountId"]) == ("after", "xd-demo")
    phases = [o["value"] for o in form.one("select", name="phase").all("option")]
    assert phases == ["before", "after"]
    offered = {o["value"] for o in page(web, "/faults").one("datalist", id="fault-accounts").all("option")}
    assert "xd-demo" in offered and len(offered) > 2  # both APIs' accounts
    kinds = {field["name"]: field.get("data-type") for field in form.all("input")}
    assert kinds == {
        "status": "int",
        "code": None,
        "message": None,
        "latencyMs": "int",
        "times": "int",
        "probability": "number",
        "accountId": None,
        "drop": "bool",
    }


def fault_rows(doc: Node) -> dict[str, Node]:
    return {row["data-fault"]: row for row in doc.all("tr", data_fault=True)}


def test_faults_are_listed_with_how_often_each_fired(web: httpx.Client) -> None:
    assert page(web, "/fragments/faults").one("tbody").text.startswith("No faults")
    counted = ok(
        web.post("/_emulator/faults", json={"api": "247xd", "path": "/balance", "status": 503, "times": 3}),
        201,
    )
    forever = ok(
        web.post("/_emulator/faults", json={"api": "usdtlowfee", "method": "GET", "status": 429}), 201
    )
    slow = ok(
        web.post("/_emulator/faults", json={"api": "usdtlowfee", "path": "/users/me", "latencyMs": 1}), 201
    )
    for _ in range(2):
        assert web.get("/api/v1/balance", headers=xd()).status_code == 503
    for _ in range(4):
        assert web.get("/v1/wallet/balance", headers=ulf()).status_code == 429
    listed = {f["faultId"]: f for f in ok(web.get("/_emulator/faults"))["faults"]}
    assert [listed[f["faultId"]]["injected"] for f in (counted, forever, slow)] == [2, 4, 0]
    rows = fault_rows(page(web, "/faults"))
    assert set(rows) == set(listed)
    assert rows[counted["faultId"]].one(data_label="Injected").text == "2 of 3"
    assert rows[forever["faultId"]].one(data_label="Injected").text == "4"
    assert rows[slow["faultId"]].one(data_label="Injected").text == "0"
    assert rows[counted["faultId"]].one(data_label="Matches").text == "247xd any method /balance"
    assert rows[forever["faultId"]].one(data_label="Matches").text == "usdtlowfee GET any route"
    assert rows[counted["faultId"]].one(data_label="Does").text == f"503 {counted['code']}"
    assert rows[slow["faultId"]].one(data_label="Does").text == "after 1 ms"
    for fault_id, row in rows.items():
        assert row.one("code").text == fault_id


def test_each_fault_has_a_clear_button_that_deletes_it(web: httpx.Client) -> None:
    ids = [
        ok(web.post("/_emulator/faults", json={"api": api, "status": 500}), 201)["faultId"]
        for api in ("247xd", "usdtlowfee", "247xd")
    ]
    doc = page(web, "/fragments/faults")
    rows = fault_rows(doc)
    assert list(rows) == [f["faultId"] for f in ok(web.get("/_emulator/faults"))["faults"]]
    for fault_id, row in rows.items():
        (form,) = row.all("form")
        assert form["data-call"] == f"DELETE /_emulator/faults/{fault_id}"
        assert form.one("button").text == "Clear"
    assert len(doc.all("form", data_call="DELETE /_emulator/faults")) == 1  # and one "Clear all"
    method, path = rows[ids[1]].one("form")["data-call"].split(" ")
    assert web.request(method, path).status_code == 204
    assert set(fault_rows(page(web, "/fragments/faults"))) == {ids[0], ids[2]}
    assert web.delete("/_emulator/faults").status_code == 204
    doc = page(web, "/fragments/faults")
    assert fault_rows(doc) == {} and doc.all("form") == []


def test_a_dropping_fault_says_so(web: httpx.Client) -> None:
    fault = ok(web.post("/_emulator/faults", json={"api": "247xd", "drop": True, "probability": 0.25}), 201)
    row = fault_rows(page(web, "/fragments/faults"))[fault["faultId"]]
    assert row.one(data_label="Does").text == "drops the connection · p=0.25"
