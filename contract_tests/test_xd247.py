"""247xd against emulator/specs/247xd.json: examples, coverage, fuzzing, then the stateful flows
(list the catalog -> order -> get -> cancel -> refund) that the document's links describe."""

from __future__ import annotations

from typing import Any

import pytest

from .support import (
    CONTROL_URL,
    XD247,
    flows,
    flows_skipped,
    load_schema,
    reads_by_id,
    scripted_flows,
    target,
    within_share,
)

TARGET = target(XD247)
schema = load_schema(TARGET)


@schema.parametrize()
def test_xd247(case: Any) -> None:
    if within_share(case):  # without a control plane, a spending operation's share of CONTRACT_MAX_PURCHASES
        case.call_and_validate()


def test_xd247_reads_by_id() -> None:
    """Each GET by id with an id the run has (from a list, a create, or CONTRACT_247XD_ORDER_IDS)."""
    reads_by_id(schema, TARGET)


SKIP_FLOWS = flows_skipped(TARGET)
if SKIP_FLOWS is None and TARGET.live and CONTROL_URL is None:

    def test_xd247_flows() -> None:
        """Without a control plane, one account for the whole run: the links walked once, in order."""
        scripted_flows(schema, TARGET)

elif SKIP_FLOWS is None:
    TestXd247Flows = flows(schema, TARGET)
else:
    REASON: str = SKIP_FLOWS

    def test_xd247_flows() -> None:
        pytest.skip(REASON)
