"""`python -m emulator.healthcheck`: exit 0 when the emulator on this machine answers
GET /_emulator/health with status ok, 1 otherwise. The Docker image's HEALTHCHECK (slim
images have no curl). Honours EMULATOR_PORT; EMULATOR_HEALTH_URL overrides the URL."""

from __future__ import annotations

import json
import os
import sys
import urllib.request

TIMEOUT_S = 3


def url() -> str:
    explicit = os.environ.get("EMULATOR_HEALTH_URL")
    if explicit:
        return explicit
    return f"http://127.0.0.1:{os.environ.get('EMULATOR_PORT') or '8080'}/_emulator/health"


def healthy(target: str) -> bool:
    try:
        with urllib.request.urlopen(target, timeout=TIMEOUT_S) as response:
            return bool(response.status == 200 and json.load(response).get("status") == "ok")
    except (OSError, ValueError):
        return False


def main() -> int:
    target = url()
    if healthy(target):
        return 0
    print(f"emulator: unhealthy: {target}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
