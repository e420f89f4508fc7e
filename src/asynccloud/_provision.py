"""Bulk provisioning: create many nodes concurrently, optionally wait for them and deploy to them.

``from asynccloud import provision, NodeSpec``. This module holds the public function and its data
types and imports nothing heavy (it is loaded by ``import asynccloud``); the machinery lives in
:mod:`asynccloud._provisioner`, imported on the first call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeAlias

from asynccloud.errors import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable

    import anyio

    from asynccloud.deployment import Deployment, SSHOptions
    from asynccloud.drivers.base import ComputeDriver
    from asynccloud.models import Node, NodeImage, NodeSize

__all__ = [
    "NodeSpec",
    "ProgressCallback",
    "ProvisionEvent",
    "ProvisionOutcome",
    "ProvisionResult",
    "ProvisionStage",
    "provision",
]


class ProvisionStage(StrEnum):
    """Where a spec got to; the ``stage`` of a :class:`ProvisionEvent`.

    Attributes:
        CREATED: ``create_node`` returned the node.
        RUNNING: The node is running and has an address (``wait_until_running=True`` or ``deploy``).
        DEPLOYED: The deployment steps ran on it.
        FAILED: A step of this spec failed; the event carries the error.
        ROLLED_BACK: Rollback destroyed the node; when the event carries an error, destroying failed
            and the node may still exist.
    """

    CREATED = "created"
    RUNNING = "running"
    DEPLOYED = "deployed"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"


@dataclass(frozen=True, init=False, eq=False, repr=False)
class NodeSpec:
    """One node to create: ``NodeSpec(name, size, image, **create_node_kwargs)``.

    Args:
        name: The node's name.
        size: Its size.
        image: Its image.
        **create_node_kwargs: Further ``create_node`` arguments (``location``, ``key_pair``,
            ``user_data``, provider options). Only their names are shown in ``repr``: ``user_data``
            often holds secrets.
    """

    name: str
    size: NodeSize
    image: NodeImage
    create_node_kwargs: dict[str, Any] = field(default_factory=dict)

    def __init__(self, name: str, size: NodeSize, image: NodeImage, **create_node_kwargs: Any) -> None:
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"NodeSpec needs a non-empty name, got {name!r}")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "size", size)
        object.__setattr__(self, "image", image)
        object.__setattr__(self, "create_node_kwargs", dict(create_node_kwargs))

    def __repr__(self) -> str:
        size = getattr(self.size, "id", self.size)
        image = getattr(self.image, "id", self.image)
        options = f", options={sorted(self.create_node_kwargs)}" if self.create_node_kwargs else ""
        return f"NodeSpec(name={self.name!r}, size={size!r}, image={image!r}{options})"


@dataclass(frozen=True)
class ProvisionEvent:
    """A progress report handed to ``on_progress``.

    Attributes:
        spec: The spec it is about.
        index: The spec's position in the input.
        stage: What just happened.
        node: The node, once created (for ``FAILED``, the node if the failure came after creating it).
        error: The failure, for ``FAILED`` (and for a ``ROLLED_BACK`` whose destroy failed).
        done: Specs finished so far (succeeded or failed), this one included when it just finished.
        total: Number of specs.
    """

    spec: NodeSpec
    index: int
    stage: ProvisionStage
    node: Node | None
    error: Exception | None
    done: int
    total: int


#: ``on_progress`` may be a plain function or a coroutine function.
ProgressCallback: TypeAlias = "Callable[[ProvisionEvent], Awaitable[None] | None]"


@dataclass(eq=False)
class ProvisionOutcome:
    """What happened to one spec.

    Attributes:
        spec: The spec.
        index: Its position in the input.
        node: The node, if one was created (also when a later stage failed, or it was rolled back).
        error: Why this spec failed, or ``None``.
        stage: The last stage reached (``None`` if nothing happened).
        deployment: The copy of the ``deploy`` step that ran on this node (its ``stdout``,
            ``exit_status``, ... are this node's).
        rolled_back: Rollback destroyed the node.
        rollback_error: Rollback tried to destroy the node and failed: the node may still exist.
        cancelled: The spec's work was stopped (another spec failed with ``rollback_on_error``) or never
            started.
    """

    spec: NodeSpec
    index: int
    node: Node | None = None
    error: Exception | None = None
    stage: ProvisionStage | None = None
    deployment: Deployment | None = None
    rolled_back: bool = False
    rollback_error: Exception | None = None
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        """The spec went through every requested stage and its node exists."""
        return self.node is not None and self.error is None and not self.cancelled and not self.rolled_back


@dataclass(eq=False)
class ProvisionResult:
    """The outcome of every spec, in input order.

    Partial failure is a normal result, not an exception: look at :attr:`failed` (or call
    :meth:`raise_for_errors`) and use :attr:`succeeded`.
    """

    outcomes: list[ProvisionOutcome]

    @property
    def succeeded(self) -> list[Node]:
        """The nodes of the specs that succeeded, in spec order."""
        return [o.node for o in self.outcomes if o.ok and o.node is not None]

    @property
    def failed(self) -> list[tuple[NodeSpec, Exception]]:
        """``(spec, error)`` for every spec that failed, in spec order."""
        return [(o.spec, o.error) for o in self.outcomes if o.error is not None]

    @property
    def created(self) -> list[Node]:
        """Every node this call created and did not destroy: the succeeded ones, plus those of specs
        that failed after their node was created (they are not destroyed without rollback)."""
        return [o.node for o in self.outcomes if o.node is not None and not o.rolled_back]

    @property
    def rollback_errors(self) -> list[tuple[Node, Exception]]:
        """``(node, error)`` for every node rollback could not destroy (it may still exist)."""
        return [(o.node, o.rollback_error) for o in self.outcomes if o.node and o.rollback_error]

    @property
    def ok(self) -> bool:
        """Every spec succeeded."""
        return all(o.ok for o in self.outcomes)

    def raise_for_errors(self) -> ProvisionResult:
        """Raise if anything failed; return ``self`` otherwise (``provision(...).raise_for_errors()``).

        Raises:
            ExceptionGroup: The spec errors, then the rollback errors (``except*`` works on them).
        """
        errors = [e for _, e in self.failed] + [e for _, e in self.rollback_errors]
        if not errors:
            return self
        names = ", ".join(s.name for s, _ in self.failed[:5]) + (", ..." if len(self.failed) > 5 else "")
        message = f"{len(self.failed)} of {len(self.outcomes)} node spec(s) failed"
        if names:
            message += f" ({names})"
        if self.rollback_errors:
            message += f"; rollback could not destroy {len(self.rollback_errors)} node(s)"
        raise ExceptionGroup(message, errors)

    def __repr__(self) -> str:
        cancelled = sum(o.cancelled for o in self.outcomes)
        rolled = sum(o.rolled_back for o in self.outcomes)
        return (
            f"<ProvisionResult {len(self.succeeded)} succeeded, {len(self.failed)} failed, "
            f"{rolled} rolled back, {cancelled} cancelled, of {len(self.outcomes)}>"
        )


async def provision(
    driver: ComputeDriver,
    specs: Iterable[NodeSpec],
    *,
    concurrency: int | anyio.CapacityLimiter = 10,
    wait_until_running: bool = False,
    deploy: Deployment | None = None,
    ssh: SSHOptions | None = None,
    rollback_on_error: bool = False,
    on_progress: ProgressCallback | None = None,
    timeout: float = 600.0,
    wait_period: float = 5.0,
) -> ProvisionResult:
    """Create many nodes concurrently; optionally wait until they run and deploy to each.

    At most ``concurrency`` specs are in progress at once (create, then wait, then deploy, per spec);
    specs start in input order as slots free up. Throttling (HTTP 429 and provider throttling codes) is
    retried with backoff by the driver's request pipeline, so it slows a spec down instead of failing it.

    **Partial failure** is normal: the result lists each spec's node or error. Without rollback, the nodes
    of specs that failed after creation are kept (``result.created``, ``outcome.node``).

    **Rollback** (``rollback_on_error=True``): the first failure stops the rest (nothing new is started,
    work in progress is cancelled) and every node this call created is destroyed, concurrently. Errors
    while destroying are reported (``result.rollback_errors``), never raised over the original failure.

    **Cancellation** (an enclosing cancel scope, a timeout, Ctrl-C) propagates. No node goes
    untracked: a ``create_node`` call in flight is shielded and allowed to finish (bounded by the
    driver's request timeout and retry budget), because once the request left, only its answer says
    whether the provider created a node. With ``rollback_on_error=True`` every created node is then
    destroyed (shielded) before the cancellation propagates; without it, the nodes are left and a
    warning lists them (each was also reported by a ``CREATED`` event, which is delivered even under
    cancellation). A second Ctrl-C interrupts the clean-up.

    Args:
        driver: Any compute driver.
        specs: The nodes to create.
        concurrency: Specs in progress at once, or an ``anyio.CapacityLimiter`` shared with other work.
        wait_until_running: Wait until each node is running and has an address.
        deploy: A deployment step to run on each node (a copy per node, see ``outcome.deployment``);
            implies waiting. asyncio only: on trio this raises ``NotSupportedError`` before creating
            anything. SSH keys are loaded once, up front: a wrong key path or passphrase raises
            ``ConfigurationError`` before creating anything.
        ssh: How to reach the nodes (``SSHOptions``); ``SSHOptions()`` by default. Its ``interface`` is
            also the address the wait requires.
        rollback_on_error: Destroy everything created when any spec fails or the call is cancelled.
        on_progress: Called (or awaited) with a :class:`ProvisionEvent` at every stage. If it raises,
            provisioning stops as on cancellation (with rollback when asked) and the error propagates.
        timeout: Seconds each node may take to run (and, with ``deploy``, to answer over SSH).
        wait_period: Seconds between polls while waiting.

    Returns:
        A :class:`ProvisionResult`.

    Raises:
        ConfigurationError: Invalid arguments or unusable SSH keys (nothing was created).
        NotSupportedError: ``deploy`` on trio (nothing was created).
    """
    specs = list(specs)
    for spec in specs:
        if not isinstance(spec, NodeSpec):
            raise ConfigurationError(f"specs must be NodeSpec objects, got {type(spec).__name__}")
    if isinstance(concurrency, int) and (isinstance(concurrency, bool) or concurrency < 1):
        raise ConfigurationError(f"concurrency must be an int >= 1, got {concurrency!r}")
    for name, value in (("timeout", timeout), ("wait_period", wait_period)):
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value) or value <= 0:
            raise ConfigurationError(f"{name} must be a positive number of seconds, got {value!r}")

    from asynccloud._provisioner import Provisioner  # anyio and friends: loaded on first use

    return await Provisioner(
        driver,
        specs,
        concurrency=concurrency,
        wait_until_running=wait_until_running,
        deploy=deploy,
        ssh=ssh,
        rollback_on_error=rollback_on_error,
        on_progress=on_progress,
        timeout=timeout,
        wait_period=wait_period,
    ).run()
