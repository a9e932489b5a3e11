"""A stateful local emulator of the 247xd and USDTLowFee REST APIs."""

from __future__ import annotations

DISTRIBUTION = "emulator-247xd-usdtlowfee"


def __getattr__(name: str) -> str:
    # The version is the installed distribution's (pyproject.toml is its one source); looked
    # up on first use so that `import emulator` (the healthcheck, the plugin) stays cheap.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version(DISTRIBUTION)
        except PackageNotFoundError:  # run from a checkout that was never installed
            return "0+unknown"
    raise AttributeError(f"module 'emulator' has no attribute {name!r}")
