"""247xd over HTTP: thin handlers that read params, call the backend, return data."""

from __future__ import annotations

import threading
from typing import Any

import orjson

from emulator.core import validate as v
from emulator.core.asgi import Surface
from emulator.core.auth import AuthScheme
from emulator.core.errors import ApiError, FieldError
from emulator.core.ratelimit import RateLimiter
from emulator.core.routing import Call, Route, Router

from . import errors
from .account import Account
from .service import LINK_RE, Xd247Backend

PREFIX = "/api/v1"


def _uuid_param(call: Call, name: str) -> str:
    # A malformed path id is simply not one of the caller's (SPEC "Ids"): 404.
    value = call.params[name]
    if v.UUID_RE.fullmatch(value) is None:
        raise errors.not_found()
    return value.lower()


def build_routes(backend: Xd247Backend) -> list[Route]:
    def balance(call: Call) -> tuple[int, Any]:
        return 200, backend.balance(call.account)

    def otp_services(call: Call) -> tuple[int, Any]:
        return 200, backend.otp_catalog()

    def otp_create(call: Call) -> tuple[int, Any]:
        body = call.body or {}
        service_id = v.uuid_string(body, "serviceId")
        option_id = v.uuid_string(body, "priceOptionId")
        order = backend.create_otp_order(call.account, service_id, option_id, call.now_us)
        return 201, order.created_view()

    def order_get(kind: str):  # type: ignore[no-untyped-def]
        def handler(call: Call) -> tuple[int, Any]:
            order = backend.order_of(call.account, kind, _uuid_param(call, "orderId"), call.now_us)
            return 200, order.view(call.now_us)

        return handler

    def otp_cancel(call: Call) -> tuple[int, Any]:
        order = backend.cancel_otp(call.account, _uuid_param(call, "orderId"), call.now_us)
        return 200, order.view(call.now_us)

    def refund(kind: str):  # type: ignore[no-untyped-def]
        def handler(call: Call) -> tuple[int, Any]:
            order = backend.refund(call.account, kind, _uuid_param(call, "orderId"), call.now_us)
            return 200, order.view(call.now_us)

        return handler

    def social_services(call: Call) -> tuple[int, Any]:
        return 200, backend.social_catalog()

    def social_create(call: Call) -> tuple[int, Any]:
        body = call.body or {}
        option_id = v.uuid_string(body, "optionId")
        link = v.string(body, "link", max_len=2048)
        if LINK_RE.fullmatch(link) is None:
            raise FieldError("link", "must be an http(s) URL")
        quantity = v.integer(body, "quantity", low=1)
        order = backend.create_social_order(call.account, option_id, link, quantity, call.now_us)
        return 201, order.created_view()

    def premium_services(call: Call) -> tuple[int, Any]:
        return 200, backend.premium_catalog()

    def premium_create(call: Call) -> tuple[int, Any]:
        service_id = v.uuid_string(call.body or {}, "serviceId")
        order = backend.create_premium_order(call.account, service_id, call.now_us)
        return 201, order.created_view()

    # Seed sections 5-8: the 13 documented endpoints.
    return [
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


class Xd247Surface(Surface):
    name = "247xd"
    prefix = PREFIX

    def __init__(
        self, backend: Xd247Backend, rate_limit: int, lock: threading.Lock
    ) -> None:
        super().__init__(
            Router(build_routes(backend)),
            AuthScheme("Bearer", r"247xd_[A-Za-z0-9]{40}"),
            backend.keys,
            RateLimiter(rate_limit),
            backend.clock,
            lock,
            backend.accounts,
        )
        self.backend = backend

    def refusal(self, account: Account) -> ApiError | None:
        return errors.banned() if account.banned else None

    def render_ok(self, data: Any) -> bytes:
        return orjson.dumps({"success": True, "data": data})

    def render_error(self, error: ApiError) -> bytes:
        return orjson.dumps(
            {"success": False, "error": {"code": error.code, "message": error.message}}
        )

    def not_found(self) -> ApiError:
        return errors.not_found()

    def method_not_allowed(self, allowed: list[str]) -> ApiError:
        return errors.method_not_allowed(allowed)

    def unauthorized(self) -> ApiError:
        return errors.unauthorized()

    def rate_limited(self, retry_after: int) -> ApiError:
        return errors.rate_limited(retry_after)

    def bad_request(self, reason: str) -> ApiError:
        return errors.bad_request(reason)

    def invalid_field(self, error: FieldError) -> ApiError:
        return errors.from_field_error(error)

    def internal_error(self) -> ApiError:
        return errors.internal()

    def fault_error(self, status: int, code: str | None, message: str | None, retry_after: int) -> ApiError:
        return errors.fault(status, code, message)
