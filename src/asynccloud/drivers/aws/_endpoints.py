"""Where S3 requests go: the endpoint, path-style or virtual-hosted addressing, and key/bucket checks.

Two ways to address a bucket::

    path-style       https://s3.eu-west-1.amazonaws.com/my-bucket/photos/cat.jpg
    virtual-hosted   https://my-bucket.s3.eu-west-1.amazonaws.com/photos/cat.jpg

``addressing="path"`` and ``"virtual"`` force one. ``"auto"`` (the default) chooses per bucket: path-style
when the endpoint's host is an IP address or the endpoint was given explicitly (emulators, MinIO, private
clouds rarely have wildcard DNS), or when the bucket name cannot be a DNS label (upper case, ``_``, or dots
over HTTPS, which a wildcard certificate does not cover); virtual-hosted otherwise.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal, get_args
from urllib.parse import quote

from asynccloud.drivers.aws._common import is_ip_host
from asynccloud.errors import ConfigurationError, InvalidNameError

if TYPE_CHECKING:
    import httpx

__all__ = ["Addressing", "S3Endpoint", "check_bucket_name", "check_key"]

Addressing = Literal["auto", "path", "virtual"]

_DNS_BUCKET = re.compile(r"\A[a-z0-9](?:[a-z0-9.-]{1,61})[a-z0-9]\Z")
_MAX_KEY_BYTES = 1024
_MAX_BUCKET = 255


def check_bucket_name(name: object) -> str:
    """Return ``name`` if it can be put in a URL as a bucket name; the provider checks the rest.

    S3-compatible stores differ in their naming rules, so only what would break the request itself is
    refused: empty names, ``/``, whitespace and control characters, ``.`` and ``..`` (HTTP collapses them,
    so the request would address the service root) and names longer than 255 characters (no store allows
    them; S3 itself allows 63).
    """
    if not isinstance(name, str) or not name:
        raise InvalidNameError(f"bucket name must be a non-empty string, got {name!r}")
    if "/" in name or any(ch.isspace() or ord(ch) < 0x20 for ch in name):
        raise InvalidNameError(f"bucket name {name!r} must not contain '/', whitespace or control characters")
    if name in (".", ".."):
        raise InvalidNameError(
            f"bucket name {name!r} would address the service root; '.' and '..' are refused"
        )
    if len(name) > _MAX_BUCKET:
        raise InvalidNameError(f"bucket name is too long ({len(name)} characters, at most {_MAX_BUCKET})")
    return name


def check_key(key: object) -> str:
    """Return ``key`` if it is a usable S3 object key.

    Keys are sent percent-encoded, so almost anything goes; refused are empty keys, keys longer than
    1024 UTF-8 bytes (the S3 limit), and ``.`` / ``..`` path segments, which HTTP stacks collapse
    (``a/../b`` would address ``b``).
    """
    if not isinstance(key, str) or not key:
        raise InvalidNameError(f"object name must be a non-empty string, got {key!r}")
    if len(key.encode("utf-8", "surrogatepass")) > _MAX_KEY_BYTES:
        raise InvalidNameError(f"object name is longer than {_MAX_KEY_BYTES} bytes: {key[:60]!r}...")
    if any(part in (".", "..") for part in key.split("/")):
        raise InvalidNameError(
            f"object name {key!r} has a '.' or '..' segment, which HTTP would collapse; rename it"
        )
    return key


def _quote_key(key: str) -> str:
    # Every byte but the unreserved set and "/" is percent-encoded; SigV4 in S3 mode decodes and re-encodes
    # the same way, so what is signed is what is sent.
    return quote(key, safe="/~")


class S3Endpoint:
    """Builds request URLs for one S3 endpoint and tells which resource a URL addresses.

    Args:
        base: The service endpoint (scheme, host, port, optional path prefix).
        addressing: ``"auto"``, ``"path"`` or ``"virtual"``.
        explicit: The endpoint was given by the user (``auto`` then means path-style).

    Raises:
        ConfigurationError: Unknown addressing, or virtual-hosted addressing on an IP address.
    """

    def __init__(self, base: httpx.URL, addressing: Addressing, *, explicit: bool) -> None:
        if addressing not in get_args(Addressing):
            raise ConfigurationError(
                f"addressing must be one of {', '.join(get_args(Addressing))}, got {addressing!r}"
            )
        host = base.host
        if addressing == "virtual" and is_ip_host(host):
            raise ConfigurationError(
                f"virtual-hosted addressing needs a DNS name, but the endpoint host is {host!r}"
            )
        self.addressing: Addressing = addressing
        self.scheme = base.scheme
        self.host = host
        self._netloc_suffix = f":{base.port}" if base.port is not None else ""
        self._prefix = base.path.rstrip("/")
        self._always_path = addressing == "path" or (
            addressing == "auto" and (explicit or is_ip_host(host) or host == "localhost")
        )

    @property
    def service_url(self) -> str:
        """The URL of the service itself (ListBuckets)."""
        return f"{self.scheme}://{self.host}{self._netloc_suffix}{self._prefix}/"

    def uses_virtual_host(self, bucket: str) -> bool:
        """Whether requests for ``bucket`` put the bucket in the host name."""
        if self.addressing == "virtual":
            return True
        if self._always_path:
            return False
        if not _DNS_BUCKET.match(bucket) or ".." in bucket or is_ip_host(bucket):
            return False
        return not (self.scheme == "https" and "." in bucket)

    def bucket_url(self, bucket: str) -> str:
        """The URL of a bucket (ends in ``/`` when virtual-hosted)."""
        if self.uses_virtual_host(bucket):
            return f"{self.scheme}://{bucket}.{self.host}{self._netloc_suffix}{self._prefix}/"
        return f"{self.service_url}{quote(bucket, safe='')}"

    def object_url(self, bucket: str, key: str) -> str:
        """The URL of an object."""
        if self.uses_virtual_host(bucket):
            base = f"{self.scheme}://{bucket}.{self.host}{self._netloc_suffix}{self._prefix}/"
        else:
            base = f"{self.service_url}{quote(bucket, safe='')}/"
        return base + _quote_key(key)

    def resource_of(self, url: httpx.URL) -> Literal["service", "bucket", "object"]:
        """Which kind of resource a request URL built here addresses (for mapping bare 404s)."""
        path = url.path
        if self._prefix and path.startswith(self._prefix):
            path = path[len(self._prefix) :]
        rest = path.lstrip("/")
        if url.host != self.host:  # virtual-hosted: the bucket is in the host name
            return "bucket" if not rest else "object"
        if not rest:
            return "service"
        _, sep, key = rest.partition("/")
        return "object" if sep and key else "bucket"
