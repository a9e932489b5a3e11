#!/usr/bin/env python3
"""Load benchmark: the emulator against the framework's ceiling and, when Node is here, peers.

Run with `make bench`. The server under test is pinned to core 0, wrk to core 1
(`wrk -t1 -c32` for `--duration` seconds). Writes bench/RESULTS.md. The emulator rows run
its default configuration (access log on, info, text); the "at warning" rows the same with
the access log off; two ceilings: bare Starlette and a raw ASGI app on the same uvicorn.
`--ratios` runs only the rows the speed targets compare (and writes no file); those rows
are measured interleaved, in `--rounds` rounds (see target_rows). `--only durability`
runs the durable-state scenario alone (POST with and without the state file at 20,000
and 100,000 orders, GET balance while 4 clients POST orders, restarts); it writes
`--out` too, so point that elsewhere while iterating.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PY = sys.executable
HIGH_LIMIT = "1000000000"  # rate limiting stays on; the bookkeeping is part of the cost
OTP_SERVICE = "00000000-0000-4000-8000-000000000001"
OTP_OPTION = "00000000-0000-4000-8000-000000000011"  # never gets an SMS: orders stay put
TRON_ADDRESS = "TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7"


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    rss_mb: float | None = None
    note: str = ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pinned(core: int, command: list[str]) -> list[str]:
    return (["taskset", "-c", str(core)] if shutil.which("taskset") else []) + command


def proc_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def request(port: int, method: str, path: str, body: object = None, key: str | None = None,
            scheme: str = "Bearer") -> tuple[int, object]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"{scheme} {key}"
    conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
    response = conn.getresponse()
    raw = response.read()
    conn.close()
    return response.status, (json.loads(raw) if raw else None)


def wait_until_ok(port: int, path: str, key: str, scheme: str = "Bearer",
                  limit_s: float = 30.0) -> float:
    """Seconds until an authenticated GET answers 200 (polls; a benchmark, not a test)."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit_s:
        try:
            if request(port, "GET", path, key=key, scheme=scheme)[0] == 200:
                return time.perf_counter() - started
        except OSError:
            time.sleep(0.002)
    raise TimeoutError(f"no 200 from :{port}{path}")


@contextmanager
def server(command: list[str], env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        pinned(0, command), cwd=BENCH, env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        yield process
    finally:
        # The whole process group: npx leaves its node / java children behind otherwise.
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wrk(name: str, url: str, args: argparse.Namespace, headers: dict[str, str] | None = None,
        body: object = None, pid: int | None = None, note: str = "") -> Result:
    command = ["wrk", "-t1", f"-c{args.connections}", f"-d{args.duration}s", "--latency"]
    env = dict(os.environ)
    if body is not None:
        command += ["-s", str(BENCH / "post.lua")]
        env["BENCH_BODY"] = json.dumps(body)
        env["BENCH_AUTH"] = (headers or {}).get("Authorization", "")
    else:
        for key, value in (headers or {}).items():
            command += ["-H", f"{key}: {value}"]
    out = subprocess.run(pinned(1, command + [url]), capture_output=True, text=True, env=env).stdout

    def number(pattern: str) -> float:
        found = re.search(pattern, out)
        return float(found.group(1)) if found else 0.0

    def latency(pct: str) -> float:
        found = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
        if not found:
            return 0.0
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]
        return float(found.group(1)) * scale

    socket_errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return Result(
        name=name,
        rps=number(r"Requests/sec:\s+([\d.]+)"),
        p50_ms=latency("50"),
        p99_ms=latency("99"),
        requests=int(number(r"(\d+) requests in")),
        errors=int(number(r"Non-2xx or 3xx responses: (\d+)")) + socket_errors,
        rss_mb=proc_kb(pid, "VmHWM") / 1024 if pid else None,
        note=note,
    )


def bench_fixtures(tmp: Path) -> Path:
    """The default fixtures with stock for any run length."""
    from emulator.config import DEFAULT_FIXTURES

    doc = json.loads(DEFAULT_FIXTURES.read_text("utf-8"))
    for service in doc["247xd"]["otpServices"]:
        for option in service["priceOptions"]:
            option["stock"] = 10**9
    path = tmp / "bench-fixtures.json"
    path.write_text(json.dumps(doc), "utf-8")
    return path


