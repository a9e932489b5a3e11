"""State machines as tables: what a status may move to, and nothing else."""

from __future__ import annotations

import pytest

from emulator.core.statemachine import StateMachine, TransitionError

TABLE = {"new": ("done", "gone"), "done": (), "gone": ("new",)}


def machine() -> StateMachine:
    return StateMachine("thing", "new", TABLE)


def test_the_table_lists_its_statuses_and_initial_status() -> None:
    m = machine()
    assert m.statuses == ("new", "done", "gone")
    assert m.initial == "new"
    assert m.name == "thing"


@pytest.mark.parametrize("current", list(TABLE))
@pytest.mark.parametrize("target", list(TABLE))
def test_can_and_check_agree_with_the_table(current: str, target: str) -> None:
    m = machine()
    allowed = target in TABLE[current]
    assert m.can(current, target) is allowed
    if allowed:
        m.check(current, target)
    else:
        with pytest.raises(TransitionError) as info:
            m.check(current, target)
        assert (info.value.machine, info.value.current, info.value.target) == ("thing", current, target)


def test_allowed_gives_the_moves_in_table_order() -> None:
    assert machine().allowed("new") == ("done", "gone")
    assert machine().allowed("done") == ()


def test_terminal_statuses_have_no_moves() -> None:
    m = machine()
    assert m.is_terminal("done")
    assert not m.is_terminal("new")
    assert not m.is_terminal("gone")


def test_unknown_statuses_move_nowhere() -> None:
    m = machine()
    assert not m.can("missing", "new")
    assert not m.can("new", "missing")
    with pytest.raises(TransitionError):
        m.check("new", "missing")


def test_a_table_naming_an_unknown_target_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown"):
        StateMachine("bad", "a", {"a": ("b",)})


def test_the_table_is_copied_so_later_edits_do_not_leak_in() -> None:
    source = dict(TABLE)
    m = StateMachine("thing", "new", source)
    source["done"] = ("new",)
    assert not m.can("done", "new")
