"""What the control-plane tests of both APIs share: how each API is called and refused."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.testclient import TestClient

from emulator.runtime import Emulator


@dataclass(frozen=True)
class Api:
    name: str
    scheme: str
    read: str  # a cheap authenticated GET
    money: str  # the balance field of account views and create bodies
    refusal_flag: str  # banned / disabled
    refusal_code: str  # the 403's code
    demo_key: str
    demo_account: str

    def headers(self, key: str) -> dict[str, str]:
        return {"Authorization": f"{self.scheme} {key}"}

    def get(self, client: TestClient, key: str) -> Any:
        return client.get(self.read, headers=self.headers(key))

    def code(self, response: Any) -> str:
        """The error code in the API's own envelope."""
        return response.json()["error"]["code"]  # type: ignore[no-any-return]

    def create_account(self, client: TestClient, **body: Any) -> dict[str, Any]:
        response = client.post(f"/_emulator/{self.name}/accounts", json=body)
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    def backend(self, emu: Emulator) -> Any:
        return emu.xd247 if self.name == "247xd" else emu.usdtlowfee


XD = Api(
    "247xd",
    "Bearer",
    "/api/v1/balance",
    "coins",
    "banned",
    "ACCOUNT_BANNED",
    "247xd_3769736d6939931e6de10def20d9a2483134d0c1",
    "xd-demo",
)
ULF = Api(
    "usdtlowfee",
    "ApiKey",
    "/v1/wallet/balance",
    "balanceSun",
    "disabled",
    "FORBIDDEN",
    "ak_live_6xT3MweUDszReLuYfv1vnmFmb4x3enH4",
    "ulf-demo",
)
APIS = (XD, ULF)


def control_error(response: Any, status: int, code: str) -> str:
    """The control plane's error envelope, exactly; returns the message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    message = body["error"]["message"]
    assert isinstance(message, str) and message
    return message
