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
    __slots__ = ("name", "table", "initial")

    def __init__(self, name: str, initial: str, table: Mapping[str, tuple[str, ...]]) -> None:
        for status, targets in table.items():
            unknown = [t for t in targets if t not in table]
            if unknown:
                raise ValueError(f"{name}: {status} -> unknown statuses {unknown}")
        self.name = name
        self.initial = initial
        self.table = dict(table)

    @property
    def statuses(self) -> tuple[str, ...]:
        return tuple(self.table)

    def allowed(self, status: str) -> tuple[str, ...]:
        return self.table[status]

    def can(self, current: str, target: str) -> bool:
        return target in self.table.get(current, ())

    def check(self, current: str, target: str) -> None:
        if not self.can(current, target):
            raise TransitionError(self.name, current, target)

    def is_terminal(self, status: str) -> bool:
        return not self.table[status]
