"""The suites have teeth: each deliberately broken copy of the emulator (breakages.py) makes
the contract suite fail, and the drift report names the check that caught it — in-process
(CONTRACT_BREAK) and live, through proxy.py in front of `emulator serve` (default limits) with a
control URL, and frozen-stuck without one. teeth.py runs the children (narrowed to the operation a
breakage touches, few examples), side by side; `python -m contract_tests.teeth --defaults` runs all
the live ones without a control URL, at 60 requests a minute (too slow for CI).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from .breakages import BREAKAGES
from .teeth import CASES, CONTROL, DEFAULTS, IN_PROCESS, Run, reported, run_all

PARALLEL = 3  # children at a time: CI has 2 cores, and a live child waits on its proxy and server
MODES = [IN_PROCESS, CONTROL]
# Live without a control URL too, for the one breakage whose check waits on the target's own time:
# frozen-stuck's order settles by itself after the emulator's 5 s of real time (a child of ~8 s, mostly
# waiting; bounded by CONTRACT_SETTLE_WAIT_S). The others at 60 requests a minute: make contract-live.
DEFAULTS_IN_CI = ["frozen-stuck"]
JOBS = [(b, mode) for mode in MODES for b in CASES] + [(b, DEFAULTS) for b in DEFAULTS_IN_CI]

pytestmark = pytest.mark.skipif(
    any(os.environ.get(f"CONTRACT_{api}_URL") for api in ("247XD", "USDTLOWFEE")),
    reason="the teeth prove the suite, not the target: they run in in-process runs (make test)",
)


@pytest.fixture(scope="module")
def runs() -> dict[tuple[str, str], Run]:
    """Every breakage's child runs, in-process and live: (breakage, mode) -> Run."""
    with tempfile.TemporaryDirectory(prefix="contract-teeth-") as tmp:
        return run_all(JOBS, PARALLEL, Path(tmp))


def test_every_breakage_has_a_case() -> None:
    assert set(CASES) == set(BREAKAGES)


@pytest.mark.parametrize(("breakage", "mode"), JOBS)
def test_the_suite_reports_the_breakage(breakage: str, mode: str, runs: dict[tuple[str, str], Run]) -> None:
    run = runs[(breakage, mode)]
    why = reported(run)
    assert why is None, f"{breakage} ({mode}): {why}\n{run.drift}\n{run.output[-3000:]}"
