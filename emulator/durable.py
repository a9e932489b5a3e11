"""Durable state (`serve --state-file PATH`): a snapshot and a write-ahead command log.

PATH is a state document (emulator/state.py). PATH.log holds, one record a line, every
command applied since that snapshot, appended BEFORE it is applied: an API write (its
instant, API, account id, method, path, query and body), a control-plane write (its
instant, method, path, query and body) and, while faults are in force, each fault draw.
A write whose record cannot be appended is answered with a 5xx and changes nothing.
Start-up loads PATH and re-runs the records, each with the wall clock pinned to its
recorded instant: every generated value comes from the seeded sources whose positions
the snapshot holds, so the replay makes exactly what the live run made.

Compaction forks: the child writes the copy-on-write state to PATH.tmp and renames it
over PATH while the parent goes on in a fresh PATH.log (the old one is PATH.log.old
until the child is done). Reset, fixtures and PUT /_emulator/state write a snapshot at
once instead of a record. Levels, files and recovery: docs/durability.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import errno
import fcntl
import gc
import os
import signal
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson

from emulator import state as state_mod
from emulator.apis import APIS, FAULT_TARGETS, Api
from emulator.core import clock as clock_mod
from emulator.core.clock import clock_of, pin_wall, wall_us
from emulator.core.durability import NotDurable
from emulator.core.errors import plain_error
from emulator.core.faults import FaultTarget
from emulator.core.http import MAX_BODY, exchange
from emulator.core.routing import Call
from emulator.core.types import ASGIApp, Message, Receive, Scope, Send
from emulator.runtime import Emulator

FSYNC_MODES = ("always", "batch", "off")
# batch: a write waits at most this long for others to share its fsync (or this many).
BATCH_WINDOW_S = 0.002
BATCH_RECORDS = 256
# Compact once the log is this large and at least a quarter of the last snapshot: a
# record replays in tens of microseconds, so a restart replays at most about a second.
COMPACT_MIN_BYTES = 4 * 1024 * 1024
COMPACT_SNAPSHOT_SHARE = 4
# Control-plane writes that replace the whole domain: a snapshot, not a record.
SNAPSHOT_POINTS = frozenset({("POST", "/_emulator/reset"), ("POST", "/_emulator/fixtures"),
                             ("PUT", "/_emulator/state")})
_LIBC = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1
LOCK_WAIT_S = 10.0
# A compaction child works this long, then sleeps NAP_S (Pacer); it writes the snapshot
# WRITE_BYTES at a time.
WORK_S = 0.0005
NAP_S = 0.0002
WRITE_BYTES = 256 * 1024
_FAILED = plain_error("INTERNAL_ERROR", "cannot write the state file")
_dumps = orjson.dumps
_crc32 = zlib.crc32


class StateFileError(Exception):
    """The state file or its log cannot be used; start-up stops with this one line (exit 2)."""


def say(message: str) -> None:
    print(f"emulator: {message}", file=sys.stderr, flush=True)


def frame(record: list[Any]) -> bytes:
    """One log line: the payload's CRC-32 in hex, a space, the payload (JSON), a newline."""
    payload = orjson.dumps(record)
    return b"%08x %b\n" % (zlib.crc32(payload), payload)


def unframe(line: bytes) -> list[Any] | None:
    """The record of a whole line, None when its checksum or shape is wrong."""
    if len(line) < 10 or line[8:9] != b" ":
        return None
    try:
        crc = int(line[:8], 16)
    except ValueError:
        return None
    payload = line[9:]
    if zlib.crc32(payload) != crc:
        return None
    try:
        record = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    return record if isinstance(record, list) and record and record[0] in ("a", "c", "f") else None


