"""The drift report of a contract run: JUnit XML and a Markdown summary of each mismatch.

Written for every live run (CONTRACT_*_URL set), and for any run when CONTRACT_REPORT_DIR
names where to write it; the default place, contract_tests/reports/, is gitignored.
"""

from __future__ import annotations

import json
import os
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from schemathesis.core.failures import Failure

from . import pacing, support
from .support import (
    ALLOW_SPEND,
    CONTROL_URL,
    DOCUMENTED,
    OPERATIONS,
    REPORTS,
    SPENDING,
    USDTLOWFEE,
    XD247,
    operation_ids,
)

_GOT = re.compile(r"\[(\d{3})\] ([^\n:]*):\s*\n\s*`([^`]*)`")


@dataclass(slots=True)
class Mismatch:
    test: str
    operation: str
    check: str
    expected: str
    got: str


_MISMATCHES: list[Mismatch] = []
_REPORTS: list[tuple[str, pytest.TestReport]] = []
_STARTED = [time.time()]


def _targets() -> list[str]:
    return [
        f"{api.name}: {os.environ.get(f'CONTRACT_{api.env}_URL') or 'in-process emulator'}"
        for api in (XD247, USDTLOWFEE)
    ]


def _enabled() -> bool:
    live = any(os.environ.get(f"CONTRACT_{api.env}_URL") for api in (XD247, USDTLOWFEE))
    return live or bool(os.environ.get("CONTRACT_REPORT_DIR"))


