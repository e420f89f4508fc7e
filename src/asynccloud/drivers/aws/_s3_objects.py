"""Turning S3 answers into models, and user metadata into ``x-amz-meta-*`` headers and back.

Listings build one :class:`~asynccloud.models.Object` per key, so that path is kept cheap: the values
come from a document S3 produced and were already converted to the right types here, so the model is
assembled without re-validation (:func:`trusted_object`, ~4x faster than a validated construction and
than ``model_construct``). A test checks that such an object equals its validated twin, so a pydantic
upgrade that changed the internals would be caught.
"""

from __future__ import annotations

import base64
import email.header
import email.utils
import mimetypes
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from asynccloud.drivers.aws._s3_multipart import strip_etag
from asynccloud.errors import ConfigurationError
from asynccloud.models import Container, Object

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    import httpx

    from asynccloud.drivers.aws._s3_xml import Bucket, ListedObject

__all__ = [
    "META_PREFIX",
    "bucket_container",
    "guess_content_type",
    "head_object",
    "listed_object",
    "listed_objects",
    "meta_data_headers",
    "meta_data_from_headers",
    "trusted_object",
]

META_PREFIX: Final = "x-amz-meta-"
_TOKEN: Final = re.compile(r"\A[A-Za-z0-9!#$%&'*+.^_`|~-]+\Z")
_SAFE_VALUE: Final = re.compile(r"\A[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?\Z")
_ENCODED_WORD: Final = re.compile(r"\A=\?[^?]+\?[bBqQ]\?[^?]*\?=\Z")
_FIELDS: Final = frozenset(Object.model_fields)
_new_object = Object.__new__
_set = object.__setattr__

# Response headers kept in Object.extra (header -> key).
_EXTRA_HEADERS: Final = {
    "x-amz-version-id": "version_id",
    "x-amz-storage-class": "storage_class",
    "x-amz-server-side-encryption": "server_side_encryption",
    "cache-control": "cache_control",
    "content-encoding": "content_encoding",
    "content-disposition": "content_disposition",
    "content-language": "content_language",
    "expires": "expires",
    "x-amz-checksum-crc32c": "checksum_crc32c",
    "x-amz-checksum-sha256": "checksum_sha256",
}


def trusted_object(driver: Any, fields: dict[str, Any]) -> Object:
    """Build a bound :class:`Object` from values that already have the right types, without validation.

    Args:
        driver: The driver to bind.
        fields: A value for every field of :class:`Object` (name, size, hash, content_type, meta_data,
            container_name, last_modified, extra), already of the declared types.
    """
    obj = _new_object(Object)
    _set(obj, "__dict__", fields)
    _set(obj, "__pydantic_fields_set__", set(_FIELDS))
    _set(obj, "__pydantic_extra__", None)
    _set(obj, "__pydantic_private__", {"_driver": driver})
    return obj


def _iso_datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def listed_object(driver: Any, container: str, item: ListedObject) -> Object:
    """An :class:`Object` for one ListObjectsV2 entry (no content type or metadata: S3 does not list them)."""
    return trusted_object(
        driver,
        {
            "name": item.key,
            "size": item.size,
            "hash": item.etag,
            "content_type": None,
            "meta_data": {},
            "container_name": container,
            "last_modified": _iso_datetime(item.last_modified),
            "extra": {"storage_class": item.storage_class} if item.storage_class else {},
        },
    )


def listed_objects(driver: Any, container: str, items: Iterable[ListedObject]) -> list[Object]:
    """:func:`listed_object` for a whole page, with the per-object work inlined (a listing's hot loop)."""
    objects: list[Object] = []
    append = objects.append
    new, setattr_, fields, private = _new_object, _set, _FIELDS, {"_driver": driver}
    iso = _iso_datetime
    for key, size, etag, modified, storage in items:
        obj = new(Object)
        setattr_(
            obj,
            "__dict__",
            {
                "name": key,
                "size": size,
                "hash": etag,
                "content_type": None,
                "meta_data": {},
                "container_name": container,
                "last_modified": iso(modified),
                "extra": {"storage_class": storage} if storage else {},
            },
        )
        setattr_(obj, "__pydantic_fields_set__", set(fields))
        setattr_(obj, "__pydantic_extra__", None)
        setattr_(obj, "__pydantic_private__", private.copy())
        append(obj)
    return objects


