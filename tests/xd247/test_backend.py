"""The 247xd backend driven directly, without HTTP: orders, the clock, money, refunds."""

from __future__ import annotations

import re

import pytest

from emulator.core.clock import US_PER_S, iso_ms, parse_iso
from emulator.core.errors import ApiError
from emulator.core.money import div_half_up
from emulator.core.statemachine import TransitionError
from emulator.runtime import Emulator
from emulator.xd247.lifecycles import OTP, PREMIUM, SOCIAL
from emulator.xd247.orders import OtpOrder, SocialOrder
from emulator.xd247.service import Xd247Backend

from .support import (
    CHATGPT,
    DEMO,
    EMPTY,
    FB_LIKES,
    LINE,
    LINE_AIS,
    NETFLIX,
    OTP_AT_ONCE,
    OTP_NEVER,
    OTP_SOLD_OUT,
    OTP_TEST_SERVICE,
    PREMIUM_SOLD_OUT,
    RICH,
    SOCIAL_FAST,
    SOCIAL_NEVER,
    SOCIAL_TEST_SERVICE,
    TIKTOK_VIEWS,
    UNKNOWN_UUID,
    account_of,
    snapshot,
)

MINUTE = 60 * US_PER_S


@pytest.fixture
def backend(emu: Emulator) -> Xd247Backend:
    return emu.xd247


def now(emu: Emulator) -> int:
    return emu.clock.now_us()


def refused(call, status: int, code: str) -> ApiError:  # type: ignore[no-untyped-def]
    with pytest.raises(ApiError) as info:
        call()
    assert (info.value.status, info.value.code) == (status, code)
    return info.value


# --- accounts and catalog -------------------------------------------------------------


def test_fixture_accounts_hold_their_coins_and_fixed_keys(emu: Emulator, backend: Xd247Backend) -> None:
    assert backend.balance(account_of(emu, DEMO)) == {"coins": 500.0}
    assert backend.balance(account_of(emu, RICH)) == {"coins": 100000.0}
    assert backend.balance(account_of(emu, EMPTY)) == {"coins": 0.0}
    assert account_of(emu, DEMO).id == "xd-demo"


def test_created_accounts_get_a_fresh_key_of_the_vendor_shape(emu: Emulator, backend: Xd247Backend) -> None:
    account, key = backend.create_account(1234, label="mine")
    assert re.fullmatch(r"247xd_[0-9a-f]{40}", key)
    assert backend.keys.resolve(key, backend.accounts, backend.clock) is account
    assert backend.balance(account) == {"coins": 12.34}


def test_the_otp_catalog_lists_services_with_price_options_and_stock(backend: Xd247Backend) -> None:
    catalog = backend.otp_catalog()
    line = next(s for s in catalog if s["id"] == LINE)
    assert line["name"] == "LINE"
    assert line["priceOptions"][0] == {"id": LINE_AIS, "name": "AIS", "price": 15.0, "stock": 281}
    for service in catalog:
        assert set(service) == {"id", "name", "priceOptions"}
        for option in service["priceOptions"]:
            assert set(option) == {"id", "name", "price", "stock"}


def test_the_social_catalog_lists_options_with_price_per_1000_and_bounds(backend: Xd247Backend) -> None:
    catalog = backend.social_catalog()
    for service in catalog:
        assert set(service) == {"id", "name", "platform", "options"}
        for option in service["options"]:
            assert set(option) == {"id", "name", "pricePer1000", "min", "max"}
    facebook = next(s for s in catalog if s["platform"] == "facebook")
    assert facebook["options"][0]["pricePer1000"] == 35.0
    assert (facebook["options"][0]["min"], facebook["options"][0]["max"]) == (50, 20000)


def test_the_premium_catalog_lists_price_stock_and_duration(backend: Xd247Backend) -> None:
    catalog = backend.premium_catalog()
    for service in catalog:
        assert set(service) == {"id", "name", "price", "stock", "durationDays"}
    chatgpt = next(s for s in catalog if s["id"] == CHATGPT)
    assert (chatgpt["price"], chatgpt["stock"], chatgpt["durationDays"]) == (250.0, 10, 30)


# --- OTP --------------------------------------------------------------------------------


