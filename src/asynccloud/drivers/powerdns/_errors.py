"""PowerDNS API error answers, mapped onto the error tree.

The API answers errors with ``{"error": "RRset www.other.org. IN A: Name is out of zone"}`` (400/422), and
with a bare reason phrase as plain text for some statuses (``Not Found``, ``Conflict``, ``Unauthorized``).
A 404 under ``/zones/`` is :class:`~asynccloud.errors.ZoneNotFoundError`; a 409 when creating a zone is
:class:`~asynccloud.errors.ZoneAlreadyExistsError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from asynccloud._http import ErrorPolicy
from asynccloud.errors import ProviderError, RateLimitedError, ZoneAlreadyExistsError, ZoneNotFoundError

if TYPE_CHECKING:
    import httpx

__all__ = ["PowerDNSErrorPolicy"]


def _message(response: httpx.Response) -> str | None:
    try:
        data: Any = response.json()
    except (ValueError, RecursionError):
        return None
    if isinstance(data, Mapping) and isinstance(data.get("error"), str):
        return " ".join(data["error"].split()) or None
    return None


class PowerDNSErrorPolicy(ErrorPolicy):
    """Reads ``{"error": ...}`` bodies; picks the zone errors by status and path."""

    provider = "powerdns"

    def map_error(self, response: httpx.Response) -> ProviderError:
        """Build the exception for an error response."""
        error = super().map_error(response)
        if isinstance(error, RateLimitedError):
            return error
        path = response.request.url.path
        status = response.status_code
        cls: type[ProviderError] = type(error)
        if status == 404 and "/zones/" in path:
            cls = ZoneNotFoundError
        elif status == 409 and path.rstrip("/").endswith("/zones"):
            cls = ZoneAlreadyExistsError
        message = _message(response)
        if message is None and cls is type(error):
            return error
        return cls(
            message or error.message,
            provider=self.provider,
            status=status,
            code=error.code,
            request_id=error.request_id,
        )
