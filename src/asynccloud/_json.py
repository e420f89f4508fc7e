"""Reading JSON answers: decode the body once, then read fields through typed accessors, not bare indexing.

A broken or hostile successful body (not JSON, nested too deep to decode, ``NaN``, a list where an object
belongs, a missing key, ``null``, a string where a number belongs) raises :class:`MalformedJson`, a
``ValueError`` whose message names the field and what was wrong. Messages hold field names and JSON type
names only, never a value from the body (a body may echo a secret).

Driver verbs are wrapped by :mod:`asynccloud.drivers._unreadable`, which turns a ``MalformedJson`` into
``ProviderError(code="MalformedResponse")`` with the provider, the answer's status and this message; the
identity parsers (:mod:`asynccloud.auth.keystone._access`) raise their own ``ProviderError`` from it::

    body = json_object(await http.request("GET", url))
    for server in objects(body, "servers"):           # [] is fine; missing, null or "x" is not
        node_id = identifier(server, "id", "server")  # a string or an integer, as a string
        name = optional(server, "name", str, "server") or ""
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

if TYPE_CHECKING:
    from collections.abc import Mapping

    import httpx

__all__ = ["MalformedJson", "decode", "identifier", "json_object", "objects", "optional", "require"]

T = TypeVar("T")

_KINDS: dict[type, str] = {
    dict: "an object", list: "a list", str: "a string", int: "an integer", float: "a number",
    bool: "a boolean",
}  # fmt: skip


class MalformedJson(ValueError):
    """A JSON answer does not have the shape its reader needs; the message names the field, never a value."""


def _kind(value: Any) -> str:
    """The JSON type of ``value``, for a message (``"null"``, ``"a list"``, ...)."""
    if value is None:
        return "null"
    return next((name for kind, name in _KINDS.items() if type(value) is kind), type(value).__name__)


def _fits(value: Any, kind: type) -> bool:
    # JSON has no bool/int subtyping: true is no integer. An integer is a number, an infinite float is not.
    if isinstance(value, bool):
        return kind is bool
    if kind is float:  # (an int too large for a float is still a finite number)
        return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))
    return isinstance(value, kind)


def _path(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _wrong(path: str, kind: type, value: Any) -> NoReturn:
    raise MalformedJson(f"{path} is {_kind(value)}, expected {_KINDS.get(kind, kind.__name__)}")


def _no_constant(name: str) -> NoReturn:
    raise MalformedJson(f"the body holds {name}, which is not JSON")


def decode(response: httpx.Response) -> Any:
    """The decoded body (any JSON value).

    Raises:
        MalformedJson: Not JSON (or not UTF-8, or ``NaN``/``Infinity``), nested too deep, or a number with
            more digits than Python converts.
    """
    try:
        return response.json(parse_constant=_no_constant)
    except RecursionError:
        raise MalformedJson("the body is nested too deeply to decode") from None
    except MalformedJson:
        raise
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, an integer too long to convert
        raise MalformedJson(f"the body is not JSON ({type(exc).__name__})") from None


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The decoded body, which must be a JSON object."""
    body = decode(response)
    if not isinstance(body, dict):
        _wrong("the body", dict, body)
    return body


def require(obj: Mapping[str, Any], key: str, kind: type[T], where: str = "") -> T:
    """``obj[key]``, present and of ``kind``: ``dict``, ``list``, ``str``, ``int``, ``float`` or ``bool``.

    ``float`` accepts integers too; ``int`` and ``float`` refuse booleans, ``float`` refuses infinities.
    ``where`` names ``obj`` in the message (``"server"`` gives ``"server.id is missing"``).
    """
    if key not in obj:
        raise MalformedJson(f"{_path(where, key)} is missing")
    value = obj[key]
    if not _fits(value, kind):
        _wrong(_path(where, key), kind, value)
    return value  # type: ignore[no-any-return]


def optional(obj: Mapping[str, Any], key: str, kind: type[T], where: str = "") -> T | None:
    """``obj[key]``, of ``kind`` (see :func:`require`); ``None`` when it is missing or ``null``."""
    value = obj.get(key)
    if value is None:
        return None
    if not _fits(value, kind):
        _wrong(_path(where, key), kind, value)
    return value  # type: ignore[no-any-return]


def identifier(obj: Mapping[str, Any], key: str = "id", where: str = "") -> str:
    """An id: ``obj[key]``, a non-empty string or an integer, as a string."""
    value = obj.get(key)
    if (isinstance(value, str) and value) or (isinstance(value, int) and not isinstance(value, bool)):
        return str(value)
    if key not in obj:
        raise MalformedJson(f"{_path(where, key)} is missing")
    raise MalformedJson(f"{_path(where, key)} is {_kind(value) if value != '' else 'empty'}, expected an id")


def objects(obj: Mapping[str, Any], key: str, where: str = "") -> list[dict[str, Any]]:
    """``obj[key]``: a list of JSON objects (``MalformedJson`` naming the first entry that is not one)."""
    items = require(obj, key, list, where)
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            _wrong(f"{_path(where, key)}[{index}]", dict, item)
    return items
