"""Nova, Glance and Cinder error responses refined by what the request addressed.

The fault body (``{"itemNotFound": {"code": 404, "message": ...}}``) says *that* something was not found; the
URL says *what*. :class:`NovaErrorPolicy` keeps :class:`~asynccloud.auth.keystone.OpenStackErrorPolicy`'s
mapping (message, fault name, ``overLimit`` throttling) and narrows the class:

=====================================  =======================================================================
404 ``/os-keypairs/...``               :class:`~asynccloud.errors.KeyPairNotFoundError`
409 ``/os-keypairs``                   :class:`~asynccloud.errors.KeyPairAlreadyExistsError`
404 ``/os-volume_attachments``,        :class:`~asynccloud.errors.VolumeNotFoundError`
``/volumes/...``, ``/snapshots/...``
404 ``/servers/{id}...``               :class:`~asynccloud.errors.NodeNotFoundError`
404 ``/images/{id}``                   :class:`~asynccloud.errors.ImageNotFoundError`
=====================================  =======================================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from asynccloud.auth.keystone import OpenStackErrorPolicy
from asynccloud.errors import (
    ConflictError,
    ImageNotFoundError,
    KeyPairAlreadyExistsError,
    KeyPairNotFoundError,
    NodeNotFoundError,
    NotFoundError,
    ProviderError,
    VolumeNotFoundError,
)

if TYPE_CHECKING:
    import httpx

__all__ = ["NovaErrorPolicy"]

# Checked in order: the first resource named in the path wins (``/servers/x/os-volume_attachments/y``
# is about the volume attachment, not the server).
_NOT_FOUND: tuple[tuple[str, type[NotFoundError]], ...] = (
    ("os-keypairs", KeyPairNotFoundError),
    ("os-volume_attachments", VolumeNotFoundError),
    ("volumes", VolumeNotFoundError),
    ("snapshots", VolumeNotFoundError),
    ("servers", NodeNotFoundError),
    ("images", ImageNotFoundError),
)


class NovaErrorPolicy(OpenStackErrorPolicy):
    """Compute, image and volume errors with the precise not-found / already-exists class."""

    def map_error(self, response: httpx.Response) -> ProviderError:
        """Build the exception for an error response (see the module docstring)."""
        error = super().map_error(response)
        segments = [s for s in response.request.url.path.split("/") if s]
        cls: type[ProviderError] | None = None
        if type(error) is NotFoundError:
            cls = next((c for name, c in _NOT_FOUND if name in segments), None)
        elif type(error) is ConflictError and "os-keypairs" in segments:
            cls = KeyPairAlreadyExistsError
        if cls is None:
            return error
        return cls(
            error.message,
            provider=error.provider,
            status=error.status,
            code=error.code,
            request_id=error.request_id,
        )
