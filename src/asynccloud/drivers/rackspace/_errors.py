"""Error bodies of the Rackspace Cloud DNS and Cloud Load Balancers APIs, mapped onto the error tree.

Both APIs answer errors in one of three JSON shapes:

* the OpenStack fault style, ``{"itemNotFound": {"code": 404, "message": "...", "details": "..."}}``;
* a flat fault, ``{"code": 422, "message": "Load Balancer '12' has a status of 'PENDING_UPDATE' and is
  considered immutable."}`` (Load Balancers, and Cloud DNS's ``{"code": 404, "message": "Not Found",
  "details": "Object not Found."}``);
* a validation fault, ``{"validationErrors": {"messages": ["..."]}, "code": 400, "message": "Validation
  error"}``.

``413`` (``overLimit``) is throttling on both services: always a :class:`~asynccloud.errors.RateLimitedError`,
retried by the request pipeline on idempotent requests. ``404`` and ``409`` become the precise class the
driver's ``classify`` callback picks from the request URL (``ZoneNotFoundError`` for ``/domains/12``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from asynccloud._retry import parse_retry_after
from asynccloud.auth.keystone import OpenStackErrorPolicy, parse_openstack_error
from asynccloud.errors import ProviderError, RateLimitedError

if TYPE_CHECKING:
    import httpx

__all__ = ["Classify", "RackspaceErrorPolicy", "parse_rackspace_error"]

#: ``classify(url_path, status)`` returns the precise error class for a 404/409, or ``None``.
Classify = Callable[[str, int], type[ProviderError] | None]


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return " ".join(value.split())
    return None


def parse_rackspace_error(response: httpx.Response) -> tuple[str | None, str | None]:
    """Read ``(code, message)`` from any of the Rackspace error shapes; ``(None, None)`` otherwise."""
    try:
        data: Any = response.json()
    except (ValueError, RecursionError):  # not JSON, or nested too deep to parse
        return None, None
    if not isinstance(data, Mapping) or not data:
        return None, None
    if "message" in data or "validationErrors" in data:
        parts = [_text(data.get("message")), _text(data.get("details"))]
        validation = data.get("validationErrors")
        if isinstance(validation, Mapping):
            parts += [_text(m) for m in validation.get("messages") or ()]
        message = ": ".join(p for p in dict.fromkeys(parts) if p) or None
        return None, message
    code, message = parse_openstack_error(response)
    if code is not None and len(data) == 1:
        fault = data[code]
        details = _text(fault.get("details")) if isinstance(fault, Mapping) else None
        if details and message and details != message:
            message = f"{message}: {details}"
    return code, message


class RackspaceErrorPolicy(OpenStackErrorPolicy):
    """Error mapping of Cloud DNS and Cloud Load Balancers (see the module docstring).

    Args:
        classify: Picks the precise error class of a 404/409 from the request path and status.
    """

    provider = "rackspace"

    def __init__(self, classify: Classify | None = None) -> None:
        super().__init__()
        self._classify = classify

    def map_error(self, response: httpx.Response) -> ProviderError:
        """Build the exception for an error response."""
        code, message = parse_rackspace_error(response)
        status = response.status_code
        details: dict[str, Any] = {
            "provider": self.provider,
            "status": status,
            "code": code,
            "request_id": self.request_id(response),
        }
        text = message or self.excerpt(response)
        if status == 413 or code in ("overLimit", "rateLimit"):
            retry_after = self.retry_after(response) or _fault_retry_after(response)
            return RateLimitedError(text, retry_after=retry_after, **details)
        specific = self._classify(response.request.url.path, status) if self._classify else None
        if specific is not None:
            return specific(text, **details)
        error = super().map_error(response)
        if message is None or isinstance(error, RateLimitedError):
            return error
        return type(error)(text, **details)


def _fault_retry_after(response: httpx.Response) -> float | None:
    try:
        data: Any = response.json()
    except (ValueError, RecursionError):  # not JSON, or nested too deep to parse
        return None
    if isinstance(data, Mapping):
        for value in (data, *data.values()):
            if isinstance(value, Mapping) and "retryAfter" in value:
                return parse_retry_after(str(value["retryAfter"]))
    return None