def test_an_otp_order_debits_its_price_and_takes_one_from_stock(emu: Emulator, backend: Xd247Backend) -> None:
    account = account_of(emu, DEMO)
    order = backend.create_otp_order(account, LINE, LINE_AIS, now(emu))
    assert account.coins == 50_000 - 1_500
    assert backend.price_options[LINE_AIS][1].stock == 280
    assert order.id in backend.orders and order.n in account.orders
    created = order.created_view()
    assert set(created) == {"orderId", "phoneNumber", "status", "price", "expiresAt"}
    assert created["status"] == "waiting_sms"
    assert created["price"] == 15.0
    assert re.fullmatch(r"08[0-9]{8}", created["phoneNumber"])
    assert created["expiresAt"] == "2025-01-15T10:50:00.000Z"  # 20 minutes later


def test_an_otp_order_needs_the_option_to_belong_to_the_service(emu: Emulator, backend: Xd247Backend) -> None:
    account = account_of(emu, DEMO)
    before = snapshot(emu)
    refused(lambda: backend.create_otp_order(account, OTP_TEST_SERVICE, LINE_AIS, now(emu)), 404, "NOT_FOUND")
    refused(lambda: backend.create_otp_order(account, UNKNOWN_UUID, LINE_AIS, now(emu)), 404, "NOT_FOUND")
    refused(lambda: backend.create_otp_order(account, LINE, UNKNOWN_UUID, now(emu)), 404, "NOT_FOUND")
    assert snapshot(emu) == before


def test_the_sms_arrives_after_the_options_delay_and_carries_that_instant(
    emu: Emulator, backend: Xd247Backend
) -> None:
    account = account_of(emu, DEMO)
    created = now(emu)
    order = backend.create_otp_order(account, LINE, LINE_AIS, created)
    delay = backend.price_options[LINE_AIS][1].sms_delay_us
    assert delay == 57 * US_PER_S
    emu.clock.advance(delay - 1)
    view = backend.view(order)
    assert view["status"] == "waiting_sms" and view["otpCode"] is None
    emu.clock.advance(1 + 10 * US_PER_S)  # read late: the move still carries its own instant
    view = backend.view(order)
    assert view["status"] == "completed"
    assert re.fullmatch(r"[0-9]{6}", view["otpCode"])
    assert view["updatedAt"] == iso_ms(created + delay)


def test_an_sms_that_never_arrives_leaves_the_order_waiting_until_it_expires(
    emu: Emulator, backend: Xd247Backend
) -> None:
    order = backend.create_otp_order(account_of(emu, DEMO), OTP_TEST_SERVICE, OTP_NEVER, now(emu))
    expires = order.expires_us
    emu.clock.advance(expires - now(emu) - 1)
    assert backend.view(order)["status"] == "waiting_sms"
    emu.clock.advance(1)
    view = backend.view(order)
    assert view["status"] == "expired"
    assert view["updatedAt"] == view["expiresAt"] == iso_ms(expires)
    assert view["otpCode"] is None


def test_an_order_read_long_after_expiry_expired_at_expires_at(emu: Emulator, backend: Xd247Backend) -> None:
    order = backend.create_otp_order(account_of(emu, DEMO), OTP_TEST_SERVICE, OTP_NEVER, now(emu))
    emu.clock.advance(3 * 3600 * US_PER_S)
    assert backend.view(order)["updatedAt"] == iso_ms(order.expires_us)


def test_an_sms_due_at_or_after_expiry_does_not_arrive(emu: Emulator) -> None:
    doc = {
        "247xd": {
            "accounts": [{"id": "a", "coins": 10, "keys": [{"key": "247xd_" + "0" * 40}]}],
            "otpServices": [
                {
                    "id": OTP_TEST_SERVICE,
                    "name": "late",
                    "expiresInSeconds": 60,
                    "priceOptions": [
                        {"id": OTP_NEVER, "name": "x", "price": 1, "stock": 5, "smsDelaySeconds": 60}
                    ],
                }
            ],
        }
    }
    from emulator import fixtures

    emu.load_fixtures(fixtures.from_document(doc))
    emu.clock.freeze()
    backend = emu.xd247
    order = backend.create_otp_order(backend.accounts["a"], OTP_TEST_SERVICE, OTP_NEVER, now(emu))
    emu.clock.advance(60 * US_PER_S)
    assert backend.view(order)["status"] == "expired"


