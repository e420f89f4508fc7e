"""How S3 error responses map onto asynccloud's error tree.

S3 answers errors with an XML body ``<Error><Code>NoSuchKey</Code><Message>...</Message><RequestId>...``;
HEAD answers have no body, so they are mapped by status and by what the URL addressed (a bucket or an
object), with the request id taken from ``x-amz-request-id``. Throttling codes become
:class:`~asynccloud.errors.RateLimitedError`, which the one retry loop in :mod:`asynccloud._http` retries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from asynccloud._http import ErrorPolicy
from asynccloud._retry import parse_retry_after
from asynccloud.drivers.aws._s3_xml import parse_error
from asynccloud.errors import (
    AuthenticationError,
    ConflictError,
    ContainerAlreadyExistsError,
    ContainerNotEmptyError,
    ContainerNotFoundError,
    InvalidRequestError,
    NotFoundError,
    ObjectNotFoundError,
    PermissionDeniedError,
    ProviderError,
    QuotaExceededError,
    RateLimitedError,
    ServerError,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    import httpx

    from asynccloud._retry import RetryPolicy

__all__ = ["CODE_ERRORS", "DATA_CORRUPTION_CODES", "THROTTLING_CODES", "S3ErrorPolicy"]

#: Codes that mean "slow down"; retried whatever their status, then raised as RateLimitedError.
THROTTLING_CODES: Final = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "ServiceUnavailable",
        "BandwidthLimitExceeded",
    }
)

#: Codes saying the uploaded bytes did not match their declared hash (the driver raises IntegrityError).
DATA_CORRUPTION_CODES: Final = frozenset({"BadDigest", "XAmzContentSHA256Mismatch", "InvalidChecksum"})

#: Transient codes worth another attempt although their status (400) is not retried by default.
_TRANSIENT_CODES: Final = frozenset({"RequestTimeout", "InternalError", "OperationAborted"})

CODE_ERRORS: Final[dict[str, type[ProviderError]]] = {
    "NoSuchBucket": ContainerNotFoundError,
    "NoSuchKey": ObjectNotFoundError,
    "NoSuchUpload": NotFoundError,
    "NoSuchVersion": ObjectNotFoundError,
    "BucketAlreadyOwnedByYou": ContainerAlreadyExistsError,
    "BucketAlreadyExists": ContainerAlreadyExistsError,
    "BucketNotEmpty": ContainerNotEmptyError,
    "SignatureDoesNotMatch": AuthenticationError,
    "InvalidAccessKeyId": AuthenticationError,
    "ExpiredToken": AuthenticationError,
    "InvalidToken": AuthenticationError,
    "TokenRefreshRequired": AuthenticationError,
    "MissingSecurityHeader": AuthenticationError,
    "RequestTimeTooSkewed": AuthenticationError,
    "AccessDenied": PermissionDeniedError,
    "AllAccessDisabled": PermissionDeniedError,
    "AccountProblem": PermissionDeniedError,
    "InvalidObjectState": ConflictError,
    "OperationAborted": ConflictError,
    "TooManyBuckets": QuotaExceededError,
    "InternalError": ServerError,
    **dict.fromkeys(THROTTLING_CODES, RateLimitedError),
}

_STATUS_FALLBACK: Final[dict[int, type[ProviderError]]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    409: ConflictError,
    412: InvalidRequestError,
    416: InvalidRequestError,
    429: RateLimitedError,
    503: RateLimitedError,  # S3's 503 is "Slow Down" (or a transient overload): back off and retry
}


class S3ErrorPolicy(ErrorPolicy):
    """Maps S3 error responses to the error tree (see the module docstring).

    Args:
        provider: The provider name used in errors (``"aws"``, ``"wasabi"``, ...).
        resource_of: Tells whether a request URL addressed the service, a bucket or an object, so a
            bodiless 404 (HEAD) becomes ``ContainerNotFoundError`` or ``ObjectNotFoundError``.
    """

    def __init__(self, provider: str, resource_of: Callable[[httpx.URL], str] | None = None) -> None:
        super().__init__(provider)
        self._resource_of = resource_of

    def map_error(self, response: httpx.Response) -> ProviderError:
        """Build the exception for an S3 error response (XML body or, for HEAD, status only)."""
        status = response.status_code
        body = parse_error(response.content)
        code = body.code if body else None
        request_id = (body.request_id if body else None) or self.request_id(response)
        cls = CODE_ERRORS.get(code or "") or self._by_status(response)
        if body is not None and (body.code or body.message):
            message = body.message or body.code or ""
        else:
            message = (
                self.excerpt(response) if response.content else (response.reason_phrase or f"HTTP {status}")
            )
        details: dict[str, Any] = {
            "provider": self.provider,
            "status": status,
            "code": code,
            "request_id": request_id,
        }
        if issubclass(cls, RateLimitedError):
            return cls(message, retry_after=self.retry_after(response), **details)
        return cls(message, **details)

    def _by_status(self, response: httpx.Response) -> type[ProviderError]:
        status = response.status_code
        if status == 404:
            resource = self._resource_of(response.request.url) if self._resource_of else None
            if resource == "bucket":
                return ContainerNotFoundError
            if resource == "object":
                return ObjectNotFoundError
            return NotFoundError
        if status in _STATUS_FALLBACK:
            return _STATUS_FALLBACK[status]
        return ServerError if 500 <= status <= 599 else ProviderError

    def is_retryable(self, response: httpx.Response, error: ProviderError, policy: RetryPolicy) -> bool:
        """Throttling and transient S3 codes are retried on top of the policy's statuses."""
        if error.code in _TRANSIENT_CODES or "x-amz-retry-after" in response.headers:
            return True
        return super().is_retryable(response, error, policy)

    def retry_after(self, response: httpx.Response) -> float | None:
        """``x-amz-retry-after`` (milliseconds), else the standard ``Retry-After`` (seconds or a date)."""
        raw = response.headers.get("x-amz-retry-after")
        if raw is not None:
            try:
                millis = float(raw.strip())
            except ValueError:
                millis = -1.0
            if 0 <= millis < float("inf"):
                return millis / 1000.0
        return parse_retry_after(response.headers.get("retry-after"))

    def request_id(self, response: httpx.Response) -> str | None:
        """``x-amz-request-id`` first (S3's), then the generic request id headers."""
        value = response.headers.get("x-amz-request-id")
        return str(value) if value else super().request_id(response)
