"""Rackspace Cloud DNS against fixtures shaped like the Cloud DNS v1.0 API reference."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import anyio
import httpx
import pytest
import respx

from asynccloud import (
    Capability,
    ConfigurationError,
    DriverType,
    OperationFailedError,
    OperationTimeoutError,
    Provider,
    RateLimitedError,
    RecordAlreadyExistsError,
    RecordNotFoundError,
    RetryPolicy,
    ZoneAlreadyExistsError,
    ZoneNotFoundError,
    get_driver,
)
from asynccloud.drivers.base import DNSDriver
from asynccloud.drivers.rackspace._dns_common import relative_name, to_fqdn
from asynccloud.drivers.rackspace.dns import RackspaceDNSDriver
from asynccloud.models import Record, RecordType, Zone
from tests.drivers.openstack._support import load_rackspace

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

pytestmark = pytest.mark.anyio

TOKENS = "https://identity.api.rackspacecloud.com/v2.0/tokens"
DNS = "https://dns.api.rackspacecloud.com/v1.0/1100111"
JOB = f"{DNS}/status/852a1e4a-2e4a-4d8e-9c7e-2fb7a8d39bc1"
API_KEY = "0123456789abcdef0123456789abcdef"
FAST_RETRY = RetryPolicy(max_attempts=3, backoff_base=0.0, backoff_max=0.0)


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        yield router


@pytest.fixture
async def dns(mock: respx.MockRouter) -> AsyncIterator[RackspaceDNSDriver]:
    mock.post(TOKENS).respond(200, json=load_rackspace("identity_v2_access.json"))
    async with RackspaceDNSDriver("demoauthor", API_KEY, job_interval=0.001, retry=FAST_RETRY) as driver:
        yield driver


def zone(driver: RackspaceDNSDriver) -> Zone:
    return driver.bind(Zone(id="2725233", domain="example.com"))


def accepted() -> httpx.Response:
    return httpx.Response(202, json=load_rackspace("dns_job_accepted.json"))


# ------------------------------------------------------------------------------------ construction


async def test_registry_and_protocol(dns: RackspaceDNSDriver) -> None:
    assert get_driver(DriverType.DNS, Provider.RACKSPACE) is RackspaceDNSDriver
    assert isinstance(dns, DNSDriver)
    assert dns.supports(Capability.ZONE_UPDATE)
    assert RecordType.PTR in await dns.list_record_types()
    assert API_KEY not in repr(dns)


@pytest.mark.parametrize(
    "kwargs", [{"job_timeout": 0}, {"job_interval": -1}, {"page_size": 0}, {"region": "mars"}, {"bogus": 1}]
)
def test_bad_options(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        RackspaceDNSDriver("u", "k", **kwargs)  # type: ignore[arg-type]


def test_record_names_convert_both_ways() -> None:
    assert to_fqdn("", "example.com") == "example.com"
    assert to_fqdn("@", "example.com") == "example.com"
    assert to_fqdn("www", "example.com") == "www.example.com"
    assert to_fqdn("other.example.net.", "example.com") == "other.example.net"
    assert relative_name("example.com", "example.com") == ""
    assert relative_name("WWW.Example.com", "example.com") == "WWW"
    assert relative_name("a.b.example.com", "example.com") == "a.b"


# ---------------------------------------------------------------------------------------- listings


async def test_iterate_zones_follows_offset_paging_to_the_end(
    dns: RackspaceDNSDriver, mock: respx.MockRouter
) -> None:
    dns._page_size = 2
    route = mock.get(f"{DNS}/domains").mock(
        side_effect=[
            httpx.Response(200, json=load_rackspace("dns_domains_page1.json")),
            httpx.Response(200, json=load_rackspace("dns_domains_page2.json")),
        ]
    )
    zones = await dns.list_zones()
    assert [z.domain for z in zones] == ["example.com", "example.net", "example.org"]
    assert [dict(c.request.url.params) for c in route.calls] == [
        {"limit": "2", "offset": "0"},
        {"limit": "2", "offset": "2"},
    ]
    assert zones[0].id == "2725233"
    assert zones[0].ttl == 3600
    assert zones[0].extra["email"] == "hostmaster@example.com"


async def test_paging_without_total_follows_next_links(
    dns: RackspaceDNSDriver, mock: respx.MockRouter
) -> None:
    dns._page_size = 2
    first = load_rackspace("dns_domains_page1.json")
    last = load_rackspace("dns_domains_page2.json")
    del first["totalEntries"], last["totalEntries"]
    route = mock.get(f"{DNS}/domains").mock(
        side_effect=[httpx.Response(200, json=first), httpx.Response(200, json=last)]
    )
    assert len(await dns.list_zones()) == 3
    assert route.call_count == 2


async def test_iterate_records_relative_names(dns: RackspaceDNSDriver, mock: respx.MockRouter) -> None:
    dns._page_size = 2
    route = mock.get(f"{DNS}/domains/2725233/records").mock(
        side_effect=[
            httpx.Response(200, json=load_rackspace("dns_records_page1.json")),
            httpx.Response(200, json=load_rackspace("dns_records_page2.json")),
        ]
    )
    records = await zone(dns).list_records()
    assert [(r.name, r.type, r.data) for r in records] == [
        ("", RecordType.A, "192.0.2.17"),
        ("www", RecordType.A, "192.0.2.18"),
        ("", RecordType.MX, "mail.example.com"),
    ]
    assert records[2].extra["priority"] == 5
    assert records[2].zone_id == "2725233"
    assert route.calls[1].request.url.params["offset"] == "2"


async def test_get_zone_and_record(dns: RackspaceDNSDriver, mock: respx.MockRouter) -> None:
    zone_route = mock.get(f"{DNS}/domains/2725233").respond(200, json=load_rackspace("dns_domain.json"))
    mock.get(f"{DNS}/domains/2725233/records/A-6822995").respond(200, json=load_rackspace("dns_record.json"))
    record = await dns.get_record("2725233", "A-6822995")  # fetches the zone once for its name
    assert (record.name, record.data, record.extra["comment"]) == ("www", "192.0.2.18", "web")
    assert zone_route.calls.last.request.url.params["showRecords"] == "false"
    got = await dns.get_zone("2725233")
    assert got.extra["nameservers"] == ["dns1.stabletransit.com", "dns2.stabletransit.com"]
    assert zone_route.call_count == 2


# --------------------------------------------------------------------------------------------- jobs


async def test_create_zone_polls_the_job_to_completion(
    dns: RackspaceDNSDriver, mock: respx.MockRouter
) -> None:
    post = mock.post(f"{DNS}/domains").mock(return_value=accepted())
    status = mock.get(JOB).mock(
        side_effect=[
            httpx.Response(200, json=load_rackspace("dns_job_running.json")),
            httpx.Response(200, json=load_rackspace("dns_job_domain_completed.json")),
        ]
    )
    created = await dns.create_zone("example.com.", ttl=3600, extra={"email": "hostmaster@example.com"})
    assert json.loads(post.calls.last.request.content) == {
        "domains": [{"name": "example.com", "emailAddress": "hostmaster@example.com", "ttl": 3600}]
    }
    assert status.call_count == 2
    assert status.calls.last.request.url.params["showDetails"] == "true"
    assert (created.id, created.domain) == ("2725233", "example.com")


async def test_create_zone_needs_an_email(dns: RackspaceDNSDriver) -> None:
    with pytest.raises(ConfigurationError, match="e-mail"):
        await dns.create_zone("example.com")
    with pytest.raises(ConfigurationError, match="master"):
        await dns.create_zone("example.com", type="slave", extra={"email": "a@b.c"})


async def test_failed_job_raises_operation_failed_with_its_faults(
    dns: RackspaceDNSDriver, mock: respx.MockRouter
) -> None:
    mock.post(f"{DNS}/domains").mock(return_value=accepted())
    mock.get(JOB).respond(200, json=load_rackspace("dns_job_error.json"))
    with pytest.raises(OperationFailedError) as info:
        # The canned job error is Cloud DNS refusing a long label; the name sent here must pass the
        # client-side checks (a label over 63 characters is refused before any request now).
        await dns.create_zone("example.com", extra={"email": "a@example.com"})
    message = str(info.value)
    assert "852a1e4a-2e4a-4d8e-9c7e-2fb7a8d39bc1" in message
    assert "Invalid DNS name" in message
    assert "exceeds 63 characters" in message
    assert "code 400" in message


async def test_duplicate_zone_job_raises_zone_already_exists(
    dns: RackspaceDNSDriver, mock: respx.MockRouter
) -> None:
    mock.post(f"{DNS}/domains").mock(return_value=accepted())
    mock.get(JOB).respond(200, json=load_rackspace("dns_job_duplicate.json"))
    with pytest.raises(ZoneAlreadyExistsError, match="Domain already exists"):
        await dns.create_zone("example.com", extra={"email": "a@example.com"})


async def test_duplicate_record_answered_at_once_is_record_already_exists(
    dns: RackspaceDNSDriver, mock: respx.MockRouter
) -> None:
    body = {"message": "Conflict", "code": 409, "details": "Record already exists"}
    mock.post(f"{DNS}/domains/2725233/records").respond(409, json=body)
    with pytest.raises(RecordAlreadyExistsError, match="Record already exists"):
        await zone(dns).create_record("www", RecordType.A, "192.0.2.18")


async def test_job_timeout(mock: respx.MockRouter) -> None:
    mock.post(TOKENS).respond(200, json=load_rackspace("identity_v2_access.json"))
    mock.post(f"{DNS}/domains").mock(return_value=accepted())
    status = mock.get(JOB).respond(200, json=load_rackspace("dns_job_running.json"))
    async with RackspaceDNSDriver("u", API_KEY, job_timeout=0.05, job_interval=0.001) as dns:
        with pytest.raises(OperationTimeoutError, match=r"creating zone 'example\.com'.*RUNNING"):
            await dns.create_zone("example.com", extra={"email": "a@example.com"})
    assert status.call_count >= 2


async def test_job_wait_is_cancellable(dns: RackspaceDNSDriver, mock: respx.MockRouter) -> None:
    mock.post(f"{DNS}/domains").mock(return_value=accepted())
    mock.get(JOB).respond(200, json=load_rackspace("dns_job_running.json"))
    with anyio.move_on_after(0.05) as scope:
        await dns.create_zone("example.com", extra={"email": "a@example.com"})
    assert scope.cancelled_caught


async def test_create_record_sends_fqdn_ttl_and_priority(
    dns: RackspaceDNSDriver, mock: respx.MockRouter
) -> None:
    post = mock.post(f"{DNS}/domains/2725233/records").mock(return_value=accepted())
    mock.get(JOB).respond(200, json=load_rackspace("dns_job_record_completed.json"))
    record = await zone(dns).create_record(
        "api", "a", "192.0.2.30", extra={"ttl": 300, "priority": 10, "comment": "api"}
    )
    assert json.loads(post.calls.last.request.content) == {
        "records": [
            {
                "name": "api.example.com",
                "type": "A",
                "data": "192.0.2.30",
                "ttl": 300,
                "priority": 10,
                "comment": "api",
            }
        ]
    }
    assert (record.id, record.name, record.ttl, record.zone_id) == ("A-6823001", "api", 300, "2725233")
    await zone(dns).create_record("", RecordType.A, "192.0.2.30", ttl=600)
    sent = json.loads(post.calls.last.request.content)["records"][0]
    assert (sent["name"], sent["ttl"]) == ("example.com", 600)
    with pytest.raises(ConfigurationError, match="does not support"):
        await zone(dns).create_record("x", RecordType.DNAME, "y")


async def test_update_record_then_refetches(dns: RackspaceDNSDriver, mock: respx.MockRouter) -> None:
    record = dns.bind(
        Record(id="A-6822995", name="www", type=RecordType.A, data="192.0.2.1", zone_id="2725233")
    )
    dns._domains["2725233"] = "example.com"
    put = mock.put(f"{DNS}/domains/2725233/records/A-6822995").mock(return_value=accepted())
    mock.get(JOB).respond(200, json={**load_rackspace("dns_job_running.json"), "status": "COMPLETED"})
    mock.get(f"{DNS}/domains/2725233/records/A-6822995").respond(200, json=load_rackspace("dns_record.json"))
    updated = await record.update(data="192.0.2.18", ttl=900)
    assert json.loads(put.calls.last.request.content) == {
        "name": "www.example.com",
        "data": "192.0.2.18",
        "ttl": 900,
    }
    assert updated.data == "192.0.2.18"
    with pytest.raises(ConfigurationError, match="type"):
        await record.update(type=RecordType.AAAA)


async def test_update_and_delete_zone(dns: RackspaceDNSDriver, mock: respx.MockRouter) -> None:
    put = mock.put(f"{DNS}/domains/2725233").mock(return_value=accepted())
    delete = mock.delete(f"{DNS}/domains/2725233").mock(return_value=accepted())
    mock.get(JOB).respond(200, json={**load_rackspace("dns_job_running.json"), "status": "COMPLETED"})
    mock.get(f"{DNS}/domains/2725233").respond(200, json=load_rackspace("dns_domain.json"))
    updated = await zone(dns).update(ttl=7200, extra={"email": "dns@example.com", "comment": "c"})
    assert json.loads(put.calls.last.request.content) == {
        "ttl": 7200,
        "emailAddress": "dns@example.com",
        "comment": "c",
    }
    assert updated.extra["comment"] == "Main site"
    await updated.delete()
    assert delete.call_count == 1


async def test_delete_record_job(dns: RackspaceDNSDriver, mock: respx.MockRouter) -> None:
    record = dns.bind(Record(id="A-1", name="www", type=RecordType.A, data="192.0.2.1", zone_id="2725233"))
    route = mock.delete(f"{DNS}/domains/2725233/records/A-1").mock(return_value=accepted())
    status = mock.get(JOB).respond(
        200, json={**load_rackspace("dns_job_running.json"), "status": "COMPLETED"}
    )
    await record.delete()
    assert route.call_count == status.call_count == 1


# ------------------------------------------------------------------------------------------- errors


async def test_not_found_is_mapped_per_resource(dns: RackspaceDNSDriver, mock: respx.MockRouter) -> None:
    mock.get(f"{DNS}/domains/999").respond(404, json=load_rackspace("dns_not_found.json"))
    mock.get(f"{DNS}/domains/2725233/records/A-9").respond(404, json=load_rackspace("dns_not_found.json"))
    with pytest.raises(ZoneNotFoundError, match="Object not Found"):
        await dns.get_zone("999")
    dns._domains["2725233"] = "example.com"
    with pytest.raises(RecordNotFoundError):
        await dns.get_record("2725233", "A-9")


async def test_over_limit_is_rate_limited_and_retried(
    dns: RackspaceDNSDriver, mock: respx.MockRouter
) -> None:
    over = httpx.Response(413, headers={"Retry-After": "0"}, json=load_rackspace("dns_over_limit.json"))
    page = {**load_rackspace("dns_domains_page2.json"), "totalEntries": 1}
    route = mock.get(f"{DNS}/domains").mock(side_effect=[over, httpx.Response(200, json=page)])
    assert [z.domain for z in await dns.list_zones()] == ["example.org"]
    assert route.call_count == 2
    mock.get(f"{DNS}/domains/1").respond(413, json=load_rackspace("dns_over_limit.json"))
    with pytest.raises(RateLimitedError, match="OverLimit"):
        await dns.get_zone("1")
