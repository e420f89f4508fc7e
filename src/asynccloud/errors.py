"""The one error tree of asynccloud.

Every exception asynccloud raises on purpose derives from :class:`AsyncCloudError`; httpx and asyncssh
exceptions are translated where they enter, so a user catches ``asynccloud.NotFoundError`` on every cloud::

    AsyncCloudError
    ├── ConfigurationError                 bad arguments, missing credentials, unknown driver
    │   ├── InvalidNameError               a container/object/zone name that is unsafe or malformed
    │   └── DestinationExistsError         a download target exists and overwriting was not asked for
    ├── NotSupportedError                  the provider cannot do this portable verb
    ├── UnboundModelError                  a model's convenience method was called without a driver
    ├── TransportError                     the request did not get an HTTP answer (connect, reset, TLS)
    │   └── RequestTimeout                 ... because an attempt timed out
    ├── ProviderError                      the provider answered with an error
    │   ├── AuthenticationError            401: credentials missing, wrong or expired
    │   ├── PermissionDeniedError          403: authenticated, not allowed
    │   ├── NotFoundError                  404 and provider "no such" codes
    │   │   ├── ContainerNotFoundError
    │   │   ├── ObjectNotFoundError
    │   │   ├── ZoneNotFoundError
    │   │   ├── RecordNotFoundError
    │   │   ├── NodeNotFoundError
    │   │   ├── KeyPairNotFoundError
    │   │   ├── BalancerNotFoundError
    │   │   ├── ImageNotFoundError
    │   │   └── VolumeNotFoundError
    │   ├── ConflictError                  409 and provider "already exists / in use" codes
    │   │   ├── ContainerAlreadyExistsError
    │   │   ├── ContainerNotEmptyError
    │   │   ├── ObjectAlreadyExistsError
    │   │   ├── ZoneAlreadyExistsError
    │   │   ├── RecordAlreadyExistsError
    │   │   └── KeyPairAlreadyExistsError
    │   ├── RateLimitedError               429 and throttling codes; carries ``retry_after``
    │   ├── QuotaExceededError             an account limit was reached
    │   ├── InvalidRequestError            400/422: the provider rejected the request's content
    │   └── ServerError                    5xx
    ├── IntegrityError                     downloaded/uploaded data failed a size or hash check
    ├── OperationTimeoutError              a wait (node running, DNS job, ...) passed its deadline
    ├── OperationFailedError               an asynchronous provider operation ended in failure
    └── DeploymentError                    deploying to a node failed; carries ``node``

    InsecureTransportWarning (UserWarning) TLS verification was turned off (``verify=False``)

Messages never contain credentials: drivers build them from provider error bodies and request metadata,
and :class:`ProviderError` keeps no request object.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AsyncCloudError",
    "AuthenticationError",
    "BalancerNotFoundError",
    "ConfigurationError",
    "ConflictError",
    "ContainerAlreadyExistsError",
    "ContainerNotEmptyError",
    "ContainerNotFoundError",
    "DeploymentError",
    "DestinationExistsError",
    "ImageNotFoundError",
    "InsecureTransportWarning",
    "IntegrityError",
    "InvalidNameError",
    "InvalidRequestError",
    "KeyPairAlreadyExistsError",
    "KeyPairNotFoundError",
    "NodeNotFoundError",
    "NotFoundError",
    "NotSupportedError",
    "ObjectAlreadyExistsError",
    "ObjectNotFoundError",
    "OperationFailedError",
    "OperationTimeoutError",
    "PermissionDeniedError",
    "ProviderError",
    "QuotaExceededError",
    "RateLimitedError",
    "RecordAlreadyExistsError",
    "RecordNotFoundError",
    "RequestTimeout",
    "ServerError",
    "TransportError",
    "UnboundModelError",
    "VolumeNotFoundError",
    "ZoneAlreadyExistsError",
    "ZoneNotFoundError",
]


class AsyncCloudError(Exception):
    """Raised for every failure asynccloud reports on purpose; the root of the tree."""


class ConfigurationError(AsyncCloudError):
    """Raised when arguments, credentials or the driver registry do not allow the call to be made."""


class InvalidNameError(ConfigurationError):
    """Raised when a resource name is unsafe or malformed (e.g. escapes a storage root); nothing is done."""


class DestinationExistsError(ConfigurationError):
    """Raised when a download's destination file exists and ``overwrite_existing`` was not set."""


class NotSupportedError(AsyncCloudError):
    """Raised when a provider cannot perform a portable verb.

    Args:
        provider: The provider's name.
        capability: The capability (usually a ``Capability`` member) that is missing.
    """

    def __init__(self, provider: str, capability: str, detail: str | None = None) -> None:
        self.provider = str(provider)
        self.capability = str(capability)
        msg = f"{self.provider} does not support {self.capability}"
        super().__init__(f"{msg}: {detail}" if detail else msg)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.provider, self.capability))


class UnboundModelError(AsyncCloudError):
    """Raised when a model's convenience method is called on a model that no driver is attached to."""


