"""The ELBv2 load balancer driver against moto server on 127.0.0.1: every portable verb, asyncio and trio.

moto's default VPC (172.31.0.0/16, one default subnet per zone) hosts the balancers; instances for instance
targets are started with a raw EC2 RunInstances call (moto accepts any AMI id).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from asynccloud import DriverType, Provider, get_driver
from asynccloud._http import HttpClient
from asynccloud.auth.aws_credentials import AwsCredentials
from asynccloud.auth.sigv4 import SigV4Auth
from asynccloud.drivers.aws._query import items, query, text
from asynccloud.drivers.aws.elb import ELBv2LoadBalancerDriver
from asynccloud.errors import BalancerNotFoundError, NotSupportedError
from asynccloud.models import Algorithm, BalancerState, Member, Node, NodeState

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

pytestmark = [pytest.mark.anyio, pytest.mark.integration, pytest.mark.timeout(300)]


def driver_for(server: dict[str, str]) -> ELBv2LoadBalancerDriver:
    return ELBv2LoadBalancerDriver(
        server["access_key_id"],
        server["secret_access_key"],
        region=server["region"],
        endpoint=server["endpoint"],
    )


def unique() -> str:
    return f"lb-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def lb(moto_server: dict[str, str]) -> AsyncIterator[ELBv2LoadBalancerDriver]:
    async with driver_for(moto_server) as driver:
        yield driver


async def run_instance(server: dict[str, str]) -> Node:
    """Start one instance in moto with a raw EC2 call (independent of the EC2 driver)."""
    credentials = AwsCredentials(server["access_key_id"], server["secret_access_key"])
    auth = SigV4Auth(credentials, server["region"], "ec2")
    async with HttpClient(provider="aws", base_url=server["endpoint"], auth=auth) as http:
        params = {"ImageId": "ami-12345678", "InstanceType": "t3.micro", "MinCount": 1, "MaxCount": 1}
        root = await query(http, "RunInstances", "2016-11-15", params)
    instance = items(root, "instancesSet")[0]
    return Node(
        id=text(instance, "instanceId") or "",
        name="target",
        state=NodeState.RUNNING,
        private_ips=[text(instance, "privateIpAddress") or ""],
    )


def test_registry_resolves_elbv2() -> None:
    assert get_driver(DriverType.LOADBALANCER, Provider.AWS) is ELBv2LoadBalancerDriver


async def test_protocols_and_algorithms(lb: ELBv2LoadBalancerDriver) -> None:
    assert {"http", "tcp"} <= set(await lb.list_protocols())
    assert await lb.list_supported_algorithms() == [Algorithm.ROUND_ROBIN, Algorithm.LEAST_CONNECTIONS]
    with pytest.raises(NotSupportedError):
        await lb.create_balancer(unique(), 80, "http", Algorithm.RANDOM, [])


async def test_alb_with_ip_members_full_cycle(lb: ELBv2LoadBalancerDriver) -> None:
    name = unique()
    members = [Member(ip="172.31.1.10", port=8080), Member(ip="172.31.1.11", port=8080)]
    balancer = await lb.create_balancer(name, 80, "http", Algorithm.LEAST_CONNECTIONS, members)
    assert balancer.name == name
    assert balancer.hostname
    assert balancer.ip is None
    assert balancer.port == 80
    assert balancer.extra["type"] == "application"
    assert balancer.extra["target_type"] == "ip"
    assert balancer.state in (BalancerState.PENDING, BalancerState.RUNNING)

    fetched = await lb.get_balancer(balancer.id)
    assert (fetched.id, fetched.state, fetched.port) == (balancer.id, BalancerState.RUNNING, 80)
    assert (await lb.get_balancer(name)).id == balancer.id
    assert balancer.id in {b.id for b in await lb.list_balancers()}

    listed = await fetched.list_members()
    assert sorted((m.ip, m.port) for m in listed) == [("172.31.1.10", 8080), ("172.31.1.11", 8080)]
    assert all(m.extra["health"] == "healthy" for m in listed)

    added = await fetched.attach_member(Member(ip="172.31.1.12", port=8080))
    assert added.id == "172.31.1.12:8080"
    await fetched.detach_member(listed[0])
    remaining = sorted(m.ip or "" for m in await fetched.list_members())
    assert remaining == sorted({"172.31.1.10", "172.31.1.11", "172.31.1.12"} - {listed[0].ip or ""})

    group = fetched.extra["target_group_arn"]
    await fetched.destroy()
    with pytest.raises(BalancerNotFoundError):
        await lb.get_balancer(balancer.id)
    assert await _target_group_gone(lb, group)


async def _target_group_gone(lb: ELBv2LoadBalancerDriver, arn: str) -> bool:
    root = await lb._call("DescribeTargetGroups", {}, idempotent=True)
    return arn not in {text(m, "TargetGroupArn") for m in root.iter("member")}


async def test_nlb_with_instance_targets(moto_server: dict[str, str], lb: ELBv2LoadBalancerDriver) -> None:
    first, second = await run_instance(moto_server), await run_instance(moto_server)
    balancer = await lb.create_balancer(unique(), 7000, "tcp", Algorithm.ROUND_ROBIN, [Member(id=first.id)])
    assert balancer.extra["type"] == "network"
    assert balancer.extra["target_type"] == "instance"
    member = await lb.balancer_attach_compute_node(balancer, second)
    assert member.id == f"{second.id}:7000"
    assert member.extra["instance_id"] == second.id
    ids = sorted(m.extra["instance_id"] for m in await balancer.list_members())
    assert ids == sorted([first.id, second.id])
    await balancer.detach_member(member)
    assert [m.extra["instance_id"] for m in await balancer.list_members()] == [first.id]
    with pytest.raises(NotSupportedError):  # least outstanding requests is an ALB feature
        await lb.create_balancer(unique(), 7001, "tcp", Algorithm.LEAST_CONNECTIONS, [])
    await lb.destroy_balancer(balancer)
    assert balancer.id not in {b.id for b in await lb.list_balancers()}
