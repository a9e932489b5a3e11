"""247xd over HTTP: thin handlers that read params, call the backend, return data."""

from __future__ import annotations

from typing import Any

from emulator.core import validate as v
from emulator.core.errors import FieldError
from emulator.core.routing import Call, Handler, Route, Router

from . import errors
from .service import Xd247Backend

Result = tuple[int, Any]


def _uuid_param(call: Call, name: str) -> str:
    # A malformed path id is simply not one of the caller's (SPEC "Ids"): 404.
    value = call.params[name]
    if v.UUID_RE.fullmatch(value) is None:
        raise errors.not_found()
    return value.lower()


def balance(backend: Xd247Backend, call: Call) -> Result:
    return 200, backend.balance(call.account)


def otp_services(backend: Xd247Backend, call: Call) -> Result:
    return 200, backend.otp_catalog()


def otp_create(backend: Xd247Backend, call: Call) -> Result:
    body = call.body or {}
    service_id = v.uuid_string(body, "serviceId")
    option_id = v.uuid_string(body, "priceOptionId")
    order = backend.create_otp_order(call.account, service_id, option_id, call.now_us)
    return 201, order.created_view()


def order_get(kind: str) -> Handler:
    def handler(backend: Xd247Backend, call: Call) -> Result:
        order = backend.order_of(call.account, kind, _uuid_param(call, "orderId"), call.now_us)
        return 200, order.view(call.now_us)

    return handler


def otp_cancel(backend: Xd247Backend, call: Call) -> Result:
    order = backend.cancel_otp(call.account, _uuid_param(call, "orderId"), call.now_us)
    return 200, order.view(call.now_us)


def refund(kind: str) -> Handler:
    def handler(backend: Xd247Backend, call: Call) -> Result:
        order = backend.refund(call.account, kind, _uuid_param(call, "orderId"), call.now_us)
        return 200, order.view(call.now_us)

    return handler


def social_services(backend: Xd247Backend, call: Call) -> Result:
    return 200, backend.social_catalog()


def social_create(backend: Xd247Backend, call: Call) -> Result:
    body = call.body or {}
    option_id = v.uuid_string(body, "optionId")
    link = v.string(body, "link", max_len=2048)
    problem = v.http_url_problem(link)
    if problem is not None:
        raise FieldError("link", problem)
    quantity = v.integer(body, "quantity", low=1)
    order = backend.create_social_order(call.account, option_id, link, quantity, call.now_us)
    return 201, order.created_view()


def premium_services(backend: Xd247Backend, call: Call) -> Result:
    return 200, backend.premium_catalog()


def premium_create(backend: Xd247Backend, call: Call) -> Result:
    service_id = v.uuid_string(call.body or {}, "serviceId")
    order = backend.create_premium_order(call.account, service_id, call.now_us)
    return 201, order.created_view()


# Seed sections 5-8: the 13 documented endpoints.
ROUTER = Router(
    [
        Route("GET", "/balance", balance, name="getBalance"),
        Route("GET", "/otp/services", otp_services, name="listOtpServices"),
        Route("POST", "/otp/orders", otp_create, body=True, name="createOtpOrder"),
        Route("GET", "/otp/orders/{orderId}", order_get("otp"), name="getOtpOrder"),
        Route("POST", "/otp/orders/{orderId}/cancel", otp_cancel, name="cancelOtpOrder"),
        Route("POST", "/otp/orders/{orderId}/refund", refund("otp"), name="refundOtpOrder"),
        Route("GET", "/social/services", social_services, name="listSocialServices"),
        Route("POST", "/social/orders", social_create, body=True, name="createSocialOrder"),
        Route("GET", "/social/orders/{orderId}", order_get("social"), name="getSocialOrder"),
        Route("POST", "/social/orders/{orderId}/refund", refund("social"), name="refundSocialOrder"),
        Route("GET", "/premium/services", premium_services, name="listPremiumServices"),
        Route("POST", "/premium/orders", premium_create, body=True, name="createPremiumOrder"),
        Route("GET", "/premium/orders/{orderId}", order_get("premium"), name="getPremiumOrder"),
    ]
)
