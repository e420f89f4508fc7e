"""The one request pipeline every driver uses.

:class:`HttpClient` owns building a request, auth, THE retry loop, per-attempt timeouts, mapping failures to
the error tree (:mod:`asynccloud.errors`) and DEBUG logging with secrets redacted. It knows nothing about
any provider: a driver supplies an :class:`ErrorPolicy` subclass (how to read the provider's error bodies,
which of its codes mean throttling, where it puts ``Retry-After``) and never writes a loop of its own.

Logging goes to the ``asynccloud.http`` logger at DEBUG, one line per attempt (plus redacted headers)::

    aws PUT https://b.s3.test/k?X-Amz-Signature=*** -> 503 Service Unavailable in 12 ms (attempt 1/4); ...
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import warnings
from collections.abc import AsyncIterable, AsyncIterator, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeAlias

import anyio
import httpx

from ._aiohttp_transport import AiohttpTransport, DispatchingTransport, choose_backend
from ._error_policy import ErrorPolicy
from ._redact import REDACTED, redact_headers, redact_text, redact_url, url_secret_values
from ._response_scope import note_response
from ._retry import RetryPolicy
from .errors import (
    ConfigurationError,
    InsecureTransportWarning,
    ProviderError,
    RateLimitedError,
    RequestTimeout,
    TransportError,
)

if TYPE_CHECKING:
    import ssl
    from typing import Self

    from httpx._client import UseClientDefault

__all__ = [
    "REDACTED", "BodyFactory", "ErrorPolicy", "HttpClient", "QueryParams", "redact_headers", "redact_text",
    "redact_url",
]  # fmt: skip

logger = logging.getLogger("asynccloud.http")

#: A zero-argument callable returning a fresh async iterable of body chunks; called once per attempt,
#: so a streamed body can be replayed when the request is retried.
BodyFactory: TypeAlias = Callable[[], AsyncIterable[bytes]]

#: Query parameters, as httpx accepts them.
QueryParams: TypeAlias = httpx.QueryParams | Mapping[str, Any] | list[tuple[str, Any]] | str

_IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})
# Nothing reached the server: safe to retry whatever the method.
_NOT_SENT_ERRORS: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Transient failures; LocalProtocolError, UnsupportedProtocol, ProxyError and friends are not.
_RETRYABLE_ERRORS: Final = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)

#: Key of ``response.extensions`` set when an earlier attempt of the call may have been carried out (see
#: ``ProviderError.earlier_attempt_may_have_acted``).
EARLIER_ATTEMPT_MAY_HAVE_ACTED: Final = "asynccloud.earlier_attempt_may_have_acted"
#: The headers ``httpx.AsyncClient`` adds to every request it builds (sent on the direct path too).
_HTTPX_DEFAULT_HEADERS: Final = (
    ("Accept", "*/*"),
    ("Accept-Encoding", "gzip, deflate"),
    ("Connection", "keep-alive"),
    ("User-Agent", f"python-httpx/{httpx.__version__}"),
)


# ------------------------------------------------------------------------------------------- the client


@dataclass(frozen=True, slots=True)
class _Call:
    """Everything needed to (re)build one logical request, attempt after attempt."""

    method: str
    url: str
    params: QueryParams | None
    headers: httpx.Headers
    content: bytes | BodyFactory | AsyncIterable[bytes] | None
    json: Any
    resend_after_sent: bool
    timeout: httpx.Timeout
    auth: httpx.Auth | UseClientDefault | None
    ok: Collection[int]

    def body(self) -> bytes | AsyncIterable[bytes] | None:
        content = self.content
        if content is None or isinstance(content, bytes | AsyncIterable):
            return content
        return content()  # a BodyFactory: a fresh stream for every attempt

    def may_retry(self, *, sent: bool) -> bool:
        """Whether another attempt is allowed, given that the previous one may have reached the server."""
        if isinstance(self.content, AsyncIterable):
            return False  # single-use body, partly or wholly consumed by the first attempt
        return self.resend_after_sent or not sent


class HttpClient:
    """The request pipeline: one per driver instance, shared by all its requests and tasks.

    Args:
        provider: The provider's name, for errors and logs.
        base_url: Prefix for relative request URLs.
        auth: Default ``httpx.Auth`` flow (request signing, token injection), run on every attempt.
        headers: Headers sent with every request.
        timeout: Default per-attempt timeout (seconds or ``httpx.Timeout``).
        retry: The retry policy; ``RetryPolicy()`` when omitted.
        http_client: A caller-owned ``httpx.AsyncClient`` to use as-is. It is shared: :meth:`aclose` does
            not close it, and ``transport``/``limits``/``pools``/``verify`` do not apply.
        transport: Transport for the owned clients (tests, custom networking).
        limits: Connection limits of each owned client (httpx defaults when omitted).
        pools: How many ``httpx.AsyncClient`` connection pools to own and spread requests over
            round-robin. One pool is fine for light use. Under heavy concurrency (dozens of requests in
            flight) several pools of ~8 connections each are markedly faster, because httpcore scans
            every connection of a pool on each request: on the reference machine one pool serving 32+
            concurrent requests was 3-4x slower than the same load spread over several pools.
        verify: TLS verification: ``True``, ``False`` or an ``ssl.SSLContext``.
        error_policy: How error responses map onto the error tree; ``ErrorPolicy(provider)`` by default.
        secrets: Literal strings (keys, passwords, tokens) to redact from logs and exception messages.

    Raises:
        ConfigurationError: On contradictory or invalid arguments.
    """

    def __init__(
        self,
        *,
        provider: str,
        base_url: str = "",
        auth: httpx.Auth | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | httpx.Timeout = 30.0,
        retry: RetryPolicy | None = None,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        limits: httpx.Limits | None = None,
        pools: int = 1,
        verify: bool | ssl.SSLContext = True,
        error_policy: ErrorPolicy | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        if isinstance(pools, bool) or not isinstance(pools, int) or pools < 1:
            raise ConfigurationError(f"pools must be a positive int, got {pools!r}")
        if http_client is not None and (transport is not None or limits is not None or pools != 1):
            raise ConfigurationError("transport, limits and pools only apply when http_client is not given")
        try:
            httpx.URL(base_url)
        except httpx.InvalidURL as exc:
            raise ConfigurationError(f"invalid base_url: {exc}") from None
        self.provider = provider
        self.retry = retry if retry is not None else RetryPolicy()
        self.error_policy = error_policy if error_policy is not None else ErrorPolicy(provider)
        self._base_url = base_url
        self._auth = auth
        self._headers = httpx.Headers(headers)
        self._timeout = httpx.Timeout(timeout)
        self._secrets: tuple[str, ...] = ()
        self.add_secrets(*secrets)
        self._closed = False
        self._next = 0
        self._owns_clients = http_client is None
        self._pools = pools
        #: Owned pools as (client, its transport); built on first use (see :meth:`_owned_pools`).
        self._owned: tuple[tuple[httpx.AsyncClient, httpx.AsyncBaseTransport], ...] = ()
        self._clients: tuple[httpx.AsyncClient, ...] = ()
        self._transport = transport
        self._verify = verify
        self._limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        if http_client is not None:
            self._clients = (http_client,)
            self._request_headers = self._headers
        else:
            if verify is False:
                warnings.warn(
                    f"{provider}: TLS certificate verification is off (verify=False); anyone on the network "
                    "path can read and change the traffic, credentials included",
                    InsecureTransportWarning,
                    stacklevel=2,
                )
            # What httpx.AsyncClient.build_request would merge in (its default headers), then ours.
            self._request_headers = httpx.Headers(_HTTPX_DEFAULT_HEADERS)
            self._request_headers.update(self._headers)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(provider={self.provider!r}, "
            f"base_url={redact_url(self._base_url, self._secrets)!r}, pools={self._pools}, "
            f"shared_client={not self._owns_clients}, retry={self.retry!r})"
        )

    @property
    def base_url(self) -> str:
        """The prefix of relative request URLs."""
        return self._base_url

    @property
    def is_closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
        return self._closed

    def add_secrets(self, *values: str) -> None:
        """Register more literal strings to redact, e.g. a token obtained after construction.

        Args:
            *values: The secrets; empty strings are ignored.
        """
        merged = {*self._secrets, *(v for v in values if v)}
        self._secrets = tuple(sorted(merged, key=len, reverse=True))

    def redact(self, text: str) -> str:
        """Return ``text`` with this client's registered secrets replaced by ``***``."""
        return redact_text(text, self._secrets)

    async def aclose(self) -> None:
        """Close the connection pools this client owns (a caller-supplied ``http_client`` stays open)."""
        self._closed = True
        if self._owns_clients:
            for client, _ in self._owned:
                await client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -------------------------------------------------------------------------------------- public API

    async def request(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        params: QueryParams | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | BodyFactory | AsyncIterable[bytes] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        idempotency_key: bool = False,
        timeout: float | httpx.Timeout | None = None,
        auth: httpx.Auth | UseClientDefault | None = httpx.USE_CLIENT_DEFAULT,
        ok: Collection[int] = (),
    ) -> httpx.Response:
        """Send a request through the retry loop and return the response with its body read.

        Args:
            method: HTTP method.
            url: Absolute URL, or a path joined to ``base_url``.
            params: Query parameters.
            headers: Extra headers (over the client's defaults).
            content: The body: ``bytes`` (replayed on retry), a :data:`BodyFactory` (called again for each
                attempt) or an async iterable of bytes (single-use: the request is never retried once its
                first attempt started).
            json: A JSON body (instead of ``content``).
            idempotent: Whether resending is harmless; by default GET/HEAD/PUT/DELETE/OPTIONS are and
                POST/PATCH are not. A non-idempotent request is only retried when nothing was sent.
            idempotency_key: The request carries a client token (``ClientToken``, ``Idempotency-Key``),
                so the provider deduplicates it and it may be retried like an idempotent one.
            timeout: Per-attempt timeout overriding the client's (``None``: the client's).
            auth: Auth flow for this request; by default the client's; ``None`` for no auth.
            ok: Error statuses to return instead of raising (e.g. ``{404}`` for an existence check).

        Returns:
            The response (2xx, 3xx or a status in ``ok``), body read.

        Raises:
            ProviderError: (a subclass of) when the provider answered with an error.
            TransportError: When no answer came (``RequestTimeout`` when an attempt timed out).
            ConfigurationError: On invalid arguments or a closed client.
        """
        call = self._call(
            method, url, params, headers, content, json, idempotent, idempotency_key, timeout, auth, ok
        )
        return await self._send(call, stream=False)

    @contextlib.asynccontextmanager
    async def stream(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        params: QueryParams | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | BodyFactory | AsyncIterable[bytes] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        idempotency_key: bool = False,
        timeout: float | httpx.Timeout | None = None,
        auth: httpx.Auth | UseClientDefault | None = httpx.USE_CLIENT_DEFAULT,
        ok: Collection[int] = (),
    ) -> AsyncIterator[httpx.Response]:
        """Like :meth:`request`, but yield the response before its body is read (for downloads).

        Retries apply until response headers arrive; error responses are read, mapped and raised on
        entry. httpx errors while reading the body inside the block are translated to
        ``TransportError``/``RequestTimeout``. The response is closed on exit.

        Args:
            method: HTTP method; this and all other arguments are those of :meth:`request`.
            url: See :meth:`request`.

        Yields:
            The response, body not read yet.
        """
        call = self._call(
            method, url, params, headers, content, json, idempotent, idempotency_key, timeout, auth, ok
        )
        response = await self._send(call, stream=True)
        try:
            yield response
        except httpx.RequestError as exc:
            raise self._translate(exc, call.method, str(response.request.url)) from exc
        finally:
            await response.aclose()

    # ------------------------------------------------------------------------------------ the machinery

    def _call(
        self, method: str, url: str | httpx.URL, params: QueryParams | None,
        headers: Mapping[str, str] | None, content: bytes | BodyFactory | AsyncIterable[bytes] | None,
        json: Any, idempotent: bool | None, idempotency_key: bool, timeout: float | httpx.Timeout | None,
        auth: httpx.Auth | UseClientDefault | None, ok: Collection[int],
    ) -> _Call:  # fmt: skip
        if self._closed:
            raise ConfigurationError(f"{self!r} is closed")
        if content is not None and json is not None:
            raise ConfigurationError("pass either content or json, not both")
        if not (content is None or isinstance(content, bytes | AsyncIterable) or callable(content)):
            kind = type(content).__name__
            raise ConfigurationError(f"content must be bytes, an async iterable or a BodyFactory, not {kind}")
        method = method.upper()
        if idempotent is None:
            idempotent = method in _IDEMPOTENT_METHODS
        merged = httpx.Headers(self._request_headers)
        if headers:
            merged.update(headers)
        resolved_timeout = self._timeout if timeout is None else httpx.Timeout(timeout)
        return _Call(
            method=method,
            url=self._join(str(url)),
            params=params,
            headers=merged,
            content=content,
            json=json,
            resend_after_sent=idempotent or idempotency_key,
            timeout=resolved_timeout,
            # The client's default auth is applied per request, so it also works on a shared http_client.
            auth=self._auth if auth is httpx.USE_CLIENT_DEFAULT and self._auth is not None else auth,
            ok=frozenset(ok),
        )

    def _join(self, url: str) -> str:
        if not self._base_url:
            return url
        if not url:
            return self._base_url
        try:
            absolute = httpx.URL(url).is_absolute_url
        except httpx.InvalidURL as exc:
            raise ConfigurationError(f"invalid URL: {exc}") from None
        if absolute:
            return url
        return self._base_url.rstrip("/") + "/" + url.lstrip("/")

    def _owned_pools(self) -> tuple[tuple[httpx.AsyncClient, httpx.AsyncBaseTransport], ...]:
        """The owned pools, built on first use: constructing a driver loads no TLS context, opens nothing."""
        if not self._owned:
            verify = self._verify
            if self._transport is None and isinstance(verify, bool):
                verify = _shared_ssl_context(verify)
            pools = []
            for _ in range(self._pools):
                transport = self._transport or _default_transport(verify, self._limits)
                client = httpx.AsyncClient(transport=transport, timeout=self._timeout, follow_redirects=False)
                pools.append((client, transport))
            self._owned = tuple(pools)
            self._clients = tuple(client for client, _ in self._owned)
        return self._owned

    def _pick_client(self) -> tuple[httpx.AsyncClient, httpx.AsyncBaseTransport | None]:
        """The next pool round-robin: an owned (client, transport), or the caller's client and ``None``."""
        if not self._owns_clients:
            return self._clients[0], None
        pools = self._owned or self._owned_pools()
        client, transport = pools[self._next % len(pools)]
        self._next = (self._next + 1) % len(pools)
        return client, transport

    def _build(self, client: httpx.AsyncClient, call: _Call, *, direct: bool) -> httpx.Request:
        try:
            if direct:  # what client.build_request does for our own clients, without re-merging anything
                body = call.body()
                if body is None or isinstance(body, bytes):
                    return httpx.Request(
                        call.method,
                        call.url,
                        params=call.params,
                        headers=call.headers,
                        content=body,
                        json=call.json,
                        extensions={"timeout": call.timeout.as_dict()},
                    )
                # httpx.Request adds Host (and the framing header) only for the bodies it encodes itself.
                headers = httpx.Headers(call.headers)
                if "content-length" not in headers:
                    headers["Transfer-Encoding"] = "chunked"
                request = httpx.Request(
                    call.method,
                    call.url,
                    params=call.params,
                    headers=headers,
                    stream=_BodyStream(body),
                    extensions={"timeout": call.timeout.as_dict()},
                )
                if "host" not in request.headers:
                    request.headers["Host"] = request.url.netloc.decode("ascii")
                return request
            return client.build_request(
                call.method,
                call.url,
                params=call.params,
                headers=call.headers,
                content=call.body(),
                json=call.json,
                timeout=call.timeout,
            )
        except httpx.InvalidURL as exc:
            hidden = (*self._secrets, *url_secret_values(call.url))
            raise ConfigurationError(
                f"invalid URL {redact_url(call.url, self._secrets)!r}: {redact_text(str(exc), hidden)}"
            ) from None

    async def _attempt(
        self,
        client: httpx.AsyncClient,
        transport: httpx.AsyncBaseTransport | None,
        request: httpx.Request,
        call: _Call,
        *,
        stream: bool,
    ) -> httpx.Response:
        if transport is None:
            response = await client.send(request, auth=call.auth, stream=stream)
        else:
            response = await _send_direct(transport, request, call.auth, stream=stream)
        if stream and response.status_code >= 400 and response.status_code not in call.ok:
            # The error policy needs the body; reading it can still fail like any transfer.
            try:
                await response.aread()
            finally:
                await response.aclose()
        return response

    async def _send(self, call: _Call, *, stream: bool) -> httpx.Response:
        """THE retry loop: the only place asynccloud decides whether and when to try again."""
        policy = self.retry
        started = anyio.current_time()
        deadline = math.inf if policy.total_timeout is None else started + policy.total_timeout
        last_retry_after: float | None = None
        attempt = 0
        acted = False  # whether an attempt so far was sent and may have been carried out
        while True:
            attempt += 1
            earlier_acted = acted
            client, transport = self._pick_client()
            request = self._build(client, call, direct=transport is not None)
            began = anyio.current_time()
            cause: httpx.RequestError | None = None
            response: httpx.Response | None = None
            retry_after: float | None = None
            error: TransportError | ProviderError
            # Cancellation (a BaseException) is deliberately not caught anywhere here: it propagates as is.
            try:
                response = await self._attempt(client, transport, request, call, stream=stream)
            except httpx.RequestError as exc:
                cause = exc
                sent_request = _request_of(exc, request)
                error = self._translate(exc, call.method, str(sent_request.url))
                nothing_sent = isinstance(exc, _NOT_SENT_ERRORS)
                acted = acted or not nothing_sent
                retryable = isinstance(exc, _RETRYABLE_ERRORS) and call.may_retry(sent=not nothing_sent)
                outcome = type(exc).__name__
            else:
                sent_request = response.request
                status = response.status_code
                outcome = f"{status} {response.reason_phrase}".rstrip()
                if status < 400 or status in call.ok:
                    self._log(sent_request, response, outcome, began, attempt, "")
                    # The caller now reads the provider's answer (drivers/_unreadable.py).
                    note_response(status)
                    if earlier_acted:
                        response.extensions[EARLIER_ATTEMPT_MAY_HAVE_ACTED] = True
                    return response
                error = self._provider_error(response, str(sent_request.url))
                error.earlier_attempt_may_have_acted = earlier_acted
                acted = acted or status >= 500
                retry_after = self.error_policy.retry_after(response)
                if retry_after is not None:
                    last_retry_after = retry_after
                if isinstance(error, RateLimitedError) and error.retry_after is None:
                    error.retry_after = last_retry_after
                retryable = call.may_retry(sent=True) and self.error_policy.is_retryable(
                    response, error, policy
                )

            delay: float | None = None
            note = ""
            if retryable and attempt < policy.max_attempts:
                delay = policy.backoff(attempt - 1)
                if retry_after is not None:
                    delay = max(delay, min(retry_after, policy.max_retry_after))
                if anyio.current_time() + delay > deadline:
                    note = f"; giving up: a {delay:.3f} s sleep would overrun the retry budget"
                    delay = None
                else:
                    note = f"; retrying in {delay:.3f} s"
            elif retryable:
                note = f"; giving up after {attempt} attempts"
            self._log(sent_request, response, outcome, began, attempt, note)
            if delay is None:
                if cause is not None:
                    raise error from cause
                raise error
            await anyio.sleep(delay)

    def _translate(self, exc: httpx.RequestError, method: str, url: str) -> TransportError:
        shown_url = redact_url(url, self._secrets)
        hidden = (*self._secrets, *url_secret_values(url))
        detail = redact_text(str(exc).replace(url, shown_url), hidden)
        kind = type(exc).__name__
        what = f"{self.provider}: {method} {shown_url}"
        if isinstance(exc, httpx.TimeoutException):
            return RequestTimeout(f"{what} timed out ({kind}: {detail})" if detail else f"{what} timed out")
        return TransportError(f"{what} failed: {kind}: {detail}" if detail else f"{what} failed: {kind}")

    def _provider_error(self, response: httpx.Response, url: str) -> ProviderError:
        try:
            error = self.error_policy.map_error(response)
        except Exception:
            # A provider body the driver's parser chokes on (an HTML page from a proxy, say) must still
            # surface as the right kind of error, not as a parser exception.
            logger.debug("%s: error policy failed; mapping by status", self.provider, exc_info=True)
            error = ErrorPolicy.map_error(self.error_policy, response)
        hidden = (*self._secrets, *url_secret_values(url))
        message = redact_text(error.message, hidden)
        if message != error.message:
            error.message = message
            error.args = (error._render(),)
        return error

    def _log(
        self,
        request: httpx.Request,
        response: httpx.Response | None,
        outcome: str,
        began: float,
        attempt: int,
        note: str,
    ) -> None:
        if not logger.isEnabledFor(logging.DEBUG):
            return
        elapsed_ms = (anyio.current_time() - began) * 1000.0
        line = (
            f"{self.provider} {request.method} {redact_url(request.url, self._secrets)} -> {outcome} "
            f"in {elapsed_ms:.0f} ms (attempt {attempt}/{self.retry.max_attempts}){note}"
            f" | request headers: {redact_headers(request.headers, self._secrets)}"
        )
        if response is not None:
            line += f" | response headers: {redact_headers(response.headers, self._secrets)}"
        logger.debug("%s", line)


