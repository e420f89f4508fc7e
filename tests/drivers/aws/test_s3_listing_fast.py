"""The fast ListObjectsV2 path gives exactly what the full parser gives, on any page (differential tests).

``parse_list_objects_v2`` reads regular pages with one pattern (``_s3_listing.split_listing``) and parses
only the rest of the document as XML. These tests build pages — regular ones, ones with every kind of
irregularity, and random mutations of both — and check that the result (page or ``ProviderError``) is the
same as the full parser's alone (``_parse_list_page(body, provider, None)``).
"""

from __future__ import annotations

from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from asynccloud.drivers.aws import _s3_listing
from asynccloud.drivers.aws._s3_xml import ObjectPage, _parse_list_page, parse_list_objects_v2
from asynccloud.errors import ProviderError

NS = "http://s3.amazonaws.com/doc/2006-03-01/"
QUOT = {'"': "&quot;"}
SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


def full(body: bytes) -> ObjectPage | str:
    try:
        page = _parse_list_page(body, "aws", None)
    except ProviderError as exc:
        return f"error: {exc}"
    assert page is not None
    return page


def fast(body: bytes) -> ObjectPage | str:
    try:
        return parse_list_objects_v2(body, "aws")
    except ProviderError as exc:
        return f"error: {exc}"


def entry(
    key: str,
    *,
    size: str = "5",
    etag: str = '"0cc175b9c0f1b6a831c399e269772661"',
    modified: str = "2026-01-02T03:04:05.000Z",
    storage: str | None = "STANDARD",
    owner: bool = False,
    checksum: bool = False,
    sep: str = "",
) -> str:
    parts = [
        f"<Key>{escape(key)}</Key>",
        f"<LastModified>{modified}</LastModified>",
        f"<ETag>{escape(etag, QUOT)}</ETag>",
    ]
    if checksum:
        parts.append("<ChecksumAlgorithm>CRC32C</ChecksumAlgorithm>")
    parts.append(f"<Size>{size}</Size>")
    if owner:
        parts.append("<Owner><ID>abc</ID><DisplayName>me</DisplayName></Owner>")
    if storage is not None:
        parts.append(f"<StorageClass>{storage}</StorageClass>")
    return f"<Contents>{sep}{sep.join(parts)}{sep}</Contents>"


def page(
    entries: list[str],
    *,
    token: str | None = None,
    prefixes: tuple[str, ...] = (),
    encoding: str | None = None,
    sep: str = "",
) -> bytes:
    head = [
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="{NS}">',
        "<Name>b</Name><Prefix></Prefix><MaxKeys>1000</MaxKeys>",
        f"<IsTruncated>{'true' if token else 'false'}</IsTruncated>",
    ]
    if encoding:
        head.append(f"<EncodingType>{encoding}</EncodingType>")
    if token:
        head.append(f"<NextContinuationToken>{escape(token)}</NextContinuationToken>")
    tail = [f"<CommonPrefixes><Prefix>{escape(p)}</Prefix></CommonPrefixes>" for p in prefixes]
    return (sep.join(head) + sep + sep.join(entries) + sep + "".join(tail) + "</ListBucketResult>").encode()


def test_a_regular_page_takes_the_fast_path_and_matches() -> None:
    body = page([entry(f"k/{i}", storage=None if i % 3 else "GLACIER") for i in range(50)], token="t")
    split = _s3_listing.split_listing(body)
    assert split is not None
    assert len(split[0]) == 50
    assert fast(body) == full(body)
    result = fast(body)
    assert isinstance(result, ObjectPage)
    assert result.objects[0] == (
        "k/0",
        5,
        "0cc175b9c0f1b6a831c399e269772661",
        "2026-01-02T03:04:05.000Z",
        "GLACIER",
    )
    assert result.next_token == "t"


