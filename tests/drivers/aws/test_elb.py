"""Unit tests of the ELBv2 load balancer driver: a respx fake answers Query actions with fixture documents."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import httpx
import pytest
import respx

from asynccloud.drivers.aws.elb import ELBv2LoadBalancerDriver
from asynccloud.errors import (
    BalancerNotFoundError,
    ConfigurationError,
    InvalidRequestError,
    NotSupportedError,
)
from asynccloud.models import Algorithm, BalancerState, LoadBalancer, Member, Node
from tests.drivers.aws.conftest import FAST, KEY_ID, SECRET, fixture_text

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

pytestmark = pytest.mark.anyio

ENDPOINT = "https://aws.example.test"
LB_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/{kind}/{name}/50dc6c495c0c9188"
TG_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/{name}/73e2d6bc24d8a067"


def make_driver(**options: Any) -> ELBv2LoadBalancerDriver:
    options.setdefault("endpoint", ENDPOINT)
    options.setdefault("retry", FAST)
    options.setdefault("region", "us-east-1")
    return ELBv2LoadBalancerDriver(KEY_ID, SECRET, **options)


def doc(fixture: str, **values: str) -> httpx.Response:
    return httpx.Response(200, text=fixture_text(fixture, **values), headers={"Content-Type": "text/xml"})


def elb_error(status: int, code: str, message: str = "an error") -> httpx.Response:
    return httpx.Response(status, text=fixture_text("elbv2_error.xml", code=code, message=message))


def balancers(
    action: str, name: str = "web", state: str = "active", lb_type: str = "application", marker: str = ""
) -> httpx.Response:
    return doc(
        "elbv2_load_balancers.xml",
        action=action,
        resource=name,
        kind="app" if lb_type == "application" else "net",
        state=state,
        type=lb_type,
        marker=f"<NextMarker>{marker}</NextMarker>" if marker else "",
    )


@dataclass
class FakeELB:
    """Answers each Query ``Action`` from a table of handlers; keeps every call's form parameters."""

    calls: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    handlers: dict[str, Callable[[dict[str, str]], httpx.Response]] = field(default_factory=dict)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        form = dict(parse_qsl(request.content.decode()))
        action = form.pop("Action")
        self.calls.append((action, form))
        handler = self.handlers.get(action)
        if handler is None:
            return doc("elbv2_empty.xml", action=action)
        return handler(form)

    def actions(self) -> list[str]:
        return [action for action, _ in self.calls]

    def params(self, action: str) -> dict[str, str]:
        return next(form for name, form in self.calls if name == action)


def group_doc(action: str, form: dict[str, str]) -> httpx.Response:
    return doc(
        "elbv2_target_groups.xml",
        action=action,
        resource=form.get("Name", "web-tg"),
        protocol=form.get("Protocol", "HTTP"),
        port=form.get("Port", "80"),
        target_type=form.get("TargetType", "instance"),
    )


def listener_doc(action: str, port: str = "80", protocol: str = "HTTP", group: str = "") -> httpx.Response:
    return doc(
        "elbv2_listeners.xml",
        action=action,
        balancer=LB_ARN.format(kind="app", name="web"),
        protocol=protocol,
        port=port,
        group=group or TG_ARN.format(name="web-tg"),
    )


@pytest.fixture
def fake() -> Iterator[FakeELB]:
    elb = FakeELB()
    elb.handlers.update(
        {
            "DescribeSubnets": lambda form: doc("elbv2_describe_subnets.xml"),
            "CreateLoadBalancer": lambda form: balancers(
                "CreateLoadBalancer", form["Name"], "provisioning", form["Type"]
            ),
            "CreateTargetGroup": lambda form: group_doc("CreateTargetGroup", form),
            "DescribeTargetGroups": lambda form: group_doc("DescribeTargetGroups", {"TargetType": "ip"}),
            "CreateListener": lambda form: listener_doc("CreateListener", form["Port"], form["Protocol"]),
            "DescribeListeners": lambda form: listener_doc("DescribeListeners"),
            "DescribeLoadBalancers": lambda form: balancers("DescribeLoadBalancers"),
            "DescribeTargetHealth": lambda form: doc("elbv2_describe_target_health.xml"),
            "DescribeTags": lambda form: doc(
                "elbv2_describe_tags.xml", group=TG_ARN.format(name="web-tg"), value="true"
            ),
        }
    )
    with respx.mock(assert_all_called=False) as router:
        router.route().mock(side_effect=elb)
        yield elb


