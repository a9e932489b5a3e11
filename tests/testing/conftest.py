"""`control`: the control-plane client, in-process, on the shared `emu`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulator.runtime import Emulator
from emulator.testing.client import EmulatorClient


@pytest.fixture
def control(emu: Emulator) -> Iterator[EmulatorClient]:
    """The control-plane client on the shared `emu` (seeded, frozen at START), in-process."""
    with EmulatorClient.in_process(emu) as client:
        yield client
