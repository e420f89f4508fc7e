"""The PowerDNS driver against a real PowerDNS Authoritative (HTTP API v1) on 127.0.0.1, asyncio and trio."""

from __future__ import annotations

import contextlib
import logging
import uuid
from typing import TYPE_CHECKING

import pytest

from asynccloud import (
    AuthenticationError,
    ConfigurationError,
    DriverType,
    InvalidRequestError,
    Provider,
    RecordAlreadyExistsError,
    RecordNotFoundError,
    ZoneAlreadyExistsError,
    ZoneNotFoundError,
    get_driver,
)
from asynccloud.drivers.powerdns import PowerDNSDriver
from asynccloud.models import RecordType, ZoneType

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from asynccloud.models import Zone

pytestmark = [pytest.mark.anyio, pytest.mark.integration]


def unique_domain() -> str:
    return f"t{uuid.uuid4().hex[:12]}.example"


@pytest.fixture
async def dns(pdns_server: dict[str, str]) -> AsyncIterator[PowerDNSDriver]:
    async with PowerDNSDriver(pdns_server["api_key"], endpoint=pdns_server["endpoint"]) as driver:
        yield driver


@pytest.fixture
async def zone(dns: PowerDNSDriver) -> AsyncIterator[Zone]:
    created = await dns.create_zone(unique_domain(), extra={"nameservers": ["ns1.example.net"]})
    yield created
    with contextlib.suppress(ZoneNotFoundError):  # unless the test deleted it
        await dns.delete_zone(created)


def test_registry_resolves_powerdns() -> None:
    assert get_driver(DriverType.DNS, Provider.POWERDNS) is PowerDNSDriver


async def test_zone_life_cycle(dns: PowerDNSDriver) -> None:
    domain = unique_domain()
    created = await dns.create_zone(domain, extra={"nameservers": ["ns1.example.net."], "account": "ops"})
    assert (created.id, created.domain, created.type) == (domain + ".", domain, ZoneType.MASTER)
    assert created.extra["kind"] == "Native"
    assert created.extra["account"] == "ops"
    assert isinstance(created.extra["serial"], int)

    fetched = await dns.get_zone(created.id)
    assert fetched.domain == domain
    assert domain in [z.domain async for z in dns.iterate_zones()]
    with pytest.raises(ZoneAlreadyExistsError):
        await dns.create_zone(domain)

    updated = await fetched.update(extra={"kind": "master", "account": "platform"})
    assert updated.extra["kind"] == "Master"
    assert (await dns.get_zone(created.id)).extra["account"] == "platform"

    await updated.delete()
    with pytest.raises(ZoneNotFoundError):
        await dns.get_zone(created.id)
    assert domain not in [z.domain for z in await dns.list_zones()]
    with pytest.raises(ZoneNotFoundError):
        await dns.delete_zone(created)


async def test_zone_arguments_are_checked_before_sending(dns: PowerDNSDriver) -> None:
    with pytest.raises(ConfigurationError, match="TTL"):
        await dns.create_zone(unique_domain(), ttl=300)
    with pytest.raises(ConfigurationError, match="masters"):
        await dns.create_zone(unique_domain(), type="slave")
    with pytest.raises(ConfigurationError, match="kind"):
        await dns.create_zone(unique_domain(), extra={"kind": "Hidden"})


async def test_a_slave_zone(dns: PowerDNSDriver) -> None:
    created = await dns.create_zone(unique_domain(), type="slave", extra={"masters": ["192.0.2.53"]})
    assert created.type is ZoneType.SLAVE
    assert created.extra["masters"] == ["192.0.2.53"]
    await created.delete()