def test_an_sms_with_no_delay_has_arrived_by_the_first_read(emu: Emulator, backend: Xd247Backend) -> None:
    order = backend.create_otp_order(account_of(emu, DEMO), OTP_TEST_SERVICE, OTP_AT_ONCE, now(emu))
    assert order.created_view()["status"] == "waiting_sms"  # as the vendor's create example shows
    view = backend.view(order)
    assert view["status"] == "completed"
    assert view["updatedAt"] == view["createdAt"]


def test_cancel_only_while_waiting_for_the_sms(emu: Emulator, backend: Xd247Backend) -> None:
    account = account_of(emu, DEMO)
    order = backend.create_otp_order(account, OTP_TEST_SERVICE, OTP_NEVER, now(emu))
    cancelled = backend.cancel_otp(account, order.id, now(emu))
    assert cancelled.status == "cancelled"
    assert account.coins == 50_000 - 500  # cancelling alone gives nothing back
    refused(lambda: backend.cancel_otp(account, order.id, now(emu)), 400, "BAD_REQUEST")
    done = backend.create_otp_order(account, OTP_TEST_SERVICE, OTP_AT_ONCE, now(emu))
    refused(lambda: backend.cancel_otp(account, done.id, now(emu)), 400, "BAD_REQUEST")
    assert done.status == "completed"


def test_refund_of_a_cancelled_order_credits_the_price_exactly_once(
    emu: Emulator, backend: Xd247Backend
) -> None:
    account = account_of(emu, DEMO)
    order = backend.create_otp_order(account, LINE, LINE_AIS, now(emu))
    backend.cancel_otp(account, order.id, now(emu))
    refunded = backend.refund(account, "otp", order.id, now(emu))
    assert refunded.status == "refunded"
    assert account.coins == 50_000
    assert refunded.view(now(emu))["refundedAmount"] == 15.0
    refused(lambda: backend.refund(account, "otp", order.id, now(emu)), 400, "BAD_REQUEST")
    assert account.coins == 50_000


def test_refund_of_an_expired_order_is_allowed(emu: Emulator, backend: Xd247Backend) -> None:
    account = account_of(emu, DEMO)
    order = backend.create_otp_order(account, OTP_TEST_SERVICE, OTP_NEVER, now(emu))
    emu.clock.advance(order.expires_us - now(emu))
    assert backend.refund(account, "otp", order.id, now(emu)).status == "refunded"
    assert account.coins == 50_000


def test_waiting_and_completed_orders_cannot_be_refunded(emu: Emulator, backend: Xd247Backend) -> None:
    account = account_of(emu, DEMO)
    waiting = backend.create_otp_order(account, OTP_TEST_SERVICE, OTP_NEVER, now(emu))
    completed = backend.create_otp_order(account, OTP_TEST_SERVICE, OTP_AT_ONCE, now(emu))
    coins = account.coins
    refused(lambda: backend.refund(account, "otp", waiting.id, now(emu)), 400, "BAD_REQUEST")
    refused(lambda: backend.refund(account, "otp", completed.id, now(emu)), 400, "BAD_REQUEST")
    assert account.coins == coins


def test_stock_is_not_restored_by_cancel_or_expiry(emu: Emulator, backend: Xd247Backend) -> None:
    account = account_of(emu, DEMO)
    option = backend.price_options[LINE_AIS][1]
    first = backend.create_otp_order(account, LINE, LINE_AIS, now(emu))
    backend.create_otp_order(account, LINE, LINE_AIS, now(emu))
    backend.cancel_otp(account, first.id, now(emu))
    emu.clock.advance(21 * MINUTE)
    backend.refund(account, "otp", first.id, now(emu))
    assert option.stock == 279


# --- money rules and no partial writes --------------------------------------------------------


