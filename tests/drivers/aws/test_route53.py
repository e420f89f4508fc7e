"""Unit tests of the Route 53 DNS driver: respx serves documented response bodies from ``fixtures/``."""

from __future__ import annotations

import pickle
import re
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

import httpx
import pytest
import respx

from asynccloud.drivers.aws.route53 import Route53DNSDriver
from asynccloud.errors import (
    ConfigurationError,
    ConflictError,
    NotSupportedError,
    OperationTimeoutError,
    RateLimitedError,
    RecordAlreadyExistsError,
    RecordNotFoundError,
    ZoneAlreadyExistsError,
    ZoneNotFoundError,
)
from asynccloud.models import RecordType, Zone
from tests.drivers.aws.conftest import FAST, KEY_ID, SECRET, fixture_text

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.anyio

BASE = "https://route53.example.test/2013-04-01"
ZONE_ID = "Z1D633PJN98FT9"
NS = "{https://route53.amazonaws.com/doc/2013-04-01/}"


def make_driver(**options: Any) -> Route53DNSDriver:
    options.setdefault("endpoint", "https://route53.example.test")
    options.setdefault("retry", FAST)
    options.setdefault("change_interval", 0.01)
    return Route53DNSDriver(KEY_ID, SECRET, **options)


def xml(name: str, http_status: int = 200, **values: str) -> httpx.Response:
    return httpx.Response(
        http_status, text=fixture_text(name, **values), headers={"Content-Type": "text/xml"}
    )


def error(status: int, code: str, message: str = "an error") -> httpx.Response:
    return xml("route53_error.xml", status, code=code, message=message)


def rrset(name: str, rtype: str, ttl: str, *values: str) -> dict[str, Any]:
    return {"Name": name, "Type": rtype, "TTL": ttl, "values": list(values)}


def change(status: str = "INSYNC", root: str = "ChangeResourceRecordSetsResponse") -> httpx.Response:
    return xml("route53_change.xml", status=status, root=root)


def zone() -> Zone:
    return Zone(id=ZONE_ID, domain="example.com")


def batch(request: httpx.Request) -> list[tuple[str, dict[str, Any]]]:
    """The ``(action, record set)`` pairs of a ChangeResourceRecordSets body."""
    root = ElementTree.fromstring(request.content)
    assert root.tag == f"{NS}ChangeResourceRecordSetsRequest"
    out = []
    for item in root.iter(f"{NS}Change"):
        rrset = item.find(f"{NS}ResourceRecordSet")
        assert rrset is not None
        fields: dict[str, Any] = {
            child.tag.removeprefix(NS): child.text for child in rrset if child.tag != f"{NS}ResourceRecords"
        }
        fields["values"] = [v.text for v in rrset.iter(f"{NS}Value")]
        out.append((item.findtext(f"{NS}Action") or "", fields))
    return out


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        mock.get(f"{BASE}/hostedzone/{ZONE_ID}").respond(
            200, text=fixture_text("route53_get_hosted_zone.xml", comment="c")
        )
        yield mock


# --- zones ------------------------------------------------------------------------------------------------


async def test_iterate_zones_follows_next_marker(router: respx.MockRouter) -> None:
    route = router.get(f"{BASE}/hostedzone").mock(
        side_effect=[xml("route53_list_hosted_zones_page1.xml"), xml("route53_list_hosted_zones_page2.xml")]
    )
    async with make_driver(page_size=2) as dns:
        zones = await dns.list_zones()
    assert [z.domain for z in zones] == ["example.com", "example2.com", "example3.com"]
    assert [z.id for z in zones] == ["Z1D633PJN98FT9", "Z2682N5HXP0BZ4", "Z3N6LSH2YGK2VZ"]
    assert zones[0].extra["comment"] == "This is my first hosted zone."
    assert zones[0].extra["record_count"] == 17
    assert zones[2].extra["private"] is True
    first, second = (call.request.url.params for call in route.calls)
    assert dict(first) == {"maxitems": "2"}
    assert dict(second) == {"maxitems": "2", "marker": "Z3N6LSH2YGK2VZ"}


async def test_get_zone_and_missing_zone(router: respx.MockRouter) -> None:
    router.get(f"{BASE}/hostedzone/ZNOPE").respond(404, text=fixture_text(
        "route53_error.xml", code="NoSuchHostedZone", message="No hosted zone found with ID: ZNOPE"
    ))  # fmt: skip
    async with make_driver() as dns:
        got = await dns.get_zone(ZONE_ID)
        assert got.extra["name_servers"] == ["ns-2048.awsdns-64.com", "ns-2049.awsdns-65.net"]
        with pytest.raises(ZoneNotFoundError) as caught:
            await dns.get_zone("ZNOPE")
        assert caught.value.code == "NoSuchHostedZone"
        assert caught.value.request_id == "8a5bfe1c-6d2f-11e7-9c6c-2b1d1e6f0c7a"
        with pytest.raises(ConfigurationError):
            await dns.get_zone("../change/x")


