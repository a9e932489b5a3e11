"""Field readers: each names the field it refuses; booleans are not integers."""

from __future__ import annotations

import pytest

from emulator.core import validate as v
from emulator.core.errors import FieldError


def refuses(call, field: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FieldError) as info:
        call()
    assert info.value.field == field
    assert reason in info.value.reason
    assert field in str(info.value)


def test_need_treats_missing_and_null_alike() -> None:
    refuses(lambda: v.need({}, "a"), "a", "required")
    refuses(lambda: v.need({"a": None}, "a"), "a", "required")
    assert v.need({"a": 0}, "a") == 0
    assert v.need({"a": False}, "a") is False


def test_a_path_prefix_is_part_of_the_field_name() -> None:
    refuses(lambda: v.need({}, "id", "247xd.accounts[0]."), "247xd.accounts[0].id", "required")


def test_string_checks_type_and_length() -> None:
    assert v.string({"s": "abc"}, "s") == "abc"
    refuses(lambda: v.string({"s": 5}, "s"), "s", "must be a string")
    refuses(lambda: v.string({"s": ""}, "s"), "s", "1 to")
    refuses(lambda: v.string({"s": "abcd"}, "s", max_len=3), "s", "1 to 3")
    assert v.string({"s": ""}, "s", min_len=0) == ""


@pytest.mark.parametrize("value", [True, False, 1.0, "1", [1], {"a": 1}])
def test_integer_refuses_booleans_floats_and_strings(value: object) -> None:
    refuses(lambda: v.integer({"n": value}, "n"), "n", "must be an integer")


def test_integer_checks_its_range() -> None:
    assert v.integer({"n": 5}, "n", low=5, high=5) == 5
    refuses(lambda: v.integer({"n": 4}, "n", low=5), "n", "at least 5")
    refuses(lambda: v.integer({"n": 6}, "n", high=5), "n", "at most 5")


@pytest.mark.parametrize("value", [True, "1.5", None, [1.5]])
def test_number_refuses_booleans_and_strings(value: object) -> None:
    with pytest.raises(FieldError) as info:
        v.number({"x": value}, "x")
    assert info.value.field == "x"


def test_number_accepts_ints_and_floats_and_checks_bounds() -> None:
    assert v.number({"x": 1}, "x") == 1
    assert v.number({"x": 1.5}, "x", low=0) == 1.5
    refuses(lambda: v.number({"x": -0.5}, "x", low=0), "x", "at least 0")
    refuses(lambda: v.number({"x": float("inf")}, "x"), "x", "finite")
    refuses(lambda: v.number({"x": float("nan")}, "x"), "x", "finite")


def test_boolean_accepts_only_true_and_false() -> None:
    assert v.boolean({"b": True}, "b") is True
    for value in (1, 0, "true", "false"):
        refuses(lambda value=value: v.boolean({"b": value}, "b"), "b", "true or false")


def test_uuid_string_lowercases_and_refuses_other_shapes() -> None:
    assert v.uuid_string({"u": "ABCDEF01-2345-4678-9ABC-DEF012345678"}, "u") == (
        "abcdef01-2345-4678-9abc-def012345678"
    )
    for bad in (
        "abc",
        "abcdef0123454678-9abc-def012345678",
        "abcdef01-2345-4678-9abc-def01234567g",
        " " * 36,
    ):
        refuses(lambda bad=bad: v.uuid_string({"u": bad}, "u"), "u", "uuid")
    refuses(lambda: v.uuid_string({"u": 123}, "u"), "u", "must be a string")


def test_uuid_string_answers_the_same_the_second_time_and_stays_bounded() -> None:
    upper = "ABCDEF01-2345-4678-9ABC-DEF012345679"
    for _ in range(2):  # the second answer comes from the checked uuids
        assert v.uuid_string({"u": upper}, "u") == upper.lower()
    refuses(lambda: v.uuid_string({"u": upper + "0"}, "u"), "u", "uuid")  # a near miss is still checked
    refuses(lambda: v.uuid_string({}, "u"), "u", "required")
    for n in range(v._MAX_UUIDS + 10):
        v.uuid_string({"u": f"00000000-0000-4000-8000-{n:012d}"}, "u")
    assert len(v._UUIDS) <= v._MAX_UUIDS


def test_obj_of_and_list_of_check_containers() -> None:
    assert v.obj_of({"o": {}}, "o") == {}
    assert v.list_of({"l": []}, "l") == []
    refuses(lambda: v.obj_of({"o": []}, "o"), "o", "object")
    refuses(lambda: v.list_of({"l": {}}, "l"), "l", "list")


def test_optional_is_present_and_not_null() -> None:
    assert v.optional({"a": 0}, "a")
    assert not v.optional({"a": None}, "a")
    assert not v.optional({}, "a")


def test_int64_max_is_the_largest_signed_64_bit_integer() -> None:
    assert v.INT64_MAX == 2**63 - 1
    assert v.integer({"x": v.INT64_MAX}, "x", high=v.INT64_MAX) == v.INT64_MAX
    refuses(lambda: v.integer({"x": v.INT64_MAX + 1}, "x", high=v.INT64_MAX), "x", "at most")


def test_items_is_an_optional_list_of_objects_with_their_paths() -> None:
    assert v.items({}, "accounts", "doc.") == []
    assert v.items({"accounts": [{"id": 1}]}, "accounts", "doc.") == [("doc.accounts[0].", {"id": 1})]
    refuses(lambda: v.items({"accounts": None}, "accounts", "doc."), "doc.accounts", "required")
    refuses(lambda: v.items({"accounts": [1]}, "accounts", "doc."), "doc.accounts[0]", "object")


def test_unique_names_the_first_value_listed_twice() -> None:
    v.unique(["a", "b", 1, 2], "doc.ids")
    refuses(lambda: v.unique(["a", "b", "a", "b"], "doc.ids"), "doc.ids", "a is used twice")
    with pytest.raises(FieldError) as info:
        v.unique([7, 7], "doc.ids", noun="id ")
    assert info.value.reason == "id 7 is used twice"
