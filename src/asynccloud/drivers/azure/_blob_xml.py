"""The XML documents of the Blob service: container and blob listings, block lists.

Listings (``EnumerationResults``) are parsed with defusedxml (no entity expansion, no DTD).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from defusedxml.ElementTree import fromstring

from asynccloud._json import MalformedJson

if TYPE_CHECKING:
    from datetime import datetime
    from xml.etree.ElementTree import Element

__all__ = ["BlobEntry", "block_list", "md5_hex", "parse_blobs", "parse_containers", "parse_http_date"]


@dataclass(frozen=True, slots=True)
class BlobEntry:
    """One ``<Blob>`` of a listing."""

    name: str
    size: int
    md5: str | None
    content_type: str | None
    last_modified: datetime | None
    etag: str | None
    meta_data: dict[str, str] = field(default_factory=dict)


def md5_hex(value: str | None) -> str | None:
    """A base64 ``Content-MD5`` as hex (``None`` if absent or not a 16-byte base64 value)."""
    if not value:
        return None
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.hex() if len(raw) == 16 else None


def parse_http_date(value: str | None) -> datetime | None:
    """An RFC 1123 date (``Last-Modified``), or ``None``."""
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


def _root(body: bytes) -> Element:
    try:
        root = fromstring(body)
    except Exception:  # ParseError, DefusedXmlException: reported without the body
        raise MalformedJson("the listing is not well-formed XML") from None
    if root.tag != "EnumerationResults":
        raise MalformedJson(f"the listing's root is <{root.tag}>, expected <EnumerationResults>")
    return root


def parse_containers(body: bytes) -> tuple[list[str], str | None]:
    """Container names of a ``List Containers`` page, and the next marker (``None`` at the end)."""
    root = _root(body)
    names = []
    for item in root.iterfind("Containers/Container"):
        name = item.findtext("Name")
        if not name:
            raise MalformedJson("a listed container has no name")
        names.append(name)
    return names, root.findtext("NextMarker") or None


def parse_blobs(body: bytes) -> tuple[list[BlobEntry], str | None]:
    """Blobs of a ``List Blobs`` page (with ``include=metadata``), and the next marker."""
    root = _root(body)
    entries = []
    for item in root.iterfind("Blobs/Blob"):
        name = item.findtext("Name")
        size = item.findtext("Properties/Content-Length")
        if not name or size is None or not size.isdigit():
            raise MalformedJson("a listed blob has no name or no Content-Length")
        meta = item.find("Metadata")
        entries.append(
            BlobEntry(
                name=name,
                size=int(size),
                md5=md5_hex(item.findtext("Properties/Content-MD5")),
                content_type=item.findtext("Properties/Content-Type") or None,
                last_modified=parse_http_date(item.findtext("Properties/Last-Modified")),
                etag=item.findtext("Properties/Etag"),
                meta_data={} if meta is None else {m.tag.lower(): m.text or "" for m in meta},
            )
        )
    return entries, root.findtext("NextMarker") or None


def block_list(block_ids: list[str]) -> bytes:
    """The body of ``Put Block List`` committing ``block_ids`` in order."""
    latest = "".join(f"<Latest>{escape(b)}</Latest>" for b in block_ids)
    return f'<?xml version="1.0" encoding="utf-8"?><BlockList>{latest}</BlockList>'.encode()
