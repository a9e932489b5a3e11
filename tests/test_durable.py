"""Durable state (emulator/durable.py, docs/durability.md): the write-ahead command log."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulator import durable as durable_mod
from emulator import state as state_mod
from emulator.app import create_app
from emulator.config import Config
from emulator.core.clock import parse_iso, pin_wall, wall_us
from emulator.durable import DurableState, open_state_file
from emulator.runtime import Emulator
from emulator.testing.transport import in_process_client

from .served import serve

XD_RICH = {"Authorization": "Bearer 247xd_b8dea7c360f5addabe9d6dd532d8fadd55d62b2a"}
ULF_RICH = {"Authorization": "ApiKey ak_live_rR89FMJJckUpNloEOvSsT6RT8ItCPzCp"}
PREMIUM = "a1724606-ddc1-4bbd-b225-d523fffc171f"
ADDRESS = "TXfLr54GXLwfcBtwNPoHKoFhpdJr6v8ta5"
START = "2025-01-15T10:30:00Z"
ENERGY = {"type": "manual", "data": {"tronAddress": ADDRESS, "energyValue": 65000, "durationHours": 1}}


@dataclass
class Durable:
    emu: Emulator
    durable: DurableState
    client: httpx.Client


@contextmanager
def durable_emulator(path: Path, **settings: Any) -> Iterator[Durable]:
    config = Config(seed=5, clock_start_us=parse_iso(START), rate_limit_247xd=10**9, **settings)
    emu = Emulator(config)
    app = create_app(emulator=emu)
    durable = open_state_file(path, emu, app)
    with in_process_client(app) as client:
        yield Durable(emu, durable, client)
    durable.close()


def otp_order(client: httpx.Client, headers: dict[str, str] = XD_RICH) -> httpx.Response:
    otp = client.get("/api/v1/otp/services", headers=headers).json()["data"][0]
    body = {"serviceId": otp["id"], "priceOptionId": otp["priceOptions"][0]["id"]}
    return client.post("/api/v1/otp/orders", headers=headers, json=body)


def log_of(path: Path) -> Path:
    return path.with_name(path.name + ".log")


def test_a_write_appends_the_same_bytes_whatever_the_state_holds(tmp_path: Path) -> None:
    def bytes_per_write(folder: Path, orders_before: int) -> int:
        folder.mkdir()
        emu = Emulator(Config(seed=5, clock_start_us=parse_iso(START), clock_frozen=True))
        account = emu.xd247.keys.resolve(XD_RICH["Authorization"][7:], emu.xd247.accounts, emu.clock)
        assert account is not None
        account.coins = 10**15
        option = next(iter(emu.xd247.price_options.items()))
        option[1][1].stock = 10**9
        for _ in range(orders_before):
            emu.xd247.create_otp_order(account, option[1][0], option[0], emu.clock.now_us())
        app = create_app(emulator=emu)
        durable = open_state_file(folder / "state.json", emu, app)
        with in_process_client(app) as client:
            before = log_of(folder / "state.json").stat().st_size
            body = {"serviceId": option[1][0], "priceOptionId": option[0]}
            assert client.post("/api/v1/otp/orders", headers=XD_RICH, json=body).status_code == 201
            after = log_of(folder / "state.json").stat().st_size
        durable.close()
        return after - before

    empty = bytes_per_write(tmp_path / "empty", 0)
    assert 0 < empty < 400
    assert bytes_per_write(tmp_path / "full", 20_000) == empty


def test_the_check_catches_a_log_that_writes_the_whole_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deliberately broken copy: record the whole document per write (the old design)."""
    sizes = []
    for orders in (0, 2000):
        with durable_emulator(tmp_path / f"s{orders}.json", clock_frozen=True) as d:
            otp_order(d.client)
            for _ in range(orders):
                otp_order(d.client)
            monkeypatch.setattr(durable_mod, "_dumps", lambda record, emu=d.emu: state_mod.dumps(emu))
            before = log_of(tmp_path / f"s{orders}.json").stat().st_size
            otp_order(d.client)
            sizes.append(log_of(tmp_path / f"s{orders}.json").stat().st_size - before)
            monkeypatch.undo()
    assert sizes[1] > sizes[0] * 2