async def test_create_zone_sends_caller_reference_and_is_retried_with_it(router: respx.MockRouter) -> None:
    route = router.post(f"{BASE}/hostedzone").mock(
        side_effect=[
            httpx.Response(503, text="busy"),
            xml("route53_create_hosted_zone.xml", 201, reference="r", comment="demo", status="INSYNC"),
        ]
    )
    async with make_driver() as dns:
        created = await dns.create_zone("example.com", extra={"comment": "demo"})
    assert created.domain == "example.com"
    assert created.extra["change_status"] == "INSYNC"
    assert created.extra["name_servers"][0] == "ns-2048.awsdns-64.com"
    bodies = [ElementTree.fromstring(call.request.content) for call in route.calls]
    assert len(bodies) == 2
    assert bodies[0].findtext(f"{NS}Name") == "example.com."
    assert bodies[0].findtext(f"{NS}HostedZoneConfig/{NS}Comment") == "demo"
    references = {b.findtext(f"{NS}CallerReference") for b in bodies}
    assert len(references) == 1
    assert re.fullmatch(r"[0-9a-f-]{36}", references.pop() or "")


async def test_create_zone_waits_for_insync_when_asked(router: respx.MockRouter) -> None:
    router.post(f"{BASE}/hostedzone").mock(
        return_value=xml("route53_create_hosted_zone.xml", 201, reference="r", comment="x", status="PENDING")
    )
    polls = router.get(f"{BASE}/change/C1PA6795UKMFR9").mock(
        side_effect=[change("PENDING", "GetChangeResponse"), change("INSYNC", "GetChangeResponse")]
    )
    async with make_driver() as dns:
        created = await dns.create_zone("example.com", extra={"wait": True})
    assert polls.call_count == 2
    assert created.extra["change_status"] == "INSYNC"


async def test_create_zone_errors(router: respx.MockRouter) -> None:
    router.post(f"{BASE}/hostedzone").mock(return_value=error(409, "HostedZoneAlreadyExists"))
    async with make_driver() as dns:
        with pytest.raises(ZoneAlreadyExistsError):
            await dns.create_zone("example.com")
        with pytest.raises(NotSupportedError):
            await dns.create_zone("example.com", type="slave")
        with pytest.raises(ConfigurationError):
            await dns.create_zone("example.com", ttl=300)


async def test_update_zone_comment(router: respx.MockRouter) -> None:
    route = router.post(f"{BASE}/hostedzone/{ZONE_ID}").respond(
        200, text=fixture_text("route53_get_hosted_zone.xml", comment="new &amp; improved")
    )
    async with make_driver() as dns:
        updated = await dns.update_zone(zone(), extra={"comment": "new & improved"})
        with pytest.raises(ConfigurationError):
            await dns.update_zone(zone(), ttl=60)
    assert updated.extra["comment"] == "new & improved"
    body = ElementTree.fromstring(route.calls.last.request.content)
    assert body.tag == f"{NS}UpdateHostedZoneCommentRequest"
    assert body.findtext(f"{NS}Comment") == "new & improved"


async def test_delete_non_empty_zone_is_a_conflict(router: respx.MockRouter) -> None:
    router.delete(f"{BASE}/hostedzone/{ZONE_ID}").mock(
        side_effect=[error(400, "HostedZoneNotEmpty"), change("INSYNC", "DeleteHostedZoneResponse")]
    )
    async with make_driver() as dns:
        with pytest.raises(ConflictError):
            await dns.delete_zone(zone())
        await dns.delete_zone(zone())


# --- records ----------------------------------------------------------------------------------------------


