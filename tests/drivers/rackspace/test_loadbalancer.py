"""Rackspace Cloud Load Balancers against fixtures shaped like the Cloud Load Balancers v1.0 API reference."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import httpx
import pytest
import respx

from asynccloud import (
    BalancerNotFoundError,
    Capability,
    ConfigurationError,
    DriverType,
    InvalidRequestError,
    OperationFailedError,
    OperationTimeoutError,
    Provider,
    get_driver,
)
from asynccloud.drivers.base import LoadBalancerDriver
from asynccloud.drivers.rackspace.loadbalancer import RackspaceLoadBalancerDriver
from asynccloud.models import Algorithm, BalancerState, LoadBalancer, Member, Node, NodeState
from tests.drivers.openstack._support import load_rackspace

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

pytestmark = pytest.mark.anyio

TOKENS = "https://identity.api.rackspacecloud.com/v2.0/tokens"
LB = "https://ord.loadbalancers.api.rackspacecloud.com/v1.0/1100111/loadbalancers"
API_KEY = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        yield router


@pytest.fixture
async def lb(mock: respx.MockRouter) -> AsyncIterator[RackspaceLoadBalancerDriver]:
    mock.post(TOKENS).respond(200, json=load_rackspace("identity_v2_access.json"))
    async with RackspaceLoadBalancerDriver(
        "demoauthor", API_KEY, region="ord", wait_interval=0.001
    ) as driver:
        yield driver


def web(driver: RackspaceLoadBalancerDriver) -> LoadBalancer:
    return driver.bind(LoadBalancer(id="2200", name="web", port=80))


def status(*names: str) -> list[httpx.Response]:
    return [httpx.Response(200, json=load_rackspace(f"lb_get_{n}.json")) for n in names]


async def test_registry_protocol_and_capabilities(lb: RackspaceLoadBalancerDriver) -> None:
    assert get_driver(DriverType.LOADBALANCER, Provider.RACKSPACE) is RackspaceLoadBalancerDriver
    assert isinstance(lb, LoadBalancerDriver)
    assert lb.supports(Capability.BALANCER_UPDATE)
    assert await lb.list_supported_algorithms() == [
        Algorithm.ROUND_ROBIN,
        Algorithm.LEAST_CONNECTIONS,
        Algorithm.RANDOM,
        Algorithm.WEIGHTED_ROUND_ROBIN,
        Algorithm.WEIGHTED_LEAST_CONNECTIONS,
    ]


@pytest.mark.parametrize("kwargs", [{"virtual_ip_type": "X"}, {"wait_timeout": 0}, {"page_size": 0}])
def test_bad_options(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        RackspaceLoadBalancerDriver("u", "k", **kwargs)  # type: ignore[arg-type]


async def test_list_protocols(lb: RackspaceLoadBalancerDriver, mock: respx.MockRouter) -> None:
    mock.get(f"{LB}/protocols").respond(200, json=load_rackspace("lb_protocols.json"))
    assert await lb.list_protocols() == ["dns_tcp", "http", "https", "tcp"]


async def test_list_balancers_follows_markers(
    lb: RackspaceLoadBalancerDriver, mock: respx.MockRouter
) -> None:
    lb._page_size = 2
    route = mock.get(LB).mock(
        side_effect=[
            httpx.Response(200, json=load_rackspace("lb_list_page1.json")),
            httpx.Response(200, json=load_rackspace("lb_list_page2.json")),
        ]
    )
    balancers = await lb.list_balancers()
    assert [b.id for b in balancers] == ["71", "166", "167"]
    assert route.calls[1].request.url.params["marker"] == "166"
    first = balancers[0]
    assert (first.ip, first.hostname, first.port, first.state) == (
        "206.10.10.210",
        None,
        80,
        BalancerState.RUNNING,
    )
    assert first.extra["algorithm"] is Algorithm.RANDOM
    assert balancers[2].state is BalancerState.UNKNOWN
    assert balancers[2].extra["status"] == "SUSPENDED"


async def test_get_balancer_with_members(lb: RackspaceLoadBalancerDriver, mock: respx.MockRouter) -> None:
    mock.get(f"{LB}/2200").respond(200, json=load_rackspace("lb_get_active.json"))
    got = await lb.get_balancer("2200")
    assert got.extra["members"][0].ip == "10.1.1.1"
    mock.get(f"{LB}/9").respond(404, json=load_rackspace("lb_not_found.json"))
    with pytest.raises(BalancerNotFoundError, match="Load balancer not found"):
        await lb.get_balancer("9")


async def test_create_balancer_request_body(lb: RackspaceLoadBalancerDriver, mock: respx.MockRouter) -> None:
    route = mock.post(LB).respond(202, json=load_rackspace("lb_create.json"))
    created = await lb.create_balancer(
        "web",
        80,
        "http",
        Algorithm.WEIGHTED_ROUND_ROBIN,
        [Member(ip="10.1.1.1"), Member(ip="10.1.1.2", port=8080, weight=3)],
    )
    assert json.loads(route.calls.last.request.content) == {
        "loadBalancer": {
            "name": "web",
            "port": 80,
            "protocol": "HTTP",
            "algorithm": "WEIGHTED_ROUND_ROBIN",
            "virtualIps": [{"type": "PUBLIC"}],
            "nodes": [
                {"address": "10.1.1.1", "port": 80, "condition": "ENABLED"},
                {"address": "10.1.1.2", "port": 8080, "condition": "ENABLED", "weight": 3},
            ],
        }
    }
    assert created.state is BalancerState.PENDING
    assert created.id == "2200"
    with pytest.raises(ConfigurationError, match="algorithm"):
        await lb.create_balancer("web", 80, "http", Algorithm.PERSISTENT_IP, [Member(ip="10.1.1.1")])
    with pytest.raises(ConfigurationError, match="at least one"):
        await lb.create_balancer("web", 80, "http", Algorithm.RANDOM, [])


async def test_attach_waits_for_pending_update_to_end(
    lb: RackspaceLoadBalancerDriver, mock: respx.MockRouter
) -> None:
    get = mock.get(f"{LB}/2200").mock(side_effect=status("pending_update", "pending_update", "active"))
    post = mock.post(f"{LB}/2200/nodes").respond(202, json=load_rackspace("lb_add_node.json"))
    member = await web(lb).attach_member(Member(ip="10.1.1.3", weight=2))
    assert get.call_count == 3
    assert json.loads(post.calls.last.request.content) == {
        "nodes": [{"address": "10.1.1.3", "port": 80, "condition": "ENABLED", "weight": 2}]
    }
    assert (member.id, member.ip, member.extra["condition"]) == ("412", "10.1.1.3", "ENABLED")


async def test_attach_compute_node_uses_private_ip(
    lb: RackspaceLoadBalancerDriver, mock: respx.MockRouter
) -> None:
    mock.get(f"{LB}/2200").mock(side_effect=status("active"))
    post = mock.post(f"{LB}/2200/nodes").respond(202, json=load_rackspace("lb_add_node.json"))
    node = Node(
        id="n1", name="web1", state=NodeState.RUNNING, public_ips=["198.51.100.3"], private_ips=["10.1.1.3"]
    )
    await lb.balancer_attach_compute_node(web(lb), node)
    assert json.loads(post.calls.last.request.content)["nodes"][0]["address"] == "10.1.1.3"


async def test_detach_by_id_and_by_address(lb: RackspaceLoadBalancerDriver, mock: respx.MockRouter) -> None:
    mock.get(f"{LB}/2200").mock(side_effect=status("pending_update", "active", "active"))
    mock.get(f"{LB}/2200/nodes").respond(200, json=load_rackspace("lb_nodes.json"))
    by_id = mock.delete(f"{LB}/2200/nodes/410").respond(202)
    by_ip = mock.delete(f"{LB}/2200/nodes/411").respond(202)
    await web(lb).detach_member(Member(id="410"))
    await web(lb).detach_member(Member(ip="10.1.1.2", port=80))
    assert by_id.call_count == by_ip.call_count == 1
    members = await web(lb).list_members()
    assert [(m.id, m.weight) for m in members] == [("410", 1), ("411", 2)]


async def test_wait_fails_on_error_and_times_out(mock: respx.MockRouter) -> None:
    mock.post(TOKENS).respond(200, json=load_rackspace("identity_v2_access.json"))
    error = load_rackspace("lb_get_active.json")
    error["loadBalancer"]["status"] = "ERROR"
    async with RackspaceLoadBalancerDriver("u", API_KEY, wait_timeout=0.05, wait_interval=0.001) as lb:
        mock.get(f"{LB}/2200").respond(200, json=error)
        with pytest.raises(OperationFailedError, match="ERROR"):
            await lb.destroy_balancer(web(lb))
        mock.get(f"{LB}/2200").respond(200, json=load_rackspace("lb_get_pending_update.json"))
        with pytest.raises(OperationTimeoutError, match="PENDING_UPDATE"):
            await web(lb).attach_member(Member(ip="10.1.1.9"))


async def test_immutable_answer_is_an_invalid_request(
    lb: RackspaceLoadBalancerDriver, mock: respx.MockRouter
) -> None:
    mock.get(f"{LB}/2200").mock(side_effect=status("active"))
    mock.post(f"{LB}/2200/nodes").respond(422, json=load_rackspace("lb_immutable.json"))
    with pytest.raises(InvalidRequestError, match="considered immutable"):
        await web(lb).attach_member(Member(ip="10.1.1.9"))


async def test_update_balancer_waits_and_returns_result(
    lb: RackspaceLoadBalancerDriver, mock: respx.MockRouter
) -> None:
    mock.get(f"{LB}/2200").mock(side_effect=status("active", "pending_update", "active"))
    put = mock.put(f"{LB}/2200").respond(202)
    updated = await lb.update_balancer(web(lb), name="web2", algorithm=Algorithm.LEAST_CONNECTIONS, port=8080)
    assert json.loads(put.calls.last.request.content) == {
        "loadBalancer": {"name": "web2", "port": 8080, "algorithm": "LEAST_CONNECTIONS"}
    }
    assert updated.state is BalancerState.RUNNING


async def test_destroy_waits_then_deletes(lb: RackspaceLoadBalancerDriver, mock: respx.MockRouter) -> None:
    get = mock.get(f"{LB}/2200").mock(side_effect=status("pending_update", "active"))
    delete = mock.delete(f"{LB}/2200").respond(202)
    await web(lb).destroy()
    assert get.call_count == 2
    assert delete.call_count == 1
