"""Hetzner Cloud (``Provider.HETZNER``): compute over the Hetzner Cloud API v1."""

from asynccloud.drivers.hetzner.compute import HetznerNodeDriver

__all__ = ["HetznerNodeDriver"]