async def test_iterate_records_follows_name_type_identifier(router: respx.MockRouter) -> None:
    route = router.get(f"{BASE}/hostedzone/{ZONE_ID}/rrset").mock(
        side_effect=[xml(f"route53_list_rrsets_page{i}.xml") for i in (1, 2, 3)]
    )
    async with make_driver(page_size=2) as dns:
        records = await dns.list_records(zone())
    params = [dict(call.request.url.params) for call in route.calls]
    assert params == [
        {"maxitems": "2"},
        {"maxitems": "2", "name": "\\052.example.com.", "type": "A"},
        {"maxitems": "2", "name": "www.example.com.", "type": "A", "identifier": "green"},
    ]
    assert [(r.name, r.type) for r in records] == [
        ("", RecordType.NS), ("", RecordType.SOA), ("*", RecordType.A), ("www", RecordType.A),
        ("www", RecordType.A), ("txt", RecordType.TXT),
    ]  # fmt: skip
    ns, soa, wildcard, blue, green, txt = records
    assert ns.extra["managed"]
    assert soa.extra["managed"]
    assert "managed" not in wildcard.extra
    assert ns.extra["records"] == ["ns-2048.awsdns-64.com.", "ns-2049.awsdns-65.net."]
    assert wildcard.id == "A:*.example.com."
    assert blue.id == "A:www.example.com.:blue"
    assert (blue.data, blue.ttl, blue.extra["weight"]) == ("192.0.2.10", 60, "10")
    assert blue.extra["records"] == ["192.0.2.10", "192.0.2.11"]
    assert green.data == "web-1234.us-east-1.elb.amazonaws.com."
    assert green.extra["alias"]["hosted_zone_id"] == "Z35SXDOTRQ7X7K"
    assert txt.data == '"v=spf1 -all"'


async def test_get_record_round_trips_the_id(router: respx.MockRouter) -> None:
    route = router.get(f"{BASE}/hostedzone/{ZONE_ID}/rrset").mock(
        return_value=xml("route53_list_rrsets_page2.xml")
    )
    async with make_driver() as dns:
        record = await dns.get_record(ZONE_ID, "A:www.example.com.:blue")
        assert record.id == "A:www.example.com.:blue"
        assert dict(route.calls.last.request.url.params) == {
            "maxitems": "10", "name": "www.example.com.", "type": "A", "identifier": "blue",
        }  # fmt: skip
        with pytest.raises(RecordNotFoundError):
            await dns.get_record(ZONE_ID, "A:missing.example.com.")
        with pytest.raises(ConfigurationError):
            await dns.get_record(ZONE_ID, "no-type")


async def test_create_record_sends_a_change_batch(router: respx.MockRouter) -> None:
    route = router.post(f"{BASE}/hostedzone/{ZONE_ID}/rrset/").mock(return_value=change("PENDING"))
    async with make_driver() as dns:
        record = await dns.create_record(
            "api", zone(), RecordType.A, "", ttl=60, extra={"records": ["192.0.2.1", "192.0.2.2"]}
        )
        txt = await dns.create_record("", zone(), "txt", 'say "hi"')
    assert record.id == "A:api.example.com."
    assert (record.data, record.extra["records"], record.ttl) == ("192.0.2.1", ["192.0.2.1", "192.0.2.2"], 60)
    assert record.extra["change_status"] == "PENDING"  # not waited for: the driver default is wait=False
    first, second = (batch(call.request) for call in route.calls)
    assert first == [
        (
            "CREATE",
            {"Name": "api.example.com.", "Type": "A", "TTL": "60", "values": ["192.0.2.1", "192.0.2.2"]},
        )
    ]
    assert second == [("CREATE", rrset("example.com.", "TXT", "300", '"say \\"hi\\""'))]
    assert txt.name == ""


async def test_create_alias_record(router: respx.MockRouter) -> None:
    route = router.post(f"{BASE}/hostedzone/{ZONE_ID}/rrset/").mock(return_value=change())
    alias = {"hosted_zone_id": "Z35SXDOTRQ7X7K", "dns_name": "web.elb.amazonaws.com."}
    async with make_driver() as dns:
        record = await dns.create_record("www", zone(), RecordType.A, "", extra={"alias": alias})
    assert record.data == "web.elb.amazonaws.com."
    body = ElementTree.fromstring(route.calls.last.request.content)
    target = body.find(f".//{NS}AliasTarget")
    assert target is not None
    assert target.findtext(f"{NS}DNSName") == "web.elb.amazonaws.com."
    assert body.find(f".//{NS}TTL") is None


async def test_duplicate_record_and_throttling(router: respx.MockRouter) -> None:
    message = "Tried to create resource record set [name='www.example.com.', type='A'] but it already exists"
    route = router.post(f"{BASE}/hostedzone/{ZONE_ID}/rrset/").mock(
        side_effect=[
            error(
                400,
                "PriorRequestNotComplete",
                "The request was rejected because Route 53 was still processing",
            ),
            xml("route53_invalid_change_batch.xml", 400, message=message),
            error(400, "Throttling", "Rate exceeded"),
            error(400, "Throttling", "Rate exceeded"),
            error(400, "Throttling", "Rate exceeded"),
        ]
    )
    async with make_driver() as dns:
        with pytest.raises(RecordAlreadyExistsError) as caught:
            await dns.create_record("www", zone(), RecordType.A, "192.0.2.1")
        assert route.call_count == 2  # PriorRequestNotComplete was retried
        assert caught.value.code == "InvalidChangeBatch"
        with pytest.raises(RateLimitedError):
            await dns.create_record("www", zone(), RecordType.A, "192.0.2.1")
    assert route.call_count == 5


