"""Small pieces of the Swift driver: request headers, response values, and stream plumbing."""

from __future__ import annotations

import mimetypes
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from asynccloud.drivers._responses import abandon_response
from asynccloud.errors import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping


__all__ = [
    "abandon_response", "chain_parts", "guess_type", "http_time", "listing_time", "object_headers", "to_int",
]  # fmt: skip

_META_KEY = re.compile(r"^[A-Za-z0-9!#$%&'*+.^`|~-]+$")


async def chain_parts(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    async for part in rest:
        yield part


def object_headers(content_type: str, meta_data: Mapping[str, str] | None) -> dict[str, str]:
    headers = {"Content-Type": content_type}
    for key, value in (meta_data or {}).items():
        if not isinstance(key, str) or not _META_KEY.match(key) or "_" in key:
            raise ConfigurationError(f"meta_data key {key!r} must be a non-empty HTTP token without '_'")
        if not isinstance(value, str) or not value.isascii() or any(c in value for c in "\r\n\x00"):
            raise ConfigurationError(f"meta_data[{key!r}] must be a printable ASCII string on one line")
        headers[f"X-Object-Meta-{key}"] = value
    return headers


def guess_type(name: str) -> str:
    return mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"


def to_int(value: Any, default: Any = 0) -> Any:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def http_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None


def listing_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
