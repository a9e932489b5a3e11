"""The single seeded source of every generated value (ids, codes, fake data)."""

from __future__ import annotations

import random
import secrets
import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from faker import Faker


class IdSource:
    """Same seed and same sequence of calls give the same values."""

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed if seed is not None else secrets.randbits(32)
        self._rng = random.Random(self.seed)
        self._faker: Faker | None = None

    def uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def hex(self, length: int) -> str:
        return f"{self._rng.getrandbits(4 * length):0{length}x}"

    def digits(self, length: int) -> str:
        return "".join(str(self._rng.randrange(10)) for _ in range(length))

    def randint(self, low: int, high: int) -> int:
        return self._rng.randint(low, high)

    @property
    def faker(self) -> Faker:
        # Loaded on first use (keeps start-up fast), seeded from the same seed so that
        # when it is first used does not change what it generates.
        if self._faker is None:
            from faker import Faker

            fake = Faker("th_TH")
            fake.seed_instance(self.seed)
            self._faker = fake
        return self._faker


class Snowflake:
    """Time-ordered int64 ids: milliseconds since `epoch_ms` << 22 | worker << 12 | sequence.

    Strictly increasing, also when many are issued in one millisecond or the
    clock is set to an instant already used.
    """

    __slots__ = ("epoch_ms", "worker", "last")

    def __init__(self, epoch_ms: int, worker: int = 1, last: int = 0) -> None:
        self.epoch_ms = epoch_ms
        self.worker = worker & 0x3FF
        self.last = last

    def next(self, now_us: int) -> int:
        candidate = ((now_us // 1000 - self.epoch_ms) << 22) | (self.worker << 12)
        if candidate <= self.last:
            candidate = self.last + 1
        self.last = candidate
        return candidate