def bucket_container(driver: Any, bucket: Bucket) -> Container:
    """A :class:`Container` for one ListBuckets entry."""
    extra: dict[str, Any] = {}
    created = _iso_datetime(bucket.creation_date)
    if created is not None:
        extra["creation_date"] = created
    if bucket.region:
        extra["region"] = bucket.region
    return Container(name=bucket.name, extra=extra)._bind(driver)


def head_object(driver: Any, container: str, name: str, headers: httpx.Headers) -> Object:
    """An :class:`Object` from the headers of a HEAD (or GET) object response."""
    extra: dict[str, Any] = {
        key: headers[header] for header, key in _EXTRA_HEADERS.items() if header in headers
    }
    if "etag" in headers:
        extra["etag"] = headers["etag"]
    modified = headers.get("last-modified")
    last_modified = None
    if modified:
        try:
            last_modified = email.utils.parsedate_to_datetime(modified)
        except (TypeError, ValueError, IndexError):
            last_modified = None
    return Object(
        name=name,
        size=int(headers.get("content-length") or 0),
        hash=strip_etag(headers.get("etag")),
        content_type=headers.get("content-type"),
        meta_data=meta_data_from_headers(headers),
        container_name=container,
        last_modified=last_modified,
        extra=extra,
    )._bind(driver)


def guess_content_type(name: str) -> str:
    """The content type implied by a name's extension, else ``application/octet-stream``."""
    return mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"


def meta_data_headers(meta_data: Mapping[str, str] | None) -> dict[str, str]:
    """``x-amz-meta-*`` headers for user metadata.

    Names are HTTP tokens and case-insensitive (S3 returns them lower-case, so they are lower-cased here
    too). Values that an HTTP header cannot carry verbatim (non-ASCII, control characters, leading or
    trailing spaces) are sent as RFC 2047 encoded words, as S3 itself does, and decoded on the way back.

    Raises:
        ConfigurationError: A name or value is not a string, or a name is not a valid header token, or two
            names differ only in case.
    """
    if meta_data is None:
        return {}
    if not hasattr(meta_data, "items"):
        raise ConfigurationError(f"meta_data must be a mapping of str to str, got {type(meta_data).__name__}")
    headers: dict[str, str] = {}
    for key, value in meta_data.items():
        if not isinstance(key, str) or not _TOKEN.match(key):
            raise ConfigurationError(
                f"meta_data name {key!r} must be a non-empty HTTP token (letters, digits, -_.)"
            )
        if not isinstance(value, str):
            raise ConfigurationError(f"meta_data[{key!r}] must be a string, got {type(value).__name__}")
        header = META_PREFIX + key.lower()
        if header in headers:
            raise ConfigurationError(f"meta_data names differ only in case: {key!r}")
        if value and (not _SAFE_VALUE.match(value) or value.startswith("=?")):
            value = "=?UTF-8?B?" + base64.b64encode(value.encode("utf-8")).decode("ascii") + "?="
        headers[header] = value
    return headers


def meta_data_from_headers(headers: httpx.Headers | Mapping[str, str]) -> dict[str, str]:
    """User metadata from ``x-amz-meta-*`` response headers (names lower-case, encoded words decoded)."""
    found: dict[str, str] = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered.startswith(META_PREFIX) and len(lowered) > len(META_PREFIX):
            found[lowered[len(META_PREFIX) :]] = _decode_value(value)
    return found


def _decode_value(value: str) -> str:
    if not _ENCODED_WORD.match(value.strip()):
        return value
    try:
        pieces = email.header.decode_header(value.strip())
        return "".join(
            part.decode(charset or "ascii") if isinstance(part, bytes) else part for part, charset in pieces
        )
    except (LookupError, UnicodeDecodeError, ValueError):
        return value
