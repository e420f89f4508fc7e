"""Route 53 REST-XML: parsing the documents the DNS driver reads and building the ones it sends.

Responses are parsed with :mod:`defusedxml` and matched by local name, so the Route 53 namespace
(``https://route53.amazonaws.com/doc/2013-04-01/``) may or may not be present. Parsers return plain
dataclasses; :mod:`asynccloud.drivers.aws.route53` turns them into models.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from xml.etree.ElementTree import ParseError
from xml.sax.saxutils import escape

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from asynccloud.errors import ProviderError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence
    from xml.etree.ElementTree import Element

__all__ = [
    "NAMESPACE",
    "ChangeInfo",
    "ErrorBody",
    "HostedZone",
    "RecordSet",
    "build_change_batch",
    "build_create_hosted_zone",
    "build_update_comment",
    "parse_change_info",
    "parse_error",
    "parse_hosted_zone",
    "parse_list_hosted_zones",
    "parse_list_record_sets",
    "unescape_name",
]

NAMESPACE = "https://route53.amazonaws.com/doc/2013-04-01/"
_OCTAL = re.compile(r"\\(\d{3})")


# --- generic helpers -----------------------------------------------------------------------------------


def _parse(body: bytes, what: str) -> Element:
    try:
        root: Element = fromstring(body, forbid_dtd=True)
    except (ParseError, DefusedXmlException) as exc:
        raise ProviderError(f"malformed XML in the {what}: {type(exc).__name__}", provider="aws") from None
    return root


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _children(element: Element | None, name: str) -> Iterator[Element]:
    if element is None:
        return
    for child in element:
        if _local(child.tag) == name:
            yield child


def _child(element: Element | None, name: str) -> Element | None:
    return next(_children(element, name), None)


def _text(element: Element | None, name: str) -> str | None:
    child = _child(element, name)
    return None if child is None else (child.text or "")


def _descendant(element: Element, name: str) -> Element | None:
    for node in element.iter():
        if _local(node.tag) == name:
            return node
    return None


def _count(value: str | None) -> int | None:
    """A non-negative integer field; ``None`` when absent or not a (reasonably sized) number."""
    text = (value or "").strip()
    return int(text) if text.isdigit() and len(text) <= 20 else None


def _is_true(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def unescape_name(name: str) -> str:
    """Decode Route 53's octal escapes in a DNS name (``\\052.example.com.`` -> ``*.example.com.``)."""
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), name)


# --- errors ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ErrorBody:
    """The code, messages and request id of a Route 53 error document."""

    code: str | None
    message: str | None
    request_id: str | None


def parse_error(body: bytes) -> ErrorBody | None:
    """Read ``<ErrorResponse><Error><Code/><Message/></Error><RequestId/>`` or ``<InvalidChangeBatch>``.

    Returns:
        The error's parts, or ``None`` when the body is not such a document.
    """
    if not body.lstrip().startswith(b"<"):
        return None
    try:
        root: Element = fromstring(body, forbid_dtd=True)
    except (ParseError, DefusedXmlException):
        return None
    request_id = _text(root, "RequestId") or None
    if _local(root.tag) == "InvalidChangeBatch":
        messages = [m.text or "" for m in _children(_child(root, "Messages"), "Message")]
        single = _text(root, "Message")
        text = "; ".join(messages) or single or None
        return ErrorBody("InvalidChangeBatch", text, request_id)
    error = _descendant(root, "Error")
    if error is None:
        return None
    return ErrorBody(_text(error, "Code") or None, _text(error, "Message") or None, request_id)


# --- hosted zones ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HostedZone:
    """A ``<HostedZone>``; ``id`` without the ``/hostedzone/`` prefix, ``name`` with its final dot."""

    id: str
    name: str
    caller_reference: str | None = None
    comment: str | None = None
    private: bool = False
    record_count: int | None = None
    name_servers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ChangeInfo:
    """A ``<ChangeInfo>``: ``id`` without the ``/change/`` prefix, ``status`` ``PENDING`` or ``INSYNC``."""

    id: str
    status: str
    submitted_at: str | None = None


def strip_prefix(value: str, prefix: str) -> str:
    """``/hostedzone/Z1`` -> ``Z1`` (and ``Z1`` stays ``Z1``)."""
    value = value.strip()
    return value[len(prefix) :] if value.startswith(prefix) else value.rpartition("/")[2]


