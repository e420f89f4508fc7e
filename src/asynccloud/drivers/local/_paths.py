"""Name checks and safe path resolution for the local storage driver.

Every container or object name is checked before any filesystem call, and every resolved path is checked
again after symlinks are followed, so nothing outside the root is ever read, written or deleted.
"""

from __future__ import annotations

import os
from pathlib import Path

from asynccloud.errors import InvalidNameError

__all__ = ["RESERVED", "check_container_name", "check_object_name", "inside"]

#: The directory under the root that holds the driver's own state (staging area, metadata).
RESERVED = ".asynccloud"

_MAX_COMPONENT = 255


def _common(kind: str, name: object) -> str:
    if not isinstance(name, str):
        raise InvalidNameError(f"{kind} name must be a str, got {type(name).__name__}")
    if not name:
        raise InvalidNameError(f"{kind} name must not be empty")
    if "\x00" in name:
        raise InvalidNameError(f"{kind} name {name!r} contains a NUL byte")
    if "\\" in name:
        raise InvalidNameError(f"{kind} name {name!r} contains a backslash")
    return name


def _check_component(kind: str, name: str, part: str) -> None:
    if part in ("", ".", ".."):
        what = "an empty component" if not part else f"a {part!r} component"
        raise InvalidNameError(f"{kind} name {name!r} has {what}; it would escape or alias a path")
    if len(part.encode("utf-8", "surrogatepass")) > _MAX_COMPONENT:
        raise InvalidNameError(f"{kind} name {name!r} has a component longer than {_MAX_COMPONENT} bytes")


def check_container_name(name: object) -> str:
    """Return ``name`` if it is a safe container name (one path component), else raise InvalidNameError."""
    text = _common("container", name)
    if "/" in text:
        raise InvalidNameError(f"container name {text!r} must not contain '/'")
    _check_component("container", text, text)
    if text == RESERVED:
        raise InvalidNameError(f"container name {text!r} is reserved by the local driver")
    return text


def check_object_name(name: object) -> str:
    """Return ``name`` if it is a safe object name: ``/``-separated, relative, no ``.``/``..``/empty parts."""
    text = _common("object", name)
    if text.startswith("/"):
        raise InvalidNameError(f"object name {text!r} is absolute")
    for part in text.split("/"):
        _check_component("object", text, part)
    return text


def inside(path: Path, base: Path) -> bool:
    """Whether ``path``, with symlinks resolved, is ``base`` or below it (``base`` already resolved)."""
    real = Path(os.path.realpath(path))
    return real == base or base in real.parents
