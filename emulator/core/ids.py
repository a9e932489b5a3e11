"""The single seeded source of every generated value (ids, codes, fake data)."""

from __future__ import annotations

import random
import secrets
import uuid
from typing import TYPE_CHECKING, Any

from .errors import FieldError, LimitError
from .validate import INT64_MAX

if TYPE_CHECKING:
    from faker import Faker


class IdSource:
    """Same seed and same sequence of calls give the same values."""

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed if seed is not None else secrets.randbits(32)
        self._rng = random.Random(self.seed)
        self._faker: Faker | None = None
        self._faker_random: random.Random | None = None
        self._orders = UuidCodec(self.seed, "orders")
        self._codes = UuidCodec(self.seed, "otp-codes")

    def order_uuid(self, number: int) -> str:
        return self._orders.encode(number)

    def order_number(self, text: str) -> int | None:
        """The order number behind an order uuid (any case), or None if it is not one."""
        n = self._orders.decode(text)
        return n if n is not None and n >> 64 == 0 else None

    def otp_code(self, number: int, digits: int = 6) -> str:
        """The code an OTP order's SMS carries: derived from the seed and the order number,
        so nothing is stored per order and the same run gives the same codes."""
        return f"{self._codes.scramble(number) % 10**digits:0{digits}d}"

    def uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def hex(self, length: int) -> str:
        return f"{self._rng.getrandbits(4 * length):0{length}x}"

    def digits(self, length: int) -> str:
        return "".join(str(self._rng.randrange(10)) for _ in range(length))

    def randint(self, low: int, high: int) -> int:
        return self._rng.randint(low, high)

    def snapshot(self) -> dict[str, Any]:
        """The generators' positions (random.Random.getstate() as JSON lists): ids, codes
        and fake data generated after a restore continue as they would have."""
        return {
            "seed": self.seed,
            "random": random_state(self._rng),
            "faker": None if self._faker is None else random_state(self._faker.random),
        }

    @classmethod
    def restore(cls, doc: object, path: str) -> IdSource:
        if not isinstance(doc, dict):
            raise FieldError(path.rstrip("."), "must be an object")
        seed = doc.get("seed")
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
            raise FieldError(path + "seed", "must be an integer from 0 to 2^63-1")
        ids = cls(seed)
        set_random_state(ids._rng, doc.get("random"), path + "random")
        if doc.get("faker") is not None:
            set_random_state(ids.faker.random, doc["faker"], path + "faker")
        return ids

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

    @property
    def faker_random(self) -> random.Random:
        """The faker's own random source, which its providers draw from, for a draw made
        without a provider on the order path (Faker's proxy costs three lookups a use)."""
        rng = self._faker_random
        if rng is None:
            rng = self._faker_random = self.faker.random
        return rng


def random_state(rng: random.Random) -> list[Any]:
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]


def set_random_state(rng: random.Random, doc: object, path: str) -> None:
    """Put a `random_state()` back; FieldError for anything getstate() cannot have made."""
    ok = (
        isinstance(doc, list)
        and len(doc) == 3
        and doc[0] == 3
        and isinstance(doc[1], list)
        and len(doc[1]) == 625
        and all(type(x) is int and 0 <= x < 2**32 for x in doc[1])
        and doc[1][-1] <= 624
        and (doc[2] is None or type(doc[2]) is float)
    )
    if not ok:
        raise FieldError(path, "must be a random generator state: [3, [625 integers], null]")
    assert isinstance(doc, list)
    rng.setstate((3, tuple(doc[1]), doc[2]))


_BITS = 122  # the random bits of a version-4 uuid
_MASK = (1 << _BITS) - 1
_HALF = _BITS // 2


class UuidCodec:
    """A seeded bijection between order numbers (0, 1, 2, ...) and version-4 uuids.

    The uuids look random, are the same for the same seed, and decode back to the number,
    so a store can keep orders in arrays by number with no id string or index per order.
    Each round (multiply by an odd number mod 2^122, then xor-shift by half the width) is
    invertible; three rounds mix every bit of the number into every bit of the uuid.
    """

    __slots__ = ("key", "multipliers", "inverses")

    def __init__(self, seed: int, purpose: str) -> None:
        rng = random.Random(f"{purpose}:{seed}")
        self.key = rng.getrandbits(_BITS)
        self.multipliers = [rng.getrandbits(_BITS) | 1 for _ in range(3)]
        self.inverses = [pow(m, -1, 1 << _BITS) for m in reversed(self.multipliers)]

    def scramble(self, n: int) -> int:
        x = n ^ self.key
        for m in self.multipliers:
            x = (x * m) & _MASK
            x ^= x >> _HALF
        return x

    def unscramble(self, x: int) -> int:
        for inverse in self.inverses:
            x ^= x >> _HALF  # its own inverse: the shift is at least half the width
            x = (x * inverse) & _MASK
        return x ^ self.key

    def encode(self, n: int) -> str:
        x = self.scramble(n)
        # Lay the 122 bits around the version (4) and variant (10) bits of RFC 9562.
        value = (
            (x >> 74) << 80
            | 0x4 << 76
            | ((x >> 62) & 0xFFF) << 64
            | 0x2 << 62
            | (x & ((1 << 62) - 1))
        )
        h = value.to_bytes(16, "big").hex()  # the 32 hex digits; faster than a format
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def decode(self, text: str) -> int | None:
        """The number behind a uuid this codec made; None for any other string."""
        if len(text) != 36 or text[8] != "-" or text[13] != "-" or text[18] != "-" or text[23] != "-":
            return None
        try:
            value = int(text.replace("-", ""), 16)
        except ValueError:
            return None
        if (value >> 76) & 0xF != 4 or (value >> 62) & 0x3 != 2:
            return None
        x = (value >> 80) << 74 | ((value >> 64) & 0xFFF) << 62 | (value & ((1 << 62) - 1))
        return self.unscramble(x)


class Snowflake:
    """Time-ordered int64 ids that no IEEE double holds exactly (layout: docs/ids.md).

        bits 63      sign, always 0
        bits 62..22  milliseconds since `epoch_ms` (41 bits)
        bits 21..12  worker (10 bits)
        bits 11..1   sequence within the millisecond (11 bits)
        bit  0       always 1

    Every id is odd and at least `floor`: above 2^53 doubles are all even, so with a floor
    of 2^53 `float(id) != id` for every id, as with a real vendor's ids most of the time.
    Strictly increasing, also when many are issued in one millisecond (the sequence carries
    into the higher bits) or the clock stands still or goes back (the next odd number).
    """

    __slots__ = ("epoch_ms", "worker", "last", "floor")

    def __init__(self, epoch_ms: int, worker: int = 1, last: int = 0, floor: int = 0) -> None:
        self.epoch_ms = epoch_ms
        self.worker = worker & 0x3FF
        self.floor = floor
        self.last = max(last, floor)

    def at(self, now_us: int, sequence: int = 0) -> int:
        """The id of the `sequence`-th id issued in the millisecond of `now_us`."""
        return ((now_us // 1000 - self.epoch_ms) << 22) | (self.worker << 12) | (sequence << 1) | 1

    def next(self, now_us: int) -> int:
        candidate = self.at(now_us)
        if candidate <= self.last:
            candidate = (self.last + 1) | 1
        if candidate > INT64_MAX:  # only a document's lastId near 2^63 gets here
            raise LimitError("lastId", f"is {self.last}: no int64 id is left after it")
        self.last = candidate
        return candidate