def test_insufficient_coins_changes_nothing(emu: Emulator, backend: Xd247Backend) -> None:
    empty = account_of(emu, EMPTY)
    before = snapshot(emu)
    refused(lambda: backend.create_otp_order(empty, LINE, LINE_AIS, now(emu)), 400, "BAD_REQUEST")
    refused(
        lambda: backend.create_social_order(empty, FB_LIKES, "https://x.y", 100, now(emu)), 400, "BAD_REQUEST"
    )
    refused(lambda: backend.create_premium_order(empty, CHATGPT, now(emu)), 400, "BAD_REQUEST")
    assert snapshot(emu) == before


def test_coins_for_exactly_the_price_are_enough_and_leave_zero(emu: Emulator, backend: Xd247Backend) -> None:
    account, _ = backend.create_account(1_500)
    backend.create_otp_order(account, LINE, LINE_AIS, now(emu))
    assert account.coins == 0
    refused(lambda: backend.create_otp_order(account, LINE, LINE_AIS, now(emu)), 400, "BAD_REQUEST")
    assert account.coins == 0


def test_an_option_out_of_stock_is_refused_before_any_debit(emu: Emulator, backend: Xd247Backend) -> None:
    account = account_of(emu, DEMO)
    before = snapshot(emu)
    error = refused(
        lambda: backend.create_otp_order(account, OTP_TEST_SERVICE, OTP_SOLD_OUT, now(emu)),
        400,
        "BAD_REQUEST",
    )
    assert "สินค้าหมด" in error.message
    refused(lambda: backend.create_premium_order(account, PREMIUM_SOLD_OUT, now(emu)), 400, "BAD_REQUEST")
    assert snapshot(emu) == before


def test_stock_running_out_refuses_the_next_order_without_touching_coins(
    emu: Emulator, backend: Xd247Backend
) -> None:
    account = account_of(emu, RICH)
    service = backend.premium[CHATGPT]
    for _ in range(10):
        backend.create_premium_order(account, CHATGPT, now(emu))
    assert service.stock == 0
    coins = account.coins
    assert coins == 10_000_000 - 10 * 25_000
    refused(lambda: backend.create_premium_order(account, CHATGPT, now(emu)), 400, "BAD_REQUEST")
    assert account.coins == coins and service.stock == 0


# --- social ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "quantity", "hundredths"),
    [
        (FB_LIKES, 1000, 3_500),
        (FB_LIKES, 51, 179),  # 178.5 -> 179, half up
        (FB_LIKES, 50, 175),
        (TIKTOK_VIEWS, 501, 251),  # 250.5 -> 251
        (TIKTOK_VIEWS, 502, 251),
    ],
)
def test_the_social_price_is_per_1000_rounded_half_up_to_2_decimals(
    emu: Emulator, backend: Xd247Backend, option: str, quantity: int, hundredths: int
) -> None:
    per_1000 = backend.social_options[option][1].price_per_1000
    assert div_half_up(per_1000 * quantity, 1000) == hundredths
    account = account_of(emu, DEMO)
    order = backend.create_social_order(account, option, "https://instagram.com/example", quantity, now(emu))
    assert order.price == hundredths
    assert order.created_view() == {"orderId": order.id, "status": "pending", "price": hundredths / 100}
    assert account.coins == 50_000 - hundredths


@pytest.mark.parametrize("quantity", [49, 20_001])
def test_a_quantity_outside_the_options_bounds_names_the_field(
    emu: Emulator, backend: Xd247Backend, quantity: int
) -> None:
    before = snapshot(emu)
    error = refused(
        lambda: backend.create_social_order(
            account_of(emu, DEMO), FB_LIKES, "https://x.y", quantity, now(emu)
        ),
        400,
        "VALIDATION_ERROR",
    )
    assert "quantity" in error.message
    assert snapshot(emu) == before


def test_an_unknown_social_option_is_not_found(emu: Emulator, backend: Xd247Backend) -> None:
    refused(
        lambda: backend.create_social_order(
            account_of(emu, DEMO), UNKNOWN_UUID, "https://x.y", 100, now(emu)
        ),
        404,
        "NOT_FOUND",
    )
    # a service id is not an option id
    refused(
        lambda: backend.create_social_order(
            account_of(emu, DEMO), SOCIAL_TEST_SERVICE, "https://x.y", 100, now(emu)
        ),
        404,
        "NOT_FOUND",
    )


