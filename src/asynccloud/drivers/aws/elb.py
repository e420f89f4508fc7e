"""Elastic Load Balancing v2 driver (``Provider.AWS``, load balancer): ALBs and NLBs.

A portable balancer is ELBv2's chain **load balancer -> listener -> target group -> targets**:

* ``create_balancer(name, port, protocol, algorithm, members)`` creates an **application** load balancer for
  ``http``/``https`` and a **network** load balancer for ``tcp``/``udp``/``tls``/``tcp_udp``, then a target
  group (same protocol and port; HTTP for an HTTPS listener, TCP for TLS), a listener forwarding to it, and
  registers the members. If a step fails, what was already created is deleted and the error re-raised.
  The balancer and its target group are tagged ``asynccloud:managed=true``.
* **Subnets**: the ``subnets=`` driver option, else the default subnets (one per zone) of the region's
  default VPC, found with EC2 ``DescribeSubnets``. ``security_groups=`` applies to ALBs; ``scheme=`` is
  ``internet-facing`` (default) or ``internal``. ``https``/``tls`` need ``certificate_arn=``.
* **Targets**: a member whose ``id`` is an instance id (``i-...``) or that has ``extra["instance_id"]`` is an
  ``instance`` target; one with only ``ip`` an ``ip`` target. The target group's type is fixed when it is
  created: by its members, else by the ``target_type=`` option (``"instance"``, the default, or ``"ip"``).
  ``balancer_attach_compute_node`` registers the node's instance id on instance groups (its private address
  on ip groups). Member ids are ``"<target id>:<port>"``.
* **Algorithms**: ``ROUND_ROBIN`` and ``LEAST_CONNECTIONS`` (ELB's ``least_outstanding_requests``; ALB only).
  Anything else raises :class:`~asynccloud.errors.NotSupportedError` before a request is sent.
* ``destroy_balancer`` deletes the listeners, the balancer, then the target groups its listeners forwarded to
  that carry the ``asynccloud:managed`` tag (groups you created yourself are left alone).
* ``LoadBalancer.id`` is the ARN (``get_balancer`` also takes a name), ``hostname`` the ``DNSName``, ``ip``
  ``None``, ``port`` the first listener's. ``extra``: ``arn``, ``type``, ``scheme``, ``vpc_id``,
  ``canonical_hosted_zone_id`` (for a Route 53 alias record), ``zones``, ``subnets``, ``security_groups``,
  ``listener_arns``, ``target_group_arn``, ``target_type``. States: ``provisioning`` -> pending,
  ``active``/``active_impaired`` -> running, ``failed`` -> error.

Usage::

    LB = get_driver(DriverType.LOADBALANCER, Provider.AWS)
    async with LB(region="eu-west-1") as lb:
        web = await lb.create_balancer("web", 80, "http", Algorithm.ROUND_ROBIN,
                                       [Member(id=node.id, port=80) for node in nodes])
"""

from __future__ import annotations

import contextlib
import uuid
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal, Unpack

import anyio

from asynccloud._pagination import token_pages
from asynccloud._polling import poll_until
from asynccloud.auth.sigv4 import SigV4Auth
from asynccloud.drivers._http_driver import HttpDriverBase, HttpOptions
from asynccloud.drivers._kinds import LoadBalancerDriverBase
from asynccloud.drivers.aws._common import aws_service_endpoint, parse_endpoint, resolve_aws_settings
from asynccloud.drivers.aws._elb_parse import (
    STATES,
    Balancer,
    ELBv2ErrorPolicy,
    Listener,
    parse_balancers,
    parse_listeners,
    parse_subnets,
    parse_tags,
    parse_target_groups,
    parse_target_health,
)
from asynccloud.drivers.aws._query import Members, QueryErrorPolicy, query
from asynccloud.errors import BalancerNotFoundError, ConfigurationError, ConflictError, NotSupportedError
from asynccloud.models import Algorithm, BalancerState, LoadBalancer, Member

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence
    from xml.etree.ElementTree import Element

    from asynccloud._capability import Capability
    from asynccloud.models import Node

__all__ = ["ALGORITHMS", "API_VERSION", "PROTOCOLS", "ELBv2LoadBalancerDriver"]