def exercise(client: httpx.Client) -> None:
    """Writes of every kind with the clocks running, own clocks and faults in force."""
    assert otp_order(client).status_code == 201
    made = otp_order(client).json()["data"]
    assert client.post(f"/api/v1/otp/orders/{made['orderId']}/cancel", headers=XD_RICH).status_code == 200
    premium = client.post("/api/v1/premium/orders", headers=XD_RICH, json={"serviceId": PREMIUM})
    assert premium.status_code == 201
    own = client.post("/_emulator/247xd/accounts", json={"coins": 50, "clock": "own"}).json()
    own_key = {"Authorization": f"Bearer {own['apiKey']}"}
    assert client.post(f"/_emulator/247xd/accounts/{own['accountId']}/clock/advance",
                       json={"seconds": 3600}).status_code == 200
    assert otp_order(client, own_key).status_code == 201
    assert client.post(f"/_emulator/247xd/accounts/{own['accountId']}/clock/resume").status_code == 200
    fault = {"api": "247xd", "method": "GET", "path": "/balance", "status": 503, "probability": 0.5}
    assert client.post("/_emulator/faults", json=fault).status_code == 201
    statuses = [client.get("/api/v1/balance", headers=XD_RICH).status_code for _ in range(12)]
    assert 503 in statuses and 200 in statuses  # the draws happened, both ways
    assert client.post("/v1/energy/orders", headers=ULF_RICH, json=ENERGY).status_code in (200, 201)
    address = {"tronAddress": ADDRESS, "label": "main", "isDefault": True}
    assert client.post("/v1/addresses", headers=ULF_RICH, json=address).status_code in (200, 201)
    assert client.post("/_emulator/clock/advance", json={"seconds": 90}).status_code == 200
    assert client.post("/_emulator/clock/freeze").status_code == 200
    assert client.post("/_emulator/clock/resume").status_code == 200
    labelled = client.patch(f"/_emulator/247xd/accounts/{own['accountId']}", json={"label": "x"})
    assert labelled.status_code == 200
    assert otp_order(client).status_code == 201


def test_replay_reproduces_the_export_exactly(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    with durable_emulator(path) as live:
        exercise(live.client)
        assert log_of(path).stat().st_size > 0
        pinned = wall_us() + 10**6  # one instant for both exports: the running clocks agree
        pin_wall(pinned)
        try:
            expected = state_mod.export(live.emu)
        finally:
            pin_wall(0)
        saved_log = log_of(path).read_bytes()
        snapshot = path.read_bytes()
        # A second emulator from the same files, as a restart would (the live one goes on).
        copy = tmp_path / "copy"
        copy.mkdir()
        (copy / "state.json").write_bytes(snapshot)
        log_of(copy / "state.json").write_bytes(saved_log)
        with durable_emulator(copy / "state.json") as replayed:
            pin_wall(pinned)
            try:
                got = state_mod.export(replayed.emu)
            finally:
                pin_wall(0)
    assert got["faults"]["faults"][0]["injected"] > 0
    assert got == expected


def test_without_the_records_the_export_differs(tmp_path: Path) -> None:
    """The replay test's comparison can fail: drop the fault draws and it does."""
    path = tmp_path / "state.json"
    with durable_emulator(path) as live:
        exercise(live.client)
        expected = state_mod.export(live.emu)["faults"]
        lines = [line for line in log_of(path).read_bytes().splitlines(True) if b'["f"' not in line]
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "state.json").write_bytes(path.read_bytes())
    log_of(copy / "state.json").write_bytes(b"".join(lines))
    with durable_emulator(copy / "state.json") as replayed:
        assert state_mod.export(replayed.emu)["faults"] != expected


def coins_of(client: httpx.Client, headers: dict[str, str] = XD_RICH) -> Any:
    return client.get("/api/v1/balance", headers=headers).json()["data"]


