"""provision() over the real EC2 driver, against respx with injected latency and injected failures.

The respx router plays a small EC2: ``RunInstances`` starts an instance (answers shaped like the EC2 API
reference, from ``tests/drivers/aws/fixtures/``), ``TerminateInstances`` removes it, and chosen names fail
with ``InstanceLimitExceeded``. Latency is injected by a transport that waits before the "server" acts and
again before its answer arrives, so a cancellation can land while the provider has already created an
instance whose answer is still on the way: the case where a bulk tool most easily loses track of a node.
Runs on asyncio and trio.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from itertools import count
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

import anyio
import httpx
import pytest
import respx

from asynccloud import NodeSpec, ProvisionEvent, ProvisionStage, QuotaExceededError, RetryPolicy, provision
from asynccloud.drivers.aws.ec2 import EC2NodeDriver
from asynccloud.models import NodeImage, NodeSize
from tests.drivers.aws.conftest import fixture_text

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

pytestmark = pytest.mark.anyio

ENDPOINT = "https://ec2.example.test"
SIZE = NodeSize(id="t2.micro", name="t2.micro", ram=1024)
IMAGE = NodeImage(id="ami-bff32ccc", name="img")
TERMINATED = """<?xml version="1.0" encoding="UTF-8"?>
<TerminateInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
    <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>
    <instancesSet>{items}</instancesSet>