def _zone(element: Element, name_servers: Sequence[str] = ()) -> HostedZone:
    config = _child(element, "Config")
    count = _text(element, "ResourceRecordSetCount")
    return HostedZone(
        id=strip_prefix(_text(element, "Id") or "", "/hostedzone/"),
        name=unescape_name(_text(element, "Name") or ""),
        caller_reference=_text(element, "CallerReference"),
        comment=_text(config, "Comment") or None,
        private=_is_true(_text(config, "PrivateZone")),
        record_count=_count(count),
        name_servers=tuple(name_servers),
    )


def _name_servers(root: Element) -> list[str]:
    servers = _child(_child(root, "DelegationSet"), "NameServers")
    return [(ns.text or "").strip() for ns in _children(servers, "NameServer")]


def parse_list_hosted_zones(body: bytes) -> tuple[list[HostedZone], str | None]:
    """Read ``ListHostedZonesResponse``: the zones and ``NextMarker`` (``None`` when not truncated)."""
    root = _parse(body, "ListHostedZones response")
    zones = [_zone(z) for z in _children(_child(root, "HostedZones"), "HostedZone")]
    following = _text(root, "NextMarker") if _is_true(_text(root, "IsTruncated")) else None
    return zones, following or None


def parse_hosted_zone(body: bytes) -> tuple[HostedZone, ChangeInfo | None]:
    """Read ``GetHostedZoneResponse``, ``CreateHostedZoneResponse`` or ``UpdateHostedZoneCommentResponse``."""
    root = _parse(body, "hosted zone response")
    element = _child(root, "HostedZone")
    if element is None:
        raise ProviderError("hosted zone response without <HostedZone>", provider="aws")
    info = _child(root, "ChangeInfo")
    return _zone(element, _name_servers(root)), (_change(info) if info is not None else None)


def _change(element: Element) -> ChangeInfo:
    return ChangeInfo(
        id=strip_prefix(_text(element, "Id") or "", "/change/"),
        status=(_text(element, "Status") or "").strip().upper(),
        submitted_at=_text(element, "SubmittedAt"),
    )


def parse_change_info(body: bytes) -> ChangeInfo:
    """Read the ``<ChangeInfo>`` of a ChangeResourceRecordSets, GetChange or DeleteHostedZone answer."""
    root = _parse(body, "change response")
    element = _child(root, "ChangeInfo")
    if element is None:
        raise ProviderError("change response without <ChangeInfo>", provider="aws")
    return _change(element)


def build_create_hosted_zone(name: str, caller_reference: str, comment: str | None) -> bytes:
    """The ``CreateHostedZoneRequest`` document."""
    config = (
        f"<HostedZoneConfig><Comment>{escape(comment)}</Comment></HostedZoneConfig>"
        if comment is not None
        else ""
    )
    return _document(
        "CreateHostedZoneRequest",
        f"<Name>{escape(name)}</Name><CallerReference>{escape(caller_reference)}</CallerReference>{config}",
    )


def build_update_comment(comment: str) -> bytes:
    """The ``UpdateHostedZoneCommentRequest`` document."""
    return _document("UpdateHostedZoneCommentRequest", f"<Comment>{escape(comment)}</Comment>")


