"""PowerDNS Authoritative DNS driver (``Provider.POWERDNS``, DNS), over the HTTP API v1.

* **Where**: ``PowerDNSDriver(api_key, endpoint="http://127.0.0.1:8081")`` — PowerDNS runs where you run it,
  so ``endpoint`` (the webserver's base URL) is required; ``server_id`` is ``"localhost"`` unless you say
  otherwise. The key travels in ``X-API-Key`` and never appears in reprs, logs or errors.
* **Zones**: ``Zone.id`` is PowerDNS's zone id (``"example.org."``), ``domain`` the name without its final
  dot; ``extra``: ``kind`` (``Native``, ``Master``, ``Slave``), ``serial``, ``account``, ``dnssec``,
  ``masters``. ``create_zone(domain, extra={"kind": ..., "nameservers": [...], "account": ...})`` makes a
  ``Native`` zone by default; ``type="slave"`` makes a ``Slave`` zone and needs ``extra["masters"]``.
  ``update_zone(zone, extra={...})`` changes ``kind``, ``masters``, ``account``, ``soa_edit_api``.
  PowerDNS zones have no TTL of their own (``ttl`` must be ``None``). Deleting a zone deletes its records.
* **Records** are RRsets, **one Record per RRset**: ``data`` is the first value, ``extra["records"]`` all of
  them (create/update a multi-value set with ``extra={"records": [...]}``). ``Record.id`` is
  ``"<TYPE>:<fqdn>"`` (``"A:www.example.org."``). Names are zone-relative (``""`` for the apex). Contents
  are sent in PowerDNS's canonical form (host names absolute, TXT quoted: see
  :mod:`asynccloud.drivers.powerdns._names`) and listed as PowerDNS returns them. ``ttl`` defaults to
  ``default_ttl`` (3600 s). ``extra["priority"]`` is put in front of MX/SRV data without one.
* **Writes** are ``PATCH`` requests with ``REPLACE``/``DELETE`` change types, which PowerDNS applies at once
  and atomically. Since ``REPLACE`` would silently overwrite, ``create_record`` reads the zone first and
  raises :class:`~asynccloud.errors.RecordAlreadyExistsError` for an existing name and type (a concurrent
  writer between the read and the write is not detected: PowerDNS has no conditional writes). Renaming a
  record or changing its type deletes the old RRset and writes the new one in the same atomic ``PATCH``.
* The API has no pagination: a listing is one request.

Usage::

    DNS = get_driver(DriverType.DNS, Provider.POWERDNS)
    async with DNS("my-api-key", endpoint="http://127.0.0.1:8081") as dns:
        zone = await dns.create_zone("example.org", extra={"nameservers": ["ns1.example.org."]})
        await zone.create_record("www", RecordType.A, "192.0.2.10", ttl=300,
                                 extra={"records": ["192.0.2.10", "192.0.2.11"]})
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Final, Unpack
from urllib.parse import quote

from asynccloud._capability import Capability
from asynccloud._json import MalformedJson, decode, identifier, json_object, objects, optional, require
from asynccloud.drivers._dns_names import absolute, fqdn, relative
from asynccloud.drivers._http_driver import HttpDriverBase, HttpOptions
from asynccloud.drivers._kinds import DNSDriverBase
from asynccloud.drivers.powerdns._errors import PowerDNSErrorPolicy
from asynccloud.drivers.powerdns._names import canonical_content
from asynccloud.errors import (
    ConfigurationError,
    RecordAlreadyExistsError,
    RecordNotFoundError,
    ZoneNotFoundError,
)
from asynccloud.models import Record, RecordType, Zone, ZoneType

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

__all__ = ["PowerDNSDriver"]

PROVIDER: Final = "powerdns"

_KINDS: Final = {
    "native": "Native",
    "master": "Master",
    "slave": "Slave",
    "primary": "Master",
    "secondary": "Slave",
}
_ZONE_SETTINGS: Final = ("kind", "masters", "account", "soa_edit_api", "soa_edit", "api_rectify", "dnssec")
_TYPES: Final = {t.value: t for t in RecordType}
_SECONDARY_KINDS: Final = frozenset({"slave", "secondary", "consumer"})


def _record_id(rtype: str, name: str) -> str:
    return f"{rtype}:{name}"


def _split_id(record_id: str) -> tuple[str, str]:
    rtype, sep, name = record_id.partition(":")
    if not sep or rtype not in _TYPES or not name.endswith("."):
        raise RecordNotFoundError(
            f"{record_id!r} is not a PowerDNS record id ('<TYPE>:<absolute name>', "
            "e.g. 'A:www.example.org.')",
            provider=PROVIDER,
        )
    return rtype, name


def _missing(record_id: str, zone_id: str) -> RecordNotFoundError:
    return RecordNotFoundError(f"no record {record_id!r} in zone {zone_id!r}", provider=PROVIDER)


def _kind(value: object) -> str:
    kind = _KINDS.get(str(value).lower())
    if kind is None:
        raise ConfigurationError(f"zone kind must be one of Native, Master, Slave; got {value!r}")
    return kind


class PowerDNSDriver(HttpDriverBase, DNSDriverBase):
    """PowerDNS Authoritative Server, HTTP API v1.

    Args:
        key: The API key (``api-key`` in ``pdns.conf``).
        secret: Unused (PowerDNS has one key); must be ``None``.
        endpoint: The webserver's base URL, e.g. ``"http://127.0.0.1:8081"`` (required).
        server_id: The server to manage (``"localhost"`` for the one answering).
        default_ttl: TTL of records created without one.
        **options: HTTP options (``HttpOptions``: timeout, retry, http_client, transport, ...).
    """

    provider: ClassVar[str] = "powerdns"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.ZONE_UPDATE})
    record_types: tuple[RecordType, ...] = (
        RecordType.A,
        RecordType.AAAA,
        RecordType.ALIAS,
        RecordType.CAA,
        RecordType.CNAME,
        RecordType.DNAME,
        RecordType.DS,
        RecordType.HINFO,
        RecordType.LOC,
        RecordType.MX,
        RecordType.NAPTR,
        RecordType.NS,
        RecordType.PTR,
        RecordType.SOA,
        RecordType.SPF,
        RecordType.SRV,
        RecordType.SSHFP,
        RecordType.TLSA,
        RecordType.TXT,
    )

    def __init__(
        self,
        key: str | None = None,
        secret: str | None = None,
        *,
        endpoint: str | None = None,
        server_id: str = "localhost",
        default_ttl: int = 3600,
        **options: Unpack[HttpOptions],
    ) -> None:
        if not isinstance(key, str) or not key:
            raise ConfigurationError("PowerDNSDriver needs the API key as its first argument")
        if secret is not None:
            raise ConfigurationError("PowerDNS has one API key and no secret; pass only the key")
        if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")):
            raise ConfigurationError(
                "PowerDNSDriver needs endpoint=, the URL of the PowerDNS webserver (e.g. 'http://127.0.0.1:8081')"
            )
        if not isinstance(server_id, str) or not server_id or "/" in server_id:
            raise ConfigurationError(
                f"server_id must be a server name such as 'localhost', got {server_id!r}"
            )
        if isinstance(default_ttl, bool) or not isinstance(default_ttl, int) or default_ttl < 0:
            raise ConfigurationError(f"default_ttl must be a non-negative int, got {default_ttl!r}")
        self.endpoint = endpoint.rstrip("/")
        self.server_id = server_id
        self.default_ttl = default_ttl
        self._http = self._open_http(
            HttpOptions(**options),
            base_url=f"{self.endpoint}/api/v1/servers/{quote(server_id, safe='')}",
            headers={"X-API-Key": key, "Accept": "application/json"},
            error_policy=PowerDNSErrorPolicy(),
            secrets=[key],
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(endpoint={self.endpoint!r}, server_id={self.server_id!r})"

    # --------------------------------------------------------------------------------------------- zones

    @staticmethod
    def _path(zone_id: str) -> str:
        return f"/zones/{quote(zone_id, safe='=.')}"

    def _zone(self, data: Mapping[str, Any]) -> Zone:
        name = require(data, "name", str, "zone")
        kind = optional(data, "kind", str, "zone") or "Native"
        extra: dict[str, Any] = {
            "name": name,
            "kind": kind,
            "serial": optional(data, "serial", int, "zone"),
            "account": optional(data, "account", str, "zone") or "",
            "dnssec": bool(optional(data, "dnssec", bool, "zone")),
            "masters": list(optional(data, "masters", list, "zone") or []),
        }
        return self.bind(
            Zone(
                id=identifier(data, "id", "zone"),
                domain=name.rstrip("."),
                type=ZoneType.SLAVE if kind.lower() in _SECONDARY_KINDS else ZoneType.MASTER,
                extra=extra,
            )
        )

    async def iterate_zones(self) -> AsyncIterator[Zone]:
        """Every zone of the server (one request: the API does not paginate)."""
        response = await self._http.request("GET", "/zones")
        data = decode(response)
        if not isinstance(data, list) or not all(isinstance(z, dict) for z in data):
            raise MalformedJson("the zone list is not a JSON array of objects")
        for item in data:
            yield self._zone(item)

    async def _get_zone_data(self, zone_id: str, *, rrsets: bool) -> dict[str, Any]:
        params = None if rrsets else {"rrsets": "false"}
        return json_object(await self._http.request("GET", self._path(zone_id), params=params))

    async def get_zone(self, zone_id: str) -> Zone:
        """One zone by id (``"example.org."``); ``ZoneNotFoundError`` if there is none."""
        return self._zone(await self._get_zone_data(zone_id, rrsets=False))

    async def create_zone(
        self,
        domain: str,
        *,
        type: str = "master",
        ttl: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Zone:
        """Create a zone.

        Args:
            domain: The zone's name (``"example.org"``).
            type: ``"master"`` (a ``Native`` zone unless ``extra["kind"]`` says ``Master``) or ``"slave"``.
            ttl: Must be ``None``: PowerDNS zones have no TTL (records have).
            extra: ``kind``, ``nameservers`` (absolute names), ``masters`` (for slaves), ``account``,
                ``soa_edit_api``.

        Raises:
            ZoneAlreadyExistsError: The zone exists.
        """
        if ttl is not None:
            raise ConfigurationError("PowerDNS zones have no TTL; set TTLs on records")
        extra = dict(extra or {})
        slave = str(type).lower() in ("slave", "secondary")
        if not slave and str(type).lower() not in ("master", "primary"):
            raise ConfigurationError(f"zone type must be 'master' or 'slave', got {type!r}")
        kind = _kind(extra.get("kind", "Slave" if slave else "Native"))
        if slave and not extra.get("masters"):
            raise ConfigurationError("a slave zone needs extra={'masters': ['192.0.2.1', ...]}")
        body: dict[str, Any] = {
            "name": absolute(domain),
            "kind": kind,
            "nameservers": [absolute(ns) for ns in extra.get("nameservers", [])],
        }
        for key in ("masters", "account", "soa_edit_api"):
            if key in extra:
                body[key] = extra[key]
        response = await self._http.request("POST", "/zones", json=body)
        return self._zone(json_object(response))

    async def update_zone(
        self, zone: Zone, *, ttl: int | None = None, extra: Mapping[str, Any] | None = None
    ) -> Zone:
        """Change zone settings: ``extra`` with any of ``kind``, ``masters``, ``account``, ``soa_edit_api``,
        ``soa_edit``, ``api_rectify``, ``dnssec``. PowerDNS zones have no TTL (``ttl`` must be ``None``)."""
        if ttl is not None:
            raise ConfigurationError("PowerDNS zones have no TTL; set TTLs on records")
        settings = {k: v for k, v in (extra or {}).items() if k in _ZONE_SETTINGS}
        unknown = sorted(set(extra or {}) - set(_ZONE_SETTINGS))
        if unknown or not settings:
            raise ConfigurationError(
                f"update_zone takes extra= with any of {', '.join(_ZONE_SETTINGS)}"
                + (f"; unknown: {', '.join(unknown)}" if unknown else "")
            )
        if "kind" in settings:
            settings["kind"] = _kind(settings["kind"])
        await self._http.request("PUT", self._path(zone.id), json=settings)
        return await self.get_zone(zone.id)

    async def delete_zone(self, zone: Zone) -> None:
        """Delete a zone and every record in it."""
        try:
            await self._http.request("DELETE", self._path(zone.id))
        except ZoneNotFoundError as error:
            if not error.earlier_attempt_may_have_acted:
                raise  # else: an earlier attempt deleted it and its answer was lost

    # ------------------------------------------------------------------------------------------- records

    def _records(self, data: Mapping[str, Any], zone_id: str) -> list[Record]:
        origin = require(data, "name", str, "zone")
        records = []
        for rrset in objects(data, "rrsets", "zone"):
            record = self._record(rrset, zone_id, origin)
            if record is not None:
                records.append(record)
        return records

    def _record(self, rrset: Mapping[str, Any], zone_id: str, origin: str) -> Record | None:
        rtype = _TYPES.get(require(rrset, "type", str, "rrset"))
        if rtype is None:
            return None  # a type the portable model has no member for (e.g. LUA): not listed
        name = require(rrset, "name", str, "rrset")
        entries = objects(rrset, "records", "rrset")
        values = [require(e, "content", str, "record") for e in entries]
        disabled = [c for c, e in zip(values, entries, strict=True) if e.get("disabled") is True]
        extra: dict[str, Any] = {"fqdn": name, "records": values}
        if disabled:
            extra["disabled"] = disabled
        comments = rrset.get("comments")
        if isinstance(comments, list) and comments:
            extra["comments"] = comments
        return self.bind(
            Record(
                id=_record_id(rtype.value, name),
                name=relative(name, origin),
                type=rtype,
                data=values[0] if values else "",
                zone_id=zone_id,
                ttl=optional(rrset, "ttl", int, "rrset"),
                extra=extra,
            )
        )

    async def iterate_records(self, zone: Zone) -> AsyncIterator[Record]:
        """Every RRset of a zone as one Record each (one request)."""
        for record in self._records(await self._get_zone_data(zone.id, rrsets=True), zone.id):
            yield record

    async def _find(self, zone_id: str, record_id: str) -> tuple[Record | None, str]:
        rtype, name = _split_id(record_id)
        data = await self._get_zone_data(zone_id, rrsets=True)
        origin = require(data, "name", str, "zone")
        for record in self._records(data, zone_id):
            if record.type == rtype and record.extra["fqdn"].lower() == name.lower():
                return record, origin
        return None, origin

    async def get_record(self, zone_id: str, record_id: str) -> Record:
        """One RRset by id (``"A:www.example.org."``); ``RecordNotFoundError`` if there is none."""
        record, _ = await self._find(zone_id, record_id)
        if record is None:
            raise _missing(record_id, zone_id)
        return record

    def _rrset(
        self, name: str, rtype: RecordType, data: str, ttl: int | None, extra: Mapping[str, Any]
    ) -> dict[str, Any]:
        raw = extra.get("records")
        if raw is not None and (isinstance(raw, str) or not all(isinstance(v, str) for v in raw)):
            raise ConfigurationError("extra['records'] must be a list of strings")
        values = list(raw) if raw else [data]
        if not values or not all(v.strip() for v in values):
            raise ConfigurationError("a record needs non-empty data (or extra={'records': [...]})")
        priority = extra.get("priority")
        if priority is not None and (isinstance(priority, bool) or not isinstance(priority, int)):
            raise ConfigurationError(f"extra['priority'] must be an int, got {priority!r}")
        return {
            "name": name,
            "type": rtype.value,
            "ttl": self.default_ttl if ttl is None else ttl,
            "changetype": "REPLACE",
            "records": [
                {"content": canonical_content(rtype, v, priority), "disabled": False} for v in values
            ],
        }

    async def _patch(self, zone_id: str, rrsets: list[dict[str, Any]]) -> None:
        # REPLACE and DELETE set a state: sending the same PATCH twice leaves the same zone.
        await self._http.request("PATCH", self._path(zone_id), json={"rrsets": rrsets}, idempotent=True)

    async def create_record(
        self,
        name: str,
        zone: Zone,
        type: RecordType | str,
        data: str,
        *,
        ttl: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Record:
        """Create an RRset; ``RecordAlreadyExistsError`` if the name already has one of this type."""
        rtype = RecordType(str(type).upper())
        data_zone = await self._get_zone_data(zone.id, rrsets=True)
        origin = require(data_zone, "name", str, "zone")
        name_abs = fqdn(name, origin)
        rid = _record_id(rtype.value, name_abs)
        if any(r.id.lower() == rid.lower() for r in self._records(data_zone, zone.id)):
            raise RecordAlreadyExistsError(
                f"record {rid!r} exists in zone {zone.id!r}", provider=self.provider
            )
        rrset = self._rrset(name_abs, rtype, data, ttl, extra or {})
        await self._patch(zone.id, [rrset])
        return self._written(rrset, zone.id, origin)

    def _written(self, rrset: Mapping[str, Any], zone_id: str, origin: str) -> Record:
        record = self._record({**rrset, "comments": []}, zone_id, origin)
        assert record is not None  # the type came from RecordType
        return record

    async def update_record(
        self,
        record: Record,
        *,
        name: str | None = None,
        type: RecordType | str | None = None,
        data: str | None = None,
        ttl: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Record:
        """Change an RRset; unset arguments keep their value. ``data`` replaces all values unless
        ``extra["records"]`` is given. A new name or type moves the RRset in one atomic ``PATCH``."""
        current, origin = await self._find(record.zone_id, record.id)
        if current is None:
            raise _missing(record.id, record.zone_id)
        rtype = RecordType(str(type).upper()) if type is not None else current.type
        name_abs = fqdn(name, origin) if name is not None else current.extra["fqdn"]
        merged: dict[str, Any] = dict(extra or {})
        if data is None and "records" not in merged:
            merged["records"] = list(current.extra["records"])
        rrset = self._rrset(
            name_abs, rtype, data or current.data, ttl if ttl is not None else current.ttl, merged
        )
        changes = [rrset]
        new_id = _record_id(rtype.value, name_abs)
        if new_id.lower() != current.id.lower():
            taken, _ = await self._find(record.zone_id, new_id)
            if taken is not None:
                raise RecordAlreadyExistsError(
                    f"record {new_id!r} exists in zone {record.zone_id!r}", provider=self.provider
                )
            changes.insert(
                0, {"name": current.extra["fqdn"], "type": current.type.value, "changetype": "DELETE"}
            )
        await self._patch(record.zone_id, changes)
        return self._written(rrset, record.zone_id, origin)

    async def delete_record(self, record: Record) -> None:
        """Delete an RRset; ``RecordNotFoundError`` if it does not exist."""
        current, _ = await self._find(record.zone_id, record.id)
        if current is None:
            raise _missing(record.id, record.zone_id)
        change = {"name": current.extra["fqdn"], "type": current.type.value, "changetype": "DELETE"}
        await self._patch(record.zone_id, [change])
