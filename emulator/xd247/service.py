"""The 247xd backend: accounts, catalog, orders, balances, refunds. No HTTP.

Every method checks everything before it changes anything, so a refused call
never leaves a partial write. Callers hold the emulator lock.
"""

from __future__ import annotations

import re
from typing import Any

from emulator.core.auth import KeyRing
from emulator.core.clock import Clock
from emulator.core.ids import IdSource
from emulator.core.money import coins, div_half_up
from emulator.core.statemachine import TransitionError

from . import errors
from .catalog import Xd247Fixtures
from .models import (
    Account,
    Order,
    OtpOrder,
    PremiumOrder,
    PremiumService,
    PriceOption,
    SocialOption,
    SocialOrder,
)

LINK_RE = re.compile(r"https?://[^\s/$.?#][^\s]*", re.IGNORECASE)
OTP_CODE_RE = re.compile(r"[0-9]{4,8}")


class Xd247Backend:
    def __init__(self, fixtures: Xd247Fixtures, clock: Clock, ids: IdSource) -> None:
        self.clock = clock
        self.ids = ids
        self.keys = KeyRing()
        self.accounts: dict[str, Account] = {}
        self.orders: dict[str, Order] = {}
        self.otp_services = fixtures.otp
        self.social_services = fixtures.social
        self.premium_services = fixtures.premium
        self.price_options: dict[str, tuple[str, PriceOption]] = {
            o.id: (s.id, o) for s in fixtures.otp for o in s.price_options
        }
        self.otp_expiry = {s.id: s.expires_us for s in fixtures.otp}
        self.social_options: dict[str, tuple[str, SocialOption]] = {
            o.id: (s.id, o) for s in fixtures.social for o in s.options
        }
        self.premium: dict[str, PremiumService] = {s.id: s for s in fixtures.premium}
        for spec in fixtures.accounts:
            self.accounts[spec.id] = Account(spec.id, spec.coins, spec.banned, spec.label)
            for key in spec.keys:
                self.keys.add(key.key, spec.id, key.expires_us).revoked = key.revoked

    # --- accounts -------------------------------------------------------------------
    def clock_of(self, account: Account) -> Clock:
        return account.clock or self.clock

    def new_key(self) -> str:
        return "247xd_" + self.ids.hex(40)

    def create_account(
        self, coins_h: int, banned: bool = False, label: str = "", clock: Clock | None = None
    ) -> tuple[Account, str]:
        account = Account("acct_" + self.ids.hex(16), coins_h, banned, label, clock)
        self.accounts[account.id] = account
        key = self.new_key()
        self.keys.add(key, account.id)
        return account, key

    def balance(self, account: Account) -> dict[str, Any]:
        return {"coins": coins(account.coins)}

    # --- catalog ----------------------------------------------------------------------
    def otp_catalog(self) -> list[dict[str, Any]]:
        return [s.view() for s in self.otp_services]

    def social_catalog(self) -> list[dict[str, Any]]:
        return [s.view() for s in self.social_services]

    def premium_catalog(self) -> list[dict[str, Any]]:
        return [s.view() for s in self.premium_services]

    # --- orders -----------------------------------------------------------------------
    def _debit(self, account: Account, amount: int) -> None:
        if account.coins < amount:
            raise errors.insufficient_coins()
        account.coins -= amount

    def _keep(self, account: Account, order: Order) -> None:
        self.orders[order.id] = order
        account.order_ids.append(order.id)

    def order_of(self, account: Account, kind: str, order_id: str, now_us: int) -> Order:
        """The caller's own order of that kind, settled to now; anything else is 404."""
        order = self.orders.get(order_id)
        if order is None or order.account_id != account.id or order.kind != kind:
            raise errors.not_found()
        order.settle(now_us)
        return order

    def create_otp_order(
        self, account: Account, service_id: str, option_id: str, now_us: int
    ) -> OtpOrder:
        found = self.price_options.get(option_id)
        if service_id not in self.otp_expiry or found is None or found[0] != service_id:
            raise errors.not_found()
        option = found[1]
        if option.stock <= 0:
            raise errors.out_of_stock()
        self._debit(account, option.price)
        option.stock -= 1
        fake = self.ids.faker
        order = OtpOrder(
            id=self.ids.uuid(),
            account_id=account.id,
            service_id=service_id,
            price_option_id=option_id,
            phone_number=fake.numerify(option.phone_pattern),
            price=option.price,
            created_us=now_us,
            expires_us=now_us + self.otp_expiry[service_id],
            sms_us=None if option.sms_delay_us is None else now_us + option.sms_delay_us,
            otp_code=self.ids.digits(6),
            updated_us=now_us,
        )
        self._keep(account, order)
        return order

    def cancel_otp(self, account: Account, order_id: str, now_us: int) -> OtpOrder:
        order = self.order_of(account, "otp", order_id, now_us)
        assert isinstance(order, OtpOrder)
        if not order.machine.can(order.status, "cancelled"):
            raise errors.status_forbids("ยกเลิก", order.status)
        self._move(order, "cancelled", now_us)
        return order

    def refund(self, account: Account, kind: str, order_id: str, now_us: int) -> Order:
        order = self.order_of(account, kind, order_id, now_us)
        if not order.machine.can(order.status, "refunded"):
            raise errors.status_forbids("คืนเงิน", order.status)
        self._move(order, "refunded", now_us)
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
        order = SocialOrder(
            id=self.ids.uuid(),
            account_id=account.id,
            service_id=service_id,
            option_id=option_id,
            link=link,
            quantity=quantity,
            price=price,
            start_count=self.ids.randint(0, 50_000),
            created_us=now_us,
            start_us=now_us + option.start_delay_us,
            per_minute=option.per_minute,
            updated_us=now_us,
        )
        self._keep(account, order)
        return order

    def create_premium_order(self, account: Account, service_id: str, now_us: int) -> PremiumOrder:
        service = self.premium.get(service_id)
        if service is None:
            raise errors.not_found()
        if service.stock <= 0:
            raise errors.out_of_stock()
        self._debit(account, service.price)
        service.stock -= 1
        order = PremiumOrder(
            id=self.ids.uuid(),
            account_id=account.id,
            service_id=service_id,
            price=service.price,
            credentials=self._credentials(service),
            created_us=now_us,
            updated_us=now_us,
        )
        self._keep(account, order)
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
    def _move(self, order: Order, target: str, now_us: int, **extra: Any) -> None:
        """One move of the order's table with its side effects, exactly once."""
        order.machine.check(order.status, target)
        if isinstance(order, OtpOrder):
            if target == "completed":
                order.otp_code = extra.get("otpCode") or order.otp_code
        elif isinstance(order, SocialOrder):
            if target == "processing":
                order.start_us = now_us
            elif target == "completed":
                order.delivered_final = order.quantity
            elif target in ("partial", "cancelled"):
                delivered = extra.get("delivered")
                order.delivered_final = order.delivered(now_us) if delivered is None else delivered
        if target == "refunded":
            assert not isinstance(order, PremiumOrder)  # its table has no refunded
            amount = order.refund_amount()
            self.accounts[order.account_id].coins += amount
            order.refunded_amount = amount
        order.status = target
        order.updated_us = now_us

    def force(self, order_id: str, target: str, extra: dict[str, Any]) -> Order:
        """The control plane's transition: due moves first, then the forced one."""
        order = self.orders.get(order_id)
        if order is None:
            raise KeyError(order_id)
        now_us = self.clock_of(self.accounts[order.account_id]).now_us()
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
        self._move(order, target, now_us, **extra)
        return order

    def view(self, order: Order) -> dict[str, Any]:
        now_us = self.clock_of(self.accounts[order.account_id]).now_us()
        order.settle(now_us)
        return order.view(now_us)

    def ready_keys(self) -> list[tuple[str, str, str]]:
        """(account id, what it holds, key) for every usable fixture key, for the banner."""
        now = self.clock.now_us()
        rows = []
        for record in self.keys.records.values():
            account = self.accounts[record.account_id]
            if self.keys.resolve(record.key, now) is None or account.banned:
                continue
            rows.append((account.id, f"{coins(account.coins)} coins", record.key))
        return rows
