"""Start `python -m emulator serve` as a real process for tests that need a real server."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

BANNER_TIMEOUT_S = 20


@dataclass
class Served:
    url: str
    banner: str
    process: subprocess.Popen[str]


def read_banner(process: subprocess.Popen[str]) -> str:
    """The start-up banner, up to its last line (the control plane's). The socket is
    listening before the banner is printed, so no waiting is needed after it."""
    assert process.stdout is not None
    stdout = process.stdout
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in iter(stdout.readline, ""):
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    while True:
        try:
            line = lines.get(timeout=BANNER_TIMEOUT_S)
        except queue.Empty:
            raise TimeoutError("no start-up banner:\n" + "".join(seen)) from None
        if line is None:
            raise RuntimeError("the server exited before it was ready:\n" + "".join(seen))
        seen.append(line)
        if "/_emulator" in line:
            return "".join(seen)


@contextmanager
def serve(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
    program: list[str] | None = None,
    base_env: dict[str, str] | None = None,
) -> Iterator[Served]:
    """`program` (default `python -m emulator` of this interpreter) `serve *args`, in
    `base_env` (default this process's environment) updated with `env`."""
    environ = {**(os.environ if base_env is None else base_env), "PYTHONUNBUFFERED": "1", **(env or {})}
    command = [*(program or [sys.executable, "-m", "emulator"]), "serve", *args]
    if "--port" not in args and "EMULATOR_PORT" not in (env or {}):
        command += ["--port", "0"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environ, cwd=cwd
    )
    try:
        banner = read_banner(process)
        match = re.search(r"listening on (http://\S+)", banner)
        assert match, banner
        yield Served(match.group(1), banner, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
