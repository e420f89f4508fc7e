"""S3 containers, listings, object metadata, downloads and presigned URLs against documented responses."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncGenerator
from contextlib import aclosing
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx

from asynccloud.drivers.aws._s3_objects import listed_object, meta_data_from_headers, meta_data_headers
from asynccloud.drivers.aws._s3_xml import ListedObject
from asynccloud.errors import ConfigurationError, IntegrityError, InvalidRequestError
from asynccloud.models import Container, Object
from tests.drivers.aws.conftest import KEY_ID, SECRET, fixture_text, make_driver

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from asynccloud.drivers.aws import S3StorageDriver

pytestmark = pytest.mark.anyio

BUCKET_URL = "https://s3.example.test/bucket"
OBJECT_URL = "https://s3.example.test/bucket/key"


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


def obj(size: int = 10, name: str = "key") -> Object:
    return Object(name=name, size=size, container_name="bucket")


# --- containers ----------------------------------------------------------------------------------------


async def test_list_containers_follows_continuation_tokens(mock: respx.MockRouter) -> None:
    route = mock.get("https://s3.example.test/").mock(
        side_effect=[
            httpx.Response(200, text=fixture_text("list_buckets.xml")),
            httpx.Response(200, text=fixture_text("list_buckets_last.xml")),
        ]
    )
    async with make_driver() as s3:
        containers = await s3.list_containers()
    assert [c.name for c in containers] == ["quotes", "samples", "videos"]
    assert containers[0].extra == {
        "creation_date": datetime(2006, 2, 3, 16, 45, 9, tzinfo=UTC),
        "region": "us-east-1",
    }
    assert containers[1].extra["region"] == "eu-west-1"
    assert all(c.is_bound for c in containers)
    first, second = route.calls
    assert "continuation-token" not in first.request.url.params
    assert second.request.url.params["continuation-token"] == "eyJCdWNrZXQiOiJzYW1wbGVzIn0="


async def test_get_container_is_a_head(mock: respx.MockRouter) -> None:
    route = mock.head(BUCKET_URL).mock(
        return_value=httpx.Response(200, headers={"x-amz-bucket-region": "eu-west-1"})
    )
    async with make_driver() as s3:
        container = await s3.get_container("bucket")
    assert container == Container(name="bucket", extra={"region": "eu-west-1"})
    assert route.called


# --- listing objects ---------------------------------------------------------------------------------


async def test_iterate_objects_follows_continuation_tokens_to_the_end(mock: respx.MockRouter) -> None:
    route = mock.get(BUCKET_URL).mock(
        side_effect=[
            httpx.Response(200, text=fixture_text("list_objects_v2_page1.xml")),
            httpx.Response(200, text=fixture_text("list_objects_v2_page2.xml")),
        ]
    )
    async with make_driver() as s3:
        objects = await s3.bind(Container(name="bucket")).list_objects(prefix="photos/")
    assert [o.name for o in objects] == [
        "photos/2006/January/sample.jpg",
        "photos/2006/February/café au lait+.jpg",  # url-encoded in the response, decoded here
        "photos/2007/empty",
    ]
    first = objects[0]
    assert first.size == 142863
    assert first.hash == "bf1d737a4d46a19f3bced6905cc8b902"
    assert first.last_modified == datetime(2011, 2, 26, 1, 56, 20, tzinfo=UTC)
    assert first.container_name == "bucket"
    assert first.extra == {"storage_class": "STANDARD"}
    assert objects[1].hash == "bf1d737a4d46a19f3bced6905cc8b902-2"
    assert objects[2].size == 0
    assert all(o.is_bound for o in objects)
    params = [dict(call.request.url.params) for call in route.calls]
    assert params[0] == {"list-type": "2", "encoding-type": "url", "max-keys": "1000", "prefix": "photos/"}
    assert params[1]["continuation-token"] == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="
    assert params[1]["prefix"] == "photos/"


async def test_a_truncated_page_without_a_token_is_an_error_not_a_silent_stop(mock: respx.MockRouter) -> None:
    page = fixture_text("list_objects_v2_page1.xml").replace("<NextContinuationToken>", "<Ignored>")
    page = page.replace("</NextContinuationToken>", "</Ignored>")
    mock.get(BUCKET_URL).mock(return_value=httpx.Response(200, text=page))
    async with make_driver() as s3:
        with pytest.raises(Exception, match="truncated but sent no NextContinuationToken"):
            await s3.list_container_objects(Container(name="bucket"))


async def test_keys_are_taken_verbatim_when_the_store_did_not_url_encode(mock: respx.MockRouter) -> None:
    page = fixture_text("list_objects_v2_page2.xml").replace("<EncodingType>url</EncodingType>", "")
    page = page.replace("photos/2007/empty", "100%25 literal")
    mock.get(BUCKET_URL).mock(return_value=httpx.Response(200, text=page))
    async with make_driver() as s3:
        (only,) = await s3.list_container_objects(Container(name="bucket"))
    assert only.name == "100%25 literal"


def test_listed_objects_equal_their_validated_twins() -> None:
    item = ListedObject("a/b", 12, "etag", "2011-02-26T01:56:20.000Z", "STANDARD")
    fast = listed_object("driver", "bucket", item)
    slow = Object(
        name="a/b",
        size=12,
        hash="etag",
        container_name="bucket",
        last_modified=datetime(2011, 2, 26, 1, 56, 20, tzinfo=UTC),
        extra={"storage_class": "STANDARD"},
    )
    assert fast == slow
    assert fast.model_dump() == slow.model_dump()
    assert fast._driver == "driver"
    assert type(fast).model_validate(fast.model_dump()) == fast
    fast.size = 13  # still a normal, validated-on-assignment model
    with pytest.raises(ValueError, match="greater than or equal"):
        fast.size = -1


# --- object metadata -----------------------------------------------------------------------------------


async def test_get_object_reads_the_head_headers(mock: respx.MockRouter) -> None:
    mock.head(OBJECT_URL).mock(
        return_value=httpx.Response(
            200,
            headers={
                "Content-Length": "434234",
                "Content-Type": "image/jpeg",
                "ETag": '"fba9dede5f27731c9771645a39863328"',
                "Last-Modified": "Sun, 1 Jan 2006 12:00:00 GMT",
                "x-amz-meta-owner": "ana",
                "x-amz-meta-city": "=?UTF-8?B?WsO8cmljaA==?=",
                "x-amz-version-id": "3HL4kqtJlcpXroDTDmjVBH40Nrjfkd",
                "x-amz-storage-class": "STANDARD_IA",
                "x-amz-request-id": "318BC8BC148832E5",
            },
        )
    )
    async with make_driver() as s3:
        found = await s3.get_object("bucket", "key")
    assert found.size == 434234
    assert found.content_type == "image/jpeg"
    assert found.hash == "fba9dede5f27731c9771645a39863328"
    assert found.last_modified == datetime(2006, 1, 1, 12, tzinfo=UTC)
    assert found.meta_data == {"owner": "ana", "city": "Zürich"}
    assert found.extra["version_id"] == "3HL4kqtJlcpXroDTDmjVBH40Nrjfkd"
    assert found.extra["storage_class"] == "STANDARD_IA"


@pytest.mark.parametrize(
    "value",
    ["plain", "Zürich", "  padded ", "tab\there", "=?UTF-8?B?looks-encoded?=", "", "line\nbreak", "日本"],
)
def test_meta_data_values_round_trip_through_headers(value: str) -> None:
    headers = meta_data_headers({"Key": value})
    (name,) = headers
    assert name == "x-amz-meta-key"
    assert headers[name].isascii()
    assert "\n" not in headers[name]
    assert meta_data_from_headers(httpx.Headers(headers)) == {"key": value}


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ({"": "x"}, "HTTP token"),
        ({"bad name": "x"}, "HTTP token"),
        ({"ä": "x"}, "HTTP token"),
        ({"k": 1}, "must be a string"),
        ({"Owner": "a", "owner": "b"}, "differ only in case"),
    ],
)
def test_invalid_meta_data_is_refused(meta: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        meta_data_headers(meta)  # type: ignore[arg-type]


async def test_upload_sends_content_type_and_meta_data(mock: respx.MockRouter) -> None:
    route = mock.put("https://s3.example.test/bucket/photo.jpg").mock(
        return_value=httpx.Response(200, headers={"ETag": f'"{hashlib.md5(b"jpeg").hexdigest()}"'})
    )
    async with make_driver() as s3:
        uploaded = await s3.upload_object_via_stream(
            b"jpeg",
            s3.bind(Container(name="bucket")),
            "photo.jpg",
            meta_data={"Owner": "ana", "City": "Zürich"},
        )
    request = route.calls.last.request
    assert request.headers["content-type"] == "image/jpeg"
    assert request.headers["x-amz-meta-owner"] == "ana"
    assert request.headers["x-amz-meta-city"] == "=?UTF-8?B?WsO8cmljaA==?="
    assert uploaded.meta_data == {"owner": "ana", "city": "Zürich"}
    assert uploaded.content_type == "image/jpeg"


# --- downloads -----------------------------------------------------------------------------------------


async def test_download_streams_in_chunks_and_checks_the_md5(mock: respx.MockRouter) -> None:
    data = bytes(range(256)) * 40
    route = mock.get(OBJECT_URL).mock(
        return_value=httpx.Response(200, headers={"ETag": f'"{hashlib.md5(data).hexdigest()}"'}, content=data)
    )
    async with make_driver() as s3:
        chunks = [c async for c in s3.download_object_as_stream(obj(len(data)), chunk_size=1000)]
    assert b"".join(chunks) == data
    assert [len(c) for c in chunks] == [1000] * 10 + [240]
    request = route.calls.last.request
    assert "range" not in request.headers
    assert request.headers["accept-encoding"] == "identity"


@pytest.mark.parametrize(
    ("start", "end", "header"), [(2, 5, "bytes=2-4"), (5, None, "bytes=5-"), (0, 1, "bytes=0-0")]
)
async def test_ranges_are_end_exclusive(
    mock: respx.MockRouter, start: int, end: int | None, header: str
) -> None:
    data = b"0123456789"
    part = data[start:end]
    route = mock.get(OBJECT_URL).mock(
        return_value=httpx.Response(
            206, headers={"Content-Range": f"bytes {start}-x/10", "ETag": '"x"'}, content=part
        )
    )
    async with make_driver() as s3:
        got = b"".join([c async for c in s3.download_object_range_as_stream(obj(10), start, end)])
    assert got == part
    assert route.calls.last.request.headers["range"] == header


async def test_a_server_that_ignores_range_is_cut_to_the_window(mock: respx.MockRouter) -> None:
    data = bytes(range(100))
    mock.get(OBJECT_URL).mock(return_value=httpx.Response(200, content=data))
    async with make_driver() as s3:
        got = [c async for c in s3.download_object_range_as_stream(obj(100), 10, 95, chunk_size=7)]
    assert b"".join(got) == data[10:95]


async def test_a_truncated_body_raises_integrity_error(mock: respx.MockRouter) -> None:
    data = b"x" * 100
    headers = {"Content-Length": "1000", "ETag": f'"{hashlib.md5(b"x" * 1000).hexdigest()}"'}
    mock.get(OBJECT_URL).mock(return_value=httpx.Response(200, headers=headers, content=data))
    received: list[bytes] = []

    async def read_all(s3: S3StorageDriver) -> None:
        async for chunk in s3.download_object_as_stream(obj(1000)):
            received.append(chunk)

    async with make_driver() as s3:
        with pytest.raises(IntegrityError, match="ended after 100 of 1000 bytes"):
            await read_all(s3)
    assert b"".join(received) == data  # what came was passed on; the short end was reported


async def test_a_corrupted_body_fails_the_md5_check(mock: respx.MockRouter) -> None:
    mock.get(OBJECT_URL).mock(
        return_value=httpx.Response(
            200, headers={"ETag": f'"{hashlib.md5(b"good").hexdigest()}"'}, content=b"evil"
        )
    )
    async with make_driver() as s3:
        with pytest.raises(IntegrityError, match="MD5"):
            async for _ in s3.download_object_as_stream(obj(4)):
                pass


@pytest.mark.parametrize(
    "headers",
    [
        {"ETag": '"0123456789abcdef0123456789abcdef-3"'},  # multipart: not an MD5 of the bytes
        {"ETag": '"0123456789abcdef0123456789abcdef"', "x-amz-server-side-encryption": "aws:kms"},
        {
            "ETag": '"0123456789abcdef0123456789abcdef"',
            "x-amz-server-side-encryption-customer-algorithm": "AES256",
        },
    ],
)
async def test_opaque_etags_are_not_taken_for_md5s(mock: respx.MockRouter, headers: dict[str, str]) -> None:
    mock.get(OBJECT_URL).mock(return_value=httpx.Response(200, headers=headers, content=b"data"))
    async with make_driver() as s3:
        got = b"".join([c async for c in s3.download_object_as_stream(obj(4))])
    assert got == b"data"


async def test_download_to_a_path_is_atomic_and_checked(mock: respx.MockRouter, tmp_path: Path) -> None:
    data = b"payload" * 1000
    good = {"ETag": f'"{hashlib.md5(data).hexdigest()}"'}
    mock.get(OBJECT_URL).mock(
        side_effect=[
            httpx.Response(200, headers=good, content=data),
            httpx.Response(200, headers=good, content=data[:-1] + b"!"),
        ]
    )
    async with make_driver() as s3:
        path = await s3.download_object(s3.bind(obj(len(data))), tmp_path / "out.bin")
        assert path.read_bytes() == data
        with pytest.raises(IntegrityError):
            await s3.download_object(obj(len(data)), tmp_path / "bad.bin")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


async def test_stopping_a_download_early_releases_it(mock: respx.MockRouter) -> None:
    # On trio, a suspended httpx body generator left to the garbage collector is a ResourceWarning,
    # which this suite turns into an error: this passes only if the driver unwinds them all.
    mock.get(OBJECT_URL).mock(return_value=httpx.Response(200, content=b"a" * 10_000))
    async with make_driver() as s3:
        stream = s3.download_object_as_stream(obj(10_000), chunk_size=100)
        assert isinstance(stream, AsyncGenerator)
        async with aclosing(stream):
            async for chunk in stream:
                assert chunk == b"a" * 100
                break


async def test_invalid_ranges_and_chunk_sizes_are_refused() -> None:
    async with make_driver() as s3:
        with pytest.raises(ConfigurationError):
            s3.download_object_range_as_stream(obj(), 5, 5)
        with pytest.raises(ConfigurationError):
            s3.download_object_range_as_stream(obj(), -1)
        with pytest.raises(ConfigurationError, match="chunk_size"):
            s3.download_object_as_stream(obj(), chunk_size=0)


async def test_range_past_the_end_is_the_providers_invalid_range(mock: respx.MockRouter) -> None:
    body = fixture_text("error.xml", code="InvalidRange", message="The requested range is not satisfiable")
    mock.get(OBJECT_URL).mock(return_value=httpx.Response(416, text=body))
    async with make_driver() as s3:
        with pytest.raises(InvalidRequestError, match="not satisfiable"):
            async for _ in s3.download_object_range_as_stream(obj(), 50):
                pass


# --- delete, presigned URLs, pending uploads ---------------------------------------------------------------


async def test_delete_object(mock: respx.MockRouter) -> None:
    route = mock.delete(OBJECT_URL).mock(return_value=httpx.Response(204))
    async with make_driver() as s3:
        await s3.bind(obj()).delete()
    assert route.call_count == 1


async def test_presigned_url_shape(mock: respx.MockRouter) -> None:
    async with make_driver(endpoint=None, region="eu-west-1", token=None) as s3:
        url = await s3.get_object_cdn_url(obj(name="dir/a b.txt"), expires=600)
        put_url = await s3.bind(obj()).get_cdn_url(expires=60, method="put")
    assert not mock.calls  # presigning sends nothing
    parts = urlsplit(url)
    assert parts.scheme == "https"
    assert parts.netloc == "bucket.s3.eu-west-1.amazonaws.com"
    assert parts.path == "/dir/a%20b.txt"
    query = parse_qs(parts.query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == ["600"]
    assert query["X-Amz-SignedHeaders"] == ["host"]
    credential = query["X-Amz-Credential"][0]
    assert credential.startswith(f"{KEY_ID}/")
    assert credential.endswith("/eu-west-1/s3/aws4_request")
    assert len(query["X-Amz-Signature"][0]) == 64
    assert SECRET not in url
    assert parts.query.endswith("X-Amz-Signature=" + query["X-Amz-Signature"][0])
    assert put_url != url
    assert "X-Amz-Expires=60&" in put_url


async def test_presigned_url_carries_the_session_token_and_checks_expiry() -> None:
    async with make_driver(token="TOKEN-123") as s3:
        url = await s3.get_object_cdn_url(obj())
        assert parse_qs(urlsplit(url).query)["X-Amz-Security-Token"] == ["TOKEN-123"]
        with pytest.raises(ConfigurationError, match="expires"):
            await s3.get_object_cdn_url(obj(), expires=8 * 24 * 3600)


async def test_pending_multipart_uploads_are_listed_and_aborted(mock: respx.MockRouter) -> None:
    listing = mock.get(BUCKET_URL).mock(
        return_value=httpx.Response(200, text=fixture_text("list_multipart_uploads.xml"))
    )
    abort = mock.delete("https://s3.example.test/bucket/my-divisor").mock(return_value=httpx.Response(204))
    async with make_driver() as s3:
        bucket = s3.bind(Container(name="bucket"))
        (pending,) = await s3.list_multipart_uploads(bucket, prefix="my-")
        await s3.abort_multipart_upload(bucket, pending.key, pending.upload_id)
    assert pending.key == "my-divisor"
    assert pending.upload_id == "XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw"
    assert dict(listing.calls.last.request.url.params) == {
        "uploads": "",
        "encoding-type": "url",
        "prefix": "my-",
    }
    assert abort.calls.last.request.url.params["uploadId"] == pending.upload_id
