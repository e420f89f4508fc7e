"""How Route 53 error responses map onto asynccloud's error tree.

Route 53 answers ``<ErrorResponse><Error><Code/><Message/></Error><RequestId/></ErrorResponse>``, except for
rejected change batches, which come as ``<InvalidChangeBatch><Messages><Message/>...``. A change batch is
rejected as a whole, and its message says why: "... but it already exists" (a duplicate CREATE) becomes
:class:`~asynccloud.errors.RecordAlreadyExistsError`, "... but it was not found" (DELETE of a missing record
set) :class:`~asynccloud.errors.RecordNotFoundError`. ``Throttling`` and ``PriorRequestNotComplete`` (a change
to the same zone still being applied) become :class:`~asynccloud.errors.RateLimitedError`, which the one
retry loop retries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from asynccloud._http import ErrorPolicy
from asynccloud.drivers.aws._route53_xml import parse_error
from asynccloud.errors import (
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    ProviderError,
    RateLimitedError,
    RecordAlreadyExistsError,
    RecordNotFoundError,
    ServerError,
    ZoneAlreadyExistsError,
    ZoneNotFoundError,
)

if TYPE_CHECKING:
    import httpx

__all__ = ["CODE_ERRORS", "THROTTLING_CODES", "Route53ErrorPolicy"]

#: Codes retried whatever their status (then raised as RateLimitedError).
THROTTLING_CODES: Final = frozenset(
    {"Throttling", "ThrottlingException", "PriorRequestNotComplete", "RequestLimitExceeded"}
)

CODE_ERRORS: Final[dict[str, type[ProviderError]]] = {
    "NoSuchHostedZone": ZoneNotFoundError,
    "HostedZoneAlreadyExists": ZoneAlreadyExistsError,
    "ConflictingDomainExists": ZoneAlreadyExistsError,
    "HostedZoneNotEmpty": ConflictError,
    "NoSuchChange": NotFoundError,
    "NoSuchDelegationSet": NotFoundError,
    "NoSuchHealthCheck": NotFoundError,
    "InvalidInput": InvalidRequestError,
    "InvalidDomainName": InvalidRequestError,
    "InvalidChangeBatch": InvalidRequestError,
    "SignatureDoesNotMatch": AuthenticationError,
    "InvalidClientTokenId": AuthenticationError,
    "IncompleteSignature": AuthenticationError,
    "ExpiredToken": AuthenticationError,
    "AccessDenied": PermissionDeniedError,
    "TooManyHostedZones": InvalidRequestError,
    "InternalFailure": ServerError,
    "ServiceUnavailable": ServerError,
    **dict.fromkeys(THROTTLING_CODES, RateLimitedError),
}


def _change_batch_error(message: str) -> type[ProviderError]:
    lowered = message.lower()
    if "already exists" in lowered:
        return RecordAlreadyExistsError
    if "not found" in lowered or "action=delete" in lowered:
        # AWS: "Tried to delete resource record set [...] but it was not found"; moto answers InvalidInput
        # "... found none in Change with [Action=DELETE, ...]".
        return RecordNotFoundError
    return InvalidRequestError


class Route53ErrorPolicy(ErrorPolicy):
    """Maps Route 53 error responses to the error tree (see the module docstring)."""

    provider = "aws"

    def map_error(self, response: httpx.Response) -> ProviderError:
        """Build the exception for a Route 53 error response."""
        body = parse_error(response.content)
        if body is None:
            return super().map_error(response)
        code = body.code or ""
        message = body.message or code or self.excerpt(response)
        cls = CODE_ERRORS.get(code)
        if code in ("InvalidChangeBatch", "InvalidInput"):
            cls = _change_batch_error(message)
            if code == "InvalidInput" and cls is RecordAlreadyExistsError:
                cls = InvalidRequestError
        if cls is None:
            return _with_details(super().map_error(response), code, message, body.request_id)
        details: dict[str, Any] = {
            "provider": self.provider,
            "status": response.status_code,
            "code": code or None,
            "request_id": body.request_id or self.request_id(response),
        }
        if issubclass(cls, RateLimitedError):
            return cls(message, retry_after=self.retry_after(response), **details)
        return cls(message, **details)


def _with_details(error: ProviderError, code: str, message: str, request_id: str | None) -> ProviderError:
    state = error._state()
    state["code"] = code or None
    state["request_id"] = request_id or state.get("request_id")
    return type(error)(message, **state)
