"""Polling: wait for a predicate under a deadline, with backoff, failure detection and clean cancellation."""

from __future__ import annotations

import itertools
from typing import Any

import anyio
import pytest

from asynccloud._polling import poll_intervals, poll_until
from asynccloud.errors import ConfigurationError, OperationFailedError, OperationTimeoutError

pytestmark = pytest.mark.anyio


class Job:
    """A fake provider job whose status advances one step per poll."""

    def __init__(self, *statuses: str) -> None:
        self.statuses = list(statuses)
        self.polls = 0
        self.times: list[float] = []

    async def fetch(self) -> str:
        self.times.append(anyio.current_time())
        status = self.statuses[min(self.polls, len(self.statuses) - 1)]
        await anyio.lowlevel.checkpoint()
        self.polls += 1  # counted once answered: a fetch cut short by the deadline is no poll
        return status


async def test_returns_the_first_state_that_satisfies_the_predicate() -> None:
    job = Job("QUEUED", "RUNNING", "RUNNING", "COMPLETED", "never reached")
    result = await poll_until(job.fetch, lambda s: s == "COMPLETED", timeout=5, interval=0.001)
    assert result == "COMPLETED"
    assert job.polls == 4


async def test_first_poll_is_immediate_and_success_does_not_sleep() -> None:
    job = Job("ACTIVE")
    started = anyio.current_time()
    assert await poll_until(job.fetch, lambda s: s == "ACTIVE", timeout=5, interval=10) == "ACTIVE"
    assert anyio.current_time() - started < 1
    assert job.polls == 1


async def test_no_timeout_waits_until_done() -> None:
    job = Job("a", "b", "c")
    assert await poll_until(job.fetch, lambda s: s == "c", timeout=None, interval=0) == "c"


async def test_none_can_be_the_awaited_state() -> None:
    states = iter(["pending", None])

    async def fetch() -> str | None:
        return next(states)

    assert await poll_until(fetch, lambda s: s is None, timeout=5, interval=0) is None


async def test_deadline_raises_operation_timeout_naming_what_and_last_state() -> None:
    job = Job("BUILD")
    started = anyio.current_time()
    with pytest.raises(OperationTimeoutError) as info:
        await poll_until(job.fetch, lambda s: s == "ACTIVE", timeout=0.05, interval=0.01, what="node n1")
    elapsed = anyio.current_time() - started
    assert 0.04 <= elapsed < 1
    message = str(info.value)
    assert "timed out after 0.05 s waiting for node n1" in message
    assert "last state: 'BUILD'" in message
    assert f"after {job.polls} polls" in message
    assert job.polls >= 2


async def test_deadline_bounds_a_fetch_in_progress() -> None:
    async def hangs() -> str:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    started = anyio.current_time()
    with pytest.raises(OperationTimeoutError, match="before the first poll answered"):
        await poll_until(hangs, bool, timeout=0.05)
    assert anyio.current_time() - started < 1


async def test_last_state_is_short_and_repr_safe() -> None:
    class Broken:
        def __repr__(self) -> str:
            raise ValueError("no repr")

    async def huge() -> str:
        return "x" * 10_000

    async def broken() -> Broken:
        return Broken()

    with pytest.raises(OperationTimeoutError) as info:
        await poll_until(huge, lambda s: False, timeout=0.03, interval=0.01)
    assert len(str(info.value)) < 300
    with pytest.raises(OperationTimeoutError, match="last state: <Broken"):
        await poll_until(broken, lambda s: False, timeout=0.03, interval=0.01)


async def test_describe_renders_the_last_state() -> None:
    async def fetch() -> dict[str, Any]:
        return {"id": "n1", "state": "pending", "secret": "do-not-show"}

    with pytest.raises(OperationTimeoutError) as info:
        await poll_until(
            fetch, lambda n: False, timeout=0.03, interval=0.01, describe=lambda n: f"state={n['state']}"
        )
    assert "last state: state=pending" in str(info.value)
    assert "do-not-show" not in str(info.value)