async def test_records_round_trip(dns: PowerDNSDriver, zone: Zone) -> None:
    origin = zone.id
    www = await zone.create_record(
        "www", RecordType.A, "192.0.2.10", ttl=120, extra={"records": ["192.0.2.10", "192.0.2.11"]}
    )
    assert (www.id, www.name, www.data, www.ttl) == (f"A:www.{origin}", "www", "192.0.2.10", 120)
    assert www.extra["records"] == ["192.0.2.10", "192.0.2.11"]
    txt = await zone.create_record("", RecordType.TXT, 'say "hi"')
    mx = await zone.create_record("", RecordType.MX, "mail.example.net", extra={"priority": 10})
    alias = await zone.create_record("shop", RecordType.CNAME, "www." + zone.domain)

    by_id = {r.id: r for r in await zone.list_records()}
    assert by_id[www.id].extra["records"] == ["192.0.2.10", "192.0.2.11"]
    assert by_id[www.id].ttl == 120
    assert by_id[txt.id].data == '"say \\"hi\\""'  # quoted as a DNS string on the way in
    assert by_id[mx.id].data == "10 mail.example.net."
    assert by_id[mx.id].ttl == 3600  # the driver's default_ttl
    assert by_id[alias.id].data == f"www.{origin}"
    assert {r.type for r in by_id.values()} >= {RecordType.SOA, RecordType.NS}

    fetched = await dns.get_record(zone.id, www.id)
    assert fetched.extra["records"] == ["192.0.2.10", "192.0.2.11"]
    assert (await zone.get_record(txt.id)).type is RecordType.TXT

    with pytest.raises(RecordAlreadyExistsError):
        await zone.create_record("www", RecordType.A, "192.0.2.99")
    assert (await dns.get_record(zone.id, www.id)).extra["records"] == ["192.0.2.10", "192.0.2.11"]


async def test_update_keeps_what_is_not_given_and_moves_atomically(dns: PowerDNSDriver, zone: Zone) -> None:
    www = await zone.create_record("www", RecordType.A, "192.0.2.10", ttl=120)
    retimed = await www.update(ttl=600)
    assert (retimed.data, retimed.ttl) == ("192.0.2.10", 600)
    changed = await retimed.update(data="192.0.2.20")
    assert (changed.data, changed.ttl, changed.extra["records"]) == ("192.0.2.20", 600, ["192.0.2.20"])

    moved = await changed.update(name="web")
    assert moved.id == f"A:web.{zone.id}"
    with pytest.raises(RecordNotFoundError):
        await dns.get_record(zone.id, www.id)
    assert (await dns.get_record(zone.id, moved.id)).data == "192.0.2.20"

    other = await zone.create_record("api", RecordType.A, "192.0.2.30")
    with pytest.raises(RecordAlreadyExistsError):
        await other.update(name="web")  # would overwrite "web": refused, nothing changed
    assert (await dns.get_record(zone.id, other.id)).data == "192.0.2.30"
    assert (await dns.get_record(zone.id, moved.id)).data == "192.0.2.20"


async def test_deleting_records(dns: PowerDNSDriver, zone: Zone) -> None:
    www = await zone.create_record("www", RecordType.AAAA, "2001:db8::1")
    await www.delete()
    with pytest.raises(RecordNotFoundError):
        await dns.get_record(zone.id, www.id)
    with pytest.raises(RecordNotFoundError):
        await www.delete()
    with pytest.raises(RecordNotFoundError):
        await www.update(data="2001:db8::2")
    with pytest.raises(RecordNotFoundError, match="not a PowerDNS record id"):
        await dns.get_record(zone.id, "www")


async def test_provider_errors(dns: PowerDNSDriver, zone: Zone) -> None:
    with pytest.raises(InvalidRequestError, match="out of zone"):
        await zone.create_record("www.elsewhere.example.", RecordType.A, "192.0.2.1")
    with pytest.raises(InvalidRequestError):
        await zone.create_record("bad", RecordType.SSHFP, "not an sshfp record")
    with pytest.raises(ZoneNotFoundError):
        await dns.get_zone("missing-" + zone.id)
    with pytest.raises(ZoneNotFoundError):
        await dns.list_records(zone.model_copy(update={"id": "missing-" + zone.id}))


async def test_a_wrong_key_is_an_authentication_error_that_hides_the_key(
    pdns_server: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "wrong-key-" + uuid.uuid4().hex
    with caplog.at_level(logging.DEBUG, logger="asynccloud"):
        async with PowerDNSDriver(wrong, endpoint=pdns_server["endpoint"]) as dns:
            with pytest.raises(AuthenticationError) as info:
                await dns.list_zones()
            assert wrong not in repr(dns)
    assert info.value.status == 401
    assert wrong not in str(info.value)
    assert wrong not in caplog.text
