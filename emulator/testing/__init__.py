"""Using the emulator from tests: an in-process HTTP transport (and, later, a pytest plugin)."""
