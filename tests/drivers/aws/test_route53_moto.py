"""The Route 53 DNS driver against moto server on 127.0.0.1: every portable verb, on asyncio and trio."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from asynccloud import DriverType, Provider, get_driver
from asynccloud.drivers.aws.route53 import Route53DNSDriver
from asynccloud.errors import (
    ConflictError,
    RecordAlreadyExistsError,
    RecordNotFoundError,
    ZoneNotFoundError,
)
from asynccloud.models import RecordType, Zone

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

pytestmark = [pytest.mark.anyio, pytest.mark.integration, pytest.mark.timeout(300)]


def driver_for(server: dict[str, str], **options: object) -> Route53DNSDriver:
    return Route53DNSDriver(
        server["access_key_id"],
        server["secret_access_key"],
        endpoint=server["endpoint"],
        **options,  # type: ignore[arg-type]
    )


def unique_domain() -> str:
    return f"t{uuid.uuid4().hex[:12]}.example.com"


@pytest.fixture
async def dns(moto_server: dict[str, str]) -> AsyncIterator[Route53DNSDriver]:
    async with driver_for(moto_server, wait=True, change_interval=0.05, page_size=3) as driver:
        yield driver


@pytest.fixture
async def zone(dns: Route53DNSDriver) -> AsyncIterator[Zone]:
    created = await dns.create_zone(unique_domain(), extra={"comment": "test zone"})
    yield created
    for record in await dns.list_records(created):
        if not record.extra.get("managed"):
            await record.delete()
    await dns.delete_zone(created)


def test_registry_resolves_route53() -> None:
    assert get_driver(DriverType.DNS, Provider.AWS) is Route53DNSDriver


async def test_zones_create_get_list_update_delete(dns: Route53DNSDriver) -> None:
    domains = [unique_domain() for _ in range(5)]
    created = [await dns.create_zone(d, extra={"comment": f"c{i}"}) for i, d in enumerate(domains)]
    assert created[0].domain == domains[0]
    assert created[0].extra["comment"] == "c0"
    assert created[0].extra["name_servers"]
    assert created[0].extra["change_status"] == "INSYNC"

    listed = {z.domain: z for z in await dns.list_zones()}  # page_size 3: several pages
    assert set(domains) <= listed.keys()

    fetched = await dns.get_zone(created[1].id)
    assert (fetched.id, fetched.domain, fetched.extra["comment"]) == (created[1].id, domains[1], "c1")

    updated = await fetched.update(extra={"comment": "changed"})
    assert updated.extra["comment"] == "changed"
    assert (await dns.get_zone(fetched.id)).extra["comment"] == "changed"

    for z in created:
        await z.delete()
    with pytest.raises(ZoneNotFoundError):
        await dns.get_zone(created[0].id)
    remaining = {z.id for z in await dns.list_zones()}
    assert not remaining & {z.id for z in created}


async def test_records_round_trip(dns: Route53DNSDriver, zone: Zone) -> None:
    www = await zone.create_record("www", RecordType.A, "192.0.2.10", ttl=120)
    assert (www.name, www.type, www.data, www.ttl) == ("www", RecordType.A, "192.0.2.10", 120)
    assert www.id == f"A:www.{zone.domain}."

    multi = await zone.create_record(
        "api", RecordType.A, "", ttl=60, extra={"records": ["192.0.2.1", "192.0.2.2"]}
    )
    txt = await zone.create_record("", RecordType.TXT, "hello world")

    fetched = await dns.get_record(zone.id, multi.id)
    assert sorted(fetched.extra["records"]) == ["192.0.2.1", "192.0.2.2"]
    assert fetched.ttl == 60
    assert (await zone.get_record(txt.id)).data == '"hello world"'

    records = await zone.list_records()
    by_id = {r.id: r for r in records}
    assert {www.id, multi.id, txt.id} <= by_id.keys()
    assert by_id[txt.id].name == ""
    managed = [r for r in records if r.extra.get("managed")]
    assert {r.type for r in managed} == {RecordType.SOA, RecordType.NS}

    with pytest.raises(RecordAlreadyExistsError):
        # moto only spots a duplicate CREATE with the same values (AWS refuses any second CREATE)
        await zone.create_record("www", RecordType.A, "192.0.2.10", ttl=120)

    updated = await www.update(data="192.0.2.20", ttl=300)
    assert (updated.data, updated.ttl) == ("192.0.2.20", 300)
    again = await dns.get_record(zone.id, www.id)
    assert (again.data, again.ttl) == ("192.0.2.20", 300)

    renamed = await again.update(name="web")
    assert renamed.id == f"A:web.{zone.domain}."
    with pytest.raises(RecordNotFoundError):
        await dns.get_record(zone.id, www.id)
    assert (await dns.get_record(zone.id, renamed.id)).data == "192.0.2.20"

    await renamed.delete()
    with pytest.raises(RecordNotFoundError):
        await dns.get_record(zone.id, renamed.id)
    with pytest.raises(RecordNotFoundError):
        await renamed.delete()


async def test_records_paginate_to_the_end(dns: Route53DNSDriver, zone: Zone) -> None:
    created = {(await zone.create_record(f"r{i}", RecordType.A, f"192.0.2.{i + 1}")).id for i in range(10)}
    listed = [r.id for r in await zone.list_records()]  # page_size 3 -> several pages
    assert created <= set(listed)
    assert len(listed) == len(set(listed)) == 12  # + SOA and NS


async def test_non_empty_zone_delete_is_a_conflict(dns: Route53DNSDriver, zone: Zone) -> None:
    await zone.create_record("www", RecordType.CNAME, "example.org.")
    with pytest.raises(ConflictError):
        await dns.delete_zone(zone)


async def test_missing_zone(dns: Route53DNSDriver) -> None:
    with pytest.raises(ZoneNotFoundError):
        await dns.get_zone("Z0000000000000NOPE")
