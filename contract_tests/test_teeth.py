"""The suites have teeth: each deliberately broken copy of the emulator (breakages.py) makes
the contract suite fail, and the drift report names the check that caught it — in-process
(CONTRACT_BREAK) and live, through proxy.py in front of `emulator serve` (default limits) with a
control URL. teeth.py runs the children (narrowed to the operation a breakage touches, few
examples), side by side; `python -m contract_tests.teeth --defaults` runs the live ones without a
control URL, at 60 requests a minute (too slow for CI).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from .breakages import BREAKAGES
from .teeth import CASES, CONTROL, IN_PROCESS, Run, reported, run_all

PARALLEL = 3  # children at a time: CI has 2 cores, and a live child waits on its proxy and server
MODES = [IN_PROCESS, CONTROL]

pytestmark = pytest.mark.skipif(
    any(os.environ.get(f"CONTRACT_{api}_URL") for api in ("247XD", "USDTLOWFEE")),
    reason="the teeth prove the suite, not the target: they run in in-process runs (make test)",
)


@pytest.fixture(scope="module")
def runs() -> dict[tuple[str, str], Run]:
    """Every breakage's child runs, in-process and live: (breakage, mode) -> Run."""
    with tempfile.TemporaryDirectory(prefix="contract-teeth-") as tmp:
        return run_all([(b, mode) for mode in MODES for b in CASES], PARALLEL, Path(tmp))


def test_every_breakage_has_a_case() -> None:
    assert set(CASES) == set(BREAKAGES)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("breakage", list(CASES))
def test_the_suite_reports_the_breakage(breakage: str, mode: str, runs: dict[tuple[str, str], Run]) -> None:
    run = runs[(breakage, mode)]
    why = reported(run)
    assert why is None, f"{breakage} ({mode}): {why}\n{run.drift}\n{run.output[-3000:]}"
