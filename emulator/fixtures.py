"""Fixtures documents: `{"247xd": {...}, "usdtlowfee": {...}}`, validated all or nothing."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources.abc import Traversable
from typing import Any

import orjson

from emulator.core.errors import FieldError
from emulator.usdtlowfee import fixtures as usdtlowfee_fixtures
from emulator.xd247 import fixtures as xd247_fixtures


class FixturesError(ValueError):
    """A fixtures document that cannot be used, with the path of the first problem."""


@dataclass(slots=True)
class Fixtures:
    doc: dict[str, Any]

    def xd247(self) -> xd247_fixtures.Xd247Fixtures:
        """Fresh objects every time: state built from them may change them (stock)."""
        return xd247_fixtures.parse(self.doc.get("247xd", {}))

    def usdtlowfee(self) -> usdtlowfee_fixtures.UsdtLowFeeFixtures:
        """Fresh objects every time, like xd247()."""
        return usdtlowfee_fixtures.parse(self.doc.get("usdtlowfee", {}))


def from_document(doc: Any) -> Fixtures:
    if not isinstance(doc, dict):
        raise FixturesError("a fixtures document must be a JSON object")
    unknown = sorted(set(doc) - {"247xd", "usdtlowfee", "$comment"})
    if unknown:
        raise FixturesError(f"unknown section(s) {unknown}: expected '247xd' and 'usdtlowfee'")
    for section in ("247xd", "usdtlowfee"):
        if section in doc and not isinstance(doc[section], dict):
            raise FixturesError(f"{section}: must be an object")
    fixtures = Fixtures(doc)
    try:
        fixtures.xd247()
        fixtures.usdtlowfee()
    except FieldError as exc:
        raise FixturesError(f"{exc.field}: {exc.reason}") from None
    return fixtures


def load(path: Traversable) -> Fixtures:
    """A file (`--fixtures PATH`) or the packaged defaults (`config.DEFAULT_FIXTURES`)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FixturesError(f"cannot read fixtures file {path}: {exc.strerror}") from None
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise FixturesError(f"fixtures file {path} is not valid JSON: {exc}") from None
    try:
        return from_document(doc)
    except FixturesError as exc:
        raise FixturesError(f"fixtures file {path}: {exc}") from None