def bound(driver: ELBv2LoadBalancerDriver, **extra: Any) -> LoadBalancer:
    balancer = LoadBalancer(id=LB_ARN.format(kind="app", name="web"), name="web", port=80, extra=extra)
    return driver.bind(balancer)


async def test_create_alb_with_ip_members(fake: FakeELB) -> None:
    members = [Member(ip="172.31.1.10", port=8080), Member(ip="172.31.1.11")]
    async with make_driver(security_groups=["sg-1"]) as lb:
        balancer = await lb.create_balancer("web", 80, "http", Algorithm.LEAST_CONNECTIONS, members)
    assert fake.actions() == [
        "DescribeSubnets", "CreateLoadBalancer", "CreateTargetGroup", "ModifyTargetGroupAttributes",
        "CreateListener", "RegisterTargets",
    ]  # fmt: skip
    assert fake.params("DescribeSubnets") == {
        "Version": "2016-11-15", "Filter.1.Name": "default-for-az", "Filter.1.Value.1": "true",
    }  # fmt: skip
    create = fake.params("CreateLoadBalancer")
    assert create["Version"] == "2015-12-01"
    assert (create["Name"], create["Type"], create["Scheme"]) == ("web", "application", "internet-facing")
    # one default subnet per zone, in zone order
    assert (create["Subnets.member.1"], create["Subnets.member.2"]) == (
        "subnet-0aa1c79de3EXAMPLE", "subnet-0bb1c79de3EXAMPLE",
    )  # fmt: skip
    assert create["SecurityGroups.member.1"] == "sg-1"
    assert (create["Tags.member.1.Key"], create["Tags.member.1.Value"]) == ("asynccloud:managed", "true")
    group = fake.params("CreateTargetGroup")
    assert group["Name"].startswith("web-")
    assert {k: group[k] for k in ("Protocol", "Port", "VpcId", "TargetType")} == {
        "Protocol": "HTTP", "Port": "80", "VpcId": "vpc-0ee975135dEXAMPLE", "TargetType": "ip",
    }  # fmt: skip
    attrs = fake.params("ModifyTargetGroupAttributes")
    assert attrs["Attributes.member.1.Key"] == "load_balancing.algorithm.type"
    assert attrs["Attributes.member.1.Value"] == "least_outstanding_requests"
    listener = fake.params("CreateListener")
    assert (listener["Protocol"], listener["Port"], listener["DefaultActions.member.1.Type"]) == (
        "HTTP",
        "80",
        "forward",
    )
    assert listener["DefaultActions.member.1.TargetGroupArn"] == TG_ARN.format(name=group["Name"])
    targets = fake.params("RegisterTargets")
    assert {k: v for k, v in targets.items() if k.startswith("Targets")} == {
        "Targets.member.1.Id": "172.31.1.10", "Targets.member.1.Port": "8080",
        "Targets.member.2.Id": "172.31.1.11", "Targets.member.2.Port": "80",
    }  # fmt: skip
    assert balancer.state is BalancerState.PENDING
    assert (balancer.hostname, balancer.ip, balancer.port) == (
        "web-1234567890.us-east-1.elb.amazonaws.com",
        None,
        80,
    )
    assert balancer.extra["canonical_hosted_zone_id"] == "Z2P70J7EXAMPLE"


