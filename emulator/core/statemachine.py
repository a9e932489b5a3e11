"""State machines as tables: status -> the statuses it may move to.

`canTransitionTo`, the client actions and the control plane's forced moves all read
the same table, so what is shown and what is allowed cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping


class TransitionError(Exception):
    def __init__(self, machine: str, current: str, target: str) -> None:
        super().__init__(f"{machine}: cannot move from {current!r} to {target!r}")
        self.machine = machine
        self.current = current
        self.target = target


class StateMachine:
    __slots__ = ("name", "table", "initial", "statuses")

    def __init__(self, name: str, initial: str, table: Mapping[str, tuple[str, ...]]) -> None:
        for status, targets in table.items():
            unknown = [t for t in targets if t not in table]
            if unknown:
                raise ValueError(f"{name}: {status} -> unknown statuses {unknown}")
        if initial not in table:
            raise ValueError(f"{name}: the initial status {initial!r} is not in the table")
        self.name = name
        self.initial = initial
        self.table = dict(table)
        # The initial status first: a status can be stored as its index, the initial as 0.
        self.statuses: tuple[str, ...] = (initial, *(s for s in table if s != initial))

    def allowed(self, status: str) -> tuple[str, ...]:
        return self.table[status]

    def can(self, current: str, target: str) -> bool:
        return target in self.table.get(current, ())

    def check(self, current: str, target: str) -> None:
        if not self.can(current, target):
            raise TransitionError(self.name, current, target)

    def is_terminal(self, status: str) -> bool:
        return not self.table[status]
