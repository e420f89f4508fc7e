"""Designate v2 against fixtures shaped like the OpenStack DNS API v2 reference."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import httpx
import pytest

from asynccloud import (
    ConfigurationError,
    DriverType,
    OperationFailedError,
    OperationTimeoutError,
    Provider,
    RecordAlreadyExistsError,
    ZoneNotFoundError,
    get_driver,
)
from asynccloud.drivers.base import DNSDriver
from asynccloud.drivers.openstack.designate import DesignateDNSDriver
from asynccloud.models import RecordType, Zone, ZoneType
from tests.drivers.openstack._support import KEYSTONE, PASSWORD, load

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import respx

pytestmark = pytest.mark.anyio

DES = "https://designate.example.com:9001/v2"
Z1 = "a86dba58-0043-4cc6-a1bb-69d5e86f3ca3"
RS = "f7b10e9b-0cae-4a91-b162-562bc6096648"


@pytest.fixture
async def dns(tokens: respx.Route) -> AsyncIterator[DesignateDNSDriver]:
    driver = DesignateDNSDriver(
        "demo",
        PASSWORD,
        auth_url=KEYSTONE,
        tenant_name="demo",
        endpoint="https://designate.example.com:9001/",
        wait_interval=0.001,
        page_size=2,
    )
    async with driver:
        yield driver


def zone(driver: DesignateDNSDriver) -> Zone:
    return driver.bind(Zone(id=Z1, domain="example.org", extra={"name": "example.org."}))


def ok(name: str) -> httpx.Response:
    return httpx.Response(200, json=load(name))


async def test_registry_and_protocol(dns: DesignateDNSDriver) -> None:
    assert get_driver(DriverType.DNS, Provider.OPENSTACK) is DesignateDNSDriver
    assert isinstance(dns, DNSDriver)
    assert PASSWORD not in repr(dns)


async def test_zones_follow_next_links(dns: DesignateDNSDriver, mock: respx.MockRouter) -> None:
    route = mock.get(f"{DES}/zones").mock(
        side_effect=[ok("designate_zones_page1.json"), ok("designate_zones_page2.json")]
    )
    zones = await dns.list_zones()
    assert [z.domain for z in zones] == ["example.org", "example.net"]
    assert route.calls[0].request.url.params["limit"] == "2"
    assert route.calls[1].request.url.params["marker"] == Z1
    assert zones[0].extra["name"] == "example.org."
    assert zones[0].ttl == 7200


async def test_records_map_one_per_recordset(dns: DesignateDNSDriver, mock: respx.MockRouter) -> None:
    mock.get(f"{DES}/zones/{Z1}/recordsets").mock(
        side_effect=[ok("designate_recordsets_page1.json"), ok("designate_recordsets_page2.json")]
    )
    records = await zone(dns).list_records()
    assert [(r.name, r.type) for r in records] == [
        ("", RecordType.SOA),
        ("", RecordType.NS),
        ("www", RecordType.A),
    ]
    www = records[2]
    assert (www.id, www.data, www.extra["records"]) == (RS, "192.0.2.1", ["192.0.2.1", "192.0.2.2"])


async def test_create_zone_waits_pending_to_active(dns: DesignateDNSDriver, mock: respx.MockRouter) -> None:
    post = mock.post(f"{DES}/zones").respond(202, json=load("designate_zone_pending.json"))
    get = mock.get(f"{DES}/zones/{Z1}").mock(
        side_effect=[ok("designate_zone_pending.json"), ok("designate_zone_active.json")]
    )
    created = await dns.create_zone("example.org", ttl=7200, extra={"email": "hostmaster@example.org"})
    assert json.loads(post.calls.last.request.content) == {
        "name": "example.org.",
        "type": "PRIMARY",
        "email": "hostmaster@example.org",
        "ttl": 7200,
    }
    assert get.call_count == 2
    assert created.extra["status"] == "ACTIVE"
    assert created.type is ZoneType.MASTER


async def test_create_zone_error_and_timeout(dns: DesignateDNSDriver, mock: respx.MockRouter) -> None:
    mock.post(f"{DES}/zones").respond(202, json=load("designate_zone_pending.json"))
    mock.get(f"{DES}/zones/{Z1}").mock(return_value=ok("designate_zone_error.json"))
    with pytest.raises(OperationFailedError, match="ERROR"):
        await dns.create_zone("example.org", extra={"email": "h@example.org"})
    mock.get(f"{DES}/zones/{Z1}").mock(return_value=ok("designate_zone_pending.json"))
    dns._wait_timeout = 0.05
    with pytest.raises(OperationTimeoutError, match="PENDING"):
        await dns.create_zone("example.org", extra={"email": "h@example.org"})


async def test_create_zone_validation(dns: DesignateDNSDriver) -> None:
    with pytest.raises(ConfigurationError, match="e-mail"):
        await dns.create_zone("example.org")
    with pytest.raises(ConfigurationError, match="masters"):
        await dns.create_zone("example.org", type="slave")


async def test_create_record_with_several_values(dns: DesignateDNSDriver, mock: respx.MockRouter) -> None:
    post = mock.post(f"{DES}/zones/{Z1}/recordsets").respond(
        202, json=load("designate_recordset_pending.json")
    )
    mock.get(f"{DES}/zones/{Z1}/recordsets/{RS}").mock(return_value=ok("designate_recordset_active.json"))
    record = await zone(dns).create_record(
        "www", RecordType.A, "192.0.2.1", ttl=3600, extra={"records": ["192.0.2.1", "192.0.2.2"]}
    )
    assert json.loads(post.calls.last.request.content) == {
        "name": "www.example.org.",
        "type": "A",
        "records": ["192.0.2.1", "192.0.2.2"],
        "ttl": 3600,
    }
    assert (record.id, record.name, record.extra["status"]) == (RS, "www", "ACTIVE")


async def test_update_and_delete_record_round_trip_ids(
    dns: DesignateDNSDriver, mock: respx.MockRouter
) -> None:
    mock.get(f"{DES}/zones/{Z1}/recordsets/{RS}").mock(
        side_effect=[
            ok("designate_recordset_active.json"),
            ok("designate_recordset_active.json"),
            httpx.Response(404),
        ]
    )
    put = mock.put(f"{DES}/zones/{Z1}/recordsets/{RS}").respond(
        202, json=load("designate_recordset_pending.json")
    )
    delete = mock.delete(f"{DES}/zones/{Z1}/recordsets/{RS}").respond(
        202, json=load("designate_recordset_pending.json")
    )
    record = await dns.get_record(Z1, RS)
    updated = await record.update(data="192.0.2.9", ttl=600)
    assert json.loads(put.calls.last.request.content) == {"records": ["192.0.2.9"], "ttl": 600}
    assert updated.id == RS
    await updated.delete()
    assert delete.call_count == 1
    with pytest.raises(ConfigurationError, match="rename"):
        await record.update(name="api")


async def test_delete_zone_waits_until_gone(dns: DesignateDNSDriver, mock: respx.MockRouter) -> None:
    mock.delete(f"{DES}/zones/{Z1}").respond(202, json=load("designate_zone_pending.json"))
    get = mock.get(f"{DES}/zones/{Z1}").mock(
        side_effect=[
            ok("designate_zone_pending.json"),
            httpx.Response(404, json=load("designate_zone_not_found.json")),
        ]
    )
    await zone(dns).delete()
    assert get.call_count == 2


async def test_errors_are_mapped(dns: DesignateDNSDriver, mock: respx.MockRouter) -> None:
    mock.get(f"{DES}/zones/missing").respond(404, json=load("designate_zone_not_found.json"))
    with pytest.raises(ZoneNotFoundError, match="Could not find Zone") as info:
        await dns.get_zone("missing")
    assert info.value.code == "zone_not_found"
    mock.post(f"{DES}/zones/{Z1}/recordsets").respond(409, json=load("designate_duplicate_recordset.json"))
    with pytest.raises(RecordAlreadyExistsError, match="Duplicate RecordSet"):
        await zone(dns).create_record("www", "A", "192.0.2.1")
