"""What every OpenStack driver (Swift, Nova, Cinder, Designate, Octavia, and the Rackspace ones) shares.

A driver inherits :class:`OpenStackDriverBase` next to its kind's base, takes
``**options: Unpack[OpenStackOptions]`` and calls :meth:`OpenStackDriverBase._setup_openstack` once in
``__init__``; it then builds URLs from :meth:`OpenStackDriverBase._service_url` and sends through the
returned ``HttpClient``::

    class NovaDriver(OpenStackDriverBase, ComputeDriverBase):
        default_service_type = "compute"

        def __init__(self, key=None, secret=None, /, **options: Unpack[OpenStackOptions]) -> None:
            self._http = self._setup_openstack(key, secret, options, error_policy=OpenStackErrorPolicy())

        async def get_node(self, node_id):
            base = await self._service_url()            # authenticates on first use
            response = await self._http.request("GET", f"{base}/servers/{node_id}")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from asynccloud.auth.keystone import EndpointFilter, KeystoneAuth, KeystoneOptions, keystone_auth
from asynccloud.drivers._http_driver import HttpDriverBase, HttpOptions
from asynccloud.errors import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from asynccloud._http import ErrorPolicy, HttpClient

__all__ = ["OpenStackDriverBase", "OpenStackOptions", "ServiceOptions"]


class ServiceOptions(KeystoneOptions, total=False):
    """Endpoint selection keywords (besides the identity ones).

    Attributes:
        region: The catalog region (``"RegionOne"``); needed when the service is in several regions.
        service_type: Catalog type; defaults to the driver's (``"object-store"``, ``"compute"``).
        service_name: Catalog name (``"swift"``, ``"cloudFiles"``); ``None`` accepts any.
        interface: ``"public"`` (default), ``"internal"`` or ``"admin"``.
        endpoint: A base URL to use instead of the catalog's (emulators, proxies, private endpoints).
    """

    region: str | None
    service_type: str | None
    service_name: str | None
    interface: str | None
    endpoint: str | None


class OpenStackOptions(HttpOptions, ServiceOptions, total=False):
    """Every keyword an OpenStack driver accepts: portable HTTP options, identity and endpoint selection."""


_HTTP_KEYS = frozenset(HttpOptions.__annotations__)
_IDENTITY_KEYS = frozenset(KeystoneOptions.__annotations__)
_SERVICE_KEYS = frozenset(ServiceOptions.__annotations__) - _IDENTITY_KEYS


class OpenStackDriverBase(HttpDriverBase):
    """Identity, endpoint and HTTP client set-up shared by the OpenStack drivers.

    Class attributes a driver sets: ``provider``, ``default_service_type`` and, optionally,
    ``default_service_name``.
    """

    provider: ClassVar[str] = "openstack"
    default_service_type: ClassVar[str] = ""
    default_service_name: ClassVar[str | None] = None

    _auth: KeystoneAuth
    _owns_auth: bool
    _service: EndpointFilter

    def _setup_openstack(
        self,
        key: str | None,
        secret: str | None,
        options: Mapping[str, Any],
        *,
        error_policy: ErrorPolicy,
        headers: Mapping[str, str] | None = None,
    ) -> HttpClient:
        """Build (or adopt) the KeystoneAuth, the endpoint filter and the driver's authenticated client.

        Args:
            key: User name / tempauth user / API user / application credential id.
            secret: Password / key / API key / application credential secret.
            options: The driver's :class:`OpenStackOptions`.
            error_policy: How the service's error responses map onto the error tree.
            headers: Extra headers for every request of this driver.

        Returns:
            The client to send requests through (closed by ``aclose()``).

        Raises:
            ConfigurationError: Unknown, missing or contradictory options.
        """
        unknown = set(options) - _HTTP_KEYS - _IDENTITY_KEYS - _SERVICE_KEYS
        if unknown:
            raise ConfigurationError(f"{type(self).__name__}: unknown option(s) {', '.join(sorted(unknown))}")
        http_options = {k: v for k, v in options.items() if k in _HTTP_KEYS}
        identity = {k: v for k, v in options.items() if k in _IDENTITY_KEYS}
        endpoint = options.get("endpoint")
        self.region = options.get("region")
        self._service = EndpointFilter(
            options.get("service_type") or self.default_service_type,
            service_name=options.get("service_name") or self.default_service_name,
            region=self.region,
            interface=options.get("interface") or "public",
            endpoint=endpoint.rstrip("/") if endpoint else None,
        )
        self._auth, self._owns_auth = keystone_auth(
            key,
            secret,
            provider=self.provider,
            http_options=http_options,
            has_endpoint=endpoint is not None,
            **identity,
        )
        http = self._open_http(
            cast("HttpOptions", http_options),
            auth=self._auth,
            headers=headers,
            error_policy=error_policy,
            secrets=self._auth.secrets(),
        )
        self._auth.attach(http)
        return http

    @property
    def auth(self) -> KeystoneAuth:
        """The identity in use; pass it as ``auth=`` to other drivers to share one token."""
        return self._auth

    @property
    def service(self) -> EndpointFilter:
        """How this driver finds its endpoint in the catalog."""
        return self._service

    async def _service_url(self) -> str:
        """This driver's base URL, without a trailing slash (authenticates on first use)."""
        return (await self._auth.url_for(self._service)).rstrip("/")

    async def _catalog_url(self, service_type: str, *, service_name: str | None = None) -> str:
        """Another service's base URL in this driver's region and interface (Nova -> Glance, Cinder, ...)."""
        wanted = EndpointFilter(
            service_type,
            service_name=service_name,
            region=self._service.region,
            interface=self._service.interface,
        )
        return (await self._auth.url_for(wanted)).rstrip("/")

    async def aclose(self) -> None:
        """Close the driver's clients, and its KeystoneAuth unless that was shared in with ``auth=``."""
        try:
            await super().aclose()
        finally:
            if getattr(self, "_owns_auth", False):
                await self._auth.aclose()
