"""Which wire the owned httpx clients use: aiohttp on asyncio (when installed), httpx's own elsewhere."""

from __future__ import annotations

import httpx
import pytest
import sniffio

from asynccloud import _aiohttp_transport as at
from asynccloud import _http
from asynccloud._http import HttpClient

pytestmark = pytest.mark.anyio


def test_env_forces_httpx(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(at, "aiohttp_available", lambda: True)
    monkeypatch.setenv("ASYNCCLOUD_HTTP_BACKEND", "httpx")
    assert at.choose_backend() == "httpx"
    monkeypatch.setenv("ASYNCCLOUD_HTTP_BACKEND", "auto")
    assert at.choose_backend() == "aiohttp"
    monkeypatch.delenv("ASYNCCLOUD_HTTP_BACKEND")
    assert at.choose_backend() == "aiohttp"


def test_without_aiohttp_httpx_is_used_whatever_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(at, "aiohttp_available", lambda: False)
    for wanted in ("auto", "aiohttp", "httpx", "nonsense"):
        monkeypatch.setenv("ASYNCCLOUD_HTTP_BACKEND", wanted)
        assert at.choose_backend() == "httpx"


class _Recording(at.AiohttpTransport):
    """Stands in for aiohttp: answers 200 and records that it was used."""

    def __init__(self, **options: object) -> None:  # no super().__init__(): aiohttp may not be installed
        self.used = 0
        self.closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.used += 1
        return httpx.Response(200, content=b"aiohttp", request=request)

    async def aclose(self) -> None:
        self.closed = True


async def test_dispatch_uses_aiohttp_on_asyncio_only() -> None:
    wire = _Recording()
    plain = httpx.MockTransport(lambda request: httpx.Response(200, content=b"httpx"))
    transport = at.DispatchingTransport(plain, wire)
    async with httpx.AsyncClient(transport=transport) as client:
        body = (await client.get("http://example.test/x")).content
    on_asyncio = sniffio.current_async_library() == "asyncio"
    assert body == (b"aiohttp" if on_asyncio else b"httpx")
    assert wire.used == (1 if on_asyncio else 0)
    assert wire.closed is on_asyncio


async def test_http_client_picks_the_dispatcher_only_when_aiohttp_is_chosen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(at, "aiohttp_available", lambda: True)
    monkeypatch.setattr(_http, "AiohttpTransport", _Recording)
    monkeypatch.setenv("ASYNCCLOUD_HTTP_BACKEND", "aiohttp")
    async with HttpClient(provider="t", pools=2) as chosen:
        assert all(isinstance(c._transport, at.DispatchingTransport) for c in chosen._clients)
    monkeypatch.setenv("ASYNCCLOUD_HTTP_BACKEND", "httpx")
    async with HttpClient(provider="t") as plain:
        assert not any(isinstance(c._transport, at.DispatchingTransport) for c in plain._clients)
    mock = httpx.MockTransport(lambda request: httpx.Response(204))
    monkeypatch.setenv("ASYNCCLOUD_HTTP_BACKEND", "aiohttp")
    async with HttpClient(provider="t", transport=mock) as given:
        assert all(c._transport is mock for c in given._clients)
