"""The purchase cap of a live run without a control plane (support.purchase_shares and the guard):
shared out before anything is bought, so a generated case over its operation's share is not sent
(held back: the test passes over it) and the cap is never met half-way through a walk — the run is the
same every time instead of failing with SpendingRefused and then Hypothesis' "flaky"."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from . import support

URL = "http://vendor.invalid"


def _case(label: str) -> Any:
    method, path = label.split(" ", 1)
    paths = {path: {method.lower(): {}}}
    schema = SimpleNamespace(config=SimpleNamespace(base_url=URL), raw_schema={"paths": paths})
    return SimpleNamespace(method=method, path=path, operation=SimpleNamespace(schema=schema), body=None)


@pytest.fixture
def spending_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(support, "CONTROL_URL", None)  # whatever target this run has
    monkeypatch.setattr(support, "_SPENDING_APIS", {"247xd", "usdtlowfee"})
    monkeypatch.setattr(support, "BOUGHT", support.Counter())
    monkeypatch.setattr(support, "GENERATED_BOUGHT", support.Counter())
    monkeypatch.setattr(support, "HELD_BACK", support.Counter())
    monkeypatch.setitem(support._READ_ONLY, URL, False)


@pytest.mark.parametrize("cap", [50, 11, 200])
def test_the_shares_and_the_fixed_walks_stay_within_the_cap(
    spending_run: None, monkeypatch: pytest.MonkeyPatch, cap: int
) -> None:
    monkeypatch.setattr(support, "MAX_PURCHASES", cap)
    shares = support.purchase_shares()
    assert set(shares) == support.SPENDING
    assert sum(shares.values()) + sum(support.SCRIPTED_PURCHASES.values()) <= cap
    assert min(shares.values()) >= 1  # every spending operation can be judged a 2xx


def test_a_generated_case_over_its_share_is_held_back_not_sent(spending_run: None) -> None:
    label = "POST /otp/orders"
    share = support.purchase_shares()[label]
    ok = SimpleNamespace(status_code=201)
    for _ in range(share):
        assert support.within_share(_case(label))
        support._guard_spending(None, _case(label), {})
        support._count_purchases(None, _case(label), ok)
    assert not support.within_share(_case(label))  # held back: not sent, the test passes over it
    assert support.HELD_BACK[label] == 1
    assert support.within_share(_case("POST /premium/orders"))  # another operation keeps its own share
    # the fixed walks' purchases (scripted) are not the generated cases'
    token = support._SCRIPTED.set(True)
    try:
        support._count_purchases(None, _case("POST /premium/orders"), ok)
    finally:
        support._SCRIPTED.reset(token)
    assert support.GENERATED_BOUGHT["POST /premium/orders"] == 0
    assert sum(support.BOUGHT.values()) == share + 1


def test_the_hard_bound_still_refuses(spending_run: None, monkeypatch: pytest.MonkeyPatch) -> None:
    support.BOUGHT["POST /v1/energy/orders"] = support.MAX_PURCHASES
    with pytest.raises(support.SpendingRefused):
        support._guard_spending(None, _case("POST /otp/orders"), {})


# --- frozen_release without a control plane (support.Money.await_settlement) --------------------------
# The fixed walk waits for its energy order to settle by itself. Here in-process, where a pause is a
# move of the emulator's frozen clock (the emulator fulfils after 5 s): nothing sleeps. Not in a live
# run: the pacer's state is then the live target's.
in_process_only = pytest.mark.skipif(support._LIVE, reason="in-process only: a live run paces its target")


def _scripted_usdtlowfee(monkeypatch: pytest.MonkeyPatch, breakage: str | None = None) -> list[Any]:
    from . import breakages, pacing

    monkeypatch.setattr(support, "SETTLEMENTS", [])
    monkeypatch.setattr(pacing, "LEDGER", pacing.Ledger())  # not this run's coverage
    advance = pacing._advance[0]
    emulator, app, control = support.new_emulator()  # its clock is the pacer's to move now
    try:
        key = support.fresh_key(support.USDTLOWFEE, control)
        wrapped = support.Swap(breakages.wrap(app, "usdtlowfee", breakage, key))
        target = support.Target(support.USDTLOWFEE, key, app=wrapped, emulator=emulator)
        support.scripted_flows(support.load_schema(target), target)
        return support.SETTLEMENTS
    finally:
        pacing.fresh_target()
        pacing.set_advance(advance)


@in_process_only
def test_the_walk_sees_its_energy_order_settle_by_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    [record] = _scripted_usdtlowfee(monkeypatch)
    # read back at once, then every SETTLE_POLL_S (2 s) of the clock: completed at the read after 5 s
    assert (record["status"], record["polls"], record["seconds"]) == ("completed", 4, 6.0)
    assert record["outcome"] == "completed after 6 s: price left frozenSun"


@in_process_only
def test_a_price_stuck_in_frozen_is_reported_without_a_control_plane(monkeypatch: pytest.MonkeyPatch) -> None:
    from . import semantics

    with pytest.raises(semantics.FAILURES["frozen_release"], match="price|frozen"):
        _scripted_usdtlowfee(monkeypatch, "frozen-stuck")


@in_process_only
def test_an_order_unsettled_within_the_bound_is_inconclusive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(support, "SETTLE_WAIT_S", 3.0)
    [record] = _scripted_usdtlowfee(monkeypatch)  # neither passed nor failed: the rule was not judged
    assert record["status"] == "processing" and record["polls"] == 3
    assert record["outcome"].startswith("inconclusive: still processing after 3 s")
