"""USDTLowFee fixtures on top of tests/conftest.py: a roomy emulator for request-heavy tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from emulator.app import create_app
from emulator.config import Config
from emulator.core.clock import parse_iso
from emulator.runtime import Emulator

START = "2025-01-15T10:30:00Z"
START_US = parse_iso(START)


def roomy_emulator() -> Emulator:
    """Seeded, frozen at START, with a rate limit no test reaches."""
    # Frozen from construction: a clock frozen afterwards has already run a few milliseconds,
    # and two emulators would issue different snowflake ids.
    return Emulator(Config(seed=7, clock_start_us=START_US, clock_frozen=True, rate_limit_usdtlowfee=10**6))


@pytest.fixture
def roomy_emu() -> Emulator:
    return roomy_emulator()


@pytest.fixture
def roomy(roomy_emu: Emulator) -> Iterator[TestClient]:
    with TestClient(create_app(emulator=roomy_emu)) as test_client:
        yield test_client
