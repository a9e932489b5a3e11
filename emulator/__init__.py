"""A stateful local emulator of the 247xd and USDTLowFee REST APIs."""

__version__ = "0.1.0"
