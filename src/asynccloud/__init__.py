"""asynccloud: one async API for compute, object storage, DNS and load balancers on any cloud.

Typical use::

    from asynccloud import DriverType, Provider, get_driver

    Storage = get_driver(DriverType.STORAGE, Provider.LOCAL)
    async with Storage("/srv/objects") as storage:
        container = await storage.create_container("photos")
        await container.upload_object_via_stream(b"...", "cat.jpg")

Bulk provisioning (``docs/deployment.md``)::

    from asynccloud import NodeSpec, provision

    result = await provision(compute, [NodeSpec(f"web{i}", size, image) for i in range(50)], concurrency=20)
    nodes = result.raise_for_errors().succeeded

Importing this package is cheap: no driver module and no asyncssh is imported until a driver is used.
"""

from asynccloud._capability import Capability
from asynccloud._provision import (
    NodeSpec,
    ProvisionEvent,
    ProvisionOutcome,
    ProvisionResult,
    ProvisionStage,
    provision,
)
from asynccloud._registry import DriverType, Provider, available_drivers, get_driver, register_driver
from asynccloud._retry import RetryPolicy
from asynccloud.errors import (
    AsyncCloudError,
    AuthenticationError,
    BalancerNotFoundError,
    ConfigurationError,
    ConflictError,
    ContainerAlreadyExistsError,
    ContainerNotEmptyError,
    ContainerNotFoundError,
    DeploymentError,
    DestinationExistsError,
    ImageNotFoundError,
    InsecureTransportWarning,
    IntegrityError,
    InvalidNameError,
    InvalidRequestError,
    KeyPairAlreadyExistsError,
    KeyPairNotFoundError,
    NodeNotFoundError,
    NotFoundError,
    NotSupportedError,
    ObjectAlreadyExistsError,
    ObjectNotFoundError,
    OperationFailedError,
    OperationTimeoutError,
    PermissionDeniedError,
    ProviderError,
    QuotaExceededError,
    RateLimitedError,
    RecordAlreadyExistsError,
    RecordNotFoundError,
    RequestTimeout,
    ServerError,
    TransportError,
    UnboundModelError,
    VolumeNotFoundError,
    ZoneAlreadyExistsError,
    ZoneNotFoundError,
)

__version__ = "0.1.0"

__all__ = [
    "AsyncCloudError",
    "AuthenticationError",
    "BalancerNotFoundError",
    "Capability",
    "ConfigurationError",
    "ConflictError",
    "ContainerAlreadyExistsError",
    "ContainerNotEmptyError",
    "ContainerNotFoundError",
    "DeploymentError",
    "DestinationExistsError",
    "DriverType",
    "ImageNotFoundError",
    "InsecureTransportWarning",
    "IntegrityError",
    "InvalidNameError",
    "InvalidRequestError",
    "KeyPairAlreadyExistsError",
    "KeyPairNotFoundError",
    "NodeNotFoundError",
    "NodeSpec",
    "NotFoundError",
    "NotSupportedError",
    "ObjectAlreadyExistsError",
    "ObjectNotFoundError",
    "OperationFailedError",
    "OperationTimeoutError",
    "PermissionDeniedError",
    "Provider",
    "ProviderError",
    "ProvisionEvent",
    "ProvisionOutcome",
    "ProvisionResult",
    "ProvisionStage",
    "QuotaExceededError",
    "RateLimitedError",
    "RecordAlreadyExistsError",
    "RecordNotFoundError",
    "RequestTimeout",
    "RetryPolicy",
    "ServerError",
    "TransportError",
    "UnboundModelError",
    "VolumeNotFoundError",
    "ZoneAlreadyExistsError",
    "ZoneNotFoundError",
    "__version__",
    "available_drivers",
    "get_driver",
    "provision",
    "register_driver",
]
