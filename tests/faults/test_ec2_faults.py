"""EC2 against moto behind the fault proxy: reads retried, creations not duplicated, waits bounded.

Every EC2 call is ``POST /`` with ``Action=...`` in the form body, so faults are scheduled by body. What the
driver promises: read calls (``Describe*``) and state changes (``Start/Stop/Reboot/TerminateInstances``,
``Delete*``) are retried within the budget; ``RunInstances`` and ``CreateVolume`` carry a ``ClientToken``, so
a retry after a lost answer creates nothing twice; calls that create without a token (``CreateKeyPair``,
``ImportKeyPair``, ``AttachVolume``, ``CreateSnapshot``) are never resent once they may have reached EC2;
and every wait ends by its deadline whatever the network does.

moto records a ``ClientToken`` but does not deduplicate by it (EC2 does: a repeated token returns the first
instance, see "Ensuring idempotency" in the EC2 API reference). So where the request reached the server
more than once, the tests check the client's side of the contract — every attempt carried the same token —
and count instances only where the server saw the request once.
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING

import anyio
import httpx
import pytest

from asynccloud.drivers.aws.ec2 import EC2NodeDriver
from asynccloud.errors import OperationTimeoutError, ProviderError, ServerError, TransportError
from asynccloud.models import NodeImage, NodeSize, NodeState
from tests.faults.conftest import FAST
from tests.faults.proxy import ANSWERED

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from tests.faults.conftest import Tally
    from tests.faults.proxy import FaultProxy

pytestmark = [pytest.mark.anyio, pytest.mark.integration, pytest.mark.timeout(300)]

#: Faults a retried call must ride out: answered errors, resets before and after the server acted, slowness.
TRANSIENT = [*ANSWERED, "reset_before", "reset_after", "slow_first_byte"]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def ec2(
    moto_upstream: dict[str, str], ec2_proxy: FaultProxy, direct: EC2NodeDriver
) -> AsyncIterator[EC2NodeDriver]:
    # moto builds its EC2 catalogue on the first call (seconds on a cold server): not under a 0.5 s timeout.
    await direct.list_nodes()
    async with EC2NodeDriver(
        moto_upstream["access_key_id"],
        moto_upstream["secret_access_key"],
        region=moto_upstream["region"],
        endpoint=ec2_proxy.url,
        retry=FAST,
        timeout=httpx.Timeout(5.0, read=0.5),
    ) as driver:
        yield driver


@pytest.fixture
async def direct(moto_upstream: dict[str, str]) -> AsyncIterator[EC2NodeDriver]:
    """The same account without the proxy: to check what really exists on the server."""
    async with EC2NodeDriver(
        moto_upstream["access_key_id"],
        moto_upstream["secret_access_key"],
        region=moto_upstream["region"],
        endpoint=moto_upstream["endpoint"],
    ) as driver:
        yield driver


async def size_and_image(direct: EC2NodeDriver) -> tuple[NodeSize, NodeImage]:
    [size] = await direct.list_sizes(instance_types=["t2.micro"])
    images = await direct.list_images(owner="amazon", name="amzn2-ami-hvm-*-x86_64-gp2")
    return size, images[0]


async def named(direct: EC2NodeDriver, name: str) -> list[str]:
    """Ids of the instances (any state but terminated) whose Name tag is ``name``."""
    nodes = await direct.list_nodes(filters={"tag:Name": name})
    return [n.id for n in nodes if n.state is not NodeState.TERMINATED]


@pytest.mark.parametrize("kind", TRANSIENT)
async def test_reads_ride_out_faults(
    kind: str, ec2: EC2NodeDriver, ec2_proxy: FaultProxy, tally: Tally
) -> None:
    calls: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        ("DescribeInstances", ec2.list_nodes),
        ("DescribeAvailabilityZones", ec2.list_locations),
        ("DescribeKeyPairs", ec2.list_key_pairs),
        ("DescribeVolumes", ec2.list_volumes),
    ]
    for action, call in calls:
        ec2_proxy.schedule(kind, method="POST", body=f"Action={action}&")
        await call()
        tally.add("ec2: read calls under faults")
    assert ec2_proxy.pending() == 0


def client_tokens(proxy: FaultProxy, action: str) -> list[str]:
    """The ``ClientToken`` of every ``action`` request that reached the server, in order."""
    found = []
    for body in proxy.forwarded_bodies:
        if f"Action={action}&".encode() in body:
            match = re.search(rb"(?:^|&)ClientToken=([^&]*)", body)
            assert match is not None, f"{action} sent without a ClientToken"
            found.append(match[1].decode())
    return found


@pytest.mark.parametrize("kind", TRANSIENT)
async def test_run_instances_is_never_duplicated(
    kind: str, ec2: EC2NodeDriver, direct: EC2NodeDriver, ec2_proxy: FaultProxy, tally: Tally
) -> None:
    size, image = await size_and_image(direct)
    name = unique(f"node-{kind}")
    ec2_proxy.schedule(kind, method="POST", body="Action=RunInstances&", count=2)
    node = await ec2.create_node(name, size, image)
    assert ec2_proxy.pending() == 0
    tokens = client_tokens(ec2_proxy, "RunInstances")
    assert len(set(tokens)) == 1  # every attempt that reached EC2 asked for the same instance
    ids = await named(direct, name)
    if kind in (*ANSWERED, "reset_before"):  # the faulted attempts never reached the server
        assert tokens == tokens[:1]
        assert ids == [node.id]
    else:  # reached it three times; EC2 would return the first instance, moto makes three (see above)
        assert len(tokens) == 3
        assert node.id in ids
    tally.add("ec2: creations under faults")
    tally.add("ec2: duplicates found", len(set(tokens)) - 1)
    ec2_proxy.clear()
    for node_id in ids:
        await direct.destroy_node(await direct.get_node(node_id))


async def test_create_volume_is_never_duplicated(
    ec2: EC2NodeDriver, direct: EC2NodeDriver, ec2_proxy: FaultProxy, tally: Tally
) -> None:
    before = {v.id for v in await direct.list_volumes()}
    ec2_proxy.schedule("reset_after", method="POST", body="Action=CreateVolume&", count=2)
    volume = await ec2.create_volume(1, unique("vol"))
    tokens = client_tokens(ec2_proxy, "CreateVolume")
    assert len(tokens) == 3  # the answer was lost twice
    assert len(set(tokens)) == 1  # and all three attempts carried one token
    tally.add("ec2: creations under faults")
    tally.add("ec2: duplicates found", len(set(tokens)) - 1)
    for created in [v for v in await direct.list_volumes() if v.id not in before]:
        await direct.destroy_volume(created)
    assert volume.id not in {v.id for v in await direct.list_volumes()}


async def test_a_call_without_a_token_is_not_resent_after_it_may_have_acted(
    ec2: EC2NodeDriver, direct: EC2NodeDriver, ec2_proxy: FaultProxy, tally: Tally
) -> None:
    name = unique("key")
    ec2_proxy.schedule("reset_after", method="POST", body="Action=CreateKeyPair&")
    with pytest.raises(TransportError):
        await ec2.create_key_pair(name)
    # Forwarded once, not retried: the key pair exists once, and the caller was told the outcome is unknown.
    assert ec2_proxy.forwarded_count("POST", "^/$", body="Action=CreateKeyPair&") == 1
    assert [k.name for k in await direct.list_key_pairs() if k.name == name] == [name]
    tally.add("ec2: untokened creations not resent")
    # An error answer is not retried either (a 503 from a front end does not prove the back end did
    # nothing); here it did not reach EC2, and nothing was created.
    other = unique("key")
    ec2_proxy.schedule("503", method="POST", body="Action=CreateKeyPair&")
    with pytest.raises(ServerError):
        await ec2.create_key_pair(other)
    assert ec2_proxy.forwarded_count("POST", "^/$", body=f"KeyName={other}") == 0
    assert other not in {k.name for k in await direct.list_key_pairs()}
    await direct.delete_key_pair(await direct.get_key_pair(name))


@pytest.mark.parametrize("kind", ["reset_after", "503", "500"])
async def test_state_changes_are_retried_to_completion(
    kind: str, ec2: EC2NodeDriver, direct: EC2NodeDriver, ec2_proxy: FaultProxy, tally: Tally
) -> None:
    size, image = await size_and_image(direct)
    node = await direct.create_node(unique("stateful"), size, image)
    ec2_proxy.schedule(kind, method="POST", body="Action=StopInstances&")
    await ec2.stop_node(node)
    assert (await direct.get_node(node.id)).state is NodeState.STOPPED
    ec2_proxy.schedule(kind, method="POST", body="Action=TerminateInstances&")
    await ec2.destroy_node(node)  # a lost answer is retried: terminating twice is harmless
    assert (await direct.get_node(node.id)).state is NodeState.TERMINATED
    assert ec2_proxy.pending() == 0
    tally.add("ec2: state changes under faults", 2)


async def test_a_malformed_answer_is_a_provider_error(ec2: EC2NodeDriver, ec2_proxy: FaultProxy) -> None:
    ec2_proxy.schedule("malformed", method="POST", body="Action=DescribeAvailabilityZones&")
    with pytest.raises(ProviderError, match=r"(?i)malformed|xml"):
        await ec2.list_locations()


async def test_wait_until_running_ends_by_its_deadline(
    ec2: EC2NodeDriver, direct: EC2NodeDriver, ec2_proxy: FaultProxy, tally: Tally
) -> None:
    size, image = await size_and_image(direct)
    node = await direct.create_node(unique("waiting"), size, image)
    # Every describe stalls mid-body (each attempt hits the 0.5 s read timeout and is retried).
    ec2_proxy.schedule("stall_body", method="POST", body="Action=DescribeInstances&", count=1000)
    began = anyio.current_time()
    with pytest.raises(OperationTimeoutError, match="timed out after 1 s"):
        await ec2.wait_until_running([node], timeout=1.0, wait_period=0.1)
    tally.add("ec2: waits ended by their deadline")
    # Ends at the deadline, not after the retry budget of the describe in flight (6 attempts x 0.5 s).
    assert anyio.current_time() - began < 2.5
    ec2_proxy.clear()
    await direct.destroy_node(node)
