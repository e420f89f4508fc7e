"""Azure Blob pieces a real server does not show on demand: the signature's layout, error answers, corrupt
or truncated downloads. Answers are shaped like the Blob service REST reference."""

from __future__ import annotations

import base64
import hashlib
import hmac
import pickle
from typing import TYPE_CHECKING

import httpx
import pytest
import respx

from asynccloud import (
    AuthenticationError,
    ConfigurationError,
    ContainerAlreadyExistsError,
    ContainerNotFoundError,
    IntegrityError,
    InvalidNameError,
    ObjectNotFoundError,
    RateLimitedError,
    RetryPolicy,
)
from asynccloud.auth.azure_sharedkey import SharedKeyAuth, string_to_sign
from asynccloud.drivers.azure import AzureBlobsStorageDriver
from asynccloud.models import Container, Object

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.anyio

ACCOUNT = "myaccount"
KEY = base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
BASE = f"https://{ACCOUNT}.blob.core.windows.net"
FAST = RetryPolicy(max_attempts=3, backoff_base=0.001, backoff_max=0.002)


def error(status: int, code: str, message: str = "An error.") -> httpx.Response:
    body = (
        f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code>'
        f"<Message>{message}\nRequestId:5b2b2b2b-0000-0000-0000-000000000000\nTime:2026-11-25T00:00:00Z</Message>"
        "</Error>"
    )
    return httpx.Response(status, text=body, headers={"x-ms-error-code": code, "x-ms-request-id": "req-1"})


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        yield router


def driver() -> AzureBlobsStorageDriver:
    return AzureBlobsStorageDriver(ACCOUNT, KEY, retry=FAST)


OBJ = Object(name="dir/a b.txt", size=5, container_name="box")


def test_string_to_sign_follows_the_documented_layout() -> None:
    request = httpx.Request(
        "PUT",
        f"{BASE}/box/dir/a%20b.txt?comp=block&blockid=QQ%3D%3D",
        content=b"hello",
        headers={
            "Content-MD5": "XUFAKrxLKna5cZ2REBfFkg==",
            "x-ms-date": "Wed, 25 Nov 2026 00:00:00 GMT",
            "x-ms-version": "2021-08-06",
            "x-ms-meta-Owner": "  ana   b  ",
        },
    )
    assert string_to_sign(request, ACCOUNT) == (
        "PUT\n\n\n5\nXUFAKrxLKna5cZ2REBfFkg==\n\n\n\n\n\n\n\n"
        "x-ms-date:Wed, 25 Nov 2026 00:00:00 GMT\nx-ms-meta-owner:ana b\nx-ms-version:2021-08-06\n"
        f"/{ACCOUNT}/box/dir/a%20b.txt\nblockid:QQ==\ncomp:block"
    )


def test_the_signature_is_the_hmac_of_that_string() -> None:
    auth = SharedKeyAuth(ACCOUNT, KEY)
    request = httpx.Request("GET", f"{BASE}/?comp=list")
    auth.sign(request)
    scheme, _, credential = request.headers["Authorization"].partition(" ")
    account, _, signature = credential.partition(":")
    expected = hmac.new(base64.b64decode(KEY), string_to_sign(request, ACCOUNT).encode(), hashlib.sha256)
    assert (scheme, account) == ("SharedKey", ACCOUNT)
    assert signature == base64.b64encode(expected.digest()).decode()
    assert "Content-Length" not in request.headers or request.headers["Content-Length"] == "0"


def test_the_key_stays_private() -> None:
    auth = SharedKeyAuth(ACCOUNT, KEY)
    assert KEY not in repr(auth)
    with pytest.raises(TypeError):
        pickle.dumps(auth)
    assert KEY not in repr(driver())
    with pytest.raises(ConfigurationError) as info:
        SharedKeyAuth(ACCOUNT, "not base64!")
    assert "not base64!" not in str(info.value)


