"""OpenStack Octavia v2 load balancers (``Provider.OPENSTACK``, load balancer).

A portable balancer is Octavia's chain **load balancer -> listener -> pool -> members**:

* ``create_balancer`` creates the balancer on ``vip_subnet_id`` (a required driver option), then a listener
  on ``port``/``protocol``, a pool with the algorithm, and the members, waiting with
  :func:`~asynccloud._polling.poll_until` for the balancer's ``provisioning_status`` to be ``ACTIVE``
  before each step (Octavia refuses changes while it is ``PENDING_*``). If a step fails, the half-built
  balancer is removed (cascade delete) and the error re-raised.
* ``destroy_balancer`` is one cascade delete (``DELETE /v2/lbaas/loadbalancers/{id}?cascade=true``).
* Members live on the balancer's first pool (``extra["pool_id"]``); attach and detach wait for ``ACTIVE``
  before and after.
* Algorithms: ``ROUND_ROBIN``, ``LEAST_CONNECTIONS``, ``PERSISTENT_IP`` (Octavia's ``SOURCE_IP``).
  Protocols: ``http``, ``https``, ``tcp``, ``udp``, ``terminated_https`` (the pool then speaks HTTP).
* ``LoadBalancer.ip`` is ``vip_address``, ``port`` the first listener's ``protocol_port``; the state is the
  ``provisioning_status`` (``ACTIVE`` -> running, ``PENDING_*`` -> pending, ``ERROR``, ``DELETED``).

Usage::

    LB = get_driver(DriverType.LOADBALANCER, Provider.OPENSTACK)
    async with LB("demo", "secret", auth_url=KEYSTONE, tenant_name="demo", vip_subnet_id=SUBNET) as lb:
        members = [Member(ip="10.0.0.5", port=80)]
        web = await lb.create_balancer("web", 80, "http", Algorithm.ROUND_ROBIN, members)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Final, Unpack

import anyio

from asynccloud._capability import Capability
from asynccloud._json import identifier, json_object, objects, optional, require
from asynccloud._pagination import link_pages, next_link
from asynccloud._polling import poll_until
from asynccloud.drivers._kinds import LoadBalancerDriverBase
from asynccloud.drivers.openstack._common import OpenStackDriverBase, OpenStackOptions
from asynccloud.drivers.openstack._service_errors import ServiceErrorPolicy
from asynccloud.errors import BalancerNotFoundError, ConfigurationError, NotFoundError, ProviderError
from asynccloud.models import Algorithm, BalancerState, LoadBalancer, Member

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping, Sequence

__all__ = ["ALGORITHMS", "OctaviaLoadBalancerDriver"]

#: Portable algorithm -> Octavia's ``lb_algorithm``.
ALGORITHMS: Final[Mapping[Algorithm, str]] = {
    Algorithm.ROUND_ROBIN: "ROUND_ROBIN",
    Algorithm.LEAST_CONNECTIONS: "LEAST_CONNECTIONS",
    Algorithm.PERSISTENT_IP: "SOURCE_IP",
}
PROTOCOLS: Final = ("http", "https", "tcp", "udp", "terminated_https")
_STATES: Final[Mapping[str, BalancerState]] = {
    "ACTIVE": BalancerState.RUNNING,
    "PENDING_CREATE": BalancerState.PENDING,
    "PENDING_UPDATE": BalancerState.PENDING,
    "PENDING_DELETE": BalancerState.PENDING,
    "ERROR": BalancerState.ERROR,
    "DELETED": BalancerState.DELETED,
}


def _classify(path: str, status: int) -> type[ProviderError] | None:
    if status == 404 and "/loadbalancers/" in path:
        return BalancerNotFoundError
    return None


def _ids(raw: Mapping[str, Any], key: str) -> list[str]:
    """The ids of a balancer's ``listeners`` or ``pools`` (``[{"id": ...}]``; missing or ``null``: none)."""
    if raw.get(key) is None:
        return []
    return [identifier(ref, "id", f"loadbalancer.{key}") for ref in objects(raw, key, "loadbalancer")]


