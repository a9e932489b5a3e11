"""247xd fixtures: parsed into accounts, keys and a catalog; refused with the bad field's path."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from emulator import fixtures
from emulator.config import DEFAULT_FIXTURES
from emulator.core.clock import US_PER_S
from emulator.core.errors import FieldError
from emulator.xd247 import fixtures as xd_fixtures

from .support import DEMO, EXPIRED, OTP_NEVER, OTP_TEST_SERVICE, REVOKED, SOCIAL_NEVER

KEY = "247xd_" + "ab" * 20


def default_doc() -> dict[str, Any]:
    return json.loads(DEFAULT_FIXTURES.read_text(encoding="utf-8"))


def minimal() -> dict[str, Any]:
    return {
        "accounts": [{"id": "a", "coins": 12.5, "keys": [{"key": KEY}]}],
        "otpServices": [
            {
                "id": OTP_TEST_SERVICE,
                "name": "svc",
                "priceOptions": [{"id": OTP_NEVER, "name": "opt", "price": 1, "stock": 3}],
            }
        ],
        "socialServices": [
            {
                "id": "00000000-0000-4000-8000-000000000002",
                "name": "soc",
                "platform": "x",
                "options": [{"id": SOCIAL_NEVER, "name": "o", "pricePer1000": 1, "min": 1, "max": 2}],
            }
        ],
        "premiumServices": [
            {
                "id": "00000000-0000-4000-8000-000000000003",
                "name": "p",
                "price": 1,
                "stock": 1,
                "durationDays": 1,
            }
        ],
    }


def test_the_default_fixtures_parse() -> None:
    parsed = xd_fixtures.parse(default_doc()["247xd"])
    assert {a.id for a in parsed.accounts} >= {"xd-demo", "xd-rich", "xd-empty", "xd-banned", "xd-old-keys"}
    keys = {k.key: k for a in parsed.accounts for k in a.keys}
    assert keys[DEMO].expires_us is None and not keys[DEMO].revoked
    assert keys[EXPIRED].expires_us is not None
    assert keys[REVOKED].revoked


def test_defaults_fill_what_a_fixture_leaves_out() -> None:
    parsed = xd_fixtures.parse(minimal())
    account = parsed.accounts[0]
    assert (account.coins, account.banned, account.label) == (1250, False, "")
    service = parsed.otp[0]
    assert service.expires_us == xd_fixtures.DEFAULT_OTP_EXPIRY_S * US_PER_S
    option = service.price_options[0]
    assert option.sms_delay_us == 30 * US_PER_S
    assert option.phone_pattern == "08########"
    social = parsed.social[0].options[0]
    assert social.start_delay_us == 60 * US_PER_S and social.per_minute is None
    assert parsed.premium[0].credential_fields == ("email", "password")


def test_a_null_sms_delay_means_the_sms_never_arrives() -> None:
    doc = minimal()
    doc["otpServices"][0]["priceOptions"][0]["smsDelaySeconds"] = None
    assert xd_fixtures.parse(doc).otp[0].price_options[0].sms_delay_us is None


def test_fractional_seconds_are_kept_to_the_microsecond() -> None:
    doc = minimal()
    doc["otpServices"][0]["priceOptions"][0]["smsDelaySeconds"] = 1.25
    assert xd_fixtures.parse(doc).otp[0].price_options[0].sms_delay_us == 1_250_000


def mutate(path: list[Any], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(minimal())
    target: Any = doc
    for step in path[:-1]:
        target = target[step]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (["accounts", 0, "coins"], "lots", "247xd.accounts[0].coins"),
        (["accounts", 0, "coins"], 1.001, "247xd.accounts[0].coins"),
        (["accounts", 0, "coins"], -1, "247xd.accounts[0].coins"),
        (["accounts", 0, "id"], KeyError, "247xd.accounts[0].id"),
        (["accounts", 0, "banned"], "yes", "247xd.accounts[0].banned"),
        (["accounts", 0, "keys", 0, "key"], "sk_short", "247xd.accounts[0].keys[0].key"),
        (["accounts", 0, "keys", 0, "expiresAt"], "soon", "247xd.accounts[0].keys[0].expiresAt"),
        (["accounts", 0, "keys", 0, "revoked"], 1, "247xd.accounts[0].keys[0].revoked"),
        (["accounts", 0], "not an object", "247xd.accounts[0]"),
        (["otpServices", 0, "id"], "not-a-uuid", "247xd.otpServices[0].id"),
        (["otpServices", 0, "priceOptions", 0, "stock"], -1, "247xd.otpServices[0].priceOptions[0].stock"),
        (["otpServices", 0, "priceOptions", 0, "stock"], True, "247xd.otpServices[0].priceOptions[0].stock"),
        (
            ["otpServices", 0, "priceOptions", 0, "smsDelaySeconds"],
            -5,
            "247xd.otpServices[0].priceOptions[0].smsDelaySeconds",
        ),
        (
            ["otpServices", 0, "priceOptions", 0, "smsDelaySeconds"],
            1e305,
            "247xd.otpServices[0].priceOptions[0].smsDelaySeconds",
        ),
        (["otpServices", 0, "expiresInSeconds"], 1e12, "247xd.otpServices[0].expiresInSeconds"),
        (["otpServices", 0, "priceOptions"], {}, "247xd.otpServices[0].priceOptions"),
        (
            ["otpServices", 0, "priceOptions", 0, "phonePattern"],
            "+66 8########",
            "247xd.otpServices[0].priceOptions[0].phonePattern",
        ),
        (
            ["otpServices", 0, "priceOptions", 0, "phonePattern"],
            "#812345678",
            "247xd.otpServices[0].priceOptions[0].phonePattern",
        ),
        (["socialServices", 0, "options", 0, "min"], 0, "247xd.socialServices[0].options[0].min"),
        (["socialServices", 0, "options", 0, "max"], 0, "247xd.socialServices[0].options[0].max"),
        (
            ["socialServices", 0, "options", 0, "deliveryPerMinute"],
            0,
            "247xd.socialServices[0].options[0].deliveryPerMinute",
        ),
        (["socialServices", 0, "platform"], KeyError, "247xd.socialServices[0].platform"),
        (["premiumServices", 0, "durationDays"], 0, "247xd.premiumServices[0].durationDays"),
        (["premiumServices", 0, "credentials"], ["ssn"], "247xd.premiumServices[0].credentials"),
        (["premiumServices", 0, "credentials"], [], "247xd.premiumServices[0].credentials"),
    ],
)
def test_a_bad_field_is_refused_with_its_path(path: list[Any], value: Any, field: str) -> None:
    with pytest.raises(FieldError) as info:
        xd_fixtures.parse(mutate(path, value))
    assert info.value.field == field


def test_ids_used_twice_are_refused() -> None:
    doc = minimal()
    doc["premiumServices"][0]["id"] = OTP_NEVER
    with pytest.raises(FieldError, match="used twice"):
        xd_fixtures.parse(doc)
    doc = minimal()
    doc["accounts"].append({"id": "b", "coins": 0, "keys": [{"key": KEY}]})
    with pytest.raises(FieldError, match="used twice"):
        xd_fixtures.parse(doc)


def test_a_fixtures_document_is_validated_all_or_nothing() -> None:
    doc = default_doc()
    doc["247xd"]["otpServices"][0]["priceOptions"][0]["stock"] = "many"
    with pytest.raises(fixtures.FixturesError, match=r"247xd\.otpServices\[0\]\.priceOptions\[0\]\.stock"):
        fixtures.from_document(doc)


def test_a_fixture_with_huge_delays_is_refused_not_crashed() -> None:
    doc = default_doc()
    doc["247xd"]["otpServices"][0]["priceOptions"][0]["smsDelaySeconds"] = 1e305
    with pytest.raises(fixtures.FixturesError, match="smsDelaySeconds"):
        fixtures.from_document(doc)


def test_each_parse_gives_fresh_objects_so_stock_changes_do_not_leak() -> None:
    loaded = fixtures.from_document(default_doc())
    first = loaded.xd247()
    first.otp[0].price_options[0].stock = 0
    assert loaded.xd247().otp[0].price_options[0].stock > 0


def test_a_phone_pattern_fills_each_hash_with_a_digit_and_keeps_leading_zeros() -> None:
    from emulator.core.clock import Clock
    from emulator.core.ids import IdSource
    from emulator.xd247.service import Xd247Backend

    doc = mutate(["otpServices", 0, "priceOptions", 0, "phonePattern"], "0006######")
    backend = Xd247Backend(xd_fixtures.parse(doc), Clock(0, frozen=True), IdSource(1))
    account = backend.accounts["a"]
    orders = [backend.create_otp_order(account, OTP_TEST_SERVICE, OTP_NEVER, 0) for _ in range(3)]
    numbers = [order.phone_number for order in orders]
    assert all(len(n) == 10 and n.startswith("0006") and n.isdigit() for n in numbers)


@pytest.mark.parametrize("pattern", ["08########", "0006######", "08#1##2###", "0812345678"])
def test_phone_numbers_keep_every_fixed_digit_of_their_pattern(pattern: str) -> None:
    import random

    from emulator.xd247.catalog import PriceOption

    option = PriceOption("id", "name", 100, 1, None, phone_pattern=pattern)
    rng = random.Random(5)
    for _ in range(50):
        shown = str(option.phone_number(rng)).zfill(len(pattern))
        assert len(shown) == len(pattern) and shown.isdigit()
        assert all(p == "#" or p == c for p, c in zip(pattern, shown, strict=True))
