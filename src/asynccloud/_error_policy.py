"""The hook a driver gives the request pipeline for its provider's error answers (:class:`ErrorPolicy`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, ClassVar, Final

import httpx

from ._retry import RetryPolicy, parse_retry_after
from .errors import (
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
    from collections.abc import Mapping

__all__ = ["ErrorPolicy"]

_REQUEST_ID_HEADERS: Final = (
    "x-request-id", "x-amz-request-id", "x-amzn-requestid", "x-openstack-request-id", "x-compute-request-id",
    "x-trans-id", "x-ms-request-id", "request-id",
)  # fmt: skip
_STATUS_ERRORS: Final[Mapping[int, type[ProviderError]]] = {
    400: InvalidRequestError, 401: AuthenticationError, 403: PermissionDeniedError, 404: NotFoundError,
    409: ConflictError, 422: InvalidRequestError, 429: RateLimitedError,
}  # fmt: skip
_TAG = re.compile(r"<[^>]*>")


class ErrorPolicy:
    """How a provider's error responses map onto the error tree; the hook drivers subclass.

    A driver overrides :meth:`map_error` to read its error body (XML ``<Code>``, JSON ``error.code``, ...)
    and pick the precise exception (``ContainerNotFoundError`` for ``NoSuchBucket``), returns a
    :class:`~asynccloud.errors.RateLimitedError` for its throttling codes (``SlowDown``,
    ``RequestLimitExceeded``) so they are retried whatever their status, and may override
    :meth:`retry_after` for headers like ``x-amz-retry-after``. The retry loop itself stays in
    :class:`HttpClient`.

    Args:
        provider: The provider's name used in errors; defaults to the class attribute ``provider``.
    """

    provider: str = "http"
    #: Longest body excerpt put in an error message.
    excerpt_limit: ClassVar[int] = 200

    def __init__(self, provider: str | None = None) -> None:
        if provider is not None:
            self.provider = provider

    def map_error(self, response: httpx.Response) -> ProviderError:
        """Build the exception for an error response.

        The default maps the status: 400/422 → ``InvalidRequestError``, 401 → ``AuthenticationError``,
        403 → ``PermissionDeniedError``, 404 → ``NotFoundError``, 409 → ``ConflictError``,
        429 → ``RateLimitedError``, 5xx → ``ServerError``, anything else → ``ProviderError``.

        Args:
            response: The error response; its body has already been read.

        Returns:
            The exception to raise (not raised here).
        """
        status = response.status_code
        cls = _STATUS_ERRORS.get(status) or (ServerError if 500 <= status <= 599 else ProviderError)
        return self.build(cls, response, self.excerpt(response))

    def build(
        self, cls: type[ProviderError], response: httpx.Response, message: str, *, code: str | None = None
    ) -> ProviderError:
        """An error of class ``cls`` for ``response``: provider, status, request id, and for a
        :class:`~asynccloud.errors.RateLimitedError` the wait the provider asked for."""
        provider, status, request_id = self.provider, response.status_code, self.request_id(response)
        if issubclass(cls, RateLimitedError):
            retry_after = self.retry_after(response)
            return cls(
                message,
                retry_after=retry_after,
                provider=provider,
                status=status,
                code=code,
                request_id=request_id,
            )
        return cls(message, provider=provider, status=status, code=code, request_id=request_id)

    def is_retryable(self, response: httpx.Response, error: ProviderError, policy: RetryPolicy) -> bool:
        """Whether an error response is worth another attempt (idempotency is checked by the loop).

        Args:
            response: The error response (body read).
            error: What :meth:`map_error` made of it.
            policy: The retry policy in force.

        Returns:
            ``True`` when the status is in ``policy.retry_statuses`` or ``error`` is a ``RateLimitedError``.
        """
        return response.status_code in policy.retry_statuses or isinstance(error, RateLimitedError)

    def retry_after(self, response: httpx.Response) -> float | None:
        """Seconds the provider asked to wait: the parsed ``Retry-After`` header, or ``None``."""
        return parse_retry_after(response.headers.get("retry-after"))

    def request_id(self, response: httpx.Response) -> str | None:
        """The provider's request id from the usual headers (``x-request-id``, ``x-amz-request-id``, ...)."""
        for name in _REQUEST_ID_HEADERS:
            value = response.headers.get(name)
            if value:
                return str(value)
        return None

    def excerpt(self, response: httpx.Response) -> str:
        """A short, single-line, printable description of an error response.

        Args:
            response: The error response; if its body was not read, only the reason phrase is used.

        Returns:
            ``"<reason>: <first characters of the body>"``, or just the reason phrase.
        """
        reason = response.reason_phrase or f"HTTP {response.status_code}"
        try:
            raw = response.content[: self.excerpt_limit * 8]
        except httpx.ResponseNotRead:
            return reason
        try:
            text = raw.decode(response.encoding or "utf-8", errors="replace")
        except LookupError:
            text = raw.decode("utf-8", errors="replace")
        if "html" in response.headers.get("content-type", "").lower():
            text = _TAG.sub(" ", text)
        text = "".join(ch for ch in " ".join(text.split()) if ch.isprintable())
        if len(text) > self.excerpt_limit:
            text = text[: self.excerpt_limit - 1] + "…"
        return f"{reason}: {text}" if text else reason
