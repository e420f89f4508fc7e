"""Azure Storage error answers, mapped onto the error tree.

Azure names the error in the ``x-ms-error-code`` header (present on HEAD answers too, which have no body)
and repeats it in an XML body ``<Error><Code>…</Code><Message>…</Message></Error>``; ``x-ms-request-id``
identifies the request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from asynccloud._http import ErrorPolicy
from asynccloud.errors import (
    AuthenticationError,
    ContainerAlreadyExistsError,
    ContainerNotFoundError,
    InvalidRequestError,
    ObjectNotFoundError,
    PermissionDeniedError,
    ProviderError,
    RateLimitedError,
    ServerError,
)

if TYPE_CHECKING:
    import httpx

__all__ = ["AzureErrorPolicy"]

_CODES: Final[dict[str, type[ProviderError]]] = {
    "ContainerNotFound": ContainerNotFoundError,
    "BlobNotFound": ObjectNotFoundError,
    "ContainerAlreadyExists": ContainerAlreadyExistsError,
    "ContainerBeingDeleted": ContainerAlreadyExistsError,
    "AuthenticationFailed": AuthenticationError,
    "InvalidAuthenticationInfo": AuthenticationError,
    "AuthorizationFailure": PermissionDeniedError,
    "AuthorizationPermissionMismatch": PermissionDeniedError,
    "InvalidResourceName": InvalidRequestError,
    "Md5Mismatch": InvalidRequestError,
    "InvalidBlockList": InvalidRequestError,
    "ServerBusy": RateLimitedError,
    "OperationTimedOut": ServerError,
    "InternalError": ServerError,
}


def _body(response: httpx.Response) -> tuple[str | None, str | None]:
    if not response.content.lstrip().startswith(b"<"):
        return None, None
    try:
        root = fromstring(response.content)
    except (ParseError, DefusedXmlException, ValueError):
        return None, None
    code = root.findtext("Code")
    message = root.findtext("Message")
    first_line = message.strip().splitlines()[0] if message and message.strip() else None
    return code, first_line


class AzureErrorPolicy(ErrorPolicy):
    """Picks the error class from the Azure error code; ``ServerBusy`` is throttling (retried)."""

    provider = "azure"

    def map_error(self, response: httpx.Response) -> ProviderError:
        """Build the exception for an error response."""
        base = super().map_error(response)
        body_code, message = _body(response)
        code = response.headers.get("x-ms-error-code") or body_code
        cls = _CODES.get(code or "", type(base))
        if cls is type(base) and code is None:
            return base
        return self.build(cls, response, message or code or base.message, code=code)
