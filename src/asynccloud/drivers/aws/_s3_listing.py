"""The fast path of ListObjectsV2 parsing: the ``<Contents>`` entries read by one compiled pattern.

A 1,000-key page is ~8,000 XML elements; building a tree of them and walking it in Python costs ~5 µs per
key, most of a listing's time. Real pages are regular (AWS, MinIO and moto write the entries in the same
order, without whitespace), so :func:`split_listing` reads the run of consecutive entries with one pattern
that admits only well-formed content (text without markup, the five predefined entities), and returns the
entries together with the rest of the document, in which a ``<Contents/>`` marker stands where the run was.
The caller parses that rest with the full XML parser, and takes the fast entries only if the marker is the
rest's only ``<Contents>`` element and a direct child of its root — so the document as a whole is checked
to be well-formed and shaped as the full parser expects.

Entries the pattern does not describe — comments or CDATA, carriage returns, control characters, a raw
``>``, character references, another element order, namespace prefixes — end the run; the entries after
it stay in the rest, the marker is then not the only ``<Contents>``, and the caller parses the whole page
with the full parser. So does a page with U+FFFE/U+FFFF or a declared encoding other than UTF-8. The rest
goes through the same safe parser as every document (a DTD is refused), so results never depend on which
path ran; a differential test checks this.
"""

from __future__ import annotations

import re
from typing import Final
from xml.sax.saxutils import unescape

__all__ = ["RawEntry", "entry_text", "split_listing"]

#: Text content: no markup (nor ``>``, so that no "]]>" hides in it), no character XML forbids or
#: normalises (controls, carriage return), and only the predefined entities (character references go the
#: slow way).
_CHAR: Final = rb"[^<>&\r\x00-\x08\x0b\x0c\x0e-\x1f]*"
_TEXT: Final = _CHAR + rb"(?:&(?:amp|lt|gt|quot|apos);" + _CHAR + rb")*"
_WS: Final = rb"[ \t\n]*"
_ENTRY: Final = re.compile(
    (
        rb"<Contents>{W}<Key>({T})</Key>{W}<LastModified>({T})</LastModified>{W}<ETag>({T})</ETag>{W}"
        rb"(?:<ChecksumAlgorithm>{T}</ChecksumAlgorithm>{W})*(?:<ChecksumType>{T}</ChecksumType>{W})?"
        rb"<Size>([0-9]{1,19})</Size>{W}"
        rb"(?:<Owner>{W}(?:<ID>{T}</ID>{W})?(?:<DisplayName>{T}</DisplayName>{W})?</Owner>{W})?"
        rb"(?:<StorageClass>({T})</StorageClass>{W})?</Contents>{W}"
    )
    .replace(b"{T}", _TEXT)
    .replace(b"{W}", _WS)
)
#: The UTF-8 of U+FFFE and U+FFFF (not XML characters), and their common prefix.
_NONCHARACTERS: Final = (b"\xef\xbf\xbe", b"\xef\xbf\xbf")
_NONCHARACTER_PREFIX: Final = b"\xef\xbf"
_DECLARATION: Final = re.compile(rb"\s*<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']*)[\"']")
_MARKER: Final = b"<Contents/>"
_ENTITIES: Final = {"&quot;": '"', "&apos;": "'"}

#: One entry as matched: key, last-modified, ETag, size (digits), storage class (``None`` if absent).
RawEntry = tuple[bytes, bytes, bytes, bytes, bytes | None]


def split_listing(body: bytes) -> tuple[list[RawEntry], bytes] | None:
    """The run of ``<Contents>`` entries of a ListObjectsV2 page, and the page with a marker in its place.

    Returns ``None`` when the page is not in the shape the fast path reads (see the module docstring);
    the caller then parses the whole page with the full parser.
    """
    if b"<Contents>" not in body:
        return None
    if _NONCHARACTER_PREFIX in body and any(mark in body for mark in _NONCHARACTERS):
        return None
    declaration = _DECLARATION.match(body)
    if declaration is not None and declaration[1].lower().replace(b"-", b"") != b"utf8":
        return None
    # One pass in C: [text before the first entry, 5 fields, separator, 5 fields, ..., text after the last].
    parts = _ENTRY.split(body)
    if len(parts) == 1 or any(parts[6:-1:6]):
        return None  # no entry, or entries that are not one contiguous run
    fields = parts[1::6], parts[2::6], parts[3::6], parts[4::6], parts[5::6]
    return list(zip(*fields, strict=True)), parts[0] + _MARKER + parts[-1]


def entry_text(raw: bytes) -> str:
    """The text of a matched field: UTF-8 decoded, the predefined entities replaced.

    Raises:
        UnicodeDecodeError: The bytes are not UTF-8 (the caller falls back to the full parser, which
            reports the malformed document).
    """
    text = raw.decode()
    return unescape(text, _ENTITIES) if "&" in text else text
