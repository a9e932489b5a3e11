"""The /_emulator control plane: drive the emulator without waiting or paying."""
