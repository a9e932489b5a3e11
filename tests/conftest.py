"""Shared fixtures: a fresh emulator per test, frozen at a known instant, seeded."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from emulator.app import create_app
from emulator.config import Config
from emulator.core.clock import parse_iso
from emulator.runtime import Emulator

from .wheel import Installed, install

START = "2025-01-15T10:30:00Z"

# Fixed in emulator/data/default.json.
XD_DEMO_KEY = "247xd_3769736d6939931e6de10def20d9a2483134d0c1"


class FakeTimeLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock the test moves: its timers fire without waiting."""

    now = 1000.0

    def time(self) -> float:
        return self.now


@pytest.fixture
def emu() -> Emulator:
    return Emulator(Config(seed=7, clock_start_us=parse_iso(START), clock_frozen=True))


@pytest.fixture
def client(emu: Emulator) -> Iterator[TestClient]:
    with TestClient(create_app(emulator=emu)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel installed in a fresh virtual environment (tests/wheel.py); built once."""
    return install(tmp_path_factory.mktemp("installed"))
