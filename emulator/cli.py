"""`emulator serve ...` and `python -m emulator serve ...`."""

from __future__ import annotations

import argparse
import atexit
import gc
import logging
import socket
import sys
from typing import TYPE_CHECKING, NoReturn

from emulator import __version__

if TYPE_CHECKING:
    import uvicorn

    from emulator.app import EmulatorApp
    from emulator.core.access import BufferedAccessLog
    from emulator.durable import DurableState

USAGE_EXIT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One clear line naming the problem, exit code 2.
        self.exit(USAGE_EXIT, f"emulator: error: {message}\n")


def build_parser() -> _Parser:
    parser = _Parser(prog="emulator", description="Local emulator of the 247xd and USDTLowFee APIs.")
    parser.add_argument("--version", action="version", version=f"emulator {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    serve = commands.add_parser("serve", help="serve both APIs and the control plane")
    serve.add_argument("--host", help="address to bind (default 127.0.0.1; env EMULATOR_HOST)")
    serve.add_argument("--port", help="port, 0 picks a free one (default 8080; env EMULATOR_PORT)")
    serve.add_argument("--seed", help="seed for every generated value (env EMULATOR_SEED)")
    serve.add_argument(
        "--clock-start", dest="clock_start_us", metavar="ISO-8601",
        help="the clock starts at this instant and runs on (env EMULATOR_CLOCK_START)",
    )
    serve.add_argument(
        "--clock-frozen", dest="clock_frozen", action="store_const", const="true",
        help="start with the clock frozen (at --clock-start); reset freezes it there again "
        "(env EMULATOR_CLOCK_FROZEN=1)",
    )
    serve.add_argument("--fixtures", metavar="PATH", help="fixtures file (env EMULATOR_FIXTURES)")
    serve.add_argument(
        "--rate-limit-247xd", dest="rate_limit_247xd", metavar="N",
        help="247xd requests per minute per user (default 60; env EMULATOR_RATE_LIMIT_247XD)",
    )
    serve.add_argument(
        "--rate-limit-usdtlowfee", dest="rate_limit_usdtlowfee", metavar="N",
        help="USDTLowFee requests per minute per user (default 60; env EMULATOR_RATE_LIMIT_USDTLOWFEE)",
    )
    serve.add_argument("--log-level", help="critical|error|warning|info|debug (env EMULATOR_LOG_LEVEL)")
    serve.add_argument(
        "--log-format", dest="log_format", metavar="FORMAT",
        help="text|json: one line per record, JSON objects for CI (default text; env EMULATOR_LOG_FORMAT)",
    )
    serve.add_argument(
        "--journal-size", dest="journal_size", metavar="N",
        help="API requests the journal keeps, 0 turns it off (default 1000; env EMULATOR_JOURNAL_SIZE)",
    )
    serve.add_argument(
        "--state-file", dest="state_file", metavar="PATH",
        help="keep the state in PATH and its log PATH.log, each write recorded before it is answered; "
        "loaded at start-up, created from the fixtures when missing (env EMULATOR_STATE_FILE)",
    )
    serve.add_argument(
        "--fsync", metavar="MODE",
        help="always|batch|off: when a recorded write is flushed to disk; off (the default) hands it to "
        "the OS, which survives kill -9 (env EMULATOR_FSYNC; docs/durability.md)",
    )
    serve.add_argument(
        "--allowed-hosts", dest="allowed_hosts", metavar="HOSTS",
        help="Host names served besides IP literals, localhost, *.localhost and single-label names: "
        "comma-separated, .example.com for a domain and its subdomains, * for any "
        "(env EMULATOR_ALLOWED_HOSTS; docs/security.md)",
    )
    serve.add_argument(
        "--control-token", dest="control_token", metavar="TOKEN",
        help="the control plane and the dashboard need this token (Authorization: Bearer TOKEN; "
        "the dashboard: /_emulator/ui?token=TOKEN once); the APIs do not (env EMULATOR_CONTROL_TOKEN)",
    )
    serve.add_argument(
        "--max-state-body", dest="max_state_body", metavar="SIZE",
        help="the largest PUT /_emulator/state body, in bytes or with K, M, G "
        "(default 256M; env EMULATOR_MAX_STATE_BODY)",
    )
    commands.add_parser(
        "fixtures", help="print the default fixtures document: edit a copy, start with --fixtures PATH"
    )
    return parser


def fail(message: str, code: int = USAGE_EXIT) -> NoReturn:
    print(f"emulator: error: {message}", file=sys.stderr)
    raise SystemExit(code)


def exposure_warnings(host: str, token: str | None, allowed_hosts: tuple[str, ...]) -> list[str]:
    """What start-up says once on stderr about a server others can reach (docs/security.md)."""
    warnings = []
    if token is None and not _loopback(host):
        warnings.append(
            f"listening on {host}, reachable from other machines, and the control plane and "
            "dashboard have no token: anyone who reaches this port can read every key and change "
            "the state. Set one: emulator serve --control-token \"$(python -c 'import secrets; "
            "print(secrets.token_urlsafe(24))')\" (or EMULATOR_CONTROL_TOKEN)"
        )
    if "*" in allowed_hosts:
        warnings.append(
            "--allowed-hosts * serves any Host header: a web page can reach this emulator "
            "through DNS rebinding; list the names instead"
        )
    return warnings


def _loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(args: argparse.Namespace) -> None:
    from emulator import config as config_mod
    from emulator import fixtures as fixtures_mod

    flags = {name: getattr(args, name, None) for name in config_mod.SETTINGS}
    try:
        config = config_mod.load(flags)
        fixtures = fixtures_mod.load(config.fixtures)
    except (config_mod.ConfigError, fixtures_mod.FixturesError) as exc:
        fail(str(exc))

    from emulator.app import create_app
    from emulator.runtime import Emulator

    emulator = Emulator(config, fixtures)
    from emulator.core.access import BufferedAccessLog

    # The access log is info level: --log-level warning (or above) turns it off entirely.
    access = (
        BufferedAccessLog(sys.stderr.buffer, config.log_format)
        if logging.getLevelName(config.log_level.upper()) <= logging.INFO
        else None
    )
    app = create_app(emulator=emulator, access=access)
    durable = None
    if config.state_file is not None:
        from emulator import durable as durable_mod

        try:
            durable = durable_mod.open_state_file(config.state_file, emulator, app, config.fsync)
        except durable_mod.StateFileError as exc:
            fail(str(exc))
    try:
        family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((config.host, config.port))
        # Listening before the banner is printed: whoever reads the banner can connect at
        # once (connections wait in the backlog until uvicorn accepts them).
        sock.listen(2048)
    except OSError as exc:
        fail(f"cannot listen on {config.host}:{config.port}: {exc.strerror}", 1)
    port = sock.getsockname()[1]
    shown = f"[{config.host}]" if ":" in config.host else config.host
    url = f"http://{shown}:{port}"
    # Import Faker's th_TH providers now (~70 ms), not on the first order a client places.
    from faker import Faker

    Faker("th_TH").numerify("08########")
    from emulator.apis import banner

    # Before the banner: whoever waits for the banner has the warnings too.
    for warning in exposure_warnings(config.host, config.control_token, config.allowed_hosts):
        print(f"emulator: warning: {warning}", file=sys.stderr, flush=True)
    print(banner(emulator, url), flush=True)
    # Everything built so far lives as long as the process: keep it out of the cyclic
    # collector's full passes, which otherwise grow with the heap and show up as p99 spikes.
    gc.collect()
    gc.freeze()
    from emulator.logs import configure

    configure(config.log_level, config.log_format)
    server = build_server(
        uvicorn_config(app, config.log_level),
        access,
        durable,
    )
    if config.log_format == "json":
        # uvicorn's own records go through the root handler too, as JSON.
        for name in ("uvicorn", "uvicorn.error"):
            logging.getLogger(name).handlers.clear()
            logging.getLogger(name).propagate = True
    if access is not None:
        atexit.register(access.flush)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # Ctrl-C: uvicorn has stopped cleanly, then re-raised it
        raise SystemExit(130) from None
    finally:
        if access is not None:
            access.flush()  # the lines of the last requests, once the server has stopped


def uvicorn_config(app: EmulatorApp, log_level: str) -> uvicorn.Config:
    """How `emulator serve` has uvicorn serve the app: uvicorn's access log off (the
    pipelines write their own), no Date of uvicorn's, the bounded protocol running API
    requests eagerly and straight into the app's API front (emulator/server.py)."""
    import uvicorn

    from emulator import server as http_server
    from emulator.apis import APIS
    from emulator.core.http import MAX_HEADER_BYTES

    return uvicorn.Config(
        app, log_level=log_level, access_log=False, lifespan="off",
        date_header=False,  # every answer is dated by the emulator clock (core/pipeline.py)
        http=http_server.protocol(tuple(api.dialect.prefix for api in APIS), (app, app.api_front())),
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        # The caller is the TCP peer: no X-Forwarded-For/-Proto taken from anyone
        # (uvicorn's default trusts them from 127.0.0.1; docs/security.md). Unwrapped, the
        # app is what the protocol's shortcut is for.
        proxy_headers=False,
    )


def build_server(
    config: uvicorn.Config, access: BufferedAccessLog | None, durable: DurableState | None = None
) -> uvicorn.Server:
    """uvicorn's server, finishing the emulator's work once it has shut down: the access
    lines still buffered, and the state file's last snapshot."""
    import uvicorn

    class Server(uvicorn.Server):
        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            await super().shutdown(sockets)
            # Here, not after run(): uvicorn re-raises SIGTERM/SIGINT once serving ends
            # (which ends the process at once). Every connection is closed now.
            if access is not None:
                access.flush()  # the last requests' access lines
            if durable is not None:
                durable.close()  # one last snapshot: the next start replays nothing

    return Server(config)


def print_fixtures() -> None:
    from emulator.config import DEFAULT_FIXTURES

    sys.stdout.buffer.write(DEFAULT_FIXTURES.read_bytes())
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        serve(args)
    elif args.command == "fixtures":
        print_fixtures()


if __name__ == "__main__":
    main()
