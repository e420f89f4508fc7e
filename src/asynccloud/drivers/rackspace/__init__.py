"""Rackspace drivers: the OpenStack drivers configured for Rackspace's identity, regions and catalog.

Storage is Cloud Files (Swift, catalog entry ``cloudFiles``) plus its CDN (``cloudFilesCDN``); compute,
DNS and load balancers build on the same :func:`rackspace_auth` and :func:`openstack_options`.
"""

from __future__ import annotations

from asynccloud.drivers.rackspace._common import (
    CATALOG,
    IDENTITY_URL,
    REGIONS,
    RackspaceOptions,
    check_region,
    openstack_options,
    rackspace_auth,
)
from asynccloud.drivers.rackspace.cloudfiles import CloudFilesStorageDriver
from asynccloud.drivers.rackspace.compute import RackspaceNodeDriver

__all__ = [
    "CATALOG",
    "IDENTITY_URL",
    "REGIONS",
    "CloudFilesStorageDriver",
    "RackspaceNodeDriver",
    "RackspaceOptions",
    "check_region",
    "openstack_options",
    "rackspace_auth",
]