</TerminateInstancesResponse>"""
TERMINATED_ITEM = """<item><instanceId>{id}</instanceId>
    <currentState><code>32</code><name>shutting-down</name></currentState>
    <previousState><code>16</code><name>running</name></previousState></item>"""


@dataclass
class FakeEC2:
    """Instances by id; names in ``fail`` are refused with ``InstanceLimitExceeded``."""

    fail: set[str] = field(default_factory=set)
    instances: dict[str, str] = field(default_factory=dict)  # id -> Name tag
    started: list[str] = field(default_factory=list)
    terminated: list[str] = field(default_factory=list)
    run_calls: int = 0
    _ids: count[int] = field(default_factory=lambda: count(1))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        form = dict(parse_qsl(request.content.decode(), keep_blank_values=True))
        if form["Action"] == "RunInstances":
            return self.run_instances(form)
        if form["Action"] == "TerminateInstances":
            ids = [v for k, v in form.items() if k.startswith("InstanceId.")]
            for instance_id in ids:
                self.instances.pop(instance_id, None)
                self.terminated.append(instance_id)
            items = "".join(TERMINATED_ITEM.format(id=i) for i in ids)
            return httpx.Response(200, text=TERMINATED.format(items=items))
        return httpx.Response(400, text=fixture_text("ec2_error.xml", code="InvalidAction", message="?"))

    def run_instances(self, form: dict[str, str]) -> httpx.Response:
        self.run_calls += 1
        name_key = next(k for k, v in form.items() if k.startswith("TagSpecification.1.Tag.") and v == "Name")
        name = form[name_key.removesuffix(".Key") + ".Value"]
        if name in self.fail:
            message = "You have requested more instances than your current instance limit allows."
            return httpx.Response(
                400, text=fixture_text("ec2_error.xml", code="InstanceLimitExceeded", message=message)
            )
        instance_id = f"i-{next(self._ids):017x}"
        self.instances[instance_id] = name
        self.started.append(instance_id)
        body = (
            fixture_text("ec2_run_instances.xml", token=form["ClientToken"])
            .replace("i-1234567890abcdef0", instance_id)
            .replace("<value>web1</value>", f"<value>{name}</value>")
        )
        return httpx.Response(200, headers={"Content-Type": "text/xml"}, text=body)


class SlowNetwork(httpx.AsyncBaseTransport):
    """Half the latency before the router answers (the provider acts), half after (the answer travels)."""

    def __init__(self, router: respx.MockRouter, latency: float) -> None:
        self.router = router
        self.latency = latency

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        await anyio.sleep(self.latency / 2)
        response = await self.router.async_handler(request)
        await anyio.sleep(self.latency / 2)
        return response


@pytest.fixture
def fake() -> FakeEC2:
    return FakeEC2()


def ec2(fake: FakeEC2, latency: float) -> EC2NodeDriver:
    router = respx.MockRouter(assert_all_called=False)
    router.post(url__startswith=ENDPOINT).mock(side_effect=fake)
    return EC2NodeDriver(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        region="us-east-1",
        endpoint=ENDPOINT,
        transport=SlowNetwork(router, latency),
        retry=RetryPolicy(max_attempts=2, backoff_base=0.001, backoff_max=0.002),
    )


def specs(n: int, prefix: str = "web") -> list[NodeSpec]:
    return [NodeSpec(f"{prefix}{i}", SIZE, IMAGE) for i in range(n)]


@pytest.fixture
async def driver_slow(fake: FakeEC2) -> AsyncIterator[EC2NodeDriver]:
    async with ec2(fake, latency=0.04) as driver:
        yield driver


async def test_partial_failures_are_listed_and_the_rest_succeed(
    fake: FakeEC2, driver_slow: EC2NodeDriver
) -> None:
    fake.fail = {"web3", "web17"}
    result = await provision(driver_slow, specs(30), concurrency=8)

    assert not result.ok
    assert [(spec.name, type(error)) for spec, error in result.failed] == [
        ("web3", QuotaExceededError),
        ("web17", QuotaExceededError),
    ]
    assert [n.name for n in result.succeeded] == [f"web{i}" for i in range(30) if i not in (3, 17)]
    assert sorted(fake.instances.values()) == sorted(n.name for n in result.succeeded)
    assert {n.id for n in result.succeeded} == set(fake.instances)
    assert fake.terminated == []
    assert fake.run_calls == 30  # an InstanceLimitExceeded answer is final, not retried


async def test_rollback_terminates_every_instance_it_started(
    fake: FakeEC2, driver_slow: EC2NodeDriver
) -> None:
    fake.fail = {"web12"}
    result = await provision(driver_slow, specs(30), concurrency=8, rollback_on_error=True)

    assert not result.ok
    assert fake.instances == {}  # nothing left running on the provider
    assert sorted(fake.terminated) == sorted(fake.started)
    assert fake.started  # the failure came after several creates
    rolled_back = {o.node.id for o in result.outcomes if o.node is not None and o.rolled_back}
    assert rolled_back == set(fake.started)
    assert fake.run_calls < 30  # nothing new started after the failure


async def test_cancellation_with_rollback_leaves_nothing_behind(fake: FakeEC2) -> None:
    async with ec2(fake, latency=0.2) as driver:
        with anyio.move_on_after(0.35) as scope:  # wave 2 (sent at 0.2 s) acted; answers in flight
            await provision(driver, specs(20), concurrency=10, rollback_on_error=True)
        assert scope.cancelled_caught

    assert len(fake.started) > 10  # creates of the second wave were in flight when cancelled
    assert fake.instances == {}
    assert sorted(fake.terminated) == sorted(fake.started)


async def test_cancellation_without_rollback_tracks_every_instance(
    fake: FakeEC2, caplog: pytest.LogCaptureFixture
) -> None:
    reported: list[str] = []

    def track(event: ProvisionEvent) -> None:
        if event.stage is ProvisionStage.CREATED and event.node is not None:
            reported.append(event.node.id)

    async with ec2(fake, latency=0.2) as driver:
        with caplog.at_level(logging.WARNING), anyio.move_on_after(0.35):
            await provision(driver, specs(20), concurrency=10, on_progress=track)

    assert len(fake.started) > 10  # creates of the second wave were in flight when cancelled
    assert sorted(reported) == sorted(fake.instances)  # every instance on the provider was reported
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert f"{len(fake.started)} node(s) created and left" in warning
    assert all(instance_id in warning for instance_id in fake.instances)