def _leaves(exc: BaseException) -> Iterator[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from _leaves(inner)
    else:
        yield exc


def _one_line(text: str, limit: int = 240) -> str:
    flat = " ".join(text.split()).replace("|", "\\|")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _expected(failure: Failure) -> str:
    lines = [line.strip() for line in failure.message.splitlines() if line.strip()]
    stated = [line for line in lines if line.startswith(("Expected", "Documented"))]
    return _one_line("; ".join([failure.title, *(stated or lines[:1])]))


def mismatches_of(exc: BaseException, test: str) -> list[Mismatch]:
    text = str(exc) + "".join(str(leaf) for leaf in _leaves(exc))
    seen = _GOT.search(text)
    got = f"{seen.group(1)} {seen.group(2)}: {seen.group(3)}" if seen else ""
    found = []
    for leaf in _leaves(exc):
        if isinstance(leaf, Failure):
            check = f"{', '.join(leaf.checks) or leaf.title} ({leaf.code})"
            found.append(Mismatch(test, leaf.operation or "?", check, _expected(leaf), _one_line(got)))
        else:
            found.append(Mismatch(test, "?", type(leaf).__name__, "no error", _one_line(str(leaf))))
    return found


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call" or (report.when == "setup" and not report.passed):
        # A schemathesis item's nodeid leaves out the operation; its name has it.
        test = f"{item.nodeid.partition('::')[0]}::{item.name}"
        _REPORTS.append((test, report))
        if call.excinfo is not None and report.failed:
            _MISMATCHES.extend(mismatches_of(call.excinfo.value, test))
    return report


def _junit(path: Path) -> None:
    failed = [r for _, r in _REPORTS if r.failed]
    skipped = [r for _, r in _REPORTS if r.skipped]
    suite = ET.Element(
        "testsuite",
        name="contract",
        tests=str(len(_REPORTS)),
        failures=str(len(failed)),
        errors="0",
        skipped=str(len(skipped)),
        time=f"{time.time() - _STARTED[0]:.3f}",
    )
    ET.SubElement(ET.SubElement(suite, "properties"), "property", name="targets", value="; ".join(_targets()))
    for test, report in _REPORTS:
        module, _, name = test.partition("::")
        case = ET.SubElement(
            suite, "testcase", classname=module.replace("/", ".").removesuffix(".py"), name=name,
            time=f"{report.duration:.3f}",
        )
        if report.failed:
            mine = [m for m in _MISMATCHES if m.test == test]
            message = "; ".join(f"{m.operation}: {m.check}" for m in mine) or "failed"
            ET.SubElement(case, "failure", message=message).text = report.longreprtext
        elif report.skipped:
            ET.SubElement(case, "skipped", message=str(report.longrepr))
    ET.indent(suite)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def _read_only(api: str) -> bool:
    env = XD247.env if api == "247xd" else USDTLOWFEE.env
    return bool(os.environ.get(f"CONTRACT_{env}_URL")) and not ALLOW_SPEND


def _inconclusive(record: dict[str, Any]) -> bool:
    return str(record.get("outcome", "")).startswith("inconclusive")


def coverage() -> dict[str, Any]:
    """Per API and operation: responses judged by status class, 429s retried, and whether the run
    could reach it; `unjudged` lists the reachable operations never judged a 2xx."""
    ids = operation_ids()
    apis: dict[str, Any] = {}
    unjudged = []
    for label, api in DOCUMENTED.items():
        if api not in pacing.LEDGER.apis_run:
            continue
        judged = dict(sorted(pacing.LEDGER.judged.get((api, label), {}).items()))
        method = label.split(" ", 1)[0]
        live = bool(os.environ.get(f"CONTRACT_{XD247.env if api == '247xd' else USDTLOWFEE.env}_URL"))
        reason = None
        if OPERATIONS and ids.get(label) not in OPERATIONS:
            reason = "not selected (CONTRACT_OPERATIONS)"
        elif _read_only(api) and method != "GET":
            reason = "a write; read-only run" + (" (spends money)" if label in SPENDING else "")
        elif label == "POST /social/orders/{orderId}/refund" and live and CONTROL_URL is None:
            reason = "needs a cancelled or partial social order: no client cancel, no control plane"
        elif "{" in label and method == "GET" and (api, label) not in pacing.LEDGER.reachable_by_id:
            reason = "no id: none listed or created, none given"
        entry = {
            "judged": judged,
            "rateLimited": pacing.LEDGER.rate_limited.get((api, label), 0),
            "reachable": reason is None,
        }
        if reason is not None:
            entry["why"] = reason
        elif not judged.get("2xx"):
            unjudged.append(f"{api} {label}")
        apis.setdefault(api, {})[label] = entry
    purchases = None
    if support._SPENDING_APIS:  # a live target without a control plane: what the run bought, and held back
        purchases = {
            "cap": support.MAX_PURCHASES,
            "bought": dict(sorted(support.BOUGHT.items())),
            "sharesOfGeneratedCases": support.purchase_shares(),
            "heldBack": dict(sorted(support.HELD_BACK.items())),
        }
    settlement = None
    if support.SETTLEMENTS:  # frozen_release without a control plane: the orders waited for
        settlement = {
            "boundS": support.SETTLE_WAIT_S,
            "waitedSeconds": round(pacing.LEDGER.settle_waited_s, 1),
            "orders": list(support.SETTLEMENTS),
            "inconclusive": sum(1 for r in support.SETTLEMENTS if _inconclusive(r)),
        }
    return {
        **({"purchases": purchases} if purchases else {}),
        **({"settlement": settlement} if settlement else {}),
        "requests": pacing.LEDGER.sent,
        "rateLimited": sum(pacing.LEDGER.rate_limited.values()),
        "waitedSeconds": round(pacing.LEDGER.waited_s, 1),
        "seconds": round(time.time() - _STARTED[0], 1),
        "apis": apis,
        "unjudged": unjudged,
    }


def _coverage_table(report: dict[str, Any]) -> list[str]:
    lines = [
        "## Coverage",
        "",
        f"{report['requests']} requests, {report['rateLimited']} answered 429 and retried "
        f"(waited {report['waitedSeconds']} s), {report['seconds']} s.",
        "",
    ]
    if "purchases" in report:
        bought = report["purchases"]["bought"]
        held = report["purchases"]["heldBack"]
        lines += [
            f"{sum(bought.values())} purchases of at most {report['purchases']['cap']} (CONTRACT_MAX_PURCHASES): "
            + (", ".join(f"{k} {v}" for k, v in bought.items()) or "none")
            + ("; generated cases not sent, their operation's share spent: "
               + ", ".join(f"{k} {v}" for k, v in held.items()) if held else ""),
            "",
        ]
    if "settlement" in report:
        settle = report["settlement"]
        lines += [
            f"frozen_release without a control plane: waited for {len(settle['orders'])} energy order(s) to "
            f"settle by itself, at most {settle['boundS']:g} s each (CONTRACT_SETTLE_WAIT_S; "
            f"{settle['waitedSeconds']} s paused): "
            + "; ".join(f"order {r['orderId']} {r['outcome']}" for r in settle["orders"])
            + (f". **{settle['inconclusive']} inconclusive**: not settled within the bound, the rule was not "
               "judged (raise CONTRACT_SETTLE_WAIT_S)" if settle["inconclusive"] else ""),
            "",
        ]
    lines += [
        "| operation | 2xx | 4xx | 5xx | 429 retried | reachable |",
        "|---|---|---|---|---|---|",
    ]
    for api, operations in report["apis"].items():
        for label, entry in operations.items():
            judged = entry["judged"]
            reach = "yes" if entry["reachable"] else f"no: {entry['why']}"
            if entry["reachable"] and not judged.get("2xx"):
                reach = "**yes, never judged a 2xx**"
            lines.append(
                f"| {api} {label} | {judged.get('2xx', 0)} | {judged.get('4xx', 0)} | {judged.get('5xx', 0)} "
                f"| {entry['rateLimited']} | {reach} |"
            )
    return [*lines, ""]


def _markdown(path: Path, report: dict[str, Any]) -> None:
    failed = sum(1 for _, r in _REPORTS if r.failed)
    lines = [
        "# Contract drift report",
        "",
        *_coverage_table(report),
        *[f"- {target}" for target in _targets()],
        f"- {len(_REPORTS)} tests, {failed} failed, {len(_MISMATCHES)} mismatches",
        "",
    ]
    if not _MISMATCHES:
        lines.append("No mismatch: the target keeps the contract (emulator/specs/*.json).")
    else:
        lines += [
            "A mismatch on a rule marked `x-inferred` in the documents is a wrong assumption of the",
            "emulator; on any other rule, the vendor has drifted from its own docs.",
            "",
            "| operation | check | expected | got |",
            "|---|---|---|---|",
        ]
        lines += [f"| {m.operation} | {m.check} | {m.expected} | {m.got} |" for m in _MISMATCHES]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


_UNJUDGED: list[str] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not pacing.LEDGER.apis_run:
        return
    report = coverage()
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / "coverage.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    # A reachable operation never judged a 2xx: the run could not show it keeps the contract.
    _UNJUDGED[:] = report["unjudged"]
    if _UNJUDGED:
        _MISMATCHES.extend(
            Mismatch("coverage", label.split(" ", 1)[1], "coverage", "a judged 2xx", "none (see the coverage table)")
            for label in _UNJUDGED
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if not _enabled() or not _REPORTS:
        return
    _junit(REPORTS / "junit.xml")
    _markdown(REPORTS / "drift.md", report)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not pacing.LEDGER.apis_run:
        return
    for label in _UNJUDGED:
        terminalreporter.write_line(f"contract coverage: {label} was reachable but never judged a 2xx", red=True)
    for record in filter(_inconclusive, support.SETTLEMENTS):
        terminalreporter.write_line(
            f"contract frozen_release: energy order {record['orderId']} {record['outcome']}: not judged",
            yellow=True,
        )
    where = [REPORTS / "coverage.json"]
    if _enabled() and _REPORTS:
        where += [REPORTS / "drift.md", REPORTS / "junit.xml"]
    terminalreporter.write_line(f"contract report: {', '.join(map(str, where))}")