def xd_orders(client: httpx.Client) -> list[Any]:
    answer = client.get("/_emulator/orders", params={"api": "247xd", "limit": 1000})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["orders"])


XD_INTERNAL = {"success": False, "error": {"code": "INTERNAL_ERROR", "message": "ข้อผิดพลาดภายในระบบ"}}
CONTROL_INTERNAL = {"error": {"code": "INTERNAL_ERROR", "message": "cannot write the state file"}}


def test_a_log_that_becomes_unwritable_changes_nothing(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "state.json"
    with durable_emulator(path, clock_frozen=True) as d:
        assert otp_order(d.client).status_code == 201
        account = d.client.post("/_emulator/247xd/accounts", json={"coins": 5}).json()
        coins, orders, export = coins_of(d.client), xd_orders(d.client), state_mod.dumps(d.emu)
        full = os.open("/dev/full", os.O_WRONLY)  # every write: ENOSPC, the disk is full
        os.dup2(full, d.durable.fd)
        os.close(full)
        failed = otp_order(d.client)
        assert failed.status_code == 500
        assert failed.json() == XD_INTERNAL
        patched = d.client.patch(f"/_emulator/247xd/accounts/{account['accountId']}", json={"coins": 99})
        assert patched.status_code == 500
        assert patched.json() == CONTROL_INTERNAL
        assert otp_order(d.client).status_code == 500
        assert coins_of(d.client) == coins  # reads go on
        assert xd_orders(d.client) == orders
        assert state_mod.dumps(d.emu) == export
    said = [line for line in capfd.readouterr().err.splitlines() if "cannot append" in line]
    assert len(said) == 1 and str(log_of(path)) in said[0]


def test_the_missing_folder_sequence(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / "state.json"
    with serve("--seed", "5", "--state-file", str(path)) as served, httpx.Client(base_url=served.url) as c:
        account = c.post("/_emulator/247xd/accounts", json={"coins": 5}).json()
        coins, orders = coins_of(c), xd_orders(c)
        shutil.rmtree(folder)
        failed = otp_order(c)
        assert failed.status_code == 500
        assert failed.json() == XD_INTERNAL
        patched = c.patch(f"/_emulator/247xd/accounts/{account['accountId']}", json={"coins": 99})
        assert patched.status_code == 500
        assert patched.json() == CONTROL_INTERNAL
        assert coins_of(c) == coins  # not debited
        assert xd_orders(c) == orders  # no order in memory
        assert c.get(f"/_emulator/247xd/accounts/{account['accountId']}").json()["coins"] == 5
        served.process.terminate()
        served.process.wait(timeout=10)
        assert served.process.stderr is not None
        err = served.process.stderr.read()
    assert len([line for line in err.splitlines() if "cannot append" in line]) == 1, err
    assert "Traceback" not in err


def start(path: Path) -> subprocess.CompletedProcess[str]:
    """A start-up that is expected to stop (a bad file): nothing else runs."""
    return subprocess.run(
        [sys.executable, "-m", "emulator", "serve", "--port", "0", "--state-file", str(path)],
        capture_output=True, text=True, timeout=30,
    )


def written_state(path: Path) -> None:
    with durable_emulator(path) as d:
        for label in ("one", "two", "three"):
            assert d.client.post("/_emulator/247xd/accounts", json={"label": label}).status_code == 201
        os.dup2(os.open(os.devnull, os.O_WRONLY), d.durable.fd)  # keep the log as it is now
        shutil.copy(log_of(path), path.with_name("kept.log"))
    shutil.move(path.with_name("kept.log"), log_of(path))


def test_a_corrupt_log_stops_start_up_and_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    written_state(path)
    data = bytearray(log_of(path).read_bytes())
    assert data.count(b"\n") == 3
    data[data.index(b"two")] = ord("T")  # the middle record
    log_of(path).write_bytes(bytes(data))
    files = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    result = start(path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(log_of(path)) in lines[0] and "record 2" in lines[0], result.stderr
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == files


def test_a_corrupt_snapshot_with_a_log_stops_start_up(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    written_state(path)
    path.write_bytes(path.read_bytes()[:100])
    files = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    result = start(path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and str(path) in result.stderr
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == files


def test_a_torn_last_record_is_dropped_and_said(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    written_state(path)
    whole = log_of(path).read_bytes()
    log_of(path).write_bytes(whole + whole.splitlines(True)[0][:30])  # a crash mid-append
    with serve("--state-file", str(path)) as served, httpx.Client(base_url=served.url) as c:
        labels = [a.get("label") for a in c.get("/_emulator/247xd/accounts").json()["accounts"]]
        assert labels[-3:] == ["one", "two", "three"]
        served.process.terminate()
        served.process.wait(timeout=10)
        assert served.process.stderr is not None
        err = served.process.stderr.read()
    assert "dropped a torn last record" in err and "kept the 3 records" in err, err


def test_kill_9_at_random_moments_loses_no_acknowledged_write(tmp_path: Path) -> None:
    import random

    rng = random.Random(14)
    path = tmp_path / "state.json"
    args = ("--seed", "5", "--clock-start", START, "--state-file", str(path), "--rate-limit-247xd", "1000000")
    clients = 4
    acknowledged: list[list[str]] = [[] for _ in range(clients)]
    # Requests cut off by a kill: recorded (and applied after the restart) or not, unknown.
    uncertain = [0] * clients
    accounts: list[dict[str, Any]] = []
    kills = 20
    for round_ in range(kills + 1):
        with serve(*args) as served:
            with httpx.Client(base_url=served.url) as c:
                if round_ == 0:
                    accounts = [c.post("/_emulator/247xd/accounts", json={"coins": 10_000}).json()
                                for _ in range(clients)]
                otp = c.get("/api/v1/otp/services", headers=XD_RICH).json()["data"][0]
                body = {"serviceId": otp["id"], "priceOptionId": otp["priceOptions"][0]["id"]}
                if round_ == 0:
                    item = f"/_emulator/247xd/catalog/{body['priceOptionId']}"
                    stocked = c.patch(item, json={"stock": 10**6})
                    assert stocked.status_code == 200, stocked.text
                price = otp["priceOptions"][0]["price"]
                for i, account in enumerate(accounts):  # every acknowledged write is there
                    headers = {"Authorization": f"Bearer {account['apiKey']}"}
                    listed = c.get("/_emulator/orders",
                                   params={"accountId": account["accountId"], "limit": 1000}).json()["orders"]
                    assert set(acknowledged[i]) <= {order["orderId"] for order in listed}
                    if acknowledged[i]:  # and the API itself serves the last one
                        last = f"/api/v1/otp/orders/{acknowledged[i][-1]}"
                        assert c.get(last, headers=headers).status_code == 200
                    assert len(acknowledged[i]) <= len(listed) <= len(acknowledged[i]) + uncertain[i]
                    coins = c.get(f"/_emulator/247xd/accounts/{account['accountId']}").json()["coins"]
                    assert round(coins * 100) == 10_000 * 100 - round(price * 100) * len(listed)
            if round_ == kills:
                break
            target = sum(map(len, acknowledged)) + rng.randint(1, 25)
            reached = threading.Event()
            lock = threading.Lock()

            def write(
                i: int, url: str = served.url, body: dict[str, str] = body, lock: threading.Lock = lock,
                target: int = target, reached: threading.Event = reached,
                accounts: list[dict[str, Any]] = accounts,
            ) -> None:
                headers = {"Authorization": f"Bearer {accounts[i]['apiKey']}"}
                with httpx.Client(base_url=url, timeout=10) as wc:
                    while True:
                        try:
                            answer = wc.post("/api/v1/otp/orders", headers=headers, json=body)
                        except httpx.HTTPError:
                            uncertain[i] += 1
                            return  # killed
                        assert answer.status_code == 201, answer.text
                        with lock:
                            acknowledged[i].append(answer.json()["data"]["orderId"])
                            if sum(map(len, acknowledged)) >= target:
                                reached.set()

            writers = [threading.Thread(target=write, args=(i,)) for i in range(clients)]
            for writer in writers:
                writer.start()
            assert reached.wait(timeout=30)
            served.process.kill()  # kill -9 while the writers go on
            served.process.wait()
            for writer in writers:
                writer.join(timeout=30)
    assert sum(map(len, acknowledged)) >= kills


@pytest.mark.parametrize("mode", ["always", "batch"])
def test_the_fsync_modes_keep_every_acknowledged_write(tmp_path: Path, mode: str) -> None:
    path = tmp_path / "state.json"
    args = ("--seed", "5", "--state-file", str(path), "--fsync", mode)
    with serve(*args) as served, httpx.Client(base_url=served.url) as c:
        made = [c.post("/_emulator/247xd/accounts", json={}).json()["accountId"] for _ in range(5)]
        assert otp_order(c).status_code == 201
        coins = coins_of(c)
        served.process.kill()
        served.process.wait()
    with serve(*args) as served, httpx.Client(base_url=served.url) as c:
        for account_id in made:
            assert c.get(f"/_emulator/247xd/accounts/{account_id}").status_code == 200
        assert coins_of(c) == coins


def test_a_bad_fsync_mode_stops_start_up() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "serve", "--port", "0", "--fsync", "sometimes"],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "emulator: error: fsync must be always, batch or off, got 'sometimes'"
    ]


def test_compaction_folds_the_log_into_the_snapshot_while_writes_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(durable_mod, "COMPACT_MIN_BYTES", 3000)
    monkeypatch.setattr(durable_mod, "COMPACT_SNAPSHOT_SHARE", 10**9)  # the minimum decides
    path = tmp_path / "state.json"
    with durable_emulator(path, clock_frozen=True) as d:
        for i in range(60):
            assert otp_order(d.client).status_code == 201
            if i % 20 == 19:
                with d.emu.lock:  # the child runs at nice 19: a busy machine may not let it finish
                    if d.durable.child is not None:
                        d.durable._reap(block=True)
        assert d.durable.compactions >= 2
        with d.emu.lock:
            if d.durable.child is not None:
                d.durable._reap(block=True)
        assert log_of(path).stat().st_size < d.durable.written  # older records folded away
        assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json", "state.json.log"]
        expected = state_mod.export(d.emu)
        copy = tmp_path / "copy"
        copy.mkdir()
        shutil.copy(path, copy / "state.json")
        shutil.copy(log_of(path), log_of(copy / "state.json"))
    with durable_emulator(copy / "state.json", clock_frozen=True) as restarted:
        assert state_mod.export(restarted.emu) == expected


def test_a_snapshot_written_in_pieces_pauses_after_each(tmp_path: Path) -> None:
    files = durable_mod.Files(tmp_path / "state.json")
    parts = [bytes([65 + i % 26]) * 1000 for i in range(600)]  # 600 KB: a few WRITE_BYTES
    pauses: list[int] = []
    files.write_snapshot(iter(parts), lambda: pauses.append(1))
    assert (tmp_path / "state.json").read_bytes() == b"".join(parts)
    assert len(pauses) == len(parts)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_the_compaction_childs_pacer_naps_after_each_stretch_of_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """A child that never blocks holds a core shared with the server until the scheduler's
    tick (4 ms at HZ=250): the Pacer makes it nap every WORK_S of work instead."""

    class Clock:
        now = 0.0
        naps: list[float] = []

        def perf_counter(self) -> float:
            return self.now

        def sleep(self, seconds: float) -> None:
            self.naps.append(seconds)
            self.now += seconds

    clock = Clock()
    monkeypatch.setattr(durable_mod, "time", clock)
    pacer = durable_mod.Pacer()
    for _ in range(100):
        clock.now += durable_mod.WORK_S * 0.6  # a piece of work
        pacer()
    assert clock.naps == [durable_mod.NAP_S] * 50  # one nap for every two pieces
