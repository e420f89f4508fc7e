"""Swift's error responses mapped onto the error tree.

Swift answers errors with a status and a small HTML page, so what went wrong is read from the status and from
*what* the request addressed: the account, a container or an object (the URL's path below the storage URL).

=========================  ==========================================================================
404 on a container         :class:`~asynccloud.errors.ContainerNotFoundError`
404 on an object           :class:`~asynccloud.errors.ObjectNotFoundError` (``PUT``/``POST``/``COPY``:
                           the container is missing, so ``ContainerNotFoundError``)
409 deleting a container   :class:`~asynccloud.errors.ContainerNotEmptyError`
401                        :class:`~asynccloud.errors.AuthenticationError` (after one re-authentication)
416                        :class:`~asynccloud.errors.InvalidRequestError` (``RangeNotSatisfiable``)
422 on an object write     :class:`~asynccloud.errors.InvalidRequestError` (``EtagMismatch``); uploads turn
                           it into :class:`~asynccloud.errors.IntegrityError`
429, 498 (ratelimit)       :class:`~asynccloud.errors.RateLimitedError` (retried)
5xx                        :class:`~asynccloud.errors.ServerError` (502/503/504 retried)
=========================  ==========================================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from asynccloud.auth.keystone import OpenStackErrorPolicy
from asynccloud.errors import (
    ContainerNotEmptyError,
    ContainerNotFoundError,
    InvalidRequestError,
    ObjectNotFoundError,
    ProviderError,
    RateLimitedError,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    import httpx

__all__ = ["Target", "SwiftErrorPolicy"]

#: What a Swift URL addresses.
Target = Literal["account", "container", "object"]

_WRITES = frozenset({"PUT", "POST", "COPY"})


class SwiftErrorPolicy(OpenStackErrorPolicy):
    """Map Swift errors by status and target (see the module docstring).

    Args:
        provider: The provider's name for errors.
        locate: Tells what a request URL addresses (``None`` for URLs outside the storage account, e.g.
            the CDN management endpoint, which are mapped by status only).
    """

    def __init__(self, provider: str, locate: Callable[[httpx.URL], Target | None]) -> None:
        super().__init__(provider)
        self._locate = locate

    def map_error(self, response: httpx.Response) -> ProviderError:
        """Build the exception for a Swift error response."""
        status = response.status_code
        request = response.request
        target = self._locate(request.url)
        details: dict[str, Any] = {
            "provider": self.provider,
            "status": status,
            "request_id": self.request_id(response),
        }
        message = self.excerpt(response)
        if status == 404 and target == "container":
            return ContainerNotFoundError(message, code="NoSuchContainer", **details)
        if status == 404 and target == "object":
            if request.method in _WRITES:
                return ContainerNotFoundError(message, code="NoSuchContainer", **details)
            return ObjectNotFoundError(message, code="NoSuchObject", **details)
        if status == 409 and target == "container" and request.method == "DELETE":
            return ContainerNotEmptyError(message, code="ContainerNotEmpty", **details)
        if status == 416:
            return InvalidRequestError(message, code="RangeNotSatisfiable", **details)
        if status == 422 and target == "object":
            return InvalidRequestError(message, code="EtagMismatch", **details)
        if status == 498:
            return RateLimitedError(
                message, retry_after=self.retry_after(response), code="RateLimited", **details
            )
        return super().map_error(response)
