"""Rackspace Cloud DNS v1.0 (``Provider.RACKSPACE``, DNS): domains as zones, their records, async jobs.

* Listings follow ``limit``/``offset`` paging (``totalEntries``, else the ``links`` ``rel=next``) to the end.
* Every change (``POST``/``PUT``/``DELETE``) answers ``202`` with a job (``jobId``, ``callbackUrl``); the
  driver polls ``GET {callbackUrl}?showDetails=true`` with :func:`~asynccloud._polling.poll_until` until the
  job is ``COMPLETED`` (``job_timeout`` seconds at most, first pause ``job_interval``). A job that ends in
  ``ERROR`` raises :class:`~asynccloud.errors.ZoneAlreadyExistsError` /
  :class:`~asynccloud.errors.RecordAlreadyExistsError` for a duplicate, the not-found errors for a vanished
  item, and :class:`~asynccloud.errors.OperationFailedError` (carrying the job's faults) otherwise.
* Cloud DNS names records by FQDN; :class:`~asynccloud.models.Record` names are zone-relative (``""`` for
  the apex, ``"www"``); a name ending in ``.`` is taken as absolute.
* ``create_zone(domain, extra={"email": ..., "comment": ...})``: the contact e-mail is required.
  ``create_record(..., ttl=, extra={"priority": ..., "comment": ...})`` (``extra["ttl"]`` works too);
  ``priority`` is required by the API for MX and SRV records.

Usage::

    DNS = get_driver(DriverType.DNS, Provider.RACKSPACE)
    async with DNS("username", "api-key") as dns:
        zone = await dns.create_zone("example.com", extra={"email": "hostmaster@example.com"})
        await zone.create_record("www", RecordType.A, "192.0.2.10", ttl=300)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Unpack

from asynccloud._capability import Capability
from asynccloud._json import json_object, objects, optional, require
from asynccloud._pagination import next_link, offset_pages
from asynccloud._polling import poll_until
from asynccloud.drivers._kinds import DNSDriverBase
from asynccloud.drivers.openstack._common import OpenStackDriverBase
from asynccloud.drivers.rackspace._common import CATALOG, PROVIDER, RackspaceOptions, openstack_options
from asynccloud.drivers.rackspace._dns_common import (
    DONE,
    classify,
    job_error,
    to_fqdn,
    to_record,
    to_zone,
)
from asynccloud.drivers.rackspace._errors import RackspaceErrorPolicy
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

    import httpx

__all__ = ["RackspaceDNSDriver"]

#: Cloud DNS serves at most 100 items a page.
MAX_PAGE_SIZE = 100


def _positive(name: str, value: float, *, integer: bool = False) -> None:
    kinds = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or value <= 0:
        raise ConfigurationError(f"{name} must be a positive {'int' if integer else 'number'}, got {value!r}")


class RackspaceDNSDriver(OpenStackDriverBase, DNSDriverBase):
    """Rackspace Cloud DNS.

    Args:
        username: The Rackspace user name (omit with ``auth=``).
        api_key: The account's API key.
        region: Any Rackspace region (Cloud DNS is global; the region only validates the account setup).
        job_timeout: Seconds to wait for an asynchronous job before ``OperationTimeoutError``.
        job_interval: First pause between job polls, in seconds (it grows up to ``10 * job_interval``).
        page_size: Items per listing page (at most 100).
        **options: ``auth=``, ``auth_url=``, ``interface=``, ``endpoint=`` and the portable HTTP options.

    Raises:
        ConfigurationError: Unknown region or option, invalid timing, or missing credentials.
    """

    provider: ClassVar[str] = PROVIDER
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.ZONE_UPDATE})
    default_service_type: ClassVar[str] = CATALOG["dns"][0]
    default_service_name: ClassVar[str | None] = CATALOG["dns"][1]
    record_types: tuple[RecordType, ...] = (
        RecordType.A,
        RecordType.AAAA,
        RecordType.CNAME,
        RecordType.MX,
        RecordType.NS,
        RecordType.PTR,
        RecordType.SRV,
        RecordType.TXT,
    )

    def __init__(
        self,
        username: str | None = None,
        api_key: str | None = None,
        *,
        region: str = "ord",
        job_timeout: float = 300.0,
        job_interval: float = 1.0,
        page_size: int = MAX_PAGE_SIZE,
        **options: Unpack[RackspaceOptions],
    ) -> None:
        _positive("job_timeout", job_timeout)
        _positive("job_interval", job_interval)
        _positive("page_size", page_size, integer=True)
        self._job_timeout = float(job_timeout)
        self._job_interval = float(job_interval)
        self._page_size = min(page_size, MAX_PAGE_SIZE)
        self._domains: dict[str, str] = {}  # zone id -> domain name, for record names
        stype, sname = CATALOG["dns"]
        self._http = self._setup_openstack(
            username,
            api_key,
            openstack_options(region, options, service_type=stype, service_name=sname),
            error_policy=RackspaceErrorPolicy(classify),
            headers={"Accept": "application/json"},
        )

    # ------------------------------------------------------------------------------------------ jobs

    async def _job(
        self,
        response: httpx.Response,
        what: str,
        *,
        not_found: type[ProviderError],
        conflict: type[ProviderError],
    ) -> dict[str, Any]:
        """Wait for the job a ``202`` answer started; return its final (``showDetails``) status."""
        job: dict[str, Any] = json_object(response) if response.content else {}
        if optional(job, "status", str, "job") not in DONE:
            url = optional(job, "callbackUrl", str, "job")
            if not url:
                job_id = optional(job, "jobId", str, "job")
                if not job_id:
                    return job  # answered synchronously
                url = f"{await self._service_url()}/status/{job_id}"

            async def fetch() -> dict[str, Any]:
                state = json_object(await self._http.request("GET", url, params={"showDetails": "true"}))
                require(state, "status", str, "job")  # without one, the wait would never end
                return state

            job = await poll_until(
                fetch,
                lambda state: state.get("status") in DONE,
                timeout=self._job_timeout,
                interval=self._job_interval,
                max_interval=10 * self._job_interval,
                what=what,
                describe=lambda state: f"job {state.get('jobId')} {state.get('status')}",
            )
        if job.get("status") == "ERROR":
            raise job_error(job, what, not_found=not_found, conflict=conflict)
        return job

    async def _zone_job(self, response: httpx.Response, what: str) -> dict[str, Any]:
        return await self._job(response, what, not_found=ZoneNotFoundError, conflict=ZoneAlreadyExistsError)

    @staticmethod
    def _result(job: Mapping[str, Any], key: str) -> dict[str, Any]:
        response = job.get("response")
        items = response.get(key) if isinstance(response, dict) else None
        if not isinstance(items, list) or not items or not isinstance(items[0], dict):
            raise ProviderError(
                f"Cloud DNS job {job.get('jobId')} completed without the created {key}",
                provider=PROVIDER,
            )
        return items[0]

    # ----------------------------------------------------------------------------------------- zones

    async def _domain(self, zone_id: str) -> str:
        if zone_id not in self._domains:
            await self.get_zone(zone_id)
        return self._domains[zone_id]

    def _zone(self, raw: Mapping[str, Any]) -> Zone:
        zone = to_zone(raw)
        self._domains[zone.id] = zone.domain
        return self.bind(zone)

    def _pages(self, path: str, key: str) -> AsyncIterator[dict[str, Any]]:
        async def fetch(offset: int, limit: int) -> tuple[list[dict[str, Any]], int | None]:
            url = f"{await self._service_url()}{path}"
            params = {"limit": limit, "offset": offset}
            body = json_object(await self._http.request("GET", url, params=params))
            items = objects(body, key)
            total = optional(body, "totalEntries", int)
            if total is None:
                total = None if next_link(optional(body, "links", list)) else offset + len(items)
            return items, total

        return offset_pages(fetch, page_size=self._page_size, short_page_ends=False, provider=PROVIDER)

    async def iterate_zones(self) -> AsyncIterator[Zone]:
        """Every domain of the account (follows the paging to the end)."""
        async for raw in self._pages("/domains", "domains"):
            yield self._zone(raw)

    async def get_zone(self, zone_id: str) -> Zone:
        """One domain by id (without its records).

        Raises:
            ZoneNotFoundError: No such domain.
        """
        url = f"{await self._service_url()}/domains/{zone_id}"
        params = {"showRecords": "false", "showSubdomains": "false"}
        return self._zone(json_object(await self._http.request("GET", url, params=params)))

    async def create_zone(
        self,
        domain: str,
        *,
        type: str = "master",
        ttl: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Zone:
        """Create a domain; ``extra["email"]`` (contact address) is required, ``extra["comment"]`` optional.

        Raises:
            ConfigurationError: No e-mail, or a zone type other than master.
            ZoneAlreadyExistsError: The domain exists (on this or another account).
            OperationFailedError: The job failed; OperationTimeoutError: it did not finish in time.
        """
        extra = dict(extra or {})
        if str(type).lower() != ZoneType.MASTER.value:
            raise ConfigurationError("Cloud DNS only hosts master zones")
        email = extra.pop("email", None) or extra.pop("emailAddress", None)
        if not email:
            raise ConfigurationError('Cloud DNS needs a contact e-mail: extra={"email": ...}')
        body: dict[str, Any] = {"name": domain.rstrip("."), "emailAddress": email}
        ttl = ttl if ttl is not None else extra.pop("ttl", None)
        if ttl is not None:
            body["ttl"] = int(ttl)
        if extra.get("comment"):
            body["comment"] = extra["comment"]
        url = f"{await self._service_url()}/domains"
        response = await self._http.request("POST", url, json={"domains": [body]})
        job = await self._zone_job(response, f"creating zone {domain!r}")
        return self._zone(self._result(job, "domains"))

    async def update_zone(
        self, zone: Zone, *, ttl: int | None = None, extra: Mapping[str, Any] | None = None
    ) -> Zone:
        """Change a domain's TTL, ``extra["email"]`` or ``extra["comment"]``; returns the updated zone."""
        extra = dict(extra or {})
        body: dict[str, Any] = {}
        if ttl is not None:
            body["ttl"] = int(ttl)
        email = extra.get("email") or extra.get("emailAddress")
        if email:
            body["emailAddress"] = email
        if "comment" in extra:
            body["comment"] = extra["comment"]
        if not body:
            return zone
        url = f"{await self._service_url()}/domains/{zone.id}"
        response = await self._http.request("PUT", url, json=body)
        await self._zone_job(response, f"updating zone {zone.domain!r}")
        return await self.get_zone(zone.id)

    async def delete_zone(self, zone: Zone) -> None:
        """Delete a domain and its records.

        Raises:
            ZoneNotFoundError: No such domain.
        """
        url = f"{await self._service_url()}/domains/{zone.id}"
        response = await self._http.request("DELETE", url)
        await self._zone_job(response, f"deleting zone {zone.domain!r}")
        self._domains.pop(zone.id, None)

    # --------------------------------------------------------------------------------------- records

    async def iterate_records(self, zone: Zone) -> AsyncIterator[Record]:
        """Every record of a domain (follows the paging to the end)."""
        self._domains.setdefault(zone.id, zone.domain)
        async for raw in self._pages(f"/domains/{zone.id}/records", "records"):
            yield self.bind(to_record(raw, zone.id, zone.domain))

    async def get_record(self, zone_id: str, record_id: str) -> Record:
        """One record by id (``"A-6822994"``).

        Raises:
            ZoneNotFoundError / RecordNotFoundError: No such domain or record.
        """
        domain = await self._domain(zone_id)
        url = f"{await self._service_url()}/domains/{zone_id}/records/{record_id}"
        return self.bind(to_record(json_object(await self._http.request("GET", url)), zone_id, domain))

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
        """Create a record; ``name`` is zone-relative (``""`` for the apex).

        ``extra`` may hold ``ttl`` (when the ``ttl`` argument is not given), ``priority`` (MX, SRV) and
        ``comment``.

        Raises:
            RecordAlreadyExistsError: An identical record exists.
            OperationFailedError: The job failed; OperationTimeoutError: it did not finish in time.
        """
        rtype = self._record_type(type)
        extra = dict(extra or {})
        body: dict[str, Any] = {"name": to_fqdn(name, zone.domain), "type": rtype.value, "data": data}
        ttl = ttl if ttl is not None else extra.get("ttl")
        if ttl is not None:
            body["ttl"] = int(ttl)
        for key in ("priority", "comment"):
            if extra.get(key) is not None:
                body[key] = extra[key]
        self._domains.setdefault(zone.id, zone.domain)
        url = f"{await self._service_url()}/domains/{zone.id}/records"
        response = await self._http.request("POST", url, json={"records": [body]})
        job = await self._job(
            response,
            f"creating {rtype.value} record {body['name']!r}",
            not_found=ZoneNotFoundError,
            conflict=RecordAlreadyExistsError,
        )
        return self.bind(to_record(self._result(job, "records"), zone.id, zone.domain))

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
        """Change a record's name, data, TTL, ``extra["priority"]`` or ``extra["comment"]``.

        Raises:
            ConfigurationError: A change of type (Cloud DNS cannot; delete and re-create the record).
            RecordNotFoundError: The record is gone.
        """
        if type is not None and self._record_type(type) is not record.type:
            raise ConfigurationError("Cloud DNS cannot change a record's type; delete and re-create it")
        extra = dict(extra or {})
        domain = await self._domain(record.zone_id)
        body: dict[str, Any] = {"name": to_fqdn(record.name if name is None else name, domain)}
        if data is not None:
            body["data"] = data
        ttl = ttl if ttl is not None else extra.get("ttl")
        if ttl is not None:
            body["ttl"] = int(ttl)
        for key in ("priority", "comment"):
            if extra.get(key) is not None:
                body[key] = extra[key]
        url = f"{await self._service_url()}/domains/{record.zone_id}/records/{record.id}"
        response = await self._http.request("PUT", url, json=body)
        await self._job(
            response,
            f"updating record {record.id}",
            not_found=RecordNotFoundError,
            conflict=RecordAlreadyExistsError,
        )
        return await self.get_record(record.zone_id, record.id)

    async def delete_record(self, record: Record) -> None:
        """Delete a record.

        Raises:
            RecordNotFoundError: The record is gone.
        """
        url = f"{await self._service_url()}/domains/{record.zone_id}/records/{record.id}"
        response = await self._http.request("DELETE", url)
        await self._job(
            response,
            f"deleting record {record.id}",
            not_found=RecordNotFoundError,
            conflict=RecordAlreadyExistsError,
        )

    def _record_type(self, value: RecordType | str) -> RecordType:
        try:
            rtype = RecordType(str(value).upper())
        except ValueError:
            rtype = None
        if rtype is None or rtype not in self.record_types:
            supported = ", ".join(t.value for t in self.record_types)
            raise ConfigurationError(f"Cloud DNS does not support {value!r} records; supported: {supported}")
        return rtype
