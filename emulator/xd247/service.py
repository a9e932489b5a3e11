"""The 247xd backend: accounts, catalog, orders, balances, refunds. No HTTP.

Every method checks everything before it changes anything, so a refused call
never leaves a partial write. Callers hold the emulator lock.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from heapq import heapify, heappop, heappush, heapreplace
from typing import Any

from emulator.core.auth import KeyRing
from emulator.core.clock import Clock, clock_of
from emulator.core.errors import LimitError
from emulator.core.events import BALANCE, CONTROL, CREATED, FORCED, REQUEST, EventLog
from emulator.core.ids import IdSource
from emulator.core.money import coins, div_half_up
from emulator.core.statemachine import StateMachine, TransitionError

from . import errors
from .account import Account
from .catalog import CatalogItem, PremiumService, PriceOption, SocialOption
from .errors import KEY_PREFIX
from .fixtures import MAX_COINS, Xd247Fixtures
from .ledger import OTP_KIND, PREMIUM_KIND, SOCIAL_KIND, OrderBook, SocialDelivery
from .orders import NOT_REFUNDED, VIEWS, Order, OtpOrder, PremiumOrder, SocialOrder

OTP_CODE_RE = re.compile(r"[0-9]{4,8}")
API = "247xd"
# A due-heap entry is one int, `due_us << ROW_BITS | order number`: a tuple would cost ~3x.
ROW_BITS = 32
ROW_MASK = (1 << ROW_BITS) - 1


def _may_refund(machine: StateMachine) -> bytes:
    """By status index: 1 where `refunded` can still be reached."""
    reach = {"refunded"}
    grew = True
    while grew:
        before = len(reach)
        reach |= {s for s, targets in machine.table.items() if reach.intersection(targets)}
        grew = len(reach) > before
    return bytes(s in reach and s != "refunded" for s in machine.statuses)


# By a row's kind, then its status index.
MAY_REFUND = tuple(_may_refund(view.machine) for view in VIEWS)


class Xd247Backend:
    def __init__(self, fixtures: Xd247Fixtures, clock: Clock, ids: IdSource) -> None:
        self.clock = clock
        self.ids = ids
        self.keys = KeyRing()
        self.accounts: dict[str, Account] = {}
        self.account_list: list[Account] = []  # by Account.number
        price_options = [o for s in fixtures.otp for o in s.price_options]
        social_options = [o for s in fixtures.social for o in s.options]
        kinds: tuple[Sequence[CatalogItem], ...] = (price_options, social_options, fixtures.premium)
        for items in kinds:
            for number, item in enumerate(items):
                item.number = number
        self.orders = OrderBook(ids, self.account_list, price_options, social_options, fixtures.premium)
        self.otp_services = fixtures.otp
        self.social_services = fixtures.social
        self.premium_services = fixtures.premium
        self.price_options: dict[str, tuple[str, PriceOption]] = {
            o.id: (s.id, o) for s in fixtures.otp for o in s.price_options
        }
        self.social_options: dict[str, tuple[str, SocialOption]] = {
            o.id: (s.id, o) for s in fixtures.social for o in s.options
        }
        self.premium: dict[str, PremiumService] = {s.id: s for s in fixtures.premium}
        self.magic_links = fixtures.magic_links  # link -> (outcome, deliveredPercent)
        # The natural moves still to come of orders on the emulator clock, built on first
        # use (a clock advance `until`), then kept up at creation; entries go stale when a
        # read or the control plane moves an order, and are checked as they surface.
        self.due_heap: list[int] | None = None
        for spec in fixtures.accounts:
            self._add_account(Account(spec.id, spec.coins, spec.banned, spec.label))
            for key in spec.keys:
                self.keys.add(key.key, spec.id, key.expires_us).revoked = key.revoked

    @property
    def events(self) -> EventLog:
        return self.orders.events

    @events.setter
    def events(self, log: EventLog) -> None:
        self.orders.events = log

    # --- accounts -------------------------------------------------------------------
    def _add_account(self, account: Account) -> Account:
        account.number = len(self.account_list)
        self.account_list.append(account)
        self.accounts[account.id] = account
        return account

    def new_key(self) -> str:
        return KEY_PREFIX + self.ids.hex(40)

    def create_account(
        self, coins_h: int, banned: bool = False, label: str = "", clock: Clock | None = None
    ) -> tuple[Account, str]:
        account = self._add_account(Account("acct_" + self.ids.hex(16), coins_h, banned, label, clock))
        key = self.new_key()
        self.keys.add(key, account.id)
        return account, key

    def refundable(self, account: Account) -> int:
        """The most the account's orders could still refund (their prices; an order whose
        table can still reach refunded counts whole): coins plus this stay within MAX_COINS,
        so no refund, client or forced, can take coins past what the document accepts."""
        book = self.orders
        kind, status, price, refunded = book.kind, book.status, book.price, book.refunded
        return sum(
            price[n]
            for n in account.orders
            if refunded[n] == NOT_REFUNDED and MAY_REFUND[kind[n]][status[n]]
        )

    def set_coins(self, account: Account, amount: int) -> None:
        """The control plane's coins; LimitError when they and what the account's orders
        could still refund would pass MAX_COINS."""
        room = MAX_COINS - self.refundable(account)
        if amount > room:
            raise LimitError(
                "coins",
                f"must be at most {coins(max(room, 0))}: its orders could still refund"
                f" {coins(MAX_COINS - room)} and coins must stay at most {coins(MAX_COINS)}",
            )
        if amount != account.coins:
            change = amount - account.coins
            account.coins = amount
            self.coins_changed(account, change, clock_of(account, self.clock).now_us(), CONTROL)

    def balance(self, account: Account) -> dict[str, Any]:
        return {"coins": coins(account.coins)}

    # --- catalog ----------------------------------------------------------------------
    def otp_catalog(self) -> list[dict[str, Any]]:
        return [s.view() for s in self.otp_services]

    def social_catalog(self) -> list[dict[str, Any]]:
        return [s.view() for s in self.social_services]

    def premium_catalog(self) -> list[dict[str, Any]]:
        return [s.view() for s in self.premium_services]

    def catalog_item(self, item_id: str) -> CatalogItem | None:
        """A price option, social option or premium service: what has a price."""
        found = self.price_options.get(item_id) or self.social_options.get(item_id)
        return found[1] if found is not None else self.premium.get(item_id)

    def patch_item(
        self, item: CatalogItem, price: int | None, stock: int | None
    ) -> dict[str, Any]:
        """The control plane's price and stock. Orders keep the price they were made at.
        A social option's price is its pricePer1000; it has no stock (ValueError)."""
        if isinstance(item, SocialOption):
            if stock is not None:
                raise ValueError("stock: a social option has no stock")
            if price is not None:
                item.price_per_1000 = price
        else:
            if price is not None:
                item.price = price
            if stock is not None:
                item.stock = stock
        return item.view()

    # --- orders -----------------------------------------------------------------------
    def _debit(self, account: Account, amount: int) -> None:
        if account.coins < amount:
            raise errors.insufficient_coins()
        account.coins -= amount

    def _created(self, account: Account, order: Order, now_us: int) -> None:
        """What a creation tells the event log, and the due heap (once it is kept)."""
        book = self.orders
        emit = book.events.emit
        n = order.n  # the event log shows book.order_uuid(n) when read
        account_id = account.id
        created = {"orderId": n, "type": order.kind, "status": order.status}
        emit(API, account_id, CREATED, created, now_us, "", book.order_uuid)
        # coins(), inlined: this is on every creation's path.
        balance = {"coins": account.coins / 100, "change": -order.price / 100, "orderId": n}
        emit(API, account_id, BALANCE, balance, now_us, REQUEST, book.order_uuid)
        heap = self.due_heap
        if heap is not None and account.clock is None:
            due = order.due_us()
            if due is not None:
                heappush(heap, due << ROW_BITS | order.n)

    def coins_changed(
        self, account: Account, change: int, at_us: int, cause: str, order: int | None = None
    ) -> None:
        """`order`: the number of the order the change is for, if any."""
        data: dict[str, Any] = {"coins": coins(account.coins), "change": coins(change)}
        uuid = None
        if order is not None:
            data["orderId"] = order
            uuid = self.orders.order_uuid
        self.orders.events.emit(API, account.id, BALANCE, data, at_us, cause, uuid)

    def order_of(self, account: Account, kind: str, order_id: str, now_us: int) -> Order:
        """The caller's own order of that kind, settled to now; anything else is 404."""
        book = self.orders
        n = book.number_of(order_id)
        if n is None or book.account[n] != account.number:
            raise errors.not_found()
        order = book.view(n)
        if order.kind != kind:
            raise errors.not_found()
        order.settle(now_us)
        return order

    def create_otp_order(
        self, account: Account, service_id: str, option_id: str, now_us: int
    ) -> OtpOrder:
        found = self.price_options.get(option_id)
        if found is None or found[0] != service_id:
            raise errors.not_found()
        option = found[1]
        if option.stock <= 0:
            raise errors.out_of_stock()
        self._debit(account, option.price)
        option.stock -= 1
        phone = option.phone_number(self.ids.faker_random)
        n = self.orders.add(OTP_KIND, account, option, option.price, now_us, phone)
        order = OtpOrder(self.orders, n)
        self._created(account, order, now_us)
        return order

    def cancel_otp(self, account: Account, order_id: str, now_us: int) -> OtpOrder:
        order = self.order_of(account, "otp", order_id, now_us)
        assert isinstance(order, OtpOrder)
        if not order.machine.can(order.status, "cancelled"):
            raise errors.status_forbids("ยกเลิก", order.status)
        self._move(order, "cancelled", now_us, REQUEST)
        return order

    def refund(self, account: Account, kind: str, order_id: str, now_us: int) -> Order:
        order = self.order_of(account, kind, order_id, now_us)
        if not order.machine.can(order.status, "refunded"):
            raise errors.status_forbids("คืนเงิน", order.status)
        self._move(order, "refunded", now_us, REQUEST)
        return order

    def create_social_order(
        self, account: Account, option_id: str, link: str, quantity: int, now_us: int
    ) -> SocialOrder:
        found = self.social_options.get(option_id)
        if found is None:
            raise errors.not_found()
        service_id, option = found
        if not option.min <= quantity <= option.max:
            raise errors.validation("quantity", f"ต้องอยู่ระหว่าง {option.min} ถึง {option.max}")
        price = div_half_up(option.price_per_1000 * quantity, 1000)
        self._debit(account, price)
        n = self.orders.add(SOCIAL_KIND, account, option, price, now_us)
        delivery = self.orders.deliveries[n] = SocialDelivery(
            link=link,
            quantity=quantity,
            start_count=self.ids.randint(0, 50_000),
            start_us=now_us + option.start_delay_us,
            per_minute=option.per_minute,
        )
        magic = self.magic_links.get(link)
        if magic is not None:
            delivery.outcome = magic[0]
            delivery.stop_at = quantity * magic[1] // 100
        order = SocialOrder(self.orders, n)
        self._created(account, order, now_us)
        return order

    def create_premium_order(self, account: Account, service_id: str, now_us: int) -> PremiumOrder:
        service = self.premium.get(service_id)
        if service is None:
            raise errors.not_found()
        if service.stock <= 0:
            raise errors.out_of_stock()
        self._debit(account, service.price)
        service.stock -= 1
        n = self.orders.add(PREMIUM_KIND, account, service, service.price, now_us)
        self.orders.credentials[n] = self._credentials(service)
        order = PremiumOrder(self.orders, n)
        self._created(account, order, now_us)
        return order

    def _credentials(self, service: PremiumService) -> dict[str, str]:
        fake = self.ids.faker
        made = {
            "email": lambda: fake.free_email(),
            "username": lambda: fake.user_name(),
            "password": lambda: fake.password(length=12, special_chars=False),
            "pin": lambda: fake.numerify("####"),
            "profile": lambda: fake.first_name(),
        }
        return {name: made[name]() for name in service.credential_fields}

    # --- moves ------------------------------------------------------------------------
    def _move(self, order: Order, target: str, now_us: int, cause: str, **extra: Any) -> None:
        """One move of the order's table with its side effects, exactly once."""
        old = order.status
        order.machine.check(old, target)
        if isinstance(order, OtpOrder):
            if target == "completed" and extra.get("otpCode"):
                order.otp_code = extra["otpCode"]
        elif isinstance(order, SocialOrder):
            social = order.delivery
            if target == "processing":
                social.start_us = now_us
            elif target == "completed":
                social.delivered_final = social.quantity
            elif target in ("partial", "cancelled"):
                delivered = extra.get("delivered")
                social.delivered_final = order.delivered(now_us) if delivered is None else delivered
        if target == "refunded":
            assert not isinstance(order, PremiumOrder)  # its table has no refunded
            amount = order.refund_amount()
            account = self.accounts[order.account_id]
            account.coins += amount
            order.refunded_amount = amount
        order.status = target
        order.updated_us = now_us
        book = self.orders
        book.events.transition(API, order.account_id, order.n, old, target, now_us, cause, book.order_uuid)
        if target == "refunded":
            self.coins_changed(account, amount, now_us, cause, order.n)

    def force(self, order_id: str, target: str, extra: dict[str, Any]) -> Order:
        """The control plane's transition: due moves first, then the forced one."""
        order = self.orders[order_id]  # KeyError: no such order
        now_us = clock_of(self.accounts[order.account_id], self.clock).now_us()
        order.settle(now_us)
        if target not in order.machine.table:
            raise TransitionError(order.machine.name, order.status, target)
        order.machine.check(order.status, target)
        if isinstance(order, OtpOrder) and target == "completed" and "otpCode" in extra:
            code = extra["otpCode"]
            if not isinstance(code, str) or OTP_CODE_RE.fullmatch(code) is None:
                raise ValueError("otpCode must be a string of 4 to 8 digits")
        # _move reads `delivered` for both moves that stop delivery short.
        if isinstance(order, SocialOrder) and target in ("partial", "cancelled") and "delivered" in extra:
            delivered = extra["delivered"]
            if isinstance(delivered, bool) or not isinstance(delivered, int):
                raise ValueError("delivered must be an integer")
            if not 0 <= delivered < order.quantity:
                raise ValueError(f"delivered must be 0 to {order.quantity - 1} for a {target} order")
        self._move(order, target, now_us, FORCED, **extra)
        heap = self.due_heap
        due = order.due_us()
        if heap is not None and due is not None and self.accounts[order.account_id].clock is None:
            heappush(heap, due << ROW_BITS | order.n)  # it may now come due sooner than its entry says
        return order

    # --- natural moves to come (clock advances `until`) ------------------------------
    def _heap(self) -> list[int]:
        heap = self.due_heap
        if heap is None:
            book = self.orders
            own = {a.number for a in self.account_list if a.clock is not None}
            kinds, status, owner, item = book.kind, book.status, book.account, book.item
            created, options = book.created, book.price_options
            heap = []
            for n in range(len(kinds)):
                kind = kinds[n]
                # Only waiting_sms (OTP) and pending/processing (social) move by themselves.
                if kind == PREMIUM_KIND or status[n] > (0 if kind == OTP_KIND else 1):
                    continue
                if own and owner[n] in own:
                    continue
                if kind == OTP_KIND:  # OtpOrder.due_us, without a view per order
                    option = options[item[n]]
                    sms, expires = option.sms_delay_us, option.expires_us
                    due: int | None = created[n] + (sms if sms is not None and sms < expires else expires)
                else:
                    due = book.view(n).due_us()
                if due is not None:
                    heap.append(due << ROW_BITS | n)
            heapify(heap)
            self.due_heap = heap
        return heap

    def next_due(self, account: Account | None = None) -> int | None:
        """The instant of the next natural move still to be applied (it may be past, when
        no read has applied it yet): of `account`'s orders, else of every order on the
        emulator clock. Costs O(log n) per stale entry met; for one account, its orders."""
        if account is not None:
            book = self.orders
            dues = [d for n in account.orders if (d := book.view(n).due_us()) is not None]
            return min(dues, default=None)
        heap = self._heap()
        book = self.orders
        while heap:
            top = heap[0]
            due = book.view(top & ROW_MASK).due_us()
            if due is None:
                heappop(heap)
            elif due != top >> ROW_BITS:
                heapreplace(heap, due << ROW_BITS | (top & ROW_MASK))
            else:
                return due
        return None

    def settle_until(self, t_us: int, account: Account | None = None) -> None:
        """Apply every natural move due by `t_us` (of `account`, else of every order on the
        emulator clock), each at its own instant; the event log reports each."""
        book = self.orders
        if account is not None:
            for n in account.orders:
                order = book.view(n)
                due = order.due_us()
                if due is not None and due <= t_us:
                    order.settle(t_us)
            return
        heap = self._heap()
        while heap and heap[0] >> ROW_BITS <= t_us:
            n = heap[0] & ROW_MASK
            order = book.view(n)
            order.settle(t_us)
            due = order.due_us()
            if due is None:
                heappop(heap)
            else:  # stale, or a further move still to come
                heapreplace(heap, due << ROW_BITS | n)

    def view(self, order: Order) -> dict[str, Any]:
        now_us = clock_of(self.accounts[order.account_id], self.clock).now_us()
        order.settle(now_us)
        return order.view(now_us)

    def ready_keys(self) -> list[tuple[str, str, str]]:
        """(account id, what it holds, key) for every usable fixture key, for the banner."""
        rows = []
        for record in self.keys.live(self.accounts, self.clock):
            account = self.accounts[record.account_id]
            if not account.banned:
                rows.append((account.id, f"{coins(account.coins)} coins", record.key))
        return rows
