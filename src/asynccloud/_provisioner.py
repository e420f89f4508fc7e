"""The machinery behind :func:`asynccloud.provision` (see its docstring for the semantics).

One task per spec, started in input order when a slot of the ``CapacityLimiter`` frees up; the spawning
loop itself waits for the slot, so no more than ``concurrency`` tasks exist at once. Every node is
recorded on its outcome before anything else can happen:

- ``create_node`` runs in a shielded scope, with the record made inside the shield. A cancellation that
  arrives while the request is in flight waits for the answer (the driver's timeouts and retry budget
  bound it), so a node the provider created is always known. Shielding the call is sound for any
  driver; finding an orphan afterwards by name or client token would need provider support (names are
  not unique on every cloud, and the portable ``create_node`` takes no token).
- Before entering that shield a task checks for cancellation, so no new create starts once cancelled.
- Rollback runs shielded and destroys every recorded node concurrently; a destroy error is recorded on
  the outcome (``rollback_error``) and logged, never raised.
"""

from __future__ import annotations

import copy
import inspect
import logging
import math
from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel

from asynccloud._provision import ProvisionEvent, ProvisionOutcome, ProvisionResult, ProvisionStage
from asynccloud.errors import ConfigurationError, NodeNotFoundError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from asynccloud._provision import NodeSpec, ProgressCallback
    from asynccloud.deployment import Deployment, SSHOptions
    from asynccloud.deployment._connect import Credentials
    from asynccloud.drivers.base import ComputeDriver
    from asynccloud.models import Node

__all__ = ["Provisioner"]

logger = logging.getLogger("asynccloud.provision")


