"""The shared part of every HTTP-backed driver: the portable keyword options and the owned HttpClients.

A driver's constructor takes the portable options as ``**options: Unpack[HttpOptions]`` and calls
:meth:`HttpDriverBase._open_http` for each API endpoint it talks to; ``aclose()`` closes them all.
"""

from __future__ import annotations

import platform
from typing import TYPE_CHECKING, Any, TypedDict

import httpx

from asynccloud._http import ErrorPolicy, HttpClient
from asynccloud.drivers._unreadable import wrap_unreadable_verbs
from asynccloud.drivers.base import BaseDriver

if TYPE_CHECKING:
    import ssl
    from collections.abc import Iterable, Mapping

    from asynccloud._retry import RetryPolicy

__all__ = ["USER_AGENT", "HttpDriverBase", "HttpOptions"]

USER_AGENT = f"asynccloud/0.1.0 python/{platform.python_version()} httpx/{httpx.__version__}"


class HttpOptions(TypedDict, total=False):
    """Portable keyword options of every HTTP driver.

    Attributes:
        timeout: Per-attempt timeout in seconds (or an ``httpx.Timeout``); default 30 s.
        retry: The retry policy; default ``RetryPolicy()`` (4 attempts within 60 s).
        http_client: A caller-owned ``httpx.AsyncClient`` to share; the driver never closes it.
        transport: An httpx transport for the driver's own clients (tests, custom networking).
        limits: Connection-pool limits of each of the driver's own clients.
        pools: Spread requests over this many clients (one pool each): one httpx pool slows down with
            many concurrent requests, several small ones do not (see ``docs/architecture.md``).
        verify: TLS verification: ``True`` (default), ``False``, or an ``ssl.SSLContext``.
    """

    timeout: float | httpx.Timeout
    retry: RetryPolicy | None
    http_client: httpx.AsyncClient | None
    transport: httpx.AsyncBaseTransport | None
    limits: httpx.Limits | None
    pools: int
    verify: bool | ssl.SSLContext


class HttpDriverBase(BaseDriver):
    """Owns the :class:`HttpClient` instances a driver opens, and closes them in ``aclose()``.

    Every subclass's public verbs are wrapped (after the argument guards of its kind) so that an answer the
    driver cannot read raises ``ProviderError(code="MalformedResponse")``, not a bare ``KeyError`` or
    ``TypeError`` (:mod:`asynccloud.drivers._unreadable`).
    """

    _clients: list[HttpClient]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        wrap_unreadable_verbs(cls)

    def _open_http(
        self,
        options: HttpOptions,
        *,
        base_url: str = "",
        auth: httpx.Auth | None = None,
        headers: Mapping[str, str] | None = None,
        error_policy: ErrorPolicy | None = None,
        secrets: Iterable[str] = (),
    ) -> HttpClient:
        """Create an :class:`HttpClient` for one API endpoint of this driver, with the portable options."""
        merged: dict[str, str] = {"User-Agent": USER_AGENT, **(headers or {})}
        kwargs: dict[str, Any] = dict(options)
        client = HttpClient(
            provider=self.provider,
            base_url=base_url,
            auth=auth,
            headers=merged,
            error_policy=error_policy,
            secrets=secrets,
            **kwargs,
        )
        if not hasattr(self, "_clients"):
            self._clients = []
        self._clients.append(client)
        return client

    async def aclose(self) -> None:
        """Close every HTTP client this driver opened (a caller-supplied ``http_client`` stays open)."""
        for client in getattr(self, "_clients", []):
            await client.aclose()
        await super().aclose()
