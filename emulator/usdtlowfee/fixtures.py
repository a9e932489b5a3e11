"""USDTLowFee's part of a fixtures document. Placeholder until the API lands."""

from __future__ import annotations

from typing import Any


def parse(doc: dict[str, Any], path: str = "usdtlowfee.") -> dict[str, Any]:
    return doc