class Provisioner:
    """One run of :func:`asynccloud.provision`; arguments as there (validated by it)."""

    def __init__(
        self,
        driver: ComputeDriver,
        specs: Sequence[NodeSpec],
        *,
        concurrency: int | anyio.CapacityLimiter,
        wait_until_running: bool,
        deploy: Deployment | None,
        ssh: SSHOptions | None,
        rollback_on_error: bool,
        on_progress: ProgressCallback | None,
        timeout: float,
        wait_period: float,
    ) -> None:
        if isinstance(concurrency, anyio.CapacityLimiter):
            self._limiter = concurrency
        elif isinstance(concurrency, int):
            self._limiter = anyio.CapacityLimiter(concurrency)
        else:
            raise ConfigurationError(
                f"concurrency must be an int or an anyio.CapacityLimiter, not {type(concurrency).__name__}"
            )
        self._driver = driver
        self._outcomes = [ProvisionOutcome(spec=spec, index=i) for i, spec in enumerate(specs)]
        self._wait = wait_until_running or deploy is not None
        self._deploy = deploy
        self._ssh = ssh
        self._rollback = rollback_on_error
        self._on_progress = on_progress
        self._timeout = timeout
        self._wait_period = wait_period
        self._creds: Credentials | None = None
        self._finished: set[int] = set()
        self._callback_error: Exception | None = None
        self._rolling_back = False
        self._scope: anyio.CancelScope | None = None

    # ------------------------------------------------------------------------------------------ run

    async def run(self) -> ProvisionResult:
        """Provision every spec and return the result (see :func:`asynccloud.provision`)."""
        if self._deploy is not None:
            await self._prepare_deployment()
        try:
            async with anyio.create_task_group() as tg:
                self._scope = tg.cancel_scope
                for outcome in self._outcomes:
                    token = object()  # the limiter's borrower: released by the spec's own task
                    await self._limiter.acquire_on_behalf_of(token)
                    tg.start_soon(self._provision_one, outcome, token, name=f"provision {outcome.spec.name}")
            # A cancellation that came while only shielded work was left may not have been raised yet
            # (trio drops it when the parent was just waiting for its children): ask, so a cancelled
            # call always raises and rolls back, on every backend.
            await anyio.lowlevel.checkpoint_if_cancelled()
        except BaseException:
            # Cancelled from outside, interrupted (KeyboardInterrupt), or a bug: leave nothing untracked.
            self._mark_cancelled()
            await self._clean_up(reason="interrupted")
            raise
        self._mark_cancelled()
        if self._callback_error is not None:
            await self._clean_up(reason="stopped by an error in on_progress")
            raise self._callback_error
        if self._rollback and any(o.error is not None for o in self._outcomes):
            await self._roll_back()
        return ProvisionResult(self._outcomes)

    async def _prepare_deployment(self) -> None:
        from asynccloud.deployment import Deployment, SSHOptions
        from asynccloud.deployment._deploy import prepare

        if not isinstance(self._deploy, Deployment):
            raise ConfigurationError(f"deploy must be a deployment step, not {type(self._deploy).__name__}")
        try:
            copy.deepcopy(self._deploy)
        except Exception as exc:
            raise ConfigurationError(
                f"the deploy step must be deep-copyable (each node runs its own copy): {exc}"
            ) from exc
        if self._ssh is None:
            self._ssh = SSHOptions()
        self._creds = await prepare(self._driver.provider, self._ssh)

    def _mark_cancelled(self) -> None:
        for outcome in self._outcomes:
            if outcome.index not in self._finished:
                outcome.cancelled = True

    async def _clean_up(self, reason: str) -> None:
        if self._rollback:
            await self._roll_back()
            return
        left = [o.node for o in self._outcomes if o.node is not None]
        if left:
            shown = ", ".join(f"{n.name} ({n.id})" for n in left[:20]) + (", ..." if len(left) > 20 else "")
            logger.warning(
                "provision %s without rollback_on_error: %d node(s) created and left as they are: %s",
                reason, len(left), shown,
            )  # fmt: skip

    # ------------------------------------------------------------------------------------- one spec

    async def _provision_one(self, outcome: ProvisionOutcome, token: object) -> None:
        try:
            await self._pipeline(outcome)
        finally:
            self._limiter.release_on_behalf_of(token)

    async def _pipeline(self, outcome: ProvisionOutcome) -> None:
        spec = outcome.spec
        only_create = not self._wait
        await anyio.lowlevel.checkpoint_if_cancelled()  # no new create once cancelled
        with anyio.CancelScope(shield=True):
            try:
                node = await self._driver.create_node(
                    spec.name, spec.size, spec.image, **spec.create_node_kwargs
                )
            except Exception as exc:
                await self._fail(outcome, exc)
                return
            outcome.node = node
            # Delivered inside the shield: whoever tracks nodes through events sees every one.
            await self._emit(outcome, ProvisionStage.CREATED, final=only_create)
        if only_create:
            return

        interface = self._ssh.interface if self._ssh is not None else "public_ips"
        try:
            ((node, addresses),) = await self._driver.wait_until_running(
                [node], wait_period=self._wait_period, timeout=self._timeout, ssh_interface=interface
            )
        except Exception as exc:
            await self._fail(outcome, exc)
            return
        outcome.node = node
        await self._emit(outcome, ProvisionStage.RUNNING, final=self._deploy is None)
        if self._deploy is None:
            return

        assert self._ssh is not None  # set by _prepare_deployment
        assert self._creds is not None
        from asynccloud.deployment._deploy import deploy_with

        step = copy.deepcopy(self._deploy)
        outcome.deployment = step
        try:
            node = await deploy_with(node, addresses, step, self._ssh, self._creds)
        except Exception as exc:
            await self._fail(outcome, exc)
            return
        outcome.node = node
        await self._emit(outcome, ProvisionStage.DEPLOYED, final=True)

    async def _fail(self, outcome: ProvisionOutcome, error: Exception) -> None:
        outcome.error = error
        logger.debug("provision %s failed: %s: %s", outcome.spec.name, type(error).__name__, error)
        await self._emit(outcome, ProvisionStage.FAILED, error=error, final=True)
        if self._rollback:
            self._stop()

    def _stop(self) -> None:
        if self._scope is not None:
            self._scope.cancel()

    async def _emit(
        self,
        outcome: ProvisionOutcome,
        stage: ProvisionStage,
        *,
        error: Exception | None = None,
        final: bool = False,
    ) -> None:
        if stage is not ProvisionStage.ROLLED_BACK:
            outcome.stage = stage
        if final:
            self._finished.add(outcome.index)
        if self._on_progress is None:
            return
        event = ProvisionEvent(
            spec=outcome.spec,
            index=outcome.index,
            stage=stage,
            node=outcome.node,
            error=error,
            done=len(self._finished),
            total=len(self._outcomes),
        )
        try:
            result: Any = self._on_progress(event)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:
            if self._rolling_back:
                # Clean-up goes on whatever a progress callback does.
                logger.warning("on_progress raised during rollback (ignored)", exc_info=True)
                return
            if self._callback_error is None:
                self._callback_error = exc
            self._stop()

    # -------------------------------------------------------------------------------------- rollback

    async def _roll_back(self) -> None:
        targets = [o for o in self._outcomes if o.node is not None and not o.rolled_back]
        if not targets:
            return
        self._rolling_back = True
        tokens = self._limiter.total_tokens
        limit = len(targets) if math.isinf(tokens) else max(1, min(len(targets), int(tokens)))
        limiter = anyio.CapacityLimiter(limit)
        logger.info("provision: rolling back %d node(s)", len(targets))
        with anyio.CancelScope(shield=True):
            async with anyio.create_task_group() as tg:
                for outcome in targets:
                    tg.start_soon(self._destroy, outcome, limiter)

    async def _destroy(self, outcome: ProvisionOutcome, limiter: anyio.CapacityLimiter) -> None:
        node: Node | None = outcome.node
        assert node is not None
        async with limiter:
            try:
                await self._driver.destroy_node(node)
            except NodeNotFoundError:
                outcome.rolled_back = True  # already gone: nothing left behind
            except Exception as exc:
                outcome.rollback_error = exc
                logger.warning(
                    "provision rollback could not destroy node %s (%s): %s: %s",
                    node.name, node.id, type(exc).__name__, exc,
                )  # fmt: skip
            else:
                outcome.rolled_back = True
        await self._emit(outcome, ProvisionStage.ROLLED_BACK, error=outcome.rollback_error)