API_VERSION: Final = "2015-12-01"
EC2_API_VERSION: Final = "2016-11-15"
MANAGED_TAG: Final = "asynccloud:managed"
#: Portable algorithm -> ``load_balancing.algorithm.type``.
ALGORITHMS: Final = {
    Algorithm.ROUND_ROBIN: "round_robin",
    Algorithm.LEAST_CONNECTIONS: "least_outstanding_requests",
}
#: Listener protocol -> (balancer type, target group protocol).
PROTOCOLS: Final = {
    "http": ("application", "HTTP"),
    "https": ("application", "HTTP"),
    "tcp": ("network", "TCP"),
    "tls": ("network", "TCP"),
    "udp": ("network", "UDP"),
    "tcp_udp": ("network", "TCP_UDP"),
}


def _is_instance(member: Member) -> bool:
    return bool(member.extra.get("instance_id")) or bool(member.id and member.id.startswith("i-"))


def _target(member: Member, target_type: str, default_port: int | None) -> dict[str, Any]:
    if target_type == "instance":
        target_id = member.extra.get("instance_id") or member.id
        if not target_id or not str(target_id).startswith("i-"):
            raise ConfigurationError(
                f"this balancer's targets are instances; member {member!r} has no instance id"
            )
    else:
        target_id = member.ip
        if not target_id:
            raise ConfigurationError(f"this balancer's targets are IP addresses; member {member!r} has no ip")
    port = member.port if member.port is not None else default_port
    return {"Id": str(target_id), "Port": port}


