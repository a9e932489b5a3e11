"""USDTLowFee's part of the fixtures: the default document and parse() refusals."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from emulator import fixtures as fixtures_mod
from emulator.config import DEFAULT_FIXTURES
from emulator.core.errors import FieldError
from emulator.usdtlowfee import tron
from emulator.usdtlowfee.fixtures import parse

from .support import DEMO_KEY, FAILING, FAILING_2, MAIN_WALLET, PRICES


def default_section() -> dict[str, Any]:
    return json.loads(DEFAULT_FIXTURES.read_text())["usdtlowfee"]  # type: ignore[no-any-return]


def test_the_default_section_is_valid_and_as_documented() -> None:
    parsed = parse(default_section())
    assert parsed.prices == PRICES and parsed.prices[1] == 3_000_000
    assert parsed.fulfilment_delay_us == 5_000_000
    assert set(parsed.failing) == {FAILING, FAILING_2}
    ids = {a.id for a in parsed.accounts}
    assert ids == {"ulf-demo", "ulf-rich", "ulf-empty", "ulf-disabled", "ulf-old-keys"}
    for account in parsed.accounts:
        assert account.user_id > 2**53
        for key in account.keys:
            assert re.fullmatch(r"ak_live_[A-Za-z0-9]{32}", key.key)
    demo = next(a for a in parsed.accounts if a.id == "ulf-demo")
    assert demo.keys[0].key == DEMO_KEY and demo.balance_sun == 100_000_000
    assert [x.tron_address for x in demo.addresses][0] == MAIN_WALLET
    assert any(a.disabled for a in parsed.accounts)
    old = next(a for a in parsed.accounts if a.id == "ulf-old-keys")
    assert old.keys[0].expires_us is not None and old.keys[1].revoked


def test_user_ids_are_snowflakes_of_their_creation() -> None:
    for account in parse(default_section()).accounts:
        assert (account.user_id >> 22) == account.created_us // 1000 - tron.EPOCH_MS


def test_parse_gives_fresh_objects() -> None:
    loaded = fixtures_mod.load(DEFAULT_FIXTURES)
    one, two = loaded.usdtlowfee(), loaded.usdtlowfee()
    assert one is not two and one.accounts[0] is not two.accounts[0]
    assert one.prices is not two.prices


def test_an_empty_section_gets_the_default_prices_and_delay() -> None:
    parsed = parse({})
    assert parsed.accounts == [] and parsed.failing == {} and parsed.prices == PRICES


def _account(**changes: Any) -> dict[str, Any]:
    account = {
        "id": "x", "userId": 2**60, "email": "x@example.com", "createdAt": "2025-01-01T00:00:00Z",
        "balanceSun": 0, "keys": [{"key": "ak_live_" + "a" * 32}],
    }
    account.update(changes)
    return account


@pytest.mark.parametrize(
    "doc,field",
    [
        ({"accounts": {}}, "usdtlowfee.accounts"),
        ({"accounts": [1]}, "usdtlowfee.accounts[0]"),
        ({"accounts": [_account(id=None)]}, "usdtlowfee.accounts[0].id"),
        ({"accounts": [_account(userId=0)]}, "usdtlowfee.accounts[0].userId"),
        ({"accounts": [_account(userId=2**63)]}, "usdtlowfee.accounts[0].userId"),
        ({"accounts": [_account(userId=True)]}, "usdtlowfee.accounts[0].userId"),
        ({"accounts": [_account(email="nope")]}, "usdtlowfee.accounts[0].email"),
        ({"accounts": [_account(createdAt="yesterday")]}, "usdtlowfee.accounts[0].createdAt"),
        ({"accounts": [_account(balanceSun=1.5)]}, "usdtlowfee.accounts[0].balanceSun"),
        ({"accounts": [_account(balanceSun=-1)]}, "usdtlowfee.accounts[0].balanceSun"),
        ({"accounts": [_account(disabled="yes")]}, "usdtlowfee.accounts[0].disabled"),
        ({"accounts": [_account(emailVerified=1)]}, "usdtlowfee.accounts[0].emailVerified"),
        ({"accounts": [_account(keys=[{"key": "ak_live_" + "a" * 31}])]},
         "usdtlowfee.accounts[0].keys[0].key"),
        ({"accounts": [_account(keys=[{"key": "247xd_" + "a" * 40}])]}, "usdtlowfee.accounts[0].keys[0].key"),
        ({"accounts": [_account(keys=[{"key": "ak_live_" + "a" * 32, "expiresAt": "x"}])]},
         "usdtlowfee.accounts[0].keys[0].expiresAt"),
        ({"accounts": [_account(keys=[{"key": "ak_live_" + "a" * 32, "revoked": "no"}])]},
         "usdtlowfee.accounts[0].keys[0].revoked"),
        ({"accounts": [_account(addresses=[{"id": 1, "tronAddress": "T1", "label": "x"}])]},
         "usdtlowfee.accounts[0].addresses[0].tronAddress"),
        ({"accounts": [_account(addresses=[{"id": 0, "tronAddress": MAIN_WALLET, "label": "x"}])]},
         "usdtlowfee.accounts[0].addresses[0].id"),
        ({"accounts": [_account(addresses=[{"id": 1, "tronAddress": MAIN_WALLET, "label": ""}])]},
         "usdtlowfee.accounts[0].addresses[0].label"),
        ({"accounts": [_account(addresses=[{"id": 1, "tronAddress": MAIN_WALLET, "label": "x" * 65}])]},
         "usdtlowfee.accounts[0].addresses[0].label"),
        ({"accounts": [_account(addresses=[{"id": 1, "tronAddress": MAIN_WALLET, "label": "x",
                                            "usageCount": -1}])]},
         "usdtlowfee.accounts[0].addresses[0].usageCount"),
        ({"accounts": [_account(addresses=[{"id": 1, "tronAddress": MAIN_WALLET, "label": "x"},
                                           {"id": 2, "tronAddress": MAIN_WALLET, "label": "y"}])]},
         "usdtlowfee.accounts[0].addresses"),
        ({"accounts": [_account(addresses=[
            {"id": 1, "tronAddress": MAIN_WALLET, "label": "x", "isDefault": True},
            {"id": 2, "tronAddress": FAILING, "label": "y", "isDefault": True},
        ])]},
         "usdtlowfee.accounts[0].addresses"),
        ({"accounts": [_account(), _account()]}, "usdtlowfee.accounts[].id"),
        ({"accounts": [_account(), _account(id="y", keys=[])]}, "usdtlowfee.accounts[].userId"),
        ({"accounts": [_account(), _account(id="y", userId=5)]}, "usdtlowfee.accounts[].keys"),
        ({"accounts": [_account(addresses=[{"id": 1, "tronAddress": MAIN_WALLET, "label": "x"}]),
                       _account(id="y", userId=5, keys=[],
                                addresses=[{"id": 1, "tronAddress": MAIN_WALLET, "label": "x"}])]},
         "usdtlowfee.accounts[].addresses[].id"),
        ({"prices": {}}, "usdtlowfee.prices"),
        ({"prices": [{"durationHours": 1, "priceSun": 1}]}, "usdtlowfee.prices"),
        ({"prices": [{"durationHours": 2, "priceSun": 1}]}, "usdtlowfee.prices[0].durationHours"),
        ({"prices": [{"durationHours": 1, "priceSun": -1}]}, "usdtlowfee.prices[0].priceSun"),
        ({"prices": [{"durationHours": 1, "priceSun": 1.5}]}, "usdtlowfee.prices[0].priceSun"),
        ({"prices": [{"durationHours": 1, "priceSun": 10**11}]}, "usdtlowfee.prices[0].priceSun"),
        ({"prices": [{"durationHours": 1, "priceSun": 1}, {"durationHours": 1, "priceSun": 1}]},
         "usdtlowfee.prices[1].durationHours"),
        ({"fulfilmentDelaySeconds": "5"}, "usdtlowfee.fulfilmentDelaySeconds"),
        ({"fulfilmentDelaySeconds": -1}, "usdtlowfee.fulfilmentDelaySeconds"),
        ({"fulfilmentDelaySeconds": 10**9}, "usdtlowfee.fulfilmentDelaySeconds"),
        ({"failingAddresses": [{"tronAddress": "nope"}]}, "usdtlowfee.failingAddresses[0].tronAddress"),
        ({"failingAddresses": [{"tronAddress": FAILING}, {"tronAddress": FAILING}]},
         "usdtlowfee.failingAddresses[1].tronAddress"),
        ({"failingAddresses": [{"tronAddress": FAILING, "reason": ""}]},
         "usdtlowfee.failingAddresses[0].reason"),
    ],
)
def test_parse_refuses_with_the_path(doc: dict[str, Any], field: str) -> None:
    with pytest.raises(FieldError) as refused:
        parse(doc)
    assert refused.value.field == field


def test_a_fractional_delay_is_kept_in_microseconds() -> None:
    assert parse({"fulfilmentDelaySeconds": 0.25}).fulfilment_delay_us == 250_000
    assert parse({"fulfilmentDelaySeconds": 0}).fulfilment_delay_us == 0


def test_from_document_reports_the_usdtlowfee_path() -> None:
    with pytest.raises(fixtures_mod.FixturesError, match=r"usdtlowfee\.prices"):
        fixtures_mod.from_document({"usdtlowfee": {"prices": []}})
    with pytest.raises(fixtures_mod.FixturesError, match="usdtlowfee: must be an object"):
        fixtures_mod.from_document({"usdtlowfee": []})