def test_social_delivery_starts_after_the_delay_and_advances_with_the_clock(
    emu: Emulator, backend: Xd247Backend
) -> None:
    created = now(emu)
    order = backend.create_social_order(account_of(emu, DEMO), FB_LIKES, "https://x.y", 1000, created)
    view = backend.view(order)
    assert (view["status"], view["delivered"], view["remains"]) == ("pending", 0, 1000)
    emu.clock.advance(30 * US_PER_S - 1)
    assert backend.view(order)["status"] == "pending"
    emu.clock.advance(1)
    view = backend.view(order)
    assert (view["status"], view["delivered"]) == ("processing", 0)
    assert view["updatedAt"] == iso_ms(created + 30 * US_PER_S)
    emu.clock.advance(90 * US_PER_S)  # 200 per minute for 1.5 minutes
    view = backend.view(order)
    assert (view["status"], view["delivered"], view["remains"]) == ("processing", 300, 700)
    assert isinstance(view["startCount"], int)


def test_social_orders_complete_when_everything_is_delivered_at_that_instant(
    emu: Emulator, backend: Xd247Backend
) -> None:
    created = now(emu)
    order = backend.create_social_order(account_of(emu, DEMO), SOCIAL_FAST, "https://x.y", 1000, created)
    emu.clock.advance(MINUTE - 1)
    view = backend.view(order)
    assert view["status"] == "processing" and view["delivered"] == 999
    emu.clock.advance(5 * MINUTE)
    view = backend.view(order)
    assert (view["status"], view["delivered"], view["remains"]) == ("completed", 1000, 0)
    assert view["updatedAt"] == iso_ms(created + MINUTE)


def test_a_social_option_that_never_delivers_stays_processing(emu: Emulator, backend: Xd247Backend) -> None:
    order = backend.create_social_order(account_of(emu, DEMO), SOCIAL_NEVER, "https://x.y", 100, now(emu))
    emu.clock.advance(24 * 3600 * US_PER_S)
    view = backend.view(order)
    assert (view["status"], view["delivered"], view["remains"]) == ("processing", 0, 100)


def test_a_partial_order_refunds_the_undelivered_share_rounded_down(
    emu: Emulator, backend: Xd247Backend
) -> None:
    account = account_of(emu, DEMO)
    order = backend.create_social_order(account, FB_LIKES, "https://x.y", 51, now(emu))
    assert order.price == 179
    backend.force(order.id, "processing", {})
    backend.force(order.id, "partial", {"delivered": 50})
    refunded = backend.refund(account, "social", order.id, now(emu))
    # 1.79 x 1/51 = 0.0351 -> 0.03 (down, never up)
    assert refunded.refunded_amount == 3
    assert account.coins == 50_000 - 179 + 3
    view = refunded.view(now(emu))
    assert (view["status"], view["delivered"], view["remains"], view["refundedAmount"]) == (
        "refunded",
        50,
        1,
        0.03,
    )


def test_a_cancelled_social_order_refunds_the_full_price(emu: Emulator, backend: Xd247Backend) -> None:
    account = account_of(emu, DEMO)
    order = backend.create_social_order(account, SOCIAL_FAST, "https://x.y", 1000, now(emu))
    emu.clock.advance(30 * US_PER_S)  # half delivered
    backend.force(order.id, "cancelled", {})
    assert backend.view(order)["delivered"] == 500
    backend.refund(account, "social", order.id, now(emu))
    assert account.coins == 50_000
    refused(lambda: backend.refund(account, "social", order.id, now(emu)), 400, "BAD_REQUEST")
    assert account.coins == 50_000


def test_a_social_order_still_running_cannot_be_refunded(emu: Emulator, backend: Xd247Backend) -> None:
    account = account_of(emu, DEMO)
    pending = backend.create_social_order(account, FB_LIKES, "https://x.y", 100, now(emu))
    running = backend.create_social_order(account, SOCIAL_NEVER, "https://x.y", 100, now(emu))
    done = backend.create_social_order(account, SOCIAL_FAST, "https://x.y", 10, now(emu))
    emu.clock.advance(US_PER_S)
    coins = account.coins
    for order, status in ((pending, "pending"), (running, "processing"), (done, "completed")):
        refused(lambda order=order: backend.refund(account, "social", order.id, now(emu)), 400, "BAD_REQUEST")
        assert order.status == status
    assert account.coins == coins


