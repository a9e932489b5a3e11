"""The API router: static paths, templates with parameters, methods per path."""

from __future__ import annotations

from emulator.core.routing import Call, Route, Router


def handler(call: Call) -> tuple[int, object]:
    return 200, call.params


ROUTES = [
    Route("GET", "/balance", handler),
    Route("POST", "/otp/orders", handler, body=True),
    Route("GET", "/otp/orders/{orderId}", handler),
    Route("POST", "/otp/orders/{orderId}/cancel", handler),
    Route("POST", "/otp/orders/{orderId}/refund", handler),
    Route("POST", "/social/orders/{orderId}/refund", handler),
    Route("GET", "/things", handler),
    Route("DELETE", "/things", handler),
]
ROUTER = Router(ROUTES)


def test_a_static_path_matches_with_no_parameters() -> None:
    found = ROUTER.match("/balance")
    assert found is not None
    methods, params = found
    assert list(methods) == ["GET"] and params == {}
    assert methods["GET"].template == "/balance"


def test_a_template_captures_its_parameter() -> None:
    found = ROUTER.match("/otp/orders/abc-123")
    assert found is not None
    assert list(found[0]) == ["GET"]
    assert found[1] == {"orderId": "abc-123"}


def test_templates_with_the_same_length_are_told_apart_by_their_literals() -> None:
    cancel = ROUTER.match("/otp/orders/x/cancel")
    refund = ROUTER.match("/social/orders/y/refund")
    assert cancel is not None and cancel[0]["POST"].template == "/otp/orders/{orderId}/cancel"
    assert refund is not None and refund[0]["POST"].template == "/social/orders/{orderId}/refund"
    assert refund[1] == {"orderId": "y"}


def test_one_path_may_serve_several_methods() -> None:
    found = ROUTER.match("/things")
    assert found is not None and sorted(found[0]) == ["DELETE", "GET"]


def test_the_route_keeps_whether_it_reads_a_body() -> None:
    found = ROUTER.match("/otp/orders")
    assert found is not None and found[0]["POST"].body is True


def test_unknown_paths_match_nothing() -> None:
    for path in [
        "/",
        "/nope",
        "/balance/",
        "/balance/x",
        "/otp",
        "/otp/orders/",
        "/otp/orders//cancel",
        "//otp/orders/x",
        "/otp/orders/x/delete",
        "/social/orders/x",
        "/otp/orders/x/cancel/more",
    ]:
        assert ROUTER.match(path) is None, path


def test_template_of_names_the_matched_template() -> None:
    assert ROUTER.template_of("/otp/orders/42/refund") == "/otp/orders/{orderId}/refund"
    assert ROUTER.template_of("/balance") == "/balance"
    assert ROUTER.template_of("/missing") is None
