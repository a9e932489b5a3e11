"""The dashboard at /_emulator/ui."""
