"""ELBv2 (and the one EC2 call it needs) answers, read into plain dataclasses; the error policy of ELBv2.

Documents are the namespace-stripped roots :func:`asynccloud.drivers.aws._query.query` returns; ELBv2
lists are ``<Name><member>...</member></Name>``, EC2's ``<nameSet><item>...``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Final

from asynccloud.drivers.aws._query import QueryErrorPolicy, findall, items, text
from asynccloud.errors import (
    BalancerNotFoundError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    ProviderError,
    QuotaExceededError,
)
from asynccloud.models import BalancerState

if TYPE_CHECKING:
    from collections.abc import Mapping
    from xml.etree.ElementTree import Element

__all__ = [
    "STATES",
    "Balancer",
    "ELBv2ErrorPolicy",
    "Listener",
    "Subnet",
    "TargetGroup",
    "TargetHealth",
    "parse_balancers",
    "parse_listeners",
    "parse_subnets",
    "parse_tags",
    "parse_target_groups",
    "parse_target_health",
]

#: ELBv2 ``State/Code`` -> portable state.
STATES: Final[Mapping[str, BalancerState]] = {
    "provisioning": BalancerState.PENDING,
    "active": BalancerState.RUNNING,
    "active_impaired": BalancerState.RUNNING,
    "failed": BalancerState.ERROR,
}


class ELBv2ErrorPolicy(QueryErrorPolicy):
    """ELBv2 error codes on top of the common Query ones."""

    code_errors: ClassVar[Mapping[str, type[ProviderError]]] = {
        "LoadBalancerNotFound": BalancerNotFoundError,
        "TargetGroupNotFound": NotFoundError,
        "ListenerNotFound": NotFoundError,
        "DuplicateLoadBalancerName": ConflictError,
        "DuplicateTargetGroupName": ConflictError,
        "DuplicateListener": ConflictError,
        "DuplicateTagKeys": InvalidRequestError,
        "ResourceInUse": ConflictError,
        "OperationNotPermitted": ConflictError,
        "InvalidTarget": InvalidRequestError,
        "InvalidConfigurationRequest": InvalidRequestError,
        "InvalidSubnet": InvalidRequestError,
        "SubnetNotFound": InvalidRequestError,
        "InvalidSecurityGroup": InvalidRequestError,
        "TooManyLoadBalancers": QuotaExceededError,
        "TooManyTargetGroups": QuotaExceededError,
        "TooManyListeners": QuotaExceededError,
        "TooManyTargets": QuotaExceededError,
        "TooManyTags": QuotaExceededError,
    }


def _members(element: Element | None, path: str) -> list[Element]:
    return findall(element, f"{path}/member")


def _result(root: Element, action: str) -> Element | None:
    found = root.find(f"{action}Result")
    return found if found is not None else root


def _int(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


@dataclass(frozen=True, slots=True)
class Balancer:
    """A ``LoadBalancers/member``."""

    arn: str
    name: str
    dns_name: str | None
    state: str
    type: str
    scheme: str | None
    vpc_id: str | None
    hosted_zone_id: str | None
    created: str | None
    zones: tuple[str, ...] = ()
    subnets: tuple[str, ...] = ()
    security_groups: tuple[str, ...] = ()


def parse_balancers(root: Element, action: str) -> tuple[list[Balancer], str | None]:
    """Read ``CreateLoadBalancer``/``DescribeLoadBalancers`` answers: balancers and ``NextMarker``."""
    result = _result(root, action)
    out = [
        Balancer(
            arn=text(m, "LoadBalancerArn") or "",
            name=text(m, "LoadBalancerName") or "",
            dns_name=text(m, "DNSName") or None,
            state=(text(m, "State/Code") or "").strip().lower(),
            type=text(m, "Type") or "application",
            scheme=text(m, "Scheme"),
            vpc_id=text(m, "VpcId"),
            hosted_zone_id=text(m, "CanonicalHostedZoneId"),
            created=text(m, "CreatedTime"),
            zones=tuple(text(z, "ZoneName") or "" for z in _members(m, "AvailabilityZones")),
            subnets=tuple(text(z, "SubnetId") or "" for z in _members(m, "AvailabilityZones")),
            security_groups=tuple(g.text or "" for g in _members(m, "SecurityGroups")),
        )
        for m in _members(result, "LoadBalancers")
    ]
    return out, text(result, "NextMarker") or None


@dataclass(frozen=True, slots=True)
class TargetGroup:
    """A ``TargetGroups/member``."""

    arn: str
    name: str
    protocol: str | None
    port: int | None
    target_type: str
    balancer_arns: tuple[str, ...] = ()


def parse_target_groups(root: Element, action: str) -> tuple[list[TargetGroup], str | None]:
    """Read ``CreateTargetGroup``/``DescribeTargetGroups`` answers: groups and ``NextMarker``."""
    result = _result(root, action)
    out = [
        TargetGroup(
            arn=text(m, "TargetGroupArn") or "",
            name=text(m, "TargetGroupName") or "",
            protocol=text(m, "Protocol"),
            port=_int(text(m, "Port")),
            target_type=text(m, "TargetType") or "instance",
            balancer_arns=tuple(a.text or "" for a in _members(m, "LoadBalancerArns")),
        )
        for m in _members(result, "TargetGroups")
    ]
    return out, text(result, "NextMarker") or None


@dataclass(frozen=True, slots=True)
class Listener:
    """A ``Listeners/member`` with the target groups its default actions forward to."""

    arn: str
    port: int | None
    protocol: str | None
    target_groups: tuple[str, ...] = ()


def parse_listeners(root: Element, action: str) -> tuple[list[Listener], str | None]:
    """Read ``CreateListener``/``DescribeListeners`` answers: listeners and ``NextMarker``."""
    result = _result(root, action)
    out = []
    for m in _members(result, "Listeners"):
        groups: list[str] = []
        for act in _members(m, "DefaultActions"):
            arn = text(act, "TargetGroupArn")
            if arn:
                groups.append(arn)
            groups.extend(
                text(g, "TargetGroupArn") or "" for g in _members(act, "ForwardConfig/TargetGroups")
            )
        out.append(
            Listener(
                arn=text(m, "ListenerArn") or "",
                port=_int(text(m, "Port")),
                protocol=text(m, "Protocol"),
                target_groups=tuple(dict.fromkeys(g for g in groups if g)),
            )
        )
    return out, text(result, "NextMarker") or None


@dataclass(frozen=True, slots=True)
class TargetHealth:
    """A ``TargetHealthDescriptions/member``."""

    id: str
    port: int | None
    state: str | None
    reason: str | None = None
    zone: str | None = None


def parse_target_health(root: Element) -> list[TargetHealth]:
    """Read a ``DescribeTargetHealth`` answer."""
    result = _result(root, "DescribeTargetHealth")
    return [
        TargetHealth(
            id=text(m, "Target/Id") or "",
            port=_int(text(m, "Target/Port")),
            state=text(m, "TargetHealth/State"),
            reason=text(m, "TargetHealth/Reason"),
            zone=text(m, "Target/AvailabilityZone"),
        )
        for m in _members(result, "TargetHealthDescriptions")
    ]


def parse_tags(root: Element) -> dict[str, dict[str, str]]:
    """Read a ``DescribeTags`` answer: ``resource ARN -> {key: value}``."""
    result = _result(root, "DescribeTags")
    return {
        text(m, "ResourceArn") or "": {
            text(t, "Key") or "": text(t, "Value") or "" for t in _members(m, "Tags")
        }
        for m in _members(result, "TagDescriptions")
    }


@dataclass(frozen=True, slots=True)
class Subnet:
    """An EC2 subnet (``subnetSet/item``)."""

    id: str
    vpc_id: str
    zone: str
    default_for_az: bool = False
    extra: dict[str, str] = field(default_factory=dict)


def parse_subnets(root: Element) -> list[Subnet]:
    """Read an EC2 ``DescribeSubnets`` answer."""
    return [
        Subnet(
            id=text(i, "subnetId") or "",
            vpc_id=text(i, "vpcId") or "",
            zone=text(i, "availabilityZone") or "",
            default_for_az=(text(i, "defaultForAz") or "").lower() == "true",
        )
        for i in items(root, "subnetSet")
    ]