def _document(root: str, inner: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="{NAMESPACE}">{inner}</{root}>').encode()


# --- resource record sets ----------------------------------------------------------------------------------

#: Routing-policy fields of a record set, kept in ``extra`` as they come (``Weight`` -> ``weight``).
_POLICY_FIELDS = {
    "Weight": "weight",
    "Region": "region",
    "Failover": "failover",
    "MultiValueAnswer": "multi_value_answer",
    "HealthCheckId": "health_check_id",
}


@dataclass(frozen=True, slots=True)
class RecordSet:
    """A ``<ResourceRecordSet>``: one name and type, its values (or an alias target) and its TTL.

    Attributes:
        alias: ``{"hosted_zone_id", "dns_name", "evaluate_target_health"}`` for an alias record set.
        policy: Routing-policy fields (``weight``, ``region``, ``failover``, ...), as strings.
    """

    name: str
    type: str
    ttl: int | None = None
    values: tuple[str, ...] = ()
    set_identifier: str | None = None
    alias: dict[str, Any] | None = None
    policy: dict[str, str] = field(default_factory=dict)


def _record_set(element: Element) -> RecordSet:
    ttl = _text(element, "TTL")
    values = tuple(
        (_text(r, "Value") or "") for r in _children(_child(element, "ResourceRecords"), "ResourceRecord")
    )
    alias_element = _child(element, "AliasTarget")
    alias = None
    if alias_element is not None:
        alias = {
            "hosted_zone_id": _text(alias_element, "HostedZoneId") or "",
            "dns_name": _text(alias_element, "DNSName") or "",
            "evaluate_target_health": _is_true(_text(alias_element, "EvaluateTargetHealth")),
        }
    policy = {
        key: _text(element, tag) or ""
        for tag, key in _POLICY_FIELDS.items()
        if _child(element, tag) is not None
    }
    return RecordSet(
        name=unescape_name(_text(element, "Name") or ""),
        type=(_text(element, "Type") or "").strip().upper(),
        ttl=_count(ttl),
        values=values,
        set_identifier=_text(element, "SetIdentifier"),
        alias=alias,
        policy=policy,
    )


#: Where the next page of ListResourceRecordSets starts: ``(name, type, identifier)``.
RecordCursor = tuple[str, str, str | None]


def parse_list_record_sets(body: bytes) -> tuple[list[RecordSet], RecordCursor | None]:
    """Read ``ListResourceRecordSetsResponse``: the record sets and where the next page starts."""
    root = _parse(body, "ListResourceRecordSets response")
    sets = [_record_set(e) for e in _children(_child(root, "ResourceRecordSets"), "ResourceRecordSet")]
    if not _is_true(_text(root, "IsTruncated")):
        return sets, None
    name, kind = _text(root, "NextRecordName"), _text(root, "NextRecordType")
    if not name:
        return sets, None
    return sets, (name, kind or "", _text(root, "NextRecordIdentifier") or None)


def _record_set_xml(rrset: RecordSet) -> str:
    parts = [f"<Name>{escape(rrset.name)}</Name><Type>{escape(rrset.type)}</Type>"]
    if rrset.set_identifier is not None:
        parts.append(f"<SetIdentifier>{escape(rrset.set_identifier)}</SetIdentifier>")
    for tag, key in _POLICY_FIELDS.items():
        if key in rrset.policy and tag != "HealthCheckId":
            parts.append(f"<{tag}>{escape(str(rrset.policy[key]))}</{tag}>")
    if rrset.alias is not None:
        evaluate = "true" if rrset.alias.get("evaluate_target_health") else "false"
        parts.append(
            "<AliasTarget>"
            f"<HostedZoneId>{escape(str(rrset.alias['hosted_zone_id']))}</HostedZoneId>"
            f"<DNSName>{escape(str(rrset.alias['dns_name']))}</DNSName>"
            f"<EvaluateTargetHealth>{evaluate}</EvaluateTargetHealth>"
            "</AliasTarget>"
        )
    else:
        if rrset.ttl is not None:
            parts.append(f"<TTL>{rrset.ttl}</TTL>")
        records = "".join(
            f"<ResourceRecord><Value>{escape(v)}</Value></ResourceRecord>" for v in rrset.values
        )
        parts.append(f"<ResourceRecords>{records}</ResourceRecords>")
    if "health_check_id" in rrset.policy:
        parts.append(f"<HealthCheckId>{escape(rrset.policy['health_check_id'])}</HealthCheckId>")
    return f"<ResourceRecordSet>{''.join(parts)}</ResourceRecordSet>"


def build_change_batch(changes: Iterable[tuple[str, RecordSet]], comment: str | None = None) -> bytes:
    """The ``ChangeResourceRecordSetsRequest`` document for ``(action, record set)`` pairs, in order.

    Args:
        changes: ``("CREATE" | "UPSERT" | "DELETE", record set)`` pairs, applied atomically by Route 53.
        comment: The batch's comment.
    """
    body = "".join(
        f"<Change><Action>{action}</Action>{_record_set_xml(rrset)}</Change>" for action, rrset in changes
    )
    head = f"<Comment>{escape(comment)}</Comment>" if comment else ""
    return _document(
        "ChangeResourceRecordSetsRequest", f"<ChangeBatch>{head}<Changes>{body}</Changes></ChangeBatch>"
    )
