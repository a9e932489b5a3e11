"""Seed 000 section 10: the vendor's Python example, run in-process through the TestClient.

The example is kept word for word in tests/seed_examples/example.py; here `requests` is
replaced by a stand-in that sends through the TestClient, and the placeholders (key,
base URL, the "..." ids) are filled in as a developer would.
"""

from __future__ import annotations

import contextlib
import io
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from emulator.runtime import Emulator

from .support import DEMO, LINE, LINE_AIS, account_of

EXAMPLE = Path(__file__).resolve().parent.parent / "seed_examples" / "example.py"
BASE = "http://testserver/api/v1"


def requests_via(client: TestClient) -> types.ModuleType:
    module = types.ModuleType("requests")

    def get(url: str, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        return client.get(url, headers=headers, **kwargs)

    def post(url: str, headers: dict[str, str] | None = None, json: Any = None, **kwargs: Any) -> Any:
        return client.post(url, headers=headers, json=json, **kwargs)

    module.get = get  # type: ignore[attr-defined]
    module.post = post  # type: ignore[attr-defined]
    return module


def filled_source() -> str:
    source = EXAMPLE.read_text(encoding="utf-8")
    for placeholder in (
        "247xd_your_api_key_here",
        "https://247xd.com/api/v1",
        '"serviceId": "..."',
        '"priceOptionId": "..."',
    ):
        assert placeholder in source
    source = source.replace("247xd_your_api_key_here", DEMO)
    source = source.replace("https://247xd.com/api/v1", BASE)
    source = source.replace('"serviceId": "..."', f'"serviceId": "{LINE}"')
    return source.replace('"priceOptionId": "..."', f'"priceOptionId": "{LINE_AIS}"')


def test_the_seed_python_example_runs_through_the_test_client(
    client: TestClient, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "requests", requests_via(client))
    out = io.StringIO()
    scope: dict[str, Any] = {"__name__": "seed_example"}
    with contextlib.redirect_stdout(out):
        exec(compile(filled_source(), str(EXAMPLE), "exec"), scope)
    printed = out.getvalue().splitlines()
    assert printed == ["เหรียญ: 500.0", "สถานะ: waiting_sms"]
    # what the script saw is what the vendor documents
    assert scope["balance"] == {"success": True, "data": {"coins": 500.0}}
    assert scope["services"]["success"] is True and scope["services"]["data"][0]["id"] == LINE
    assert scope["order"]["success"] is True and scope["order"]["data"]["status"] == "waiting_sms"
    assert scope["status"]["data"]["orderId"] == scope["order_id"]
    assert account_of(emu, DEMO).coins == 50_000 - 1_500
