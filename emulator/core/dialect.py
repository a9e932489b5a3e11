"""What makes one API's answers its own: prefix, auth scheme, envelopes and error words.

Each API declares one `Dialect` next to its `errors.py`; the request pipeline
(`core.pipeline`) is configured with it and knows no API by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .auth import AuthScheme
from .errors import ApiError, FieldError


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str  # "247xd", as the control plane, the journal and faults name the API
    prefix: str  # "/api/v1"
    scheme: AuthScheme
    render_ok: Callable[[Any], bytes]
    render_error: Callable[[ApiError], bytes]
    # An error for an account that may not call (banned, disabled), else None.
    refusal: Callable[[Any], ApiError | None]
    not_found: Callable[[], ApiError]
    method_not_allowed: Callable[[list[str]], ApiError]
    unauthorized: Callable[[], ApiError]
    rate_limited: Callable[[int], ApiError]  # Retry-After seconds
    bad_request: Callable[[str], ApiError]
    invalid_field: Callable[[FieldError], ApiError]
    internal_error: Callable[[], ApiError]
    # An injected error (status, code or None, message or None, Retry-After): the code
    # defaults from the status in the API's own table, the message from the code.
    fault_error: Callable[[int, str | None, str | None, int], ApiError]
    # 403 for a request whose Host is not allowed (DNS rebinding guard, emulator/guard.py),
    # refused before routing: in the API's envelope, with a code of its own table.
    forbidden_host: Callable[[], ApiError]