def _default_transport(verify: bool | ssl.SSLContext, limits: httpx.Limits) -> httpx.AsyncBaseTransport:
    """aiohttp on asyncio when ``asynccloud[aiohttp]`` is installed (httpx's own on trio); else httpx's."""
    if choose_backend() != "aiohttp":
        return httpx.AsyncHTTPTransport(verify=verify, limits=limits)
    return DispatchingTransport(
        httpx.AsyncHTTPTransport(verify=verify, limits=limits),
        AiohttpTransport(
            limit=limits.max_connections or 0,
            verify=verify,
            keepalive_expiry=limits.keepalive_expiry or 5.0,
        ),
    )


@functools.cache
def _shared_ssl_context(verify: bool) -> ssl.SSLContext:
    """One TLS context per ``verify`` value for all pools and clients.

    Loading the CA bundle costs ~50 ms; httpx would do it again for every ``AsyncClient``. A context is
    safe to share between connections, and sharing it also shares its TLS session cache.
    """
    return httpx.create_ssl_context(verify=verify)


class _BodyStream(httpx.AsyncByteStream):
    """A streamed request body whose ``__aiter__`` is the source's own iterator, not an async generator.

    httpx wraps an async iterable body in a stream whose ``__aiter__`` is an async generator; when a request
    is cancelled mid-body, that generator is left for the garbage collector, which trio reports as a
    ``ResourceWarning``. Handing the source's iterator (``_Slices`` and the like are plain objects) to the
    transport leaves nothing to finalize.
    """

    def __init__(self, source: AsyncIterable[bytes]) -> None:
        self._source = source

    def __aiter__(self) -> AsyncIterator[bytes]:  # an iterator, not an async generator
        return aiter(self._source)

    async def aclose(self) -> None:
        close = getattr(self._source, "aclose", None)
        if close is not None:
            await close()


