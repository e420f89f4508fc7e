"""AWS plumbing shared by the AWS drivers (S3 today; EC2, Route 53 and ELB later).

Resolving credentials and region for a driver, validating an ``endpoint=`` override, and the default
endpoint of an AWS service in a region. Nothing here sends a request.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import httpx

from asynccloud.auth.aws_credentials import AwsCredentials, resolve_aws_credentials, resolve_aws_region
from asynccloud.errors import ConfigurationError

__all__ = [
    "DEFAULT_REGION",
    "AwsSettings",
    "aws_dns_suffix",
    "aws_service_endpoint",
    "is_ip_host",
    "parse_endpoint",
    "resolve_aws_settings",
]

#: The region used when neither an argument, the environment nor the config file names one.
DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True, repr=False)
class AwsSettings:
    """Credentials and region, resolved once when a driver is built."""

    credentials: AwsCredentials
    region: str

    def __repr__(self) -> str:
        return f"AwsSettings(credentials={self.credentials!r}, region={self.region!r})"


def resolve_aws_settings(
    key: str | None,
    secret: str | None,
    token: str | None,
    *,
    region: str | None,
    profile: str | None,
    default_region: str | None = DEFAULT_REGION,
    region_from_environment: bool = True,
) -> AwsSettings:
    """Resolve the credentials (explicit, environment, shared files) and the region of a driver.

    Args:
        key: Explicit access key id.
        secret: Explicit secret access key.
        token: Explicit session token.
        region: Explicit region (any non-empty string: no allow-list).
        profile: Profile of the shared credentials/config files.
        default_region: Region when no source names one; ``None`` makes a region mandatory.
        region_from_environment: Also look at ``AWS_REGION``/``AWS_DEFAULT_REGION`` and the config file
            (true for AWS itself; S3-compatible stores have their own region names, so not for them).

    Returns:
        The settings.

    Raises:
        ConfigurationError: No credentials were found (the message says where the resolver looked), or
            no region is known and there is no default.
    """
    if region is not None and (not isinstance(region, str) or not region.strip() or "/" in region):
        raise ConfigurationError(f"region must be a non-empty string without '/', got {region!r}")
    credentials = resolve_aws_credentials(key, secret, token, profile=profile)
    resolved = region.strip() if region else None
    if resolved is None and region_from_environment:
        resolved = resolve_aws_region(None, profile=profile)
    resolved = resolved or default_region
    if not resolved:
        raise ConfigurationError("this provider needs a region: pass region=...")
    return AwsSettings(credentials, resolved)


def is_ip_host(host: str) -> bool:
    """Whether a URL host is an IPv4 or IPv6 literal (``127.0.0.1``, ``[::1]``, ``::1``)."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def parse_endpoint(endpoint: str) -> httpx.URL:
    """Validate an ``endpoint=`` override: an absolute ``http(s)`` URL without query or fragment.

    Args:
        endpoint: E.g. ``"http://127.0.0.1:9000"`` or ``"https://minio.example.com/s3"``.

    Returns:
        The parsed URL, without a trailing slash on its path.

    Raises:
        ConfigurationError: The endpoint is not such a URL.
    """
    if not isinstance(endpoint, str) or not endpoint.strip():
        raise ConfigurationError(f"endpoint must be a URL string, got {endpoint!r}")
    try:
        url = httpx.URL(endpoint.strip())
    except httpx.InvalidURL as exc:
        raise ConfigurationError(f"invalid endpoint {endpoint!r}: {exc}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigurationError(f"endpoint must be an http:// or https:// URL with a host, got {endpoint!r}")
    if url.query or url.fragment or url.userinfo:
        raise ConfigurationError("endpoint must not carry a query, a fragment or credentials")
    return url.copy_with(path=url.path.rstrip("/") or "/")


def aws_dns_suffix(region: str) -> str:
    """The DNS suffix of the AWS partition a region belongs to (China regions differ)."""
    return "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"


def aws_service_endpoint(service: str, region: str) -> str:
    """The regional HTTPS endpoint of an AWS service, e.g. ``https://s3.eu-west-1.amazonaws.com``."""
    return f"https://{service}.{region}.{aws_dns_suffix(region)}"