# --- premium ------------------------------------------------------------------------------


def test_a_premium_order_delivers_credentials_at_once(emu: Emulator, backend: Xd247Backend) -> None:
    account = account_of(emu, DEMO)
    order = backend.create_premium_order(account, NETFLIX, now(emu))
    created = order.created_view()
    assert set(created) == {"orderId", "credentials", "price"}
    assert set(created["credentials"]) == {"email", "password", "profile", "pin"}
    assert re.fullmatch(r"[0-9]{4}", created["credentials"]["pin"])
    assert created["price"] == 99.0
    assert account.coins == 50_000 - 9_900
    assert backend.premium[NETFLIX].stock == 24
    again = backend.order_of(account, "premium", order.id, now(emu)).view(now(emu))
    assert again["credentials"] == created["credentials"] and again["status"] == "completed"


def test_an_unknown_premium_service_is_not_found(emu: Emulator, backend: Xd247Backend) -> None:
    refused(
        lambda: backend.create_premium_order(account_of(emu, DEMO), UNKNOWN_UUID, now(emu)), 404, "NOT_FOUND"
    )


# --- isolation ------------------------------------------------------------------------------


def test_an_order_is_found_only_by_its_own_account_and_kind(emu: Emulator, backend: Xd247Backend) -> None:
    demo, rich = account_of(emu, DEMO), account_of(emu, RICH)
    order = backend.create_otp_order(demo, OTP_TEST_SERVICE, OTP_NEVER, now(emu))
    refused(lambda: backend.order_of(rich, "otp", order.id, now(emu)), 404, "NOT_FOUND")
    refused(lambda: backend.cancel_otp(rich, order.id, now(emu)), 404, "NOT_FOUND")
    refused(lambda: backend.refund(rich, "otp", order.id, now(emu)), 404, "NOT_FOUND")
    refused(lambda: backend.order_of(demo, "social", order.id, now(emu)), 404, "NOT_FOUND")
    refused(lambda: backend.order_of(demo, "premium", order.id, now(emu)), 404, "NOT_FOUND")
    assert order.status == "waiting_sms"
    assert backend.order_of(demo, "otp", order.id, now(emu)) == order


# --- forced transitions (the control plane's backend) --------------------------------------------


def test_force_applies_due_moves_first(emu: Emulator, backend: Xd247Backend) -> None:
    order = backend.create_otp_order(account_of(emu, DEMO), OTP_TEST_SERVICE, OTP_NEVER, now(emu))
    emu.clock.advance(order.expires_us - now(emu))
    with pytest.raises(TransitionError) as info:
        backend.force(order.id, "completed", {})
    assert info.value.current == "expired"
    assert order.status == "expired"


def test_force_completed_may_set_the_otp_code(emu: Emulator, backend: Xd247Backend) -> None:
    order = backend.create_otp_order(account_of(emu, DEMO), OTP_TEST_SERVICE, OTP_NEVER, now(emu))
    backend.force(order.id, "completed", {"otpCode": "4321"})
    assert backend.view(order)["otpCode"] == "4321"


@pytest.mark.parametrize("code", ["12", "123456789", "12a4", 1234, None])
def test_force_refuses_a_malformed_otp_code_and_changes_nothing(
    emu: Emulator, backend: Xd247Backend, code: object
) -> None:
    order = backend.create_otp_order(account_of(emu, DEMO), OTP_TEST_SERVICE, OTP_NEVER, now(emu))
    with pytest.raises(ValueError, match="otpCode"):
        backend.force(order.id, "completed", {"otpCode": code})
    assert order.status == "waiting_sms"


@pytest.mark.parametrize("target", ["partial", "cancelled"])
@pytest.mark.parametrize("delivered", [-1, 100, 101, "5", 2.0, True])
def test_force_refuses_a_delivered_count_out_of_range_or_type(
    emu: Emulator, backend: Xd247Backend, target: str, delivered: object
) -> None:
    order = backend.create_social_order(account_of(emu, DEMO), SOCIAL_NEVER, "https://x.y", 100, now(emu))
    with pytest.raises(ValueError, match="delivered"):
        backend.force(order.id, target, {"delivered": delivered})
    view = backend.view(order)
    assert (view["status"], view["delivered"], view["remains"]) == ("processing", 0, 100)


