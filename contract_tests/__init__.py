"""Contract suites: the emulator (or a live base URL) against emulator/specs/*.json."""
