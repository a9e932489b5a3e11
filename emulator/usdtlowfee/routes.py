"""USDTLowFee over HTTP: thin handlers that read params, call the backend, return data."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from emulator.core import validate as v
from emulator.core.errors import FieldError
from emulator.core.routing import Call, Route, Router
from emulator.core.validate import INT64_MAX

from . import errors
from .energy import DURATIONS, MAX_ENERGY, MIN_ENERGY, ORDER_TYPES, STATUSES
from .service import UsdtLowFeeBackend
from .tron import address_field as _tron_address

# Path ids: canonical decimal only ("007", "1e3", "-1" are simply not one of yours: 404).
_PATH_ID = re.compile(r"[1-9][0-9]{0,18}")
# Query integers: optional minus, ASCII digits, no more than int64 can hold.
_QUERY_INT = re.compile(r"-?[0-9]{1,19}")
Result = tuple[int, Any]
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
LABEL_MAX = 64
_DURATIONS_TEXT = ", ".join(map(str, DURATIONS))
_STATUSES_TEXT = ", ".join(STATUSES)


def _path_id(call: Call, name: str, what: str) -> int:
    # A malformed path id is simply not one of the caller's (SPEC "Ids"): 404.
    text = call.params[name]
    if _PATH_ID.fullmatch(text) is None:
        raise errors.not_found(what)
    value = int(text)
    if value > INT64_MAX:
        raise errors.not_found(what)
    return value


# Parsed query strings (short ones), shared and only read: a client polling a list sends
# the same one again and again.
_QUERIES: dict[bytes, dict[str, str]] = {}


def _query(call: Call) -> dict[str, str]:
    raw = call.query
    if not raw:
        return {}
    query = _QUERIES.get(raw)
    if query is None:
        # A repeated parameter: the last one counts.
        query = dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True))
        if len(raw) <= 256:
            if len(_QUERIES) >= 256:
                _QUERIES.clear()
            _QUERIES[raw] = query
    return query


def _query_int(query: dict[str, str], name: str, default: int, low: int, high: int | None = None) -> int:
    text = query.get(name)
    if text is None:
        return default
    if _QUERY_INT.fullmatch(text) is None:
        raise FieldError(name, "must be an integer")
    value = int(text)
    if value < low:
        raise FieldError(name, f"must be at least {low}")
    if high is not None and value > high:
        raise FieldError(name, f"must be at most {high}")
    return value


def balance(backend: UsdtLowFeeBackend, call: Call) -> Result:
    return 200, backend.balance(call.account, call.now_us)


def me(backend: UsdtLowFeeBackend, call: Call) -> Result:
    return 200, backend.me(call.account)


def order_create(backend: UsdtLowFeeBackend, call: Call) -> Result:
    body = call.body or {}
    order_type = v.need(body, "type")
    if not isinstance(order_type, str):
        raise FieldError("type", "must be a string")
    if order_type not in ORDER_TYPES:
        raise FieldError("type", 'must be "manual"')
    data = v.obj_of(body, "data")
    address = _tron_address(data, "tronAddress", "data.")
    energy = v.integer(data, "energyValue", "data.", low=MIN_ENERGY, high=MAX_ENERGY)
    hours = v.integer(data, "durationHours", "data.")
    if hours not in DURATIONS:
        raise FieldError("data.durationHours", f"must be one of {_DURATIONS_TEXT}")
    order = backend.create_order(call.account, address, energy, hours, call.now_us)
    return 201, order.view()


def order_get(backend: UsdtLowFeeBackend, call: Call) -> Result:
    order = backend.order_of(call.account, _path_id(call, "id", "Energy order"), call.now_us)
    return 200, order.view()


def order_list(backend: UsdtLowFeeBackend, call: Call) -> Result:
    query = _query(call)
    offset = _query_int(query, "offset", 0, 0, INT64_MAX)  # an int64, as the ids and amounts are
    limit = _query_int(query, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    status = query.get("status")
    if status is not None and status not in STATUSES:
        raise FieldError("status", f"must be one of {_STATUSES_TEXT}")
    return 200, backend.list_orders(call.account, call.now_us, offset, limit, status)


def address_create(backend: UsdtLowFeeBackend, call: Call) -> Result:
    body = call.body or {}
    address = _tron_address(body, "tronAddress")
    label = v.string(body, "label", max_len=LABEL_MAX)
    # Optional, default false (SPEC, inferred); null counts as not given.
    is_default = v.boolean(body, "isDefault") if v.optional(body, "isDefault") else False
    saved = backend.create_address(call.account, address, label, is_default, call.now_us)
    return 201, saved.view()


def address_list(backend: UsdtLowFeeBackend, call: Call) -> Result:
    return 200, backend.addresses(call.account)


def address_get(backend: UsdtLowFeeBackend, call: Call) -> Result:
    return 200, backend.address_of(call.account, _path_id(call, "id", "Address")).view()


def address_label(backend: UsdtLowFeeBackend, call: Call) -> Result:
    address_id = _path_id(call, "id", "Address")
    label = v.string(call.body or {}, "label", max_len=LABEL_MAX)
    return 200, backend.set_label(call.account, address_id, label).view()


def address_default(backend: UsdtLowFeeBackend, call: Call) -> Result:
    backend.set_default(call.account, _path_id(call, "id", "Address"))
    return 204, None


def address_delete(backend: UsdtLowFeeBackend, call: Call) -> Result:
    backend.delete_address(call.account, _path_id(call, "id", "Address"))
    return 204, None


# The seed's 11 documented endpoints.
ROUTER = Router(
    [
        Route("GET", "/wallet/balance", balance, name="getWalletBalance"),
        Route("GET", "/users/me", me, name="getCurrentUser"),
        Route("POST", "/energy/orders", order_create, body=True, name="createEnergyOrder"),
        Route("GET", "/energy/orders", order_list, name="listEnergyOrders"),
        Route("GET", "/energy/orders/{id}", order_get, name="getEnergyOrder"),
        Route("POST", "/addresses", address_create, body=True, name="createAddress"),
        Route("GET", "/addresses", address_list, name="listAddresses"),
        Route("GET", "/addresses/{id}", address_get, name="getAddress"),
        Route("PUT", "/addresses/{id}/label", address_label, body=True, name="updateAddressLabel"),
        Route("PUT", "/addresses/{id}/default", address_default, name="setDefaultAddress"),
        Route("DELETE", "/addresses/{id}", address_delete, name="deleteAddress"),
    ]
)
