"""Magic social links in the 247xd domain, without HTTP: exact instants, exact shares."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.core.clock import US_PER_S, Clock, parse_iso
from emulator.core.ids import IdSource
from emulator.xd247.fixtures import parse
from emulator.xd247.orders import MINUTE_US, SocialOrder
from emulator.xd247.service import Xd247Backend

T0 = parse_iso("2025-01-15T10:30:00Z")
SERVICE = "00000000-0000-4000-8000-0000000000a0"
OPTION = "00000000-0000-4000-8000-0000000000a1"


def backend(per_minute: int | None, start_delay: float, percent: int) -> tuple[Xd247Backend, Clock]:
    doc = {
        "accounts": [{"id": "a", "coins": 10**9, "keys": []}],
        "socialServices": [
            {
                "id": SERVICE,
                "name": "s",
                "platform": "p",
                "options": [
                    {
                        "id": OPTION,
                        "name": "o",
                        "pricePer1000": 10,
                        "min": 1,
                        "max": 10**6,
                        "startDelaySeconds": start_delay,
                        "deliveryPerMinute": per_minute,
                    }
                ],
            }
        ],
        "magicLinks": [
            {"link": "https://m.test/c", "outcome": "cancelled"},
            {"link": "https://m.test/p", "outcome": "partial", "deliveredPercent": percent},
        ],
    }
    clock = Clock(T0, frozen=True)
    return Xd247Backend(parse(doc), clock, IdSource(1)), clock


@settings(max_examples=150, deadline=None, database=None)
@given(
    quantity=st.integers(1, 10**6),
    percent=st.integers(0, 99),
    per_minute=st.integers(1, 10**5),
    start_delay=st.integers(0, 3600),
)
def test_a_partial_link_stops_at_the_first_instant_its_share_is_delivered(
    quantity: int, percent: int, per_minute: int, start_delay: int
) -> None:
    xd, _ = backend(per_minute, start_delay, percent)
    account = xd.accounts["a"]
    order = xd.create_social_order(account, OPTION, "https://m.test/p", quantity, T0)
    share = quantity * percent // 100
    start = T0 + start_delay * US_PER_S
    stop = start + -(-share * MINUTE_US // per_minute)
    assert order.stops_us() == stop
    if stop > T0:
        order.settle(stop - 1)
        assert order.status in ("pending", "processing")
        assert order.delivered(stop - 1) < share or share == 0
    order.settle(stop)
    assert (order.status, order.delivered(stop), order.updated_us) == ("partial", share, stop)
    order.settle(stop + 10**12)
    assert order.delivered(stop + 10**12) == share
    assert order.refund_amount() == order.price * (quantity - share) // quantity


@settings(max_examples=50, deadline=None, database=None)
@given(start_delay=st.integers(0, 3600), per_minute=st.none() | st.integers(1, 1000))
def test_a_cancelled_link_is_cancelled_at_its_start_instant(start_delay: int, per_minute: int | None) -> None:
    xd, _ = backend(per_minute, start_delay, 30)
    order = xd.create_social_order(xd.accounts["a"], OPTION, "https://m.test/c", 500, T0)
    start = T0 + start_delay * US_PER_S
    if start_delay:
        order.settle(start - 1)
        assert order.status == "pending"
    order.settle(start)
    assert (order.status, order.delivered(start), order.updated_us) == ("cancelled", 0, start)
    assert order.refund_amount() == order.price


def test_an_ordinary_link_completes_as_usual() -> None:
    xd, _ = backend(100, 0, 30)
    order = xd.create_social_order(xd.accounts["a"], OPTION, "https://m.test/other", 100, T0)
    assert isinstance(order, SocialOrder)
    order.settle(T0 + MINUTE_US)
    assert (order.status, order.delivered(T0 + MINUTE_US)) == ("completed", 100)


def test_a_forced_start_restarts_the_count_from_then() -> None:
    xd, clock = backend(60, 600, 50)  # starts after 10 minutes, 1 a second
    order = xd.create_social_order(xd.accounts["a"], OPTION, "https://m.test/p", 100, T0)
    clock.advance(5 * US_PER_S)
    xd.force(order.id, "processing", {})
    assert order.stops_us() == T0 + 55 * US_PER_S  # 50 units from the forced start
    order.settle(T0 + 55 * US_PER_S)
    assert (order.status, order.delivered(T0 + 55 * US_PER_S)) == ("partial", 50)
