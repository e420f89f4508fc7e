"""The DNS contract: the same portable zone and record scenarios on every DNS driver with a real server.

Drivers: Route 53 against moto server and PowerDNS Authoritative (both session fixtures, 127.0.0.1).
Allowed differences are stated where they arise: ids have each provider's own shape (they only need to
round-trip), host names come back with or without their final dot, and Route 53 refuses to delete a zone
that still holds records while PowerDNS deletes them with it (so scenarios empty a zone first).
"""

from __future__ import annotations

import contextlib
import uuid
from typing import TYPE_CHECKING

import pytest

from asynccloud import (
    RecordAlreadyExistsError,
    RecordNotFoundError,
    ZoneNotFoundError,
)
from asynccloud.drivers.aws import Route53DNSDriver
from asynccloud.drivers.powerdns import PowerDNSDriver
from asynccloud.models import RecordType

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from asynccloud.drivers.base import DNSDriver
    from asynccloud.models import Record, Zone

pytestmark = [pytest.mark.anyio, pytest.mark.integration, pytest.mark.timeout(120)]

#: A zone id each provider answers "no such zone" for (well-formed for it).
MISSING_ZONE = {"route53": "Z0000000000000000000", "powerdns": "missing.invalid."}
#: Record types every DNS driver must serve.
CORE_TYPES = {RecordType.A, RecordType.AAAA, RecordType.CNAME, RecordType.MX, RecordType.TXT}


@pytest.fixture(params=["route53", "powerdns"])
async def dns(request: pytest.FixtureRequest) -> AsyncIterator[DNSDriver]:
    driver: DNSDriver
    if request.param == "route53":
        moto: dict[str, str] = request.getfixturevalue("moto_server")
        driver = Route53DNSDriver(moto["access_key_id"], moto["secret_access_key"], endpoint=moto["endpoint"])
    else:
        pdns: dict[str, str] = request.getfixturevalue("pdns_server")
        driver = PowerDNSDriver(pdns["api_key"], endpoint=pdns["endpoint"])
    async with driver:
        yield driver


def kind(dns: DNSDriver) -> str:
    return "route53" if isinstance(dns, Route53DNSDriver) else "powerdns"


def unique_domain() -> str:
    return f"c{uuid.uuid4().hex[:12]}.example.com"


async def empty_and_delete(dns: DNSDriver, zone: Zone) -> None:
    for record in await dns.list_records(zone):
        if record.type not in (RecordType.SOA, RecordType.NS) or record.name:
            await dns.delete_record(record)
    await dns.delete_zone(zone)


@pytest.fixture
async def zone(dns: DNSDriver) -> AsyncIterator[Zone]:
    created = await dns.create_zone(unique_domain())
    yield created
    with contextlib.suppress(ZoneNotFoundError):  # unless the test deleted it
        await empty_and_delete(dns, created)


def by_key(records: list[Record]) -> dict[tuple[str, RecordType], Record]:
    return {(r.name, r.type): r for r in records}


async def test_record_types(dns: DNSDriver) -> None:
    assert set(await dns.list_record_types()) >= CORE_TYPES


async def test_zone_life_cycle(dns: DNSDriver) -> None:
    domain = unique_domain()
    created = await dns.create_zone(domain)
    assert created.domain == domain
    assert (await dns.get_zone(created.id)).domain == domain
    assert domain in [z.domain async for z in dns.iterate_zones()]
    # A new zone holds its apex SOA (NS too where the provider assigns name servers: Route 53 does, a
    # PowerDNS zone has the ones given in extra["nameservers"]).
    assert ("", RecordType.SOA) in by_key(await dns.list_records(created))
    await created.delete()
    with pytest.raises(ZoneNotFoundError):
        await dns.get_zone(created.id)
    assert domain not in [z.domain for z in await dns.list_zones()]


async def test_a_missing_zone(dns: DNSDriver) -> None:
    with pytest.raises(ZoneNotFoundError):
        await dns.get_zone(MISSING_ZONE[kind(dns)])


async def test_records_of_the_core_types(dns: DNSDriver, zone: Zone) -> None:
    a = await zone.create_record("www", RecordType.A, "192.0.2.10", ttl=300)
    aaaa = await zone.create_record("www", RecordType.AAAA, "2001:db8::10", ttl=300)
    cname = await zone.create_record("shop", RecordType.CNAME, f"www.{zone.domain}", ttl=300)
    mx = await zone.create_record("", RecordType.MX, f"10 mail.{zone.domain}", ttl=300)
    txt = await zone.create_record("", RecordType.TXT, "hello world", ttl=300)

    listed = by_key(await zone.list_records())
    assert listed[("www", RecordType.A)].data == "192.0.2.10"
    assert listed[("www", RecordType.AAAA)].data == "2001:db8::10"
    assert listed[("shop", RecordType.CNAME)].data.rstrip(".") == f"www.{zone.domain}"
    assert listed[("", RecordType.MX)].data.rstrip(".") == f"10 mail.{zone.domain}"
    assert listed[("", RecordType.TXT)].data == '"hello world"'  # a DNS string: quoted
    assert all(listed[(r.name, r.type)].ttl == 300 for r in (a, aaaa, cname, mx, txt))
    for record in (a, aaaa, cname, mx, txt):
        fetched = await dns.get_record(zone.id, record.id)  # ids round-trip
        assert (fetched.name, fetched.type, fetched.zone_id) == (record.name, record.type, zone.id)


async def test_several_values_under_one_name(dns: DNSDriver, zone: Zone) -> None:
    values = ["192.0.2.1", "192.0.2.2", "192.0.2.3"]
    record = await zone.create_record("api", RecordType.A, values[0], ttl=60, extra={"records": values})
    fetched = await dns.get_record(zone.id, record.id)
    assert sorted(fetched.extra["records"]) == values
    assert fetched.data in values
    assert fetched.ttl == 60


async def test_creating_an_existing_record_set_again_is_refused(dns: DNSDriver, zone: Zone) -> None:
    first = await zone.create_record("www", RecordType.A, "192.0.2.10", ttl=300)
    # The same set again (AWS and PowerDNS refuse any second set of a name and type; moto only an
    # identical one, so that is what the contract asks).
    with pytest.raises(RecordAlreadyExistsError):
        await zone.create_record("www", RecordType.A, "192.0.2.10", ttl=300)
    assert (await dns.get_record(zone.id, first.id)).data == "192.0.2.10"


async def test_updates(dns: DNSDriver, zone: Zone) -> None:
    www = await zone.create_record("www", RecordType.A, "192.0.2.10", ttl=300)
    changed = await www.update(data="192.0.2.20", ttl=600)
    assert (changed.data, changed.ttl) == ("192.0.2.20", 600)
    again = await dns.get_record(zone.id, www.id)
    assert (again.data, again.ttl) == ("192.0.2.20", 600)

    renamed = await again.update(name="web")
    assert renamed.name == "web"
    with pytest.raises(RecordNotFoundError):
        await dns.get_record(zone.id, www.id)
    moved = await dns.get_record(zone.id, renamed.id)
    assert (moved.data, moved.ttl) == ("192.0.2.20", 600)


async def test_deletes(dns: DNSDriver, zone: Zone) -> None:
    record = await zone.create_record("gone", RecordType.TXT, "bye", ttl=300)
    await record.delete()
    with pytest.raises(RecordNotFoundError):
        await dns.get_record(zone.id, record.id)
    assert ("gone", RecordType.TXT) not in by_key(await zone.list_records())
    with pytest.raises(RecordNotFoundError):
        await record.delete()
