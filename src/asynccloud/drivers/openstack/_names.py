"""Swift container and object names: validation and how they appear in URLs."""

from __future__ import annotations

from urllib.parse import quote

from asynccloud.errors import InvalidNameError

__all__ = ["check_container_name", "check_object_name", "quote_container", "quote_object"]


def check_container_name(name: str) -> str:
    """Return ``name`` if Swift accepts it as a container name (1-256 bytes, no ``/``), else raise.

    ``.`` and ``..`` are refused too: HTTP collapses them, so the request would address the account.
    """
    if not isinstance(name, str) or not name or "/" in name or len(name.encode()) > 256:
        raise InvalidNameError(f"invalid Swift container name {name!r}: 1-256 bytes, no '/'")
    if name in (".", ".."):
        raise InvalidNameError(f"invalid Swift container name {name!r}: it would address the account")
    return name


def check_object_name(name: str) -> str:
    """Return ``name`` if Swift accepts it as an object name (1-1024 bytes, no NUL), else raise."""
    if not isinstance(name, str) or not name or len(name.encode()) > 1024 or "\x00" in name:
        raise InvalidNameError(f"invalid Swift object name {name!r}: 1-1024 bytes, no NUL")
    return name


def quote_container(name: str) -> str:
    """A container name as a URL path segment."""
    return quote(name, safe="")


def quote_object(name: str) -> str:
    """An object name as URL path segments (its ``/`` kept)."""
    # httpx removes "." and ".." path segments; escaped, they reach Swift as part of the name.
    return "/".join(
        segment.replace(".", "%2E") if segment in (".", "..") else segment
        for segment in quote(name, safe="/").split("/")
    )
