"""Error bodies of Designate and Octavia, mapped onto the error tree with per-URL precise classes.

* Designate: ``{"code": 404, "type": "zone_not_found", "message": "Could not find Zone", "request_id": ...}``
  (``duplicate_zone`` / ``duplicate_recordset`` for 409).
* Octavia (WSME faults): ``{"faultcode": "Client", "faultstring": "Load Balancer 12 could not be found.",
  "debuginfo": null}``.

Anything else falls back to :class:`~asynccloud.auth.keystone.OpenStackErrorPolicy`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from asynccloud.auth.keystone import OpenStackErrorPolicy
from asynccloud.errors import ProviderError, RateLimitedError

if TYPE_CHECKING:
    import httpx

__all__ = ["ServiceErrorPolicy"]

#: ``classify(url_path, status)`` returns the precise error class for a status on that URL, or ``None``.
Classify = Callable[[str, int], type[ProviderError] | None]


def _parse(response: httpx.Response) -> tuple[str | None, str | None]:
    try:
        data: Any = response.json()
    except (ValueError, RecursionError):  # not JSON, or nested too deep to parse
        return None, None
    if not isinstance(data, Mapping):
        return None, None
    if isinstance(data.get("faultstring"), str):
        code = data.get("faultcode")
        return (str(code) if code else None), " ".join(str(data["faultstring"]).split())
    if isinstance(data.get("message"), str) and ("type" in data or "code" in data):
        kind = data.get("type")
        return (str(kind) if kind else None), " ".join(str(data["message"]).split())
    return None, None


class ServiceErrorPolicy(OpenStackErrorPolicy):
    """Designate/Octavia error bodies, with ``classify`` choosing e.g. ``ZoneNotFoundError`` for a 404.

    Args:
        classify: Picks the precise error class from the request path and status.
    """

    def __init__(self, classify: Classify) -> None:
        super().__init__()
        self._classify = classify

    def map_error(self, response: httpx.Response) -> ProviderError:
        """Build the exception for an error response."""
        code, message = _parse(response)
        error = super().map_error(response)
        if isinstance(error, RateLimitedError):
            return error
        specific = self._classify(response.request.url.path, response.status_code) or type(error)
        if message is None and specific is type(error):
            return error
        return specific(
            message or error.message,
            provider=self.provider,
            status=response.status_code,
            code=code or error.code,
            request_id=self.request_id(response) or error.request_id,
        )
