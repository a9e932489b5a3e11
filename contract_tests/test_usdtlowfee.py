"""USDTLowFee against emulator/specs/usdtlowfee.json: examples, coverage, fuzzing, then the
stateful flows (save an address -> label -> default -> delete; order energy -> get) that the
document's links describe."""

from __future__ import annotations

from typing import Any

import pytest

from .support import (
    CONTROL_URL,
    USDTLOWFEE,
    energy_lists,
    flows,
    flows_skipped,
    load_schema,
    reads_by_id,
    scripted_flows,
    target,
    within_share,
)

TARGET = target(USDTLOWFEE)
schema = load_schema(TARGET)


@schema.parametrize()
def test_usdtlowfee(case: Any) -> None:
    if within_share(case):  # without a control plane, a spending operation's share of CONTRACT_MAX_PURCHASES
        case.call_and_validate()


def test_usdtlowfee_reads_by_id() -> None:
    """Each GET by id with an id the run has (from a list, a create, or CONTRACT_USDTLOWFEE_ORDER_IDS)."""
    reads_by_id(schema, TARGET)


def test_usdtlowfee_lists() -> None:
    """The energy order list walked by offset/limit, and refused out of range."""
    energy_lists(schema, TARGET)


SKIP_FLOWS = flows_skipped(TARGET)
if SKIP_FLOWS is None and TARGET.live and CONTROL_URL is None:

    def test_usdtlowfee_flows() -> None:
        """Without a control plane, one account for the whole run: the links walked once, in order."""
        scripted_flows(schema, TARGET)

elif SKIP_FLOWS is None:
    TestUsdtLowFeeFlows = flows(schema, TARGET)
else:
    REASON: str = SKIP_FLOWS

    def test_usdtlowfee_flows() -> None:
        pytest.skip(REASON)