def _port(value: int | None, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise ConfigurationError(f"{what} must be a port number (1-65535), got {value!r}")
    return value


class OctaviaLoadBalancerDriver(OpenStackDriverBase, LoadBalancerDriverBase):
    """OpenStack Octavia (load-balancer v2).

    Args:
        key: User name or application credential id.
        secret: Password or application credential secret.
        vip_subnet_id: The subnet new balancers get their VIP on (required).
        member_subnet_id: The subnet of new members (Octavia defaults to the VIP subnet).
        wait_timeout: Seconds to wait for ``provisioning_status: ACTIVE`` at each step.
        wait_interval: First pause between status polls (grows up to ``10 * wait_interval``).
        page_size: Items per listing page.
        **options: Identity, endpoint and HTTP options (``OpenStackOptions``).

    Raises:
        ConfigurationError: No ``vip_subnet_id``, invalid timing, unknown options or missing credentials.
    """

    provider: ClassVar[str] = "openstack"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.MEMBER_WEIGHTS})
    default_service_type: ClassVar[str] = "load-balancer"

    def __init__(
        self,
        key: str | None = None,
        secret: str | None = None,
        *,
        vip_subnet_id: str | None = None,
        member_subnet_id: str | None = None,
        wait_timeout: float = 600.0,
        wait_interval: float = 2.0,
        page_size: int = 100,
        **options: Unpack[OpenStackOptions],
    ) -> None:
        if not vip_subnet_id or not isinstance(vip_subnet_id, str):
            raise ConfigurationError(
                "OctaviaLoadBalancerDriver needs vip_subnet_id=: the id of the Neutron subnet new "
                "balancers get their virtual IP on (see `openstack subnet list`)"
            )
        for name, value in (("wait_timeout", wait_timeout), ("wait_interval", wait_interval)):
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ConfigurationError(f"{name} must be a positive number of seconds, got {value!r}")
        if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
            raise ConfigurationError(f"page_size must be a positive int, got {page_size!r}")
        self.vip_subnet_id = vip_subnet_id
        self.member_subnet_id = member_subnet_id
        self._wait_timeout = float(wait_timeout)
        self._wait_interval = float(wait_interval)
        self._page_size = page_size
        self._http = self._setup_openstack(
            key,
            secret,
            options,
            error_policy=ServiceErrorPolicy(_classify),
            headers={"Accept": "application/json"},
        )

    async def _url(self, path: str) -> str:
        base = await self._service_url()
        if not base.endswith(("/v2", "/v2.0")):
            base = f"{base}/v2"
        return f"{base}/lbaas{path}"

    # ---------------------------------------------------------------------------------------- models

    def _balancer(self, raw: Mapping[str, Any], listener: Mapping[str, Any] | None) -> LoadBalancer:
        status = optional(raw, "provisioning_status", str, "loadbalancer") or ""
        pools, listeners = _ids(raw, "pools"), _ids(raw, "listeners")
        protocol = optional(listener, "protocol", str, "listener") if listener else None
        extra: dict[str, Any] = {
            "provisioning_status": status,
            "operating_status": raw.get("operating_status"),
            "vip_subnet_id": raw.get("vip_subnet_id"),
            "vip_port_id": raw.get("vip_port_id"),
            "listener_id": listeners[0] if listeners else None,
            "pool_id": pools[0] if pools else None,
            "protocol": protocol.lower() if protocol else None,
        }
        return self.bind(
            LoadBalancer(
                id=identifier(raw, "id", "loadbalancer"),
                name=optional(raw, "name", str, "loadbalancer") or "",
                state=_STATES.get(status, BalancerState.UNKNOWN),
                ip=optional(raw, "vip_address", str, "loadbalancer"),
                port=optional(listener, "protocol_port", int, "listener") if listener else None,
                extra={k: v for k, v in extra.items() if v is not None},
            )
        )

    def _member(self, raw: Mapping[str, Any]) -> Member:
        keys = ("name", "subnet_id", "operating_status", "provisioning_status", "admin_state_up")
        return self.bind(
            Member(
                id=identifier(raw, "id", "member"),
                ip=optional(raw, "address", str, "member"),
                port=optional(raw, "protocol_port", int, "member"),
                weight=optional(raw, "weight", int, "member"),
                extra={k: raw[k] for k in keys if raw.get(k) is not None},
            )
        )

    # ------------------------------------------------------------------------------------ read verbs

    async def list_protocols(self) -> list[str]:
        """The listener protocols Octavia offers."""
        return list(PROTOCOLS)

    async def list_supported_algorithms(self) -> list[Algorithm]:
        """``ROUND_ROBIN``, ``LEAST_CONNECTIONS`` and ``PERSISTENT_IP`` (``SOURCE_IP``)."""
        return list(ALGORITHMS)

    def _pages(self, first: str, key: str) -> AsyncIterator[dict[str, Any]]:
        async def fetch(url: str) -> tuple[list[dict[str, Any]], str | None]:
            params = None if "?" in url else {"limit": self._page_size}
            body = json_object(await self._http.request("GET", url, params=params))
            return objects(body, key), next_link(optional(body, f"{key}_links", list))

        return link_pages(fetch, first, provider=self.provider)

    async def iterate_balancers(self) -> AsyncIterator[LoadBalancer]:
        """Every balancer of the project, with the port of its first listener."""
        listeners: dict[str, dict[str, Any]] = {}
        async for listener in self._pages(await self._url("/listeners"), "listeners"):
            listeners.setdefault(identifier(listener, "id", "listener"), listener)
        async for raw in self._pages(await self._url("/loadbalancers"), "loadbalancers"):
            first = next(iter(_ids(raw, "listeners")), None)
            yield self._balancer(raw, listeners.get(first) if first else None)

    async def _get_raw(self, balancer_id: str) -> dict[str, Any]:
        response = await self._http.request("GET", await self._url(f"/loadbalancers/{balancer_id}"))
        return require(json_object(response), "loadbalancer", dict)

    async def _state(self, balancer_id: str) -> dict[str, Any]:
        """The balancer's API object, which must say its ``provisioning_status`` (a wait needs it)."""
        raw = await self._get_raw(balancer_id)
        require(raw, "provisioning_status", str, "loadbalancer")
        return raw

    async def get_balancer(self, balancer_id: str) -> LoadBalancer:
        """One balancer by id (two requests: the balancer and its first listener).

        Raises:
            BalancerNotFoundError: No such balancer.
        """
        raw = await self._get_raw(balancer_id)
        listener = None
        if listener_ids := _ids(raw, "listeners"):
            url = await self._url(f"/listeners/{listener_ids[0]}")
            listener = require(json_object(await self._http.request("GET", url)), "listener", dict)
        return self._balancer(raw, listener)

    async def _pool_id(self, balancer: LoadBalancer) -> str:
        pool_id = balancer.extra.get("pool_id")
        if not pool_id:
            pools = _ids(await self._get_raw(balancer.id), "pools")
            pool_id = pools[0] if pools else None
        if not pool_id:
            raise NotFoundError(f"balancer {balancer.id} has no pool", provider=self.provider, status=404)
        return str(pool_id)

    async def balancer_list_members(self, balancer: LoadBalancer) -> list[Member]:
        """The members of the balancer's pool."""
        url = await self._url(f"/pools/{await self._pool_id(balancer)}/members")
        return [self._member(m) async for m in self._pages(url, "members")]

    # ---------------------------------------------------------------------------------------- waits

    async def ex_wait_until_active(self, balancer: LoadBalancer | str) -> dict[str, Any]:
        """Wait for ``provisioning_status: ACTIVE``; returns the balancer's API object.

        Raises:
            OperationFailedError: It went to ``ERROR`` or ``DELETED``.
            OperationTimeoutError: ``wait_timeout`` passed first.
        """
        balancer_id = balancer if isinstance(balancer, str) else balancer.id

        def failed(raw: dict[str, Any]) -> str | None:
            status = raw.get("provisioning_status")
            return f"provisioning_status {status}" if status in ("ERROR", "DELETED") else None

        return await poll_until(
            lambda: self._state(balancer_id),
            lambda raw: raw.get("provisioning_status") == "ACTIVE",
            failed=failed,
            timeout=self._wait_timeout,
            interval=self._wait_interval,
            max_interval=10 * self._wait_interval,
            what=f"balancer {balancer_id} to be ACTIVE",
            describe=lambda raw: f"provisioning_status {raw.get('provisioning_status')}",
        )

    # ---------------------------------------------------------------------------------------- writes

    def _member_body(self, member: Member, default_port: int | None) -> dict[str, Any]:
        if not member.ip:
            raise ConfigurationError("a member needs an ip to be added to an Octavia pool")
        port = member.port if member.port is not None else default_port
        body: dict[str, Any] = {"address": member.ip, "protocol_port": _port(port, "member port")}
        if member.weight is not None:
            body["weight"] = member.weight
        subnet = member.extra.get("subnet_id") or self.member_subnet_id
        if subnet:
            body["subnet_id"] = subnet
        return body

    async def _post(self, path: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self._http.request("POST", await self._url(path), json={key: body})
        return require(json_object(response), key, dict)

    async def create_balancer(
        self,
        name: str,
        port: int,
        protocol: str,
        algorithm: Algorithm,
        members: Sequence[Member],
    ) -> LoadBalancer:
        """Create balancer, listener, pool and members in order, waiting for ``ACTIVE`` between steps.

        Raises:
            ConfigurationError: A bad port, protocol or algorithm (checked before any request).
            OperationFailedError / OperationTimeoutError: A step did not become ``ACTIVE``.
        """
        proto = str(protocol).lower()
        if proto not in PROTOCOLS:
            raise ConfigurationError(f"Octavia protocols are {', '.join(PROTOCOLS)}; got {protocol!r}")
        try:
            lb_algorithm = ALGORITHMS[Algorithm(algorithm)]
        except (ValueError, KeyError):
            supported = ", ".join(a.value for a in ALGORITHMS)
            raise ConfigurationError(
                f"Octavia supports the algorithms {supported}; got {algorithm!r}"
            ) from None
        _port(port, "port")
        bodies = [self._member_body(m, port) for m in members]
        raw = await self._post(
            "/loadbalancers", "loadbalancer", {"name": name, "vip_subnet_id": self.vip_subnet_id}
        )
        balancer_id = identifier(raw, "id", "loadbalancer")
        try:
            await self.ex_wait_until_active(balancer_id)
            listener = await self._post(
                "/listeners",
                "listener",
                {
                    "name": name,
                    "protocol": proto.upper(),
                    "protocol_port": port,
                    "loadbalancer_id": balancer_id,
                },
            )
            listener_id = identifier(listener, "id", "listener")
            await self.ex_wait_until_active(balancer_id)
            pool_protocol = "HTTP" if proto == "terminated_https" else proto.upper()
            pool = await self._post(
                "/pools",
                "pool",
                {
                    "name": name,
                    "protocol": pool_protocol,
                    "lb_algorithm": lb_algorithm,
                    "listener_id": listener_id,
                },
            )
            pool_id = identifier(pool, "id", "pool")
            for body in bodies:
                await self.ex_wait_until_active(balancer_id)
                await self._post(f"/pools/{pool_id}/members", "member", body)
            final = await self.ex_wait_until_active(balancer_id)
        except Exception:
            with anyio.CancelScope(shield=True), anyio.move_on_after(30):
                await self._http.request(
                    "DELETE",
                    await self._url(f"/loadbalancers/{balancer_id}"),
                    params={"cascade": "true"},
                    ok={404, 409},
                )
            raise
        final.setdefault("pools", [{"id": pool_id}])
        final.setdefault("listeners", [{"id": listener_id}])
        return self._balancer(final, listener)

    async def destroy_balancer(self, balancer: LoadBalancer) -> None:
        """Delete the balancer with its listeners, pools and members (one cascade delete)."""
        await self.ex_wait_until_active(balancer)
        url = await self._url(f"/loadbalancers/{balancer.id}")
        await self._http.request("DELETE", url, params={"cascade": "true"})

    async def balancer_attach_member(self, balancer: LoadBalancer, member: Member) -> Member:
        """Add a member to the balancer's pool (waits for ``ACTIVE`` before and after)."""
        pool_id = await self._pool_id(balancer)
        body = self._member_body(member, balancer.port)
        await self.ex_wait_until_active(balancer)
        created = await self._post(f"/pools/{pool_id}/members", "member", body)
        await self.ex_wait_until_active(balancer)
        return self._member(created)

    async def balancer_detach_member(self, balancer: LoadBalancer, member: Member) -> None:
        """Remove a member (by id, else by ip and port) from the pool (waits for ``ACTIVE`` around it).

        Raises:
            NotFoundError: No such member.
        """
        pool_id = await self._pool_id(balancer)
        member_id = member.id
        if member_id is None:
            found = [
                m
                for m in await self.balancer_list_members(balancer)
                if m.ip == member.ip and (member.port is None or m.port == member.port)
            ]
            if not found:
                raise NotFoundError(
                    f"balancer {balancer.id} has no member {member.ip}:{member.port}",
                    provider=self.provider,
                    status=404,
                )
            member_id = found[0].id
        await self.ex_wait_until_active(balancer)
        await self._http.request("DELETE", await self._url(f"/pools/{pool_id}/members/{member_id}"))
        await self.ex_wait_until_active(balancer)
