"""Waiting for asynchronous provider operations: poll until a predicate holds, under a deadline.

Every wait in asynccloud (``wait_until_running``, Rackspace DNS/LB job polling, DNS change propagation,
load balancer status) is one call::

    node = await poll_until(
        lambda: self.get_node(node_id),
        lambda n: n.state is NodeState.RUNNING,
        failed=lambda n: "node entered ERROR state" if n.state is NodeState.ERROR else None,
        timeout=600,
        what=f"node {node_id} to be running",
    )

Transient HTTP failures are retried inside ``fetch`` by the request pipeline; an error ``fetch`` raises
ends the wait. Cancellation from outside (a caller's cancel scope, a task group) passes through unchanged.
"""

from __future__ import annotations

import math
import reprlib
from typing import TYPE_CHECKING, TypeVar

import anyio

from asynccloud.errors import ConfigurationError, OperationFailedError, OperationTimeoutError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator

__all__ = ["poll_intervals", "poll_until"]

T = TypeVar("T")

_state_repr = reprlib.Repr()
_state_repr.maxstring = 120
_state_repr.maxother = 160
_state_repr.maxlist = _state_repr.maxdict = _state_repr.maxtuple = 6

_MAX_STATE_CHARS = 200


def poll_intervals(interval: float, max_interval: float, backoff: float) -> Iterator[float]:
    """Yield the pauses :func:`poll_until` makes between polls: ``interval``, times ``backoff`` each time.

    Args:
        interval: The first pause, in seconds.
        max_interval: No pause is longer than this.
        backoff: Factor applied to the pause after each poll (``1`` keeps it constant).

    Yields:
        Pauses in seconds, without end.
    """
    delay = min(interval, max_interval)
    while True:
        yield delay
        delay = min(delay * backoff, max_interval)


def _describe(state: T, describe: Callable[[T], str] | None) -> str:
    try:
        text = describe(state) if describe is not None else _state_repr.repr(state)
    except Exception:  # a broken __repr__ must not hide the timeout
        text = f"<{type(state).__name__}>"
    if len(text) > _MAX_STATE_CHARS:
        text = text[: _MAX_STATE_CHARS - 3] + "..."
    return text


def _check_seconds(name: str, value: float, *, allow_zero: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ConfigurationError(f"{name} must be a number of seconds, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ConfigurationError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")


async def poll_until(
    fetch: Callable[[], Awaitable[T]],
    predicate: Callable[[T], bool],
    *,
    # The portable waits (wait_until_running(timeout=...)) take a timeout; this is where it becomes a scope.
    timeout: float | None,
    interval: float = 1.0,
    max_interval: float = 30.0,
    backoff: float = 1.5,
    failed: Callable[[T], str | None] | None = None,
    what: str = "operation",
    describe: Callable[[T], str] | None = None,
) -> T:
    """Call ``fetch`` until ``predicate`` holds for its result, and return that result.

    The first poll happens at once; between polls the pause starts at ``interval`` and grows by
    ``backoff`` up to ``max_interval`` (see :func:`poll_intervals`). The deadline covers everything,
    including a ``fetch`` in progress and the pauses.

    Args:
        fetch: Gets the current state (e.g. ``lambda: driver.get_node(node_id)``).
        predicate: True when the wait is over.
        timeout: Seconds until :class:`OperationTimeoutError`; ``None`` waits for ever. Required, so
            every caller decides.
        interval: The first pause between polls, in seconds.
        max_interval: The longest pause, in seconds.
        backoff: Factor by which the pause grows after each poll; ``1`` keeps it constant.
        failed: Returns a message when a state means the operation failed (checked before ``predicate``);
            ``None`` otherwise.
        what: Names the wait in error messages: ``"node abc to be running"``.
        describe: Renders the last state for the timeout message; defaults to a short ``repr``.

    Returns:
        The first result for which ``predicate`` is true.

    Raises:
        OperationTimeoutError: The deadline passed first; the message names ``what``, ``timeout`` and
            the last state seen.
        OperationFailedError: ``failed`` returned a message.
        ConfigurationError: A timing argument is invalid.
        Exception: Whatever ``fetch``, ``predicate`` or ``failed`` raise, unchanged.
    """
    if timeout is not None:
        _check_seconds("timeout", timeout, allow_zero=False)
    _check_seconds("interval", interval, allow_zero=True)
    _check_seconds("max_interval", max_interval, allow_zero=True)
    _check_seconds("backoff", backoff, allow_zero=False)
    if backoff < 1:
        raise ConfigurationError(f"backoff must be >= 1, got {backoff!r}")

    polls = 0
    last: list[T] = []  # empty until the first fetch returns; a list since T may itself be None
    with anyio.move_on_after(timeout):
        for pause in poll_intervals(interval, max_interval, backoff):
            state = await fetch()
            polls += 1
            last[:] = [state]
            if failed is not None:
                message = failed(state)
                if message:
                    raise OperationFailedError(f"{what} failed: {message}")
            if predicate(state):
                return state
            await anyio.sleep(pause)

    # Only our own deadline gets here (the loop ends by return or raise): an outer cancellation
    # propagates out of the ``with`` untouched.
    if last:
        detail = f"after {polls} poll{'s' if polls != 1 else ''}; last state: {_describe(last[0], describe)}"
    else:
        detail = "before the first poll answered"
    raise OperationTimeoutError(f"timed out after {timeout:g} s waiting for {what} ({detail})")