def read_log(path: Path, last: bool) -> tuple[list[list[Any]], int | None]:
    """The records of one log file, and, when its last record is torn (a crash mid-append;
    accepted only in the `last` file), the length to cut it back to."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return [], None
    except OSError as exc:
        raise StateFileError(f"cannot read state log {path}: {exc.strerror}") from None
    records: list[list[Any]] = []
    pos = 0
    size = len(data)
    while pos < size:
        end = data.find(b"\n", pos)
        record = unframe(data[pos:] if end < 0 else data[pos:end])
        if record is None or end < 0:
            if last and (end < 0 or end == size - 1):
                return records, pos
            raise StateFileError(
                f"state log {path} is corrupt: record {len(records) + 1} at byte {pos} fails its checksum"
            )
        records.append(record)
        pos = end + 1
    return records, None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class Pacer:
    """A compaction child's pauses (its `write_snapshot` pause): after each WORK_S of work
    it sleeps NAP_S. Sharing a core with a busy server (one pinned to a core, or a machine
    with fewer cores than work), a child that never blocks keeps the core until the
    scheduler's next tick, 4 ms at HZ=250, and every request in flight waits as long; the
    export of 100,000 orders needs about 55 ms of CPU, a dozen such waits. Sleeping hands
    the core back within a fraction of a millisecond instead; the child's share of the
    CPU (nice 19) stays what it was, only its slices get short."""

    __slots__ = ("since",)

    def __init__(self) -> None:
        self.since = time.perf_counter()

    def __call__(self) -> None:
        if time.perf_counter() - self.since >= WORK_S:
            time.sleep(NAP_S)
            self.since = time.perf_counter()


class Files:
    """PATH (the snapshot), PATH.log (appended to), PATH.log.old (covered by the snapshot
    being written), PATH.tmp (that snapshot) and PATH.log.covered (a snapshot install
    under way: PATH.tmp covers it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tmp = path.with_name(path.name + ".tmp")
        self.log = path.with_name(path.name + ".log")
        self.old = path.with_name(path.name + ".log.old")
        self.covered = path.with_name(path.name + ".log.covered")
        self.directory = path.parent

    def sync_directory(self) -> None:
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def write_snapshot(self, data: bytes | Iterable[bytes], pause: Callable[[], None] | None = None) -> None:
        """Put `data` (bytes, or its pieces) in place as PATH, covering PATH.log.old;
        OSError: nothing changed. `pause` is called after each piece."""
        fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            if isinstance(data, bytes):
                _write_all(fd, data)
            else:
                pending: list[bytes] = []
                size = 0
                for part in data:
                    pending.append(part)
                    size += len(part)
                    if size >= WRITE_BYTES:
                        _write_all(fd, b"".join(pending))
                        pending.clear()
                        size = 0
                    if pause is not None:
                        pause()
                _write_all(fd, b"".join(pending))
            os.fsync(fd)
        finally:
            os.close(fd)
        covering = self.old.exists()
        if covering:
            os.replace(self.old, self.covered)
        try:
            self.sync_directory()
            os.replace(self.tmp, self.path)
        except OSError:
            if covering:
                os.replace(self.covered, self.old)
            raise
        # In place: what follows only tidies up (start-up finishes it after a crash).
        try:
            self.sync_directory()
            if covering:
                os.unlink(self.covered)
        except OSError:
            pass

    def snapshot_source(self) -> Path:
        """The snapshot to load: PATH.tmp when an install was cut short after it covered the log."""
        return self.tmp if self.covered.exists() and self.tmp.exists() else self.path

    def recover(self) -> None:
        """Finish a snapshot install cut short (or drop a PATH.tmp that never got that far)."""
        if self.covered.exists():
            if self.tmp.exists():
                os.replace(self.tmp, self.path)
                self.sync_directory()
            os.unlink(self.covered)
        elif self.tmp.exists():
            os.unlink(self.tmp)


class Syncer(threading.Thread):
    """fsyncs the log off the event loop; a write's response waits for the fsync that
    covers its record. `window_s` > 0 (batch) gathers writes for that long first."""

    def __init__(self, fd: int, window_s: float, files: Files, on_error: Any) -> None:
        super().__init__(name="emulator-fsync", daemon=True)
        self.cond = threading.Condition()
        self.fd = fd
        self.retired: list[int] = []
        self.directory_changed = True
        self.window_s = window_s
        self.files = files
        self.on_error = on_error
        self.appended = 0
        self.synced = 0
        self.waiters: list[tuple[int, asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self.stopping = False

    def rotate(self, fd: int) -> None:
        with self.cond:
            self.retired.append(self.fd)
            self.fd = fd
            self.directory_changed = True

    async def wait(self, ticket: int) -> None:
        if self.synced >= ticket:
            return
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self.cond:
            if self.synced >= ticket:
                return
            self.waiters.append((ticket, loop, future))
            self.cond.notify()
        await future

    def stop(self) -> None:
        with self.cond:
            self.stopping = True
            self.cond.notify()
        self.join()

    def run(self) -> None:
        cond = self.cond
        while True:
            with cond:
                while not self.waiters and not self.stopping:
                    cond.wait()
                if not self.waiters:
                    for fd in self.retired:
                        os.close(fd)
                    return
                if self.window_s:
                    cond.wait_for(lambda: len(self.waiters) >= BATCH_RECORDS or self.stopping, self.window_s)
                target = self.appended
                fds = [*self.retired, self.fd]
                retired, self.retired = self.retired, []
                directory, self.directory_changed = self.directory_changed, False
            try:
                for fd in fds:
                    os.fsync(fd)
                if directory:
                    self.files.sync_directory()
            except OSError as exc:
                # Handed to the OS already (it survives kill -9): acknowledged, later writes refused.
                self.on_error(f"cannot fsync {self.files.log}: {exc.strerror or exc}")
            for fd in retired:
                os.close(fd)
            with cond:
                self.synced = target
                ready = [w for w in self.waiters if w[0] <= target]
                self.waiters = [w for w in self.waiters if w[0] > target]
            for _, loop, future in ready:
                with contextlib.suppress(RuntimeError):  # its loop is closed: nobody waits
                    loop.call_soon_threadsafe(_resolve, future)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class DurableState:
    """The emulator's WriteLog (emulator/core/durability.py) over PATH and PATH.log."""

    def __init__(self, files: Files, emu: Emulator, fsync: str) -> None:
        self.files = files
        self.emu = emu
        self.fsync = fsync
        self.syncing = fsync != "off"
        self.fd = -1
        self.written = 0  # bytes appended since start-up, over every log file: the tickets
        self.log_bytes = 0  # in the current PATH.log
        self.compact_at = COMPACT_MIN_BYTES  # log_bytes that start a compaction (or reap one)
        self._snapshot_bytes = 0
        self.broken: str | None = None
        self.child: int | None = None
        self.syncer: Syncer | None = None
        self.compactions = 0
        self.closed = False
        self.lock_fd = -1

    @property
    def snapshot_bytes(self) -> int:
        return self._snapshot_bytes

    @snapshot_bytes.setter
    def snapshot_bytes(self, size: int) -> None:
        self._snapshot_bytes = size
        self.compact_at = max(COMPACT_MIN_BYTES, size // COMPACT_SNAPSHOT_SHARE)

    # --- the WriteLog ------------------------------------------------------------------
    def before_write(
        self, api: str, account_id: str, method: str, path: str, query: bytes, body: dict[str, Any] | None
    ) -> int:
        # The hot path of every API write (the lock held): one orjson call, one crc, one
        # fstat, one os.write; no helper calls (docs/durability.md, "What a write costs").
        if self.broken is not None:
            raise NotDurable(self.broken)
        wall = clock_mod._pinned or time.time_ns() // 1000
        payload = _dumps(["a", wall, api, account_id, method, path, query.decode("latin-1"), body])
        ticket = self._write(b"%08x %b\n" % (_crc32(payload), payload))
        clock_mod._pinned = wall  # pin_wall(wall), inlined
        return ticket

    def before_control(self, method: str, path: str, query: bytes, body: bytes) -> int:
        wall = wall_us()
        ticket = self._append(["c", wall, method, path, query.decode("latin-1"), body.decode("latin-1")])
        pin_wall(wall)
        return ticket

    def after_write(self) -> None:
        """Lock held: the wall clock runs again; compaction starts when the log is due."""
        clock_mod._pinned = 0  # pin_wall(0), inlined
        if self.log_bytes >= self.compact_at:
            if self.child is not None:
                self._reap(block=False)
            elif self.broken is None:
                self.compact()

    def fault_pick(self, api: str, method: str, template: str | None, account_id: str | None = None) -> None:
        if self.broken is None:
            # Said once; the draw happens in memory, the writes after it are refused.
            with contextlib.suppress(NotDurable):
                self._append(["f", api, method, template, account_id])

    async def acknowledged(self, ticket: int) -> None:
        if self.syncer is not None:
            await self.syncer.wait(ticket)

    def _append(self, record: list[Any]) -> int:
        if self.broken is not None:
            raise NotDurable(self.broken)
        return self._write(frame(record))

    def _write(self, data: bytes) -> int:
        fd = self.fd
        try:
            # A removed log (its folder deleted) still takes writes into nowhere: refuse them.
            if os.fstat(fd).st_nlink == 0:
                raise FileNotFoundError(errno.ENOENT, "the file was removed")
            written = os.write(fd, data)
            if written != len(data):
                raise OSError(errno.ENOSPC, "short write (disk full?)")
        except OSError as exc:
            self._break(f"cannot append to {self.files.log}: {exc.strerror or exc}")
            raise NotDurable(self.broken) from None
        self.written += written
        self.log_bytes += written
        if self.syncer is not None:
            self.syncer.appended = self.written
        return self.written

    def _break(self, message: str) -> None:
        """From now on every write is refused (5xx), reads go on; said once."""
        if self.broken is None:
            self.broken = message
            say(f"{message}; writes are refused from now on (reads go on), restart to recover")

    # --- log files and compaction --------------------------------------------------------
    def open_log(self) -> None:
        self.fd = os.open(self.files.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.log_bytes = os.fstat(self.fd).st_size
        if self.syncing:
            self.syncer = Syncer(self.fd, BATCH_WINDOW_S if self.fsync == "batch" else 0.0, self.files,
                                 self._break)
            self.syncer.start()

    def _rotate(self) -> None:
        """Lock held: PATH.log becomes (or joins) PATH.log.old; a fresh PATH.log follows."""
        files = self.files
        if files.old.exists():  # a compaction that failed left it: this segment joins it
            with open(files.log, "rb") as source, open(files.old, "ab") as target:
                target.write(source.read())
                target.flush()
                os.fsync(target.fileno())
            os.ftruncate(self.fd, 0)
            self.log_bytes = 0
            return
        os.replace(files.log, files.old)
        fd = os.open(files.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_TRUNC, 0o644)
        old, self.fd = self.fd, fd
        self.log_bytes = 0
        if self.syncer is not None:
            self.syncer.rotate(fd)  # it fsyncs what is left in the old one, then closes it
        else:
            os.close(old)

    def compact(self) -> None:
        """Lock held: fork; the child writes the state as of now, the parent goes on."""
        try:
            self._rotate()
        except OSError as exc:
            self._break(f"cannot start a new log {self.files.log}: {exc.strerror or exc}")
            return
        pid = os.fork()
        if pid == 0:  # the child: a copy-on-write image of this instant
            code = 1
            try:
                # Dies with the server (kill -9): a restart never races a stray compaction.
                # It holds the folder's lock (inherited) until then anyway.
                _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
                # Background work: the server's requests come first on a shared core, and no
                # collection walks (and so copies) the heap the parent still shares.
                os.nice(19)
                gc.disable()
                # In pieces, pausing between them (Pacer, counting from here): the server's
                # requests wait for the child about a millisecond at a time, not a tick.
                pacer = Pacer()
                self.files.write_snapshot(state_mod.snapshot_parts(self.emu), pacer)
                code = 0
            except BaseException as exc:  # noqa: BLE001 - reported by the parent's reap
                os.write(2, f"emulator: compaction: cannot write {self.files.path}: {exc}\n".encode())
            finally:
                os._exit(code)
        self.child = pid
        self.compactions += 1

    def _reap(self, block: bool) -> None:
        """Lock held: collect a finished compaction."""
        assert self.child is not None
        pid, status = os.waitpid(self.child, 0 if block else os.WNOHANG)
        if pid == 0:
            return
        self.child = None
        if os.waitstatus_to_exitcode(status) == 0:
            with contextlib.suppress(OSError):
                self.snapshot_bytes = os.stat(self.files.path).st_size
            return
        say(f"compaction of {self.files.path} failed; the log keeps everything and grows on")
        try:
            self.files.recover()
        except OSError as exc:
            self._break(f"cannot tidy up after a failed compaction of {self.files.path}: {exc.strerror}")

    def snapshot_now(self) -> None:
        """Lock held: the state as of now becomes PATH, the log starts empty; NotDurable
        when it could not be done (nothing on disk changed then)."""
        if self.broken is not None:
            raise NotDurable(self.broken)
        if self.child is not None:
            self._reap(block=True)
        try:
            self._rotate()
            data = state_mod.snapshot(self.emu)
            self.files.write_snapshot(data)
        except OSError as exc:
            self._break(f"cannot write {self.files.path}: {exc.strerror or exc}")
            raise NotDurable(self.broken) from None
        self.snapshot_bytes = len(data)
        if len(data) > state_mod.TRIM_AFTER_BYTES:
            del data
            state_mod.release_memory()  # a smaller process forks faster for the next compaction

    def close(self) -> None:
        """Clean shutdown: one last snapshot, the log removed (PATH alone holds the state)."""
        if self.closed:
            return
        self.closed = True
        with self.emu.lock:
            try:
                if self.broken is None:
                    self.snapshot_now()
                    os.unlink(self.files.log)
            except (NotDurable, OSError):
                pass
            finally:
                if self.child is not None:
                    self._reap(block=True)
        if self.syncer is not None:
            self.syncer.stop()
        with contextlib.suppress(OSError):
            os.close(self.fd)
        with contextlib.suppress(OSError):
            os.close(self.lock_fd)  # the folder's lock: another process may use it now

    # --- start-up ----------------------------------------------------------------------
    def replay(self, records: Sequence[list[Any]], app: ASGIApp, where: Path) -> None:
        apis = {api.name: api for api in APIS}
        loop: asyncio.AbstractEventLoop | None = None
        try:
            for i, record in enumerate(records, 1):
                try:
                    if record[0] == "a":
                        self._replay_api(apis, record)
                    elif record[0] == "f":
                        _, api, method, template, *rest = record  # rest: the account, if any
                        with self.emu.lock:
                            self.emu.faults.pick(api, method, template, rest[0] if rest else None)
                    else:
                        loop = loop or asyncio.new_event_loop()
                        loop.run_until_complete(self._replay_control(app, record))
                except (ValueError, TypeError, KeyError) as exc:
                    raise StateFileError(f"state log {where}: record {i} cannot be replayed: {exc}") from None
        finally:
            pin_wall(0)
            if loop is not None:
                loop.close()

    def _replay_api(self, apis: dict[str, Api], record: list[Any]) -> None:
        _, wall, name, account_id, method, path, query, body = record
        api = apis[name]
        backend = api.backend(self.emu.domain)
        found = api.router.match(path)
        route = None if found is None else found[0].get(method)
        account = backend.accounts.get(account_id)
        if found is None or route is None or account is None:
            raise ValueError(f"no {method} {path} for account {account_id}")
        with self.emu.lock:
            pin_wall(wall)
            try:
                now = clock_of(account, backend.clock).now_us()
                route.handler(backend, Call(account, found[1], now, body, query.encode("latin-1")))
            except Exception:  # noqa: BLE001 - it failed live too, and was answered so
                pass
            finally:
                pin_wall(0)

    async def _replay_control(self, app: ASGIApp, record: list[Any]) -> None:
        _, wall, method, path, query, body = record
        scope: Scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
            "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
            "query_string": query.encode("latin-1"), "client": ("127.0.0.1", 0),
            "server": ("127.0.0.1", 80),
            "headers": [(b"host", b"emulator"), (b"content-type", b"application/json")],
        }
        pin_wall(wall)
        try:
            await exchange(app, scope, body.encode("latin-1"))
        finally:
            pin_wall(0)


def lock_folder(files: Files) -> int:
    """An exclusive lock on the state file's folder, held while serving (and by a
    compaction child, which shares it): one process at a time uses a state file."""
    try:
        fd = os.open(files.directory, os.O_RDONLY)
    except OSError as exc:
        raise StateFileError(f"cannot open the folder of state file {files.path}: {exc.strerror}") from None
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            # A compaction child of a server just killed is dying with it: wait for that.
            if time.monotonic() > deadline:
                os.close(fd)
                raise StateFileError(f"state file {files.path} is in use by another emulator") from None
            time.sleep(0.01)


def open_state_file(
    path: Path,
    emu: Emulator,
    app: ASGIApp,
    fsync: str = "off",
    targets: Sequence[FaultTarget] = FAULT_TARGETS,
) -> DurableState:
    """Load PATH and replay its log into the emulator (or create PATH from the current
    state when there is none), then record every later write. A snapshot or log that
    cannot be used stops start-up (StateFileError) with the files as they were."""
    files = Files(path)
    durable = DurableState(files, emu, fsync)
    durable.lock_fd = lock_folder(files)
    source = files.snapshot_source()
    try:
        raw: bytes | None = source.read_bytes()
    except FileNotFoundError:
        raw = None
    except OSError as exc:
        raise StateFileError(f"cannot read state file {source}: {exc.strerror}") from None
    segments = [p for p in (files.old, files.log) if p.exists()]
    if raw is None and segments:
        raise StateFileError(f"state file {path} is missing but its log {segments[0]} is there")
    logs = [(p, *read_log(p, p == segments[-1])) for p in segments]
    if raw is not None:
        try:
            state_mod.load(raw, emu, targets)
        except state_mod.StateError as exc:
            message = " ".join(str(exc).split())  # one line, whatever the parser said
            raise StateFileError(f"state file {source} is not a usable state document: {message}") from None
        for where, records, _ in logs:
            durable.replay(records, app, where)
    try:
        if raw is None:
            with emu.lock:
                data = state_mod.snapshot(emu)
            files.write_snapshot(data)
        else:
            files.recover()
            data = b""
        for where, records, torn in logs:
            if torn is not None:
                os.truncate(where, torn)
                say(f"state log {where}: dropped a torn last record (a crash while it was written); "
                    f"kept the {len(records)} records before it")
        durable.snapshot_bytes = len(data) or path.stat().st_size
        durable.open_log()
    except OSError as exc:
        raise StateFileError(f"cannot write state file {path}: {exc.strerror}") from None
    with emu.lock:
        emu.use_write_log(durable)  # the pipelines are rebuilt with the log
        if any(records for _, records, _ in logs):
            durable.compact()  # in the background: the next start has less to replay
    return durable


async def _internal_error(send: Send) -> None:
    await send({"type": "http.response.start", "status": 500,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(_FAILED)).encode())]})
    await send({"type": "http.response.body", "body": _FAILED})


class PersistControlWrites:
    """ASGI middleware around the control plane: a write (any method but GET/HEAD under
    /_emulator) is recorded before the app handles it, and its response waits for the
    fsync mode. Without a state file it is one attribute check per request."""

    def __init__(self, app: ASGIApp, emulator: Emulator) -> None:
        self.app = app
        self.emulator = emulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        log = self.emulator.write_log
        if (
            log is None
            or scope["type"] != "http"
            or scope["method"] in ("GET", "HEAD")
            or not scope["path"].startswith("/_emulator")
        ):
            await self.app(scope, receive, send)
            return
        assert isinstance(log, DurableState)
        if (scope["method"], scope["path"]) in SNAPSHOT_POINTS:
            await self._snapshot_point(log, scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        first: Message = {"type": "http.request", "body": b"", "more_body": False}
        while True:
            message = await receive()
            if message["type"] != "http.request":
                first = message
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if not more or size > MAX_BODY:
                first = {"type": "http.request", "body": b"".join(chunks), "more_body": more}
                break
        pending = [first]

        async def buffered() -> Message:
            return pending.pop() if pending else await receive()

        if first["type"] != "http.request" or size > MAX_BODY:
            # Gone, or too large for any control route: refused before anything changes.
            await self.app(scope, buffered, send)
            return
        emu = self.emulator
        with emu.lock:
            try:
                ticket = log.before_control(
                    scope["method"], scope["path"], scope["query_string"], first["body"]
                )
            except NotDurable:
                await _internal_error(send)
                return
        applied = False

        def done() -> None:
            nonlocal applied
            if not applied:
                applied = True
                with emu.lock:
                    log.after_write()

        async def acknowledge_then_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                done()
                if log.syncing:
                    await log.acknowledged(ticket)
            await send(message)

        try:
            await self.app(scope, buffered, acknowledge_then_send)
        finally:
            done()

    async def _snapshot_point(self, log: DurableState, scope: Scope, receive: Receive, send: Send) -> None:
        """Reset, fixtures, a state import: the new domain is written as the snapshot before
        the answer; when that fails the old domain is put back and the answer is a 500."""
        emu = self.emulator
        with emu.lock:
            domain, fixtures = emu.domain, emu.fixtures
        if log.broken is not None:
            await _internal_error(send)
            return
        failed = False

        async def snapshot_then_send(message: Message) -> None:
            nonlocal failed
            if message["type"] == "http.response.start" and message["status"] < 400:
                with emu.lock:
                    try:
                        log.snapshot_now()
                    except NotDurable:
                        failed = True
                        emu.fixtures = fixtures
                        emu.install(domain)
                if failed:
                    await _internal_error(send)
                    return
            elif failed:
                return
            await send(message)

        await self.app(scope, receive, snapshot_then_send)
