"""Hetzner Cloud API error answers, mapped onto the error tree.

Errors come as ``{"error": {"code": "not_found", "message": "...", "details": {...}}}``; the code picks the
class, and the request path the precise "not found" / "already exists" class.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from asynccloud._http import ErrorPolicy
from asynccloud.errors import (
    AuthenticationError,
    ConflictError,
    ImageNotFoundError,
    InvalidRequestError,
    KeyPairAlreadyExistsError,
    KeyPairNotFoundError,
    NodeNotFoundError,
    NotFoundError,
    PermissionDeniedError,
    ProviderError,
    QuotaExceededError,
    RateLimitedError,
    ServerError,
)

if TYPE_CHECKING:
    import httpx

__all__ = ["HetznerErrorPolicy"]

_CODES: Final[dict[str, type[ProviderError]]] = {
    "unauthorized": AuthenticationError,
    "forbidden": PermissionDeniedError,
    "invalid_input": InvalidRequestError,
    "json_error": InvalidRequestError,
    "not_found": NotFoundError,
    "uniqueness_error": ConflictError,
    "conflict": ConflictError,
    "locked": ConflictError,
    "resource_limit_exceeded": QuotaExceededError,
    "resource_unavailable": QuotaExceededError,
    "placement_error": QuotaExceededError,
    "rate_limit_exceeded": RateLimitedError,
    "server_error": ServerError,
    "service_error": ServerError,
    "unavailable": ServerError,
    "timeout": ServerError,
    "maintenance": ServerError,
}
#: The precise class of a "not found" / "already exists" by the collection in the path.
_NOT_FOUND: Final = {
    "servers": NodeNotFoundError,
    "ssh_keys": KeyPairNotFoundError,
    "images": ImageNotFoundError,
}
_EXISTS: Final = {"ssh_keys": KeyPairAlreadyExistsError}


def _error(response: httpx.Response) -> tuple[str | None, str | None]:
    try:
        data: Any = response.json()
    except (ValueError, RecursionError):
        return None, None
    body = data.get("error") if isinstance(data, Mapping) else None
    if not isinstance(body, Mapping):
        return None, None
    code, message = body.get("code"), body.get("message")
    return (code if isinstance(code, str) else None), (message if isinstance(message, str) else None)


def _collection(path: str) -> str:
    """The resource collection a request addressed (``servers`` in ``/v1/servers/42/actions/reboot``)."""
    return next((part for part in path.split("/") if part in _NOT_FOUND), "")


class HetznerErrorPolicy(ErrorPolicy):
    """Reads Hetzner's error object; ``rate_limit_exceeded`` is throttling (retried)."""

    provider = "hetzner"

    def map_error(self, response: httpx.Response) -> ProviderError:
        """Build the exception for an error response."""
        base = super().map_error(response)
        code, message = _error(response)
        cls = _CODES.get(code or "", type(base))
        collection = _collection(response.request.url.path)
        if cls is NotFoundError:
            cls = _NOT_FOUND.get(collection, NotFoundError)
        elif cls is ConflictError and code == "uniqueness_error":
            cls = _EXISTS.get(collection, ConflictError)
        return self.build(cls, response, " ".join((message or base.message).split()), code=code)