IRREGULAR = {
    "entities in keys": page([entry("a&b<c>d\"e'f"), entry("x")]),
    "url-encoded keys": page([entry("a%20b"), entry("%E2%82%AC")], encoding="url"),
    "character reference": page([entry("a"), "<Contents><Key>&#65;</Key><Size>1</Size></Contents>"]),
    "comment inside the run": page([entry("a"), "<!-- c -->", entry("b")]),
    "comment hiding an entry": page(["<!-- " + entry("ghost") + " -->", entry("b")]),
    "cdata key": page([entry("a"), "<Contents><Key><![CDATA[x<y]]></Key><Size>1</Size></Contents>"]),
    "carriage return": page([entry("a\r\nb")]),
    "raw > in a key": page([entry("a")]).replace(b"<Key>a", b"<Key>a>b"),
    "]]> in a key": page([entry("a")]).replace(b"<Key>a", b"<Key>a]]>b"),
    "pretty printed": page([entry("a", sep="\n  "), entry("b", sep="\n  ")], sep="\n"),
    "other element order": page([entry("a"), "<Contents><Size>1</Size><Key>b</Key></Contents>"]),
    "namespace prefix": (
        b'<s:ListBucketResult xmlns:s="' + NS.encode() + b'"><s:IsTruncated>false</s:IsTruncated>'
        b"<s:Contents><s:Key>a</s:Key><s:Size>1</s:Size></s:Contents></s:ListBucketResult>"
    ),
    "contents nested in another element": page([]).replace(
        b"<Name>b</Name>", b"<Name>" + entry("inner").encode() + b"</Name>"
    ),
    "contents in an attribute": page([entry("a")]).replace(b"<Name>", b'<Name x="<Contents>">'),
    "owner and checksum": page([entry("a", owner=True, checksum=True), entry("b", owner=True)]),
    "negative size": page([entry("a", size="-1")]),
    "huge size": page([entry("a", size="9" * 30)]),
    "latin-1 declaration": page([entry("caf\u00e9")]).replace(b"UTF-8", b"ISO-8859-1"),
    "noncharacter": page([entry("a\ufffeb")]),
    "invalid utf-8": page([entry("a")]).replace(b"<Key>a", b"<Key>a\xff"),
    "control character": page([entry("a\x01b")]),
    "doctype": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]>' + page([entry("a")])[38:],
    "truncated document": page([entry("a"), entry("b")])[:-30],
    "two runs": page([entry("a"), "<Other/>", entry("b")]),
    "weak etag": page([entry("a", etag='W/"abc"')]),
    "empty key and etag": page([entry("", etag="")]),
    "truncated without token": page([entry("a")]).replace(b"false", b"true"),
    "common prefixes": page([entry("a/1")], prefixes=("a/", "b&c/")),
    "wrong root": page([entry("a")]).replace(b"ListBucketResult", b"ListAllMyBucketsResult"),
}


@pytest.mark.parametrize("body", list(IRREGULAR.values()), ids=list(IRREGULAR))
def test_irregular_pages_give_what_the_full_parser_gives(body: bytes) -> None:
    assert fast(body) == full(body)


_KEYS = st.text(st.characters(codec="utf-8"), max_size=12)
_ENTRIES = st.lists(
    st.builds(
        entry,
        _KEYS,
        size=st.sampled_from(["0", "5", "123456789012", "-3", "x", ""]),
        etag=st.sampled_from(['"abc"', "abc", 'W/"x"', "", '"a&b"']),
        storage=st.sampled_from([None, "STANDARD", "A&B"]),
        owner=st.booleans(),
        checksum=st.booleans(),
        sep=st.sampled_from(["", "", "\n ", "\t"]),
    ),
    max_size=8,
)


@SETTINGS
@given(
    entries=_ENTRIES,
    token=st.none() | st.text(max_size=5),
    prefixes=st.lists(_KEYS, max_size=2).map(tuple),
    encoding=st.sampled_from([None, "url"]),
)
def test_generated_pages_give_what_the_full_parser_gives(
    entries: list[str], token: str | None, prefixes: tuple[str, ...], encoding: str | None
) -> None:
    body = page(entries, token=token, prefixes=prefixes, encoding=encoding)
    assert fast(body) == full(body)


_SNIPPETS = [
    *(b"<!--", b"-->", b"]]>", b"<![CDATA[", b"&#1;", b"&amp;", b"&bogus;", b"\r", b"\x00", b"\x01"),
    *(b"\xef\xbf\xbe", b"\xff", b"<Contents>", b"</Contents>", b"<Contents/>", b"<Key>", b"</Key>"),
    *(b"<", b">", b"&", b'"', b"<Size>1</Size>", b" ", b"\n"),
]


@SETTINGS
@given(
    entries=_ENTRIES.filter(bool),
    edits=st.lists(
        st.tuples(st.floats(0, 1), st.integers(0, 6), st.sampled_from(_SNIPPETS) | st.binary(max_size=3)),
        min_size=1,
        max_size=3,
    ),
)
@example(entries=[entry("a"), entry("b")], edits=[(0.5, 0, b"<!--")])
def test_mutated_pages_give_what_the_full_parser_gives(
    entries: list[str], edits: list[tuple[float, int, bytes]]
) -> None:
    body = page(entries, token="t")
    for where, cut, snippet in edits:
        at = int(where * len(body))
        body = body[:at] + snippet + body[at + cut :]
    assert fast(body) == full(body)