class ELBv2LoadBalancerDriver(HttpDriverBase, LoadBalancerDriverBase):
    """Application and network load balancers on AWS (ELBv2).

    Args:
        key: Access key id (else the environment and shared files are used).
        secret: Secret access key.
        token: Session token of temporary credentials.
        region: The region (default from the environment/config, else ``us-east-1``).
        endpoint: One base URL for ELBv2 and EC2 (moto: ``http://127.0.0.1:5000``).
        profile: Profile of the shared credentials/config files.
        subnets: Subnet ids for new balancers; default: the default VPC's default subnets.
        security_groups: Security group ids for new application load balancers.
        scheme: ``"internet-facing"`` or ``"internal"``.
        target_type: Target type of a new balancer created without members: ``"instance"`` or ``"ip"``.
        certificate_arn: Server certificate for ``https``/``tls`` listeners.
        **options: The portable HTTP options (``timeout``, ``retry``, ``http_client``, ``transport``, ...).

    Raises:
        ConfigurationError: No credentials were found, or an option is invalid.
    """

    provider: ClassVar[str] = "aws"
    capabilities: ClassVar[frozenset[Capability]] = frozenset()

    def __init__(
        self,
        key: str | None = None,
        secret: str | None = None,
        *,
        token: str | None = None,
        region: str | None = None,
        endpoint: str | None = None,
        profile: str | None = None,
        subnets: Sequence[str] | None = None,
        security_groups: Sequence[str] | None = None,
        scheme: Literal["internet-facing", "internal"] = "internet-facing",
        target_type: Literal["instance", "ip"] = "instance",
        certificate_arn: str | None = None,
        **options: Unpack[HttpOptions],
    ) -> None:
        if scheme not in ("internet-facing", "internal"):
            raise ConfigurationError(f"scheme must be 'internet-facing' or 'internal', got {scheme!r}")
        if target_type not in ("instance", "ip"):
            raise ConfigurationError(f"target_type must be 'instance' or 'ip', got {target_type!r}")
        if isinstance(subnets, str) or isinstance(security_groups, str):
            raise ConfigurationError("subnets and security_groups are lists of ids, not strings")
        self._subnets = list(subnets) if subnets else None
        self._security_groups = list(security_groups) if security_groups else None
        self._scheme = scheme
        self._target_type = target_type
        self._certificate_arn = certificate_arn
        aws = resolve_aws_settings(key, secret, token, region=region, profile=profile)
        self.region = aws.region
        elb_url = parse_endpoint(endpoint or aws_service_endpoint("elasticloadbalancing", aws.region))
        ec2_url = parse_endpoint(endpoint or aws_service_endpoint("ec2", aws.region))
        secrets = [s for s in (aws.credentials.secret_access_key, aws.credentials.session_token) if s]
        http_options = HttpOptions(**options)
        self._http = self._open_http(
            http_options,
            base_url=str(elb_url),
            auth=SigV4Auth(aws.credentials, aws.region, "elasticloadbalancing"),
            error_policy=ELBv2ErrorPolicy(self.provider),
            secrets=secrets,
        )
        self._ec2 = self._open_http(
            http_options,
            base_url=str(ec2_url),
            auth=SigV4Auth(aws.credentials, aws.region, "ec2"),
            error_policy=QueryErrorPolicy(self.provider),
            secrets=secrets,
        )

    async def _call(
        self, action: str, params: dict[str, Any] | None = None, *, idempotent: bool = False
    ) -> Element:
        return await query(
            self._http, action, API_VERSION, params, list_suffix="member", idempotent=idempotent
        )

    # ------------------------------------------------------------------------------------ capabilities

    async def list_protocols(self) -> list[str]:
        """``http``, ``https`` (ALB); ``tcp``, ``tls``, ``udp``, ``tcp_udp`` (NLB)."""
        return list(PROTOCOLS)

    async def list_supported_algorithms(self) -> list[Algorithm]:
        """``ROUND_ROBIN`` and ``LEAST_CONNECTIONS`` (least outstanding requests, ALB only)."""
        return list(ALGORITHMS)

    # -------------------------------------------------------------------------------------- balancers

    def _balancer(
        self, raw: Balancer, listeners: Sequence[Listener] = (), target_type: str | None = None
    ) -> LoadBalancer:
        extra: dict[str, Any] = {
            "arn": raw.arn,
            "type": raw.type,
            "scheme": raw.scheme,
            "vpc_id": raw.vpc_id,
            "canonical_hosted_zone_id": raw.hosted_zone_id,
            "state": raw.state,
            "created": raw.created,
            "zones": list(raw.zones),
            "subnets": list(raw.subnets),
            "security_groups": list(raw.security_groups),
            "listener_arns": [listener.arn for listener in listeners],
        }
        groups = [g for listener in listeners for g in listener.target_groups]
        if groups:
            extra["target_group_arn"] = groups[0]
        if target_type:
            extra["target_type"] = target_type
        port = next((listener.port for listener in listeners if listener.port is not None), None)
        return self.bind(
            LoadBalancer(
                id=raw.arn,
                name=raw.name,
                state=STATES.get(raw.state, BalancerState.UNKNOWN),
                ip=None,
                hostname=raw.dns_name,
                port=port,
                extra=extra,
            )
        )

    async def _listeners(self, balancer_arn: str) -> list[Listener]:
        async def fetch(marker: str | None) -> tuple[list[Listener], str | None]:
            root = await self._call(
                "DescribeListeners", {"LoadBalancerArn": balancer_arn, "Marker": marker}, idempotent=True
            )
            return parse_listeners(root, "DescribeListeners")

        return [listener async for listener in token_pages(fetch, provider=self.provider)]

    async def iterate_balancers(self) -> AsyncIterator[LoadBalancer]:
        """Every ALB/NLB of the region (DescribeLoadBalancers, following ``NextMarker``), with its port."""

        async def fetch(marker: str | None) -> tuple[list[Balancer], str | None]:
            root = await self._call(
                "DescribeLoadBalancers", {"Marker": marker, "PageSize": 100}, idempotent=True
            )
            return parse_balancers(root, "DescribeLoadBalancers")

        async for raw in token_pages(fetch, provider=self.provider):
            if raw.type in ("application", "network"):
                yield self._balancer(raw, await self._listeners(raw.arn))

    async def get_balancer(self, balancer_id: str) -> LoadBalancer:
        """One balancer by ARN or name; ``BalancerNotFoundError`` if there is none."""
        key = "LoadBalancerArns" if balancer_id.startswith("arn:") else "Names"
        root = await self._call("DescribeLoadBalancers", {key: Members([balancer_id])}, idempotent=True)
        found, _ = parse_balancers(root, "DescribeLoadBalancers")
        if not found:
            raise BalancerNotFoundError(f"no load balancer {balancer_id!r}", provider=self.provider)
        listeners = await self._listeners(found[0].arn)
        target_type = None
        groups = [g for listener in listeners for g in listener.target_groups]
        if groups:
            target_type = await self._target_type_of(groups[0])
        return self._balancer(found[0], listeners, target_type)

    async def _target_type_of(self, group_arn: str) -> str:
        root = await self._call(
            "DescribeTargetGroups", {"TargetGroupArns": Members([group_arn])}, idempotent=True
        )
        groups, _ = parse_target_groups(root, "DescribeTargetGroups")
        return groups[0].target_type if groups else self._target_type

    async def _default_subnets(self) -> tuple[list[str], str | None]:
        params: dict[str, Any]
        if self._subnets:
            params = {"SubnetId": self._subnets}
        else:
            params = {"Filter": [{"Name": "default-for-az", "Value": ["true"]}]}
        root = await query(self._ec2, "DescribeSubnets", EC2_API_VERSION, params, idempotent=True)
        subnets = parse_subnets(root)
        if self._subnets:
            vpcs = {s.vpc_id for s in subnets}
            return list(self._subnets), (vpcs.pop() if len(vpcs) == 1 else None)
        by_zone: dict[str, Any] = {}
        for subnet in sorted(subnets, key=lambda s: (s.zone, s.id)):
            by_zone.setdefault(subnet.zone, subnet)
        if not by_zone:
            raise ConfigurationError(
                "no default VPC subnets in this region: pass subnets=[...] to the driver"
            )
        vpcs = {s.vpc_id for s in by_zone.values()}
        return [s.id for s in by_zone.values()], (vpcs.pop() if len(vpcs) == 1 else None)

    async def create_balancer(
        self,
        name: str,
        port: int,
        protocol: str,
        algorithm: Algorithm,
        members: Sequence[Member],
    ) -> LoadBalancer:
        """Create a balancer, its target group and listener, and register ``members`` (see the module doc).

        Raises:
            NotSupportedError: ``algorithm`` is not supported (for this protocol); nothing was sent.
            ConfigurationError: Invalid port, protocol, members or a missing certificate; nothing was sent.
        """
        proto = str(protocol).lower()
        if proto not in PROTOCOLS:
            raise ConfigurationError(f"protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")
        lb_type, group_protocol = PROTOCOLS[proto]
        if algorithm not in ALGORITHMS or (lb_type == "network" and algorithm is not Algorithm.ROUND_ROBIN):
            raise NotSupportedError(self.provider, f"algorithm {algorithm} for {proto} balancers")
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise ConfigurationError(f"port must be an int in 1..65535, got {port!r}")
        if proto in ("https", "tls") and not self._certificate_arn:
            raise ConfigurationError(
                f"{proto} listeners need a certificate: pass certificate_arn= to the driver"
            )
        kinds = {_is_instance(m) for m in members}
        if len(kinds) > 1:
            raise ConfigurationError("members must be all instances (id 'i-...') or all IP addresses")
        target_type = ("instance" if kinds.pop() else "ip") if kinds else self._target_type
        targets = [_target(m, target_type, port) for m in members]

        subnets, vpc_id = await self._default_subnets()
        tags = [{"Key": MANAGED_TAG, "Value": "true"}]
        created: list[tuple[str, str]] = []  # (delete action, arn), undone in reverse order on failure
        try:
            params: dict[str, Any] = {
                "Name": name,
                "Subnets": subnets,
                "Type": lb_type,
                "Scheme": self._scheme,
                "Tags": tags,
            }
            if lb_type == "application" and self._security_groups:
                params["SecurityGroups"] = self._security_groups
            root = await self._call("CreateLoadBalancer", params)
            balancer = parse_balancers(root, "CreateLoadBalancer")[0][0]
            created.append(("DeleteLoadBalancer", balancer.arn))
            group_name = f"{name[:23].rstrip('-')}-{uuid.uuid4().hex[:8]}"
            root = await self._call(
                "CreateTargetGroup",
                {
                    "Name": group_name,
                    "Protocol": group_protocol,
                    "Port": port,
                    "VpcId": vpc_id or balancer.vpc_id,
                    "TargetType": target_type,
                    "Tags": tags,
                },
            )
            group = parse_target_groups(root, "CreateTargetGroup")[0][0]
            created.append(("DeleteTargetGroup", group.arn))
            if algorithm is not Algorithm.ROUND_ROBIN:
                await self._call(
                    "ModifyTargetGroupAttributes",
                    {
                        "TargetGroupArn": group.arn,
                        "Attributes": [
                            {"Key": "load_balancing.algorithm.type", "Value": ALGORITHMS[algorithm]}
                        ],
                    },
                    idempotent=True,
                )
            listener_params: dict[str, Any] = {
                "LoadBalancerArn": balancer.arn,
                "Protocol": proto.upper(),
                "Port": port,
                "DefaultActions": [{"Type": "forward", "TargetGroupArn": group.arn}],
            }
            if proto in ("https", "tls"):
                listener_params["Certificates"] = [{"CertificateArn": self._certificate_arn}]
            root = await self._call("CreateListener", listener_params)
            listener = parse_listeners(root, "CreateListener")[0][0]
            created.append(("DeleteListener", listener.arn))
            if targets:
                await self._call(
                    "RegisterTargets", {"TargetGroupArn": group.arn, "Targets": targets}, idempotent=True
                )
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self._undo(created)
            raise
        return self._balancer(balancer, [listener], target_type)

    async def _undo(self, created: Sequence[tuple[str, str]]) -> None:
        """Delete what a failed create made, newest first; errors are swallowed (the first one wins)."""
        for action, arn in reversed(created):
            key = {"DeleteLoadBalancer": "LoadBalancerArn", "DeleteTargetGroup": "TargetGroupArn"}.get(
                action, "ListenerArn"
            )
            with contextlib.suppress(Exception):
                if action == "DeleteTargetGroup":
                    await self._delete_group(arn)
                else:
                    await self._call(action, {key: arn}, idempotent=True)

    async def _delete_group(self, arn: str, timeout: float = 30.0) -> None:
        # A group stays "in use" for a moment after its balancer is deleted: retry until the delete succeeds.
        async def attempt() -> bool:
            try:
                await self._call("DeleteTargetGroup", {"TargetGroupArn": arn}, idempotent=True)
            except ConflictError:
                return False
            return True

        await poll_until(
            attempt,
            bool,
            timeout=timeout,
            interval=0.5,
            max_interval=8.0,
            what=f"target group {arn} to be deleted",
        )

    async def destroy_balancer(self, balancer: LoadBalancer) -> None:
        """Delete the listeners, the balancer, and the target groups asynccloud created for it."""
        listeners = await self._listeners(balancer.id)
        groups = list(dict.fromkeys(g for listener in listeners for g in listener.target_groups))
        managed: list[str] = []
        if groups:
            root = await self._call("DescribeTags", {"ResourceArns": Members(groups)}, idempotent=True)
            tags = parse_tags(root)
            managed = [g for g in groups if tags.get(g, {}).get(MANAGED_TAG) == "true"]
        for listener in listeners:
            await self._call("DeleteListener", {"ListenerArn": listener.arn}, idempotent=True)
        await self._call("DeleteLoadBalancer", {"LoadBalancerArn": balancer.id}, idempotent=True)
        for group in managed:
            await self._delete_group(group)

    # ---------------------------------------------------------------------------------------- members

    async def _group_of(self, balancer: LoadBalancer) -> tuple[str, str]:
        arn = balancer.extra.get("target_group_arn")
        target_type = balancer.extra.get("target_type")
        if not arn:
            groups = [g for listener in await self._listeners(balancer.id) for g in listener.target_groups]
            if not groups:
                raise ConfigurationError(
                    f"balancer {balancer.name!r} has no listener forwarding to a target group"
                )
            arn = groups[0]
        if not target_type:
            target_type = await self._target_type_of(str(arn))
        return str(arn), str(target_type)

    def _member(self, target_id: str, port: int | None, target_type: str, **extra: Any) -> Member:
        info = {"target_id": target_id, "target_type": target_type, **{k: v for k, v in extra.items() if v}}
        if target_type == "instance":
            info["instance_id"] = target_id
        return Member(
            id=f"{target_id}:{port}" if port is not None else target_id,
            ip=target_id if target_type == "ip" else None,
            port=port,
            extra=info,
        )

    async def balancer_attach_member(self, balancer: LoadBalancer, member: Member) -> Member:
        """Register a target (an instance id or an IP, matching the group's type) on the balancer's group."""
        arn, target_type = await self._group_of(balancer)
        target = _target(member, target_type, balancer.port)
        await self._call("RegisterTargets", {"TargetGroupArn": arn, "Targets": [target]}, idempotent=True)
        return self._member(target["Id"], target["Port"], target_type)

    async def balancer_attach_compute_node(self, balancer: LoadBalancer, node: Node) -> Member:
        """Register a node: by instance id on instance groups, by its private address on IP groups."""
        _, target_type = await self._group_of(balancer)
        if target_type == "instance":
            return await self.balancer_attach_member(balancer, Member(id=node.id, port=balancer.port))
        return await super().balancer_attach_compute_node(balancer, node)

    async def balancer_detach_member(self, balancer: LoadBalancer, member: Member) -> None:
        """Deregister a target (by ``extra["target_id"]``, the instance id or the ip)."""
        arn, target_type = await self._group_of(balancer)
        target_id = member.extra.get("target_id")
        if target_id:
            target = {"Id": str(target_id), "Port": member.port if member.port is not None else balancer.port}
        else:
            target = _target(member, target_type, balancer.port)
        await self._call("DeregisterTargets", {"TargetGroupArn": arn, "Targets": [target]}, idempotent=True)

    async def balancer_list_members(self, balancer: LoadBalancer) -> list[Member]:
        """The registered targets with their health (DescribeTargetHealth); ``extra["health"]``."""
        arn, target_type = await self._group_of(balancer)
        root = await self._call("DescribeTargetHealth", {"TargetGroupArn": arn}, idempotent=True)
        return [
            self._member(t.id, t.port, target_type, health=t.state, reason=t.reason, zone=t.zone)
            for t in parse_target_health(root)
        ]
