"""Amazon Route 53 DNS driver (``Provider.AWS``, DNS): hosted zones and their resource record sets.

* **Zones** are hosted zones: ``Zone.id`` is the id without ``/hostedzone/`` (``Z0123ABC``), ``domain`` the
  name without its final dot. ``extra``: ``comment``, ``private``, ``caller_reference``, ``record_count``
  and, from get/create, ``name_servers``. ``create_zone(domain, extra={"comment": ..., "caller_reference":
  ...})`` sends a fresh ``CallerReference`` (so the POST is safely retried); ``update_zone(zone,
  extra={"comment": ...})`` changes the comment (Route 53 zones have no TTL). Deleting a zone that still
  holds records other than its SOA/NS raises :class:`~asynccloud.errors.ConflictError`.
* **Records** are record sets, **one Record per record set**: ``data`` is the first value,
  ``extra["records"]`` all of them (create/update a multi-value set with ``extra={"records": [...]}``).
  ``Record.id`` is ``"<TYPE>:<fqdn>"`` (``"A:www.example.com."``), plus ``":<SetIdentifier>"`` for sets with
  a routing policy, so ids round-trip through :meth:`Route53DNSDriver.get_record`. Names are relative to the
  zone (``""`` for the apex). TXT/SPF values are DNS presentation strings: an unquoted value is quoted on
  the way in. Alias record sets carry ``extra["alias"] = {"hosted_zone_id", "dns_name",
  "evaluate_target_health"}`` (pass the same on create) and ``data`` is the alias target. The apex SOA and NS
  sets Route 53 manages are listed with ``extra["managed"] = True``.
* **Changes** are applied by Route 53 asynchronously: each write returns a change (``extra["change_id"]``,
  ``extra["change_status"]``). With ``wait=True`` (driver option, or ``extra={"wait": True}`` per call) the
  driver polls GetChange with :func:`~asynccloud._polling.poll_until` until it is ``INSYNC``
  (``change_timeout`` seconds at most). :meth:`Route53DNSDriver.wait_for_change` does it on demand.
* Updating a record's values or TTL is one ``UPSERT``; renaming it or changing its type is a ``DELETE`` of the
  old set and a ``CREATE`` of the new one in a single atomic batch.

Usage::

    DNS = get_driver(DriverType.DNS, Provider.AWS)
    async with DNS(wait=True) as dns:                                    # credentials from env/files
        zone = await dns.create_zone("example.com", extra={"comment": "demo"})
        await zone.create_record("www", RecordType.A, "192.0.2.10", ttl=300,
                                 extra={"records": ["192.0.2.10", "192.0.2.11"]})
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, ClassVar, Final, Unpack

from asynccloud._capability import Capability
from asynccloud._pagination import token_pages
from asynccloud._polling import poll_until
from asynccloud.auth.sigv4 import SigV4Auth
from asynccloud.drivers._http_driver import HttpDriverBase, HttpOptions
from asynccloud.drivers._kinds import DNSDriverBase
from asynccloud.drivers.aws._common import aws_dns_suffix, parse_endpoint, resolve_aws_settings
from asynccloud.drivers.aws._route53_errors import Route53ErrorPolicy
from asynccloud.drivers.aws._route53_xml import (
    ChangeInfo,
    HostedZone,
    RecordSet,
    build_change_batch,
    build_create_hosted_zone,
    build_update_comment,
    parse_change_info,
    parse_hosted_zone,
    parse_list_hosted_zones,
    parse_list_record_sets,
)
from asynccloud.errors import ConfigurationError, NotSupportedError, RecordNotFoundError
from asynccloud.models import Record, RecordType, Zone, ZoneType

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping, Sequence

    from asynccloud.drivers.aws._route53_xml import RecordCursor

__all__ = ["API_VERSION", "Route53DNSDriver", "record_id"]

API_VERSION: Final = "2013-04-01"
#: Route 53 serves at most 100 zones / 300 record sets a page.
MAX_ZONE_PAGE: Final = 100
MAX_RECORD_PAGE: Final = 300
_QUOTED_TYPES: Final = frozenset({RecordType.TXT, RecordType.SPF})


def record_id(rtype: str, fqdn: str, set_identifier: str | None = None) -> str:
    """The id of a record set: ``"A:www.example.com."`` (``":<SetIdentifier>"`` appended when it has one)."""
    base = f"{rtype.upper()}:{fqdn if fqdn.endswith('.') else fqdn + '.'}"
    return f"{base}:{set_identifier}" if set_identifier is not None else base


def _split_id(value: str) -> tuple[str, str, str | None]:
    # Route 53 escapes ':' in names (\072), so the first ':' after the type ends the name.
    rtype, sep, rest = value.partition(":")
    fqdn, has_set, set_identifier = rest.partition(":")
    if not sep or not rtype or not fqdn:
        raise ConfigurationError(f"not a Route 53 record id (expected 'TYPE:fqdn.'): {value!r}")
    return rtype.upper(), fqdn if fqdn.endswith(".") else fqdn + ".", set_identifier if has_set else None


def _quote(value: str) -> str:
    if value.startswith('"'):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _positive(name: str, value: float, *, integer: bool = False) -> None:
    kinds = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or value <= 0:
        raise ConfigurationError(f"{name} must be a positive {'int' if integer else 'number'}, got {value!r}")


class Route53DNSDriver(HttpDriverBase, DNSDriverBase):
    """DNS on Amazon Route 53 (global service; requests are signed for ``us-east-1``).

    Args:
        key: Access key id (else the environment and shared files are used).
        secret: Secret access key.
        token: Session token of temporary credentials.
        region: Only picks the partition (``cn-*`` -> ``route53.amazonaws.com.cn``); Route 53 is global.
        endpoint: Base URL overriding ``https://route53.amazonaws.com`` (moto: ``http://127.0.0.1:5000``).
        profile: Profile of the shared credentials/config files.
        wait: Wait for every change to be ``INSYNC`` before returning (per call: ``extra={"wait": ...}``).
        change_timeout: Seconds a wait lasts before ``OperationTimeoutError``.
        change_interval: First pause between GetChange polls, in seconds.
        page_size: Items asked for per listing page (``maxitems``).
        **options: The portable HTTP options (``timeout``, ``retry``, ``http_client``, ``transport``, ...).

    Raises:
        ConfigurationError: No credentials were found, or an option is invalid.
    """

    provider: ClassVar[str] = "aws"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.ZONE_UPDATE})
    record_types: tuple[RecordType, ...] = (
        RecordType.A,
        RecordType.AAAA,
        RecordType.CAA,
        RecordType.CNAME,
        RecordType.DS,
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
        token: str | None = None,
        region: str | None = None,
        endpoint: str | None = None,
        profile: str | None = None,
        wait: bool = False,
        change_timeout: float = 300.0,
        change_interval: float = 2.0,
        page_size: int = MAX_ZONE_PAGE,
        **options: Unpack[HttpOptions],
    ) -> None:
        _positive("change_timeout", change_timeout)
        _positive("change_interval", change_interval)
        _positive("page_size", page_size, integer=True)
        self._wait = bool(wait)
        self._change_timeout = float(change_timeout)
        self._change_interval = float(change_interval)
        self._page_size = page_size
        aws = resolve_aws_settings(key, secret, token, region=region, profile=profile)
        self.region = aws.region
        signing_region = "cn-northwest-1" if aws.region.startswith("cn-") else "us-east-1"
        base = parse_endpoint(endpoint or f"https://route53.{aws_dns_suffix(aws.region)}")
        self._base = f"{str(base).rstrip('/')}/{API_VERSION}"
        self._domains: dict[str, str] = {}  # zone id -> "example.com." (for relative record names)
        secrets = [aws.credentials.secret_access_key, aws.credentials.session_token or ""]
        self._http = self._open_http(
            HttpOptions(**options),
            auth=SigV4Auth(aws.credentials, signing_region, "route53"),
            error_policy=Route53ErrorPolicy(self.provider),
            headers={"Content-Type": "application/xml"},
            secrets=[s for s in secrets if s],
        )

    @property
    def endpoint(self) -> str:
        """The API base URL requests go to (with the API version)."""
        return self._base

    # ------------------------------------------------------------------------------------------ changes

    async def get_change(self, change_id: str) -> ChangeInfo:
        """The status of a change (GetChange): ``PENDING`` or ``INSYNC``."""
        change = change_id.rpartition("/")[2]
        response = await self._http.request("GET", f"{self._base}/change/{change}")
        return parse_change_info(response.content)

    async def wait_for_change(self, change_id: str, *, timeout: float | None = None) -> ChangeInfo:
        """Poll GetChange until the change is ``INSYNC``.

        Args:
            change_id: The change's id (``extra["change_id"]`` of a zone or record).
            timeout: Seconds before ``OperationTimeoutError``; default the driver's ``change_timeout``.
        """
        return await poll_until(
            lambda: self.get_change(change_id),
            lambda info: info.status == "INSYNC",
            timeout=self._change_timeout if timeout is None else timeout,
            interval=self._change_interval,
            max_interval=max(self._change_interval * 10, self._change_interval),
            what=f"Route 53 change {change_id} to be INSYNC",
            describe=lambda info: info.status,
        )

    async def _settle(self, change: ChangeInfo | None, extra: Mapping[str, Any] | None) -> ChangeInfo | None:
        wait = self._wait if extra is None or "wait" not in extra else bool(extra["wait"])
        if change is not None and wait and change.status != "INSYNC":
            return await self.wait_for_change(change.id)
        return change

    async def _change(
        self, zone_id: str, changes: Sequence[tuple[str, RecordSet]], extra: Mapping[str, Any] | None
    ) -> ChangeInfo | None:
        comment = extra.get("change_comment") if extra else None
        # A batch is declarative and all-or-nothing: a replay is a no-op (UPSERT) or refused as a whole
        # (CREATE of an existing set, DELETE of a missing one), so throttled attempts may be resent.
        response = await self._http.request(
            "POST",
            f"{self._base}/hostedzone/{zone_id}/rrset/",
            content=build_change_batch(changes, comment),
            idempotent=True,
        )
        return await self._settle(parse_change_info(response.content), extra)

    # -------------------------------------------------------------------------------------------- zones

    def _zone(self, hosted: HostedZone, change: ChangeInfo | None = None) -> Zone:
        self._domains[hosted.id] = hosted.name if hosted.name.endswith(".") else hosted.name + "."
        extra: dict[str, Any] = {"private": hosted.private}
        for key in ("comment", "caller_reference", "record_count"):
            value = getattr(hosted, key)
            if value is not None:
                extra[key] = value
        if hosted.name_servers:
            extra["name_servers"] = list(hosted.name_servers)
        if change is not None:
            extra.update(change_id=change.id, change_status=change.status)
        zone = Zone(id=hosted.id, domain=hosted.name.rstrip("."), type=ZoneType.MASTER, extra=extra)
        return self.bind(zone)

    async def iterate_zones(self) -> AsyncIterator[Zone]:
        """Every hosted zone of the account (ListHostedZones, following ``NextMarker`` to the end)."""

        async def fetch(marker: str | None) -> tuple[list[HostedZone], str | None]:
            params = {"maxitems": str(min(self._page_size, MAX_ZONE_PAGE))}
            if marker:
                params["marker"] = marker
            response = await self._http.request("GET", f"{self._base}/hostedzone", params=params)
            return parse_list_hosted_zones(response.content)

        async for hosted in token_pages(fetch, provider=self.provider):
            yield self._zone(hosted)

    async def get_zone(self, zone_id: str) -> Zone:
        """One hosted zone with its name servers; ``ZoneNotFoundError`` if there is none."""
        response = await self._http.request("GET", f"{self._base}/hostedzone/{_zone_id(zone_id)}")
        hosted, _ = parse_hosted_zone(response.content)
        return self._zone(hosted)

    async def create_zone(
        self,
        domain: str,
        *,
        type: str = "master",
        ttl: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Zone:
        """Create a public hosted zone.

        Args:
            domain: The zone's name (``"example.com"``).
            type: Only ``"master"``: Route 53 has no secondary zones.
            ttl: Not supported (Route 53 zones have no TTL); must be ``None``.
            extra: ``comment``, ``caller_reference`` (default: a fresh UUID), ``wait``.

        Raises:
            ZoneAlreadyExistsError: A zone with this caller reference exists already.
        """
        if str(type).lower() != ZoneType.MASTER:
            raise NotSupportedError(self.provider, f"{type} zones")
        if ttl is not None:
            raise ConfigurationError("Route 53 hosted zones have no TTL; set TTLs on records")
        extra = dict(extra or {})
        name = domain.strip().rstrip(".")
        if not name:
            raise ConfigurationError("domain must be a non-empty name")
        reference = str(extra.get("caller_reference") or uuid.uuid4())
        body = build_create_hosted_zone(name + ".", reference, extra.get("comment"))
        response = await self._http.request(
            "POST", f"{self._base}/hostedzone", content=body, idempotency_key=True
        )
        hosted, change = parse_hosted_zone(response.content)
        return self._zone(hosted, await self._settle(change, extra))

    async def update_zone(
        self, zone: Zone, *, ttl: int | None = None, extra: Mapping[str, Any] | None = None
    ) -> Zone:
        """Change a zone's comment (``extra={"comment": "..."}``); Route 53 zones have no TTL."""
        if ttl is not None:
            raise ConfigurationError("Route 53 hosted zones have no TTL; set TTLs on records")
        if not extra or "comment" not in extra:
            raise ConfigurationError("update_zone needs extra={'comment': ...} (the only setting of a zone)")
        response = await self._http.request(
            "POST",
            f"{self._base}/hostedzone/{_zone_id(zone.id)}",
            content=build_update_comment(str(extra["comment"] or "")),
            idempotent=True,  # setting a value twice is harmless
        )
        hosted, _ = parse_hosted_zone(response.content)
        return self._zone(hosted)

    async def delete_zone(self, zone: Zone) -> None:
        """Delete a hosted zone; ``ConflictError`` while it holds records other than its SOA/NS."""
        response = await self._http.request("DELETE", f"{self._base}/hostedzone/{_zone_id(zone.id)}")
        self._domains.pop(zone.id, None)
        await self._settle(parse_change_info(response.content), None)

    # ------------------------------------------------------------------------------------------ records

    async def _origin(self, zone_id: str) -> str:
        if zone_id not in self._domains:
            await self.get_zone(zone_id)
        return self._domains[zone_id]

    def _fqdn(self, name: str, origin: str) -> str:
        name = name.strip()
        if name.endswith("."):
            return name
        return f"{name}.{origin}" if name and name != "@" else origin

    def _record(
        self, rrset: RecordSet, zone_id: str, origin: str, change: ChangeInfo | None = None
    ) -> Record | None:
        try:
            rtype = RecordType(rrset.type)
        except ValueError:
            return None  # a type this SDK has no name for
        fqdn = rrset.name if rrset.name.endswith(".") else rrset.name + "."
        name = "" if fqdn == origin else fqdn[: -len(origin) - 1] if fqdn.endswith("." + origin) else fqdn
        values = list(rrset.values)
        extra: dict[str, Any] = {"fqdn": fqdn, "records": values, **rrset.policy}
        if rrset.set_identifier is not None:
            extra["set_identifier"] = rrset.set_identifier
        if rrset.alias is not None:
            extra["alias"] = dict(rrset.alias)
        if fqdn == origin and rtype in (RecordType.SOA, RecordType.NS):
            extra["managed"] = True
        if change is not None:
            extra.update(change_id=change.id, change_status=change.status)
        data = values[0] if values else (rrset.alias or {}).get("dns_name", "")
        record = Record(
            id=record_id(rrset.type, fqdn, rrset.set_identifier),
            name=name,
            type=rtype,
            data=str(data),
            zone_id=zone_id,
            ttl=rrset.ttl,
            extra=extra,
        )
        return self.bind(record)

    async def _list_sets(
        self, zone_id: str, start: RecordCursor | None, page_size: int
    ) -> tuple[list[RecordSet], RecordCursor | None]:
        params = {"maxitems": str(page_size)}
        if start is not None:
            params["name"], params["type"] = start[0], start[1]
            if start[2] is not None:
                params["identifier"] = start[2]
        response = await self._http.request("GET", f"{self._base}/hostedzone/{zone_id}/rrset", params=params)
        return parse_list_record_sets(response.content)

    async def iterate_records(self, zone: Zone) -> AsyncIterator[Record]:
        """Every record set of a zone (following ``NextRecordName``/``Type``/``Identifier`` to the end)."""
        zone_id = _zone_id(zone.id)
        origin = await self._origin(zone_id)
        size = min(self._page_size, MAX_RECORD_PAGE)

        async def fetch(cursor: RecordCursor | None) -> tuple[list[RecordSet], RecordCursor | None]:
            return await self._list_sets(zone_id, cursor, size)

        async for rrset in token_pages(fetch, provider=self.provider):
            record = self._record(rrset, zone_id, origin)
            if record is not None:
                yield record

    async def _find(self, zone_id: str, rid: str) -> RecordSet:
        rtype, fqdn, set_identifier = _split_id(rid)
        sets, _ = await self._list_sets(
            zone_id, (fqdn, rtype, set_identifier), 1 if set_identifier is None else 10
        )
        for rrset in sets:
            name = rrset.name if rrset.name.endswith(".") else rrset.name + "."
            if (name.lower(), rrset.type, rrset.set_identifier) == (fqdn.lower(), rtype, set_identifier):
                return rrset
        raise RecordNotFoundError(f"no record set {rid!r} in zone {zone_id}", provider=self.provider)

    async def get_record(self, zone_id: str, record_id: str) -> Record:
        """The record set with this id (``"A:www.example.com."``); ``RecordNotFoundError`` if absent."""
        zone_id = _zone_id(zone_id)
        origin = await self._origin(zone_id)
        record = self._record(await self._find(zone_id, record_id), zone_id, origin)
        if record is None:
            raise RecordNotFoundError(f"record {record_id!r} has an unsupported type", provider=self.provider)
        return record

    def _build_set(
        self, fqdn: str, rtype: RecordType, data: str, ttl: int | None, extra: Mapping[str, Any]
    ) -> RecordSet:
        alias = extra.get("alias")
        policy = {
            k: str(extra[k])
            for k in ("weight", "region", "failover", "multi_value_answer", "health_check_id")
            if extra.get(k) is not None
        }
        if alias is not None:
            if not isinstance(alias, dict) or not {"hosted_zone_id", "dns_name"} <= alias.keys():
                raise ConfigurationError("extra['alias'] needs 'hosted_zone_id' and 'dns_name'")
            return RecordSet(fqdn, rtype.value, None, (), extra.get("set_identifier"), dict(alias), policy)
        raw = extra.get("records")
        values = [str(v) for v in raw] if raw else [data]
        if not all(values):
            raise ConfigurationError("a record needs data (or extra['records'] with its values)")
        if rtype in _QUOTED_TYPES:
            values = [_quote(v) for v in values]
        ttl = ttl if ttl is not None else extra.get("ttl", 300)
        return RecordSet(
            fqdn, rtype.value, int(ttl), tuple(values), extra.get("set_identifier"), None, policy
        )

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
        """Create a record set (``CREATE``); ``RecordAlreadyExistsError`` if it exists.

        Args:
            name: Relative to the zone (``""`` for the apex); a name ending in ``.`` is absolute.
            zone: The zone.
            type: The record type.
            data: The (first) value.
            ttl: Seconds; default 300.
            extra: ``records`` (all values of a multi-value set), ``alias``, ``set_identifier``, ``weight``,
                ``region``, ``failover``, ``multi_value_answer``, ``health_check_id``, ``wait``,
                ``change_comment``.
        """
        zone_id = _zone_id(zone.id)
        origin = await self._origin(zone_id)
        rrset = self._build_set(
            self._fqdn(name, origin), RecordType(str(type).upper()), data, ttl, extra or {}
        )
        change = await self._change(zone_id, [("CREATE", rrset)], extra)
        return self._checked(rrset, zone_id, origin, change)

    def _checked(self, rrset: RecordSet, zone_id: str, origin: str, change: ChangeInfo | None) -> Record:
        record = self._record(rrset, zone_id, origin, change)
        assert record is not None  # built from a RecordType
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
        """Change a record set; unset arguments keep their current value.

        Values and TTL change with one ``UPSERT``; a new name or type deletes the old set and creates the
        new one in one atomic batch. ``data`` replaces all values unless ``extra["records"]`` is given.
        """
        zone_id = _zone_id(record.zone_id)
        origin = await self._origin(zone_id)
        current = await self._find(zone_id, record.id)
        merged: dict[str, Any] = {}
        if current.set_identifier is not None:
            merged["set_identifier"] = current.set_identifier
        merged.update(current.policy)
        if current.alias is not None and data is None and not (extra and "records" in extra):
            merged["alias"] = current.alias
        elif data is None and not (extra and "records" in extra):
            merged["records"] = list(current.values)
        merged.update(extra or {})
        rtype = RecordType(str(type).upper()) if type is not None else RecordType(current.type)
        fqdn = self._fqdn(name, origin) if name is not None else current.name
        new = self._build_set(
            fqdn,
            rtype,
            data if data is not None else record.data,
            ttl if ttl is not None else current.ttl,
            merged,
        )
        same = (new.name.lower(), new.type, new.set_identifier) == (
            current.name.lower(),
            current.type,
            current.set_identifier,
        )
        changes = [("UPSERT", new)] if same else [("DELETE", current), ("CREATE", new)]
        change = await self._change(zone_id, changes, extra)
        return self._checked(new, zone_id, origin, change)

    async def delete_record(self, record: Record) -> None:
        """Delete a record set (its current values are read first, as Route 53 wants them all)."""
        zone_id = _zone_id(record.zone_id)
        current = await self._find(zone_id, record.id)
        await self._change(zone_id, [("DELETE", current)], None)


def _zone_id(value: str) -> str:
    """A hosted zone id without ``/hostedzone/``; refuses ids that would change the request path."""
    zone_id = value.strip().rpartition("/hostedzone/")[2] if "/hostedzone/" in value else value.strip()
    if not zone_id or not zone_id.isalnum():
        raise ConfigurationError(f"not a Route 53 hosted zone id: {value!r}")
    return zone_id