def emulator_command(port: int, fixtures: Path, *flags: str) -> list[str]:
    """The emulator as a user starts it (defaults: the access log on, at info, as text),
    with the run's fixtures and a high rate limit; `flags` on top."""
    return [PY, "-m", "emulator", "serve", "--port", str(port), "--fixtures", str(fixtures),
            "--rate-limit-247xd", HIGH_LIMIT, "--rate-limit-usdtlowfee", HIGH_LIMIT, *flags]


UVICORN = ["--log-level", "warning", "--no-access-log", "--http", "httptools", "--loop", "uvloop"]


def median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def target_rows(
    args: argparse.Namespace, fixtures: Path, demo_key: str, extra: dict[str, str]
) -> list[Result]:
    """The rows the speed targets compare, measured interleaved: the two ceilings, the
    emulator at its defaults and at `--log-level warning` all serve at once (each pinned
    to core 0, idle while another is loaded), and `--rounds` rounds load each row in
    turn for duration/rounds seconds. Each row reports its median round, so a drift of
    the machine during the run moves every row alike instead of the ones that ran then."""
    bearer = {"Authorization": f"Bearer {demo_key}"}
    servers: dict[str, tuple[int, subprocess.Popen[bytes]]] = {}
    rows: list[tuple[str, str, str, dict[str, str], object, str]] = []
    with contextlib.ExitStack() as stack:
        for name, module in [("bare Starlette", "bare_app:app"), ("raw ASGI", "raw_app:app")]:
            port = free_port()
            command = [PY, "-m", "uvicorn", module, "--port", str(port), *UVICORN]
            process = stack.enter_context(server(command))
            started = wait_until_ok(port, "/api/v1/balance", demo_key)
            extra[f"ceiling ({name}) start to first 200"] = f"{started:.3f} s"
            servers[name] = (port, process)
            rows.append((f"ceiling: {name} GET balance", name, "/api/v1/balance", bearer, None, ""))
        quiet = ("--log-level", "warning")
        for name, flags, note in [("defaults", (), ""), ("warning", quiet, "access log off")]:
            port = free_port()
            process = stack.enter_context(server(emulator_command(port, fixtures, *flags)))
            started = wait_until_ok(port, "/api/v1/balance", demo_key)
            if name == "defaults":
                extra["emulator start to first authenticated 200"] = f"{started:.3f} s"
                extra["_start_s"] = f"{started}"
            servers[name] = (port, process)
            _, account = request(port, "POST", "/_emulator/247xd/accounts", {"coins": 10**9})
            rich = {"Authorization": f"Bearer {account['apiKey']}"}  # type: ignore[index]
            suffix = "" if name == "defaults" else ", logs at warning"
            rows.append((f"247xd GET balance{suffix}", name, "/api/v1/balance", bearer, None, note))
            rows.append((f"247xd POST OTP order{suffix}", name, "/api/v1/otp/orders", rich, OTP_ORDER, note))
        rounds: dict[str, list[Result]] = {row[0]: [] for row in rows}
        part = argparse.Namespace(**{**vars(args), "duration": max(1, round(args.duration / args.rounds))})
        for _ in range(args.rounds):
            for label, which, path, headers, body, note in rows:
                port, process = servers[which]
                rounds[label].append(wrk(label, f"http://127.0.0.1:{port}{path}", part, headers, body=body,
                                         pid=process.pid, note=note))
    out = []
    for label, *_ in rows:
        runs = rounds[label]
        best = sorted(runs, key=lambda r: r.rps)[len(runs) // 2]
        spread = f"rounds {', '.join(f'{r.rps:,.0f}' for r in runs)} req/s"
        out.append(Result(
            name=label, rps=best.rps, p50_ms=median([r.p50_ms for r in runs]),
            p99_ms=median([r.p99_ms for r in runs]), requests=sum(r.requests for r in runs),
            errors=sum(r.errors for r in runs), rss_mb=max((r.rss_mb or 0) for r in runs) or None,
            note="; ".join(filter(None, [best.note, spread])),
        ))
    return out


def ratios(args: argparse.Namespace) -> str:
    """Only the rows the speed targets compare: the ceilings, GET balance and POST OTP order
    at defaults and at warning."""
    extra: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp_dir:
        fixtures = bench_fixtures(Path(tmp_dir))
        demo_key = json.loads(fixtures.read_text())["247xd"]["accounts"][0]["keys"][0]["key"]
        results = target_rows(args, fixtures, demo_key, extra)
    extra.pop("_start_s", None)
    return report(results, extra, args) + "\n" + verdict(results, {})


def fill(port: int, path: str, body: object, authorization: str, count: int) -> None:
    """Create `count` orders through the API on one keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    raw = json.dumps(body)
    headers = {"Content-Type": "application/json", "Authorization": authorization}
    for _ in range(count):
        conn.request("POST", path, body=raw, headers=headers)
        response = conn.getresponse()
        response.read()
        assert response.status == 201, response.status
    conn.close()


ENERGY_ORDER = {"type": "manual", "data": {"tronAddress": TRON_ADDRESS, "energyValue": 65000,
                                           "durationHours": 1}}
OTP_ORDER = {"serviceId": OTP_SERVICE, "priceOptionId": OTP_OPTION}


def lifecycle_ms(runs: int = 300) -> tuple[float, float]:
    """One whole OTP order lifecycle (create, get, cancel, refund) in-process: through the
    emulator's own in-process transport, and through Starlette's TestClient for comparison."""
    from starlette.testclient import TestClient

    from emulator.app import create_app
    from emulator.config import Config
    from emulator.testing.transport import in_process_client

    body = OTP_ORDER

    def measure(client: Any) -> float:
        key = client.post("/_emulator/247xd/accounts", json={"coins": 10**6}).json()["apiKey"]
        headers = {"Authorization": f"Bearer {key}"}

        def lifecycle() -> None:
            order = client.post("/api/v1/otp/orders", json=body, headers=headers).json()["data"]
            path = f"/api/v1/otp/orders/{order['orderId']}"
            assert client.get(path, headers=headers).status_code == 200
            assert client.post(path + "/cancel", headers=headers).status_code == 200
            assert client.post(path + "/refund", headers=headers).status_code == 200

        for _ in range(20):  # warm up
            lifecycle()
        started = time.perf_counter()
        for _ in range(runs):
            lifecycle()
        return (time.perf_counter() - started) / runs * 1000

    config = Config(rate_limit_247xd=10**9)
    with in_process_client(create_app(config)) as client:
        own = measure(client)
    with TestClient(create_app(config)) as client:
        starlette = measure(client)
    return own, starlette


def write_until(port: int, authorization: str, stop: threading.Event) -> None:
    """POST OTP orders on one connection until `stop` is set, from the load generator's
    core (1), as wrk: left to the scheduler, these threads landed on the server's core and
    the GET p99 measured them, with or without a state file alike."""
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(threading.get_native_id(), {1})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    raw = json.dumps(OTP_ORDER)
    headers = {"Content-Type": "application/json", "Authorization": authorization}
    while not stop.is_set():
        conn.request("POST", "/api/v1/otp/orders", body=raw, headers=headers)
        response = conn.getresponse()
        response.read()
        assert response.status == 201, response.status
    conn.close()


def reads_while_writing(port: int, key: str, args: argparse.Namespace, what: str, pid: int) -> Result:
    """wrk GET balance while 4 clients POST OTP orders in a loop."""
    stop = threading.Event()
    writers = [threading.Thread(target=write_until, args=(port, key, stop)) for _ in range(4)]
    for writer in writers:
        writer.start()
    try:
        return wrk(f"GET balance while 4 clients write, {what}", f"http://127.0.0.1:{port}/api/v1/balance",
                   args, {"Authorization": key}, pid=pid)
    finally:
        stop.set()
        for writer in writers:
            writer.join()


# The durability scenario alternates the two servers this many times per measurement (each
# run a share of --duration), so that a change in the machine's load hits both alike.
ROUNDS = 2


def combined(name: str, runs: list[Result]) -> Result:
    """One row for alternating runs of the same thing: their mean rate, mean p50 and p99."""
    count = len(runs)
    return Result(
        name=name, rps=sum(r.rps for r in runs) / count, p50_ms=sum(r.p50_ms for r in runs) / count,
        p99_ms=sum(r.p99_ms for r in runs) / count, requests=sum(r.requests for r in runs),
        errors=sum(r.errors for r in runs), rss_mb=runs[-1].rss_mb,
        note=f"mean of {count} runs alternating with the other server",
    )


def durability(args: argparse.Namespace, fixtures: Path, demo_key: str, tmp: Path,
               results: list[Result], extra: dict[str, str], metrics: dict[str, float]) -> None:
    """Issue 14: POST OTP order with the state file (the image's and the CLI's defaults:
    --fsync off) against the same without, at 20,000 and 100,000 orders in state; GET
    p99 while writes run; restart with >= 100,000 orders; compaction's stall in-process.

    Two servers run side by side, one with the state file, both filled through the API,
    and each measurement alternates between them (ROUNDS times, --duration split among
    them): the ratio compares runs minutes apart at most, not a run before another
    helper's test suite started with one after."""
    state_file = tmp / "durable" / "state.json"
    state_file.parent.mkdir()
    ports = {"memory": free_port(), "disk": free_port()}
    commands = {
        "memory": emulator_command(ports["memory"], fixtures),
        "disk": emulator_command(ports["disk"], fixtures) + ["--state-file", str(state_file)],
    }
    what = {"memory": "no state file", "disk": "state file"}
    short = argparse.Namespace(**{**vars(args), "duration": max(2, args.duration // ROUNDS)})
    # The state file's server ends killed (-9), so server() finds no process group left to stop.
    with server(commands["memory"]) as memory, contextlib.suppress(ProcessLookupError), \
            server(commands["disk"]) as disk:
        pids = {"memory": memory.pid, "disk": disk.pid}
        keys: dict[str, str] = {}
        for name, port in ports.items():
            wait_until_ok(port, "/api/v1/balance", demo_key)
            _, account = request(port, "POST", "/_emulator/247xd/accounts", {"coins": 10**9})
            keys[name] = account["apiKey"]  # type: ignore[index]
        rps: dict[str, float] = {}
        for size, more in (("20,000", 20_000), ("100,000", 80_000)):
            fillers = [threading.Thread(target=fill, args=(ports[n], "/api/v1/otp/orders", OTP_ORDER,
                                                           f"Bearer {keys[n]}", more)) for n in ports]
            for filler in fillers:
                filler.start()
            for filler in fillers:
                filler.join()
            runs: dict[str, list[Result]] = {"memory": [], "disk": []}
            for _ in range(ROUNDS):
                for name in ("memory", "disk"):
                    url = f"http://127.0.0.1:{ports[name]}/api/v1/otp/orders"
                    runs[name].append(wrk(f"POST {name} {size}", url, short,
                                          {"Authorization": f"Bearer {keys[name]}"}, body=OTP_ORDER,
                                          pid=pids[name]))
            for name in ("memory", "disk"):
                row = combined(f"POST OTP order, {size} orders in state, {what[name]}", runs[name])
                results.append(row)
                rps[f"{name} {size}"] = row.rps
        reads: dict[str, list[Result]] = {"memory": [], "disk": []}
        for _ in range(ROUNDS):
            for name in ("memory", "disk"):
                reads[name].append(reads_while_writing(ports[name], f"Bearer {keys[name]}", short, what[name],
                                                       pids[name]))
        for name in ("memory", "disk"):
            row = combined(reads[name][0].name, reads[name])
            results.append(row)
            if name == "disk":
                metrics["durable_get_p99_ms"] = row.p99_ms
        extra["RSS after the writes (now; the table's column is the peak)"] = (
            f"{proc_kb(memory.pid, 'VmRSS') / 1024:.1f} MB without the state file, "
            f"{proc_kb(disk.pid, 'VmRSS') / 1024:.1f} MB with it"
        )
        log = state_file.with_name(state_file.name + ".log")
        extra["state file after the writes"] = (
            f"snapshot {state_file.stat().st_size / 1e6:.1f} MB, log {log.stat().st_size / 1e6:.1f} MB"
        )
        os.killpg(disk.pid, signal.SIGKILL)  # kill -9: the next start replays the log
        disk.wait()
    for how in ("after kill -9 (snapshot + log replay)", "after a clean stop (snapshot only)"):
        port = free_port()
        command = emulator_command(port, fixtures) + ["--state-file", str(state_file)]
        with server(command):
            restart_s = wait_until_ok(port, "/api/v1/balance", keys["disk"])
        extra[f"restart with >= 100,000 orders {how}: first authenticated 200"] = f"{restart_s:.3f} s"
        metrics["restart_s"] = max(metrics.get("restart_s", 0.0), restart_s)
    for size in ("20,000", "100,000"):
        metrics[f"durable_ratio {size}"] = rps[f"disk {size}"] / (rps[f"memory {size}"] or 1.0)
    stall_ms, export_ms = compaction_stall_ms(tmp)
    metrics["compaction_stall_ms"] = stall_ms
    extra["compaction with 100,000 orders"] = (
        f"requests stall {stall_ms:.1f} ms (fork); the child's export alone takes {export_ms:.0f} ms"
    )


def compaction_stall_ms(tmp: Path, orders: int = 100_000) -> tuple[float, float]:
    """In-process: the time compaction holds the emulator lock (the fork) with `orders` OTP
    orders in state, and what a synchronous export of the same state would take."""
    from emulator import state as state_mod
    from emulator.app import create_app
    from emulator.config import Config
    from emulator.durable import open_state_file
    from emulator.runtime import Emulator

    emu = Emulator(Config(seed=1, fixtures=bench_fixtures(tmp)))
    app = create_app(emulator=emu)
    backend = emu.xd247
    account, _ = backend.create_account(10**11)
    now = emu.clock.now_us()
    for _ in range(orders):
        backend.create_otp_order(account, OTP_SERVICE, OTP_OPTION, now)
    folder = tmp / "stall"
    folder.mkdir()
    durable = open_state_file(folder / "state.json", emu, app)
    started = time.perf_counter()
    with emu.lock:
        state_mod.snapshot(emu)  # what the child writes
    export_ms = (time.perf_counter() - started) * 1000
    with emu.lock:
        started = time.perf_counter()
        durable.compact()
        stall_ms = (time.perf_counter() - started) * 1000
    durable.close()
    return stall_ms, export_ms


def durability_verdict(metrics: dict[str, float]) -> str:
    ratio20, ratio100 = metrics["durable_ratio 20,000"], metrics["durable_ratio 100,000"]
    checks = [
        ("POST with state file >= 0.8 × without, 20,000 orders", ratio20, 0.8, ">="),
        ("POST with state file >= 0.8 × without, 100,000 orders", ratio100, 0.8, ">="),
        ("no downward trend (ratio at 100,000 / ratio at 20,000 >= 0.9)", ratio100 / (ratio20 or 1), 0.9,
         ">="),
        ("GET p99 while writes run, state file, 32 connections <= 5 ms", metrics["durable_get_p99_ms"], 5.0,
         "<="),
        ("restart with 100,000 orders to first authenticated 200 <= 2 s", metrics["restart_s"], 2.0, "<="),
        ("compaction stall with 100,000 orders <= 5 ms", metrics["compaction_stall_ms"], 5.0, "<="),
    ]
    lines = ["## Durable state targets in this run", "", "| target | this run | met |", "|---|---:|---|"]
    for name, value, bound, op in checks:
        met = value >= bound if op == ">=" else value <= bound
        lines.append(f"| {name} | {value:.2f} | {'yes' if met else '**no**'} |")
    return "\n".join(lines) + "\n"


def run_durability(args: argparse.Namespace) -> str:
    """`bench/run.py --only durability`: that scenario alone."""
    results: list[Result] = []
    extra: dict[str, str] = {}
    metrics: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp_dir:
        fixtures = bench_fixtures(Path(tmp_dir))
        demo_key = json.loads(fixtures.read_text())["247xd"]["accounts"][0]["keys"][0]["key"]
        durability(args, fixtures, demo_key, Path(tmp_dir), results, extra, metrics)
    return report(results, extra, args) + "\n" + durability_verdict(metrics)


def run(args: argparse.Namespace) -> str:
    results: list[Result] = []
    extra: dict[str, str] = {}
    metrics: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp_dir:
        fixtures = bench_fixtures(Path(tmp_dir))
        demo_key = json.loads(fixtures.read_text())["247xd"]["accounts"][0]["keys"][0]["key"]

        results += target_rows(args, fixtures, demo_key, extra)
        start_s = float(extra.pop("_start_s"))
        metrics["start_s"] = start_s

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with server(emulator_command(port, fixtures)) as process:
            wait_until_ok(port, "/api/v1/balance", demo_key)
            _, account = request(port, "POST", "/_emulator/247xd/accounts", {"coins": 10**9})
            rich = {"Authorization": f"Bearer {account['apiKey']}"}  # type: ignore[index]
            body = OTP_ORDER
            _, order = request(port, "POST", "/api/v1/otp/orders", body, key=account["apiKey"])  # type: ignore[index]
            order_id = order["data"]["orderId"]  # type: ignore[index]
            results.append(wrk("247xd GET OTP order", f"{base}/api/v1/otp/orders/{order_id}", args, rich,
                               pid=process.pid))
            results.append(wrk("401 path (no key)", f"{base}/api/v1/balance", args, {}, pid=process.pid,
                               note="every response is the expected 401"))

            _, usdt = request(port, "POST", "/_emulator/usdtlowfee/accounts", {"balanceSun": 10**15})
            usdt_key = usdt["apiKey"]  # type: ignore[index]
            apikey = {"Authorization": f"ApiKey {usdt_key}"}
            results.append(wrk("USDTLowFee POST energy order", f"{base}/v1/energy/orders", args, apikey,
                               body=ENERGY_ORDER, pid=process.pid))
            _, few = request(port, "POST", "/_emulator/usdtlowfee/accounts", {"balanceSun": 10**12})
            fill(port, "/v1/energy/orders", ENERGY_ORDER, f"ApiKey {few['apiKey']}", 20)  # type: ignore[index]
            _, many = request(port, "POST", "/_emulator/usdtlowfee/accounts", {"balanceSun": 10**15})
            fill(port, "/v1/energy/orders", ENERGY_ORDER, f"ApiKey {many['apiKey']}", 10_000)  # type: ignore[index]
            results.append(wrk("USDTLowFee list 20 of 20 orders", f"{base}/v1/energy/orders?limit=20", args,
                               {"Authorization": f"ApiKey {few['apiKey']}"}, pid=process.pid))  # type: ignore[index]
            results.append(wrk("USDTLowFee list 20 of 10,000 orders", f"{base}/v1/energy/orders?limit=20",
                               args, {"Authorization": f"ApiKey {many['apiKey']}"}, pid=process.pid))  # type: ignore[index]

        # Memory with 100,000 orders: a fresh server, filled through the API.
        port = free_port()
        with server(emulator_command(port, fixtures)) as process:
            wait_until_ok(port, "/api/v1/balance", demo_key)
            idle = proc_kb(process.pid, "VmRSS") / 1024
            _, account = request(port, "POST", "/_emulator/247xd/accounts", {"coins": 10**9})
            fill(port, "/api/v1/otp/orders", OTP_ORDER, f"Bearer {account['apiKey']}", 100_000)  # type: ignore[index]
            full = proc_kb(process.pid, "VmRSS") / 1024
        extra["RSS idle"] = f"{idle:.1f} MB"
        extra["RSS with 100,000 OTP orders"] = f"{full:.1f} MB"
        metrics["rss_100k_mb"] = full
        own, starlette = lifecycle_ms()
        metrics["lifecycle_ms"] = own
        extra["one OTP order lifecycle in-process (create, get, cancel, refund)"] = (
            f"{own:.3f} ms with emulator.testing's in-process client; "
            f"{starlette:.3f} ms with Starlette's TestClient"
        )

        durability(args, fixtures, demo_key, Path(tmp_dir), results, extra, metrics)

        if args.peers:
            results.extend(peers(args, demo_key))

    return (report(results, extra, args) + "\n" + verdict(results, metrics) + "\n"
            + durability_verdict(metrics))


def peers(args: argparse.Namespace, key: str) -> list[Result]:
    """Prism and WireMock from the npm registry serving an equivalent balance stub."""
    out: list[Result] = []
    if not shutil.which("npx"):
        return out
    bearer = {"Authorization": f"Bearer {key}"}
    port = free_port()
    prism = ["npx", "--yes", "@stoplight/prism-cli@5", "mock", "-p", str(port), "-h", "127.0.0.1",
             str(BENCH / "peer_stub.yaml")]
    try:
        with server(prism) as process:
            wait_until_ok(port, "/api/v1/balance", key, limit_s=180)
            out.append(wrk("peer: Prism GET balance", f"http://127.0.0.1:{port}/api/v1/balance", args,
                           bearer, pid=process.pid))
    except (TimeoutError, OSError) as exc:
        print(f"prism skipped: {exc}", file=sys.stderr)
    if shutil.which("java"):
        port = free_port()
        wiremock = ["npx", "--yes", "wiremock@3", "--port", str(port), "--root-dir",
                    str(BENCH / "wiremock"), "--disable-banner"]
        try:
            with server(wiremock) as process:
                wait_until_ok(port, "/api/v1/balance", key, limit_s=180)
                out.append(wrk("peer: WireMock GET balance", f"http://127.0.0.1:{port}/api/v1/balance",
                               args, bearer, pid=process.pid,
                               note="RSS is the npx wrapper's; the JVM is its child"))
        except (TimeoutError, OSError) as exc:
            print(f"wiremock skipped: {exc}", file=sys.stderr)
    return out


def report(results: list[Result], extra: dict[str, str], args: argparse.Namespace) -> str:
    ceiling = results[0].rps or 1.0
    lines = [
        "| scenario | req/s | p50 ms | p99 ms | requests | errors | peak RSS MB | × ceiling | note |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        rss = f"{r.rss_mb:.1f}" if r.rss_mb is not None else ""
        lines.append(f"| {r.name} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.requests:,} | "
                     f"{r.errors:,} | {rss} | {r.rps / ceiling:.2f} | {r.note} |")
    lines.append("")
    lines += [f"- {name}: {value}" for name, value in extra.items()]
    return "\n".join(lines) + "\n"


def verdict(results: list[Result], metrics: dict[str, float]) -> str:
    """Each target of the benchmark issue against this run's numbers."""
    by_name = {r.name: r for r in results}
    starlette = by_name["ceiling: bare Starlette GET balance"].rps or 1.0
    raw = by_name["ceiling: raw ASGI GET balance"].rps or 1.0
    ours = [r for r in results if not r.name.startswith(("ceiling", "peer"))]
    get = by_name["247xd GET balance"].rps
    post = by_name["247xd POST OTP order"].rps
    checks = [
        ("GET balance at defaults >= 0.9 × bare Starlette", get / starlette, 0.9, ">="),
        ("GET balance at defaults >= 0.75 × raw ASGI", get / raw, 0.75, ">="),
        ("POST OTP order at defaults >= 0.55 × bare Starlette", post / starlette, 0.55, ">="),
        ("p99 <= 5 ms at 32 connections (worst emulator row)", max(r.p99_ms for r in ours), 5.0, "<="),
    ]
    if "start_s" in metrics:  # the whole run, not --ratios
        few = by_name["USDTLowFee list 20 of 20 orders"].rps
        many = by_name["USDTLowFee list 20 of 10,000 orders"].rps
        checks += [
            ("start to first authenticated 200 <= 0.4 s", metrics["start_s"], 0.4, "<="),
            ("RSS <= 60 MB with 100,000 orders", metrics["rss_100k_mb"], 60.0, "<="),
            ("list 20 of 10,000 ≈ 20 of 20 (req/s ratio >= 0.8)", many / (few or 1), 0.8, ">="),
            ("one order lifecycle in-process <= 2 ms", metrics["lifecycle_ms"], 2.0, "<="),
        ]
    warning = by_name.get("247xd GET balance, logs at warning")
    lines = ["## Targets in this run", "", "| target | this run | met |", "|---|---:|---|"]
    for name, value, bound, op in checks:
        met = value >= bound if op == ">=" else value <= bound
        lines.append(f"| {name} | {value:.2f} | {'yes' if met else '**no**'} |")
    if warning is not None and warning.rps:
        lines += ["", f"- GET balance at defaults ÷ at warning (the access log's cost is 1 minus this): "
                  f"{get / warning.rps:.2f} ({get:,.0f} and {warning.rps:,.0f} req/s)"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3,
                        help="interleaved rounds of the target rows (each row: its median round)")
    parser.add_argument("--peers", action=argparse.BooleanOptionalAction,
                        default=shutil.which("node") is not None)
    parser.add_argument("--out", type=Path, default=BENCH / "RESULTS.md")
    parser.add_argument("--only", choices=["durability"], help="run one scenario alone")
    parser.add_argument("--ratios", action="store_true",
                        help="only the rows the speed targets compare; print them, write no file")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: `make bench` installs it (apt-get install wrk)")
    if args.ratios:
        print(ratios(args))
        return
    table = run_durability(args) if args.only == "durability" else run(args)
    command = " ".join(["python bench/run.py", *sys.argv[1:]])
    header_file = BENCH / "RESULTS.header.md"
    header = header_file.read_text("utf-8") if header_file.exists() else ""
    args.out.write_text(
        header + f"\n## Latest run\n\n`{command}` on {os.cpu_count()} cores, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n\n" + table, "utf-8"
    )
    print(table)


if __name__ == "__main__":
    main()
