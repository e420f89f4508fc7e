"""Error bodies of OpenStack APIs (Keystone, Nova, Cinder, Rackspace identity) mapped onto the error tree."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from asynccloud._http import ErrorPolicy
from asynccloud._retry import parse_retry_after
from asynccloud.errors import ProviderError, QuotaExceededError, RateLimitedError

if TYPE_CHECKING:
    import httpx

__all__ = ["OpenStackErrorPolicy", "parse_openstack_error"]

# Fault names the APIs use for throttling (Nova/Rackspace ``overLimit`` with HTTP 413, Swift's 498).
_RATE_LIMIT_CODES = frozenset({"overLimit", "rateLimit"})


def parse_openstack_error(response: httpx.Response) -> tuple[str | None, str | None]:
    """Read ``(code, message)`` from an OpenStack JSON error body, ``(None, None)`` if it is not one.

    Understands the two shapes in use: Keystone's ``{"error": {"code": 401, "title": "Unauthorized",
    "message": "..."}}`` and the fault style of Nova, Cinder and Rackspace identity,
    ``{"itemNotFound": {"code": 404, "message": "..."}}`` (the key is the code).
    """
    try:
        data: Any = response.json()
    except (ValueError, RecursionError):  # not JSON, or nested too deep to parse
        return None, None
    if not isinstance(data, Mapping) or not data:
        return None, None
    error = data.get("error")
    if isinstance(error, Mapping):
        title = error.get("title")
        return (str(title) if title else None), _message(error)
    if len(data) == 1:
        ((key, value),) = data.items()
        if isinstance(value, Mapping):
            return str(key), _message(value)
    return None, None


def _message(fault: Mapping[str, Any]) -> str | None:
    for key in ("message", "details", "explanation"):
        value = fault.get(key)
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())
    return None


class OpenStackErrorPolicy(ErrorPolicy):
    """Map OpenStack JSON error bodies: the provider's message and fault name go into the error.

    Statuses map as in :class:`~asynccloud._http.ErrorPolicy`; an ``overLimit`` fault (HTTP 413 on Nova and
    Rackspace) is a :class:`~asynccloud.errors.RateLimitedError` when it carries ``retryAfter`` (throttling,
    retried) and a :class:`~asynccloud.errors.QuotaExceededError` otherwise. Compute, volume and identity
    drivers use it as is; storage drivers subclass it.
    """

    provider = "openstack"

    def map_error(self, response: httpx.Response) -> ProviderError:
        """Build the exception for an error response (see the class docstring)."""
        code, message = parse_openstack_error(response)
        details: dict[str, Any] = {
            "provider": self.provider,
            "status": response.status_code,
            "code": code,
            "request_id": self.request_id(response),
        }
        text = message or self.excerpt(response)
        if code in _RATE_LIMIT_CODES or response.status_code in (413, 498):
            retry_after = self.retry_after(response) or _fault_retry_after(response)
            if retry_after is not None or response.status_code == 498 or code == "rateLimit":
                return RateLimitedError(text, retry_after=retry_after, **details)
            return QuotaExceededError(text, **details)
        error = super().map_error(response)
        if message is None and code is None:
            return error
        if isinstance(error, RateLimitedError):
            return RateLimitedError(text, retry_after=error.retry_after, **details)
        return type(error)(text, **details)


def _fault_retry_after(response: httpx.Response) -> float | None:
    try:
        data: Any = response.json()
    except (ValueError, RecursionError):  # not JSON, or nested too deep to parse
        return None
    if isinstance(data, Mapping):
        for value in data.values():
            if isinstance(value, Mapping) and "retryAfter" in value:
                return parse_retry_after(str(value["retryAfter"]))
    return None