async def test_create_nlb_with_instances_and_round_robin(fake: FakeELB) -> None:
    async with make_driver(subnets=["subnet-0aa1c79de3EXAMPLE"]) as lb:
        balancer = await lb.create_balancer(
            "tcp", 7000, "tcp", Algorithm.ROUND_ROBIN, [Member(id="i-1", port=7000)]
        )
    assert "ModifyTargetGroupAttributes" not in fake.actions()
    assert fake.params("DescribeSubnets")["SubnetId.1"] == "subnet-0aa1c79de3EXAMPLE"
    assert fake.params("CreateLoadBalancer")["Type"] == "network"
    assert fake.params("CreateTargetGroup")["TargetType"] == "instance"
    assert fake.params("CreateTargetGroup")["Protocol"] == "TCP"
    assert balancer.extra["target_type"] == "instance"


@pytest.mark.parametrize(
    ("protocol", "algorithm"),
    [("http", Algorithm.RANDOM), ("http", Algorithm.PERSISTENT_IP), ("tcp", Algorithm.LEAST_CONNECTIONS)],
)
async def test_unsupported_algorithm_sends_nothing(
    fake: FakeELB, protocol: str, algorithm: Algorithm
) -> None:
    async with make_driver() as lb:
        with pytest.raises(NotSupportedError):
            await lb.create_balancer("web", 80, protocol, algorithm, [Member(ip="10.0.0.1")])
    assert fake.calls == []


async def test_invalid_requests_send_nothing(fake: FakeELB) -> None:
    async with make_driver() as lb:
        with pytest.raises(ConfigurationError):
            await lb.create_balancer("web", 80, "gopher", Algorithm.ROUND_ROBIN, [])
        with pytest.raises(ConfigurationError):
            await lb.create_balancer("web", 443, "https", Algorithm.ROUND_ROBIN, [])  # no certificate
        with pytest.raises(ConfigurationError):
            await lb.create_balancer(
                "web", 80, "http", Algorithm.ROUND_ROBIN, [Member(id="i-1"), Member(ip="10.0.0.1")]
            )
    assert fake.calls == []


async def test_failed_step_removes_what_was_created(fake: FakeELB) -> None:
    fake.handlers["CreateListener"] = lambda form: elb_error(
        400, "DuplicateListener", "A listener already exists"
    )
    async with make_driver() as lb:
        with pytest.raises(Exception, match="A listener already exists"):
            await lb.create_balancer("web", 80, "http", Algorithm.ROUND_ROBIN, [Member(ip="10.0.0.1")])
    assert fake.actions()[-2:] == ["DeleteTargetGroup", "DeleteLoadBalancer"]
    assert fake.params("DeleteLoadBalancer")["LoadBalancerArn"] == LB_ARN.format(kind="app", name="web")


async def test_list_balancers_follows_next_marker(fake: FakeELB) -> None:
    pages = iter(
        [balancers("DescribeLoadBalancers", "one", marker="m2"), balancers("DescribeLoadBalancers", "two")]
    )
    fake.handlers["DescribeLoadBalancers"] = lambda form: next(pages)
    async with make_driver() as lb:
        found = await lb.list_balancers()
    assert [b.name for b in found] == ["one", "two"]
    assert [b.port for b in found] == [80, 80]
    markers = [form.get("Marker") for action, form in fake.calls if action == "DescribeLoadBalancers"]
    assert markers == [None, "m2"]


async def test_get_balancer_by_arn_or_name_and_not_found(fake: FakeELB) -> None:
    async with make_driver() as lb:
        by_arn = await lb.get_balancer(LB_ARN.format(kind="app", name="web"))
        assert by_arn.state is BalancerState.RUNNING
        assert by_arn.extra["target_group_arn"] == TG_ARN.format(name="web-tg")
        assert by_arn.extra["target_type"] == "ip"
        await lb.get_balancer("web")
        fake.handlers["DescribeLoadBalancers"] = lambda form: elb_error(
            400, "LoadBalancerNotFound", "not found"
        )
        with pytest.raises(BalancerNotFoundError):
            await lb.get_balancer("nope")
    lookups = [form for action, form in fake.calls if action == "DescribeLoadBalancers"]
    assert "LoadBalancerArns.member.1" in lookups[0]
    assert lookups[1]["Names.member.1"] == "web"


