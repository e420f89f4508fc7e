"""PowerDNS Authoritative (``Provider.POWERDNS``, DNS) over its HTTP API v1."""

from asynccloud.drivers.powerdns.dns import PowerDNSDriver

__all__ = ["PowerDNSDriver"]
