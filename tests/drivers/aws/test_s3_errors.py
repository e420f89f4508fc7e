"""S3 error responses become the shared error tree; throttling is retried by the one retry loop."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest
import respx

from asynccloud._retry import RetryPolicy
from asynccloud.errors import (
    AuthenticationError,
    ConflictError,
    ContainerAlreadyExistsError,
    ContainerNotEmptyError,
    ContainerNotFoundError,
    InvalidRequestError,
    NotFoundError,
    ObjectNotFoundError,
    PermissionDeniedError,
    ProviderError,
    RateLimitedError,
    ServerError,
)
from asynccloud.models import Container, Object
from tests.drivers.aws.conftest import SECRET, error_response, make_driver

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.anyio

BUCKET_URL = "https://s3.example.test/bucket"
OBJECT_URL = "https://s3.example.test/bucket/key"


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (404, "NoSuchBucket", ContainerNotFoundError),
        (404, "NoSuchKey", ObjectNotFoundError),
        (404, "NoSuchUpload", NotFoundError),
        (409, "BucketAlreadyOwnedByYou", ContainerAlreadyExistsError),
        (409, "BucketAlreadyExists", ContainerAlreadyExistsError),
        (409, "BucketNotEmpty", ContainerNotEmptyError),
        (403, "SignatureDoesNotMatch", AuthenticationError),
        (403, "InvalidAccessKeyId", AuthenticationError),
        (400, "ExpiredToken", AuthenticationError),
        (403, "AccessDenied", PermissionDeniedError),
        (400, "InvalidArgument", InvalidRequestError),
        (409, "OperationAborted", ConflictError),
        (501, "NotImplemented", ServerError),
        (418, "Teapot", ProviderError),
    ],
)
async def test_error_codes_map_to_the_tree(
    mock: respx.MockRouter, status: int, code: str, expected: type[ProviderError]
) -> None:
    mock.get(OBJECT_URL).mock(return_value=error_response(status, code, f"{code} happened"))
    async with make_driver(retry=RetryPolicy.disabled()) as s3:
        with pytest.raises(expected) as info:
            async for _ in s3.download_object_as_stream(Object(name="key", size=1, container_name="bucket")):
                pass
    error = info.value
    assert type(error) is expected
    assert error.code == code
    assert error.status == status
    assert error.request_id == "4442587FB7D0A2F9"  # from the <RequestId> of the body
    assert error.provider == "aws"
    assert f"{code} happened" in str(error)


async def test_bodiless_head_404_is_told_apart_by_what_was_addressed(mock: respx.MockRouter) -> None:
    mock.head(BUCKET_URL).mock(return_value=httpx.Response(404, headers={"x-amz-request-id": "REQ-BUCKET"}))
    mock.head(OBJECT_URL).mock(return_value=httpx.Response(404, headers={"x-amz-request-id": "REQ-OBJECT"}))
    async with make_driver() as s3:
        with pytest.raises(ContainerNotFoundError) as bucket_error:
            await s3.get_container("bucket")
        with pytest.raises(ObjectNotFoundError) as object_error:
            await s3.get_object("bucket", "key")
    assert bucket_error.value.request_id == "REQ-BUCKET"
    assert object_error.value.request_id == "REQ-OBJECT"
    assert bucket_error.value.code is None


async def test_virtual_hosted_head_404s_are_told_apart_too(mock: respx.MockRouter) -> None:
    mock.head("https://bucket.s3.eu-west-1.amazonaws.com/").mock(return_value=httpx.Response(404))
    mock.head("https://bucket.s3.eu-west-1.amazonaws.com/key").mock(return_value=httpx.Response(404))
    async with make_driver(endpoint=None, region="eu-west-1") as s3:
        with pytest.raises(ContainerNotFoundError):
            await s3.get_container("bucket")
        with pytest.raises(ObjectNotFoundError):
            await s3.get_object("bucket", "key")


async def test_head_403_is_permission_denied(mock: respx.MockRouter) -> None:
    mock.head(BUCKET_URL).mock(return_value=httpx.Response(403))
    async with make_driver() as s3:
        with pytest.raises(PermissionDeniedError):
            await s3.get_container("bucket")


async def test_slow_down_is_retried_then_succeeds(mock: respx.MockRouter) -> None:
    route = mock.head(OBJECT_URL).mock(
        side_effect=[
            error_response(503, "SlowDown", "Please reduce your request rate."),
            error_response(503, "SlowDown", "Please reduce your request rate."),
            httpx.Response(200, headers={"Content-Length": "5", "ETag": '"abc"'}),
        ]
    )
    async with make_driver() as s3:
        obj = await s3.get_object("bucket", "key")
    assert obj.size == 5
    assert route.call_count == 3


@pytest.mark.parametrize(
    ("status", "code"), [(503, "SlowDown"), (400, "RequestLimitExceeded"), (400, "Throttling"), (503, "")]
)
async def test_throttling_is_retried_then_raised_as_rate_limited(
    mock: respx.MockRouter, status: int, code: str
) -> None:
    response = (
        error_response(status, code, "slow down", **{"x-amz-retry-after": "1"})
        if code
        else httpx.Response(status, headers={"x-amz-request-id": "R503", "Retry-After": "0"})
    )
    route = mock.delete(OBJECT_URL).mock(return_value=response)
    async with make_driver() as s3:
        with pytest.raises(RateLimitedError) as info:
            await s3.delete_object(Object(name="key", size=0, container_name="bucket"))
    assert route.call_count == 3  # every attempt of the policy was used
    assert info.value.retry_after == (0.001 if code else 0.0)  # x-amz-retry-after is in milliseconds


async def test_transient_request_timeout_code_is_retried(mock: respx.MockRouter) -> None:
    route = mock.put(OBJECT_URL).mock(
        side_effect=[
            error_response(400, "RequestTimeout", "Your socket connection to the server was not read from"),
            httpx.Response(200, headers={"ETag": '"5d41402abc4b2a76b9719d911017c592"'}),
        ]
    )
    async with make_driver() as s3:
        obj = await s3.upload_object_via_stream(b"hello", s3.bind(Container(name="bucket")), "key")
    assert obj.hash == "5d41402abc4b2a76b9719d911017c592"
    assert route.call_count == 2


async def test_container_verbs_raise_the_precise_errors(mock: respx.MockRouter) -> None:
    mock.put(BUCKET_URL).mock(return_value=error_response(409, "BucketAlreadyOwnedByYou"))
    mock.delete(BUCKET_URL).mock(return_value=error_response(409, "BucketNotEmpty"))
    mock.get(BUCKET_URL).mock(return_value=error_response(404, "NoSuchBucket"))
    async with make_driver() as s3:
        with pytest.raises(ContainerAlreadyExistsError):
            await s3.create_container("bucket")
        with pytest.raises(ContainerNotEmptyError):
            await s3.delete_container(Container(name="bucket"))
        with pytest.raises(ContainerNotFoundError):
            await s3.list_container_objects(Container(name="bucket"))


async def test_a_proxy_html_page_maps_by_status(mock: respx.MockRouter) -> None:
    mock.get(OBJECT_URL).mock(
        return_value=httpx.Response(
            502, headers={"Content-Type": "text/html"}, text="<html><b>Bad gateway</b>"
        )
    )
    async with make_driver(retry=RetryPolicy.disabled()) as s3:
        with pytest.raises(ServerError, match="Bad gateway") as info:
            async for _ in s3.download_object_as_stream(Object(name="key", size=1, container_name="bucket")):
                pass
    assert info.value.status == 502


async def test_the_secret_never_appears_in_an_error(mock: respx.MockRouter) -> None:
    # A (misbehaving) server echoing the request's credentials back must not leak the secret.
    mock.head(OBJECT_URL).mock(
        return_value=error_response(403, "SignatureDoesNotMatch", f"expected {SECRET}")
    )
    async with make_driver() as s3:
        with pytest.raises(AuthenticationError) as info:
            await s3.get_object("bucket", "key")
    assert SECRET not in str(info.value)
    assert SECRET not in repr(info.value)
