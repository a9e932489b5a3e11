"""The teeth of the contract suites: each deliberately broken copy of the emulator
(breakages.py) run through the real suite in a child pytest, which must fail with the drift
report naming the check that caught it.

Three ways to apply a breakage:

- in-process (`CONTRACT_BREAK`): the child's in-process emulator is wrapped;
- live with a control URL: `emulator serve` (default limits), `proxy.py` applying the breakage in
  front of it, the child run against the proxy with `CONTRACT_CONTROL_URL` (waits are clock moves);
- live with the defaults: the same without `CONTRACT_CONTROL_URL`, as against a real vendor: waits
  are real time at 60 requests a minute per key (slow: not in `make test`).

test_teeth.py runs the first two for every breakage in `make test`. The third:

    python -m contract_tests.teeth --defaults [BREAKAGE ...]    # or: make contract-live

Each worker thread owns one served emulator and runs its breakages one after another, with a
`POST /_emulator/reset` in between (the fixtures again, the clock back at its start, fresh rate-limit
windows), so parallel runs never share a clock or a rate-limit bucket.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx

from .breakages import BREAKAGES
from .semantics import RULES

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TIMEOUT_S = 600

# breakage -> (suite module, operationId it touches (None: the stateful flows), its label, the check
# that must report it, other checks of ours that may report it too)
CASES: dict[str, tuple[str, str | None, str, str, frozenset[str]]] = {
    "rename-field": ("test_xd247.py", "getBalance", "GET /balance", "response_schema_conformance", frozenset()),
    "change-type": (
        "test_usdtlowfee.py", "getWalletBalance", "GET /v1/wallet/balance", "response_schema_conformance",
        frozenset(),
    ),
    "change-status": (
        "test_xd247.py", "createOtpOrder", "POST /otp/orders", "status_code_conformance", frozenset({"created_status"})
    ),
    "drop-header": (
        "test_xd247.py", "listOtpServices", "GET /otp/services", "response_headers_conformance", frozenset()
    ),
    "ignore-auth": ("test_usdtlowfee.py", "getCurrentUser", "GET /v1/users/me", "ignored_auth", frozenset()),
    "no-allow": (
        "test_usdtlowfee.py", "getWalletBalance", "GET /v1/wallet/balance", "unsupported_method", frozenset()
    ),
    "total-mismatch": ("test_usdtlowfee.py", "getWalletBalance", "GET /v1/wallet/balance", "wallet_total", frozenset()),
    "double-refund": ("test_xd247.py", None, "POST /otp/orders/{orderId}/refund", "money_refund", frozenset()),
    "oldest-first": (
        "test_usdtlowfee.py", "listEnergyOrders", "GET /v1/energy/orders", "list_order", frozenset({"list_pages"})
    ),
    "page-order": (
        "test_usdtlowfee.py", "listEnergyOrders", "GET /v1/energy/orders", "list_order", frozenset({"list_pages"})
    ),
    "offset-overlap": (
        "test_usdtlowfee.py", "listEnergyOrders", "GET /v1/energy/orders", "list_pages", frozenset({"list_window"})
    ),
    "limit-mutated": ("test_usdtlowfee.py", "listEnergyOrders", "GET /v1/energy/orders", "list_window", frozenset()),
    "status-ignored": (
        "test_usdtlowfee.py", "listEnergyOrders", "GET /v1/energy/orders", "list_refusals", frozenset()
    ),
    "no-content-body": ("test_usdtlowfee.py", None, "PUT /v1/addresses/{id}/default", "no_content", frozenset()),
    "reset-ms": ("test_xd247.py", "getBalance", "GET /balance", "rate_limit_reset", frozenset()),
    "remaining-static": ("test_xd247.py", "getBalance", "GET /balance", "rate_limit_remaining", frozenset()),
    "no-retry-after": ("test_xd247.py", "getBalance", "GET /balance", "retry_after", frozenset()),
    "skip-state": ("test_xd247.py", "createSocialOrder", "POST /social/orders", "state_edges", frozenset()),
    "wrong-can-transition": (
        "test_usdtlowfee.py", "createEnergyOrder", "POST /v1/energy/orders", "can_transition_to", frozenset()
    ),
    "price-misreported": ("test_xd247.py", None, "POST /otp/orders", "money_create", frozenset()),
    "frozen-stuck": ("test_usdtlowfee.py", None, "POST /v1/energy/orders", "frozen_release", frozenset()),
    "txid-missing": ("test_usdtlowfee.py", None, "GET /v1/energy/orders/{id}", "completed_order", frozenset()),
    "expires-no-ms": ("test_xd247.py", "createOtpOrder", "POST /otp/orders", "time_format", frozenset()),
}

# The phases a child runs (CONTRACT_PHASES). The flows' children need only the stateful phase: the
# other phases' tests are deselected, but schemathesis would still build their coverage cases at
# collection (POST /social/orders' link pattern alone costs ~30 s). skip-state is seen in the first
# 201, which the documents' examples give.
PHASES = {"skip-state": "examples,fuzzing"}

# frozen-stuck without a control plane: the fixed walk (support.scripted_flows) waits for its energy
# order to settle by itself (the emulator's fulfilment, 5 s of real time), polling it by id, at most
# CONTRACT_SETTLE_WAIT_S, and reads the wallet before and after (support.Money.await_settlement).

# Without a control plane nothing completes an energy order on demand, and the flows read their
# orders back within the vendor's fulfilment time (5 s in the emulator). So, as a user against the
# real API would, the run is given the id of an order that has completed (CONTRACT_USDTLOWFEE_ORDER_IDS)
# and reads it by id: placed through the proxy before the child starts, read once it is due.
COMPLETED_ORDER = {"txid-missing": "getEnergyOrder"}
FULFILMENT_S = 5  # the default fixtures' fulfilmentDelaySeconds


def _completed_order(proxy_url: str) -> str:
    from emulator.usdtlowfee import tron

    auth = {"Authorization": f"ApiKey {KEYS['usdtlowfee']}"}
    body = {"type": "manual", "data": {
        "tronAddress": tron.address_from_bytes(os.urandom(20)), "energyValue": 32000, "durationHours": 1}}
    created = httpx.post(f"{proxy_url}/v1/energy/orders", json=body, headers=auth, timeout=30)
    created.raise_for_status()
    order_id = str(created.json()["data"]["id"])
    time.sleep(FULFILMENT_S + 1)  # real time: the order completes on the server's clock
    return order_id

KEYS = {
    "247xd": "247xd_b8dea7c360f5addabe9d6dd532d8fadd55d62b2a",  # xd-rich of the default fixtures
    "usdtlowfee": "ak_live_rR89FMJJckUpNloEOvSsT6RT8ItCPzCp",  # ulf-rich
}

IN_PROCESS, CONTROL, DEFAULTS = "in-process", "control", "defaults"


@dataclass(frozen=True, slots=True)
class Run:
    breakage: str
    mode: str
    code: int
    drift: str
    output: str
    seconds: float
    coverage: dict[str, Any] | None


def child_env(breakage: str, reports: Path, mode: str) -> dict[str, str]:
    _, operation, _, _, _ = CASES[breakage]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONTRACT_", "PYTEST_"))}
    env |= {"CONTRACT_REPORT_DIR": str(reports), "CONTRACT_NO_SHRINK": "1"}
    if mode != DEFAULTS:
        # Few examples: a breakage only has to be caught. A run without a control plane keeps the
        # suite's own live defaults (they fit 60 requests a minute).
        env |= {"CONTRACT_MAX_EXAMPLES": "5", "CONTRACT_STATEFUL_EXAMPLES": "5"}
    if mode == IN_PROCESS:
        env["CONTRACT_BREAK"] = breakage
    if operation is not None:
        env["CONTRACT_OPERATIONS"] = operation
        if breakage in PHASES:
            env["CONTRACT_PHASES"] = PHASES[breakage]
    else:
        env["CONTRACT_PHASES"] = "stateful"
    return env


def child_command(breakage: str, flows: bool = True) -> list[str]:
    module, operation, _, _, _ = CASES[breakage]
    selection = "not Flows and not flows" if operation is not None or not flows else "Flows"
    # --assert=plain: the suites need no assertion rewriting, and rewriting the plugins' modules
    # again in every child (no bytecode cache where PYTHONDONTWRITEBYTECODE is set) costs ~2 s each.
    return [
        sys.executable, "-m", "pytest", str(HERE / module), "-p", "no:cacheprovider", "--assert=plain",
        "-q", "-k", selection, "-W", "error",
    ]


def _run_child(
    breakage: str, mode: str, env: dict[str, str], reports: Path, timeout: float, flows: bool = True
) -> Run:
    started = time.monotonic()
    try:
        child = subprocess.run(
            child_command(breakage, flows), cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
        )
        code, output = child.returncode, child.stdout + child.stderr
    except subprocess.TimeoutExpired as exc:
        partial = [out.decode() if isinstance(out, bytes) else out or "" for out in (exc.stdout, exc.stderr)]
        code, output = -1, f"timed out after {timeout} s\n{''.join(partial)}"
    drift = reports / "drift.md"
    cover = reports / "coverage.json"
    return Run(
        breakage, mode, code, drift.read_text("utf-8") if drift.exists() else "", output,
        round(time.monotonic() - started, 1), json.loads(cover.read_text("utf-8")) if cover.exists() else None,
    )


def run_in_process(breakage: str, tmp: Path, timeout: float = TIMEOUT_S) -> Run:
    reports = tmp / IN_PROCESS / breakage
    return _run_child(breakage, IN_PROCESS, child_env(breakage, reports, IN_PROCESS), reports, timeout)


def run_live(breakage: str, served_url: str, tmp: Path, mode: str, timeout: float = TIMEOUT_S) -> Run:
    """`breakage` applied by proxy.py in front of the emulator served at `served_url`; the child run
    against the proxy, with the control URL (mode CONTROL) or without (DEFAULTS)."""
    started = time.monotonic()
    httpx.post(f"{served_url}/_emulator/reset", timeout=30).raise_for_status()
    api = BREAKAGES[breakage][0]
    proxy = subprocess.Popen(
        [sys.executable, "-m", "contract_tests.proxy", served_url, breakage, KEYS[api]],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert proxy.stdout is not None
        url = proxy.stdout.readline().split()[-1]
        reports = tmp / mode / breakage
        env = child_env(breakage, reports, mode)
        env |= {
            "CONTRACT_247XD_URL": f"{url}/api/v1", "CONTRACT_247XD_KEY": KEYS["247xd"],
            "CONTRACT_USDTLOWFEE_URL": url, "CONTRACT_USDTLOWFEE_KEY": KEYS["usdtlowfee"],
            "CONTRACT_ALLOW_SPEND": "1",
        }
        if mode == CONTROL:
            env["CONTRACT_CONTROL_URL"] = f"{served_url}/_emulator"
        elif breakage in COMPLETED_ORDER:
            env |= {"CONTRACT_OPERATIONS": COMPLETED_ORDER[breakage], "CONTRACT_PHASES": "examples,coverage,fuzzing",
                    "CONTRACT_USDTLOWFEE_ORDER_IDS": _completed_order(url)}
        run = _run_child(breakage, mode, env, reports, timeout, flows=mode != DEFAULTS or breakage not in COMPLETED_ORDER)
        return replace(run, seconds=round(time.monotonic() - started, 1))  # with the proxy's start and any setup
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)
        if proxy.stdout is not None:
            proxy.stdout.close()


# Rough cost of a child, to start the long ones first (the flows' children make the most requests).
def _cost(job: tuple[str, str]) -> tuple[int, int]:
    breakage, mode = job
    return (CASES[breakage][1] is None, mode != IN_PROCESS)


def run_all(
    jobs: list[tuple[str, str]], parallel: int, tmp: Path, timeout: float = TIMEOUT_S
) -> dict[tuple[str, str], Run]:
    """Every (breakage, mode) job, `parallel` at a time, the dearest first; each worker starts its own
    served emulator (default limits) the first time it needs one."""
    sys.path.insert(0, str(ROOT))
    from tests.served import serve

    queue = deque(sorted(jobs, key=_cost, reverse=True))
    lock = threading.Lock()
    results: dict[tuple[str, str], Run] = {}
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with ExitStack() as stack:
                served = None
                while True:
                    with lock:
                        if not queue:
                            return
                        breakage, mode = queue.popleft()
                    if mode == IN_PROCESS:
                        run = run_in_process(breakage, tmp, timeout)
                    else:
                        if served is None:
                            served = stack.enter_context(serve())
                        run = run_live(breakage, served.url, tmp, mode, timeout)
                    with lock:
                        results[(breakage, mode)] = run
        except BaseException as exc:  # reported by the caller
            errors.append(exc)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, parallel))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def reported(run: Run) -> str | None:
    """None when the run failed and the breakage's check reported it (and no other semantic check
    of ours did); else why not."""
    _, _, label, check, also = CASES[run.breakage]
    if run.code != 1:
        return f"the suite did not fail (exit {run.code})"
    rows = [line.split(" | ") for line in run.drift.splitlines() if line.startswith("| ")]
    if not any(row[0] == f"| {label}" and check in row[1] for row in rows):
        return f"{check} did not report it on {label}"
    ours = {name for row in rows for name in RULES if f"{name} (" in row[1]}
    if not ours <= {check, *also}:
        return f"other checks reported it too: {sorted(ours - {check, *also})}"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m contract_tests.teeth", description=__doc__.split("\n\n")[0])
    parser.add_argument("breakages", nargs="*", help=f"default: all {len(CASES)}")
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--defaults", action="store_const", dest="mode", const=DEFAULTS,
                     help="live through the proxy, no control URL: real waits at 60 requests a minute (default)")
    how.add_argument("--control", action="store_const", dest="mode", const=CONTROL,
                     help="live through the proxy with the control URL (what make test runs)")
    how.add_argument("--in-process", action="store_const", dest="mode", const=IN_PROCESS)
    parser.add_argument("--parallel", type=int, default=None,
                        help="children at a time, each with its own served emulator (default: 6 for --defaults, "
                        "whose children mostly wait; else 3)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per child (default 900)")
    parser.add_argument("--json", type=Path, help="write the results there too")
    parser.add_argument("--reports", type=Path, help="keep each child's drift.md and coverage.json under this directory")
    args = parser.parse_args(argv)
    mode = args.mode or DEFAULTS
    names = args.breakages or list(CASES)
    unknown = sorted(set(names) - set(CASES))
    if unknown:
        parser.error(f"unknown breakages {unknown}; known: {', '.join(CASES)}")
    parallel = args.parallel or (6 if mode == DEFAULTS else 3)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="contract-teeth-") as tmp:
        results = run_all([(name, mode) for name in names], parallel, args.reports or Path(tmp), args.timeout)
    rows = []
    print("| breakage | check | reported | seconds | requests | 429s | note |\n|---|---|---|---|---|---|---|")
    for name in names:
        run = results[(name, mode)]
        why = reported(run)
        cover = run.coverage or {}
        note = why or ""
        print(f"| {name} | {CASES[name][3]} | {'yes' if why is None else 'NO'} | {run.seconds} "
              f"| {cover.get('requests', '?')} | {cover.get('rateLimited', '?')} | {note} |")
        rows.append({"breakage": name, "check": CASES[name][3], "reported": why is None, "why": why,
                     "seconds": run.seconds, "requests": cover.get("requests"), "rateLimited": cover.get("rateLimited"),
                     "output": run.output[-3000:] if why else ""})
    missed = [row["breakage"] for row in rows if not row["reported"]]
    print(f"\n{len(rows) - len(missed)} of {len(rows)} reported ({mode}), {time.monotonic() - started:.0f} s in all"
          + (f"; missed: {', '.join(missed)}" if missed else ""))
    if args.json:
        args.json.write_text(json.dumps({"mode": mode, "parallel": parallel, "runs": rows}, indent=2) + "\n", "utf-8")
    for row in rows:
        if row["breakage"] in missed:
            print(f"\n--- {row['breakage']}: {row['why']}\n{row['output']}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