async def test_destroy_removes_listeners_balancer_and_managed_groups(fake: FakeELB) -> None:
    async with make_driver() as lb:
        await lb.destroy_balancer(bound(lb))
        assert fake.actions() == [
            "DescribeListeners", "DescribeTags", "DeleteListener", "DeleteLoadBalancer", "DeleteTargetGroup",
        ]  # fmt: skip
        fake.calls.clear()
        fake.handlers["DescribeTags"] = lambda form: doc(
            "elbv2_describe_tags.xml", group=TG_ARN.format(name="web-tg"), value="false"
        )
        await lb.destroy_balancer(bound(lb))
    assert "DeleteTargetGroup" not in fake.actions()  # not ours: left alone


async def test_members(fake: FakeELB) -> None:
    group = TG_ARN.format(name="web-tg")
    async with make_driver() as lb:
        balancer = bound(lb, target_group_arn=group, target_type="instance")
        members = await balancer.list_members()
        assert [(m.id, m.port, m.extra["health"]) for m in members] == [
            ("i-0f76fade435676abd:80", 80, "healthy"), ("i-0f76fade87654321a:80", 80, "unhealthy"),
        ]  # fmt: skip
        assert members[1].extra["reason"] == "Target.ResponseCodeMismatch"
        added = await lb.balancer_attach_compute_node(
            balancer, Node(id="i-0abc", name="n", private_ips=["10.0.0.9"])
        )
        assert added.id == "i-0abc:80"
        await balancer.detach_member(members[0])
        with pytest.raises(ConfigurationError):  # an instance group takes no bare IPs
            await balancer.attach_member(Member(ip="10.0.0.1"))
        ip_balancer = bound(lb, target_group_arn=group, target_type="ip")
        by_ip = await lb.balancer_attach_compute_node(
            ip_balancer, Node(id="i-0abc", name="n", private_ips=["10.0.0.9"])
        )
        assert (by_ip.id, by_ip.ip) == ("10.0.0.9:80", "10.0.0.9")
    registered = [form for action, form in fake.calls if action == "RegisterTargets"]
    assert registered[0]["Targets.member.1.Id"] == "i-0abc"
    assert registered[1]["Targets.member.1.Id"] == "10.0.0.9"
    assert fake.params("DeregisterTargets")["Targets.member.1.Id"] == "i-0f76fade435676abd"
    assert fake.params("DescribeTargetHealth")["TargetGroupArn"] == group


async def test_members_resolve_the_group_from_listeners(fake: FakeELB) -> None:
    async with make_driver() as lb:
        await bound(lb).attach_member(Member(ip="172.31.0.5", port=80))
    assert fake.actions() == ["DescribeListeners", "DescribeTargetGroups", "RegisterTargets"]


async def test_errors_are_mapped(fake: FakeELB) -> None:
    fake.handlers["RegisterTargets"] = lambda form: elb_error(400, "InvalidTarget", "bad target")
    async with make_driver() as lb:
        with pytest.raises(InvalidRequestError):
            await bound(lb, target_group_arn="arn:tg", target_type="ip").attach_member(Member(ip="1.2.3.4"))


async def test_protocols_algorithms_and_options() -> None:
    lb = make_driver()
    assert "http" in await lb.list_protocols()
    assert await lb.list_supported_algorithms() == [Algorithm.ROUND_ROBIN, Algorithm.LEAST_CONNECTIONS]
    assert SECRET not in repr(lb)
    await lb.aclose()
    with pytest.raises(ConfigurationError):
        make_driver(scheme="private")
    with pytest.raises(ConfigurationError):
        make_driver(subnets="subnet-1")
