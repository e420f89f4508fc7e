"""Rackspace next-generation Cloud Servers (``Provider.RACKSPACE`` compute): Nova, configured for Rackspace.

The OpenStack Nova driver on the catalog's ``cloudServersOpenStack`` endpoint of the region, with what
Rackspace differs in:

* images come from the compute endpoint (``/images/detail``, Nova's image proxy), not from a Glance entry;
* there is no ``os-start``/``os-stop`` and no availability zones: the one location is the region;
* block storage (Cloud Block Storage) is not driven here.

Usage, as in the founding document::

    Compute = get_driver(DriverType.COMPUTE, Provider.RACKSPACE)
    async with Compute("username", "api-key", region="ord") as rs:
        key = await rs.import_key_pair_from_file(name="my_key", key_file_path="~/.ssh/id_ed25519.pub")
        size = next(s for s in await rs.list_sizes() if s.ram >= 2048)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Final, Unpack

from asynccloud._capability import Capability
from asynccloud.drivers.openstack.nova import OpenStackNodeDriver
from asynccloud.drivers.rackspace._common import CATALOG, PROVIDER, RackspaceOptions, openstack_options
from asynccloud.models import NodeLocation

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

__all__ = ["RackspaceNodeDriver"]

#: Where each region is (ISO 3166 country code).
REGION_COUNTRIES: Final = {"dfw": "US", "ord": "US", "iad": "US", "lon": "GB", "syd": "AU", "hkg": "HK"}
_REGION_NAMES: Final = {
    "dfw": "Dallas-Fort Worth",
    "ord": "Chicago",
    "iad": "Northern Virginia",
    "lon": "London",
    "syd": "Sydney",
    "hkg": "Hong Kong",
}


class RackspaceNodeDriver(OpenStackNodeDriver):
    """Rackspace Cloud Servers.

    Args:
        username: The Rackspace user name (omit with ``auth=``).
        api_key: The account's API key.
        region: One of ``dfw``, ``ord`` (default), ``iad``, ``lon``, ``syd``, ``hkg``.
        microversion: See :class:`~asynccloud.drivers.openstack.nova.OpenStackNodeDriver`.
        page_size: See :class:`~asynccloud.drivers.openstack.nova.OpenStackNodeDriver`.
        **options: ``auth=``, ``auth_url=``, ``interface=``, ``endpoint=`` and the portable HTTP options.

    Raises:
        ConfigurationError: Unknown region (the message lists the valid ones) or option.
    """

    provider: ClassVar[str] = PROVIDER
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.NODE_REBOOT, Capability.KEY_PAIRS, Capability.KEY_PAIR_CREATE}
    )

    def __init__(
        self,
        username: str | None = None,
        api_key: str | None = None,
        *,
        region: str = "ord",
        microversion: str | None = None,
        page_size: int | None = None,
        **options: Unpack[RackspaceOptions],
    ) -> None:
        service_type, service_name = CATALOG["compute"]
        super().__init__(
            username,
            api_key,
            microversion=microversion,
            image_service="compute",
            volume_service_type=None,
            page_size=page_size,
            **openstack_options(region, options, service_type=service_type, service_name=service_name),
        )

    async def iterate_locations(self) -> AsyncIterator[NodeLocation]:
        """The driver's region: Rackspace has no availability zones."""
        region = (self.region or "").lower()
        yield self.bind(
            NodeLocation(
                id=region,
                name=_REGION_NAMES.get(region, region.upper()),
                country=REGION_COUNTRIES.get(region),
            )
        )
