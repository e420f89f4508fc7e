"""Octavia v2 against fixtures shaped like the OpenStack Load Balancer API v2 reference."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import httpx
import pytest

from asynccloud import (
    BalancerNotFoundError,
    ConfigurationError,
    DriverType,
    OperationFailedError,
    OperationTimeoutError,
    Provider,
    get_driver,
)
from asynccloud.drivers.base import LoadBalancerDriver
from asynccloud.drivers.openstack.octavia import OctaviaLoadBalancerDriver
from asynccloud.models import Algorithm, BalancerState, LoadBalancer, Member
from tests.drivers.openstack._support import KEYSTONE, PASSWORD, load

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import respx

pytestmark = pytest.mark.anyio

OCT = "https://octavia.example.com:9876/v2/lbaas"
LBID = "607226db-27ef-4d41-ae89-f2a800e9c2db"
L1 = "023f2e34-7806-443b-bfae-16c324569a3d"
P1 = "4029d267-3983-4224-a3d0-afb3fe16a2cd"
SUBNET = "d4af86e1-0051-488c-b7a0-527f97490c9a"


def make(**kwargs: object) -> OctaviaLoadBalancerDriver:
    options: dict[str, object] = {
        "auth_url": KEYSTONE,
        "tenant_name": "demo",
        "endpoint": "https://octavia.example.com:9876",
        "vip_subnet_id": SUBNET,
        "wait_interval": 0.001,
        **kwargs,
    }
    return OctaviaLoadBalancerDriver("demo", PASSWORD, **options)  # type: ignore[arg-type]


@pytest.fixture
async def lb(tokens: respx.Route) -> AsyncIterator[OctaviaLoadBalancerDriver]:
    async with make() as driver:
        yield driver


def ok(name: str, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=load(name))


def web(driver: OctaviaLoadBalancerDriver) -> LoadBalancer:
    return driver.bind(LoadBalancer(id=LBID, name="web", port=80, extra={"pool_id": P1}))


def test_vip_subnet_is_required() -> None:
    with pytest.raises(ConfigurationError, match="vip_subnet_id"):
        make(vip_subnet_id=None)


async def test_registry_and_protocol(lb: OctaviaLoadBalancerDriver) -> None:
    assert get_driver(DriverType.LOADBALANCER, Provider.OPENSTACK) is OctaviaLoadBalancerDriver
    assert isinstance(lb, LoadBalancerDriver)
    assert await lb.list_supported_algorithms() == [
        Algorithm.ROUND_ROBIN,
        Algorithm.LEAST_CONNECTIONS,
        Algorithm.PERSISTENT_IP,
    ]
    assert "http" in await lb.list_protocols()


async def test_create_builds_the_chain_in_order(
    lb: OctaviaLoadBalancerDriver, mock: respx.MockRouter
) -> None:
    order: list[str] = []

    def record(name: str, fixture: str) -> httpx.Response:
        order.append(name)
        return ok(fixture, 201)

    lb_post = mock.post(f"{OCT}/loadbalancers").mock(
        side_effect=lambda r: record("lb", "octavia_lb_pending_create.json")
    )
    listener = mock.post(f"{OCT}/listeners").mock(
        side_effect=lambda r: record("listener", "octavia_listener.json")
    )
    pool = mock.post(f"{OCT}/pools").mock(side_effect=lambda r: record("pool", "octavia_pool.json"))
    member = mock.post(f"{OCT}/pools/{P1}/members").mock(
        side_effect=lambda r: record("member", "octavia_member.json")
    )

    def status(request: httpx.Request) -> httpx.Response:
        # Each step leaves the balancer PENDING_* for one poll, then ACTIVE.
        order.append("wait")
        pending = len(order) >= 2 and order[-2] != "wait"
        return ok("octavia_lb_pending_update.json" if pending else "octavia_lb_active.json")

    mock.get(f"{OCT}/loadbalancers/{LBID}").mock(side_effect=status)
    created = await lb.create_balancer(
        "web",
        80,
        "http",
        Algorithm.PERSISTENT_IP,
        [Member(ip="192.0.2.16"), Member(ip="192.0.2.17", port=8080, weight=5)],
    )
    steps = [s for i, s in enumerate(order) if s != "wait" or order[i - 1] != "wait"]
    assert steps == ["lb", "wait", "listener", "wait", "pool", "wait", "member", "wait", "member", "wait"]
    assert json.loads(lb_post.calls.last.request.content) == {
        "loadbalancer": {"name": "web", "vip_subnet_id": SUBNET}
    }
    assert json.loads(listener.calls.last.request.content) == {
        "listener": {"name": "web", "protocol": "HTTP", "protocol_port": 80, "loadbalancer_id": LBID}
    }
    assert json.loads(pool.calls.last.request.content) == {
        "pool": {"name": "web", "protocol": "HTTP", "lb_algorithm": "SOURCE_IP", "listener_id": L1}
    }
    assert [json.loads(c.request.content) for c in member.calls] == [
        {"member": {"address": "192.0.2.16", "protocol_port": 80}},
        {"member": {"address": "192.0.2.17", "protocol_port": 8080, "weight": 5}},
    ]
    assert (created.ip, created.port, created.state) == ("203.0.113.50", 80, BalancerState.RUNNING)
    assert created.extra["pool_id"] == P1


async def test_failed_create_cleans_up(lb: OctaviaLoadBalancerDriver, mock: respx.MockRouter) -> None:
    mock.post(f"{OCT}/loadbalancers").mock(return_value=ok("octavia_lb_pending_create.json", 201))
    mock.get(f"{OCT}/loadbalancers/{LBID}").mock(return_value=ok("octavia_lb_error.json"))
    delete = mock.delete(f"{OCT}/loadbalancers/{LBID}").respond(204)
    with pytest.raises(OperationFailedError, match="ERROR"):
        await lb.create_balancer("web", 80, "http", Algorithm.ROUND_ROBIN, [])
    assert delete.calls.last.request.url.params["cascade"] == "true"


async def test_create_validation(lb: OctaviaLoadBalancerDriver) -> None:
    with pytest.raises(ConfigurationError, match="algorithms"):
        await lb.create_balancer("web", 80, "http", Algorithm.RANDOM, [])
    with pytest.raises(ConfigurationError, match="protocols"):
        await lb.create_balancer("web", 80, "sctp-ish", Algorithm.ROUND_ROBIN, [])


async def test_destroy_is_a_cascade_delete(lb: OctaviaLoadBalancerDriver, mock: respx.MockRouter) -> None:
    mock.get(f"{OCT}/loadbalancers/{LBID}").mock(
        side_effect=[ok("octavia_lb_pending_update.json"), ok("octavia_lb_active.json")]
    )
    delete = mock.delete(f"{OCT}/loadbalancers/{LBID}").respond(204)
    await web(lb).destroy()
    assert delete.calls.last.request.url.params["cascade"] == "true"


async def test_members_attach_detach_list(lb: OctaviaLoadBalancerDriver, mock: respx.MockRouter) -> None:
    get = mock.get(f"{OCT}/loadbalancers/{LBID}").mock(
        side_effect=[ok("octavia_lb_pending_update.json"), ok("octavia_lb_active.json")]
        + [ok("octavia_lb_active.json")] * 4
    )
    post = mock.post(f"{OCT}/pools/{P1}/members").respond(201, json=load("octavia_member.json"))
    mock.get(f"{OCT}/pools/{P1}/members").respond(200, json=load("octavia_members.json"))
    delete = mock.delete(f"{OCT}/pools/{P1}/members/a1b2c3d4-1bd2-449b-8455-820b6e4b63f4").respond(204)
    added = await web(lb).attach_member(Member(ip="192.0.2.16"))
    assert get.call_count == 3  # PENDING_UPDATE, ACTIVE before; ACTIVE after
    assert json.loads(post.calls.last.request.content) == {
        "member": {"address": "192.0.2.16", "protocol_port": 80}
    }
    assert added.id == "957a1ace-1bd2-449b-8455-820b6e4b63f3"
    members = await web(lb).list_members()
    assert [m.ip for m in members] == ["192.0.2.16", "192.0.2.17"]
    await web(lb).detach_member(Member(ip="192.0.2.17"))
    assert delete.call_count == 1


async def test_list_and_get_balancers(lb: OctaviaLoadBalancerDriver, mock: respx.MockRouter) -> None:
    mock.get(f"{OCT}/listeners").respond(200, json=load("octavia_listeners.json"))
    route = mock.get(f"{OCT}/loadbalancers").mock(
        side_effect=[ok("octavia_lbs_page1.json"), ok("octavia_lbs_page2.json")]
    )
    balancers = await lb.list_balancers()
    assert [(b.name, b.port, b.ip) for b in balancers] == [
        ("web", 80, "203.0.113.50"),
        ("db", None, "203.0.113.51"),
    ]
    assert route.calls[1].request.url.params["marker"] == LBID
    mock.get(f"{OCT}/loadbalancers/{LBID}").respond(200, json=load("octavia_lb_active.json"))
    mock.get(f"{OCT}/listeners/{L1}").respond(200, json=load("octavia_listener.json"))
    got = await lb.get_balancer(LBID)
    assert (got.port, got.extra["pool_id"], got.extra["protocol"]) == (80, P1, "http")


async def test_errors_and_timeout(mock: respx.MockRouter, tokens: respx.Route) -> None:
    async with make(wait_timeout=0.05) as lb:
        mock.get(f"{OCT}/loadbalancers/nope").respond(404, json=load("octavia_not_found.json"))
        with pytest.raises(BalancerNotFoundError, match="could not be found"):
            await lb.get_balancer("nope")
        mock.get(f"{OCT}/loadbalancers/{LBID}").mock(return_value=ok("octavia_lb_pending_update.json"))
        with pytest.raises(OperationTimeoutError, match="PENDING_UPDATE"):
            await web(lb).attach_member(Member(ip="192.0.2.20"))
