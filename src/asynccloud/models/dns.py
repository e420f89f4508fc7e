"""DNS models: zones and their records."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from pydantic import Field

from asynccloud.models._base import CloudModel

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

    from asynccloud.drivers.base import DNSDriver

__all__ = ["Record", "RecordType", "Zone", "ZoneType"]


class RecordType(StrEnum):
    """DNS record types; drivers declare which they support in ``list_record_types()``."""

    A = "A"
    AAAA = "AAAA"
    ALIAS = "ALIAS"
    CAA = "CAA"
    CNAME = "CNAME"
    DNAME = "DNAME"
    DS = "DS"
    HINFO = "HINFO"
    LOC = "LOC"
    MX = "MX"
    NAPTR = "NAPTR"
    NS = "NS"
    PTR = "PTR"
    SOA = "SOA"
    SPF = "SPF"
    SRV = "SRV"
    SSHFP = "SSHFP"
    TLSA = "TLSA"
    TXT = "TXT"


class ZoneType(StrEnum):
    """Whether the provider is the zone's primary (master) or a secondary (slave)."""

    MASTER = "master"
    SLAVE = "slave"


class _DNSModel(CloudModel):
    def _dns(self) -> DNSDriver:
        return cast("DNSDriver", self._require_driver())


class Zone(_DNSModel):
    """A DNS zone (domain, hosted zone)."""

    id: str
    domain: str
    type: ZoneType = ZoneType.MASTER
    ttl: int | None = None
    extra: dict[str, Any] = Field(default_factory=dict)

    def iterate_records(self) -> AsyncIterator[Record]:
        """Iterate over this zone's records (``driver.iterate_records``)."""
        return self._dns().iterate_records(self)

    async def list_records(self) -> list[Record]:
        """List this zone's records (``driver.list_records``)."""
        return await self._dns().list_records(self)

    async def get_record(self, record_id: str) -> Record:
        """Fetch one record (``driver.get_record``)."""
        return await self._dns().get_record(self.id, record_id)

    async def create_record(
        self,
        name: str,
        type: RecordType | str,
        data: str,
        *,
        ttl: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Record:
        """Create a record in this zone (``driver.create_record``)."""
        return await self._dns().create_record(name, self, type, data, ttl=ttl, extra=extra)

    async def update(self, *, ttl: int | None = None, extra: Mapping[str, Any] | None = None) -> Zone:
        """Update this zone's settings (``driver.update_zone``)."""
        return await self._dns().update_zone(self, ttl=ttl, extra=extra)

    async def delete(self) -> None:
        """Delete this zone (``driver.delete_zone``)."""
        await self._dns().delete_zone(self)


class Record(_DNSModel):
    """A DNS record. ``name`` is relative to the zone (``""`` for the apex)."""

    id: str
    name: str
    type: RecordType
    data: str
    zone_id: str
    ttl: int | None = None
    extra: dict[str, Any] = Field(default_factory=dict)

    async def update(
        self,
        *,
        name: str | None = None,
        type: RecordType | str | None = None,
        data: str | None = None,
        ttl: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Record:
        """Change this record; unset arguments keep their value (``driver.update_record``)."""
        return await self._dns().update_record(self, name=name, type=type, data=data, ttl=ttl, extra=extra)

    async def delete(self) -> None:
        """Delete this record (``driver.delete_record``)."""
        await self._dns().delete_record(self)
