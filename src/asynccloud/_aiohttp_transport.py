"""An httpx transport that sends requests with aiohttp (asyncio only), and the backend dispatcher.

httpx stays the interface everywhere (requests, responses, auth flows, retries, respx-free unit tests with
``transport=``); only the wire work changes. On asyncio, aiohttp's connection pool and C-accelerated HTTP
parser are far cheaper than httpcore's under concurrency (httpcore rescans every connection of a pool per
request) and for large downloads (no 64 KiB slicing and double copies). On trio, or when aiohttp is not
installed, httpx's own transport is used. Install with ``pip install asynccloud[aiohttp]``.

Selection (:func:`choose_backend`): ``ASYNCCLOUD_HTTP_BACKEND=httpx`` forces httpx's transport,
``aiohttp`` requires aiohttp, ``auto`` (the default) uses aiohttp on asyncio when it is importable.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import sniffio

if TYPE_CHECKING:
    import ssl
    from collections.abc import AsyncIterator

    import aiohttp

__all__ = ["AiohttpTransport", "DispatchingTransport", "aiohttp_available", "choose_backend"]

_READ_SIZE = 1 << 20


def aiohttp_available() -> bool:
    """Whether the optional ``aiohttp`` dependency is installed (checked without importing it)."""
    return importlib.util.find_spec("aiohttp") is not None


def choose_backend() -> str:
    """``"aiohttp"`` or ``"httpx"``: which transport owned clients use on asyncio (env override first)."""
    wanted = os.environ.get("ASYNCCLOUD_HTTP_BACKEND", "auto").strip().lower()
    if wanted == "httpx":
        return "httpx"
    if wanted == "aiohttp" or (wanted in ("", "auto") and aiohttp_available()):
        return "aiohttp" if aiohttp_available() else "httpx"
    return "httpx"


def _timeout(request: httpx.Request) -> tuple[float | None, float | None]:
    timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
    connect = timeouts.get("connect")
    pool = timeouts.get("pool")
    total_connect = None if connect is None and pool is None else (connect or 0.0) + (pool or 0.0)
    return total_connect, timeouts.get("read")


class _ResponseStream(httpx.AsyncByteStream):
    """The body of an aiohttp response as an httpx stream; errors are mapped to httpx's."""

    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        import aiohttp

        content = self._response.content
        try:
            while True:
                chunk = await content.readany()
                if not chunk:
                    break
                yield chunk
        except (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError) as exc:
            raise httpx.RemoteProtocolError(str(exc) or type(exc).__name__, request=self._request) from exc
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise httpx.ReadTimeout(str(exc) or "read timed out", request=self._request) from exc
        except aiohttp.ClientError as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__, request=self._request) from exc

    async def aclose(self) -> None:
        self._response.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Send httpx requests through one ``aiohttp.ClientSession`` (asyncio only).

    The session is created on first use, in the running loop. Bodies are neither decompressed nor
    re-encoded (httpx decodes ``Content-Encoding`` itself); no default headers are added.

    Args:
        limit: Most connections open at once (all hosts).
        limit_per_host: Most connections per host.
        verify: TLS verification: ``True``, ``False`` or an ``ssl.SSLContext``.
        keepalive_expiry: Seconds an idle connection is kept.
    """

    def __init__(
        self,
        *,
        limit: int = 100,
        limit_per_host: int = 0,
        verify: bool | ssl.SSLContext = True,
        keepalive_expiry: float = 5.0,
    ) -> None:
        # Imported here, when the driver is built, not on the first request: aiohttp takes ~100-200 ms to
        # import, which belongs to start-up, not to the first transfer's latency.
        import aiohttp  # noqa: F401  (optional dependency)

        self._limit = limit
        self._limit_per_host = limit_per_host
        self._verify = verify
        self._keepalive_expiry = keepalive_expiry
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        import aiohttp

        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            connector = aiohttp.TCPConnector(
                limit=self._limit,
                limit_per_host=self._limit_per_host,
                ssl=self._verify,
                keepalive_timeout=self._keepalive_expiry,
                enable_cleanup_closed=False,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=False,
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
                read_bufsize=_READ_SIZE,
                cookie_jar=aiohttp.DummyCookieJar(),
                timeout=aiohttp.ClientTimeout(total=None),
            )
            self._loop = loop
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        import aiohttp
        from multidict import CIMultiDict
        from yarl import URL

        session = self._get_session()
        connect, read = _timeout(request)
        body: Any
        if isinstance(request.stream, httpx.ByteStream):
            body = b"".join(request.stream)  # one bytes object: already in memory
        else:
            body = _body(request.stream)
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        try:
            response = await session.request(
                request.method,
                URL(str(request.url), encoded=True),
                headers=CIMultiDict(headers),
                data=body if body != b"" else None,
                allow_redirects=False,
                compress=None,
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=read),
            )
        except aiohttp.ClientConnectorError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        except aiohttp.ServerTimeoutError as exc:
            raise httpx.ReadTimeout(str(exc) or "timed out", request=request) from exc
        except TimeoutError as exc:
            raise httpx.ConnectTimeout("timed out", request=request) from exc
        except aiohttp.ServerDisconnectedError as exc:
            raise httpx.RemoteProtocolError(str(exc) or "server disconnected", request=request) from exc
        except aiohttp.ClientPayloadError as exc:
            raise httpx.WriteError(str(exc), request=request) from exc
        except aiohttp.ClientOSError as exc:
            raise httpx.WriteError(str(exc), request=request) from exc
        except aiohttp.InvalidURL as exc:
            raise httpx.UnsupportedProtocol(str(exc), request=request) from exc
        except aiohttp.ClientError as exc:
            raise httpx.RemoteProtocolError(str(exc) or type(exc).__name__, request=request) from exc
        return httpx.Response(
            response.status,
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.raw_headers],
            stream=_ResponseStream(response, request),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": (response.reason or "").encode()},
            request=request,
        )

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            # Shielded: a driver closed inside a cancelled scope must still release its sockets (aiohttp
            # warns about, and leaks, a session that was never closed).
            with anyio.CancelScope(shield=True):
                await session.close()


async def _body(stream: httpx.AsyncByteStream | httpx.SyncByteStream) -> AsyncIterator[bytes]:
    if isinstance(stream, httpx.AsyncByteStream):
        async for chunk in stream:
            yield chunk
    else:
        for chunk in stream:
            yield chunk


class DispatchingTransport(httpx.AsyncBaseTransport):
    """aiohttp on asyncio, httpx's own transport on anything else (trio), decided per request.

    Args:
        httpx_transport: The transport used off asyncio (and for everything when ``aiohttp`` is ``None``).
        aiohttp_transport: The asyncio transport.
    """

    def __init__(
        self, httpx_transport: httpx.AsyncBaseTransport, aiohttp_transport: AiohttpTransport
    ) -> None:
        self._httpx = httpx_transport
        self._aiohttp = aiohttp_transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if sniffio.current_async_library() == "asyncio":
            return await self._aiohttp.handle_async_request(request)
        return await self._httpx.handle_async_request(request)

    async def aclose(self) -> None:
        if sniffio.current_async_library() == "asyncio":
            await self._aiohttp.aclose()
        await self._httpx.aclose()
