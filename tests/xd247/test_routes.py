"""The 247xd route table: the seed's 13 endpoints, and which of them read a body."""

from __future__ import annotations

from emulator.xd247.routes import ROUTER


def test_the_xd247_router_serves_the_13_documented_endpoints() -> None:
    routes = ROUTER.routes
    assert sorted((r.method, r.template) for r in routes) == sorted(
        [
            ("GET", "/balance"),
            ("GET", "/otp/services"),
            ("POST", "/otp/orders"),
            ("GET", "/otp/orders/{orderId}"),
            ("POST", "/otp/orders/{orderId}/cancel"),
            ("POST", "/otp/orders/{orderId}/refund"),
            ("GET", "/social/services"),
            ("POST", "/social/orders"),
            ("GET", "/social/orders/{orderId}"),
            ("POST", "/social/orders/{orderId}/refund"),
            ("GET", "/premium/services"),
            ("POST", "/premium/orders"),
            ("GET", "/premium/orders/{orderId}"),
        ]
    )
    assert {r.template for r in routes if r.body} == {"/otp/orders", "/social/orders", "/premium/orders"}
