"""One settings object, from flags, then EMULATOR_* environment variables, then defaults."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from emulator.core.clock import parse_iso

# Package data, so that an installed wheel finds it (`emulator fixtures` prints it to edit).
DEFAULT_FIXTURES: Traversable = resources.files("emulator").joinpath("data", "default.json")


class ConfigError(ValueError):
    """A setting that cannot be used; start-up stops with this message (exit 2)."""


@dataclass(slots=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 8080
    seed: int | None = None
    clock_start_us: int | None = None
    clock_frozen: bool = False  # start (and reset to) a frozen clock, for deterministic runs
    fixtures: Traversable = field(default_factory=lambda: DEFAULT_FIXTURES)
    rate_limit_247xd: int = 60
    rate_limit_usdtlowfee: int = 60
    log_level: str = "info"
    log_format: str = "text"  # text | json (one JSON object per line, for CI)
    journal_size: int = 1000  # requests the journal keeps; 0 turns it off
    state_file: Path | None = None  # durable state (emulator/durable.py); None: memory only
    fsync: str = "off"  # always | batch | off: docs/durability.md
    # Host names served besides the defaults (emulator/guard.py); "*" serves any Host.
    allowed_hosts: tuple[str, ...] = ()
    control_token: str | None = None  # when set, the control plane and dashboard need it
    # The largest PUT /_emulator/state body: 100,000 orders export to 35-52 MB (docs/state.md).
    max_state_body: int = 256 * 1024 * 1024


# setting name -> (environment variable, parser)
def _int(name: str, low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise ConfigError(f"{name} must be an integer, got {text!r}") from None
        if not low <= value <= high:
            raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
        return value

    return parse


_UNITS = {"": 1, "k": 1024, "kib": 1024, "m": 1024**2, "mib": 1024**2, "g": 1024**3, "gib": 1024**3}


def _size(name: str, low: int, high: int) -> Callable[[str], int]:
    """Bytes, or with a binary unit: 64M, 64MiB, 1G (1 M = 1024 KiB)."""

    def parse(text: str) -> int:
        stripped = text.strip()
        digits = stripped.rstrip("kKmMgGiIbB")
        unit = _UNITS.get(stripped[len(digits) :].lower())
        if not digits.isdecimal() or not digits.isascii() or unit is None:
            raise ConfigError(f"{name} must be a size in bytes (or with K, M, G: 64M), got {text!r}")
        value = int(digits) * unit
        if not low <= value <= high:
            raise ConfigError(f"{name} must be between {low} and {high} bytes, got {value}")
        return value

    return parse


def _clock(text: str) -> int:
    try:
        return parse_iso(text)
    except ValueError:
        raise ConfigError(f"clock start must be an ISO 8601 date-time, got {text!r}") from None


def _path(text: str) -> Path:
    return Path(text)


def _level(text: str) -> str:
    level = text.lower()
    if level not in ("critical", "error", "warning", "info", "debug"):
        raise ConfigError(f"log level must be critical, error, warning, info or debug, got {text!r}")
    return level


def _flag(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"clock frozen must be true or false, got {text!r}")


def _fsync(text: str) -> str:
    mode = text.lower()
    if mode not in ("always", "batch", "off"):
        raise ConfigError(f"fsync must be always, batch or off, got {text!r}")
    return mode


def _log_format(text: str) -> str:
    fmt = text.lower()
    if fmt not in ("text", "json"):
        raise ConfigError(f"log format must be text or json, got {text!r}")
    return fmt


_HOST_ENTRY = re.compile(r"\*|\.?[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?")


def _hosts(text: str) -> tuple[str, ...]:
    entries = tuple(entry.strip().lower() for entry in text.split(",") if entry.strip())
    for entry in entries:
        if not _HOST_ENTRY.fullmatch(entry) or ".." in entry:
            raise ConfigError(
                f"allowed hosts must be host names (or .example.com for a domain and its subdomains, "
                f"or *), comma-separated, got {entry!r}"
            )
    return entries


def _token(text: str) -> str:
    token = text.strip()
    if not token.isascii() or not token.isprintable() or " " in token:
        raise ConfigError("control token must be printable ASCII without spaces")
    return token


SETTINGS: dict[str, tuple[str, Callable[[str], object]]] = {
    "host": ("EMULATOR_HOST", str),
    "port": ("EMULATOR_PORT", _int("port", 0, 65535)),
    "seed": ("EMULATOR_SEED", _int("seed", 0, 2**63 - 1)),
    "clock_start_us": ("EMULATOR_CLOCK_START", _clock),
    "clock_frozen": ("EMULATOR_CLOCK_FROZEN", _flag),
    "fixtures": ("EMULATOR_FIXTURES", _path),
    "rate_limit_247xd": ("EMULATOR_RATE_LIMIT_247XD", _int("247xd rate limit", 1, 10**9)),
    "rate_limit_usdtlowfee": (
        "EMULATOR_RATE_LIMIT_USDTLOWFEE",
        _int("USDTLowFee rate limit", 1, 10**9),
    ),
    "log_level": ("EMULATOR_LOG_LEVEL", _level),
    "log_format": ("EMULATOR_LOG_FORMAT", _log_format),
    "journal_size": ("EMULATOR_JOURNAL_SIZE", _int("journal size", 0, 1_000_000)),
    "state_file": ("EMULATOR_STATE_FILE", _path),
    "allowed_hosts": ("EMULATOR_ALLOWED_HOSTS", _hosts),
    "control_token": ("EMULATOR_CONTROL_TOKEN", _token),
    "fsync": ("EMULATOR_FSYNC", _fsync),
    "max_state_body": ("EMULATOR_MAX_STATE_BODY", _size("max state body", 1024, 2**40)),
}


def load(flags: dict[str, str | None] | None = None, env: dict[str, str] | None = None) -> Config:
    """Flags (raw strings, None when not given) win over the environment, which wins over
    the defaults."""
    flags = flags or {}
    env = dict(os.environ) if env is None else env
    config = Config()
    for name, (variable, parse) in SETTINGS.items():
        raw = flags.get(name)
        if raw is None:
            raw = env.get(variable) or None
        if raw is not None:
            setattr(config, name, parse(raw))
    return config
