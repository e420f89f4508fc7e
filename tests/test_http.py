"""The request pipeline: retries, idempotency, body replay, error mapping, streaming, pools, redaction."""

from __future__ import annotations

import collections
import logging
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import pytest
import respx

from asynccloud._http import ErrorPolicy, HttpClient, redact_headers, redact_url
from asynccloud._retry import RetryPolicy
from asynccloud.errors import (
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    ContainerNotFoundError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    ProviderError,
    RateLimitedError,
    RequestTimeout,
    ServerError,
    TransportError,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Generator, Iterator

pytestmark = pytest.mark.anyio

BASE = "https://api.example.test"
FAST = RetryPolicy(max_attempts=4, backoff_base=0.001, backoff_max=0.002)


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


def make_client(**kwargs: Any) -> HttpClient:
    kwargs.setdefault("retry", FAST)
    return HttpClient(provider="test", base_url=BASE, **kwargs)


class BearerAuth(httpx.Auth):
    """Adds a bearer token on every attempt, like a real signing flow; counts its runs."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.runs = 0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.runs += 1
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


class FixedBackoff(RetryPolicy):
    """A policy whose backoff is deterministic, to test sleep and budget decisions."""

    def backoff(self, attempt: int) -> float:
        return self.backoff_base


class RecordingTransport(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.closed = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, text="ok")

    async def aclose(self) -> None:
        self.closed += 1


# --------------------------------------------------------------------------------------------- retries


async def test_429_with_retry_after_seconds_then_success(mock: respx.MockRouter) -> None:
    route = mock.get("/things").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "0.1"}), httpx.Response(200, json=[1, 2])]
    )
    async with make_client() as hc:
        started = anyio.current_time()
        response = await hc.request("GET", "/things")
        elapsed = anyio.current_time() - started
    assert response.json() == [1, 2]
    assert route.call_count == 2
    assert elapsed >= 0.09  # the server's Retry-After was honoured over the ~1 ms backoff


async def test_retry_after_http_date_is_parsed_capped_and_reported(mock: respx.MockRouter) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    route = mock.get("/things").mock(return_value=httpx.Response(429, headers={"Retry-After": when}))
    policy = RetryPolicy(max_attempts=2, backoff_base=0.001, max_retry_after=0.05)
    async with make_client(retry=policy) as hc:
        started = anyio.current_time()
        with pytest.raises(RateLimitedError) as caught:
            await hc.request("GET", "/things")
        elapsed = anyio.current_time() - started
    assert route.call_count == 2
    assert caught.value.retry_after is not None
    assert 25.0 <= caught.value.retry_after <= 30.0
    assert 0.04 <= elapsed < 2.0  # slept the capped 0.05 s, not 30 s


async def test_retry_after_http_date_in_the_past_retries_at_once(mock: respx.MockRouter) -> None:
    past = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)
    route = mock.get("/things").mock(
        side_effect=[httpx.Response(503, headers={"Retry-After": past}), httpx.Response(200)]
    )
    async with make_client() as hc:
        assert (await hc.request("GET", "/things")).status_code == 200
    assert route.call_count == 2


async def test_503_twice_then_success(mock: respx.MockRouter) -> None:
    route = mock.get("/things").mock(
        side_effect=[httpx.Response(503), httpx.Response(503), httpx.Response(200, text="fine")]
    )
    async with make_client() as hc:
        response = await hc.request("GET", "/things")
    assert response.text == "fine"
    assert route.call_count == 3


@pytest.mark.parametrize("exc", [httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError])
async def test_connection_reset_then_success_for_get(mock: respx.MockRouter, exc: type[Exception]) -> None:
    route = mock.get("/things").mock(side_effect=[exc, httpx.Response(200, text="fine")])
    async with make_client() as hc:
        assert (await hc.request("GET", "/things")).text == "fine"
    assert route.call_count == 2


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"])
async def test_idempotent_methods_are_retried_by_default(mock: respx.MockRouter, method: str) -> None:
    route = mock.route(method=method, path="/r").mock(side_effect=[httpx.Response(503), httpx.Response(204)])
    async with make_client() as hc:
        assert (await hc.request(method, "/r")).status_code == 204
    assert route.call_count == 2


@pytest.mark.parametrize("method", ["POST", "PATCH"])
@pytest.mark.parametrize("failure", [httpx.Response(503), httpx.ReadError, httpx.ReadTimeout])
async def test_non_idempotent_request_is_not_retried_once_sent(
    mock: respx.MockRouter, method: str, failure: Any
) -> None:
    route = mock.route(method=method, path="/r").mock(side_effect=[failure, httpx.Response(201)])
    async with make_client() as hc:
        with pytest.raises((ServerError, TransportError)):
            await hc.request(method, "/r", content=b"{}")
    assert route.call_count == 1


async def test_post_with_idempotency_key_is_retried(mock: respx.MockRouter) -> None:
    route = mock.post("/r").mock(side_effect=[httpx.Response(503), httpx.ReadError, httpx.Response(201)])
    async with make_client() as hc:
        response = await hc.request("POST", "/r", content=b"token=abc", idempotency_key=True)
    assert response.status_code == 201
    assert route.call_count == 3
    assert [call.request.content for call in route.calls] == [b"token=abc"] * 3


async def test_idempotent_override_both_ways(mock: respx.MockRouter) -> None:
    post = mock.post("/p").mock(side_effect=[httpx.Response(503), httpx.Response(200)])
    put = mock.put("/q").mock(side_effect=[httpx.Response(503), httpx.Response(200)])
    async with make_client() as hc:
        assert (await hc.request("POST", "/p", idempotent=True)).status_code == 200
        with pytest.raises(ServerError):
            await hc.request("PUT", "/q", idempotent=False)
    assert post.call_count == 2
    assert put.call_count == 1


@pytest.mark.parametrize("exc", [httpx.ConnectError, httpx.ConnectTimeout])
async def test_connect_failure_is_retried_even_for_post(mock: respx.MockRouter, exc: type[Exception]) -> None:
    route = mock.post("/r").mock(side_effect=[exc, httpx.Response(201)])
    async with make_client() as hc:
        assert (await hc.request("POST", "/r", content=b"x")).status_code == 201
    assert route.call_count == 2


async def test_throttling_exhausts_attempts_into_rate_limited_error(mock: respx.MockRouter) -> None:
    route = mock.get("/r").mock(return_value=httpx.Response(429, headers={"Retry-After": "0"}))
    async with make_client(retry=RetryPolicy(max_attempts=3, backoff_base=0.001)) as hc:
        with pytest.raises(RateLimitedError) as caught:
            await hc.request("GET", "/r")
    assert route.call_count == 3
    assert caught.value.retry_after == 0.0
    assert caught.value.status == 429
    assert caught.value.provider == "test"


async def test_rate_limited_error_keeps_last_retry_after_the_server_sent(mock: respx.MockRouter) -> None:
    mock.get("/r").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "0.01"}), httpx.Response(429)]
    )
    async with make_client(retry=RetryPolicy(max_attempts=2, backoff_base=0.001)) as hc:
        with pytest.raises(RateLimitedError) as caught:
            await hc.request("GET", "/r")
    assert caught.value.retry_after == 0.01


async def test_budget_stops_before_a_sleep_that_would_overrun_it(mock: respx.MockRouter) -> None:
    route = mock.get("/r").mock(return_value=httpx.Response(429, headers={"Retry-After": "5"}))
    async with make_client(retry=RetryPolicy(total_timeout=0.5, backoff_base=0.001)) as hc:
        started = anyio.current_time()
        with pytest.raises(RateLimitedError) as caught:
            await hc.request("GET", "/r")
    assert anyio.current_time() - started < 0.5
    assert route.call_count == 1
    assert caught.value.retry_after == 5.0


async def test_budget_applies_to_transport_errors_too(mock: respx.MockRouter) -> None:
    route = mock.get("/r").mock(side_effect=httpx.ReadError)
    policy = FixedBackoff(total_timeout=1.0, backoff_base=5.0, backoff_max=5.0)
    async with make_client(retry=policy) as hc:
        with pytest.raises(TransportError):
            await hc.request("GET", "/r")
    assert route.call_count == 1


async def test_backoff_wins_over_a_smaller_retry_after(mock: respx.MockRouter) -> None:
    mock.get("/r").mock(side_effect=[httpx.Response(503, headers={"Retry-After": "0"}), httpx.Response(200)])
    async with make_client(retry=FixedBackoff(backoff_base=0.1)) as hc:
        started = anyio.current_time()
        await hc.request("GET", "/r")
    assert anyio.current_time() - started >= 0.09


@pytest.mark.parametrize("exc", [httpx.LocalProtocolError, httpx.UnsupportedProtocol, httpx.ProxyError])
async def test_non_transient_transport_errors_are_not_retried(
    mock: respx.MockRouter, exc: type[Exception]
) -> None:
    route = mock.get("/r").mock(side_effect=[exc, httpx.Response(200)])
    async with make_client() as hc:
        with pytest.raises(TransportError):
            await hc.request("GET", "/r")
    assert route.call_count == 1


async def test_disabled_policy_makes_one_attempt(mock: respx.MockRouter) -> None:
    route = mock.get("/r").mock(return_value=httpx.Response(503))
    async with make_client(retry=RetryPolicy.disabled()) as hc:
        with pytest.raises(ServerError):
            await hc.request("GET", "/r")
    assert route.call_count == 1


async def test_non_retryable_status_is_raised_at_once(mock: respx.MockRouter) -> None:
    route = mock.get("/r").mock(return_value=httpx.Response(501))
    async with make_client() as hc:
        with pytest.raises(ServerError):
            await hc.request("GET", "/r")
    assert route.call_count == 1


# ------------------------------------------------------------------------------------- timeouts, errors


async def test_timeout_becomes_request_timeout_after_retries(mock: respx.MockRouter) -> None:
    route = mock.get("/r").mock(side_effect=httpx.ReadTimeout)
    async with make_client(retry=RetryPolicy(max_attempts=2, backoff_base=0.001)) as hc:
        with pytest.raises(RequestTimeout) as caught:
            await hc.request("GET", "/r")
    assert route.call_count == 2
    assert isinstance(caught.value, TransportError)
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)
    assert "timed out" in str(caught.value)


async def test_per_attempt_timeout_reaches_httpx(mock: respx.MockRouter) -> None:
    route = mock.get("/r").mock(return_value=httpx.Response(200))
    async with make_client(timeout=12.0) as hc:
        await hc.request("GET", "/r")
        await hc.request("GET", "/r", timeout=1.5)
        await hc.request("GET", "/r", timeout=httpx.Timeout(3.0, connect=0.5))
    timeouts = [call.request.extensions["timeout"] for call in route.calls]
    assert timeouts[0]["read"] == 12.0
    assert timeouts[1] == {"connect": 1.5, "read": 1.5, "write": 1.5, "pool": 1.5}
    assert timeouts[2]["connect"] == 0.5
    assert timeouts[2]["read"] == 3.0


async def test_transport_error_is_translated_and_chained(mock: respx.MockRouter) -> None:
    mock.get("/r").mock(side_effect=httpx.ConnectError("[Errno 111] Connection refused"))
    async with make_client(retry=RetryPolicy.disabled()) as hc:
        with pytest.raises(TransportError) as caught:
            await hc.request("GET", "/r")
    assert not isinstance(caught.value, RequestTimeout)
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert "Connection refused" in str(caught.value)


async def test_404_becomes_not_found_with_details(mock: respx.MockRouter) -> None:
    mock.get("/missing").mock(
        return_value=httpx.Response(
            404, headers={"x-openstack-request-id": "req-42"}, text="The resource\n could not be found."
        )
    )
    async with make_client() as hc:
        with pytest.raises(NotFoundError) as caught:
            await hc.request("GET", "/missing")
    error = caught.value
    assert error.status == 404
    assert error.request_id == "req-42"
    assert error.provider == "test"
    assert "The resource could not be found." in error.message
    assert "req-42" in str(error)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, InvalidRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, InvalidRequestError),
        (429, RateLimitedError),
        (500, ServerError),
        (507, ServerError),
        (418, ProviderError),
    ],
)
async def test_default_status_mapping(mock: respx.MockRouter, status: int, cls: type[ProviderError]) -> None:
    mock.get("/r").mock(return_value=httpx.Response(status, headers={"x-amz-request-id": "R1"}))
    async with make_client(retry=RetryPolicy.disabled()) as hc:
        with pytest.raises(ProviderError) as caught:
            await hc.request("GET", "/r")
    assert type(caught.value) is cls
    assert caught.value.status == status
    assert caught.value.request_id == "R1"


async def test_error_message_is_a_short_single_line_excerpt(mock: respx.MockRouter) -> None:
    body = "<html><body><h1>Bad Gateway</h1>\n" + "x" * 5000 + "</body></html>"
    mock.get("/r").mock(return_value=httpx.Response(502, text=body, headers={"content-type": "text/html"}))
    async with make_client(retry=RetryPolicy.disabled()) as hc:
        with pytest.raises(ServerError) as caught:
            await hc.request("GET", "/r")
    message = caught.value.message
    assert message.startswith("Bad Gateway: Bad Gateway x")
    assert "<h1>" not in message
    assert "\n" not in message
    assert len(message) < 300


class XmlErrorPolicy(ErrorPolicy):
    """An S3-flavoured policy: XML error codes, SlowDown is throttling, x-amz-retry-after in ms."""

    provider = "s3ish"

    def map_error(self, response: httpx.Response) -> ProviderError:
        root = ET.fromstring(response.content)
        code = root.findtext("Code") or ""
        message = root.findtext("Message") or code
        details: dict[str, Any] = {
            "provider": self.provider,
            "status": response.status_code,
            "code": code,
            "request_id": root.findtext("RequestId"),
        }
        if code == "SlowDown":
            return RateLimitedError(message, retry_after=self.retry_after(response), **details)
        if code == "NoSuchBucket":
            return ContainerNotFoundError(message, **details)
        return super().map_error(response)

    def retry_after(self, response: httpx.Response) -> float | None:
        millis = response.headers.get("x-amz-retry-after")
        return int(millis) / 1000 if millis else super().retry_after(response)


def xml_error(status: int, code: str, **headers: str) -> httpx.Response:
    body = f"<Error><Code>{code}</Code><Message>{code} happened</Message><RequestId>RID</RequestId></Error>"
    return httpx.Response(status, text=body, headers=headers)


async def test_custom_policy_marks_a_400_code_as_throttling(mock: respx.MockRouter) -> None:
    route = mock.put("/bucket/key").mock(
        side_effect=[xml_error(400, "SlowDown", **{"x-amz-retry-after": "20"}), httpx.Response(200)]
    )
    async with make_client(error_policy=XmlErrorPolicy()) as hc:
        assert (await hc.request("PUT", "/bucket/key", content=b"data")).status_code == 200
    assert route.call_count == 2


async def test_custom_policy_throttling_exhausted(mock: respx.MockRouter) -> None:
    route = mock.put("/bucket/key").mock(
        return_value=xml_error(503, "SlowDown", **{"x-amz-retry-after": "20"})
    )
    policy = RetryPolicy(max_attempts=2, backoff_base=0.001)
    async with make_client(error_policy=XmlErrorPolicy(), retry=policy) as hc:
        with pytest.raises(RateLimitedError) as caught:
            await hc.request("PUT", "/bucket/key", content=b"data")
    assert route.call_count == 2
    assert caught.value.code == "SlowDown"
    assert caught.value.provider == "s3ish"
    assert caught.value.retry_after == 0.02


async def test_custom_policy_maps_code_to_precise_error(mock: respx.MockRouter) -> None:
    route = mock.get("/bucket").mock(return_value=xml_error(404, "NoSuchBucket"))
    async with make_client(error_policy=XmlErrorPolicy()) as hc:
        with pytest.raises(ContainerNotFoundError) as caught:
            await hc.request("GET", "/bucket")
    assert route.call_count == 1
    assert caught.value.code == "NoSuchBucket"
    assert caught.value.request_id == "RID"
    assert caught.value.message == "NoSuchBucket happened"


class JsonErrorPolicy(ErrorPolicy):
    def map_error(self, response: httpx.Response) -> ProviderError:
        error = response.json()["error"]
        if error["code"] == "TooManyRequests":
            return RateLimitedError(error["message"], provider="jsonish", code=error["code"])
        return InvalidRequestError(error["message"], provider="jsonish", code=error["code"])


async def test_custom_json_policy(mock: respx.MockRouter) -> None:
    route = mock.post("/items").mock(
        side_effect=[
            httpx.Response(400, json={"error": {"code": "TooManyRequests", "message": "slow"}}),
            httpx.Response(400, json={"error": {"code": "BadName", "message": "name is bad"}}),
        ]
    )
    async with make_client(error_policy=JsonErrorPolicy()) as hc:
        with pytest.raises(InvalidRequestError) as caught:
            # Throttled, so not processed: retried thanks to the client token.
            await hc.request("POST", "/items", json={"name": "?"}, idempotency_key=True)
    assert route.call_count == 2
    assert caught.value.code == "BadName"


async def test_broken_error_policy_falls_back_to_status_mapping(mock: respx.MockRouter) -> None:
    mock.get("/r").mock(return_value=httpx.Response(500, text="<html>not xml at all"))
    async with make_client(error_policy=XmlErrorPolicy(), retry=RetryPolicy.disabled()) as hc:
        with pytest.raises(ServerError) as caught:
            await hc.request("GET", "/r")
    assert caught.value.status == 500


async def test_ok_statuses_are_returned(mock: respx.MockRouter) -> None:
    missing = mock.head("/maybe").mock(return_value=httpx.Response(404))
    busy = mock.get("/busy").mock(return_value=httpx.Response(503, text="busy"))
    async with make_client() as hc:
        assert (await hc.request("HEAD", "/maybe", ok={404})).status_code == 404
        response = await hc.request("GET", "/busy", ok=[503])
    assert response.text == "busy"
    assert missing.call_count == 1
    assert busy.call_count == 1


async def test_redirects_are_returned_not_followed(mock: respx.MockRouter) -> None:
    route = mock.get("/old").mock(return_value=httpx.Response(302, headers={"Location": "/new"}))
    async with make_client() as hc:
        response = await hc.request("GET", "/old")
    assert response.status_code == 302
    assert route.call_count == 1


# -------------------------------------------------------------------------------------------- bodies


async def test_single_use_async_iterable_body_is_not_retried(mock: respx.MockRouter) -> None:
    route = mock.put("/obj").mock(side_effect=[httpx.Response(503), httpx.Response(200)])

    async def chunks() -> AsyncIterator[bytes]:
        yield b"hello "
        yield b"world"

    async with make_client() as hc:
        with pytest.raises(ServerError):
            await hc.request("PUT", "/obj", content=chunks())
    assert route.call_count == 1


async def test_single_use_body_not_retried_even_on_connect_error(mock: respx.MockRouter) -> None:
    route = mock.put("/obj").mock(side_effect=[httpx.ConnectError, httpx.Response(200)])

    async def chunks() -> AsyncIterator[bytes]:
        yield b"data"

    async with make_client() as hc:
        with pytest.raises(TransportError):
            await hc.request("PUT", "/obj", content=chunks())
    assert route.call_count == 1


async def test_body_factory_is_replayed_on_each_attempt(mock: respx.MockRouter) -> None:
    received: list[bytes] = []
    outcomes = iter([httpx.Response(503), httpx.Response(200)])

    async def server(request: httpx.Request) -> httpx.Response:
        received.append(await request.aread())
        return next(outcomes)

    mock.put("/obj").mock(side_effect=server)
    made = 0

    def factory() -> AsyncIterator[bytes]:
        nonlocal made
        made += 1

        async def chunks() -> AsyncIterator[bytes]:
            yield b"hello "
            yield b"world"

        return chunks()

    async with make_client() as hc:
        assert (await hc.request("PUT", "/obj", content=factory)).status_code == 200
    assert made == 2
    assert received == [b"hello world", b"hello world"]


async def test_request_parts_are_assembled() -> None:
    with respx.mock() as router:
        route = router.post(f"{BASE}/v1/items").mock(return_value=httpx.Response(201))
        elsewhere = router.get("https://other.example.test/abs").mock(return_value=httpx.Response(200))
        async with make_client(headers={"X-Default": "d", "X-Over": "client"}) as hc:
            await hc.request(
                "post", "v1/items", params={"a": "1"}, json={"x": 1}, headers={"X-Over": "request"}
            )
            await hc.request("GET", "https://other.example.test/abs")
    sent = route.calls.last.request
    assert sent.method == "POST"
    assert str(sent.url) == f"{BASE}/v1/items?a=1"
    assert sent.headers["X-Default"] == "d"
    assert sent.headers["X-Over"] == "request"
    assert sent.content == b'{"x":1}'
    assert elsewhere.call_count == 1


async def test_invalid_arguments() -> None:
    async with make_client() as hc:
        with pytest.raises(ConfigurationError):
            await hc.request("POST", "/r", content=b"x", json={"x": 1})
        with pytest.raises(ConfigurationError):
            await hc.request("POST", "/r", content="text")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        HttpClient(provider="test", pools=0)
    async with httpx.AsyncClient() as shared:
        with pytest.raises(ConfigurationError):
            HttpClient(provider="test", http_client=shared, pools=2)


# ------------------------------------------------------------------------------------------------ auth


async def test_auth_flow_runs_per_attempt_and_can_be_disabled(mock: respx.MockRouter) -> None:
    route = mock.get("/r").mock(side_effect=[httpx.Response(503), httpx.Response(200), httpx.Response(200)])
    auth = BearerAuth("tok")
    async with make_client(auth=auth) as hc:
        await hc.request("GET", "/r")
        assert auth.runs == 2
        assert route.calls.last.request.headers["Authorization"] == "Bearer tok"
        await hc.request("GET", "/r", auth=None)
    assert auth.runs == 2
    assert "Authorization" not in route.calls.last.request.headers


# ------------------------------------------------------------------------------------------- streaming


async def test_stream_yields_unread_body(mock: respx.MockRouter) -> None:
    payload = bytes(range(256)) * 64
    mock.get("/blob").mock(return_value=httpx.Response(200, content=payload))
    async with make_client() as hc, hc.stream("GET", "/blob") as response:
        with pytest.raises(httpx.ResponseNotRead):
            _ = response.content
        chunks = [chunk async for chunk in response.aiter_bytes(1024)]
    assert b"".join(chunks) == payload
    assert response.is_closed


async def test_stream_retries_until_headers_arrive(mock: respx.MockRouter) -> None:
    route = mock.get("/blob").mock(
        side_effect=[httpx.ReadError, httpx.Response(503), httpx.Response(200, content=b"abc")]
    )
    async with make_client() as hc, hc.stream("GET", "/blob") as response:
        assert await response.aread() == b"abc"
    assert route.call_count == 3


async def test_stream_error_response_is_read_mapped_and_raised(mock: respx.MockRouter) -> None:
    mock.get("/blob").mock(return_value=httpx.Response(404, text="no such blob"))
    async with make_client() as hc:
        with pytest.raises(NotFoundError) as caught:
            async with hc.stream("GET", "/blob"):
                pytest.fail("the block must not run for an error response")
    assert "no such blob" in caught.value.message


class FailingStream(httpx.AsyncByteStream):
    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"first"
        raise httpx.ReadError("connection reset by peer")


async def test_stream_body_errors_are_translated() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, stream=FailingStream()))
    seen: list[httpx.Response] = []

    async def download(hc: HttpClient) -> None:
        async with hc.stream("GET", "/blob") as response:
            seen.append(response)
            async for _ in response.aiter_bytes():
                pass

    async with make_client(transport=transport) as hc:
        with pytest.raises(TransportError) as caught:
            await download(hc)
    assert isinstance(caught.value.__cause__, httpx.ReadError)
    assert "connection reset by peer" in str(caught.value)
    assert seen[0].is_closed


# ----------------------------------------------------------------------------------- clients and pools


async def test_caller_supplied_client_is_shared_and_not_closed() -> None:
    transport = RecordingTransport()
    async with httpx.AsyncClient(transport=transport) as shared:
        hc = HttpClient(provider="test", base_url=BASE, http_client=shared, auth=BearerAuth("t"))
        await hc.request("GET", "/r", headers={"X-A": "1"})
        await hc.aclose()
        assert hc.is_closed
        assert not shared.is_closed
        assert transport.closed == 0
        # The HttpClient's base URL and default auth apply on a shared client too.
        assert str(transport.requests[0].url) == f"{BASE}/r"
        assert transport.requests[0].headers["Authorization"] == "Bearer t"
        assert (await shared.get(f"{BASE}/still-usable")).status_code == 200
    with pytest.raises(ConfigurationError):
        await hc.request("GET", "/r")


async def test_owned_clients_are_closed() -> None:
    transport = RecordingTransport()
    hc = make_client(transport=transport, pools=2)
    async with hc:
        await hc.request("GET", "/r")
    assert transport.closed == 2
    assert hc.is_closed


async def test_pools_spread_requests_round_robin(
    mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    mock.get("/r").mock(return_value=httpx.Response(200))
    used: list[int] = []
    original = httpx.AsyncHTTPTransport.handle_async_request

    async def spy(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
        used.append(id(self))  # each pool has its own transport
        return await original(self, request)

    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", spy)
    async with make_client(pools=3) as hc, anyio.create_task_group() as tg:
        for _ in range(12):
            tg.start_soon(hc.request, "GET", "/r")
    assert sorted(collections.Counter(used).values()) == [4, 4, 4]


async def test_single_pool_by_default(mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch) -> None:
    mock.get("/r").mock(return_value=httpx.Response(200))
    used: set[int] = set()
    original = httpx.AsyncHTTPTransport.handle_async_request

    async def spy(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
        used.add(id(self))
        return await original(self, request)

    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", spy)
    async with make_client() as hc:
        for _ in range(3):
            await hc.request("GET", "/r")
    assert len(used) == 1


# ---------------------------------------------------------------------------------------- cancellation


async def test_cancellation_is_not_retried_and_propagates(mock: respx.MockRouter) -> None:
    calls = 0

    async def hang(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        await anyio.sleep(10)
        return httpx.Response(200)

    mock.get("/slow").mock(side_effect=hang)
    async with make_client() as hc:
        started = anyio.current_time()
        with anyio.move_on_after(0.05) as scope:
            await hc.request("GET", "/slow")
        assert scope.cancelled_caught
        with anyio.move_on_after(0.05) as scope:
            async with hc.stream("GET", "/slow"):
                pytest.fail("unreachable")
        assert scope.cancelled_caught
    assert anyio.current_time() - started < 1.0
    assert calls == 2  # one attempt per request: the cancellation was not retried


async def test_cancellation_during_backoff_sleep(mock: respx.MockRouter) -> None:
    route = mock.get("/r").mock(return_value=httpx.Response(503, headers={"Retry-After": "10"}))
    async with make_client() as hc:
        with anyio.move_on_after(0.1) as scope:
            await hc.request("GET", "/r")
    assert scope.cancelled_caught
    assert route.call_count == 1


# ------------------------------------------------------------------------------------------- redaction


async def test_logs_redact_credentials(mock: respx.MockRouter, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="asynccloud.http")
    mock.get("/obj").mock(
        side_effect=[
            httpx.Response(503, headers={"Set-Cookie": "session=cookie-value-77"}),
            httpx.Response(200),
        ]
    )
    auth = BearerAuth("bearer-token-XYZ")
    async with make_client(
        auth=auth, headers={"X-Custom": "prefix-hunter2-password"}, secrets=["hunter2-password"]
    ) as hc:
        await hc.request("GET", "/obj?X-Amz-Signature=deadbeefcafe&prefix=photos")
    text = caplog.text
    for secret in ("bearer-token-XYZ", "deadbeefcafe", "hunter2-password", "cookie-value-77"):
        assert secret not in text
    assert "X-Amz-Signature=***" in text
    assert "prefix=photos" in text
    assert "'authorization': '***'" in text.lower()
    lines = [r for r in caplog.records if r.name == "asynccloud.http"]
    assert len(lines) == 2
    assert all(r.levelno == logging.DEBUG for r in lines)
    first, second = (r.getMessage() for r in lines)
    assert re.search(r"GET \S+/obj\S* -> 503 .* in \d+ ms \(attempt 1/4\); retrying in [\d.]+ s", first)
    assert re.search(r"-> 200 OK in \d+ ms \(attempt 2/4\)", second)


async def test_exception_text_has_no_url_secrets(mock: respx.MockRouter) -> None:
    url = f"{BASE}/obj?X-Amz-Signature=deadbeefcafe&X-Amz-Credential=AKIDEXAMPLE"
    mock.get("/obj").mock(side_effect=httpx.ConnectError(f"cannot reach {url}"))
    async with make_client(retry=RetryPolicy.disabled()) as hc:
        with pytest.raises(TransportError) as caught:
            await hc.request("GET", url)
    assert "deadbeefcafe" not in str(caught.value)
    assert "AKIDEXAMPLE" not in str(caught.value)
    assert "X-Amz-Signature=***" in str(caught.value)


async def test_provider_error_text_has_no_registered_secret(mock: respx.MockRouter) -> None:
    mock.get("/r").mock(return_value=httpx.Response(403, text="bad key s3cr3t-key-value for user"))
    async with make_client(secrets=["s3cr3t-key-value"]) as hc:
        with pytest.raises(PermissionDeniedError) as caught:
            await hc.request("GET", "/r")
    assert "s3cr3t-key-value" not in str(caught.value)
    assert "s3cr3t-key-value" not in caught.value.message
    assert "bad key *** for user" in str(caught.value)


async def test_repr_has_no_secrets() -> None:
    async with HttpClient(
        provider="test",
        base_url="https://user:pa55word-x@api.example.test/v1?token=tok-abcdef",
        auth=BearerAuth("auth-token-value"),
        headers={"X-Auth-Token": "header-token-value"},
        secrets=["pa55word-x"],
    ) as hc:
        text = repr(hc)
    assert "provider='test'" in text
    for secret in ("pa55word-x", "tok-abcdef", "auth-token-value", "header-token-value"):
        assert secret not in text


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://b.s3.test/k?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKID%2F2024&X-Amz-Signature=abc",
            "https://b.s3.test/k?X-Amz-Algorithm=AWS4&X-Amz-Credential=***&X-Amz-Signature=***",
        ),
        (
            "https://h/o?temp_url_sig=abc&temp_url_expires=1",
            "https://h/o?temp_url_sig=***&temp_url_expires=1",
        ),
        ("https://h/o?sig=abc&sv=2024&se=x", "https://h/o?sig=***&sv=2024&se=x"),
        (
            "https://h/o?Signature=a&KEY=b&Token=c&access_token=d",
            "https://h/o?Signature=***&KEY=***&Token=***&access_token=***",
        ),
        (
            "https://h/o?password=p&x-amz-security-token=t",
            "https://h/o?password=***&x-amz-security-token=***",
        ),
        (
            "https://h/o?X-Goog-Signature=s&client_secret=c",
            "https://h/o?X-Goog-Signature=***&client_secret=***",
        ),
        ("https://h/o?key-marker=k&marker=m&prefix=p", "https://h/o?key-marker=k&marker=m&prefix=p"),
        ("https://alice:wonder@h/o", "https://alice:***@h/o"),
        ("https://h/plain/path", "https://h/plain/path"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_redact_url_literal_secrets_raw_and_encoded() -> None:
    assert redact_url("https://h/v1/AUTH_my secret/c", secrets=["my secret"]) == "https://h/v1/AUTH_***/c"
    assert redact_url(httpx.URL("https://h/v1/AUTH_my secret/c"), secrets=["my secret"]) == (
        "https://h/v1/AUTH_***/c"
    )


def test_redact_headers() -> None:
    headers = httpx.Headers(
        {
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKID/..., Signature=abc",
            "proxy-authorization": "Basic xyz",
            "X-Auth-Token": "t",
            "X-Auth-Key": "k",
            "X-Subject-Token": "s",
            "X-Storage-Token": "st",
            "X-Amz-Security-Token": "sess",
            "Cookie": "a=b",
            "X-Goog-Api-Key": "gk",
            "Content-Type": "application/json",
            "X-Note": "contains hunter2 inside",
        }
    )
    shown = redact_headers(headers, secrets=["hunter2"])
    assert shown["content-type"] == "application/json"
    assert shown["x-note"] == "contains *** inside"
    hidden = {k: v for k, v in shown.items() if k not in {"content-type", "x-note"}}
    assert len(hidden) == 9
    assert set(hidden.values()) == {"***"}


# ------------------------------------------------------------------------- owned pools: the direct path


class ChallengeAuth(httpx.Auth):
    """A two-leg flow: the first answer (401 with a nonce) is read, then the request is sent again."""

    requires_response_body = True

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        response = yield request
        self.bodies.append(response.content)
        if response.status_code == 401:
            request.headers["Authorization"] = f"Nonce {response.json()['nonce']}"
            yield request


async def test_direct_path_runs_multi_leg_auth_flows(mock: respx.MockRouter) -> None:
    route = mock.get("/r").mock(
        side_effect=lambda request: (
            httpx.Response(200, text="in")
            if request.headers.get("authorization") == "Nonce n1"
            else httpx.Response(401, json={"nonce": "n1"})
        )
    )
    auth = ChallengeAuth()
    async with make_client(auth=auth) as hc:
        response = await hc.request("GET", "/r")
    assert response.text == "in"
    assert route.call_count == 2
    assert auth.bodies == [b'{"nonce":"n1"}']  # the first leg's body was read for the flow


async def test_direct_path_sends_httpx_default_headers_and_url_credentials(mock: respx.MockRouter) -> None:
    route = mock.get("https://api.example.test/r").mock(return_value=httpx.Response(200))
    async with make_client(headers={"User-Agent": "asynccloud-test"}) as hc:
        await hc.request("GET", "https://ana:pw@api.example.test/r")
    sent = route.calls.last.request
    assert sent.headers["authorization"] == httpx.BasicAuth("ana", "pw")._auth_header
    assert sent.headers["user-agent"] == "asynccloud-test"
    assert sent.headers["accept"] == "*/*"
    assert sent.headers["accept-encoding"] == "gzip, deflate"


async def test_direct_path_streamed_bodies_carry_host_and_framing(mock: respx.MockRouter) -> None:
    # httpx.Request adds Host only for bodies it encodes itself; a streamed body must not go without.
    route = mock.put("https://api.example.test:8443/r").mock(return_value=httpx.Response(201))

    async def body() -> AsyncIterator[bytes]:
        yield b"abc"

    async with make_client() as hc:
        await hc.request("PUT", "https://api.example.test:8443/r", content=lambda: body())
        await hc.request(
            "PUT", "https://api.example.test:8443/r", content=lambda: body(), headers={"Content-Length": "3"}
        )
    chunked, sized = (call.request for call in route.calls)
    assert chunked.headers["host"] == sized.headers["host"] == "api.example.test:8443"
    assert chunked.headers["transfer-encoding"] == "chunked"
    assert sized.headers["content-length"] == "3"
    assert "transfer-encoding" not in sized.headers


async def test_direct_path_attributes_transport_errors_to_the_request(mock: respx.MockRouter) -> None:
    mock.get("/r").mock(side_effect=httpx.ConnectError("refused"))
    async with make_client(retry=RetryPolicy(max_attempts=1)) as hc:
        with pytest.raises(TransportError, match="refused") as info:
            await hc.request("GET", "/r")
    cause = info.value.__cause__
    assert isinstance(cause, httpx.ConnectError)
    assert str(cause.request.url) == f"{BASE}/r"


async def test_constructing_a_client_builds_no_pool() -> None:
    hc = make_client(pools=3)
    assert hc._clients == ()
    async with hc:
        pass  # closing a client that never sent anything is fine
    assert hc.is_closed


# ------------------------------------------------------------------- may an earlier attempt have acted?


@pytest.mark.parametrize(
    ("first", "acted"),
    [
        (httpx.Response(503), True),  # a 5xx: the server may have done part or all of it
        (httpx.ReadError("reset after sending"), True),  # sent, answer lost
        (httpx.ConnectError("refused"), False),  # nothing was sent
        (httpx.Response(429), False),  # refused before doing anything
        (None, False),  # no earlier attempt
    ],
    ids=["5xx", "answer-lost", "not-sent", "throttled", "first-attempt"],
)
async def test_a_retry_says_whether_an_earlier_attempt_may_have_acted(
    mock: respx.MockRouter, first: httpx.Response | Exception | None, acted: bool
) -> None:
    answers: list[httpx.Response | Exception] = [] if first is None else [first]
    mock.delete("/r").mock(side_effect=[*answers, httpx.Response(404)])
    mock.get("/r").mock(side_effect=[*answers, httpx.Response(200)])
    async with make_client() as hc:
        with pytest.raises(NotFoundError) as info:
            await hc.request("DELETE", "/r")
        response = await hc.request("GET", "/r")
    assert info.value.earlier_attempt_may_have_acted is acted
    assert response.extensions.get("asynccloud.earlier_attempt_may_have_acted", False) is acted
