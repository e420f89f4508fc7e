"""KeystoneAuth: a token holder and ``httpx.Auth`` flow shared by the OpenStack drivers of an account."""

from __future__ import annotations

import logging
import weakref
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NoReturn

import anyio
import httpx

from asynccloud._http import HttpClient
from asynccloud.auth.keystone._catalog import EndpointFilter
from asynccloud.auth.keystone._credentials import Credentials
from asynccloud.auth.keystone._errors import OpenStackErrorPolicy
from asynccloud.errors import ConfigurationError

if TYPE_CHECKING:
    import ssl
    from collections.abc import AsyncGenerator, Callable, Generator
    from typing import Self

    from asynccloud._retry import RetryPolicy
    from asynccloud.auth.keystone._access import AccessInfo

__all__ = ["KeystoneAuth"]

logger = logging.getLogger("asynccloud.auth.keystone")

_USER_AGENT = f"asynccloud/0.1.0 httpx/{httpx.__version__}"


class KeystoneAuth(httpx.Auth):
    """A token for an OpenStack (or Rackspace, or Swift tempauth) account, shared by any number of drivers.

    It is an ``httpx.Auth`` flow: every request gets ``X-Auth-Token``. The token is requested once, kept until
    shortly before it expires (``refresh_margin``) and renewed under a lock, so any number of concurrent
    calls cause one token request. A call answered ``401`` makes it re-authenticate once (only if nobody
    did since that call's token was issued, so a burst of 401s also causes one token request) and resend
    the call once; a second 401 is raised as :class:`~asynccloud.errors.AuthenticationError`.

    The token request goes through its own :class:`~asynccloud._http.HttpClient` (the retry loop, error
    mapping, redacted logging), built from the same portable options as the drivers (``timeout=``,
    ``retry=``, ``transport=``, ``verify=``, ``http_client=``...) or passed in as ``http=``.

    Share one between drivers by passing it as ``auth=``; whoever created it closes it (``async with``)::

        async with KeystoneAuth(url, V3Password(...)) as auth:
            compute = get_driver(DriverType.COMPUTE, Provider.OPENSTACK)(auth=auth, region="RegionOne")
            storage = get_driver(DriverType.STORAGE, Provider.OPENSTACK)(auth=auth, region="RegionOne")

    A driver gets its endpoint with :meth:`url_for` and sends its requests through an ``HttpClient`` whose
    ``auth`` is this object (after :meth:`attach`, so that tokens are redacted from its logs and errors).

    Args:
        auth_url: The identity endpoint (``https://keystone:5000/v3``, ``.../v2.0``, ``.../auth/v1.0``);
            ``None`` only with :class:`~asynccloud.auth.keystone.StaticToken`.
        credentials: How to authenticate (``V3Password``, ``V2ApiKey``, ``V1Password``, ...).
        provider: Name used in errors and logs.
        refresh_margin: Renew a token this many seconds before it expires (at most half its lifetime).
        http: A client for the token requests; by default one is built from ``options`` and closed by
            :meth:`aclose`.
        clock: Returns the current aware time (tests inject one).
        timeout: Per-attempt timeout of the owned client (the drivers' portable HTTP options; they do not
            apply when ``http`` is given).
        retry: Its retry policy.
        http_client: A caller-owned ``httpx.AsyncClient`` for it to use (never closed here).
        transport: An httpx transport for it.
        limits: Its connection limits.
        pools: Its number of connection pools.
        verify: TLS verification (on by default).

    Raises:
        ConfigurationError: On a missing ``auth_url`` or contradictory arguments.
    """

    requires_request_body = False
    requires_response_body = False

    def __init__(
        self,
        auth_url: str | None,
        credentials: Credentials,
        *,
        provider: str = "openstack",
        refresh_margin: float = 120.0,
        http: HttpClient | None = None,
        clock: Callable[[], datetime] | None = None,
        timeout: float | httpx.Timeout = 30.0,
        retry: RetryPolicy | None = None,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        limits: httpx.Limits | None = None,
        pools: int = 1,
        verify: bool | ssl.SSLContext = True,
    ) -> None:
        if not isinstance(credentials, Credentials):
            raise ConfigurationError(
                f"credentials must be a Credentials object, not {type(credentials).__name__}"
            )
        if credentials.version != "static" and not auth_url:
            raise ConfigurationError("auth_url is required (the identity service's URL)")
        if auth_url is not None and not auth_url.startswith(("http://", "https://")):
            raise ConfigurationError(f"auth_url must be an http(s) URL, got {auth_url!r}")
        if not refresh_margin >= 0:
            raise ConfigurationError(f"refresh_margin must be >= 0 seconds, got {refresh_margin!r}")
        self.provider = provider
        self.auth_url = auth_url
        self.refresh_margin = float(refresh_margin)
        self._credentials = credentials
        self._clock = clock or _utcnow
        self._owns_http = http is None
        self._http = http or HttpClient(
            provider=provider,
            headers={"User-Agent": _USER_AGENT, "Accept": "application/json"},
            error_policy=OpenStackErrorPolicy(provider),
            secrets=credentials.secrets(),
            timeout=timeout,
            retry=retry,
            http_client=http_client,
            transport=transport,
            limits=limits,
            pools=pools,
            verify=verify,
        )
        if not self._owns_http:
            self._http.add_secrets(*credentials.secrets())
        self._access: AccessInfo | None = None
        self._lock = anyio.Lock()
        self._attempts = 0
        self._failure: tuple[int, BaseException] | None = None
        self._clients: weakref.WeakSet[HttpClient] = weakref.WeakSet()
        self._closed = False
        self.token_requests = 0

    # ------------------------------------------------------------------------------------ plumbing

    @property
    def credentials(self) -> Credentials:
        """The credentials (their ``repr`` hides secrets)."""
        return self._credentials

    @property
    def version(self) -> str:
        """The identity API version in use: ``"1.0"``, ``"2.0"``, ``"3"`` or ``"static"``."""
        return self._credentials.version

    @property
    def http(self) -> HttpClient:
        """The client the token requests go through."""
        return self._http

    @property
    def cached(self) -> AccessInfo | None:
        """The current token and catalog, without any request (``None`` before the first one)."""
        return self._access

    def __repr__(self) -> str:
        state = "authenticated" if self._access is not None else "not authenticated"
        return f"KeystoneAuth({self.auth_url!r}, {self._credentials!r}, provider={self.provider!r}, {state})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("KeystoneAuth cannot be pickled: it holds credentials and a token")

    def __copy__(self) -> Self:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        return self

    def secrets(self) -> tuple[str, ...]:
        """Every secret value known now (credentials and the current token), for redaction."""
        token = (self._access.token,) if self._access is not None else ()
        return (*self._credentials.secrets(), *token)

    def attach(self, client: HttpClient) -> None:
        """Have ``client``'s logs and error messages redact this auth's secrets, tokens to come included.

        The client is held weakly: a driver that goes away is not kept alive by a shared auth.
        """
        client.add_secrets(*self.secrets())
        self._clients.add(client)

    async def aclose(self) -> None:
        """Close the token client if this object created it. Idempotent."""
        self._closed = True
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # ---------------------------------------------------------------------------------- the token

    def _fresh(self, access: AccessInfo) -> bool:
        if access.expires_at is None:
            return True
        lifetime = (access.expires_at - access.issued_at).total_seconds()
        margin = min(self.refresh_margin, max(lifetime, 0.0) / 2)
        return self._clock() + timedelta(seconds=margin) < access.expires_at

    async def access(self, *, stale: AccessInfo | None = None) -> AccessInfo:
        """A valid token and its catalog, authenticating when there is none, it is about to expire, or it is
        ``stale`` (the one a call was just refused with).

        Concurrent callers wait for one authentication; if it fails, they all get its error instead of
        each trying again.

        Raises:
            AuthenticationError: The identity service refused the credentials.
            ProviderError: Another error from the identity service, or a malformed answer.
            TransportError: The identity service could not be reached.
        """
        current = self._access
        if current is not None and current is not stale and self._fresh(current):
            return current
        seen = self._attempts  # attempts finished before this call: a failure after that is shared with us
        async with self._lock:
            current = self._access
            if current is not None and current is not stale and self._fresh(current):
                return current
            if self._failure is not None and self._failure[0] > seen:
                raise self._failure[1]  # the attempt we waited for failed: do not hammer the service
            if current is not None and not self._credentials.can_reauthenticate:
                return current
            return await self._authenticate()

    async def _authenticate(self) -> AccessInfo:
        if self._closed and self._owns_http:
            raise ConfigurationError(f"{self!r} is closed")
        self.token_requests += 1
        logger.debug("%s: requesting a token (identity v%s)", self.provider, self.version)
        try:
            access = await self._credentials.authenticate(self._http, self.auth_url or "", self._clock())
        except Exception as exc:
            self._attempts += 1
            self._failure = (self._attempts, exc)
            raise
        except BaseException:  # cancelled: nothing to share, the next waiter tries
            self._attempts += 1
            raise
        self._attempts += 1
        self._failure = None
        self._access = access
        self._http.add_secrets(access.token)
        for client in list(self._clients):
            client.add_secrets(access.token)
        return access

    async def token(self) -> str:
        """The current token (authenticating if needed)."""
        return (await self.access()).token

    def invalidate(self) -> None:
        """Forget the token: the next call authenticates again."""
        self._access = None

    async def url_for(self, service: EndpointFilter) -> str:
        """The base URL of a service: ``service.endpoint`` if set, else from the catalog (authenticating).

        Args:
            service: Type, name, region and interface to look up (see ``EndpointFilter``).

        Raises:
            ConfigurationError: The catalog has no such endpoint, or several (the message lists the catalog).
        """
        if service.endpoint is not None:
            return service.endpoint
        return service.select((await self.access()).catalog)

    async def endpoint_url(
        self,
        service_type: str,
        *,
        service_name: str | None = None,
        region: str | None = None,
        interface: str = "public",
    ) -> str:
        """Shorthand for :meth:`url_for` with an ``EndpointFilter`` built from the arguments."""
        return await self.url_for(
            EndpointFilter(service_type, service_name=service_name, region=region, interface=interface)
        )

    # ------------------------------------------------------------------------------- the auth flow

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise ConfigurationError("KeystoneAuth is async-only: use it with httpx.AsyncClient")

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        access = await self.access()
        request.headers["X-Auth-Token"] = access.token
        response = yield request
        if response.status_code != 401 or not self._credentials.can_reauthenticate:
            return
        if not _replayable(request):
            # The body cannot be sent twice: let this call fail, but make the next one re-authenticate.
            if self._access is access:
                self._access = None
            return
        logger.debug(
            "%s: %s %s got 401; re-authenticating once", self.provider, request.method, request.url.path
        )
        access = await self.access(stale=access)
        request.headers["X-Auth-Token"] = access.token
        yield request


def _replayable(request: httpx.Request) -> bool:
    try:
        request.content  # noqa: B018 - raises for a streamed body that was never read into memory
    except httpx.RequestNotRead:
        return False
    return True


def _utcnow() -> datetime:
    return datetime.now(UTC)
