"""A JavaScript client, for real: Node's plain JSON.parse changes every USDTLowFee id, a
big-integer parse keeps it exact (issue 18; docs/ids.md). Skipped when Node.js is absent."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from .usdtlowfee.support import DEMO_KEY, RICH_KEY, auth, create_order, new_account

NODE = shutil.which("node")
SCRIPT = Path(__file__).resolve().parent / "node" / "ids.mjs"
# Node 20 has JSON.parse source text behind this flag; later versions have it on.
SOURCE_FLAG = "--harmony-json-parse-with-source"

pytestmark = pytest.mark.skipif(
    NODE is None, reason="Node.js is not installed (apt-get install nodejs): no JavaScript client to run"
)


def node_command() -> list[str]:
    assert NODE is not None
    flagged = subprocess.run([NODE, SOURCE_FLAG, "-e", "0"], capture_output=True, timeout=30)
    return [NODE, SOURCE_FLAG] if flagged.returncode == 0 else [NODE]


def test_plain_json_parse_changes_every_id_and_a_big_integer_parse_keeps_them(
    client: TestClient, tmp_path: Path
) -> None:
    for _ in range(20):
        create_order(client, RICH_KEY)  # twenty ids in one frozen millisecond
    account = new_account(client)
    bodies = [
        client.get("/v1/energy/orders?limit=100", headers=auth(RICH_KEY)).text,
        client.get("/v1/users/me", headers=auth(account["apiKey"])).text,
        client.get("/v1/users/me", headers=auth(DEMO_KEY)).text,
        client.get("/v1/addresses", headers=auth(DEMO_KEY)).text,
    ]
    ids = [re.findall(r'"(?:id|userId)":(\d+)', body) for body in bodies]
    assert sum(map(len, ids)) == 20 * 2 + 1 + 1 + 2
    source = tmp_path / "bodies.json"
    source.write_text(json.dumps(bodies), "utf-8")

    command = [*node_command(), str(SCRIPT), str(source)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["parser"] in {"reviver-source", "digits"}
    for expected, seen in zip(ids, result["out"], strict=True):
        assert seen["exact"] == expected
        assert len(seen["naive"]) == len(expected)
        assert all(naive != exact for naive, exact in zip(seen["naive"], expected, strict=True)), seen
