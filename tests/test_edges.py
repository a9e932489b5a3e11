"""Edges of the request path on both APIs (issues 15 and 18): ambiguous auth, encoded
slashes in paths, oversized headers, stalled bodies."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

XD_KEY = "247xd_3769736d6939931e6de10def20d9a2483134d0c1"
ULF_KEY = "ak_live_6xT3MweUDszReLuYfv1vnmFmb4x3enH4"
XD_ME = "/api/v1/balance"
ULF_ME = "/v1/users/me"
APIS = [
    pytest.param(XD_ME, "Bearer", XD_KEY, id="247xd"),
    pytest.param(ULF_ME, "ApiKey", ULF_KEY, id="usdtlowfee"),
]


def code_of(body: dict[str, object]) -> object:
    error = body.get("error")
    return error.get("code") if isinstance(error, dict) else body.get("code")


@pytest.mark.parametrize(("path", "scheme", "key"), APIS)
def test_one_authorization_header_is_served(client: TestClient, path: str, scheme: str, key: str) -> None:
    assert client.get(path, headers={"Authorization": f"{scheme} {key}"}).status_code == 200


@pytest.mark.parametrize(("path", "scheme", "key"), APIS)
@pytest.mark.parametrize("second", ["same", "garbage"])
def test_two_authorization_headers_are_401(
    client: TestClient, path: str, scheme: str, key: str, second: str
) -> None:
    good = f"{scheme} {key}"
    other = good if second == "same" else "Basic eDp5"
    for values in ([good, other], [other, good]):
        response = client.get(path, headers=[("Authorization", v) for v in values])
        assert response.status_code == 401, response.text
        assert code_of(response.json()) == "UNAUTHORIZED"
