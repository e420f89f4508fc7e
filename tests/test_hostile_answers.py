"""Hostile or broken successful answers to the JSON drivers → ``ProviderError``, never a bare exception.

Every read verb of the OpenStack and Rackspace drivers is given 200 answers that a server (or something in
between) could send: invalid JSON, the wrong JSON type at the top or one level down, ``null`` where an
object belongs, missing keys, strings where numbers belong, nesting deeper than the decoder allows, huge
numbers. The verb must either return a well-typed result (some shapes are legitimately empty) or raise a
:class:`~asynccloud.errors.ProviderError`; it must not hang, and it must not send more requests than the
one it was answered on (plus the identity call). The same holds for the identity answer itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asynccloud import RetryPolicy
from asynccloud.drivers.openstack import OpenStackNodeDriver, SwiftStorageDriver
from asynccloud.drivers.openstack.designate import DesignateDNSDriver
from asynccloud.drivers.openstack.octavia import OctaviaLoadBalancerDriver
from asynccloud.drivers.rackspace.compute import RackspaceNodeDriver
from asynccloud.drivers.rackspace.dns import RackspaceDNSDriver
from asynccloud.drivers.rackspace.loadbalancer import RackspaceLoadBalancerDriver
from asynccloud.errors import ProviderError
from asynccloud.models import Container, LoadBalancer, Zone
from tests.drivers.openstack._support import KEYSTONE, PASSWORD, V3_TOKENS, load, load_rackspace

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

pytestmark = pytest.mark.anyio

ONCE = RetryPolicy(max_attempts=1)
RACKSPACE_TOKENS = "https://identity.api.rackspacecloud.com/v2.0/tokens"
API_KEY = "0123456789abcdef0123456789abcdef"

#: The collection and object keys the drivers look for.
KEYS = (
    "servers", "flavors", "images", "zones", "recordsets", "loadbalancers", "loadBalancers", "domains",
    "records", "keypairs", "availabilityZoneInfo", "server", "loadbalancer", "loadBalancer", "nodes",
    "protocols", "links",
)  # fmt: skip
#: Raw bodies served with status 200 and Content-Type application/json.
HOSTILE: dict[str, bytes] = {
    "not json": b"<html>502 Bad Gateway</html>",
    "truncated json": b'{"servers": [{"id": "a", "name": ',
    "empty": b"",
    "null": b"null",
    "list at top": b"[]",
    "string at top": b'"hello"',
    "number at top": b"12345",
    "empty object": b"{}",
    "null values": json.dumps(dict.fromkeys(KEYS)).encode(),
    "lists of scalars": json.dumps({k: [1, "x", None] for k in KEYS}).encode(),
    "strings for objects": json.dumps(dict.fromkeys(KEYS, "x")).encode(),
    "deep nesting": b"[" * 100_000 + b"]" * 100_000,
    "huge number": b'{"servers": [{"id": 1' + b"0" * 5000 + b"}]}",
    "infinite float": b'{"flavors": [{"id": "f", "ram": 1e999, "vcpus": -1e999, "disk": 1e400}]}',
    "objects without ids": json.dumps({k: [{"name": 5, "status": [], "created": {}}] for k in KEYS}).encode(),
}


@dataclass(frozen=True)
class Verb:
    name: str
    base: str  # every request under this URL gets the hostile answer
    make: Callable[[respx.MockRouter], Any]  # builds the driver (and mocks its identity service)
    call: Callable[[Any], Awaitable[object]]


async def drain(iterator: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in iterator]


def _keystone(mock: respx.MockRouter, catalog: str = "keystone_v3_token_compute.json") -> None:
    mock.post(V3_TOKENS).respond(201, headers={"X-Subject-Token": "tok"}, json=load(catalog))


def _rackspace(mock: respx.MockRouter) -> None:
    mock.post(RACKSPACE_TOKENS).respond(200, json=load_rackspace("identity_v2_access.json"))


def nova(mock: respx.MockRouter) -> OpenStackNodeDriver:
    _keystone(mock)
    return OpenStackNodeDriver(
        "demo", PASSWORD, auth_url=KEYSTONE, project_name="demo", region="RegionOne", retry=ONCE
    )


def designate(mock: respx.MockRouter) -> DesignateDNSDriver:
    _keystone(mock, "keystone_v3_token.json")
    return DesignateDNSDriver(
        "demo", PASSWORD, auth_url=KEYSTONE, tenant_name="demo", retry=ONCE,
        endpoint="https://designate.example.com:9001/", wait_interval=0.001,
    )  # fmt: skip


def octavia(mock: respx.MockRouter) -> OctaviaLoadBalancerDriver:
    _keystone(mock, "keystone_v3_token.json")
    return OctaviaLoadBalancerDriver(
        "demo", PASSWORD, auth_url=KEYSTONE, tenant_name="demo", retry=ONCE,
        endpoint="https://octavia.example.com:9876", vip_subnet_id="s", wait_interval=0.001,
    )  # fmt: skip


def swift(mock: respx.MockRouter) -> SwiftStorageDriver:
    _keystone(mock, "keystone_v3_token.json")
    return SwiftStorageDriver(
        "demo", PASSWORD, auth_url=KEYSTONE, tenant_name="demo", region="RegionOne", retry=ONCE
    )


def rackspace_compute(mock: respx.MockRouter) -> RackspaceNodeDriver:
    _rackspace(mock)
    return RackspaceNodeDriver("demoauthor", API_KEY, region="ord", retry=ONCE)


def rackspace_dns(mock: respx.MockRouter) -> RackspaceDNSDriver:
    _rackspace(mock)
    return RackspaceDNSDriver("demoauthor", API_KEY, job_interval=0.001, retry=ONCE)


def rackspace_lb(mock: respx.MockRouter) -> RackspaceLoadBalancerDriver:
    _rackspace(mock)
    return RackspaceLoadBalancerDriver("demoauthor", API_KEY, region="ord", wait_interval=0.001, retry=ONCE)


NOVA = "https://nova.example.com:8774/v2.1"
GLANCE = "https://glance.example.com:9292"
CINDER = "https://cinder.example.com:8776/v3"
RCOMPUTE = "https://ord.servers.api.rackspacecloud.com/v2/1100111"
DES = "https://designate.example.com:9001/v2"
OCT = "https://octavia.example.com:9876/v2"
SWIFT = "https://swift.example.com/v1/"
RDNS = "https://dns.api.rackspacecloud.com/v1.0/1100111"
RLB = "https://ord.loadbalancers.api.rackspacecloud.com/v1.0/1100111/loadbalancers"

ZONE = Zone(id="z1", domain="example.com.")
RZONE = Zone(id="12", domain="example.com")
BALANCER = LoadBalancer(id="22", name="w", port=80)
POOLED = LoadBalancer(id="b1", name="w", port=80, extra={"pool_id": "p1"})
VERBS = [
    Verb("nova.list_nodes", NOVA, nova, lambda d: d.list_nodes()),
    Verb("nova.get_node", NOVA, nova, lambda d: d.get_node("n1")),
    Verb("nova.list_sizes", NOVA, nova, lambda d: d.list_sizes()),
    Verb("nova.list_locations", NOVA, nova, lambda d: d.list_locations()),
    Verb("nova.list_key_pairs", NOVA, nova, lambda d: d.list_key_pairs()),
    Verb("nova.get_key_pair", NOVA, nova, lambda d: d.get_key_pair("k")),
    Verb("glance.list_images", GLANCE, nova, lambda d: d.list_images()),
    Verb("glance.get_image", GLANCE, nova, lambda d: d.get_image("i1")),
    Verb("cinder.list_volumes", CINDER, nova, lambda d: d.list_volumes()),
    Verb("rackspace_compute.list_nodes", RCOMPUTE, rackspace_compute, lambda d: d.list_nodes()),
    Verb("rackspace_compute.list_images", RCOMPUTE, rackspace_compute, lambda d: d.list_images()),
    Verb("designate.list_zones", DES, designate, lambda d: d.list_zones()),
    Verb("designate.get_zone", DES, designate, lambda d: d.get_zone("z1")),
    Verb("designate.list_records", DES, designate, lambda d: drain(d.iterate_records(ZONE))),
    Verb("octavia.list_balancers", OCT, octavia, lambda d: d.list_balancers()),
    Verb("octavia.get_balancer", OCT, octavia, lambda d: d.get_balancer("b1")),
    Verb("octavia.list_members", OCT, octavia, lambda d: d.balancer_list_members(POOLED)),
    Verb("swift.list_containers", SWIFT, swift, lambda d: d.list_containers()),
    Verb("swift.list_objects", SWIFT, swift, lambda d: d.list_container_objects(Container(name="box"))),
    Verb("rackspace_dns.list_zones", RDNS, rackspace_dns, lambda d: d.list_zones()),
    Verb("rackspace_dns.get_zone", RDNS, rackspace_dns, lambda d: d.get_zone("12")),
    Verb("rackspace_dns.list_records", RDNS, rackspace_dns, lambda d: drain(d.iterate_records(RZONE))),
    Verb("rackspace_lb.list_balancers", RLB, rackspace_lb, lambda d: d.list_balancers()),
    Verb("rackspace_lb.get_balancer", RLB, rackspace_lb, lambda d: d.get_balancer("22")),
    Verb("rackspace_lb.list_members", RLB, rackspace_lb, lambda d: d.balancer_list_members(BALANCER)),
    Verb("rackspace_lb.list_protocols", RLB, rackspace_lb, lambda d: d.list_protocols()),
]  # fmt: skip


async def answer(verb: Verb, body: bytes) -> tuple[object, int]:
    """Run ``verb`` with ``body`` as every answer of its service; its outcome and the requests it sent."""
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as mock:
        route = mock.route(url__startswith=verb.base).respond(
            200, content=body, headers={"Content-Type": "application/json"}
        )
        async with verb.make(mock) as driver:
            try:
                outcome: object = await verb.call(driver)
            except ProviderError as exc:
                outcome = exc
        return outcome, route.call_count


@pytest.mark.parametrize("body", list(HOSTILE.values()), ids=list(HOSTILE))
@pytest.mark.parametrize("verb", VERBS, ids=[v.name for v in VERBS])
async def test_hostile_answers_are_provider_errors(verb: Verb, body: bytes) -> None:
    outcome, calls = await answer(verb, body)
    assert isinstance(outcome, ProviderError | list | tuple) or hasattr(outcome, "model_dump"), outcome
    assert calls <= 2  # the answer, and at most one follow-up (e.g. a page link it could still read)
    if isinstance(outcome, ProviderError):
        assert outcome.provider  # names who sent it
        assert PASSWORD not in str(outcome)
        assert "tok" not in str(outcome).replace("token", "")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
#: Top-level shapes near the real ones: the collection keys the drivers look for, holding anything.
SHAPED = st.dictionaries(
    st.sampled_from([*KEYS, "next", "id", "name", "status"]),
    JSON,
    max_size=4,
)  # fmt: skip


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=st.one_of(JSON, SHAPED), index=st.integers(0, len(VERBS) - 1))
async def test_arbitrary_json_answers(document: Any, index: int) -> None:
    verb = VERBS[index]
    outcome, calls = await answer(verb, json.dumps(document).encode())
    assert isinstance(outcome, ProviderError | list | tuple) or hasattr(outcome, "model_dump"), outcome
    assert calls <= 2


@pytest.mark.parametrize("body", list(HOSTILE.values()), ids=list(HOSTILE))
async def test_hostile_identity_answers_are_provider_errors(body: bytes) -> None:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as mock:
        tokens = mock.post(V3_TOKENS).respond(201, content=body, headers={"X-Subject-Token": "tok"})
        async with OpenStackNodeDriver(
            "demo", PASSWORD, auth_url=KEYSTONE, project_name="demo", region="RegionOne", retry=ONCE
        ) as driver:
            with pytest.raises(ProviderError):
                await driver.list_nodes()
        assert tokens.call_count == 1


async def test_a_bug_before_any_answer_is_not_blamed_on_the_provider() -> None:
    # Without a response in scope, a TypeError stays a TypeError (not a misleading ProviderError).
    class Broken(OpenStackNodeDriver):
        async def list_locations(self) -> list[Any]:
            raise TypeError("a bug in the driver")

    with respx.mock(assert_all_called=False, assert_all_mocked=True) as mock:
        _keystone(mock)
        async with Broken("demo", PASSWORD, auth_url=KEYSTONE, project_name="demo", region="RegionOne") as d:
            with pytest.raises(TypeError, match="a bug in the driver"):
                await d.list_locations()


async def test_an_unreadable_answer_names_the_verb_and_keeps_the_cause() -> None:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as mock:
        _keystone(mock)
        mock.get(f"{NOVA}/servers/n1").respond(200, json={"server": {"name": "no id"}})
        async with nova(mock) as driver:
            with pytest.raises(ProviderError, match="get_node") as info:
                await driver.get_node("n1")
    assert info.value.code == "MalformedResponse"
    assert info.value.__cause__ is not None


@pytest.mark.parametrize(
    "entry", [None, 5, "name", [], {}, {"name": 5}, {"bytes": 3}], ids=lambda e: json.dumps(e)
)
async def test_a_swift_listing_entry_without_a_name_is_an_error_not_a_gap(entry: object) -> None:
    listing = [{"name": "a", "bytes": 1}, entry, {"name": "c", "bytes": 1}]
    outcome, _ = await answer(
        Verb("swift.list_objects", SWIFT, swift, lambda d: d.list_container_objects(Container(name="box"))),
        json.dumps(listing).encode(),
    )
    assert isinstance(outcome, ProviderError)
    assert outcome.code == "MalformedListing"
    assert "entry 1" in str(outcome)


async def test_swift_pseudo_directories_are_not_objects_and_not_errors() -> None:
    listing = [{"name": "a", "bytes": 1, "hash": "h", "last_modified": "2026-01-01T00:00:00.000000"},
               {"subdir": "photos/"}]  # fmt: skip
    outcome, _ = await answer(
        Verb("swift.list_objects", SWIFT, swift, lambda d: d.list_container_objects(Container(name="box"))),
        json.dumps(listing).encode(),
    )
    assert isinstance(outcome, list)
    assert [o.name for o in outcome] == ["a"]


# ------------------------------------------------------------------------------ every verb is guarded


def _http_drivers() -> list[type]:
    from asynccloud.drivers._http_driver import HttpDriverBase
    from asynccloud.drivers.rackspace.cloudfiles import CloudFilesStorageDriver

    return [OpenStackNodeDriver, RackspaceNodeDriver, SwiftStorageDriver, CloudFilesStorageDriver,
            DesignateDNSDriver, RackspaceDNSDriver, OctaviaLoadBalancerDriver, RackspaceLoadBalancerDriver,
            HttpDriverBase]  # fmt: skip


@pytest.mark.parametrize("cls", _http_drivers()[:-1], ids=lambda c: c.__name__)
def test_every_verb_a_driver_adds_is_guarded(cls: type) -> None:
    # A verb from a mixin that is no HttpDriverBase (Cinder's volume verbs) escaped the guard once.
    import inspect

    from asynccloud.drivers import _kinds, base

    generic = {c for c in cls.__mro__ if c.__module__ in (_kinds.__name__, base.__name__)} | {object}
    unguarded = [
        name
        for name in dir(cls)
        if not name.startswith("_")
        and name not in ("upload_object", "upload_object_via_stream", "deploy_node", "aclose")
        and (inspect.iscoroutinefunction(getattr(cls, name)) or name.startswith("iterate_"))
        and next(c for c in cls.__mro__ if name in c.__dict__) not in generic
        and not getattr(getattr(cls, name), "__asynccloud_unreadable__", False)
    ]
    assert unguarded == []


# ------------------------------------------------------------------------------------ shapes, one by one


@dataclass(frozen=True)
class Shape:
    verb: str
    body: object  # the JSON document of every answer of the service
    says: str  # what the error's message must name


SHAPES = [
    Shape("nova.get_node", [], "the body is a list, expected an object"),
    Shape("nova.get_node", {"server": None}, "server is null, expected an object"),
    Shape("nova.get_node", {"server": {"name": "no id"}}, "server.id is missing"),
    Shape("nova.get_node", {"server": {"id": {"nested": 1}}}, "server.id is an object, expected an id"),
    Shape("nova.get_node", {"server": {"id": "n1", "name": ["x"]}}, "server.name is a list"),
    Shape("nova.list_nodes", {}, "servers is missing"),
    Shape("nova.list_nodes", {"servers": "abc"}, "servers is a string, expected a list"),
    Shape("nova.list_nodes", {"servers": [{"id": "a"}, 5]}, "servers[1] is an integer, expected an object"),
    Shape(
        "nova.list_nodes",
        {"servers": [{"id": "a"}], "servers_links": {"rel": "next", "href": "x"}},
        "servers_links is an object, expected a list",
    ),
    Shape("nova.list_sizes", {"flavors": [{"id": "f", "ram": "lots"}]}, "flavor.ram is a string"),
    Shape(
        "nova.list_sizes", {"flavors": [{"id": "f", "ram": 512, "disk": True}]}, "flavor.disk is a boolean"
    ),
    Shape("nova.list_locations", {"availabilityZoneInfo": [{"zoneName": 5}]}, "zoneName is an integer"),
    Shape("nova.get_key_pair", {"keypair": {"public_key": "ssh-ed25519 AAAA"}}, "keypair.name is missing"),
    Shape(
        "glance.list_images", {"images": [{"id": "i"}], "next": 5}, "next is an integer, expected a string"
    ),
    Shape("glance.get_image", {"name": "no id"}, "image.id is missing"),
    Shape("cinder.list_volumes", {"volumes": [{"id": "v", "size": "big"}]}, "volume.size is a string"),
    Shape("rackspace_compute.list_images", {"images": [{"name": "x"}]}, "image.id is missing"),
    Shape(
        "designate.list_zones",
        {"zones": [{"id": "z", "name": "example.com."}], "links": ["x"]},
        "links is a list, expected an object",
    ),
    Shape("designate.get_zone", {"id": "z"}, "zone.name is missing"),
    Shape(
        "designate.list_records",
        {
            "recordsets": [
                {"id": "r", "zone_id": "z1", "type": "A", "name": "www.example.com.", "records": "192.0.2.1"}
            ]
        },
        "recordset.records is a string, expected a list",
    ),
    Shape(
        "octavia.list_balancers",
        {"listeners": [], "loadbalancers": [{"id": "b", "listeners": ["x"]}]},
        "loadbalancer.listeners[0] is a string, expected an object",
    ),
    Shape(
        "octavia.get_balancer",
        {"loadbalancer": {"id": "b", "provisioning_status": 5}},
        "loadbalancer.provisioning_status is an integer, expected a string",
    ),
    Shape(
        "octavia.list_members", {"members": [{"id": "m", "protocol_port": "http"}]}, "member.protocol_port"
    ),
    Shape("swift.list_objects", [{"name": "a", "bytes": "many"}], "entry 0.bytes is a string"),
    Shape("swift.list_containers", [{"name": "a", "count": -1, "bytes": 0}], "entry 0.count is negative"),
    Shape(
        "rackspace_dns.list_zones",
        {"domains": [{"id": 1, "name": "example.com"}], "totalEntries": "many"},
        "totalEntries is a string, expected an integer",
    ),
    Shape("rackspace_dns.get_zone", {"id": 1}, "domain.name is missing"),
    Shape(
        "rackspace_dns.list_records",
        {"records": [{"id": "A-1", "name": "www.example.com", "type": "A", "data": 5}]},
        "record.data is an integer, expected a string",
    ),
    Shape(
        "rackspace_lb.list_balancers", {"loadBalancers": {}}, "loadBalancers is an object, expected a list"
    ),
    Shape("rackspace_lb.list_protocols", {"protocols": [{"name": 5}]}, "protocol.name is an integer"),
    Shape(
        "rackspace_lb.get_balancer",
        {"loadBalancer": {"id": 22, "nodes": "x"}},
        "loadBalancer.nodes is a string",
    ),
]
BY_NAME = {verb.name: verb for verb in VERBS}


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s.verb}: {s.says}")
async def test_each_wrong_shape_is_named(shape: Shape) -> None:
    verb = BY_NAME[shape.verb]
    outcome, calls = await answer(verb, json.dumps(shape.body).encode())
    assert isinstance(outcome, ProviderError), outcome
    listing = shape.verb.startswith("swift.")
    assert outcome.code == ("MalformedListing" if listing else "MalformedResponse")
    assert outcome.status == 200
    assert shape.says in str(outcome)
    if listing:
        assert ("container 'box'" if "objects" in shape.verb else "the account") in str(outcome)
    assert calls == (2 if shape.verb == "octavia.list_balancers" else 1)  # no request after the bad answer


# ---------------------------------------------------------------------------- waits on unreadable states


async def test_designate_does_not_wait_on_a_zone_without_a_status() -> None:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as mock:
        mock.post(f"{DES}/zones").respond(202, json={"id": "z1", "name": "example.com.", "status": "PENDING"})
        polls = mock.get(f"{DES}/zones/z1").respond(200, json={"id": "z1", "name": "example.com."})
        async with designate(mock) as driver:
            with anyio.fail_after(10), pytest.raises(ProviderError, match=r"zone.status is missing"):
                await driver.create_zone("example.com", extra={"email": "hostmaster@example.com"})
    assert polls.call_count == 1


async def test_octavia_does_not_wait_on_a_balancer_without_a_status() -> None:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as mock:
        polls = mock.get(f"{OCT}/lbaas/loadbalancers/b1").respond(200, json={"loadbalancer": {"id": "b1"}})
        deletes = mock.delete(url__startswith=OCT).respond(204)
        async with octavia(mock) as driver:
            with anyio.fail_after(10), pytest.raises(ProviderError, match="provisioning_status is missing"):
                await driver.destroy_balancer(LoadBalancer(id="b1", name="w"))
    assert polls.call_count == 1
    assert deletes.call_count == 0


async def test_rackspace_lb_does_not_act_on_a_balancer_without_a_status() -> None:
    # No status is not "out of its transitional state": nothing is deleted on the strength of it.
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as mock:
        mock.get(f"{RLB}/22").respond(200, json={"loadBalancer": {"id": 22, "name": "w"}})
        deletes = mock.delete(url__startswith=RLB).respond(202)
        async with rackspace_lb(mock) as driver:
            with anyio.fail_after(10), pytest.raises(ProviderError, match=r"loadBalancer.status is missing"):
                await driver.destroy_balancer(BALANCER)
    assert deletes.call_count == 0


async def test_rackspace_dns_does_not_wait_on_a_job_without_a_status() -> None:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as mock:
        job = {"jobId": "j1", "callbackUrl": f"{RDNS}/status/j1", "status": "RUNNING"}
        mock.delete(f"{RDNS}/domains/12").respond(202, json=job)
        polls = mock.get(f"{RDNS}/status/j1").respond(200, json={"jobId": "j1"})
        async with rackspace_dns(mock) as driver:
            with anyio.fail_after(10), pytest.raises(ProviderError, match=r"job.status is missing"):
                await driver.delete_zone(RZONE)
    assert polls.call_count == 1
