"""The JSON reading helper (asynccloud._json): decoding, typed accessors, messages that name the field."""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asynccloud._json import MalformedJson, decode, identifier, json_object, objects, optional, require

SECRET = "s3cr3t-value-from-the-body"


def body(content: bytes) -> httpx.Response:
    return httpx.Response(200, content=content)


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"<html>502</html>", "the body is not JSON (JSONDecodeError)"),
        (b"", "the body is not JSON (JSONDecodeError)"),
        (b"\xff\xfe{", "the body is not JSON (UnicodeDecodeError)"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b"9" * 5000, "the body is not JSON (ValueError)"),  # more digits than Python converts
        (b"NaN", "NaN, which is not JSON"),
        (b'{"a": -Infinity}', "-Infinity, which is not JSON"),
    ],
    ids=["html", "empty", "not-utf8", "deep", "huge-int", "nan", "infinity"],
)
def test_decode_refuses_what_is_not_json(content: bytes, says: str) -> None:
    with pytest.raises(MalformedJson, match=re.escape(says)):
        decode(body(content))


def test_decode_reads_json() -> None:
    assert decode(body(b'[1, "two", null, {"x": 1.5}]')) == [1, "two", None, {"x": 1.5}]
    assert json_object(body(b'{"a": {}}')) == {"a": {}}


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"[]", "a list"),
        (b"null", "null"),
        (b'"x"', "a string"),
        (b"1", "an integer"),
        (b"true", "a boolean"),
    ],
)
def test_json_object_refuses_other_documents(content: bytes, says: str) -> None:
    with pytest.raises(MalformedJson, match=f"^the body is {says}, expected an object$"):
        json_object(body(content))


DOC: dict[str, Any] = {
    "id": "abc", "n": 3, "f": 2.5, "flag": True, "none": None, "list": [1], "obj": {}, "empty": "",
    "big": 1e308 * 10, "huge": 10**400, "secret": SECRET,
}  # fmt: skip


@pytest.mark.parametrize(
    ("key", "kind", "says"),
    [
        ("missing", str, "server.missing is missing"),
        ("none", str, "server.none is null, expected a string"),
        ("n", str, "server.n is an integer, expected a string"),
        ("flag", int, "server.flag is a boolean, expected an integer"),  # JSON true is no integer
        ("f", int, "server.f is a number, expected an integer"),
        ("big", float, "server.big is a number, expected a number"),  # infinity is refused
        ("list", dict, "server.list is a list, expected an object"),
        ("obj", list, "server.obj is an object, expected a list"),
        ("secret", int, "server.secret is a string, expected an integer"),
    ],
)
def test_require_names_the_field_and_the_types(key: str, kind: type, says: str) -> None:
    with pytest.raises(MalformedJson) as info:
        require(DOC, key, kind, "server")
    assert str(info.value) == says
    assert SECRET not in str(info.value)  # names and types, never values


def test_require_and_optional_return_values_of_the_kind() -> None:
    assert require(DOC, "id", str) == "abc"
    assert require(DOC, "huge", float) == 10**400  # too large for a float, and still a number
    assert require(DOC, "n", float) == 3  # an integer is a number
    assert require(DOC, "flag", bool) is True
    assert optional(DOC, "missing", str) is None
    assert optional(DOC, "none", int) is None
    assert optional(DOC, "f", float) == 2.5
    with pytest.raises(MalformedJson, match=r"^list is a list, expected a string$"):
        optional(DOC, "list", str)


def test_identifier_takes_strings_and_integers() -> None:
    assert identifier({"id": "a1"}) == "a1"
    assert identifier({"id": 22}) == "22"
    assert identifier({"zone_id": "z"}, "zone_id", "recordset") == "z"
    cases: list[tuple[object, str]] = [
        (None, "null"),
        ("", "empty"),
        (True, "a boolean"),
        ({}, "an object"),
        (1.5, "a number"),
    ]
    for value, says in cases:
        with pytest.raises(MalformedJson, match=f"^node.id is {says}, expected an id$"):
            identifier({"id": value}, where="node")
    with pytest.raises(MalformedJson, match=r"^node.id is missing$"):
        identifier({}, where="node")


def test_objects_names_the_first_entry_that_is_no_object() -> None:
    assert objects({"servers": []}, "servers") == []
    assert objects({"servers": [{"id": 1}]}, "servers") == [{"id": 1}]
    with pytest.raises(MalformedJson, match=r"^servers\[2\] is a string, expected an object$"):
        objects({"servers": [{}, {}, "x"]}, "servers")
    with pytest.raises(MalformedJson, match=r"^servers is missing$"):
        objects({}, "servers")
    with pytest.raises(MalformedJson, match=r"^lb.nodes is null, expected a list$"):
        objects({"nodes": None}, "nodes", "lb")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)
KINDS = st.sampled_from([dict, list, str, int, float, bool])


@settings(max_examples=200, deadline=None)
@given(document=JSON, key=st.sampled_from(["id", "name", "x"]), kind=KINDS)
def test_the_accessors_raise_only_malformed_json(document: Any, key: str, kind: type) -> None:
    try:
        obj = json_object(body(json.dumps(document).encode()))
    except MalformedJson:
        return
    with contextlib.suppress(MalformedJson):
        assert require(obj, key, kind) is optional(obj, key, kind)
    for read in (identifier, objects):
        with contextlib.suppress(MalformedJson):
            read(obj, key)


@settings(max_examples=200, deadline=None)
@given(content=st.binary(max_size=200) | JSON.map(lambda v: json.dumps(v).encode()))
def test_decode_raises_only_malformed_json(content: bytes) -> None:
    with contextlib.suppress(MalformedJson):
        decode(body(content))