async def test_update_record_upserts_and_renames_atomically(router: respx.MockRouter) -> None:
    router.get(f"{BASE}/hostedzone/{ZONE_ID}/rrset").mock(return_value=xml("route53_list_rrsets_page3.xml"))
    route = router.post(f"{BASE}/hostedzone/{ZONE_ID}/rrset/").mock(return_value=change())
    async with make_driver() as dns:
        txt = await dns.get_record(ZONE_ID, "TXT:txt.example.com.")
        updated = await txt.update(ttl=120)
        renamed = await txt.update(name="spf", data="v=spf1 mx -all")
    upsert, rename = (batch(call.request) for call in route.calls)
    assert upsert == [("UPSERT", rrset("txt.example.com.", "TXT", "120", '"v=spf1 -all"'))]
    assert [action for action, _ in rename] == ["DELETE", "CREATE"]
    assert rename[0][1]["values"] == ['"v=spf1 -all"']
    assert rename[1][1] == {
        "Name": "spf.example.com.",
        "Type": "TXT",
        "TTL": "300",
        "values": ['"v=spf1 mx -all"'],
    }
    assert updated.ttl == 120
    assert renamed.id == "TXT:spf.example.com."


async def test_delete_record_sends_current_values_or_raises_not_found(router: respx.MockRouter) -> None:
    router.get(f"{BASE}/hostedzone/{ZONE_ID}/rrset").mock(return_value=xml("route53_list_rrsets_page3.xml"))
    route = router.post(f"{BASE}/hostedzone/{ZONE_ID}/rrset/").mock(
        side_effect=[
            change(),
            xml("route53_invalid_change_batch.xml", 400, message="Tried to delete resource record set "
                "[name='txt.example.com.', type='TXT'] but it was not found"),
        ]
    )  # fmt: skip
    async with make_driver() as dns:
        txt = await dns.get_record(ZONE_ID, "TXT:txt.example.com.")
        stale = txt.model_copy(update={"data": "old", "ttl": 1})
        stale._bind(dns)
        await stale.delete()
        assert batch(route.calls.last.request) == [
            ("DELETE", rrset("txt.example.com.", "TXT", "300", '"v=spf1 -all"'))
        ]
        with pytest.raises(RecordNotFoundError):  # gone between the read and the change
            await txt.delete()
        gone = txt.model_copy(update={"id": "A:gone.example.com."})
        gone._bind(dns)
        with pytest.raises(RecordNotFoundError):
            await gone.delete()
    assert route.call_count == 2  # nothing sent for a record that is not there


async def test_wait_for_change_polls_until_insync_or_times_out(router: respx.MockRouter) -> None:
    router.post(f"{BASE}/hostedzone/{ZONE_ID}/rrset/").mock(return_value=change("PENDING"))
    polls = router.get(f"{BASE}/change/C2682N5HXP0BZ4").mock(
        side_effect=[change("PENDING", "GetChangeResponse")] * 2 + [change("INSYNC", "GetChangeResponse")]
    )
    async with make_driver(wait=True) as dns:
        record = await dns.create_record("a", zone(), RecordType.A, "192.0.2.1")
        assert record.extra["change_status"] == "INSYNC"
        assert polls.call_count == 3
    polls.mock(return_value=change("PENDING", "GetChangeResponse"))
    async with make_driver(wait=True, change_timeout=0.1) as dns:
        with pytest.raises(OperationTimeoutError, match="INSYNC"):
            await dns.create_record("a", zone(), RecordType.A, "192.0.2.1")
        # wait=False per call overrides the driver's default
        record = await dns.create_record("a", zone(), RecordType.A, "192.0.2.1", extra={"wait": False})
        assert record.extra["change_status"] == "PENDING"


def test_credentials_stay_out_of_repr_errors_and_pickles() -> None:
    dns = make_driver()
    assert SECRET not in repr(dns)
    assert SECRET not in repr(dns._http)
    with pytest.raises(TypeError):
        pickle.dumps(dns)
    with pytest.raises(ConfigurationError):
        make_driver(change_timeout=0)
