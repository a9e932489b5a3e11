"""A fresh emulator per test (frozen at START, seed 7), driven in-process."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from emulator.runtime import Emulator

from .support import client_of, emulator


@pytest.fixture
def emu() -> Emulator:
    return emulator()


@pytest.fixture
def web(emu: Emulator) -> Iterator[httpx.Client]:
    with client_of(emu) as client:
        yield client