async def test_failed_state_raises_operation_failed() -> None:
    job = Job("RUNNING", "ERROR")

    def failed(status: str) -> str | None:
        return "job ended in ERROR" if status == "ERROR" else None

    with pytest.raises(OperationFailedError, match="DNS job 42 failed: job ended in ERROR"):
        await poll_until(
            job.fetch, lambda s: s == "COMPLETED", timeout=5, interval=0, failed=failed, what="DNS job 42"
        )
    assert job.polls == 2


async def test_failed_is_checked_before_the_predicate() -> None:
    job = Job("DONE")
    with pytest.raises(OperationFailedError):
        await poll_until(job.fetch, lambda s: True, timeout=5, failed=lambda s: "bad", interval=0)


async def test_errors_from_fetch_propagate_unchanged() -> None:
    async def fetch() -> str:
        raise KeyError("gone")

    with pytest.raises(KeyError, match="gone"):
        await poll_until(fetch, bool, timeout=5)


async def test_outer_cancellation_propagates_and_is_not_a_timeout() -> None:
    job = Job("BUILD")
    with anyio.move_on_after(0.05) as outer:
        await poll_until(job.fetch, lambda s: False, timeout=10, interval=0.01)
    assert outer.cancelled_caught
    assert job.polls >= 2


async def test_outer_cancellation_during_fetch_propagates() -> None:
    reached = anyio.Event()
    finished = []

    async def hangs() -> str:
        reached.set()
        await anyio.sleep_forever()
        return "never"

    async def waiter() -> None:
        await poll_until(hangs, bool, timeout=10)
        finished.append(True)  # pragma: no cover - must not happen

    async with anyio.create_task_group() as tg:
        tg.start_soon(waiter)
        await reached.wait()
        tg.cancel_scope.cancel()
    assert finished == []


async def test_outer_deadline_shorter_than_timeout_is_a_cancellation() -> None:
    with anyio.move_on_after(0.02) as outer:
        await poll_until(Job("x").fetch, lambda s: False, timeout=0.5, interval=0.005)
    assert outer.cancelled_caught


def test_poll_intervals_grow_by_backoff_up_to_the_cap() -> None:
    assert list(itertools.islice(poll_intervals(1.0, 30.0, 1.5), 5)) == [1.0, 1.5, 2.25, 3.375, 5.0625]
    assert list(itertools.islice(poll_intervals(10, 30, 2), 4)) == [10, 20, 30, 30]
    assert list(itertools.islice(poll_intervals(5, 5, 1), 3)) == [5, 5, 5]
    assert list(itertools.islice(poll_intervals(50, 5, 2), 2)) == [5, 5]


async def test_pauses_between_polls_follow_the_backoff() -> None:
    job = Job("a", "b", "c", "d", "e")
    await poll_until(job.fetch, lambda s: s == "e", timeout=5, interval=0.02, backoff=2, max_interval=0.05)
    gaps = [later - earlier for earlier, later in itertools.pairwise(job.times)]
    # Pauses of 0.02, 0.04, 0.05 (capped), 0.05; sleeps never end early (allow for clock granularity).
    for gap, pause in zip(gaps, [0.02, 0.04, 0.05, 0.05], strict=True):
        assert gap >= pause * 0.9
    assert sum(gaps) < 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"timeout": 0},
        {"timeout": -1},
        {"timeout": float("nan")},
        {"timeout": 1, "interval": -1},
        {"timeout": 1, "backoff": 0.5},
        {"timeout": 1, "max_interval": -2},
        {"timeout": "5"},
    ],
)
async def test_invalid_timing_is_a_configuration_error(kwargs: dict[str, Any]) -> None:
    job = Job("x")
    with pytest.raises(ConfigurationError):
        await poll_until(job.fetch, bool, **kwargs)
    assert job.polls == 0
