"""OpenStack identity (Keystone v3, v2.0, and v1.0 / Swift tempauth), shared by every OpenStack-based driver.

The pieces:

* credentials, one class per flow (:class:`V3Password`, :class:`V3ApplicationCredential`, :class:`V3Token`,
  :class:`V2Password`, :class:`V2ApiKey` (Rackspace), :class:`V2Token`, :class:`V1Password`,
  :class:`StaticToken`);
* :class:`KeystoneAuth`: holds the token, renews it under a lock, is the ``httpx.Auth`` flow adding
  ``X-Auth-Token`` (with one re-authentication and resend on 401), and finds endpoints in the catalog;
* :class:`ServiceCatalog` / :class:`Endpoint` / :class:`EndpointFilter`: the parsed catalog and how a driver
  selects its endpoint by service type, name, region and interface (or skips it with a fixed ``endpoint``);
* :func:`keystone_auth`: turns a driver's Libcloud-style keywords (``auth_url=``, ``auth_version=``,
  ``tenant_name=``, ...; see :class:`KeystoneOptions`) into a KeystoneAuth.

How a driver uses it (the Swift and Nova drivers do exactly this)::

    auth, owned = keystone_auth(key, secret, provider="openstack", http_options=options, **identity_kw)
    http = HttpClient(provider="openstack", auth=auth, ...)   # every request gets X-Auth-Token
    auth.attach(http)                                          # tokens redacted from its logs/errors
    base = await auth.url_for(EndpointFilter("compute", region="RegionOne"))
    response = await http.request("GET", f"{base}/servers/detail")
"""

from __future__ import annotations

from asynccloud.auth.keystone._access import AccessInfo
from asynccloud.auth.keystone._auth import KeystoneAuth
from asynccloud.auth.keystone._catalog import INTERFACES, Endpoint, EndpointFilter, ServiceCatalog
from asynccloud.auth.keystone._credentials import (
    Credentials,
    StaticToken,
    V1Password,
    V2ApiKey,
    V2Password,
    V2Token,
    V3ApplicationCredential,
    V3Password,
    V3Scope,
    V3Token,
)
from asynccloud.auth.keystone._errors import OpenStackErrorPolicy, parse_openstack_error
from asynccloud.auth.keystone._options import (
    AUTH_TYPES,
    AUTH_VERSIONS,
    KeystoneOptions,
    auth_version_of,
    credentials_from_options,
    keystone_auth,
)

__all__ = [
    "AUTH_TYPES",
    "AUTH_VERSIONS",
    "INTERFACES",
    "AccessInfo",
    "Credentials",
    "Endpoint",
    "EndpointFilter",
    "KeystoneAuth",
    "KeystoneOptions",
    "OpenStackErrorPolicy",
    "ServiceCatalog",
    "StaticToken",
    "V1Password",
    "V2ApiKey",
    "V2Password",
    "V2Token",
    "V3ApplicationCredential",
    "V3Password",
    "V3Scope",
    "V3Token",
    "auth_version_of",
    "credentials_from_options",
    "keystone_auth",
    "parse_openstack_error",
]
