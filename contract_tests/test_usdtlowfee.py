"""USDTLowFee against emulator/specs/usdtlowfee.json: examples, coverage, fuzzing, then the
stateful flows (save an address -> label -> default -> delete; order energy -> get) that the
document's links describe."""

from __future__ import annotations

from typing import Any

import pytest

from .support import USDTLOWFEE, flows, flows_skipped, load_schema, target

TARGET = target(USDTLOWFEE)
schema = load_schema(TARGET)


@schema.parametrize()
def test_usdtlowfee(case: Any) -> None:
    case.call_and_validate()


SKIP_FLOWS = flows_skipped(TARGET)
if SKIP_FLOWS is None:
    TestUsdtLowFeeFlows = flows(schema, TARGET)
else:
    REASON: str = SKIP_FLOWS

    def test_usdtlowfee_flows() -> None:
        pytest.skip(REASON)
