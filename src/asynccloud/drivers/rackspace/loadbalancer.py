"""Rackspace Cloud Load Balancers v1.0 (``Provider.RACKSPACE``, load balancer).

* ``create_balancer(name, port, protocol, algorithm, members)``: one ``POST /loadbalancers`` with a
  ``PUBLIC`` virtual IP (``virtual_ip_type="SERVICENET"`` for a private one) and the members as nodes (the
  API wants at least one). The balancer comes back ``BUILD`` (:attr:`BalancerState.PENDING`).
* Every change to an existing balancer (update, destroy, member attach/detach) first waits, with
  :func:`~asynccloud._polling.poll_until`, for it to leave ``BUILD``/``PENDING_UPDATE``/``PENDING_DELETE``:
  the API rejects changes meanwhile (``422``, "considered immutable"). ``update_balancer`` also waits for
  the change to be applied and returns the balancer as it then is.
* Algorithms: ``ROUND_ROBIN``, ``LEAST_CONNECTIONS``, ``RANDOM``, ``WEIGHTED_ROUND_ROBIN``,
  ``WEIGHTED_LEAST_CONNECTIONS``. Protocols come from ``GET /loadbalancers/protocols`` (lower-cased;
  either case is accepted).
* ``LoadBalancer.ip`` is the first public IPv4 virtual IP (else the first virtual IP); ``hostname`` is
  ``None``. Statuses: ``ACTIVE`` -> running, ``BUILD``/``PENDING_*`` -> pending, ``ERROR`` -> error,
  ``DELETED`` -> deleted, ``SUSPENDED`` -> unknown (``extra["status"]`` keeps the API's word).

Usage::

    LB = get_driver(DriverType.LOADBALANCER, Provider.RACKSPACE)
    async with LB("username", "api-key", region="ord") as lb:
        members = [Member(ip="10.0.0.5", port=80)]
        web = await lb.create_balancer("web", 80, "http", Algorithm.ROUND_ROBIN, members)
        await web.attach_compute_node(node)      # waits for BUILD to finish first
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Final, Unpack

from asynccloud._capability import Capability
from asynccloud._json import MalformedJson, identifier, json_object, objects, optional, require
from asynccloud._pagination import marker_pages
from asynccloud._polling import poll_until
from asynccloud.drivers._kinds import LoadBalancerDriverBase
from asynccloud.drivers.openstack._common import OpenStackDriverBase
from asynccloud.drivers.rackspace._common import CATALOG, PROVIDER, RackspaceOptions, openstack_options
from asynccloud.drivers.rackspace._errors import RackspaceErrorPolicy
from asynccloud.errors import BalancerNotFoundError, ConfigurationError, NotFoundError, ProviderError
from asynccloud.models import Algorithm, BalancerState, LoadBalancer, Member

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping, Sequence

__all__ = ["ALGORITHMS", "RackspaceLoadBalancerDriver"]

#: Portable algorithm -> Cloud Load Balancers' name.
ALGORITHMS: Final[Mapping[Algorithm, str]] = {
    Algorithm.ROUND_ROBIN: "ROUND_ROBIN",
    Algorithm.LEAST_CONNECTIONS: "LEAST_CONNECTIONS",
    Algorithm.RANDOM: "RANDOM",
    Algorithm.WEIGHTED_ROUND_ROBIN: "WEIGHTED_ROUND_ROBIN",
    Algorithm.WEIGHTED_LEAST_CONNECTIONS: "WEIGHTED_LEAST_CONNECTIONS",
}
_FROM_API = {v: k for k, v in ALGORITHMS.items()}
#: Statuses during which the API refuses changes.
TRANSITIONAL: Final = frozenset({"BUILD", "PENDING_UPDATE", "PENDING_DELETE"})
_STATES: Final[Mapping[str, BalancerState]] = {
    "ACTIVE": BalancerState.RUNNING,
    "BUILD": BalancerState.PENDING,
    "PENDING_UPDATE": BalancerState.PENDING,
    "PENDING_DELETE": BalancerState.PENDING,
    "ERROR": BalancerState.ERROR,
    "DELETED": BalancerState.DELETED,
}
_VIP_TYPES = ("PUBLIC", "SERVICENET")


def _classify(path: str, status: int) -> type[ProviderError] | None:
    if status == 404 and "/loadbalancers/" in path and "/nodes/" not in path:
        return BalancerNotFoundError
    return None


def _virtual_ip(vips: Any) -> str | None:
    if not isinstance(vips, list):
        return None
    ranked = sorted(
        (v for v in vips if isinstance(v, dict) and v.get("address")),
        key=lambda v: (v.get("type") != "PUBLIC", v.get("ipVersion") != "IPV4"),
    )
    return str(ranked[0]["address"]) if ranked else None


def _algorithm(value: Algorithm | str) -> str:
    try:
        return ALGORITHMS[Algorithm(value)]
    except (ValueError, KeyError):
        supported = ", ".join(a.value for a in ALGORITHMS)
        raise ConfigurationError(
            f"Cloud Load Balancers does not support algorithm {value!r}; supported: {supported}"
        ) from None


def _port(value: int | None, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise ConfigurationError(f"{what} must be a port number (1-65535), got {value!r}")
    return value


class RackspaceLoadBalancerDriver(OpenStackDriverBase, LoadBalancerDriverBase):
    """Rackspace Cloud Load Balancers.

    Args:
        username: The Rackspace user name (omit with ``auth=``).
        api_key: The account's API key.
        region: One of ``dfw``, ``ord`` (default), ``iad``, ``lon``, ``syd``, ``hkg``.
        virtual_ip_type: ``"PUBLIC"`` (default) or ``"SERVICENET"`` for new balancers.
        wait_timeout: Seconds to wait for a balancer to leave a transitional state.
        wait_interval: First pause between status polls, in seconds (grows up to ``10 * wait_interval``).
        page_size: Balancers per listing page.
        **options: ``auth=``, ``auth_url=``, ``interface=``, ``endpoint=`` and the portable HTTP options.

    Raises:
        ConfigurationError: Unknown region or option, invalid values, or missing credentials.
    """

    provider: ClassVar[str] = PROVIDER
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.BALANCER_UPDATE, Capability.MEMBER_WEIGHTS}
    )
    default_service_type: ClassVar[str] = CATALOG["loadbalancer"][0]
    default_service_name: ClassVar[str | None] = CATALOG["loadbalancer"][1]

    def __init__(
        self,
        username: str | None = None,
        api_key: str | None = None,
        *,
        region: str = "ord",
        virtual_ip_type: str = "PUBLIC",
        wait_timeout: float = 600.0,
        wait_interval: float = 2.0,
        page_size: int = 100,
        **options: Unpack[RackspaceOptions],
    ) -> None:
        if str(virtual_ip_type).upper() not in _VIP_TYPES:
            raise ConfigurationError(f"virtual_ip_type must be PUBLIC or SERVICENET, got {virtual_ip_type!r}")
        for name, value in (("wait_timeout", wait_timeout), ("wait_interval", wait_interval)):
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ConfigurationError(f"{name} must be a positive number of seconds, got {value!r}")
        if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
            raise ConfigurationError(f"page_size must be a positive int, got {page_size!r}")
        self._vip_type = str(virtual_ip_type).upper()
        self._wait_timeout = float(wait_timeout)
        self._wait_interval = float(wait_interval)
        self._page_size = page_size
        stype, sname = CATALOG["loadbalancer"]
        self._http = self._setup_openstack(
            username,
            api_key,
            openstack_options(region, options, service_type=stype, service_name=sname),
            error_policy=RackspaceErrorPolicy(_classify),
            headers={"Accept": "application/json"},
        )

    # ---------------------------------------------------------------------------------------- models

    def _balancer(self, raw: Mapping[str, Any]) -> LoadBalancer:
        status = optional(raw, "status", str, "loadBalancer") or ""
        algorithm = optional(raw, "algorithm", str, "loadBalancer")
        created = optional(raw, "created", dict, "loadBalancer") or {}
        updated = optional(raw, "updated", dict, "loadBalancer") or {}
        extra: dict[str, Any] = {
            "status": status,
            "protocol": optional(raw, "protocol", str, "loadBalancer"),
            "algorithm": _FROM_API.get(algorithm, algorithm) if algorithm else None,
            "virtual_ips": raw.get("virtualIps"),
            "node_count": raw.get("nodeCount"),
            "created": created.get("time"),
            "updated": updated.get("time"),
        }
        if raw.get("nodes") is not None:
            extra["members"] = [self._member(n) for n in objects(raw, "nodes", "loadBalancer")]
        return self.bind(
            LoadBalancer(
                id=identifier(raw, "id", "loadBalancer"),
                name=optional(raw, "name", str, "loadBalancer") or "",
                state=_STATES.get(status, BalancerState.UNKNOWN),
                ip=_virtual_ip(optional(raw, "virtualIps", list, "loadBalancer")),
                hostname=None,
                port=optional(raw, "port", int, "loadBalancer"),
                extra={k: v for k, v in extra.items() if v is not None},
            )
        )

    def _member(self, raw: Mapping[str, Any]) -> Member:
        extra = {k: raw[k] for k in ("condition", "status", "type") if raw.get(k) is not None}
        return self.bind(
            Member(
                id=identifier(raw, "id", "node") if raw.get("id") is not None else None,
                ip=optional(raw, "address", str, "node"),
                port=optional(raw, "port", int, "node"),
                weight=optional(raw, "weight", int, "node"),
                extra=extra,
            )
        )

    def _node(self, member: Member, default_port: int | None) -> dict[str, Any]:
        if not member.ip:
            raise ConfigurationError("a member needs an ip to be attached to a Cloud Load Balancer")
        node: dict[str, Any] = {
            "address": member.ip,
            "port": _port(member.port if member.port is not None else default_port, "member port"),
            "condition": str(member.extra.get("condition", "ENABLED")).upper(),
        }
        if member.weight is not None:
            node["weight"] = member.weight
        if member.extra.get("type"):
            node["type"] = str(member.extra["type"]).upper()
        return node

    # ------------------------------------------------------------------------------------ read verbs

    async def _url(self, path: str = "") -> str:
        return f"{await self._service_url()}/loadbalancers{path}"

    async def list_protocols(self) -> list[str]:
        """The protocols the region offers (``GET /loadbalancers/protocols``), lower-cased."""
        body = json_object(await self._http.request("GET", await self._url("/protocols")))
        return [require(p, "name", str, "protocol").lower() for p in objects(body, "protocols")]

    async def list_supported_algorithms(self) -> list[Algorithm]:
        """The portable algorithms Cloud Load Balancers implements."""
        return list(ALGORITHMS)

    async def iterate_balancers(self) -> AsyncIterator[LoadBalancer]:
        """Every balancer of the region (follows ``marker`` paging to the end)."""
        url = await self._url()

        async def fetch(marker: str | None, limit: int) -> list[dict[str, Any]]:
            params: dict[str, Any] = {"limit": limit}
            if marker is not None:
                params["marker"] = marker
            return objects(json_object(await self._http.request("GET", url, params=params)), "loadBalancers")

        pages = marker_pages(
            fetch,
            key=lambda raw: identifier(raw, "id", "loadBalancer"),
            page_size=self._page_size,
            provider=PROVIDER,
        )
        async for raw in pages:
            yield self._balancer(raw)

    async def _get_raw(self, balancer_id: str) -> dict[str, Any]:
        response = await self._http.request("GET", await self._url(f"/{balancer_id}"))
        return require(json_object(response), "loadBalancer", dict)

    async def get_balancer(self, balancer_id: str) -> LoadBalancer:
        """One balancer by id, with its members in ``extra["members"]``.

        Raises:
            BalancerNotFoundError: No such balancer.
        """
        return self._balancer(await self._get_raw(balancer_id))

    async def balancer_list_members(self, balancer: LoadBalancer) -> list[Member]:
        """The balancer's nodes."""
        body = json_object(await self._http.request("GET", await self._url(f"/{balancer.id}/nodes")))
        return [self._member(n) for n in objects(body, "nodes")]

    # ---------------------------------------------------------------------------------------- waits

    async def ex_wait_until_ready(self, balancer: LoadBalancer | str) -> LoadBalancer:
        """Wait until the balancer is out of ``BUILD``/``PENDING_UPDATE``/``PENDING_DELETE``.

        Raises:
            OperationFailedError: It went to ``ERROR`` or ``DELETED``.
            OperationTimeoutError: ``wait_timeout`` passed first.
        """
        balancer_id = balancer if isinstance(balancer, str) else balancer.id

        def failed(raw: dict[str, Any]) -> str | None:
            status = raw.get("status")
            return f"balancer {balancer_id} is {status}" if status in ("ERROR", "DELETED") else None

        async def fetch() -> dict[str, Any]:
            raw = await self._get_raw(balancer_id)
            require(raw, "status", str, "loadBalancer")  # no status is not "ready": nothing is done on it
            return raw

        raw = await poll_until(
            fetch,
            lambda raw: raw.get("status") not in TRANSITIONAL,
            failed=failed,
            timeout=self._wait_timeout,
            interval=self._wait_interval,
            max_interval=10 * self._wait_interval,
            what=f"balancer {balancer_id} to leave its transitional state",
            describe=lambda raw: f"status {raw.get('status')}",
        )
        return self._balancer(raw)

    # ---------------------------------------------------------------------------------------- writes

    async def create_balancer(
        self,
        name: str,
        port: int,
        protocol: str,
        algorithm: Algorithm,
        members: Sequence[Member],
    ) -> LoadBalancer:
        """Create a balancer with a virtual IP and ``members`` (at least one); it starts in ``BUILD``.

        Members without a port get the balancer's port.

        Raises:
            ConfigurationError: No member, a bad port, an unsupported algorithm.
        """
        if not members:
            raise ConfigurationError("Cloud Load Balancers needs at least one member to create a balancer")
        body = {
            "name": name,
            "port": _port(port, "port"),
            "protocol": str(protocol).upper(),
            "algorithm": _algorithm(algorithm),
            "virtualIps": [{"type": self._vip_type}],
            "nodes": [self._node(m, port) for m in members],
        }
        response = await self._http.request("POST", await self._url(), json={"loadBalancer": body})
        return self._balancer(require(json_object(response), "loadBalancer", dict))

    async def update_balancer(
        self,
        balancer: LoadBalancer,
        *,
        name: str | None = None,
        port: int | None = None,
        protocol: str | None = None,
        algorithm: Algorithm | None = None,
    ) -> LoadBalancer:
        """Change a balancer's name, port, protocol or algorithm; returns it once the change is applied.

        Raises:
            BalancerNotFoundError: No such balancer.
            OperationTimeoutError: It stayed in a transitional state for ``wait_timeout`` seconds.
        """
        body: dict[str, Any] = {}
        if name is not None:
            body["name"] = name
        if port is not None:
            body["port"] = _port(port, "port")
        if protocol is not None:
            body["protocol"] = str(protocol).upper()
        if algorithm is not None:
            body["algorithm"] = _algorithm(algorithm)
        if not body:
            return balancer
        await self.ex_wait_until_ready(balancer)
        await self._http.request("PUT", await self._url(f"/{balancer.id}"), json={"loadBalancer": body})
        return await self.ex_wait_until_ready(balancer)

    async def destroy_balancer(self, balancer: LoadBalancer) -> None:
        """Delete a balancer (after waiting for it to be out of a transitional state)."""
        await self.ex_wait_until_ready(balancer)
        await self._http.request("DELETE", await self._url(f"/{balancer.id}"))

    async def balancer_attach_member(self, balancer: LoadBalancer, member: Member) -> Member:
        """Add a member (node), waiting first for the balancer to accept changes."""
        ready = await self.ex_wait_until_ready(balancer)
        node = self._node(member, ready.port if ready.port is not None else balancer.port)
        url = await self._url(f"/{balancer.id}/nodes")
        nodes = objects(json_object(await self._http.request("POST", url, json={"nodes": [node]})), "nodes")
        if not nodes:
            raise MalformedJson("nodes is empty")
        return self._member(nodes[0])

    async def balancer_detach_member(self, balancer: LoadBalancer, member: Member) -> None:
        """Remove a member (by id, else by ip and port), waiting first for the balancer to accept changes.

        Raises:
            NotFoundError: No such member.
        """
        member_id = member.id
        await self.ex_wait_until_ready(balancer)
        if member_id is None:
            found = [
                m
                for m in await self.balancer_list_members(balancer)
                if m.ip == member.ip and (member.port is None or m.port == member.port)
            ]
            if not found:
                raise NotFoundError(
                    f"balancer {balancer.id} has no member {member.ip}:{member.port}",
                    provider=PROVIDER,
                    status=404,
                )
            member_id = found[0].id
        await self._http.request("DELETE", await self._url(f"/{balancer.id}/nodes/{member_id}"))
