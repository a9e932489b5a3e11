"""The USDTLowFee backend: users, wallets, energy orders, saved addresses. No HTTP.

Every method checks everything before it changes anything, so a refused call never
leaves a partial write. Callers hold the emulator lock. Reads that depend on orders
settle the account's due moves first (lazily, each at the instant it was due).
"""

from __future__ import annotations

from typing import Any

from emulator.core.auth import KeyRing
from emulator.core.clock import Clock, clock_of
from emulator.core.errors import LimitError
from emulator.core.events import CONTROL, EventLog
from emulator.core.ids import IdSource
from emulator.core.money import div_ceil

from . import errors, tron
from .account import Account
from .addresses import Address
from .energy import DURATIONS, ENERGY, MAX_ENERGY, MIN_ENERGY, PRICE_UNIT_ENERGY
from .errors import KEY_PREFIX
from .fixtures import MAX_TOTAL_SUN, UsdtLowFeeFixtures
from .format import trx_text
from .ledger import OrderBook
from .orders import EnergyOrder, OrderIndex


class UsdtLowFeeBackend:
    def __init__(self, fixtures: UsdtLowFeeFixtures, clock: Clock, ids: IdSource) -> None:
        self.clock = clock
        self.ids = ids
        self.keys = KeyRing()
        self.accounts: dict[str, Account] = {}
        self.prices: dict[int, int] = dict(fixtures.prices)  # durationHours -> sun per 65000 energy
        self.delay_us = fixtures.fulfilment_delay_us
        self.book = OrderBook(self.delay_us)  # every energy order, a row each
        self.orders = OrderIndex(self.book)  # by id
        self.failing: dict[str, str] = dict(fixtures.failing)  # tronAddress -> failure reason
        self.slow: dict[str, int] = dict(fixtures.slow)  # tronAddress -> its fulfilment delay
        # Users, orders and saved addresses share one snowflake sequence (seed: every id field
        # is an int64 snowflake); new ids never meet a fixture's.
        supplied = [a.user_id for a in fixtures.accounts]
        supplied += [x.id for a in fixtures.accounts for x in a.addresses]
        self.snowflake = tron.SnowflakeIds(max(supplied, default=0))
        for spec in fixtures.accounts:
            account = Account(
                id=spec.id,
                user_id=spec.user_id,
                email=spec.email,
                email_verified=spec.email_verified,
                created_us=spec.created_us,
                balance_sun=spec.balance_sun,
                book=self.book,
                disabled=spec.disabled,
                label=spec.label,
            )
            self._keep_account(account)
            for key in spec.keys:
                self.keys.add(key.key, spec.id, key.expires_us).revoked = key.revoked
            for x in spec.addresses:
                account.add_address(
                    Address(
                        id=x.id,
                        account_id=account.id,
                        tron_address=x.tron_address,
                        label=x.label,
                        created_us=x.created_us,
                        is_default=x.is_default,
                        usage_count=x.usage_count,
                        last_used_us=x.last_used_us,
                    )
                )

    @property
    def events(self) -> EventLog:
        return self.book.events

    @events.setter
    def events(self, log: EventLog) -> None:
        self.book.events = log

    # --- accounts -------------------------------------------------------------------
    def _keep_account(self, account: Account) -> None:
        self.accounts[account.id] = account

    def new_key(self) -> str:
        # SPEC (inferred): 32 letters and digits; the emulator issues lowercase hex.
        return KEY_PREFIX + self.ids.hex(32)

    def create_account(
        self,
        balance_sun: int = 0,
        email: str | None = None,
        disabled: bool = False,
        email_verified: bool = True,
        label: str = "",
        clock: Clock | None = None,
    ) -> tuple[Account, str]:
        now = (clock or self.clock).now_us()
        user_id = self.snowflake.next(now)  # LimitError (ids exhausted) before anything changes
        account_id = "acct_" + self.ids.hex(16)
        while account_id in self.accounts:  # pragma: no cover - 64 random bits
            account_id = "acct_" + self.ids.hex(16)
        account = Account(
            id=account_id,
            user_id=user_id,
            email=email or f"{account_id}@example.com",
            email_verified=email_verified,
            created_us=now,
            balance_sun=balance_sun,
            book=self.book,
            disabled=disabled,
            label=label,
            clock=clock,
        )
        self._keep_account(account)
        key = self.new_key()
        self.keys.add(key, account.id)
        return account, key

    def set_balance(self, account: Account, balance_sun: int) -> None:
        """The control plane's balanceSun (the available balance; frozen stays with its
        orders), settled to now first. LimitError when totalSun would pass int64: a
        processing order that fails gives its frozen price back to the balance."""
        now_us = clock_of(account, self.clock).now_us()
        account.settle(now_us)
        if balance_sun > MAX_TOTAL_SUN - account.frozen_sun:
            raise LimitError(
                "balanceSun",
                f"must be at most {MAX_TOTAL_SUN - account.frozen_sun}: with the {account.frozen_sun} sun"
                f" its processing orders hold (frozenSun) totalSun must stay at most {MAX_TOTAL_SUN}",
            )
        if balance_sun != account.balance_sun:
            account.balance_sun = balance_sun
            account.balance_changed(now_us, CONTROL)

    def _next_id(self, now_us: int) -> int:
        try:
            return self.snowflake.next(now_us)
        except LimitError as exc:
            message = f"no id is left: the int64 id sequence is exhausted (lastId {exc.reason})"
            raise errors.conflict(message) from None

    def balance(self, account: Account, now_us: int) -> dict[str, int]:
        account.settle(now_us)
        return account.wallet()

    def me(self, account: Account) -> dict[str, Any]:
        return account.me()

    # --- energy orders --------------------------------------------------------------
    def price(self, energy_value: int, duration_hours: int) -> int:
        """priceSun = ceil(energyValue × table[durationHours] / 65000) (SPEC, inferred)."""
        return div_ceil(energy_value * self.prices[duration_hours], PRICE_UNIT_ENERGY)

    def create_order(
        self, account: Account, tron_address: str, energy_value: int, duration_hours: int, now_us: int
    ) -> EnergyOrder:
        # The routes validate first; these guard direct (domain) callers.
        if not tron.is_address(tron_address):
            raise errors.validation("data.tronAddress", tron.INVALID)
        if not MIN_ENERGY <= energy_value <= MAX_ENERGY:
            raise errors.validation("data.energyValue", f"must be {MIN_ENERGY} to {MAX_ENERGY}")
        if duration_hours not in DURATIONS:
            raise errors.validation("data.durationHours", f"must be one of {DURATIONS}")
        account.settle(now_us)  # a failed order's refund may be what pays for this one
        price = self.price(energy_value, duration_hours)
        if account.balance_sun < price:
            raise errors.insufficient_balance(price, account.balance_sun)
        row = self.book.add(
            self._next_id(now_us),
            account.slot,
            tron_address,
            energy_value,
            duration_hours,
            price,
            now_us,
            self.ids.hex(64),  # drawn at creation so it does not depend on when the order is read
            self.failing.get(tron_address),
            self.slow.get(tron_address) if self.slow else None,
        )
        account.add_order(row)
        account.record_use(tron_address, now_us)
        return EnergyOrder(self.book, row)

    def order_of(self, account: Account, order_id: int, now_us: int) -> EnergyOrder:
        """The caller's own order, settled to now; anything else is 404."""
        book = self.book
        row = book.find(order_id)
        if row is None or book.account[row] != account.slot:
            raise errors.not_found("Energy order")
        account.settle(now_us)
        return EnergyOrder(book, row)

    def list_orders(
        self, account: Account, now_us: int, offset: int = 0, limit: int = 20, status: str | None = None
    ) -> dict[str, Any]:
        account.settle(now_us)
        rows, total = account.page(offset, limit, status)
        view = self.book.view
        return {"orders": [view(row) for row in rows], "total": total, "offset": offset, "limit": limit}

    def force(self, order_id: int, target: str, reason: str | None = None) -> EnergyOrder:
        """The control plane's transition: due moves first, then the forced one, now."""
        row = self.book.find(order_id)
        if row is None:
            raise KeyError(order_id)
        order = EnergyOrder(self.book, row)
        account = order.account
        now_us = clock_of(account, self.clock).now_us()
        account.settle(now_us)
        ENERGY.check(order.status, target)  # TransitionError, unknown targets included
        if reason is not None and target != "failed":
            raise ValueError("reason is only for a move to failed")
        account.move(order, target, now_us, reason)
        return order

    # --- natural moves to come (clock advances `until`) ------------------------------
    def next_due(self, account: Account | None = None) -> int | None:
        """The instant of the next natural move still to be applied (it may be past, when
        no read has applied it yet): of `account`, else of every account on the emulator
        clock. O(1) per account: the head of its queue and of its heap."""
        if account is not None:
            return account.next_due()
        dues = [d for a in self.accounts.values() if a.clock is None and (d := a.next_due()) is not None]
        return min(dues, default=None)

    def settle_until(self, t_us: int, account: Account | None = None) -> None:
        """Apply every natural move due by `t_us` (of `account`, else of every account on
        the emulator clock), each at its own instant; the event log reports each."""
        for each in (account,) if account is not None else self.accounts.values():
            if each is not None and (account is not None or each.clock is None):
                due = each.next_due()
                if due is not None and due <= t_us:
                    each.settle(t_us)

    def view(self, order: EnergyOrder) -> dict[str, Any]:
        account = order.account
        account.settle(clock_of(account, self.clock).now_us())
        return order.view()

    # --- saved addresses ------------------------------------------------------------
    def create_address(
        self, account: Account, tron_address: str, label: str, is_default: bool, now_us: int
    ) -> Address:
        if tron_address in account.address_by_tron:
            raise errors.conflict(f"Address {tron_address} is already saved")
        address = Address(self._next_id(now_us), account.id, tron_address, label, now_us, is_default)
        account.add_address(address)
        return address

    def addresses(self, account: Account) -> dict[str, Any]:
        views = [a.view() for a in account.addresses.values()]
        return {"addresses": views, "total": len(views)}

    def address_of(self, account: Account, address_id: int) -> Address:
        address = account.addresses.get(address_id)
        if address is None:
            raise errors.not_found("Address")
        return address

    def set_label(self, account: Account, address_id: int, label: str) -> Address:
        address = self.address_of(account, address_id)
        address.label = label
        return address

    def set_default(self, account: Account, address_id: int) -> None:
        account.make_default(self.address_of(account, address_id))

    def delete_address(self, account: Account, address_id: int) -> None:
        account.remove_address(self.address_of(account, address_id))

    # --- banner -----------------------------------------------------------------------
    def ready_keys(self) -> list[tuple[str, str, str]]:
        """(account id, what it holds, key) for every usable fixture key, for the banner."""
        rows = []
        for record in self.keys.live(self.accounts, self.clock):
            account = self.accounts[record.account_id]
            if not account.disabled:
                rows.append((account.id, trx_text(account.balance_sun), record.key))
        return rows

