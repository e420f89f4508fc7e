"""PowerDNS driver behaviour a real server does not show on demand: lost answers, retries, odd bodies.

Answers are shaped like the PowerDNS HTTP API v1 reference (zone objects with ``rrsets``, ``{"error": ...}``
bodies); the conversion helpers are checked directly.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import httpx
import pytest
import respx

from asynccloud import ConfigurationError, ProviderError, RetryPolicy, ZoneNotFoundError
from asynccloud.drivers._dns_names import fqdn, relative
from asynccloud.drivers.powerdns import PowerDNSDriver
from asynccloud.drivers.powerdns._names import canonical_content
from asynccloud.models import RecordType, Zone

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.anyio

BASE = "https://pdns.example.test:8081/api/v1/servers/localhost"
FAST = RetryPolicy(max_attempts=3, backoff_base=0.001, backoff_max=0.002)
ZONE = {
    "id": "example.org.",
    "name": "example.org.",
    "kind": "Native",
    "serial": 2026112501,
    "account": "",
    "dnssec": False,
    "masters": [],
    "url": "/api/v1/servers/localhost/zones/example.org.",
    "rrsets": [
        {
            "name": "www.example.org.",
            "type": "A",
            "ttl": 300,
            "records": [
                {"content": "192.0.2.1", "disabled": False},
                {"content": "192.0.2.2", "disabled": True},
            ],
            "comments": [],
        },
        {
            "name": "example.org.",
            "type": "LUA",
            "ttl": 60,
            "records": [{"content": 'A "return {}"', "disabled": False}],
            "comments": [],
        },
    ],
}


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False, assert_all_mocked=True) as router:
        yield router


def driver() -> PowerDNSDriver:
    return PowerDNSDriver("secret-api-key", endpoint="https://pdns.example.test:8081/", retry=FAST)


def zone() -> Zone:
    return Zone(id="example.org.", domain="example.org")


async def test_the_key_is_sent_in_its_header_and_never_shown(api: respx.MockRouter) -> None:
    route = api.get("/zones").mock(return_value=httpx.Response(200, json=[]))
    async with driver() as dns:
        assert await dns.list_zones() == []
        assert "secret-api-key" not in repr(dns)
    assert route.calls.last.request.headers["X-API-Key"] == "secret-api-key"


async def test_records_keep_every_value_and_say_which_are_disabled(api: respx.MockRouter) -> None:
    api.get("/zones/example.org.").mock(return_value=httpx.Response(200, json=ZONE))
    async with driver() as dns:
        (www,) = await dns.list_records(zone())  # the LUA set has no portable type: not listed
    assert (www.id, www.name, www.data, www.ttl) == ("A:www.example.org.", "www", "192.0.2.1", 300)
    assert www.extra["records"] == ["192.0.2.1", "192.0.2.2"]
    assert www.extra["disabled"] == ["192.0.2.2"]


async def test_patches_are_retried_after_a_server_error(api: respx.MockRouter) -> None:
    api.get("/zones/example.org.").mock(return_value=httpx.Response(200, json=ZONE))
    patch = api.patch("/zones/example.org.").mock(
        side_effect=[httpx.Response(503, text="busy"), httpx.Response(204)]
    )
    async with driver() as dns:
        record = await dns.create_record("api", zone(), RecordType.A, "192.0.2.7")
    assert patch.call_count == 2  # REPLACE sets a state: sending it again is harmless
    body = json.loads(patch.calls.last.request.content)
    assert body == {
        "rrsets": [
            {
                "name": "api.example.org.",
                "type": "A",
                "ttl": 3600,
                "changetype": "REPLACE",
                "records": [{"content": "192.0.2.7", "disabled": False}],
            }
        ]
    }
    assert record.id == "A:api.example.org."


async def test_a_zone_delete_whose_answer_was_lost_counts_as_done(api: respx.MockRouter) -> None:
    api.delete("/zones/example.org.").mock(
        side_effect=[httpx.ReadError("connection reset"), httpx.Response(404, text="Not Found")]
    )
    async with driver() as dns:
        await dns.delete_zone(zone())  # the first attempt may have deleted it


async def test_a_zone_that_was_never_there(api: respx.MockRouter) -> None:
    api.delete("/zones/example.org.").mock(return_value=httpx.Response(404, text="Not Found"))
    async with driver() as dns:
        with pytest.raises(ZoneNotFoundError):
            await dns.delete_zone(zone())


async def test_error_bodies_are_read(api: respx.MockRouter) -> None:
    api.patch("/zones/example.org.").mock(
        return_value=httpx.Response(422, json={"error": "RRset x.example.org. IN A: bad content"})
    )
    api.get("/zones/example.org.").mock(return_value=httpx.Response(200, json=ZONE))
    async with driver() as dns:
        with pytest.raises(ProviderError, match="bad content") as info:
            await dns.create_record("x", zone(), RecordType.A, "192.0.2.1")
    assert info.value.status == 422


async def test_an_unreadable_zone_list_is_a_provider_error(api: respx.MockRouter) -> None:
    api.get("/zones").mock(return_value=httpx.Response(200, json={"zones": []}))
    async with driver() as dns:
        with pytest.raises(ProviderError, match="zone list") as info:
            await dns.list_zones()
    assert info.value.code == "MalformedResponse"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"secret": "s"}, "no secret"),
        ({"endpoint": "127.0.0.1:8081"}, "endpoint"),
        ({"default_ttl": -1}, "default_ttl"),
        ({"server_id": ""}, "server_id"),
    ],
)
def test_construction_is_checked(kwargs: dict[str, object], match: str) -> None:
    options: dict[str, object] = {"endpoint": "http://127.0.0.1:8081", **kwargs}
    with pytest.raises(ConfigurationError, match=match):
        PowerDNSDriver("k", **options)  # type: ignore[arg-type]


async def test_update_zone_takes_known_settings_only() -> None:
    async with driver() as dns:
        with pytest.raises(ConfigurationError, match="unknown: colour"):
            await dns.update_zone(zone(), extra={"colour": "blue"})
        with pytest.raises(ConfigurationError, match="TTL"):
            await dns.update_zone(zone(), ttl=60, extra={"account": "x"})


@pytest.mark.parametrize(
    ("rtype", "data", "priority", "expected"),
    [
        (RecordType.A, " 192.0.2.1 ", None, "192.0.2.1"),
        (RecordType.CNAME, "www.example.org", None, "www.example.org."),
        (RecordType.CNAME, "www.example.org.", None, "www.example.org."),
        (RecordType.NS, "ns1.example.net", None, "ns1.example.net."),
        (RecordType.MX, "mail.example.org", 10, "10 mail.example.org."),
        (RecordType.MX, "20 mail.example.org", 10, "20 mail.example.org."),
        (RecordType.SRV, "5 5060 sip.example.org", 10, "10 5 5060 sip.example.org."),
        (RecordType.TXT, "v=spf1 -all", None, '"v=spf1 -all"'),
        (RecordType.TXT, '"already quoted"', None, '"already quoted"'),
        (RecordType.TXT, 'say "hi" \\o/', None, '"say \\"hi\\" \\\\o/"'),
    ],
)
def test_contents_are_made_canonical(
    rtype: RecordType, data: str, priority: int | None, expected: str
) -> None:
    assert canonical_content(rtype, data, priority) == expected


def test_names_convert_both_ways() -> None:
    assert fqdn("", "example.org.") == "example.org."
    assert fqdn("@", "example.org.") == "example.org."
    assert fqdn("www", "example.org.") == "www.example.org."
    assert fqdn("other.net.", "example.org.") == "other.net."
    assert relative("example.org.", "example.org.") == ""
    assert relative("WWW.Example.org.", "example.org.") == "WWW"
    assert relative("other.net.", "example.org.") == "other.net."
