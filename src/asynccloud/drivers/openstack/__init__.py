"""OpenStack drivers: Swift object storage and Nova compute (Glance images, Cinder volumes) on one identity.

Every driver here authenticates through :class:`asynccloud.auth.keystone.KeystoneAuth` (Keystone v3, v2.0 or
Swift tempauth v1.0) and finds its endpoint in the service catalog; :class:`OpenStackDriverBase` is the shared
set-up, :class:`OpenStackOptions` the keywords they all accept. Modules are imported lazily by the registry.
"""

from __future__ import annotations

from asynccloud.drivers.openstack._common import OpenStackDriverBase, OpenStackOptions, ServiceOptions
from asynccloud.drivers.openstack._swift_errors import SwiftErrorPolicy
from asynccloud.drivers.openstack._tempurl import temp_url, temp_url_signature
from asynccloud.drivers.openstack.nova import OpenStackNodeDriver
from asynccloud.drivers.openstack.swift import SwiftStorageDriver

__all__ = [
    "OpenStackDriverBase",
    "OpenStackNodeDriver",
    "OpenStackOptions",
    "ServiceOptions",
    "SwiftErrorPolicy",
    "SwiftStorageDriver",
    "temp_url",
    "temp_url_signature",
]