async def _send_direct(
    transport: httpx.AsyncBaseTransport,
    request: httpx.Request,
    auth: httpx.Auth | UseClientDefault | None,
    *,
    stream: bool,
) -> httpx.Response:
    """``AsyncClient.send`` for a pool we own, straight to its transport.

    An owned client has no cookies to keep, no event hooks, no redirects to follow, no mounts or proxies
    and no auth of its own, so the client layer's per-request work (a cookie jar round-trip through
    ``urllib`` objects, header and URL re-merging, ~40 % of a small request's CPU time) is skipped. What
    it does that matters is kept: the auth flow (several legs, request/response bodies read when the
    flow asks), credentials from the URL's userinfo, ``response.request``, errors attributed to the
    request, the body read unless streaming, and the response closed on failure.
    """
    if not isinstance(auth, httpx.Auth):
        url = request.url
        auth = httpx.BasicAuth(url.username, url.password) if url.username or url.password else None
    if auth is None:
        response = await _transmit(transport, request)
    else:
        flow = auth.async_auth_flow(request)
        try:
            request = await flow.__anext__()
            while True:
                response = await _transmit(transport, request)
                try:
                    try:
                        request = await flow.asend(response)
                    except StopAsyncIteration:
                        break
                    await response.aread()  # an earlier leg of the flow (e.g. a 401 before re-auth)
                except BaseException:
                    await response.aclose()
                    raise
        finally:
            await flow.aclose()
    if not stream:
        try:
            await response.aread()
        except BaseException:
            await response.aclose()
            raise
    return response


async def _transmit(transport: httpx.AsyncBaseTransport, request: httpx.Request) -> httpx.Response:
    try:
        response = await transport.handle_async_request(request)
    except httpx.RequestError as exc:
        try:
            exc.request  # noqa: B018  # raises RuntimeError when the transport did not attribute it
        except RuntimeError:
            exc.request = request
        raise
    response.request = request
    return response


def _request_of(exc: httpx.RequestError, fallback: httpx.Request) -> httpx.Request:
    """The request an httpx error refers to (after auth flows ran), or the one we built."""
    try:
        return exc.request
    except RuntimeError:
        return fallback
