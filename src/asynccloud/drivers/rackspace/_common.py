"""Rackspace = OpenStack + configuration: the identity endpoint, API-key credentials, regions, catalog names.

Every Rackspace driver is an OpenStack driver constructed with :func:`openstack_options`, which turns
``Driver(username, api_key, region="ord")`` into the OpenStack keywords (identity v2.0 with
``RAX-KSKEY:apiKeyCredentials`` at :data:`IDENTITY_URL`, the region upper-cased as the catalog spells it, and
the service's catalog type and name)::

    class RackspaceNodeDriver(NovaNodeDriver):          # compute, for instance
        def __init__(self, username=None, api_key=None, /, *, region="ord", **options):
            super().__init__(username, api_key, **openstack_options(
                region, options, service_type="compute", service_name="cloudServersOpenStack"))

One :func:`rackspace_auth` object can be shared by all of an account's drivers (``auth=``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, Unpack

from asynccloud.auth.keystone import KeystoneAuth, V2ApiKey
from asynccloud.drivers._http_driver import HttpOptions
from asynccloud.errors import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "CATALOG",
    "IDENTITY_URL",
    "PROVIDER",
    "REGIONS",
    "RackspaceOptions",
    "check_region",
    "openstack_options",
    "rackspace_auth",
]

PROVIDER: Final = "rackspace"
#: Rackspace Cloud Identity (v2.0; every region, London included, authenticates here).
IDENTITY_URL: Final = "https://identity.api.rackspacecloud.com/v2.0/"
#: The regions of the Rackspace public cloud.
REGIONS: Final = ("dfw", "ord", "iad", "lon", "syd", "hkg")
#: Catalog (type, name) of the services asynccloud drives.
CATALOG: Final[Mapping[str, tuple[str, str]]] = {
    "storage": ("object-store", "cloudFiles"),
    "cdn": ("rax:object-cdn", "cloudFilesCDN"),
    "compute": ("compute", "cloudServersOpenStack"),
    "dns": ("rax:dns", "cloudDNS"),
    "loadbalancer": ("rax:load-balancer", "cloudLoadBalancers"),
}


class RackspaceOptions(HttpOptions, total=False):
    """Keywords of every Rackspace driver besides ``username``, ``api_key`` and ``region``.

    Attributes:
        auth: A shared :class:`~asynccloud.auth.keystone.KeystoneAuth` (from :func:`rackspace_auth`) instead
            of ``username``/``api_key``.
        auth_url: Another identity endpoint (defaults to :data:`IDENTITY_URL`).
        interface: ``"public"`` (default) or ``"internal"`` (ServiceNet, from inside the region).
        endpoint: A base URL to use instead of the catalog's.
    """

    auth: KeystoneAuth | None
    auth_url: str | None
    interface: str | None
    endpoint: str | None


def check_region(region: str) -> str:
    """The region, lower-cased; ``ConfigurationError`` listing the valid ones otherwise."""
    if not isinstance(region, str) or region.lower() not in REGIONS:
        raise ConfigurationError(f"unknown Rackspace region {region!r}; valid regions: {', '.join(REGIONS)}")
    return region.lower()


def rackspace_auth(
    username: str, api_key: str, *, auth_url: str | None = None, **http_options: Unpack[HttpOptions]
) -> KeystoneAuth:
    """A KeystoneAuth for a Rackspace account, to share between its drivers (``auth=``).

    Args:
        username: The Rackspace user name.
        api_key: The account's API key.
        auth_url: Another identity endpoint (defaults to :data:`IDENTITY_URL`).
        **http_options: Portable HTTP options for the token requests.
    """
    return KeystoneAuth(
        auth_url or IDENTITY_URL,
        V2ApiKey(username, api_key),
        provider=PROVIDER,
        **http_options,
    )


def openstack_options(
    region: str, options: Mapping[str, Any], *, service_type: str, service_name: str
) -> dict[str, Any]:
    """The OpenStack driver keywords for a Rackspace service in ``region``.

    Args:
        region: One of :data:`REGIONS` (any case).
        options: The driver's :class:`RackspaceOptions`.
        service_type: The catalog type (see :data:`CATALOG`).
        service_name: The catalog name.

    Raises:
        ConfigurationError: Unknown region or option.
    """
    unknown = set(options) - set(RackspaceOptions.__annotations__)
    if unknown:
        raise ConfigurationError(f"unknown Rackspace option(s): {', '.join(sorted(unknown))}")
    opts = dict(options)
    opts.update(region=check_region(region).upper(), service_type=service_type, service_name=service_name)
    if opts.get("auth") is None:
        opts.update(auth_url=opts.get("auth_url") or IDENTITY_URL, auth_version="2.0", auth_type="api_key")
    return opts
