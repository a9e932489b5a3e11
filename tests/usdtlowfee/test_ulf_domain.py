"""The USDTLowFee backend and models without HTTP."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from emulator.core.clock import US_PER_S, Clock, parse_iso
from emulator.core.errors import ApiError
from emulator.core.ids import IdSource
from emulator.core.statemachine import TransitionError
from emulator.usdtlowfee import tron
from emulator.usdtlowfee.account import Account
from emulator.usdtlowfee.energy import ENERGY, STATUSES
from emulator.usdtlowfee.fixtures import UsdtLowFeeFixtures, parse
from emulator.usdtlowfee.format import trx, trx_text
from emulator.usdtlowfee.ledger import VIEW_CACHE, OrderBook
from emulator.usdtlowfee.pages import newest_first
from emulator.usdtlowfee.service import UsdtLowFeeBackend

from .support import COLD, FAILING, MAIN_WALLET, OTHER, PRICES, USDT_CONTRACT

T0 = parse_iso("2025-01-15T10:30:00Z")


def make(doc: dict[str, Any] | None = None, start: int = T0) -> tuple[UsdtLowFeeBackend, Clock]:
    clock = Clock(start, frozen=True)
    fixtures = parse(doc or {"failingAddresses": [{"tronAddress": FAILING, "reason": "no"}]})
    return UsdtLowFeeBackend(fixtures, clock, IdSource(3)), clock


def funded(backend: UsdtLowFeeBackend, sun: int = 10**12) -> Account:
    return backend.create_account(sun)[0]


def check_books(account: Account) -> None:
    """The invariants: frozen = the prices of the processing orders; the indexes partition."""
    processing = [o for o in account.orders if o.status == "processing"]
    assert account.frozen_sun == sum(o.price_sun for o in processing)
    assert account.balance_sun >= 0 and account.frozen_sun >= 0
    ids = [o.id for o in account.orders]
    assert ids == sorted(ids)
    for status in STATUSES:
        listed = account.with_status(status)
        assert [o.id for o in listed] == sorted(o.id for o in account.orders if o.status == status)
    assert sum(len(account.with_status(s)) for s in STATUSES) == len(account.orders)


def test_the_state_machine_table() -> None:
    assert ENERGY.initial == "processing"
    assert ENERGY.allowed("processing") == ("completed", "failed")
    assert ENERGY.is_terminal("completed") and ENERGY.is_terminal("failed")


def test_prices_are_the_table_rounded_up() -> None:
    backend, _ = make()
    for hours, sun in PRICES.items():
        assert backend.price(65000, hours) == sun
        assert backend.price(130000, hours) == 2 * sun
    assert backend.price(32000, 1) == 1_476_924
    assert backend.price(65001, 1) == 3_000_047


def test_trx_is_exact_at_the_edges() -> None:
    assert trx(3_000_000) == 3.0 and repr(trx(3_000_000)) == "3.0"
    assert repr(trx(1)) == "1e-06"
    assert repr(trx(1_476_924)) == "1.476924"
    assert repr(trx(153_846_153_847)) == "153846.153847"
    assert trx_text(1) == "0.000001 TRX" and trx_text(2_500_000) == "2.5 TRX"


def test_create_freezes_and_settle_completes_at_the_due_instant() -> None:
    backend, clock = make()
    account = funded(backend, 10_000_000)
    order = backend.create_order(account, USDT_CONTRACT, 65000, 1, clock.now_us())
    assert (account.balance_sun, account.frozen_sun) == (7_000_000, 3_000_000)
    assert order.status == "processing" and order.id > 2**53
    check_books(account)
    account.settle(T0 + 5 * US_PER_S - 1)
    assert order.status == "processing"
    account.settle(T0 + 3600 * US_PER_S)
    assert order.status == "completed"
    assert order.completed_us == order.updated_us == order.status_updated_us == T0 + 5 * US_PER_S
    assert (account.balance_sun, account.frozen_sun) == (7_000_000, 0)
    check_books(account)
    account.settle(T0 + 7200 * US_PER_S)  # nothing more
    assert (account.balance_sun, account.frozen_sun) == (7_000_000, 0)


def test_a_failing_input_fails_and_refunds_once() -> None:
    backend, clock = make()
    account = funded(backend, 3_000_000)
    order = backend.create_order(account, FAILING, 65000, 1, clock.now_us())
    assert order.planned_failure == "no"
    with pytest.raises(ApiError) as refused:
        backend.create_order(account, USDT_CONTRACT, 65000, 1, clock.now_us())
    assert refused.value.code == "INSUFFICIENT_BALANCE" and refused.value.status == 403
    assert len(account.orders) == 1
    account.settle(T0 + 10 * US_PER_S)
    assert order.status == "failed" and order.failure_reason == "no"
    assert (account.balance_sun, account.frozen_sun) == (3_000_000, 0)
    with pytest.raises(TransitionError):
        account.move(order, "failed", T0 + 11 * US_PER_S)
    assert (account.balance_sun, account.frozen_sun) == (3_000_000, 0)
    check_books(account)


def test_settle_pops_only_what_is_due() -> None:
    backend, clock = make()
    account = funded(backend)
    for _ in range(50):  # at t0, t0+0.1s, ..., t0+4.9s: none due yet
        backend.create_order(account, USDT_CONTRACT, 65000, 1, clock.now_us())
        clock.advance(US_PER_S // 10)
    assert len(account.due) == 50 and account.with_status("completed") == []
    account.settle(T0 + 7 * US_PER_S)  # those created by t0+2.0s are due
    assert len(account.due) == 29
    assert len(account.with_status("completed")) == 21
    check_books(account)


def test_a_forced_move_takes_the_order_out_of_the_settling_queue() -> None:
    backend, clock = make()
    account = funded(backend)
    orders = [backend.create_order(account, USDT_CONTRACT, 65000, 24, clock.now_us()) for _ in range(3)]
    clock.advance(2 * US_PER_S)
    backend.force(orders[1].id, "failed", "by hand")
    assert orders[1].status_updated_us == T0 + 2 * US_PER_S
    clock.advance(10 * US_PER_S)
    account.settle(clock.now_us())
    assert [o.status for o in orders] == ["completed", "failed", "completed"]
    assert orders[1].failure_reason == "by hand"
    assert account.due == []
    check_books(account)


def test_settling_stays_exact_when_creation_instants_go_back() -> None:
    """A wall clock stepping back makes a later order due earlier: each still moves at its own due."""
    backend, clock = make()
    account = funded(backend)
    late = backend.create_order(account, USDT_CONTRACT, 65000, 1, T0 + 3 * US_PER_S)
    early = backend.create_order(account, FAILING, 65000, 1, T0)
    last = backend.create_order(account, USDT_CONTRACT, 65000, 1, T0 + US_PER_S)
    assert late.id < early.id < last.id
    account.settle(T0 + 5 * US_PER_S)
    assert [o.status for o in (late, early, last)] == ["processing", "failed", "processing"]
    assert early.status_updated_us == T0 + 5 * US_PER_S
    assert backend.list_orders(account, T0 + 5 * US_PER_S, 0, 20, "processing")["total"] == 2
    backend.force(late.id, "completed")  # at the frozen clock, T0
    account.settle(T0 + 6 * US_PER_S)
    assert [o.status for o in (late, early, last)] == ["completed", "failed", "completed"]
    assert late.completed_us == T0 and last.completed_us == T0 + 6 * US_PER_S
    assert account.due == []
    check_books(account)


def test_processing_pages_are_newest_first_across_quick_and_slow_orders() -> None:
    backend, clock = make({"slowAddresses": [{"tronAddress": COLD, "delaySeconds": 60}]})
    account = funded(backend)
    made = []
    for i in range(30):
        address = COLD if i % 3 == 0 else USDT_CONTRACT
        made.append(backend.create_order(account, address, 65000, 1, clock.now_us()))
        clock.advance(US_PER_S // 10)
    backend.force(made[3].id, "failed")  # a slow one
    backend.force(made[4].id, "completed")  # a quick one
    clock.advance(5 * US_PER_S // 2)  # the first quick ones come due; no slow one does
    now = clock.now_us()
    account.settle(now)
    waiting = [o.id for o in reversed(made) if o.status == "processing"]
    assert {o.tron_address for o in made if o.status == "completed" and o is not made[4]} == {USDT_CONTRACT}
    assert [o.id for o in account.due] == sorted(waiting)
    for offset in (0, 1, 5, 9, len(waiting) - 1, len(waiting), 10**6):
        for limit in (1, 3, 20):
            page = backend.list_orders(account, now, offset, limit, "processing")
            assert [o["id"] for o in page["orders"]] == waiting[offset : offset + limit]
            assert page["total"] == len(waiting)
    check_books(account)


def test_force_applies_due_moves_first_and_checks_the_table() -> None:
    backend, clock = make()
    account = funded(backend)
    order = backend.create_order(account, USDT_CONTRACT, 65000, 1, clock.now_us())
    clock.advance(6 * US_PER_S)
    with pytest.raises(TransitionError):
        backend.force(order.id, "failed")
    assert order.status == "completed" and order.completed_us == T0 + 5 * US_PER_S
    with pytest.raises(KeyError):
        backend.force(12345, "completed")
    other = backend.create_order(account, USDT_CONTRACT, 65000, 1, clock.now_us())
    with pytest.raises(TransitionError):
        backend.force(other.id, "nonsense")
    with pytest.raises(ValueError):
        backend.force(other.id, "completed", "a reason")
    assert other.status == "processing"
    check_books(account)


def test_domain_guards() -> None:
    backend, clock = make()
    account = funded(backend)
    for address, energy, hours in ((COLD[:-1] + "1", 65000, 1), (COLD, 31999, 1), (COLD, 65000, 2),
                                   (COLD, 100_000_001, 1)):
        with pytest.raises(ApiError) as refused:
            backend.create_order(account, address, energy, hours, clock.now_us())
        assert refused.value.code == "VALIDATION_ERROR"
    assert account.orders == [] and account.frozen_sun == 0


def test_order_of_is_isolated() -> None:
    backend, clock = make()
    one, two = funded(backend), funded(backend)
    order = backend.create_order(one, USDT_CONTRACT, 65000, 1, clock.now_us())
    assert backend.order_of(one, order.id, clock.now_us()) == order  # a handle on the same row
    with pytest.raises(ApiError) as refused:
        backend.order_of(two, order.id, clock.now_us())
    assert refused.value.status == 404


class CountingView:
    calls = 0


def test_a_page_costs_the_page_not_the_history(monkeypatch: pytest.MonkeyPatch) -> None:
    backend, clock = make()
    account = funded(backend)
    for _ in range(10_000):
        backend.create_order(account, USDT_CONTRACT, 65000, 1, clock.now_us())
    clock.advance(10 * US_PER_S)
    account.settle(clock.now_us())  # all 10,000 completed; nothing left to settle
    backend.create_order(account, FAILING, 65000, 1, clock.now_us())
    # Counts the orders rendered (a list renders each row of the book once).
    original = OrderBook.view
    counter = CountingView()

    def counting(self: OrderBook, row: int) -> dict[str, Any]:
        counter.calls += 1
        return original(self, row)

    monkeypatch.setattr(OrderBook, "view", counting)
    page = backend.list_orders(account, clock.now_us(), 0, 20)
    assert counter.calls == 20 and page["total"] == 10_001
    assert page["orders"][0]["tronAddress"] == FAILING
    counter.calls = 0
    page = backend.list_orders(account, clock.now_us(), 9_990, 20, "completed")
    assert counter.calls == 10 and page["total"] == 10_000
    counter.calls = 0
    assert backend.list_orders(account, clock.now_us(), 0, 20, "failed")["total"] == 0
    assert backend.list_orders(account, clock.now_us(), 0, 20, "processing")["total"] == 1
    assert counter.calls == 1
    # The due heap holds only what is still processing.
    assert len(account.due) == 1


def test_views_kept_for_terminal_orders_are_bounded_and_match_a_fresh_render() -> None:
    backend, clock = make()
    account = funded(backend)
    count = VIEW_CACHE + 500
    for _ in range(count):
        backend.create_order(account, USDT_CONTRACT, 65000, 1, clock.now_us())

    def every_page() -> list[dict[str, Any]]:
        return [backend.list_orders(account, clock.now_us(), offset, 100) for offset in range(0, count, 100)]

    assert every_page()[0]["orders"][0]["status"] == "processing"  # a processing view is never kept
    clock.advance(5 * US_PER_S)
    pages = every_page()
    assert pages[0]["orders"][0]["status"] == "completed" and every_page() == pages
    assert 0 < len(backend.book.views) <= VIEW_CACHE
    backend.book.views.clear()
    assert every_page() == pages


@pytest.mark.parametrize(
    "n,offset,limit,expected",
    [
        (0, 0, 20, []),
        (5, 0, 20, [4, 3, 2, 1, 0]),
        (5, 2, 2, [2, 1]),
        (5, 4, 10, [0]),
        (5, 5, 10, []),
        (5, 10**18, 1, []),
        (30, 0, 1, [29]),
    ],
)
def test_newest_first(n: int, offset: int, limit: int, expected: list[int]) -> None:
    assert newest_first(list(range(n)), offset, limit) == expected


def test_addresses_in_the_domain() -> None:
    backend, clock = make()
    account = funded(backend)
    a = backend.create_address(account, USDT_CONTRACT, "a", True, clock.now_us())
    b = backend.create_address(account, COLD, "b", True, clock.now_us())
    assert (a.is_default, b.is_default) == (False, True) and account.default_address is b
    with pytest.raises(ApiError) as refused:
        backend.create_address(account, COLD, "again", False, clock.now_us())
    assert refused.value.status == 409
    backend.set_default(account, a.id)
    assert (a.is_default, b.is_default) == (True, False)
    backend.delete_address(account, a.id)
    assert account.default_address is None and list(account.addresses) == [b.id]
    assert backend.create_address(account, USDT_CONTRACT, "c", False, clock.now_us()).id == b.id + 2
    clock.advance(US_PER_S)
    backend.create_order(account, COLD, 65000, 1, clock.now_us())
    assert b.usage_count == 1 and b.last_used_us == T0 + US_PER_S
    other = funded(backend)
    with pytest.raises(ApiError):
        backend.address_of(other, b.id)


def test_fixture_accounts_keys_and_addresses_are_loaded() -> None:
    doc = {
        "accounts": [
            {
                "id": "a", "userId": 2**60, "email": "a@b.co", "createdAt": "2025-01-01T00:00:00Z",
                "balanceSun": 5, "keys": [{"key": "ak_live_" + "A" * 32}],
                "addresses": [{"id": 7, "tronAddress": MAIN_WALLET, "label": "m", "isDefault": True}],
            }
        ]
    }
    backend, clock = make(doc)
    account = backend.accounts["a"]
    assert account.default_address is account.addresses[7]
    assert backend.keys.resolve("ak_live_" + "A" * 32, backend.accounts, clock) is account
    # Address ids share the snowflake sequence: after every fixture id (here userId 2^60).
    assert backend.create_address(account, OTHER, "o", False, clock.now_us()).id == 2**60 + 1
    # New users are issued after the fixture ids, whatever the clock says.
    assert funded(backend).user_id > 2**60


def test_ids_stay_above_2_53_and_inside_int64_at_any_clock() -> None:
    early, clock = make(start=parse_iso("1990-01-01T00:00:00Z"))
    ids = [funded(early).user_id for _ in range(3)]
    assert all(2**53 < i < 2**63 for i in ids) and ids == sorted(set(ids))
    late, clock = make(start=parse_iso("8999-12-31T00:00:00Z"))
    account = funded(late)
    ids = [late.create_order(account, USDT_CONTRACT, 65000, 1, clock.now_us()).id for _ in range(3)]
    assert all(2**53 < i < 2**63 for i in [account.user_id, *ids]) and ids == sorted(set(ids))
    assert tron.snowflake_at(parse_iso("2025-01-15T10:30:00Z") // 1000) > 2**53


def test_default_fixtures_type() -> None:
    assert isinstance(parse({}), UsdtLowFeeFixtures)
    assert parse({}).prices == PRICES and parse({}).fulfilment_delay_us == 5 * US_PER_S


def test_the_domain_does_not_import_starlette() -> None:
    code = (
        "import sys; import emulator.usdtlowfee.service, emulator.usdtlowfee.snapshot;"
        "sys.exit(1 if any(m.split('.')[0] == 'starlette' for m in sys.modules) else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