class TransportError(AsyncCloudError):
    """Raised when a request got no HTTP answer: connection refused or reset, DNS or TLS failure."""


class RequestTimeout(TransportError):
    """Raised when an attempt (or the retry budget) ran out of time before an answer came."""


class ProviderError(AsyncCloudError):
    """Raised when the provider answered with an error.

    Args:
        message: Human-readable text from the provider (never credentials).
        provider: The provider's name, e.g. ``"aws"``.
        status: The HTTP status code, when there was one.
        code: The provider's own error code (``"NoSuchBucket"``, ``"itemNotFound"``, ...).
        request_id: The provider's request id, for support tickets.
    """

    #: Set by the request pipeline when an earlier attempt of the same call was sent and may have been carried
    #: out (its answer was lost, or was a 5xx): a ``404`` to a retried ``DELETE`` may then mean "done".
    earlier_attempt_may_have_acted: bool = False

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.message = message
        self.provider = provider
        self.status = status
        self.code = code
        self.request_id = request_id
        super().__init__(self._render())

    def _render(self) -> str:
        parts = [p for p in (self.provider, str(self.status) if self.status else None, self.code) if p]
        head = f"[{' '.join(parts)}] " if parts else ""
        tail = f" (request id {self.request_id})" if self.request_id else ""
        return f"{head}{self.message}{tail}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_provider_error, (type(self), self.message, self._state()))

    def _state(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "status": self.status,
            "code": self.code,
            "request_id": self.request_id,
        }


def _rebuild_provider_error(cls: type[ProviderError], message: str, state: dict[str, Any]) -> ProviderError:
    return cls(message, **state)


class AuthenticationError(ProviderError):
    """Raised when the provider rejects the credentials (missing, wrong or expired)."""


class PermissionDeniedError(ProviderError):
    """Raised when the credentials are valid but not allowed to do this."""


class NotFoundError(ProviderError):
    """Raised when the addressed resource does not exist."""


class ContainerNotFoundError(NotFoundError):
    """Raised when a storage container does not exist."""


class ObjectNotFoundError(NotFoundError):
    """Raised when a storage object does not exist."""


class ZoneNotFoundError(NotFoundError):
    """Raised when a DNS zone does not exist."""


class RecordNotFoundError(NotFoundError):
    """Raised when a DNS record does not exist."""


class NodeNotFoundError(NotFoundError):
    """Raised when a compute node does not exist."""


class KeyPairNotFoundError(NotFoundError):
    """Raised when a key pair does not exist."""


class BalancerNotFoundError(NotFoundError):
    """Raised when a load balancer does not exist."""


class ImageNotFoundError(NotFoundError):
    """Raised when a node image does not exist."""


class VolumeNotFoundError(NotFoundError):
    """Raised when a storage volume does not exist."""


class ConflictError(ProviderError):
    """Raised when the request conflicts with the resource's current state."""


class ContainerAlreadyExistsError(ConflictError):
    """Raised when creating a container whose name is taken."""


class ContainerNotEmptyError(ConflictError):
    """Raised when deleting a container that still holds objects."""


class ObjectAlreadyExistsError(ConflictError):
    """Raised when writing an object that must not be overwritten."""


class ZoneAlreadyExistsError(ConflictError):
    """Raised when creating a DNS zone that exists."""


class RecordAlreadyExistsError(ConflictError):
    """Raised when creating a DNS record that exists."""


class KeyPairAlreadyExistsError(ConflictError):
    """Raised when creating or importing a key pair whose name is taken."""


class RateLimitedError(ProviderError):
    """Raised when the provider throttles the caller and the retry budget is spent.

    Args:
        retry_after: Seconds the provider asked the caller to wait, when it said.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)

    def _state(self) -> dict[str, Any]:
        return {**super()._state(), "retry_after": self.retry_after}


class QuotaExceededError(ProviderError):
    """Raised when an account limit (instances, buckets, records, ...) is reached."""


class InvalidRequestError(ProviderError):
    """Raised when the provider rejects the content of a request (HTTP 400/422)."""


class ServerError(ProviderError):
    """Raised when the provider fails on its side (HTTP 5xx) and retries did not help."""


class IntegrityError(AsyncCloudError):
    """Raised when transferred data fails a size or hash check; the bad data is not kept."""


class OperationTimeoutError(AsyncCloudError):
    """Raised when waiting for an asynchronous operation passed its deadline."""


class OperationFailedError(AsyncCloudError):
    """Raised when an asynchronous provider operation (job, change, build) ended in failure."""


class DeploymentError(AsyncCloudError):
    """Raised when deploying to a node fails.

    Args:
        node: The node the deployment was aimed at.
    """

    def __init__(self, message: str, node: Any = None) -> None:
        self.node = node
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self), self.node))


class InsecureTransportWarning(UserWarning):
    """Warned (once per client) when TLS certificate verification is turned off with ``verify=False``.

    Not an error: a test rig with a self-signed certificate may mean it. Silence it deliberately with
    ``warnings.filterwarnings("ignore", category=asynccloud.InsecureTransportWarning)``.
    """
