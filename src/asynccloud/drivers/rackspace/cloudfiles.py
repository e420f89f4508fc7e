"""Rackspace Cloud Files (``Provider.RACKSPACE`` / ``Provider.CLOUDFILES``): Swift plus the Cloud Files CDN.

Storage is the Swift driver on the catalog's ``cloudFiles`` endpoint of the region. The CDN is a separate
endpoint (``cloudFilesCDN``) holding per-container settings:

* ``enable_container_cdn``: ``PUT`` the container there with ``X-CDN-Enabled: True`` (and ``X-TTL``);
* ``get_container_cdn_url``: ``HEAD`` it and read ``X-Cdn-Ssl-Uri`` (or ``X-Cdn-Uri``);
* ``get_object_cdn_url``: the container's CDN URI + the object's name when the
  container is published, else a temp URL (HMAC-SHA1, as Cloud Files signs them) when a key is known.

Usage::

    Storage = get_driver(DriverType.STORAGE, Provider.CLOUDFILES)
    async with Storage("username", "api-key", region="ord") as cloudfiles:
        site = await cloudfiles.create_container("site")
        await site.enable_cdn()
        print(await site.get_cdn_url())
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Unpack

from asynccloud._capability import Capability
from asynccloud.auth.keystone import EndpointFilter
from asynccloud.drivers.openstack._names import check_container_name, quote_container, quote_object
from asynccloud.drivers.openstack.swift import DEFAULT_PART_SIZE, SwiftStorageDriver
from asynccloud.drivers.rackspace._common import CATALOG, PROVIDER, RackspaceOptions, openstack_options
from asynccloud.errors import ConfigurationError, NotFoundError, NotSupportedError

if TYPE_CHECKING:
    import httpx

    from asynccloud.models import Container, Object

__all__ = ["CloudFilesStorageDriver"]


class CloudFilesStorageDriver(SwiftStorageDriver):
    """Rackspace Cloud Files with its CDN.

    Args:
        username: The Rackspace user name (omit with ``auth=``).
        api_key: The account's API key.
        region: One of ``dfw``, ``ord`` (default), ``iad``, ``lon``, ``syd``, ``hkg``.
        temp_url_key: The account's ``Temp-URL-Key`` (read from the account when omitted).
        temp_url_digest: ``"sha1"`` (default, what Cloud Files documents), ``"sha256"`` or ``"sha512"``.
        segment_container: See :class:`~asynccloud.drivers.openstack.SwiftStorageDriver`.
        part_size: See :class:`~asynccloud.drivers.openstack.SwiftStorageDriver`.
        max_concurrency: See :class:`~asynccloud.drivers.openstack.SwiftStorageDriver`.
        chunk_size: See :class:`~asynccloud.drivers.openstack.SwiftStorageDriver`.
        page_size: See :class:`~asynccloud.drivers.openstack.SwiftStorageDriver`.
        cdn_endpoint: A CDN management URL to use instead of the catalog's.
        **options: ``auth=``, ``auth_url=``, ``interface=`` (``"internal"`` for ServiceNet), ``endpoint=`` and
            the portable HTTP options.

    Raises:
        ConfigurationError: Unknown region (the message lists the valid ones), or missing credentials.
    """

    provider: ClassVar[str] = PROVIDER
    capabilities: ClassVar[frozenset[Capability]] = SwiftStorageDriver.capabilities | {
        Capability.CONTAINER_CDN
    }
    default_temp_url_digest: ClassVar[str] = "sha1"

    def __init__(
        self,
        username: str | None = None,
        api_key: str | None = None,
        *,
        region: str = "ord",
        temp_url_key: str | None = None,
        temp_url_digest: str | None = None,
        segment_container: str = "{container}_segments",
        part_size: int = DEFAULT_PART_SIZE,
        max_concurrency: int = 4,
        chunk_size: int = 1 << 20,
        page_size: int = 10_000,
        cdn_endpoint: str | None = None,
        **options: Unpack[RackspaceOptions],
    ) -> None:
        storage_type, storage_name = CATALOG["storage"]
        super().__init__(
            username,
            api_key,
            temp_url_key=temp_url_key,
            temp_url_digest=temp_url_digest,
            segment_container=segment_container,
            part_size=part_size,
            max_concurrency=max_concurrency,
            chunk_size=chunk_size,
            page_size=page_size,
            **openstack_options(region, options, service_type=storage_type, service_name=storage_name),
        )
        cdn_type, cdn_name = CATALOG["cdn"]
        # The CDN management API is only published on the public interface, whatever storage uses.
        self._cdn = EndpointFilter(
            cdn_type,
            service_name=cdn_name,
            region=self.region,
            endpoint=cdn_endpoint.rstrip("/") if cdn_endpoint else None,
        )

    async def _cdn_container_url(self, container: str) -> str:
        base = (await self._auth.url_for(self._cdn)).rstrip("/")
        return f"{base}/{quote_container(check_container_name(container))}"

    async def _cdn_headers(self, container: str) -> httpx.Headers | None:
        """The container's CDN settings, or ``None`` when it is not (or never was) published."""
        response = await self._http.request("HEAD", await self._cdn_container_url(container), ok={404})
        if response.status_code == 404 or response.headers.get("x-cdn-enabled", "").lower() != "true":
            return None
        return response.headers

    async def enable_container_cdn(self, container: Container, *, ex_ttl: int | None = None) -> None:
        """Publish a container on the CDN (``X-CDN-Enabled: True``), optionally with a cache TTL (s)."""
        headers = {"X-CDN-Enabled": "True"}
        if ex_ttl is not None:
            if isinstance(ex_ttl, bool) or not isinstance(ex_ttl, int) or ex_ttl < 1:
                raise ConfigurationError(f"ex_ttl must be a positive number of seconds, got {ex_ttl!r}")
            headers["X-TTL"] = str(ex_ttl)
        await self._http.request("PUT", await self._cdn_container_url(container.name), headers=headers)

    async def ex_disable_container_cdn(self, container: Container) -> None:
        """Stop publishing a container (cached copies live on until their TTL runs out)."""
        url = await self._cdn_container_url(container.name)
        await self._http.request("POST", url, headers={"X-CDN-Enabled": "False"})

    async def get_container_cdn_url(self, container: Container, *, ex_ssl_uri: bool = True) -> str:
        """The container's CDN URL: ``X-Cdn-Ssl-Uri`` (default) or, with ``ex_ssl_uri=False``, ``X-Cdn-Uri``.

        Raises:
            NotFoundError: The container is not CDN-enabled.
        """
        headers = await self._cdn_headers(container.name)
        uri = None if headers is None else headers.get("x-cdn-ssl-uri" if ex_ssl_uri else "x-cdn-uri")
        if not uri:
            raise NotFoundError(
                f"container {container.name!r} is not CDN-enabled; call enable_container_cdn() first",
                provider=self.provider,
                status=404,
                code="NotCdnEnabled",
            )
        return str(uri).rstrip("/")

    async def get_object_cdn_url(self, obj: Object, *, expires: int = 3600, method: str = "GET") -> str:
        """The object's public CDN URL if its container is published (``GET`` only), else a temp URL.

        Raises:
            ConfigurationError: The container is not published and no temp URL key is known.
        """
        if method.upper() == "GET":
            headers = await self._cdn_headers(obj.container_name)
            uri = None if headers is None else headers.get("x-cdn-ssl-uri") or headers.get("x-cdn-uri")
            if uri:
                return f"{str(uri).rstrip('/')}/{quote_object(obj.name)}"
        try:
            return await super().get_object_cdn_url(obj, expires=expires, method=method)
        except ConfigurationError as exc:
            raise ConfigurationError(
                f"container {obj.container_name!r} is not CDN-enabled and there is no temp URL: {exc}"
            ) from None

    async def enable_object_cdn(self, obj: Object) -> None:
        """Not available: Cloud Files publishes whole containers (use :meth:`enable_container_cdn`)."""
        detail = "Cloud Files publishes whole containers: use enable_container_cdn()"
        raise NotSupportedError(self.provider, Capability.OBJECT_CDN, detail)