@pytest.mark.parametrize(
    ("status", "code", "error_class"),
    [
        (404, "ContainerNotFound", ContainerNotFoundError),
        (404, "BlobNotFound", ObjectNotFoundError),
        (409, "ContainerAlreadyExists", ContainerAlreadyExistsError),
        (403, "AuthenticationFailed", AuthenticationError),
    ],
)
async def test_error_codes_map_to_the_tree(
    api: respx.MockRouter, status: int, code: str, error_class: type[Exception]
) -> None:
    api.put(f"{BASE}/box?restype=container").mock(return_value=error(status, code))
    async with driver() as azure:
        with pytest.raises(error_class) as info:
            await azure.create_container("box")
    assert info.value.code == code  # type: ignore[attr-defined]
    assert info.value.request_id == "req-1"  # type: ignore[attr-defined]
    assert "RequestId" not in str(info.value)  # the message's first line only


async def test_a_head_404_is_told_apart_by_its_header(api: respx.MockRouter) -> None:
    api.head(f"{BASE}/box/dir/a%20b.txt").mock(
        return_value=httpx.Response(404, headers={"x-ms-error-code": "ContainerNotFound"})
    )
    async with driver() as azure:
        with pytest.raises(ContainerNotFoundError):
            await azure.get_object("box", "dir/a b.txt")


async def test_server_busy_is_retried_then_rate_limited(api: respx.MockRouter) -> None:
    route = api.get(f"{BASE}/?comp=list&maxresults=1000").mock(return_value=error(503, "ServerBusy"))
    async with driver() as azure:
        with pytest.raises(RateLimitedError):
            await azure.list_containers()
    assert route.call_count == 3


async def test_a_corrupt_download_fails_its_md5_check(api: respx.MockRouter) -> None:
    stored = base64.b64encode(hashlib.md5(b"hello").digest()).decode()
    api.get(f"{BASE}/box/dir/a%20b.txt").mock(
        return_value=httpx.Response(200, content=b"jello", headers={"Content-MD5": stored})
    )
    async with driver() as azure:
        with pytest.raises(IntegrityError, match="MD5"):
            [c async for c in azure.download_object_as_stream(OBJ)]


async def test_a_short_download_is_an_integrity_error(api: respx.MockRouter) -> None:
    api.get(f"{BASE}/box/dir/a%20b.txt").mock(
        return_value=httpx.Response(200, content=b"hel", headers={"Content-Length": "5"})
    )
    async with driver() as azure:
        with pytest.raises(IntegrityError):
            [c async for c in azure.download_object_as_stream(OBJ)]


async def test_ranges_ask_for_inclusive_byte_ends(api: respx.MockRouter) -> None:
    route = api.get(f"{BASE}/box/dir/a%20b.txt").mock(return_value=httpx.Response(206, content=b"ell"))
    async with driver() as azure:
        assert b"".join([c async for c in azure.download_object_range_as_stream(OBJ, 1, 4)]) == b"ell"
    assert route.calls.last.request.headers["x-ms-range"] == "bytes=1-3"


@pytest.mark.parametrize("name", ["ab", "Box", "a--b", "-ab", "a" * 64, "a_b"])
async def test_bad_container_names_send_nothing(api: respx.MockRouter, name: str) -> None:
    async with driver() as azure:
        with pytest.raises(InvalidNameError):
            await azure.create_container(name)
        with pytest.raises(InvalidNameError):
            await azure.delete_container(Container(name=name))
    assert not api.calls


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"key": "My-Account"}, "account name"),
        ({"secret": None}, "account key"),
        ({"part_size": 0}, "part_size"),
        ({"page_size": 0}, "page_size"),
        ({"endpoint": "127.0.0.1:10000"}, "endpoint"),
    ],
)
def test_construction_is_checked(kwargs: dict[str, object], match: str) -> None:
    options: dict[str, object] = {"key": ACCOUNT, "secret": KEY, **kwargs}
    with pytest.raises(ConfigurationError, match=match):
        AzureBlobsStorageDriver(**options)  # type: ignore[arg-type]


async def test_meta_data_keys_must_be_identifiers() -> None:
    async with driver() as azure:
        with pytest.raises(ConfigurationError, match="meta_data key"):
            await azure.upload_object_via_stream(
                b"x", Container(name="box"), "x", meta_data={"has-dash": "1"}
            )
