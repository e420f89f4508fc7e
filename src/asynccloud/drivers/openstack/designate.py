"""OpenStack Designate v2 DNS (``Provider.OPENSTACK``, DNS): zones and recordsets.

* **One** :class:`~asynccloud.models.Record` **per recordset.** Designate groups every value of a name and
  type in one recordset; its record is ``data`` = the first value and ``extra["records"]`` = all of them.
  ``Record.id`` is the recordset id, so ``get_record``/``update_record``/``delete_record`` act on the whole
  recordset. To give a name several values, pass ``extra={"records": [...]}`` to ``create_record`` or
  ``update_record`` (it wins over ``data``); creating a second recordset with the same name and type raises
  :class:`~asynccloud.errors.RecordAlreadyExistsError`.
* Names: ``Zone.domain`` has no trailing dot (``"example.org"``; ``extra["name"]`` keeps Designate's
  ``"example.org."``); ``Record.name`` is zone-relative (``""`` for the apex, a trailing dot = absolute).
* Changes are asynchronous (``202``, ``status: PENDING``): every create/update waits, with
  :func:`~asynccloud._polling.poll_until`, for ``ACTIVE`` (``ERROR`` raises ``OperationFailedError``),
  deletes wait for the item to be gone; ``wait_timeout`` bounds each wait.
* Listings follow ``links.next`` to the end.
* ``create_zone(domain, ttl=, extra={"email": ..., "description": ...})``; ``type="slave"`` makes a
  ``SECONDARY`` zone and needs ``extra["masters"]``.

Usage::

    DNS = get_driver(DriverType.DNS, Provider.OPENSTACK)
    async with DNS("demo", "secret", auth_url="https://keystone:5000/v3", tenant_name="demo") as dns:
        zone = await dns.create_zone("example.org", extra={"email": "hostmaster@example.org"})
        both = {"records": ["192.0.2.10", "192.0.2.11"]}
        await zone.create_record("www", RecordType.A, "192.0.2.10", extra=both)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Unpack

from asynccloud._capability import Capability
from asynccloud._json import MalformedJson, identifier, json_object, objects, optional, require
from asynccloud._pagination import link_pages
from asynccloud._polling import poll_until
from asynccloud.drivers._dns_names import absolute, fqdn, relative
from asynccloud.drivers._kinds import DNSDriverBase
from asynccloud.drivers.openstack._common import OpenStackDriverBase, OpenStackOptions
from asynccloud.drivers.openstack._service_errors import ServiceErrorPolicy
from asynccloud.errors import (
    ConfigurationError,
    ProviderError,
    RecordAlreadyExistsError,
    RecordNotFoundError,
    ZoneAlreadyExistsError,
    ZoneNotFoundError,
)
from asynccloud.models import Record, RecordType, Zone, ZoneType

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

__all__ = ["DesignateDNSDriver"]


def _classify(path: str, status: int) -> type[ProviderError] | None:
    record = "/recordsets" in path
    if status == 404 and "/zones" in path:
        return RecordNotFoundError if record else ZoneNotFoundError
    if status == 409 and "/zones" in path:
        return RecordAlreadyExistsError if record else ZoneAlreadyExistsError
    return None


class DesignateDNSDriver(OpenStackDriverBase, DNSDriverBase):
    """OpenStack Designate (DNS v2).

    Args:
        key: User name or application credential id.
        secret: Password or application credential secret.
        wait_timeout: Seconds to wait for a change to become ``ACTIVE`` (or a delete to finish).
        wait_interval: First pause between status polls (grows up to ``10 * wait_interval``).
        page_size: Items per listing page.
        **options: Identity, endpoint and HTTP options (``OpenStackOptions``).
    """

    provider: ClassVar[str] = "openstack"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.ZONE_UPDATE})
    default_service_type: ClassVar[str] = "dns"
    record_types: tuple[RecordType, ...] = (
        RecordType.A,
        RecordType.AAAA,
        RecordType.CAA,
        RecordType.CNAME,
        RecordType.MX,
        RecordType.NAPTR,
        RecordType.NS,
        RecordType.PTR,
        RecordType.SOA,
        RecordType.SPF,
        RecordType.SRV,
        RecordType.SSHFP,
        RecordType.TXT,
    )

    def __init__(
        self,
        key: str | None = None,
        secret: str | None = None,
        *,
        wait_timeout: float = 300.0,
        wait_interval: float = 1.0,
        page_size: int = 100,
        **options: Unpack[OpenStackOptions],
    ) -> None:
        for name, value in (("wait_timeout", wait_timeout), ("wait_interval", wait_interval)):
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ConfigurationError(f"{name} must be a positive number of seconds, got {value!r}")
        if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
            raise ConfigurationError(f"page_size must be a positive int, got {page_size!r}")
        self._wait_timeout = float(wait_timeout)
        self._wait_interval = float(wait_interval)
        self._page_size = page_size
        self._http = self._setup_openstack(
            key,
            secret,
            options,
            error_policy=ServiceErrorPolicy(_classify),
            headers={"Accept": "application/json"},
        )

    async def _url(self, path: str) -> str:
        base = await self._service_url()
        if not base.rstrip("/").endswith("/v2"):
            base = f"{base}/v2"
        return f"{base}{path}"

    # ----------------------------------------------------------------------------------------- waits

    async def _wait(self, url: str, what: str, *, gone: bool = False) -> dict[str, Any] | None:
        """Poll ``url`` until its ``status`` is ``ACTIVE`` (or, with ``gone``, until it answers 404)."""

        async def fetch() -> dict[str, Any] | None:
            response = await self._http.request("GET", url, ok={404} if gone else ())
            if response.status_code == 404:
                return None
            state = json_object(response)
            require(state, "status", str, "recordset" if "/recordsets/" in url else "zone")  # else: no end
            return state

        def failed(state: dict[str, Any] | None) -> str | None:
            if state is not None and state.get("status") == "ERROR":
                return f"status ERROR (action {state.get('action')})"
            return None

        return await poll_until(
            fetch,
            (lambda s: s is None) if gone else (lambda s: s is not None and s.get("status") == "ACTIVE"),
            failed=failed,
            timeout=self._wait_timeout,
            interval=self._wait_interval,
            max_interval=10 * self._wait_interval,
            what=what,
            describe=lambda s: "gone" if s is None else f"status {s.get('status')} action {s.get('action')}",
        )

    async def _settle(self, raw: dict[str, Any], url: str, what: str) -> dict[str, Any]:
        if raw.get("status") == "ACTIVE":
            return raw
        state = await self._wait(url, what)
        assert state is not None
        return state

    # ----------------------------------------------------------------------------------------- zones

    def _zone(self, raw: Mapping[str, Any]) -> Zone:
        name = require(raw, "name", str, "zone")
        keys = ("email", "description", "status", "action", "serial", "masters", "pool_id", "created_at")
        extra = {k: raw[k] for k in keys if raw.get(k) not in (None, "", [])}
        extra["name"] = name
        secondary = (optional(raw, "type", str, "zone") or "").upper() == "SECONDARY"
        return self.bind(
            Zone(
                id=identifier(raw, "id", "zone"),
                domain=name.rstrip("."),
                type=ZoneType.SLAVE if secondary else ZoneType.MASTER,
                ttl=optional(raw, "ttl", int, "zone"),
                extra=extra,
            )
        )

    async def _pages(self, path: str, key: str) -> AsyncIterator[dict[str, Any]]:
        async def fetch(url: str) -> tuple[list[dict[str, Any]], str | None]:
            params = None if "?" in url else {"limit": self._page_size}
            body = json_object(await self._http.request("GET", url, params=params))
            links = optional(body, "links", dict) or {}
            return objects(body, key), optional(links, "next", str, "links")

        # A paginator, not a generator around one: abandoned by a failing consumer, it needs no finalizing.
        return link_pages(fetch, await self._url(path), provider=self.provider)

    async def iterate_zones(self) -> AsyncIterator[Zone]:
        """Every zone of the project (follows ``links.next`` to the end)."""
        async for raw in await self._pages("/zones", "zones"):
            yield self._zone(raw)

    async def get_zone(self, zone_id: str) -> Zone:
        """One zone by id.

        Raises:
            ZoneNotFoundError: No such zone.
        """
        return self._zone(json_object(await self._http.request("GET", await self._url(f"/zones/{zone_id}"))))

    async def create_zone(
        self,
        domain: str,
        *,
        type: str = "master",
        ttl: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Zone:
        """Create a zone and wait for it to be ``ACTIVE``.

        Raises:
            ConfigurationError: A master zone without ``extra["email"]``, a slave one without ``masters``.
            ZoneAlreadyExistsError: The zone exists.
            OperationFailedError: It went to ``ERROR``; OperationTimeoutError: not active in time.
        """
        extra = dict(extra or {})
        body: dict[str, Any] = {"name": absolute(domain)}
        if str(type).lower() == ZoneType.SLAVE.value:
            if not extra.get("masters"):
                raise ConfigurationError('a secondary zone needs extra={"masters": ["192.0.2.1", ...]}')
            body.update(type="SECONDARY", masters=list(extra["masters"]))
        elif str(type).lower() == ZoneType.MASTER.value:
            if not extra.get("email"):
                raise ConfigurationError('Designate needs a contact e-mail: extra={"email": ...}')
            body.update(type="PRIMARY", email=extra["email"])
        else:
            raise ConfigurationError(f"zone type must be 'master' or 'slave', got {type!r}")
        ttl = ttl if ttl is not None else extra.get("ttl")
        if ttl is not None:
            body["ttl"] = int(ttl)
        if extra.get("description"):
            body["description"] = extra["description"]
        raw = json_object(await self._http.request("POST", await self._url("/zones"), json=body))
        url = await self._url(f"/zones/{identifier(raw, 'id', 'zone')}")
        return self._zone(await self._settle(raw, url, f"zone {body['name']} to be ACTIVE"))

    async def update_zone(
        self, zone: Zone, *, ttl: int | None = None, extra: Mapping[str, Any] | None = None
    ) -> Zone:
        """Change a zone's TTL, ``extra["email"]`` or ``extra["description"]``; waits for ``ACTIVE``."""
        extra = dict(extra or {})
        body: dict[str, Any] = {k: extra[k] for k in ("email", "description") if k in extra}
        if ttl is not None:
            body["ttl"] = int(ttl)
        if not body:
            return zone
        url = await self._url(f"/zones/{zone.id}")
        raw = json_object(await self._http.request("PATCH", url, json=body))
        return self._zone(await self._settle(raw, url, f"zone {zone.domain} update to be ACTIVE"))

    async def delete_zone(self, zone: Zone) -> None:
        """Delete a zone and wait until it is gone.

        Raises:
            ZoneNotFoundError: No such zone.
        """
        url = await self._url(f"/zones/{zone.id}")
        await self._http.request("DELETE", url)
        await self._wait(url, f"zone {zone.domain} to be deleted", gone=True)

    # --------------------------------------------------------------------------------------- records

    def _record(self, raw: Mapping[str, Any], zone_name: str | None = None) -> Record | None:
        type_name = require(raw, "type", str, "recordset").upper()
        try:
            rtype = RecordType(type_name)
        except ValueError:
            return None  # a type this SDK has no name for
        zone_name = optional(raw, "zone_name", str, "recordset") or zone_name or ""
        values = optional(raw, "records", list, "recordset") or []
        if not all(isinstance(value, str) for value in values):
            raise MalformedJson("recordset.records holds a value that is not a string")
        absolute_name = require(raw, "name", str, "recordset")
        keys = ("description", "status", "action", "version", "created_at", "updated_at")
        extra: dict[str, Any] = {k: raw[k] for k in keys if raw.get(k) not in (None, "")}
        extra.update(records=values, fqdn=absolute_name)
        return self.bind(
            Record(
                id=identifier(raw, "id", "recordset"),
                name=relative(absolute_name, zone_name),
                type=rtype,
                data=values[0] if values else "",
                zone_id=identifier(raw, "zone_id", "recordset"),
                ttl=optional(raw, "ttl", int, "recordset"),
                extra=extra,
            )
        )

    def _checked(self, raw: Mapping[str, Any], zone_name: str | None = None) -> Record:
        record = self._record(raw, zone_name)
        if record is None:
            raise ProviderError(f"unsupported record type {raw.get('type')!r}", provider=self.provider)
        return record

    async def iterate_records(self, zone: Zone) -> AsyncIterator[Record]:
        """Every recordset of a zone as a record (follows ``links.next`` to the end)."""
        zone_name = str(zone.extra.get("name") or absolute(zone.domain))
        async for raw in await self._pages(f"/zones/{zone.id}/recordsets", "recordsets"):
            record = self._record(raw, zone_name)
            if record is not None:
                yield record

    async def get_record(self, zone_id: str, record_id: str) -> Record:
        """One recordset by id.

        Raises:
            ZoneNotFoundError / RecordNotFoundError: No such zone or recordset.
        """
        url = await self._url(f"/zones/{zone_id}/recordsets/{record_id}")
        return self._checked(json_object(await self._http.request("GET", url)))

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
        """Create a recordset (``extra["records"]`` for several values) and wait for it to be ``ACTIVE``.

        Raises:
            RecordAlreadyExistsError: A recordset of that name and type exists.
            OperationFailedError: It went to ``ERROR``; OperationTimeoutError: not active in time.
        """
        extra = dict(extra or {})
        zone_name = str(zone.extra.get("name") or absolute(zone.domain))
        body: dict[str, Any] = {
            "name": fqdn(name, zone_name),
            "type": self._type(type).value,
            "records": list(extra.get("records") or [data]),
        }
        ttl = ttl if ttl is not None else extra.get("ttl")
        if ttl is not None:
            body["ttl"] = int(ttl)
        if extra.get("description"):
            body["description"] = extra["description"]
        url = await self._url(f"/zones/{zone.id}/recordsets")
        raw = json_object(await self._http.request("POST", url, json=body))
        what = f"{body['type']} recordset {body['name']} to be ACTIVE"
        record_url = f"{url}/{identifier(raw, 'id', 'recordset')}"
        return self._checked(await self._settle(raw, record_url, what), zone_name)

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
        """Replace a recordset's values (``data``, or ``extra["records"]``), TTL or description.

        Raises:
            ConfigurationError: A change of name or type (Designate cannot; delete and re-create).
        """
        if (name is not None and name != record.name) or (
            type is not None and self._type(type) is not record.type
        ):
            raise ConfigurationError("Designate cannot rename a recordset or change its type; re-create it")
        extra = dict(extra or {})
        body: dict[str, Any] = {}
        if extra.get("records"):
            body["records"] = list(extra["records"])
        elif data is not None:
            body["records"] = [data]
        ttl = ttl if ttl is not None else extra.get("ttl")
        if ttl is not None:
            body["ttl"] = int(ttl)
        if "description" in extra:
            body["description"] = extra["description"]
        if not body:
            return record
        url = await self._url(f"/zones/{record.zone_id}/recordsets/{record.id}")
        raw = json_object(await self._http.request("PUT", url, json=body))
        return self._checked(await self._settle(raw, url, f"recordset {record.id} update to be ACTIVE"))

    async def delete_record(self, record: Record) -> None:
        """Delete the recordset and wait until it is gone.

        Raises:
            RecordNotFoundError: No such recordset.
        """
        url = await self._url(f"/zones/{record.zone_id}/recordsets/{record.id}")
        await self._http.request("DELETE", url)
        await self._wait(url, f"recordset {record.id} to be deleted", gone=True)

    def _type(self, value: RecordType | str) -> RecordType:
        try:
            rtype = RecordType(str(value).upper())
        except ValueError:
            rtype = None
        if rtype is None or rtype not in self.record_types:
            supported = ", ".join(t.value for t in self.record_types)
            raise ConfigurationError(f"Designate does not support {value!r} records; supported: {supported}")
        return rtype
