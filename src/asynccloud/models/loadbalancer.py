"""Load-balancer models: balancers, their members, states and algorithms."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from pydantic import Field

from asynccloud.models._base import CloudModel

if TYPE_CHECKING:
    from asynccloud.drivers.base import LoadBalancerDriver
    from asynccloud.models.compute import Node

__all__ = ["Algorithm", "BalancerState", "LoadBalancer", "Member"]


class BalancerState(StrEnum):
    """Portable state of a load balancer."""

    RUNNING = "running"
    PENDING = "pending"
    UNKNOWN = "unknown"
    ERROR = "error"
    DELETED = "deleted"


class Algorithm(StrEnum):
    """How a balancer spreads connections over its members."""

    RANDOM = "random"
    ROUND_ROBIN = "round_robin"
    LEAST_CONNECTIONS = "least_connections"
    WEIGHTED_ROUND_ROBIN = "weighted_round_robin"
    WEIGHTED_LEAST_CONNECTIONS = "weighted_least_connections"
    SHORTEST_RESPONSE = "shortest_response"
    PERSISTENT_IP = "persistent_ip"


class Member(CloudModel):
    """A backend a balancer sends traffic to."""

    id: str | None = None
    ip: str | None = None
    port: int | None = Field(default=None, ge=0, le=65535)
    weight: int | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


class LoadBalancer(CloudModel):
    """A load balancer. Many are reached by DNS name (``hostname``) rather than by ``ip``."""

    id: str
    name: str
    state: BalancerState = BalancerState.UNKNOWN
    ip: str | None = None
    hostname: str | None = None
    port: int | None = Field(default=None, ge=0, le=65535)
    extra: dict[str, Any] = Field(default_factory=dict)

    def _lb(self) -> LoadBalancerDriver:
        return cast("LoadBalancerDriver", self._require_driver())

    async def attach_member(self, member: Member) -> Member:
        """Add a member (``driver.balancer_attach_member``)."""
        return await self._lb().balancer_attach_member(self, member)

    async def attach_compute_node(self, node: Node) -> Member:
        """Add a compute node as a member (``driver.balancer_attach_compute_node``)."""
        return await self._lb().balancer_attach_compute_node(self, node)

    async def detach_member(self, member: Member) -> None:
        """Remove a member (``driver.balancer_detach_member``)."""
        await self._lb().balancer_detach_member(self, member)

    async def list_members(self) -> list[Member]:
        """List the members (``driver.balancer_list_members``)."""
        return await self._lb().balancer_list_members(self)

    async def destroy(self) -> None:
        """Destroy this balancer (``driver.destroy_balancer``)."""
        await self._lb().destroy_balancer(self)
