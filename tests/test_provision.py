"""provision(): bounded concurrency, partial failure, rollback, cancellation, progress, throttling.

Against the in-memory compute driver (latency and failure injection) and a small respx-backed HTTP
driver (429 handled by the request pipeline). Runs on asyncio and trio; deployment through provision is
tested in tests/deployment/ (asyncio only).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import TYPE_CHECKING, Any, ClassVar

import anyio
import anyio.lowlevel
import httpx
import pytest
import respx

from asynccloud import (
    ConfigurationError,
    NodeSpec,
    OperationFailedError,
    ProvisionEvent,
    ProvisionStage,
    QuotaExceededError,
    RetryPolicy,
    ServerError,
    provision,
)
from asynccloud.drivers._http_driver import HttpDriverBase, HttpOptions
from asynccloud.drivers._kinds import ComputeDriverBase
from asynccloud.drivers.memory import MemoryComputeDriver
from asynccloud.models import KeyPair, Node, NodeImage, NodeLocation, NodeSize, NodeState

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

pytestmark = pytest.mark.anyio

SIZE = NodeSize(id="small", name="small", ram=1024)
IMAGE = NodeImage(id="debian-12")


class CountingDriver(MemoryComputeDriver):
    """The memory driver, counting create_node calls in flight."""

    def __init__(self, **options: Any) -> None:
        super().__init__("test", **options)
        self.in_flight = 0
        self.peak = 0

    async def create_node(self, *args: Any, **kwargs: Any) -> Node:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            return await super().create_node(*args, **kwargs)
        finally:
            self.in_flight -= 1


def specs(n: int, prefix: str = "web", **kwargs: Any) -> list[NodeSpec]:
    return [NodeSpec(f"{prefix}{i}", SIZE, IMAGE, **kwargs) for i in range(n)]


def fail_on(operation: str, *names: str, error: Exception | None = None) -> Any:
    def fault(op: str, name: str) -> None:
        if op == operation and name in names:
            raise error or QuotaExceededError(f"no room for {name}", provider="memory", status=403)

    return fault


async def names(driver: MemoryComputeDriver) -> list[str]:
    return [n.name for n in await driver.list_nodes()]


# ------------------------------------------------------------------------------------------ throughput


async def test_200_specs_run_50_at_a_time_in_spec_order() -> None:
    # The wall-time claim (close to ceil(N / concurrency) x one call's latency) is measured by benchmark W6
    # (docs/benchmarks.md), not asserted here: this test checks the structure that makes it true.
    async with CountingDriver(latency=0.02) as driver:
        result = await provision(driver, specs(200), concurrency=50)

        assert driver.peak == 50  # the bound is reached, never exceeded
        assert driver.in_flight == 0
        assert result.ok
        assert not result.failed
        assert [n.name for n in result.succeeded] == [f"web{i}" for i in range(200)]  # spec order
        assert len(await driver.list_nodes()) == 200


async def test_a_shared_capacity_limiter_bounds_the_whole_pipeline() -> None:
    limiter = anyio.CapacityLimiter(3)
    async with CountingDriver(latency=0.02, boot_time=0.05) as driver:
        result = await provision(
            driver, specs(9), concurrency=limiter, wait_until_running=True, wait_period=0.01
        )
        assert result.ok
        assert driver.peak <= 3
        assert all(n.state is NodeState.RUNNING for n in result.succeeded)
        assert limiter.borrowed_tokens == 0


# ------------------------------------------------------------------------------------- partial failure


async def test_partial_failure_is_a_result_not_an_exception() -> None:
    async with MemoryComputeDriver(latency=0.01, fault=fail_on("create_node", "web3", "web7")) as driver:
        all_specs = specs(10)
        result = await provision(driver, all_specs, concurrency=4)

        assert not result.ok
        assert [(spec.name, type(err)) for spec, err in result.failed] == [
            ("web3", QuotaExceededError),
            ("web7", QuotaExceededError),
        ]
        assert result.failed[0][0] is all_specs[3]
        assert [n.name for n in result.succeeded] == [f"web{i}" for i in range(10) if i not in (3, 7)]
        assert result.outcomes[3].node is None
        assert result.outcomes[3].stage is ProvisionStage.FAILED
        assert sorted(await names(driver)) == sorted(n.name for n in result.succeeded)
        assert not any(o.cancelled or o.rolled_back for o in result.outcomes)

        with pytest.raises(ExceptionGroup, match=r"2 of 10 node spec\(s\) failed \(web3, web7\)") as caught:
            result.raise_for_errors()
        assert [type(e) for e in caught.value.exceptions] == [QuotaExceededError, QuotaExceededError]


async def test_failure_after_create_keeps_the_node_without_rollback() -> None:
    async with MemoryComputeDriver(boot_time=0.05, fault=fail_on("boot", "web2")) as driver:
        result = await provision(driver, specs(4), wait_until_running=True, wait_period=0.01)

        ((spec, error),) = result.failed
        assert spec.name == "web2"
        assert isinstance(error, OperationFailedError)
        failed = result.outcomes[2]
        assert failed.node is not None
        assert failed.stage is ProvisionStage.FAILED
        assert len(result.succeeded) == 3
        assert {n.name for n in result.created} == {"web0", "web1", "web2", "web3"}
        assert len(await driver.list_nodes()) == 4


def test_result_helpers_and_reprs() -> None:
    spec = NodeSpec("web1", SIZE, IMAGE, user_data="#cloud-config\npassword: hunter2", key_pair="me")
    assert (
        repr(spec)
        == "NodeSpec(name='web1', size='small', image='debian-12', options=['key_pair', 'user_data'])"
    )
    with pytest.raises(ConfigurationError):
        NodeSpec("", SIZE, IMAGE)


async def test_ok_result_and_argument_validation() -> None:
    async with MemoryComputeDriver() as driver:
        result = await provision(driver, specs(2))
        assert result.raise_for_errors() is result
        assert repr(result) == "<ProvisionResult 2 succeeded, 0 failed, 0 rolled back, 0 cancelled, of 2>"
        assert (await provision(driver, [])).ok
        for bad in ({"concurrency": 0}, {"concurrency": "many"}, {"timeout": 0}, {"wait_period": -1}):
            with pytest.raises(ConfigurationError):
                await provision(driver, specs(1), **bad)
        with pytest.raises(ConfigurationError, match="NodeSpec"):
            await provision(driver, ["web1"])  # type: ignore[list-item]
        assert len(await driver.list_nodes()) == 2


# ---------------------------------------------------------------------------------------------- rollback


async def test_rollback_destroys_everything_after_the_first_failure() -> None:
    events: list[ProvisionEvent] = []
    async with CountingDriver(latency=0.02, fault=fail_on("create_node", "web4")) as driver:
        result = await provision(
            driver, specs(12), concurrency=3, rollback_on_error=True, on_progress=events.append
        )

        assert await driver.list_nodes() == []
        assert [s.name for s, _ in result.failed] == ["web4"]
        assert result.succeeded == []
        assert result.created == []
        assert not result.ok
        created = [o for o in result.outcomes if o.node is not None]
        assert created
        assert all(o.rolled_back and o.rollback_error is None for o in created)
        # Nothing new started after the failure: the last specs were never created.
        assert result.outcomes[-1].cancelled
        assert result.outcomes[-1].node is None
        rolled = {e.node.id for e in events if e.stage is ProvisionStage.ROLLED_BACK and e.node}
        assert rolled == {o.node.id for o in created if o.node}
        assert driver.peak <= 3


async def test_rollback_errors_are_reported_not_raised() -> None:
    fault = fail_on("create_node", "web3")
    boom = ServerError("destroy failed", provider="memory", status=500)

    def faults(op: str, name: str) -> None:
        fault(op, name)
        if op == "destroy_node" and name == "web1":
            raise boom

    async with MemoryComputeDriver(latency=0.01, fault=faults) as driver:
        result = await provision(driver, specs(4), concurrency=4, rollback_on_error=True)

        assert await names(driver) == ["web1"]  # the one rollback could not destroy
        ((node, error),) = result.rollback_errors
        assert node.name == "web1"
        assert error is boom
        assert [s.name for s, _ in result.failed] == ["web3"]
        assert [n.name for n in result.created] == ["web1"]
        with pytest.raises(ExceptionGroup, match="rollback could not destroy 1 node") as caught:
            result.raise_for_errors()
        assert caught.value.exceptions[-1] is boom


async def test_rollback_treats_an_already_deleted_node_as_gone() -> None:
    async with MemoryComputeDriver(fault=fail_on("create_node", "web1")) as driver:

        async def delete_behind_its_back(event: ProvisionEvent) -> None:
            if event.stage is ProvisionStage.CREATED and event.node is not None:
                await driver.destroy_node(event.node)

        result = await provision(
            driver, specs(2), concurrency=1, rollback_on_error=True, on_progress=delete_behind_its_back
        )
        assert result.outcomes[0].rolled_back
        assert result.rollback_errors == []


# ------------------------------------------------------------------------------------------ cancellation


async def test_cancellation_with_rollback_destroys_creates_that_were_in_flight() -> None:
    # Each create takes effect at 0.1 s and answers at 0.2 s: cancelling at 0.15 s finds every node
    # created by the provider but not yet returned. Only shielding the creates makes them trackable.
    async with MemoryComputeDriver(latency=0.2) as driver:
        seen: list[str] = []
        with anyio.move_on_after(0.15) as scope:
            await provision(
                driver,
                specs(10),
                concurrency=10,
                rollback_on_error=True,
                on_progress=lambda e: seen.append(f"{e.stage}:{e.spec.name}"),
            )
        assert scope.cancelled_caught
        assert await driver.list_nodes() == []
        assert sorted(seen) == sorted(
            [f"created:web{i}" for i in range(10)] + [f"rolled_back:web{i}" for i in range(10)]
        )


async def test_cancellation_during_the_wait_rolls_back() -> None:
    async with MemoryComputeDriver(latency=0.01, boot_time=30) as driver:
        with anyio.move_on_after(0.3):
            await provision(
                driver, specs(5), wait_until_running=True, wait_period=0.02, rollback_on_error=True
            )
        assert await driver.list_nodes() == []


async def test_cancellation_without_rollback_leaves_no_untracked_node(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with MemoryComputeDriver(latency=0.2) as driver:
        created: list[Node] = []

        def track(event: ProvisionEvent) -> None:
            if event.stage is ProvisionStage.CREATED and event.node is not None:
                created.append(event.node)

        with anyio.move_on_after(0.15):
            await provision(driver, specs(10, prefix="db"), concurrency=10, on_progress=track)

        left = await driver.list_nodes()
        assert len(left) == 10
        assert sorted(n.id for n in left) == sorted(n.id for n in created)
        (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert "10 node(s) created and left" in warning
        assert all(n.id in warning for n in left)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_native_asyncio_task_cancel_rolls_back() -> None:
    # What Ctrl-C does under asyncio.run / anyio.run: the main task is cancelled with task.cancel().
    async with MemoryComputeDriver(latency=0.2) as driver:
        task = asyncio.ensure_future(provision(driver, specs(6), concurrency=6, rollback_on_error=True))
        await asyncio.sleep(0.15)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await driver.list_nodes() == []


@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_keyboard_interrupt_rolls_back_and_propagates() -> None:
    # On trio, Ctrl-C raises KeyboardInterrupt inside the running code; here it comes from a callback.
    # (asyncio turns Ctrl-C into cancelling the main task: test_native_asyncio_task_cancel_rolls_back.)
    async with MemoryComputeDriver(latency=0.05) as driver:

        def interrupt(event: ProvisionEvent) -> None:
            if event.stage is ProvisionStage.CREATED and event.spec.name == "web2":
                raise KeyboardInterrupt

        with pytest.raises(BaseException) as caught:  # noqa: PT011 - KeyboardInterrupt, maybe in a group
            await provision(driver, specs(6), concurrency=2, rollback_on_error=True, on_progress=interrupt)
        error = caught.value
        if isinstance(error, BaseExceptionGroup):
            (error,) = error.exceptions
        assert isinstance(error, KeyboardInterrupt)
        assert await driver.list_nodes() == []


# ----------------------------------------------------------------------------------------------- progress


async def test_progress_events_sync_and_async() -> None:
    async with MemoryComputeDriver(
        latency=0.01, boot_time=0.02, fault=fail_on("create_node", "web1")
    ) as driver:
        sync_events: list[ProvisionEvent] = []
        async_events: list[ProvisionEvent] = []

        async def record(event: ProvisionEvent) -> None:
            await anyio.lowlevel.checkpoint()
            async_events.append(event)

        await provision(
            driver, specs(3), wait_until_running=True, wait_period=0.01, on_progress=sync_events.append
        )
        await provision(driver, specs(3), wait_until_running=True, wait_period=0.01, on_progress=record)

        for events in (sync_events, async_events):
            by_spec = {
                name: [e.stage for e in events if e.spec.name == name] for name in ("web0", "web1", "web2")
            }
            assert by_spec == {
                "web0": [ProvisionStage.CREATED, ProvisionStage.RUNNING],
                "web1": [ProvisionStage.FAILED],
                "web2": [ProvisionStage.CREATED, ProvisionStage.RUNNING],
            }
            assert sorted(e.done for e in events if e.stage is not ProvisionStage.CREATED) == [1, 2, 3]
            assert all(e.total == 3 for e in events)
            (failed,) = [e for e in events if e.stage is ProvisionStage.FAILED]
            assert isinstance(failed.error, QuotaExceededError)
            assert failed.node is None
            assert failed.index == 1
            running = [e for e in events if e.stage is ProvisionStage.RUNNING]
            assert all(e.node is not None and e.node.state is NodeState.RUNNING for e in running)


@pytest.mark.parametrize("rollback", [True, False])
async def test_an_error_in_the_callback_stops_and_propagates(rollback: bool) -> None:
    async with MemoryComputeDriver(latency=0.02) as driver:

        def broken(event: ProvisionEvent) -> None:
            if event.spec.name == "web2":
                raise LookupError("callback bug")

        with pytest.raises(LookupError, match="callback bug"):
            await provision(driver, specs(8), concurrency=2, rollback_on_error=rollback, on_progress=broken)
        left = await driver.list_nodes()
        if rollback:
            assert left == []
        else:
            assert "web2" in [n.name for n in left]
            assert len(left) < 8


# --------------------------------------------------------------------------- throttling, over real HTTP


class HttpCompute(HttpDriverBase, ComputeDriverBase):
    """A minimal JSON compute API over the request pipeline; creates carry an idempotency key."""

    provider: ClassVar[str] = "fakecloud"

    def __init__(self, key: str, secret: str | None = None, **options: Any) -> None:
        http_options: HttpOptions = options  # type: ignore[assignment]
        self._http = self._open_http(http_options, base_url="https://compute.test/v1", secrets=[key])

    async def create_node(
        self,
        name: str,
        size: NodeSize,
        image: NodeImage,
        *,
        location: NodeLocation | None = None,
        key_pair: KeyPair | str | None = None,
        user_data: str | bytes | None = None,
    ) -> Node:
        response = await self._http.request(
            "POST",
            "/servers",
            json={"name": name, "size": size.id, "image": image.id},
            headers={"Idempotency-Key": str(uuid.uuid4())},
            idempotency_key=True,
        )
        return self._node(response.json())

    async def destroy_node(self, node: Node) -> None:
        await self._http.request("DELETE", f"/servers/{node.id}")

    async def get_node(self, node_id: str) -> Node:
        return self._node((await self._http.request("GET", f"/servers/{node_id}")).json())

    async def iterate_nodes(self) -> AsyncIterator[Node]:
        for item in (await self._http.request("GET", "/servers")).json():
            yield self._node(item)

    async def iterate_sizes(self, *, location: NodeLocation | None = None) -> AsyncIterator[NodeSize]:
        yield SIZE

    async def iterate_images(self, *, location: NodeLocation | None = None) -> AsyncIterator[NodeImage]:
        yield IMAGE

    async def get_image(self, image_id: str) -> NodeImage:
        return IMAGE

    async def iterate_locations(self) -> AsyncIterator[NodeLocation]:
        yield NodeLocation(id="here", name="here")

    def _node(self, data: dict[str, Any]) -> Node:
        return self.bind(
            Node(id=data["id"], name=data["name"], state=NodeState.RUNNING, public_ips=[data["ip"]])
        )


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url="https://compute.test/v1", assert_all_called=False) as router:
        yield router


async def test_429_is_retried_by_the_pipeline_not_failed(api: respx.MockRouter) -> None:
    keys_seen: dict[str, list[str]] = {}

    def create(request: httpx.Request) -> httpx.Response:
        body = httpx.Response(200, content=request.content).json()
        keys_seen.setdefault(body["name"], []).append(request.headers["Idempotency-Key"])
        if len(keys_seen[body["name"]]) == 1:  # every first attempt is throttled
            return httpx.Response(429, headers={"Retry-After": "0"}, json={"error": "slow down"})
        return httpx.Response(
            201, json={"id": f"srv-{body['name']}", "name": body["name"], "ip": "192.0.2.1"}
        )

    route = api.post("/servers").mock(side_effect=create)
    policy = RetryPolicy(max_attempts=3, backoff_base=0.001, backoff_max=0.01)
    async with HttpCompute("api-key", retry=policy) as driver:
        result = await provision(driver, specs(20), concurrency=5)

    assert result.ok, result.failed
    assert route.call_count == 40
    assert [n.id for n in result.succeeded] == [f"srv-web{i}" for i in range(20)]
    # A retry is the same logical request: it carries the same client token.
    assert all(len(set(k)) == 1 and len(k) == 2 for k in keys_seen.values())


async def test_throttling_that_outlasts_the_retry_budget_fails_that_spec_only(api: respx.MockRouter) -> None:
    def create(request: httpx.Request) -> httpx.Response:
        name = httpx.Response(200, content=request.content).json()["name"]
        if name == "web1":
            return httpx.Response(429, headers={"Retry-After": "0"})
        return httpx.Response(201, json={"id": f"srv-{name}", "name": name, "ip": "192.0.2.1"})

    api.post("/servers").mock(side_effect=create)
    api.delete(url__regex=r"/servers/.*").mock(return_value=httpx.Response(204))
    policy = RetryPolicy(max_attempts=2, backoff_base=0.001, backoff_max=0.01)
    async with HttpCompute("api-key", retry=policy) as driver:
        result = await provision(driver, specs(3), concurrency=3, rollback_on_error=True)
    ((spec, error),) = result.failed
    assert spec.name == "web1"
    assert type(error).__name__ == "RateLimitedError"
    assert all(o.rolled_back for o in result.outcomes if o.node is not None)
