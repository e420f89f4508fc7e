"""Local filesystem storage (``Provider.LOCAL``)."""

from asynccloud.drivers.local.storage import LocalStorageDriver

__all__ = ["LocalStorageDriver"]
