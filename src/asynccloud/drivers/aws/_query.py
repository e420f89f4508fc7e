"""The AWS Query protocol (EC2, ELBv2, ...): form-encoded ``Action=`` POSTs and XML answers.

Shared by the Query-protocol drivers. Three small pieces:

* :func:`encode_params` flattens nested Python values into Query parameters::

      encode_params({"InstanceId": ["i-1", "i-2"],
                     "Filter": [{"Name": "tag:Name", "Value": ["web"]}],
                     "TagSpecification": [{"ResourceType": "instance",
                                           "Tag": [{"Key": "Name", "Value": "web1"}]}]})
      # {"InstanceId.1": "i-1", "InstanceId.2": "i-2", "Filter.1.Name": "tag:Name",
      #  "Filter.1.Value.1": "web", "TagSpecification.1.ResourceType": "instance",
      #  "TagSpecification.1.Tag.1.Key": "Name", "TagSpecification.1.Tag.1.Value": "web1"}

  Lists become ``Name.1``, ``Name.2``, ... (1-based), mappings ``Name.Key``; ``None`` values are dropped,
  booleans become ``true``/``false``. ELBv2 names its list members ``Name.member.N``: pass
  ``list_suffix="member"`` (or put a :class:`Members` list) for that style.
* :func:`query` sends one call through an :class:`~asynccloud._http.HttpClient` (so through THE retry loop)
  and returns the parsed, namespace-free XML root. POSTs are only retried when the caller says the call is
  idempotent (``idempotent=True`` for read-only ``Describe*``) or carries a client token
  (``idempotency_key=True``).
* :class:`QueryErrorPolicy` reads both error shapes, EC2's
  ``<Response><Errors><Error><Code>..</Code><Message>..</Message></Error></Errors><RequestID>``
  and the generic ``<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>`` (ELBv2, IAM, STS),
  and maps codes through the subclass's :attr:`QueryErrorPolicy.code_errors` table; throttling codes become
  :class:`~asynccloud.errors.RateLimitedError` and are retried.

XML helpers (:func:`find`, :func:`findall`, :func:`text`, :func:`items`) work on the namespace-stripped tree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final
from urllib.parse import quote
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from asynccloud._http import ErrorPolicy
from asynccloud.errors import (
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    ProviderError,
    RateLimitedError,
    ServerError,
)

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

    import httpx

    from asynccloud._http import HttpClient
    from asynccloud._retry import RetryPolicy

__all__ = [
    "THROTTLING_CODES",
    "Members",
    "QueryError",
    "QueryErrorPolicy",
    "encode_params",
    "find",
    "findall",
    "items",
    "parse_error",
    "parse_xml",
    "query",
    "text",
]

#: Codes meaning "slow down": mapped to ``RateLimitedError`` and retried whatever their status.
THROTTLING_CODES: Final = frozenset(
    {
        "RequestLimitExceeded",
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "SlowDown",
    }
)

#: Codes shared by every Query service.
COMMON_CODE_ERRORS: Final[Mapping[str, type[ProviderError]]] = {
    "AuthFailure": AuthenticationError,
    "InvalidClientTokenId": AuthenticationError,
    "SignatureDoesNotMatch": AuthenticationError,
    "IncompleteSignature": AuthenticationError,
    "MissingAuthenticationToken": AuthenticationError,
    "ExpiredToken": AuthenticationError,
    "RequestExpired": AuthenticationError,
    "UnauthorizedOperation": PermissionDeniedError,
    "AccessDenied": PermissionDeniedError,
    "AccessDeniedException": PermissionDeniedError,
    "OptInRequired": PermissionDeniedError,
    "InvalidParameterValue": InvalidRequestError,
    "InvalidParameterCombination": InvalidRequestError,
    "MissingParameter": InvalidRequestError,
    "InvalidAction": InvalidRequestError,
    "ValidationError": InvalidRequestError,
    "InternalError": ServerError,
    "InternalFailure": ServerError,
    "ServiceUnavailable": ServerError,
    "Unavailable": ServerError,
    **dict.fromkeys(THROTTLING_CODES, RateLimitedError),
}


class Members(list[Any]):
    """A list encoded ELBv2-style, ``Name.member.1``, ``Name.member.2`` (whatever ``list_suffix`` says)."""


def _flatten(prefix: str, value: Any, out: dict[str, str], list_suffix: str | None) -> None:
    if value is None:
        return
    if isinstance(value, Mapping):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), inner, out, list_suffix)
    elif isinstance(value, list | tuple):
        suffix = "member" if isinstance(value, Members) else list_suffix
        base = f"{prefix}.{suffix}" if suffix else prefix
        for index, inner in enumerate(value, start=1):
            _flatten(f"{base}.{index}", inner, out, list_suffix)
    elif isinstance(value, bool):
        out[prefix] = "true" if value else "false"
    else:
        out[prefix] = str(value)


def encode_params(params: Mapping[str, Any], *, list_suffix: str | None = None) -> dict[str, str]:
    """Flatten nested values into AWS Query parameters (see the module docstring).

    Args:
        params: Top-level names to values: scalars, lists/tuples, mappings, nested freely. ``None`` is
            skipped (an empty list sends nothing either).
        list_suffix: Infix between a list's name and its index (``"member"`` for ELBv2); ``None`` for EC2.

    Returns:
        A flat ``name -> string`` mapping, in insertion order.
    """
    out: dict[str, str] = {}
    for key, value in params.items():
        _flatten(key, value, out, list_suffix)
    return out


async def query(
    http: HttpClient,
    action: str,
    version: str,
    params: Mapping[str, Any] | None = None,
    *,
    url: str = "/",
    list_suffix: str | None = None,
    idempotent: bool = False,
    idempotency_key: bool = False,
    provider: str = "aws",
) -> Element:
    """Send one Query call (``POST``, form-encoded) and return the namespace-free root of the answer.

    Args:
        http: The driver's client (signing with SigV4 for the right service is its ``auth``).
        action: E.g. ``"DescribeInstances"``.
        version: The API version, e.g. ``"2016-11-15"`` (EC2) or ``"2015-12-01"`` (ELBv2).
        params: Parameters, flattened with :func:`encode_params`.
        url: Path (or absolute URL) to post to; ``"/"`` by default.
        list_suffix: See :func:`encode_params`.
        idempotent: The call is read-only or naturally idempotent (``Describe*``, ``Delete*``): retry it.
        idempotency_key: The call carries a client token (``ClientToken``): retry it.
        provider: Named in a malformed-XML error.

    Returns:
        The root element of the response (e.g. ``DescribeInstancesResponse``), tags without namespaces.

    Raises:
        ProviderError: (a subclass of) for error answers, as mapped by the client's error policy, or when
            the answer is not well-formed XML.
    """
    form = {"Action": action, "Version": version, **encode_params(params or {}, list_suffix=list_suffix)}
    body = "&".join(f"{_pct(k)}={_pct(v)}" for k, v in form.items()).encode("ascii")
    response = await http.request(
        "POST",
        url,
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        idempotent=idempotent or None,
        idempotency_key=idempotency_key,
    )
    return parse_xml(response.content, provider=provider, what=f"{action} response")


def _pct(value: str) -> str:
    return quote(value, safe="-_.~")


# ----------------------------------------------------------------------------------------------- XML


def _strip(root: Element) -> Element:
    for element in root.iter():
        if isinstance(element.tag, str) and "}" in element.tag:
            element.tag = element.tag.rpartition("}")[2]
    return root


def parse_xml(body: bytes, *, provider: str = "aws", what: str = "response") -> Element:
    """Parse an XML body safely (defusedxml: no entities, no DTDs) and strip namespaces from its tags.

    Raises:
        ProviderError: The body is not well-formed or uses forbidden constructs.
    """
    try:
        root: Element = fromstring(body, forbid_dtd=True)
    except (ParseError, DefusedXmlException) as exc:
        raise ProviderError(f"malformed XML in the {what}: {type(exc).__name__}", provider=provider) from None
    return _strip(root)


def find(element: Element | None, path: str) -> Element | None:
    """The first element at a ``/``-separated path of child names (``"reservationSet"``), or ``None``."""
    return None if element is None else element.find(path)


def findall(element: Element | None, path: str) -> list[Element]:
    """Every element at a path, e.g. ``findall(root, "reservationSet/item")``."""
    return [] if element is None else element.findall(path)


def items(element: Element | None, path: str) -> list[Element]:
    """The ``item`` children of the list element at ``path`` (EC2's ``<xSet><item>`` lists)."""
    return findall(element, f"{path}/item")


def text(element: Element | None, path: str, default: str | None = None) -> str | None:
    """The text of the element at ``path`` (``""`` when it is empty), or ``default`` when it is absent."""
    found = find(element, path)
    if found is None:
        return default
    return found.text or ""


# -------------------------------------------------------------------------------------------- errors


class QueryError:
    """A parsed Query error body.

    Attributes:
        code: The error code (``"InvalidInstanceID.NotFound"``).
        message: The message.
        request_id: The request id from the body, if any.
    """

    __slots__ = ("code", "message", "request_id")

    def __init__(self, code: str | None, message: str | None, request_id: str | None) -> None:
        self.code = code
        self.message = message
        self.request_id = request_id


def parse_error(body: bytes) -> QueryError | None:
    """Read an EC2-style or generic Query error body; ``None`` when it is neither (or not XML)."""
    if not body.strip():
        return None
    try:
        root = parse_xml(body)
    except ProviderError:
        return None
    error = root.find("Errors/Error") if root.tag == "Response" else None
    if error is None:
        error = root.find("Error") if root.tag in ("ErrorResponse", "Response") else None
    if error is None and root.tag == "Error":
        error = root
    if error is None:
        return None
    request_id = text(root, "RequestID") or text(root, "RequestId") or text(error, "RequestId")
    return QueryError(text(error, "Code"), text(error, "Message"), request_id or None)


class QueryErrorPolicy(ErrorPolicy):
    """Maps Query error bodies onto the error tree; subclass it and fill :attr:`code_errors`.

    Lookup order: the exact code in :attr:`code_errors`, then :data:`COMMON_CODE_ERRORS` (auth, throttling,
    validation), then a code ending in ``.NotFound``/``NotFound`` → ``NotFoundError``, then the HTTP status.
    Throttling codes (:data:`THROTTLING_CODES`) are retried whatever the status.
    """

    provider = "aws"
    #: Service-specific ``code -> exception class``; checked before the common table.
    code_errors: ClassVar[Mapping[str, type[ProviderError]]] = {}

    def error_class(self, code: str | None, status: int) -> type[ProviderError]:
        """Choose the exception class for a code and status (override for special cases)."""
        if code:
            cls = self.code_errors.get(code) or COMMON_CODE_ERRORS.get(code)
            if cls is not None:
                return cls
            if code.endswith("NotFound") or code.startswith("NoSuch"):
                return NotFoundError
        return _status_class(status)

    def map_error(self, response: httpx.Response) -> ProviderError:
        """Build the exception for a Query error response."""
        body = parse_error(response.content)
        code = body.code if body else None
        cls = self.error_class(code, response.status_code)
        message = (body.message or body.code or "") if body else self.excerpt(response)
        details: dict[str, Any] = {
            "provider": self.provider,
            "status": response.status_code,
            "code": code,
            "request_id": (body.request_id if body else None) or self.request_id(response),
        }
        if issubclass(cls, RateLimitedError):
            return cls(message, retry_after=self.retry_after(response), **details)
        return cls(message, **details)

    def is_retryable(self, response: httpx.Response, error: ProviderError, policy: RetryPolicy) -> bool:
        """Throttling codes, plus the policy's statuses (5xx, 429)."""
        return error.code in THROTTLING_CODES or super().is_retryable(response, error, policy)


def _status_class(status: int) -> type[ProviderError]:
    mapping: dict[int, type[ProviderError]] = {
        400: InvalidRequestError,
        401: AuthenticationError,
        403: PermissionDeniedError,
        404: NotFoundError,
        409: ConflictError,
        429: RateLimitedError,
        503: RateLimitedError,
    }
    if status in mapping:
        return mapping[status]
    return ServerError if 500 <= status <= 599 else ProviderError