def test_force_cancelled_may_say_how_much_was_delivered(emu: Emulator, backend: Xd247Backend) -> None:
    order = backend.create_social_order(account_of(emu, DEMO), SOCIAL_NEVER, "https://x.y", 100, now(emu))
    backend.force(order.id, "cancelled", {"delivered": 40})
    view = backend.view(order)
    assert (view["status"], view["delivered"], view["remains"]) == ("cancelled", 40, 60)


def test_a_forced_refund_credits_once(emu: Emulator, backend: Xd247Backend) -> None:
    account = account_of(emu, DEMO)
    order = backend.create_otp_order(account, LINE, LINE_AIS, now(emu))
    backend.force(order.id, "cancelled", {})
    backend.force(order.id, "refunded", {})
    assert account.coins == 50_000
    with pytest.raises(TransitionError):
        backend.force(order.id, "refunded", {})
    refused(lambda: backend.refund(account, "otp", order.id, now(emu)), 400, "BAD_REQUEST")
    assert account.coins == 50_000


def test_force_on_an_unknown_order_raises_key_error(backend: Xd247Backend) -> None:
    with pytest.raises(KeyError):
        backend.force(UNKNOWN_UUID, "completed", {})


def test_force_to_a_status_not_in_the_table_is_a_transition_error(
    emu: Emulator, backend: Xd247Backend
) -> None:
    order = backend.create_otp_order(account_of(emu, DEMO), OTP_TEST_SERVICE, OTP_NEVER, now(emu))
    with pytest.raises(TransitionError):
        backend.force(order.id, "teleported", {})


# --- the tables themselves ------------------------------------------------------------------


def test_the_otp_table_is_the_specs() -> None:
    assert OTP.initial == "waiting_sms"
    assert OTP.table == {
        "waiting_sms": ("completed", "cancelled", "expired"),
        "completed": (),
        "cancelled": ("refunded",),
        "expired": ("refunded",),
        "refunded": (),
    }


def test_the_social_table_is_the_specs() -> None:
    assert SOCIAL.initial == "pending"
    assert {s: set(t) for s, t in SOCIAL.table.items()} == {
        "pending": {"processing", "cancelled"},
        "processing": {"completed", "partial", "cancelled"},
        "completed": set(),
        "partial": {"refunded"},
        "cancelled": {"refunded"},
        "refunded": set(),
    }


def test_premium_orders_are_delivered_and_final() -> None:
    assert PREMIUM.initial == "completed" and PREMIUM.is_terminal("completed")


def test_orders_start_in_their_machines_initial_status(emu: Emulator, backend: Xd247Backend) -> None:
    account = account_of(emu, DEMO)
    otp = backend.create_otp_order(account, OTP_TEST_SERVICE, OTP_NEVER, now(emu))
    social = backend.create_social_order(account, FB_LIKES, "https://x.y", 100, now(emu))
    premium = backend.create_premium_order(account, CHATGPT, now(emu))
    assert isinstance(otp, OtpOrder) and otp.status == OTP.initial
    assert isinstance(social, SocialOrder) and social.status == SOCIAL.initial
    assert premium.status == PREMIUM.initial


def test_ready_keys_lists_the_usable_fixture_keys_only(backend: Xd247Backend) -> None:
    keys = {key for _, _, key in backend.ready_keys()}
    assert DEMO in keys and RICH in keys and EMPTY in keys
    from .support import BANNED, EXPIRED, REVOKED

    assert not keys & {BANNED, EXPIRED, REVOKED}


def test_instants_use_the_vendors_millisecond_format(emu: Emulator, backend: Xd247Backend) -> None:
    order = backend.create_otp_order(account_of(emu, DEMO), OTP_TEST_SERVICE, OTP_NEVER, now(emu))
    view = backend.view(order)
    assert view["createdAt"] == "2025-01-15T10:30:00.000Z"
    assert parse_iso(view["expiresAt"]) - parse_iso(view["createdAt"]) == 20 * MINUTE
