"""A stateful property test of the backend: random orders, time and forced moves keep the books."""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from emulator.core.clock import US_PER_S, Clock, parse_iso
from emulator.core.errors import ApiError
from emulator.core.ids import IdSource
from emulator.core.statemachine import TransitionError
from emulator.usdtlowfee.energy import DURATIONS, ENERGY, STATUSES
from emulator.usdtlowfee.fixtures import parse
from emulator.usdtlowfee.service import UsdtLowFeeBackend

from .support import FAILING, USDT_CONTRACT

INITIAL = 200_000_000


class Books(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.clock = Clock(parse_iso("2025-01-15T10:30:00Z"), frozen=True)
        fixtures = parse({"failingAddresses": [{"tronAddress": FAILING}], "fulfilmentDelaySeconds": 5})
        self.backend = UsdtLowFeeBackend(fixtures, self.clock, IdSource(11))
        self.account = self.backend.create_account(INITIAL)[0]
        self.other = self.backend.create_account(INITIAL)[0]
        self.forced: set[int] = set()

    @rule(
        failing=st.booleans(),
        energy=st.integers(32_000, 2_000_000),
        hours=st.sampled_from(DURATIONS),
    )
    def create(self, failing: bool, energy: int, hours: int) -> None:
        count = len(self.account.orders)
        price = self.backend.price(energy, hours)
        try:
            order = self.backend.create_order(
                self.account, FAILING if failing else USDT_CONTRACT, energy, hours, self.clock.now_us()
            )
        except ApiError as exc:
            assert exc.code == "INSUFFICIENT_BALANCE"
            assert self.account.balance_sun < price
            assert len(self.account.orders) == count  # refused whole (settling may have refunded)
            return
        assert order.price_sun == price and order.status == "processing"

    @rule(us=st.integers(0, 8 * US_PER_S))
    def advance(self, us: int) -> None:
        self.clock.advance(us)

    @rule(index=st.integers(0, 10**6), to=st.sampled_from([*STATUSES, "bogus"]))
    def force(self, index: int, to: str) -> None:
        target = to  # ("target" is a reserved keyword of @rule)
        if not self.account.orders:
            return
        order = self.account.orders[index % len(self.account.orders)]
        self.account.settle(self.clock.now_us())
        allowed = ENERGY.can(order.status, target)
        try:
            self.backend.force(order.id, target)
        except TransitionError:
            assert not allowed
            return
        assert allowed and order.status == target
        self.forced.add(order.id)

    @rule(offset=st.integers(0, 60), limit=st.integers(1, 100), status=st.sampled_from([None, *STATUSES]))
    def page(self, offset: int, limit: int, status: str | None) -> None:
        data = self.backend.list_orders(self.account, self.clock.now_us(), offset, limit, status)
        matching = [o for o in self.account.orders if status is None or o.status == status]
        expected = [o.id for o in sorted(matching, key=lambda o: -o.id)][offset : offset + limit]
        assert [o["id"] for o in data["orders"]] == expected
        assert data["total"] == len(matching)

    @invariant()
    def books_balance(self) -> None:
        if not hasattr(self, "account"):
            return
        account = self.account
        account.settle(self.clock.now_us())
        now = self.clock.now_us()
        spent = sum(o.price_sun for o in account.orders if o.status == "completed")
        frozen = sum(o.price_sun for o in account.orders if o.status == "processing")
        assert account.frozen_sun == frozen
        assert account.balance_sun + account.frozen_sun + spent == INITIAL
        assert account.balance_sun >= 0
        for order in account.orders:
            assert order.view()["canTransitionTo"] == list(ENERGY.allowed(order.status))
            if order.status == "processing":
                assert order.due_us > now  # nothing due is left unsettled
            elif order.id not in self.forced:  # natural moves carry their due instant
                assert order.status_updated_us == order.due_us
                assert (order.status == "failed") == (order.tron_address == FAILING)
        for status in STATUSES:
            ids = [o.id for o in account.with_status(status)]
            assert ids == sorted(ids) and all(self.backend.orders[i].status == status for i in ids)
        # The other account is never touched.
        assert (self.other.balance_sun, self.other.frozen_sun, self.other.orders) == (INITIAL, 0, [])


Books.TestCase.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
TestBooks = Books.TestCase
